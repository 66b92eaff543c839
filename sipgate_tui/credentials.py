"""Where the token lives: the environment, else one item in the OS keyring.

The token exists at rest in exactly one place (the keyring item) and is masked everywhere
else. ``keyring`` is imported only when the environment has no credentials, and every keyring
call runs under a timeout: a locked Secret Service can block forever.

The fast path (issue 16): the backend that served the token is remembered in the state file
(``module.Class``, nothing secret) and loaded directly next time, without keyring's discovery,
while it is usable; see :meth:`KeyringStore.read_remembered` and the section near the end.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sipgate_tui import known_secrets, secret_service_item
from sipgate_tui.errors import AppError, InputError
from sipgate_tui.options import DEFAULT_PROFILE as DEFAULT_PROFILE

log = logging.getLogger("sipgate_tui.credentials")

KEYRING_SERVICE = "sipgate-tui"
DEFAULT_KEYRING_TIMEOUT = 10.0
ENV_TOKEN_ID = "SIPGATE_TOKEN_ID"
ENV_TOKEN = "SIPGATE_TOKEN"

T = TypeVar("T")


# The problems callers handle differently, told apart by type (never by comparing codes).
class IncompleteCredentials(AppError):
    """Only one of SIPGATE_TOKEN_ID and SIPGATE_TOKEN is set (``incomplete-credentials``)."""


class CredentialsMissing(AppError):
    """No token in the environment or the keyring (``credentials-missing``)."""


class CredentialsCorrupted(AppError):
    """The keyring item cannot be read as credentials (``credentials-corrupted``)."""


class KeyringLocked(AppError):
    """The keyring is locked (``keyring-locked``)."""


class KeyringTimedOut(AppError):
    """The keyring did not answer in time (``keyring-timeout``)."""


class KeyringFailed(AppError):
    """The keyring backend failed, or could not even be loaded (``keyring-error``)."""


@dataclass(frozen=True)
class Credentials:
    """A personal access token: token id (not secret) and token (secret, never shown)."""

    token_id: str
    token: str = field(repr=False)

    def masked_token(self) -> str:
        """The token as it may be shown: at most its last four characters."""
        return mask_secret(self.token)

    def basic_token(self) -> str:
        """The base64 of ``token_id:token``, as sent in the Authorization header."""
        return base64.b64encode(f"{self.token_id}:{self.token}".encode()).decode("ascii")

    def __post_init__(self) -> None:
        # Every token the process has seen is known to scrub(): server text after cleaning,
        # tracebacks of bugs, debug logs, and everything written to stdout and stderr.
        known_secrets.remember(self.token, self.basic_token())

    def __repr__(self) -> str:
        return f"Credentials(token_id={self.token_id!r}, token={self.masked_token()!r})"


scrub = known_secrets.scrub  # callers that hold credentials find it here too


@dataclass(frozen=True)
class FoundCredentials:
    """Credentials plus where they came from (``env`` or ``keyring``) and the keyring backend."""

    credentials: Credentials
    source: str
    backend: str | None = None


def mask_secret(secret: str) -> str:
    """``0a1b...9f3c`` -> ``••••9f3c``; short secrets are masked completely."""
    return "••••" + secret[-4:] if len(secret) >= 16 else "••••"


def from_environment(env: Mapping[str, str]) -> Credentials | None:
    """Credentials from ``SIPGATE_TOKEN_ID`` and ``SIPGATE_TOKEN``; None when neither is set.

    Exactly one of them set is a mistake worth stopping for: the user meant to use the
    environment, and silently falling back to the keyring would use another token.
    """
    token_id = (env.get(ENV_TOKEN_ID) or "").strip()
    token = (env.get(ENV_TOKEN) or "").strip()
    for name, value in ((ENV_TOKEN_ID, token_id), (ENV_TOKEN, token)):
        if not _is_text(value):
            raise InputError(
                "invalid-token",
                f"{name} holds a byte that is not text (not UTF-8), so it cannot be a token.",
                hint=f"Set {name} again from the sipgate web app, or unset it.",
            )
    if token_id and token:
        return Credentials(token_id, token)
    if not token_id and not token:
        return None
    missing, present = (ENV_TOKEN, ENV_TOKEN_ID) if token_id else (ENV_TOKEN_ID, ENV_TOKEN)
    raise IncompleteCredentials(
        "incomplete-credentials",
        f"{present} is set, but {missing} is not.",
        hint=f"Set both {ENV_TOKEN_ID} and {ENV_TOKEN}, or unset {present} to use the token "
        "stored by `sipgate-tui login`.",
    )


def _is_text(value: str) -> bool:
    # The environment hands undecodable bytes over as lone surrogates; a header cannot hold
    # them, and sending would crash.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def decode_item(value: str, profile: str = DEFAULT_PROFILE) -> Credentials:
    """Parse the keyring item's value, ``{"token_id": "...", "token": "..."}``."""
    try:
        data: Any = json.loads(value)
    except ValueError:
        data = None
    token_id = data.get("token_id") if isinstance(data, dict) else None
    token = data.get("token") if isinstance(data, dict) else None
    if not (isinstance(token_id, str) and token_id.strip() and isinstance(token, str) and token):
        raise CredentialsCorrupted(
            "credentials-corrupted",
            f"The credentials stored in the keyring for profile {profile} cannot be read.",
            hint=f"Store them again with `{profile_command(profile, 'login')}`.",
        )
    return Credentials(token_id.strip(), token.strip())


def encode_item(credentials: Credentials) -> str:
    """The keyring item's value for ``credentials``."""
    return json.dumps({"token_id": credentials.token_id, "token": credentials.token})


_PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")


def check_profile(name: str) -> str:
    """A profile name: letters, digits and ``_.@-``, at most 64 characters."""
    if not _PROFILE_NAME.fullmatch(name or ""):
        raise InputError(
            "invalid-profile",
            f"'{(name or '')[:40]}' cannot be a profile name.",
            hint="Use letters, digits, '.', '_', '@' or '-' (up to 64), e.g. --profile work.",
        )
    return name


def profile_command(profile: str, command: str) -> str:
    """``sipgate-tui login``, or ``sipgate-tui --profile work login`` for other profiles."""
    if profile == DEFAULT_PROFILE:
        return f"sipgate-tui {command}"
    return f"sipgate-tui --profile {profile} {command}"


class CredentialStore(Protocol):
    """Where ``login`` keeps a token and ``resolve``, ``status`` and ``logout`` find it.

    :class:`KeyringStore` is the real one; the demo has one that lives in memory.
    """

    def backend_name(self) -> str | None:
        """The store's name for the user (a keyring backend's), or None if there is none."""
        ...

    def require_backend(self, *, for_removal: bool = False) -> str:
        """The store's name; an AppError saying what to do when there is no store."""
        ...

    def read(self, profile: str) -> Credentials | None:
        """The stored credentials for ``profile``; None when nothing is stored."""
        ...

    def write(self, profile: str, credentials: Credentials) -> None:
        """Store (or replace) the credentials of ``profile``."""
        ...

    def delete(self, profile: str) -> bool:
        """Remove the credentials of ``profile``; False when there were none."""
        ...

    def item_location(self, profile: str, backend: str) -> str:
        """Where the credentials of ``profile`` are kept, in words for people."""
        ...


class KeyringStore:
    """The one keyring item per profile (service ``sipgate-tui``, user = profile name).

    Only a real keyring is used: backends that keep secrets in a file (keyrings.alt) or are
    none (keyring's null and fail backends) count as no keyring at all (:func:`choose_backend`).
    """

    def __init__(
        self,
        service: str = KEYRING_SERVICE,
        timeout: float = DEFAULT_KEYRING_TIMEOUT,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.service = service
        self.timeout = timeout
        self.refused: str | None = None  # the refused backend's name, once one was found
        # Where the state file (and so the remembered backend) is; keyring itself reads
        # PYTHON_KEYRING_BACKEND from the process environment, whatever this says.
        self.env: Mapping[str, str] = os.environ if env is None else env
        # Decided before this store's first discovery (which itself sets keyring's choice).
        self._own_choice: bool | None = None

    def read_remembered(self, profile: str) -> FoundCredentials | None:
        """The fast path: the profile's credentials from the backend that served them last
        time, loaded directly (no discovery); None when that does not apply or does not find
        them, and the caller runs full discovery (:func:`remembered_backend` says when it
        applies, :func:`load_remembered` when the backend is still usable).

        A locked keyring, one that does not answer and an unreadable item are the keyring's
        own answer and raise, as discovery would (it would find the same keyring, and a second
        wait would double the timeout); a backend that fails otherwise falls back."""
        name = remembered_backend(self.env) if self._keyring_chooses() else None
        if name is None:
            return None
        read: Callable[[], str | None]
        if name == secret_service_item.BACKEND and secret_service_item.applies(os.environ):
            # The same item, read as that backend reads it, without importing keyring.
            log.debug("keyring: reading the Secret Service item with SecretStorage directly")
            label = secret_service_item.LABEL
            read = partial(secret_service_item.read_password, self.service, profile)
        else:
            try:
                loaded = self._timed("find the keyring", lambda: load_remembered(name))
            except KeyringFailed:  # keyring itself did not load: discovery says it in its words
                return None
            if loaded is None:
                return None
            backend, label = loaded
            read = partial(backend.get_password, self.service, profile)
        try:
            value = self._timed("read from the keyring", read)
        except (KeyringLocked, KeyringTimedOut):
            raise  # the keyring's own answer (see above), not a reason to discover
        except KeyringFailed:
            return None  # the remembered backend broke: full discovery gets its chance
        if value is None:
            return None  # not there (any more): the token may be in another keyring now
        return FoundCredentials(decode_item(value, profile), "keyring", label)

    def read_and_remember(self, profile: str) -> Credentials | None:
        """:meth:`read` by full discovery, remembering which backend served the token (its
        module and class name, never anything secret) for :meth:`read_remembered`."""
        backend = self._choice().backend
        if backend is None:
            return None
        value, served = self._timed(
            "read from the keyring", lambda: _read_serving(backend, self.service, profile)
        )
        if value is None:
            return None
        credentials = decode_item(value, profile)
        if self._keyring_chooses():
            remember_backend(self.env, served)
        return credentials

    def remember(self) -> None:
        """Remember the backend discovery chooses now (after login stored the token there)."""
        backend = self._choice().backend
        if backend is not None and self._keyring_chooses():
            remember_backend(self.env, _first_member(backend))

    def _keyring_chooses(self) -> bool:
        """Whether keyring's own discovery chooses the backend (nothing else named one), as
        it was before this store first asked; only then is a backend remembered or loaded."""
        if self._own_choice is None:
            self._own_choice = not keyring_chosen_elsewhere()
        return self._own_choice

    def item_location(self, profile: str, backend: str) -> str:
        """``your keyring (SecretService Keyring), item sipgate-tui / default``."""
        return f"your keyring ({backend}), item {self.service} / {profile}"

    def backend_name(self) -> str | None:
        """The usable backend's name (e.g. ``SecretService Keyring``), or None if there is none."""
        choice = self._choice()
        return choice.name if choice.backend is not None else None

    def read(self, profile: str) -> Credentials | None:
        """The stored credentials for ``profile``; None when nothing is stored or no keyring."""
        backend = self._choice().backend
        if backend is None:
            return None
        value: str | None = self._timed(
            "read from the keyring", lambda: backend.get_password(self.service, profile)
        )
        return decode_item(value, profile) if value is not None else None

    def require_backend(self, *, for_removal: bool = False) -> str:
        """The usable backend's name; exit code 7 with the ways out when there is none."""
        return self._required(for_removal).name

    def write(self, profile: str, credentials: Credentials) -> None:
        """Store (or replace) the profile's item. A timeout leaves the state unknown."""
        backend = self._required(False).backend
        item = encode_item(credentials)

        def put() -> None:
            backend.set_password(self.service, profile, item)

        try:
            self._timed("store the token in the keyring", put)
        except KeyringTimedOut:
            raise AppError(
                "keyring-write-unknown",
                f"The keyring did not confirm within {self.timeout:g} s whether the token was "
                "stored; it may or may not be there now.",
                hint=f"Check with `{profile_command(profile, 'status')}` (unlock the keyring "
                "if it asks), and log in again if the token is missing.",
            ) from None

    def delete(self, profile: str) -> bool:
        """Remove the profile's item; False when there was none."""
        backend = self._required(True).backend

        def remove() -> bool:
            if backend.get_password(self.service, profile) is None:
                return False
            # The item exists, so a failure to delete it is a real failure, not "not found".
            backend.delete_password(self.service, profile)
            return True

        return self._timed("remove the token from the keyring", remove)

    def _choice(self) -> BackendChoice:
        """Which backend keyring would use, and whether it is one sipgate-tui may use."""
        self._keyring_chooses()  # decided before discovery sets keyring's choice
        choice = self._timed("find the keyring", choose_backend)
        self.refused = choice.refused
        return choice

    def _required(self, for_removal: bool) -> _UsableChoice:
        """The usable backend; exit code 7 with the ways out when there is none."""
        choice = self._choice()
        if choice.backend is None:
            raise no_keyring_error(for_removal, refused=choice.refused)
        return _UsableChoice(choice.backend, choice.name)

    def _timed(self, action: str, function: Callable[[], T]) -> T:
        return call_keyring(action, function, self.timeout)


def call_keyring(action: str, function: Callable[[], T], timeout: float) -> T:
    """Run a keyring call in a daemon thread and give up after ``timeout`` seconds.

    A locked or wedged Secret Service can block a D-Bus call forever; the daemon thread is
    abandoned rather than joined so the process can still exit.
    """
    values: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            values.append(function())
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(error)

    worker = threading.Thread(target=target, name="keyring", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise KeyringTimedOut(
            "keyring-timeout",
            f"The keyring did not answer within {timeout:g} s while trying to {action}.",
            hint="It may be locked and waiting for a password. Unlock it (log in to your "
            "desktop session) and try again, raise SIPGATE_TUI_KEYRING_TIMEOUT, or set "
            f"{ENV_TOKEN_ID} and {ENV_TOKEN} instead.",
        )
    if errors:
        raise _keyring_problem(action, errors[0]) from None
    return values[0]


def resolve(
    env: Mapping[str, str],
    make_store: Callable[[], CredentialStore] | None,
    profile: str = DEFAULT_PROFILE,
    *,
    discover: bool = False,
) -> FoundCredentials:
    """The credentials to use: the environment first, then the keyring; else exit code 3.

    The store is built only when needed, so with credentials in the environment the keyring
    is never imported or asked. A :class:`KeyringStore` first tries the backend remembered
    from last time (:meth:`KeyringStore.read_remembered`), unless ``discover`` (``status``
    always runs keyring's full discovery, so what it shows is what keyring would choose).
    """
    credentials = from_environment(env)
    if credentials is not None:
        log.debug("token: from the environment (%s, %s)", ENV_TOKEN_ID, ENV_TOKEN)
        return FoundCredentials(credentials, "env")
    store = make_store() if make_store is not None else None
    if isinstance(store, KeyringStore) and not discover:
        fast = store.read_remembered(profile)
        if fast is not None:
            log.debug("token: keyring, %s, the backend remembered from last time", fast.backend)
            return fast
    backend = store.backend_name() if store is not None else None
    if store is not None and backend is not None:
        if isinstance(store, KeyringStore):
            stored = store.read_and_remember(profile)
        else:
            stored = store.read(profile)
        if stored is not None:
            log.debug("token: keyring, %s, chosen by keyring's discovery", backend)
            return FoundCredentials(stored, "keyring", backend)
    refused = store.refused if isinstance(store, KeyringStore) else None
    raise missing_credentials(profile, keyring_available=backend is not None, refused=refused)


def no_keyring_error(for_removal: bool = False, *, refused: str | None = None) -> AppError:
    """No usable keyring backend: what to install or unlock, or the env-var way out.

    ``refused``: the plain-text backend keyring offered instead (keyrings.alt's), named so
    the user knows why the keyring they may think they have does not count.
    """
    message = (
        "No usable keyring was found, so there is no stored token sipgate-tui could remove "
        "(it never keeps one anywhere else)."
        if for_removal
        else "No usable keyring was found, so the token cannot be stored safely. sipgate-tui "
        "never falls back to a plain-text file."
    )
    refusal = ""
    if refused is not None:
        message += (
            f" The backend keyring offers, {refused}, keeps secrets in a file, so it does "
            "not count as one."
        )
        refusal = (
            "• For a real keyring, take keyrings.alt out of the way: uninstall it (`pip "
            "uninstall keyrings.alt`), and unset PYTHON_KEYRING_BACKEND or the "
            "default-keyring in keyring's keyringrc.cfg where they name it. A token an older "
            "sipgate-tui kept in that file is removed with "
            "`python -m keyring del sipgate-tui default`.\n"
        )
    return AppError(
        "keyring-unavailable",
        message,
        hint="pick the way that fits this machine:\n" + refusal + "• Desktop Linux "
        "(GNOME, Ubuntu, Debian): install the Secret Service with "
        "`sudo apt install gnome-keyring`, then sign out of your desktop and back in.\n"
        "• KDE: enable KWallet (System Settings, KDE Wallet).\n"
        f"• Servers, containers and CI: skip the keyring; set {ENV_TOKEN_ID} and {ENV_TOKEN} "
        "instead.\n"
        "• macOS and Windows have a keyring built in; if you see this there, run "
        "`python -m keyring diagnose` with sipgate-tui's Python to see what keyring found.",
    )


def missing_credentials(
    profile: str, *, keyring_available: bool, refused: str | None = None
) -> CredentialsMissing:
    """The error for 'no credentials anywhere', with both ways to set them up (``refused``:
    the plain-text backend keyring offered, which does not count as a keyring)."""
    login = profile_command(profile, "login")
    create = (
        "• Create the token in the sipgate web app (your user settings, Personal Access "
        "Tokens) with the scope sessions:calls:write."
    )
    if keyring_available:
        return CredentialsMissing(
            "credentials-missing",
            f"No sipgate credentials found: {ENV_TOKEN_ID} and {ENV_TOKEN} are not set and "
            "nothing is stored in the keyring.",
            hint=(
                "Set up a personal access token:\n"
                f"• Run `{login}`: it guides you and keeps the token in your OS keyring.\n"
                f"• Or set {ENV_TOKEN_ID} and {ENV_TOKEN} (handy on servers and in CI).\n" + create
            ),
        )
    return CredentialsMissing(
        "credentials-missing",
        f"No sipgate credentials found: {ENV_TOKEN_ID} and {ENV_TOKEN} are not set, and this "
        "machine has no usable keyring to store a token in."
        + (
            f" The backend keyring offers, {refused}, keeps secrets in a file: sipgate-tui "
            "neither reads nor writes it."
            if refused
            else ""
        ),
        hint=(
            "Set up a personal access token:\n"
            f"• Set {ENV_TOKEN_ID} and {ENV_TOKEN}: the way on servers, containers and CI.\n"
            f"• Or install a keyring first (GNOME Keyring or KWallet), then run `{login}`; it "
            "explains the options when it finds none.\n" + create
        ),
    )


class _Backend(Protocol):
    """What the store asks of a keyring backend (keyring's ``KeyringBackend``)."""

    def get_password(self, service: str, username: str) -> str | None: ...

    def set_password(self, service: str, username: str, password: str) -> None: ...

    def delete_password(self, service: str, username: str) -> None: ...


class BackendChoice:
    """The backend to use (None: no usable one), its name for people, and the name of a
    plain-text backend that was refused (None when there was none, or it was keyring's null
    or fail backend, which are "no keyring" in any words)."""

    __slots__ = ("backend", "name", "refused")

    def __init__(self, backend: _Backend | None, name: str, refused: str | None = None) -> None:
        self.backend = backend
        self.name = name
        self.refused = refused


class _UsableChoice:
    __slots__ = ("backend", "name")

    def __init__(self, backend: _Backend, name: str) -> None:
        self.backend = backend
        self.name = name


# Backends that are no keyring: keyrings.alt keeps secrets in files (plain, base64-encoded or
# encrypted with a password kept beside them), keyring's null and fail backends keep nothing.
# Decided by the module of the class or of one it derives from, a denylist, so that any real
# keyring (and the test suite's own backends) stays usable.
PLAIN_TEXT_MODULES = ("keyrings.alt",)
NO_KEYRING_MODULES = ("keyring.backends.null", "keyring.backends.fail")


def _from_modules(backend: object, modules: tuple[str, ...]) -> bool:
    return any(_refused_name(cls.__module__, modules) for cls in type(backend).__mro__)


def _refused_name(
    name: str, modules: tuple[str, ...] = PLAIN_TEXT_MODULES + NO_KEYRING_MODULES
) -> bool:
    """Whether the module (or ``module.Class``) ``name`` is in, or under, one of ``modules``."""
    return any(name == module or name.startswith(module + ".") for module in modules)


def is_refused_backend(backend: object) -> bool:
    """Whether sipgate-tui refuses ``backend``: keyrings.alt's, or keyring's null or fail."""
    return _from_modules(backend, PLAIN_TEXT_MODULES + NO_KEYRING_MODULES)


def choose_backend() -> BackendChoice:
    """The backend keyring chose (by priority, ``PYTHON_KEYRING_BACKEND`` or keyringrc.cfg),
    unless it is refused; of a chain, the members that are not refused."""
    try:
        backend, members = _keyring_backend()
    except Exception as error:  # noqa: BLE001 - every way of failing to load means the same
        # keyring read the variable from the process environment: so does this.
        named = os.environ.get("PYTHON_KEYRING_BACKEND", "").strip()
        if _refused_name(named):
            # A refused backend that does not even load (keyrings.alt's EncryptedKeyring
            # without its crypto library): refused all the same, in the same words.
            in_a_file = _refused_name(named, PLAIN_TEXT_MODULES)
            shown = f"{named} (PYTHON_KEYRING_BACKEND)" if in_a_file else None
            return BackendChoice(None, "", shown)
        # The backend could not even be loaded (a bad PYTHON_KEYRING_BACKEND or keyringrc.cfg,
        # a missing module): unlocking will not help.
        raise KeyringFailed(
            "keyring-error",
            f"The keyring backend could not be loaded ({type(error).__name__}).",
            hint="Check PYTHON_KEYRING_BACKEND and keyring's keyringrc.cfg; "
            "`python -m keyring diagnose` shows what keyring uses. Or set "
            f"{ENV_TOKEN_ID} and {ENV_TOKEN} instead.",
        ) from None
    chain = members if members is not None else [backend]
    usable = [member for member in chain if not is_refused_backend(member)]
    plain = [member for member in chain if _from_modules(member, PLAIN_TEXT_MODULES)]
    refused = _plain_text_name(plain[0]) if plain else None
    if not usable:
        return BackendChoice(None, "", refused)
    if members is not None and len(usable) < len(members):
        # A chain would also read from (and could write to) the file backends in it: use the
        # best real member alone, the one the chain writes to first anyway.
        return BackendChoice(usable[0], _backend_label(usable[0]), refused)
    return BackendChoice(backend, _backend_label(backend))


def _keyring_backend() -> tuple[_Backend, list[_Backend] | None]:
    """keyring's backend, and its members when it is a chain (else None)."""
    import keyring
    from keyring.backends import chainer

    backend = keyring.get_keyring()
    if isinstance(backend, chainer.ChainerBackend):
        return backend, list(backend.backends)
    return backend, None


def _backend_label(backend: object) -> str:
    return str(getattr(backend, "name", None) or type(backend).__name__)


def _plain_text_name(backend: object) -> str:
    """``PlaintextKeyring (keyrings.alt.file)``: which class, and from where."""
    return f"{type(backend).__name__} ({type(backend).__module__})"


# -- the fast path: the backend that served the token last time ---------------------------------
#
# keyring's discovery imports and asks every backend it knows (on Linux the macOS one alone
# costs about 60 ms) and scans every installed package's entry points. The backend that served
# the token is remembered in the state file as ``module.Class`` (the form PYTHON_KEYRING_BACKEND
# takes; nothing secret) and loaded directly next time, if it is still usable.

_BACKEND_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


def keyring_chosen_elsewhere() -> bool:
    """Whether keyring's choice is not its own discovery, so nothing is remembered or loaded
    directly: PYTHON_KEYRING_BACKEND names a backend, keyring's keyringrc.cfg exists (keyring
    resolves exactly what they name, with no discovery, in its normal path), or this process
    already holds a backend (``keyring.set_keyring``, or discovery ran before)."""
    if "PYTHON_KEYRING_BACKEND" in os.environ:
        return True  # even empty: keyring then tries to load "" and fails, and says so
    core = sys.modules.get("keyring.core")
    # keyring keeps the process's backend in this module global; set means "already chosen".
    if core is not None and getattr(core, "_keyring_backend", None) is not None:
        return True
    try:
        return keyring_config_file().exists()
    except Exception:  # noqa: BLE001 - no home to look in: let keyring's normal path tell
        return True


def keyring_config_file() -> Path:
    """keyring's ``keyringrc.cfg``, where keyring looks for it (its ``platform_.config_root``),
    found without importing keyring: that import alone costs a dial about 15 ms, and on the
    fast path nothing else imports it. tests/test_keyring_fast_path.py holds the two equal."""
    if sys.platform == "win32":
        root = Path(os.environ.get("LOCALAPPDATA", os.environ.get("PROGRAMDATA", ".")))
        return root / "Python Keyring" / "keyringrc.cfg"
    config_home = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config_home, "python_keyring", "keyringrc.cfg")


def remembered_backend(env: Mapping[str, str]) -> str | None:
    """The backend remembered in the state file (``module.Class``), if it is a name
    sipgate-tui may use; the caller has made sure keyring is left to choose by itself
    (:meth:`KeyringStore._keyring_chooses`). A state file that cannot be read only means no
    fast path."""
    from sipgate_tui.settings import SettingsStore

    try:
        name = SettingsStore(env, DEFAULT_PROFILE).keyring_backend()
    except AppError:
        return None
    if name is None or not _BACKEND_NAME.fullmatch(name) or _refused_name(name):
        return None
    return name


def load_remembered(name: str) -> tuple[_Backend, str] | None:
    """The backend class ``name`` names, instantiated, with its name for people; None when it
    is gone, refused now (keyrings.alt's, null, fail: by its module or any it derives from),
    not a keyring backend, or not viable here (its priority raises or is not above 0)."""
    import importlib

    from keyring.backend import KeyringBackend

    module_name, _, class_name = name.rpartition(".")
    try:
        backend_class = getattr(importlib.import_module(module_name), class_name)
    except Exception:  # noqa: BLE001 - uninstalled, renamed, broken: discovery decides then
        return None
    if not (isinstance(backend_class, type) and issubclass(backend_class, KeyringBackend)):
        return None
    if any(_refused_name(cls.__module__) for cls in backend_class.__mro__):
        return None
    if _is_chain(backend_class):
        return None  # a chain is discovery itself
    try:
        viable = float(backend_class.priority) > 0  # its own check: it raises when unusable
        backend = backend_class() if viable else None
    except Exception:  # noqa: BLE001 - not viable here any more (no D-Bus session, ...)
        return None
    if backend is None:
        return None
    return backend, _backend_label(backend)


def remember_backend(env: Mapping[str, str], backend: object) -> None:
    """Remember ``backend`` (``module.Class``) for the next fast path, unless it is refused;
    written only when it changed, and never failing the command (it only saves time)."""
    backend_class = type(backend)
    name = f"{backend_class.__module__}.{backend_class.__qualname__}"
    if _is_chain(backend_class) or not _BACKEND_NAME.fullmatch(name) or is_refused_backend(backend):
        return
    import contextlib

    from sipgate_tui.settings import SettingsStore

    with contextlib.suppress(AppError, OSError):  # a read-only or damaged state file
        SettingsStore(env, DEFAULT_PROFILE).remember_keyring_backend(name)


def _is_chain(backend_class: type) -> bool:
    return backend_class.__module__ == "keyring.backends.chainer"


def _read_serving(backend: _Backend, service: str, profile: str) -> tuple[str | None, object]:
    """The item's value and the backend that holds it: of a chain, the first member that has
    it (as the chain itself reads), so the member is what is remembered."""
    if not _is_chain(type(backend)):
        return backend.get_password(service, profile), backend
    members: list[_Backend] = list(getattr(backend, "backends", []))
    for member in members:
        if is_refused_backend(member):
            continue
        value = member.get_password(service, profile)
        if value is not None:
            return value, member
    return None, backend


def _first_member(backend: _Backend) -> object:
    """The backend a write went to: a chain writes to its first member."""
    if not _is_chain(type(backend)):
        return backend
    members = [m for m in getattr(backend, "backends", []) if not is_refused_backend(m)]
    return members[0] if members else backend


def _keyring_problem(action: str, error: BaseException) -> AppError:
    if isinstance(error, AppError):  # already put into words where it happened
        return error
    hint = (
        "Unlock your keyring (log in to your desktop session) and try again, or set "
        f"{ENV_TOKEN_ID} and {ENV_TOKEN} instead."
    )
    if _is_locked(error):
        return KeyringLocked(
            "keyring-locked",
            f"The keyring is locked, so sipgate-tui could not {action}.",
            hint=hint,
        )
    # The backend's own message can be long or odd; its type name is enough to search for.
    return KeyringFailed(
        "keyring-error",
        f"The keyring failed while trying to {action} ({type(error).__name__}).",
        hint=hint,
    )


def _is_locked(error: BaseException) -> bool:
    if isinstance(error, secret_service_item.ItemLocked):
        return True
    # Not imported here: keyring that was never imported cannot have raised its own error (and
    # importing it now could fail in ways of its own, outside the keyring call's guard).
    library_errors = sys.modules.get("keyring.errors")
    locked = getattr(library_errors, "KeyringLocked", None)
    return isinstance(locked, type) and isinstance(error, locked)
