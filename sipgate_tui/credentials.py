"""Where the token lives: the environment, else one item in the OS keyring.

The token exists at rest in exactly one place (the keyring item) and is masked everywhere
else. ``keyring`` is imported only when the environment has no credentials, and every keyring
call runs under a timeout: a locked Secret Service can block forever.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sipgate_tui.errors import AppError, InputError
from sipgate_tui.options import DEFAULT_PROFILE as DEFAULT_PROFILE

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
        # Every token the process has seen is known to scrub(), the last line of defence for
        # text we do not control (tracebacks of bugs, debug logs).
        _KNOWN_SECRETS.update(s for s in (self.token, self.basic_token()) if len(s) >= 4)

    def __repr__(self) -> str:
        return f"Credentials(token_id={self.token_id!r}, token={self.masked_token()!r})"


_KNOWN_SECRETS: set[str] = set()


def scrub(text: str) -> str:
    """``text`` with every token this process has seen (and its Basic form) replaced by ••••."""
    for secret in sorted(_KNOWN_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "••••")
    return text


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
    """The one keyring item per profile (service ``sipgate-tui``, user = profile name)."""

    def __init__(
        self, service: str = KEYRING_SERVICE, timeout: float = DEFAULT_KEYRING_TIMEOUT
    ) -> None:
        self.service = service
        self.timeout = timeout

    def item_location(self, profile: str, backend: str) -> str:
        """``your keyring (SecretService Keyring), item sipgate-tui / default``."""
        return f"your keyring ({backend}), item {self.service} / {profile}"

    def backend_name(self) -> str | None:
        """The usable backend's name (e.g. ``SecretService Keyring``), or None if there is none."""
        return self._timed("find the keyring", _usable_backend_name)

    def read(self, profile: str) -> Credentials | None:
        """The stored credentials for ``profile``; None when nothing is stored or no keyring."""
        if self.backend_name() is None:
            return None

        def get() -> str | None:
            import keyring

            return keyring.get_password(self.service, profile)

        value = self._timed("read from the keyring", get)
        return decode_item(value, profile) if value is not None else None

    def require_backend(self, *, for_removal: bool = False) -> str:
        """The usable backend's name; exit code 7 with the ways out when there is none."""
        name = self.backend_name()
        if name is None:
            raise no_keyring_error(for_removal)
        return name

    def write(self, profile: str, credentials: Credentials) -> None:
        """Store (or replace) the profile's item. A timeout leaves the state unknown."""
        self.require_backend()

        def put() -> None:
            import keyring

            keyring.set_password(self.service, profile, encode_item(credentials))

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
        self.require_backend(for_removal=True)

        def remove() -> bool:
            import keyring

            if keyring.get_password(self.service, profile) is None:
                return False
            # The item exists, so a failure to delete it is a real failure, not "not found".
            keyring.delete_password(self.service, profile)
            return True

        return self._timed("remove the token from the keyring", remove)

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
) -> FoundCredentials:
    """The credentials to use: the environment first, then the keyring; else exit code 3.

    The store is built only when needed, so with credentials in the environment the keyring
    is never imported or asked.
    """
    credentials = from_environment(env)
    if credentials is not None:
        return FoundCredentials(credentials, "env")
    store = make_store() if make_store is not None else None
    backend = store.backend_name() if store is not None else None
    if store is not None and backend is not None:
        stored = store.read(profile)
        if stored is not None:
            return FoundCredentials(stored, "keyring", backend)
    raise missing_credentials(profile, keyring_available=backend is not None)


def no_keyring_error(for_removal: bool = False) -> AppError:
    """No usable keyring backend: what to install or unlock, or the env-var way out."""
    message = (
        "No usable keyring was found, so there is no stored token sipgate-tui could remove "
        "(it never keeps one anywhere else)."
        if for_removal
        else "No usable keyring was found, so the token cannot be stored safely. sipgate-tui "
        "never falls back to a plain-text file."
    )
    return AppError(
        "keyring-unavailable",
        message,
        hint="pick the way that fits this machine:\n"
        "• Desktop Linux (GNOME, Ubuntu, Debian): install the Secret Service with "
        "`sudo apt install gnome-keyring`, then sign out of your desktop and back in.\n"
        "• KDE: enable KWallet (System Settings, KDE Wallet).\n"
        f"• Servers, containers and CI: skip the keyring; set {ENV_TOKEN_ID} and {ENV_TOKEN} "
        "instead.\n"
        "• macOS and Windows have a keyring built in; if you see this there, run "
        "`python -m keyring diagnose` with sipgate-tui's Python to see what keyring found.",
    )


def missing_credentials(profile: str, *, keyring_available: bool) -> CredentialsMissing:
    """The error for 'no credentials anywhere', with both ways to set them up."""
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
        "machine has no usable keyring to store a token in.",
        hint=(
            "Set up a personal access token:\n"
            f"• Set {ENV_TOKEN_ID} and {ENV_TOKEN}: the way on servers, containers and CI.\n"
            f"• Or install a keyring first (GNOME Keyring or KWallet), then run `{login}`; it "
            "explains the options when it finds none.\n" + create
        ),
    )


def _usable_backend_name() -> str | None:
    try:
        return _backend_name()
    except Exception as error:  # noqa: BLE001 - every way of failing to load means the same
        # The backend could not even be loaded (a bad PYTHON_KEYRING_BACKEND or keyringrc.cfg,
        # a missing module): unlocking will not help.
        raise AppError(
            "keyring-error",
            f"The keyring backend could not be loaded ({type(error).__name__}).",
            hint="Check PYTHON_KEYRING_BACKEND and keyring's keyringrc.cfg; "
            "`python -m keyring diagnose` shows what keyring uses. Or set "
            f"{ENV_TOKEN_ID} and {ENV_TOKEN} instead.",
        ) from None


def _backend_name() -> str | None:
    import keyring
    from keyring.backends import chainer, fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return None
    if type(backend).__module__ == "keyring.backends.null":
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    name = getattr(backend, "name", None) or type(backend).__name__
    return str(name)


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
    return AppError(
        "keyring-error",
        f"The keyring failed while trying to {action} ({type(error).__name__}).",
        hint=hint,
    )


def _is_locked(error: BaseException) -> bool:
    try:
        from keyring.errors import KeyringLocked as LibraryKeyringLocked
    except ImportError:  # keyring did not even import: then it cannot have said "locked"
        return False
    return isinstance(error, LibraryKeyringLocked)
