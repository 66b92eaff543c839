"""The account's contacts kept on disk, per profile, so suggestions need no request.

Where: ``SIPGATE_TUI_CACHE_DIR``, else the platform's cache directory for sipgate-tui
(``platformdirs.user_cache_dir``), one file per profile: ``contacts-PROFILE.json``.

How it is kept (issue 14):

* the file names the token id it was fetched with, and is ignored for any other token id (a
  new login, or SIPGATE_TOKEN_ID, may belong to another account). Nothing in it or in its name
  is derived from the token itself;
* it is user-only: the file 0600, a directory this module creates 0700 (the platform's own
  cache directory for sipgate-tui is made 0700 even if it exists);
* written atomically (a temporary file in the same directory, then a rename): a reader sees
  the old file or the new one, never half; two writers: the last one wins, both whole;
* a damaged file (not JSON, wrong shape, a FIFO in its place, too large, unreadable) counts as
  no cache: :func:`load` returns None and the next fetch writes a new one. Never fatal;
* stale after a day (:meth:`CachedContacts.is_stale`): still usable, but worth refreshing;
* numbers are stored as E.164 with the region they were read in; loaded with another region,
  the national ones (no ``+``, no ``00``) are read again in the new one;
* the search keys (``contacts.fold``) are stored too, so loading costs no folding; a cache of
  another ``FOLD_VERSION`` has them made again.

Nothing here prints. :func:`save` raises :class:`CacheNotWritten` (an ``OSError``) when the
file cannot be written: callers say so in a note and go on.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import time
from collections.abc import Iterable, Mapping
from operator import attrgetter
from pathlib import Path
from typing import Any

from sipgate_tui.contacts import (
    FOLD_VERSION,
    Contact,
    ContactNumber,
    normalise_number,
    paused_gc,
)

APP_NAME = "sipgate-tui"
CACHE_VERSION = 1
MAX_AGE = 24 * 3600.0  # seconds: older contacts are refreshed
MAX_CACHE_BYTES = 64 << 20  # 100,000 contacts stay far below; more is not our file
_SAFE_PROFILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")  # credentials.check_profile


class CacheNotWritten(OSError):
    """The cache file could not be written; ``path`` names it, ``reason`` says why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot write {path}: {reason}")
        self.path, self.reason = path, reason


class CachedContacts:
    """The contacts of one profile as they were fetched: with which token id, when (Unix
    time), in which region the numbers were read."""

    __slots__ = ("contacts", "fetched_at", "region", "token_id")

    def __init__(
        self, token_id: str, fetched_at: float, region: str, contacts: list[Contact]
    ) -> None:
        self.token_id, self.fetched_at, self.region = token_id, fetched_at, region
        self.contacts = contacts

    def age(self, now: float | None = None) -> float:
        """Seconds since the contacts were fetched (negative if the clock went back)."""
        return (time.time() if now is None else now) - self.fetched_at

    def is_stale(self, now: float | None = None) -> bool:
        """Older than a day, or fetched "in the future" (a clock that was wrong then or now)."""
        age = self.age(now)
        return age > MAX_AGE or age < -300


def cache_dir(env: Mapping[str, str]) -> Path:
    """``SIPGATE_TUI_CACHE_DIR``, else the platform's cache directory for sipgate-tui."""
    override = env.get("SIPGATE_TUI_CACHE_DIR", "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def cache_path(env: Mapping[str, str], profile: str) -> Path | None:
    """The profile's cache file; None for a name that cannot be a profile (never a path)."""
    if not _SAFE_PROFILE.fullmatch(profile):
        return None
    return cache_dir(env) / f"contacts-{profile}.json"


# -- reading ---------------------------------------------------------------------------------------


def load(env: Mapping[str, str], profile: str, token_id: str, region: str) -> CachedContacts | None:
    """The profile's cached contacts if they were fetched with ``token_id``; None when there
    are none, when they belong to another token id, or when the file is damaged."""
    path = cache_path(env, profile)
    if path is None:
        return None
    text = _read(path)
    if text is None:
        return None
    with paused_gc():
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            return None
        return _from_document(document, token_id, region)


def _read(path: Path) -> str | None:
    """The file's text; None for no file, a file that is not a regular one, or any failure."""
    from sipgate_tui.small_files import read_small_file

    return read_small_file(path, MAX_CACHE_BYTES)


def _from_document(document: Any, token_id: str, region: str) -> CachedContacts | None:
    if not isinstance(document, dict) or document.get("version") != CACHE_VERSION:
        return None
    if document.get("tokenId") != token_id:
        return None
    fetched_at, stored_region = document.get("fetchedAt"), document.get("region")
    entries = document.get("contacts")
    if (
        not isinstance(fetched_at, (int, float))
        or isinstance(fetched_at, bool)
        or not isinstance(stored_region, str)
        or not isinstance(entries, list)
    ):
        return None
    keys_valid = document.get("foldVersion") == FOLD_VERSION
    renormalise = region if stored_region != region else None
    contacts = []
    for entry in entries:
        contact = _contact(entry, keys_valid, renormalise)
        if contact is None:
            return None  # one damaged entry: the whole file is suspect
        contacts.append(contact)
    return CachedContacts(token_id, float(fetched_at), region, contacts)


def _contact(entry: Any, keys_valid: bool, renormalise: str | None) -> Contact | None:
    """One stored contact: ``[id, name, organization, phonebook, numbers, key, digits]``."""
    # Exact type tests, written out: ten thousand of these run before the first keystroke.
    if type(entry) is not list or len(entry) != 7:
        return None
    contact_id, name, organization, phonebook, numbers, key, digits = entry
    if (
        type(contact_id) is not str
        or type(name) is not str
        or type(organization) is not str
        or type(phonebook) is not str
        or type(key) is not str
        or type(digits) is not str
        or type(numbers) is not list
    ):
        return None
    parsed = []
    for number in numbers:
        if type(number) is not list or len(number) != 3:
            return None
        raw, kind, e164 = number
        if type(raw) is not str or type(kind) is not str:
            return None
        if e164 is not None and (type(e164) is not str or not _E164.fullmatch(e164)):
            return None
        if renormalise is not None and not _international(raw):
            e164 = normalise_number(raw, renormalise)
            digits = None  # made again from the numbers
        parsed.append(ContactNumber(raw, kind, e164))
    if not keys_valid:
        key = digits = None
    return Contact(contact_id, name, organization, phonebook, tuple(parsed), key, digits)


_E164 = re.compile(r"\+[1-9][0-9]{5,14}")


def _international(raw: str) -> bool:
    """Whether a phonebook number names its country (then no region changes it)."""
    text = raw.strip()
    return text.startswith(("+", "00", "\uff0b"))


# -- writing ---------------------------------------------------------------------------------------


def save(
    env: Mapping[str, str],
    profile: str,
    token_id: str,
    region: str,
    contacts: Iterable[Contact],
    *,
    now: float | None = None,
) -> CachedContacts:
    """Write the profile's cache (atomically, user-only) and return what it holds, in name
    order (the order ``ContactIndex`` keeps, so building one from the cache sorts nothing).

    Raises :class:`CacheNotWritten` when it cannot be written."""
    listed = sorted(contacts, key=attrgetter("search_key", "id"))
    cached = CachedContacts(token_id, time.time() if now is None else now, region, listed)
    path = cache_path(env, profile)
    if path is None:
        raise CacheNotWritten(cache_dir(env), f"'{profile[:40]}' cannot name a cache file")
    document = {
        "version": CACHE_VERSION,
        "foldVersion": FOLD_VERSION,
        "tokenId": token_id,
        "fetchedAt": cached.fetched_at,
        "region": region,
        "contacts": [
            [
                c.id,
                c.name,
                c.organization,
                c.phonebook,
                [[n.raw, n.type, n.e164] for n in c.numbers],
                c.search_key,
                c.digits_key,
            ]
            for c in listed
        ],
    }
    # ASCII: a lone surrogate in a name (JSON can carry one) must not make the write fail.
    text = json.dumps(document, separators=(",", ":"))
    own_dir = not env.get("SIPGATE_TUI_CACHE_DIR", "").strip()
    _write_private(path, text.encode("ascii"), own_dir=own_dir)
    return cached


def _write_private(path: Path, data: bytes, *, own_dir: bool) -> None:
    """``data`` into ``path`` through a temporary file and a rename; the file 0600 whatever
    the umask, the directory 0700 when this module makes it (or it is the app's own)."""
    from sipgate_tui.settings import make_private_dirs
    from sipgate_tui.small_files import write_atomically

    directory = path.parent
    try:
        make_private_dirs(directory)
        if own_dir and stat.S_IMODE(os.stat(directory).st_mode) != 0o700:
            os.chmod(directory, 0o700)  # the app's cache directory holds nobody else's files
        _remove_leftovers(path)
        write_atomically(path, data, mode=0o600, through_links=False)
    except OSError as error:
        raise CacheNotWritten(path, error.strerror or str(error)) from None


LEFTOVER_AGE = 600.0  # seconds: a temporary file this old belongs to no write in progress


def _remove_leftovers(path: Path, now: float | None = None) -> None:
    """Temporary files of writes that never finished (the app ends with ``os._exit``, which
    can cut a background refresh short): removed once they are old enough to be nobody's."""
    limit = (time.time() if now is None else now) - LEFTOVER_AGE
    with contextlib.suppress(OSError):
        for leftover in path.parent.glob(f".{path.name}.*"):
            with contextlib.suppress(OSError):
                if leftover.lstat().st_mtime < limit:
                    leftover.unlink()


def remove(env: Mapping[str, str], profile: str) -> bool:
    """Delete the profile's cache file (``logout``); whether there was one. Never raises for
    a file that is gone; a file that cannot be removed raises OSError."""
    path = cache_path(env, profile)
    if path is None:
        return False
    _remove_leftovers(path, now=float("inf"))  # unfinished writes hold contacts too
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except IsADirectoryError:
        return False  # not ours: nothing to remove
    return True
