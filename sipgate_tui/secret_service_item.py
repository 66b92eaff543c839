"""The token read straight from the Secret Service (Linux: GNOME Keyring, KWallet), as
keyring's own SecretService backend reads it, without importing keyring.

This is the fast path of a dial whose token keyring's SecretService backend served last time.
Loading that backend through keyring costs about 20 ms a dial before the first D-Bus message
(keyring's package imports jaraco, more_itertools, importlib_metadata and configparser, and the
backend's viability check opens a second D-Bus connection); this reads the same item with
SecretStorage, the library that backend itself uses, in the same steps (benchmarks/run.py, the
keyring rows). It applies only where keyring would use that backend in its plain form: a
``KEYRING_PROPERTY_*`` variable (another collection, another attribute scheme) leaves the dial
to keyring itself. tests/test_secret_service_item.py holds these facts against keyring's own.
"""

from __future__ import annotations

from collections.abc import Mapping

# keyring's name for the backend (``module.Class``, as PYTHON_KEYRING_BACKEND takes it) and
# the name keyring gives it for people (its ``name`` property), as status and --debug show it.
BACKEND = "keyring.backends.SecretService.Keyring"
LABEL = "SecretService Keyring"

# keyring's backends take properties (preferred_collection, scheme) from every variable whose
# name holds this, anywhere in it (KeyringBackend.set_properties_from_env partitions on it).
_PROPERTY_MARKER = "KEYRING_PROPERTY_"


class ServiceUnavailable(Exception):
    """No Secret Service answers here (no session bus, no daemon, an odd reply): the caller
    lets keyring's full discovery find whatever keyring there is instead."""


class ItemLocked(Exception):
    """The collection or the item stays locked (the unlock prompt was dismissed)."""


def applies(environ: Mapping[str, str]) -> bool:
    """Whether keyring would read the item exactly as :func:`read_password` does: no
    ``KEYRING_PROPERTY_*`` variable changes its collection or its attributes."""
    return not any(_PROPERTY_MARKER in name for name in environ)


def read_password(service: str, username: str) -> str | None:
    """The item's secret, as keyring's ``SecretService.Keyring().get_password`` returns it:
    the default collection (unlocked first, which may show the desktop's unlock prompt), the
    first item with these ``service`` and ``username`` attributes; None when there is none.

    Raises :class:`ItemLocked` when it stays locked, :class:`ServiceUnavailable` when there is
    no Secret Service to ask or it answers in a way keyring's backend would not take."""
    from contextlib import closing

    try:
        import secretstorage

        connection = secretstorage.dbus_init()
    except Exception as error:  # noqa: BLE001 - not installed, no session bus: not viable here
        raise ServiceUnavailable(type(error).__name__) from None
    with closing(connection):
        try:
            collection = secretstorage.get_default_collection(connection)
            if collection.is_locked():
                collection.unlock()
                if collection.is_locked():
                    raise ItemLocked("the collection")
            for item in collection.search_items({"username": username, "service": service}):
                item.unlock()
                if item.is_locked():
                    raise ItemLocked("the item")
                secret: bytes = item.get_secret()
                return secret.decode("utf-8")
        except ItemLocked:
            raise
        except Exception as error:  # noqa: BLE001 - the backend would fail alike (see above)
            # jeepney's D-Bus errors, a lost connection, a secret that does not decode: keyring's
            # backend fails on them too, and the caller's discovery says so in keyring's words.
            raise ServiceUnavailable(type(error).__name__) from None
    return None
