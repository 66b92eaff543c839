"""The profiles that have a stored token, for ``profiles`` and ``status --all``.

keyring cannot list its items, so sipgate-tui keeps an index: ``profile_index`` in the state
file (the app's own file, next to the recent numbers; never a secret: names only), written by
``login`` (added) and ``logout`` (taken out). Profiles stored before the index existed are found
by asking the keyring about every name config.toml and the state file know of (and
``default``); those found are added to the index then. Every read keeps the keyring's timeout
rules (:func:`sipgate_tui.credentials.call_keyring`, through the store): once the keyring is
locked or does not answer, the remaining profiles are not asked (each would wait as long
again) and count as unknown.
"""

from __future__ import annotations

from sipgate_tui.credentials import (
    DEFAULT_PROFILE,
    Credentials,
    CredentialsCorrupted,
    CredentialStore,
    KeyringLocked,
    KeyringTimedOut,
    check_profile,
)
from sipgate_tui.errors import AppError
from sipgate_tui.settings import SettingsStore


class StoredProfile:
    """One profile as the keyring answered: its credentials (None: nothing stored, or not
    known), the backend's name, and the problem that kept it from being read (if any)."""

    __slots__ = ("backend", "credentials", "indexed", "name", "problem")

    def __init__(
        self,
        name: str,
        *,
        credentials: Credentials | None = None,
        backend: str | None = None,
        problem: AppError | None = None,
        indexed: bool = False,
    ) -> None:
        self.name = name
        self.credentials = credentials
        self.backend = backend
        self.problem = problem
        self.indexed = indexed

    @property
    def stored(self) -> bool | None:
        """True: a token (or an unreadable item) is stored; False: nothing; None: unknown."""
        if self.credentials is not None or isinstance(self.problem, CredentialsCorrupted):
            return True
        return None if self.problem is not None else False


class Listing:
    """The profiles to show, the backend they live in (None: no usable keyring), and the
    keyring problem that stopped the reading (None: every profile was asked)."""

    __slots__ = ("backend", "problem", "profiles")

    def __init__(
        self, profiles: list[StoredProfile], backend: str | None, problem: AppError | None
    ) -> None:
        self.profiles = profiles
        self.backend = backend
        self.problem = problem


def candidates(settings: SettingsStore, current: str) -> tuple[list[str], set[str]]:
    """Every profile name worth asking the keyring about (sorted, ``default`` first) and the
    indexed ones. Files that cannot be read give no names: the keyring is still asked about
    ``default`` and the profile in use."""
    try:
        indexed = set(settings.profile_index())
    except AppError:
        indexed = set()
    try:
        known = set(settings.known_profiles())
    except AppError:
        known = set()
    names = {DEFAULT_PROFILE, current} | indexed | known
    usable = [name for name in names if _is_profile_name(name)]
    return sorted(usable, key=lambda name: (name != DEFAULT_PROFILE, name)), indexed


def read_all(store: CredentialStore, names: list[str], indexed: set[str], current: str) -> Listing:
    """Ask the keyring about each name; keep the indexed ones, the ones found and ``current``
    (so the profile in use is always shown, stored or not)."""
    try:
        backend = store.backend_name()
    except AppError as error:  # the keyring could not even be found in time
        shown = [_unknown(n, error, indexed) for n in names if _shown(n, indexed, current)]
        return Listing(shown, None, error)
    if backend is None:
        return Listing([StoredProfile(current, indexed=current in indexed)], None, None)
    profiles: list[StoredProfile] = []
    stopped: AppError | None = None
    for name in names:
        if stopped is not None:
            if _shown(name, indexed, current):
                profiles.append(_unknown(name, stopped, indexed))
            continue
        entry = _read_one(store, name, backend, name in indexed)
        if isinstance(entry.problem, (KeyringLocked, KeyringTimedOut)):
            stopped = entry.problem
        if entry.stored or _shown(name, indexed, current):
            profiles.append(entry)
    return Listing(profiles, backend, stopped)


def fill_index(settings: SettingsStore, listing: Listing) -> None:
    """Add the profiles found stored but not yet indexed (stored before the index existed);
    a state file that cannot be written only means they are looked for again next time."""
    for entry in listing.profiles:
        if entry.stored and not entry.indexed:
            try:
                settings.set_indexed(entry.name, True)
            except (AppError, OSError):
                return


def _read_one(store: CredentialStore, name: str, backend: str, indexed: bool) -> StoredProfile:
    try:
        credentials = store.read(name)
    except AppError as error:  # locked, no answer, unreadable item, a failing backend
        return StoredProfile(name, backend=backend, problem=error, indexed=indexed)
    return StoredProfile(
        name, credentials=credentials, backend=backend if credentials else None, indexed=indexed
    )


def _unknown(name: str, problem: AppError, indexed: set[str]) -> StoredProfile:
    return StoredProfile(name, problem=problem, indexed=name in indexed)


def _shown(name: str, indexed: set[str], current: str) -> bool:
    return name in indexed or name == current


def _is_profile_name(name: str) -> bool:
    try:
        check_profile(name)
    except AppError:
        return False
    return True
