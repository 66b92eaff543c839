"""Remembered settings: ``config.toml`` (the user's, written only on request) and the state
file (recent numbers, the last phone used; written by the app).

The config file is read with the standard TOML parser and changed with tomlkit, which keeps the
user's comments and layout. Every write is atomic (a temporary file, then a rename), and a file
that cannot be parsed is reported with its path and line, and never overwritten. No secret is
ever written to either file.

How the files are kept (issue 13):

* every read-modify-write holds ``NAME.lock`` next to the file from the read through the rename
  (``fcntl.flock``; ``msvcrt.locking`` on Windows), so parallel runs never lose each other's
  updates; a lock held longer than ``SIPGATE_TUI_LOCK_TIMEOUT`` seconds (10) is an error that
  names the lock file (``settings-locked``, exit 7), never a hang. Lock files stay: removing one
  while another process waits on it would let two writers in;
* only regular files are read: a FIFO, a device, a socket or a directory in a file's place is
  refused after ``os.stat`` and before any ``open`` (which could block on a FIFO), and is never
  replaced; a symbolic link is followed (written through: the link stays, its target is replaced
  atomically), a dangling one is named;
* directories sipgate-tui creates are user-only (0700) whatever the umask, new files 0600 (an
  existing file keeps the mode its owner gave it);
* a UTF-8 byte order mark (Windows editors write one) is accepted, and kept on rewrite;
* a cached user id is used only if it passes the rule userinfo's answer is held to.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sipgate_tui.errors import AppError, InputError
from sipgate_tui.numbers import is_favourite_name, parse_device_id, parse_phone_number, parse_region
from sipgate_tui.options import DEFAULT_REGION
from sipgate_tui.setting_keys import SETTING_KEYS

APP_NAME = "sipgate-tui"
CONFIG_FILE = "config.toml"
STATE_FILE = "state.json"
MAX_RECENT = 20
MAX_DEVICES = 100  # phones kept for shell completion; no account has more that ring first
_E164 = re.compile(r"\+[1-9][0-9]{5,14}")
REMEMBERED_TYPES = ("classic", "neo")  # "unknown" is never remembered: it is no finding
KEYRING_BACKEND_KEY = "keyring_backend"  # state.json: module.Class of the backend last used
PROFILE_INDEX_KEY = "profile_index"  # state.json: the profiles with a stored token
# The rule api.py holds userinfo's "sub" to (tests/test_files_hardening.py keeps the two equal):
# the id becomes part of request paths, so "../x" or a control character must never pass.
USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
DEFAULT_LOCK_TIMEOUT = 10.0  # seconds; SIPGATE_TUI_LOCK_TIMEOUT overrides
MAX_FILE_BYTES = 1 << 20  # far more than either file ever holds; a bound for odd files
_BOM = "\ufeff"
# A pin of `config set region`: (key, as written, E.164, the region it was read in).
Pinned = tuple[str, str, str, str]


def valid_user_id(value: object) -> str | None:
    """``value`` if it is a usable user id (the rule userinfo's answer is held to), else None."""
    return value if isinstance(value, str) and USER_ID.fullmatch(value) else None


@dataclass(frozen=True)
class ProfileSettings:
    """One ``[profiles.NAME]`` table, validated."""

    default_device: str | None = None
    default_caller_id: str | None = None
    region: str | None = None
    history: bool = True
    favourites: dict[str, str] = field(default_factory=dict)
    account_type: str = "auto"  # auto | classic | neo: forces the account type
    neo_numbers: str = "digits"  # digits | plus: the number format of POST /calls on Neo
    live_view: str = "auto"  # auto | on | off: follow the call after the dial
    tone_pause: float = 2.0  # seconds per "," of a dial string (dial_string.PAUSE_SECONDS)


class Recent(NamedTuple):
    """A number called before, newest first in the state file."""

    number: str
    at: str  # ISO 8601, UTC
    pretty: str = ""  # as it was shown ("+49 1579 9912345"), so suggestions need no parsing


class ProfileState(NamedTuple):
    """What the app remembers by itself for one profile."""

    recent: tuple[Recent, ...] = ()
    last_device: str | None = None
    user_id: str | None = None  # cached from /authorization/userinfo, per token id
    user_token_id: str | None = None
    account_type: str | None = None  # "classic" or "neo", as detected, per token id
    account_type_token_id: str | None = None

    def user_id_for(self, token_id: str) -> str | None:
        """The cached user id, if it was learnt with this token id: another token (after a
        new login, or in the environment) may belong to another user. An id that breaks the
        userinfo rule (``../x``, a control character) counts as not cached."""
        return valid_user_id(self.user_id) if self.user_token_id == token_id else None

    def account_type_for(self, token_id: str) -> str | None:
        """The remembered account type ("classic" or "neo"), if it was detected with this
        token id (another token may belong to another account); else None."""
        if self.account_type_token_id != token_id:
            return None
        return self.account_type if self.account_type in REMEMBERED_TYPES else None


def config_dir(env: Mapping[str, str]) -> Path:
    """``SIPGATE_TUI_CONFIG_DIR``, else the platform's config directory for sipgate-tui."""
    override = env.get("SIPGATE_TUI_CONFIG_DIR", "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def state_dir(env: Mapping[str, str]) -> Path:
    """``SIPGATE_TUI_STATE_DIR``, else the platform's state directory for sipgate-tui."""
    override = env.get("SIPGATE_TUI_STATE_DIR", "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


class SettingsStore:
    """Reads and writes both files for one profile."""

    def __init__(self, env: Mapping[str, str], profile: str) -> None:
        self.profile = profile
        self.config_path = config_dir(env) / CONFIG_FILE
        self.state_path = state_dir(env) / STATE_FILE
        self._lock_timeout = env.get("SIPGATE_TUI_LOCK_TIMEOUT", "")  # read when first needed

    # -- config.toml -------------------------------------------------------------------------

    def load(self) -> ProfileSettings:
        """This profile's settings; defaults when the file does not exist."""
        data = self._read_config()
        profiles = data.get("profiles", {})
        if not isinstance(profiles, dict):
            raise self._bad_value("profiles", "must be a table of [profiles.NAME] tables")
        table = profiles.get(self.profile, {})
        if not isinstance(table, dict):
            raise self._bad_value(f"profiles.{self.profile}", "must be a table")
        return self._validate(table)

    def set_value(self, key: str, value: Any) -> list[Pinned]:
        """Set one key of this profile's table (``None`` removes it).

        A change of ``region`` (set or unset) first pins the numbers written without a country
        code (favourites, default_caller_id) to E.164 in the region they were written for, in
        the same write, so they keep reaching the same people; returns those pins.
        """
        pinned: list[Pinned] = []

        def change(table: Any) -> None:
            if key == "region":
                pinned.extend(_pin_national_numbers(table, value or DEFAULT_REGION))
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value

        self._edit(change)
        return pinned

    def set_favourite(self, name: str, number: str | None) -> dict[str, str]:
        """Add or replace (``number``) or remove (None) a favourite.

        Names are one per person whatever their case, so ``Mom`` replaces ``mom``. Returns the
        entries it replaced or removed (name -> number), so the caller can say so.
        """
        gone: dict[str, str] = {}

        def change(table: Any) -> None:
            import tomlkit

            favourites = table.get("favourites")
            for existing in list(favourites or {}):
                if existing.lower() == name.lower():
                    gone[existing] = str(favourites[existing])
                    del favourites[existing]
            if number is not None:
                if favourites is None:
                    favourites = tomlkit.table()
                    table["favourites"] = favourites
                favourites[name] = number

        self._edit(change)
        return gone

    def _read_config(self) -> dict[str, Any]:
        return self._parse_config(self._read_text(self.config_path))

    def _parse_config(self, text: str | None) -> dict[str, Any]:
        if text is None:
            return {}
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - exercised on Python 3.10 only
            import tomli as tomllib
        try:
            return tomllib.loads(text.removeprefix(_BOM))
        except tomllib.TOMLDecodeError as error:
            raise AppError(
                "config-unreadable",
                f"The config file {self.config_path} is not valid TOML: {error}.",
                hint="Fix that line in an editor (or move the file away to start over). "
                "sipgate-tui never overwrites a file it cannot read.",
            ) from None

    def _edit(self, change: Callable[[Any], None]) -> None:
        import tomlkit

        with self._locked(self.config_path):  # from the read through the rename
            text = self._read_text(self.config_path)
            self._parse_config(text)  # refuses, with the line, to touch a file it cannot parse
            bom = _BOM if (text or "").startswith(_BOM) else ""
            document = tomlkit.parse((text or "").removeprefix(_BOM))
            profiles = document.setdefault("profiles", tomlkit.table(is_super_table=True))
            if self.profile not in profiles:
                profiles[self.profile] = tomlkit.table()
            change(profiles[self.profile])
            self._validate(profiles[self.profile].unwrap())
            _atomic_write(self.config_path, bom + tomlkit.dumps(document))

    def _validate(self, table: Mapping[str, Any]) -> ProfileSettings:
        """Check every value of a profile table; errors name the key they are about."""
        prefix = f"profiles.{self.profile}"
        unknown = set(table) - {key.field for key in SETTING_KEYS} - {"favourites"}
        if unknown:
            raise self._bad_value(f"{prefix}.{sorted(unknown)[0]}", "is not a known setting")
        values: dict[str, Any] = {}
        with self._naming(f"{prefix}.default_device"):
            if "default_device" in table:
                values["default_device"] = parse_device_id(self._string(table, "default_device"))
        with self._naming(f"{prefix}.region"):
            if "region" in table:
                values["region"] = parse_region(self._string(table, "region"))
        region = values.get("region", DEFAULT_REGION)
        with self._naming(f"{prefix}.default_caller_id"):
            if "default_caller_id" in table:
                text = self._string(table, "default_caller_id")
                values["default_caller_id"] = parse_phone_number(text, region).e164
        if "history" in table:
            if not isinstance(table["history"], bool):
                raise self._bad_value(f"{prefix}.history", "must be true or false")
            values["history"] = table["history"]
        values.update(self._choices(table))
        if "tone_pause" in table:
            pause = tone_pause_seconds(table["tone_pause"])
            if pause is None:
                raise self._bad_value(f"{prefix}.tone_pause", TONE_PAUSE_RULE)
            values["tone_pause"] = pause
        favourites = table.get("favourites", {})
        if not isinstance(favourites, Mapping):
            raise self._bad_value(f"{prefix}.favourites", "must be a table of name = number")
        checked: dict[str, str] = {}
        for name, number in favourites.items():
            key = f"{prefix}.favourites.{name}"
            if not is_favourite_name(str(name)):
                raise self._bad_value(key, "is not a usable name (a word, not like e0)")
            if not isinstance(number, str):
                raise self._bad_value(key, "must be a number in quotes")
            with self._naming(key):
                checked[str(name)] = parse_phone_number(number, region).e164
        values["favourites"] = checked
        return ProfileSettings(**values)

    def _choices(self, table: Mapping[str, Any]) -> dict[str, str]:
        """The settings that take one of a few words (account-type, ...), checked."""
        values: dict[str, str] = {}
        for key in SETTING_KEYS:
            if key.choices and key.field in table:
                value = table[key.field]
                word = value.strip().lower() if isinstance(value, str) else None
                if word not in key.choices:
                    raise self._bad_value(
                        f"profiles.{self.profile}.{key.field}",
                        f"must be {key.choices_in_words()} (in quotes)",
                    )
                values[key.field] = word
        return values

    @contextlib.contextmanager
    def _naming(self, key: str) -> Iterator[None]:
        """Turn a value's InputError into a config error that names the key."""
        try:
            yield
        except InputError as error:
            raise self._bad_value(key, f"cannot be used: {error.message}") from None

    def _string(self, table: Mapping[str, Any], key: str) -> str:
        value = table[key]
        if not isinstance(value, str):
            raise self._bad_value(f"profiles.{self.profile}.{key}", "must be a string")
        return value

    def _bad_value(self, key: str, problem: str) -> AppError:
        how = (
            "`sipgate-tui favourites add/remove`"
            if ".favourites" in key
            else "`sipgate-tui config set` or `config unset`"
        )
        return AppError(
            "config-invalid",
            f"In {self.config_path}, {key} {problem.rstrip('.')}.",
            hint=f"Fix it in an editor, or change it with {how}.",
        )

    # -- state.json --------------------------------------------------------------------------

    def load_state(self) -> ProfileState:
        """What the app remembered for this profile; empty when the file is missing.

        Raises AppError (exit 7) when the file exists but is unreadable; callers that only
        want suggestions catch it and go on without them.
        """
        entry = self._state_entry(self._read_state())
        recent = tuple(
            Recent(
                item["number"],
                str(item.get("at", "")),
                str(item.get("pretty") or item["number"]),
            )
            for item in entry.get("recent", [])
        )[:MAX_RECENT]
        return ProfileState(
            recent=recent,
            last_device=_str_or_none(entry.get("last_device")),
            user_id=valid_user_id(entry.get("user_id")),  # a bad one: not cached, ask again
            user_token_id=_str_or_none(entry.get("user_token_id")),
            account_type=_str_or_none(entry.get("account_type")),
            account_type_token_id=_str_or_none(entry.get("account_type_token_id")),
        )

    def forget_recent(self) -> int:
        """Empty this profile's recent numbers (and the last phone); how many were there."""
        counted: list[int] = []

        def change(entry: dict[str, Any]) -> None:
            # Counted under the lock: the number that was really there when it was emptied.
            counted.append(len(entry.pop("recent", None) or []))
            entry.pop("last_device", None)

        self._edit_state(change)
        return min(counted[0], MAX_RECENT)

    def _state_entry(self, data: dict[str, Any]) -> dict[str, Any]:
        """This profile's part of the state, checked: any other shape counts as damaged, so it
        is reported and left as it is rather than silently rewritten."""
        profiles = data.get("profiles", {})
        entry = profiles.get(self.profile, {}) if isinstance(profiles, dict) else None
        recent = entry.get("recent", []) if isinstance(entry, dict) else None
        if (
            not isinstance(entry, dict)
            or not isinstance(recent, list)
            or not all(
                isinstance(item, dict)
                and isinstance(item.get("number"), str)
                and _E164.fullmatch(item["number"])
                for item in recent
            )
        ):
            raise self._damaged_state("it has an unexpected shape")
        return entry

    def remember(
        self,
        *,
        call: tuple[str, str, str] | None = None,
        user: tuple[str, str] | None = None,
        account_type: tuple[str, str] | None = None,
    ) -> None:
        """Remember, in one write, a call (number, device, pretty: put first in the recent
        numbers, bounded), a user id learnt for a token id (token id, user id) and/or an
        account type detected for a token id (token id, "classic" or "neo"; any other type
        is no finding and is not written)."""
        if account_type is not None and account_type[1] not in REMEMBERED_TYPES:
            account_type = None
        from datetime import datetime, timezone

        now = datetime.now(timezone.utc).isoformat(timespec="seconds")

        def change(entry: dict[str, Any]) -> None:
            if call is not None:
                number, device, pretty = call
                recent = [
                    item
                    for item in entry.get("recent", [])
                    if isinstance(item, dict) and item.get("number") != number
                ]
                newest = {"number": number, "at": now, "pretty": pretty or number}
                entry["recent"] = [newest, *recent][:MAX_RECENT]
                entry["last_device"] = device
            if user is not None:
                entry["user_token_id"], entry["user_id"] = user
            if account_type is not None:
                entry["account_type_token_id"], entry["account_type"] = account_type

        if call is not None or user is not None or account_type is not None:
            self._edit_state(change)

    def remember_call(self, number: str, device: str, pretty: str = "") -> None:
        """Put ``number`` first in the recent list (bounded) and remember the phone used."""
        self.remember(call=(number, device, pretty))

    def remember_user(self, token_id: str, user_id: str) -> None:
        """Cache the user id of a token id, saving a request on later calls."""
        self.remember(user=(token_id, user_id))

    def remember_devices(self, token_id: str, devices: Iterable[tuple[str, str]]) -> None:
        """Keep the phones (id, name) sipgate just listed for a token id, for shell completion
        of ``--device`` (which reads no keyring and sends no request). Only ids a call can
        ring (e0, x1, ...), at most MAX_DEVICES; one write, under the state file's lock, and
        none when the list is the one already kept. Stored in the profile's entry as
        ``"devices": {"token_id": ..., "items": [[id, name], ...]}``; completion.py reads it
        (without importing this module, which costs a Tab about 20 ms)."""
        kept: list[list[str]] = []
        for device_id, alias in devices:
            try:
                parse_device_id(device_id)
            except InputError:
                continue  # a phoneline or a fax: nothing --device takes
            kept.append([device_id, alias if alias.isprintable() else device_id])
        kept = kept[:MAX_DEVICES]
        record = {"token_id": token_id, "items": kept}

        def change(entry: dict[str, Any]) -> None:
            entry["devices"] = record

        try:
            current = self._state_entry(self._read_state()).get("devices")
        except AppError:
            current = None  # a damaged file: _edit_state reports it
        if current != record:
            self._edit_state(change)

    # -- state.json, top level: the keyring backend and the profiles index (issue 16) ---------

    def keyring_backend(self) -> str | None:
        """The keyring backend that served a token last (``module.Class``), or None."""
        value = self._read_state().get(KEYRING_BACKEND_KEY)
        return value if isinstance(value, str) else None

    def remember_keyring_backend(self, name: str) -> None:
        """Remember the backend that served a token (written only when it changed)."""
        if self.keyring_backend() == name:
            return

        def change(data: dict[str, Any]) -> None:
            data[KEYRING_BACKEND_KEY] = name

        self._edit_state_top(change)

    def profile_index(self) -> list[str]:
        """The profiles ``login`` stored a token for (and ``logout`` did not remove), sorted."""
        value = self._read_state().get(PROFILE_INDEX_KEY)
        names = value if isinstance(value, list) else []
        return sorted({name for name in names if isinstance(name, str)})

    def set_indexed(self, name: str, stored: bool) -> None:
        """Add the profile ``name`` to the index (``stored``) or take it out."""

        def change(data: dict[str, Any]) -> None:
            value = data.get(PROFILE_INDEX_KEY)
            names = {n for n in value if isinstance(n, str)} if isinstance(value, list) else set()
            names = names | {name} if stored else names - {name}
            data[PROFILE_INDEX_KEY] = sorted(names)

        if (name in self.profile_index()) != stored:
            self._edit_state_top(change)

    def known_profiles(self) -> list[str]:
        """Every profile name config.toml (``[profiles.NAME]``) and the state file (its
        entries) know of: where to look for tokens stored before the index existed."""
        names: set[str] = set()
        for data in (self._read_config(), self._read_state()):
            profiles = data.get("profiles", {})
            if isinstance(profiles, dict):
                names.update(name for name in profiles if isinstance(name, str))
        return sorted(names)

    def _edit_state_top(self, change: Callable[[dict[str, Any]], None]) -> None:
        """One read-modify-write of the state file's top level, under its lock."""
        with self._locked(self.state_path):
            data = self._read_state()
            self._state_entry(data)  # refuses to rewrite a file it does not understand
            change(data)
            _atomic_write(self.state_path, json.dumps(data, indent=2) + "\n")

    def _read_state(self) -> dict[str, Any]:
        text = self._read_text(self.state_path)
        if text is None:
            return {}
        try:
            data = json.loads(text.removeprefix(_BOM))
        except ValueError as error:
            raise self._damaged_state(f"line {getattr(error, 'lineno', '?')}") from None
        if not isinstance(data, dict):
            raise self._damaged_state("it is not a JSON object")
        return data

    def _damaged_state(self, where: str) -> AppError:
        return AppError(
            "state-unreadable",
            f"The state file {self.state_path} is damaged ({where}); recent numbers are not "
            "used or updated. Delete it to start a fresh list (it holds only recent numbers, "
            "the last phone, a cached user id, the account type and your phones' list for "
            "shell completion).",
            hint=f"Delete {self.state_path}; it is rebuilt on the next call.",
        )

    def _edit_state(self, change: Callable[[dict[str, Any]], None]) -> None:
        with self._locked(self.state_path):  # from the read through the rename
            data = self._read_state()
            self._state_entry(data)  # refuses to rewrite a file it does not understand
            entry = data.setdefault("profiles", {}).setdefault(self.profile, {})
            change(entry)
            _atomic_write(self.state_path, json.dumps(data, indent=2) + "\n")

    # -- shared --------------------------------------------------------------------------------

    @staticmethod
    def _read_text(path: Path) -> str | None:
        """The file's text (a BOM included: callers strip it); None when there is none."""
        return _read_regular_file(path)

    @contextlib.contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        """Hold ``path``'s lock file for one read-modify-write (see the module's docstring)."""
        with _file_lock(path, lock_timeout(self._lock_timeout)):
            yield


def lock_timeout(raw: str) -> float:
    """Seconds to wait for a settings file's lock: ``SIPGATE_TUI_LOCK_TIMEOUT`` or 10."""
    value = seconds_setting(raw, DEFAULT_LOCK_TIMEOUT)
    if value is None:
        message, hint = bad_seconds("SIPGATE_TUI_LOCK_TIMEOUT", raw)
        raise InputError("invalid-lock-timeout", message, hint=hint)
    return value


TONE_PAUSE_RULE = "must be seconds from 0.5 to 10, such as 2 or 3.5"


def tone_pause_seconds(value: object) -> float | None:
    """The ``tone-pause`` setting (a number, or text of one) as seconds from 0.5 to 10; None
    for anything else. Bounded: a link's commas multiply it, and a call must not be held for
    minutes by a setting typed with one digit too many."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or not 0.5 <= value <= 10:
        return None
    return float(value)


def seconds_setting(raw: str, default: float) -> float | None:
    """A wait in seconds from an environment variable's value ("" when unset: ``default``):
    more than 0 and at most an hour; None for anything else."""
    raw = raw.strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if 0 < value <= 3600 else None


def bad_seconds(name: str, raw: str) -> tuple[str, str]:
    """The message and hint for a wait in ``name`` that :func:`seconds_setting` refused."""
    return (
        f"{name} must be seconds, more than 0 and at most 3600, not '{raw.strip()[:20]}'.",
        f"For example {name}=10, or unset it for the default.",
    )


# -- the files themselves: only regular ones, locked while changed, user-only ----------------


def _what_it_is(mode: int) -> str | None:
    """What a file that is not a regular one is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((words for test, words in kinds if test(mode)), "not a regular file")


def _not_a_file(path: Path, what: str, target: Path) -> AppError:
    through = f" (through the link to {target})" if target != path else ""
    fix = (
        f"Remove the link {path} (a new file is started), or point it at a regular file."
        if target != path
        else f"Move {path} away (a new file is started), or put a regular file there."
    )
    return AppError(
        "settings-not-a-file",
        f"Cannot read {path}: it is {what}{through}, not a regular file. sipgate-tui keeps "
        "settings and recent numbers only in regular files, and leaves this one as it is.",
        hint=fix,
    )


def _unreadable(path: Path, error: OSError) -> AppError:
    return AppError(
        "settings-unreadable",
        f"Cannot read {path}: {error.strerror or error}.",
        hint="Check the file's permissions, or move it away.",
    )


def _existing_file(path: Path) -> Path | None:
    """The regular file ``path`` names (following symbolic links), None when there is none.

    Checked with ``stat`` before anything opens it: opening a FIFO waits for a writer, and a
    device gives endless bytes. A dangling link is named rather than taken for "no file": it
    usually means a file elsewhere (a dotfiles checkout, a drive) is missing.
    """
    target = path
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            target = Path(os.path.realpath(path))
            info = os.stat(path)
    except FileNotFoundError:
        if target == path:
            return None
        raise AppError(
            "settings-not-a-file",
            f"Cannot read {path}: it is a symbolic link to {target}, which does not exist.",
            hint=f"Create {target} (or restore what it is on), or remove the link to start a "
            "new file.",
        ) from None
    except OSError as error:  # a loop of links, a directory without permission, ...
        raise _unreadable(path, error) from None
    what = _what_it_is(info.st_mode)
    if what is not None:
        raise _not_a_file(path, what, target)
    return target


def _read_regular_file(path: Path) -> str | None:
    """The text of the regular file ``path`` names, at most MAX_FILE_BYTES; None if none."""
    target = _existing_file(path)
    if target is None:
        return None
    # O_NONBLOCK: should a FIFO be swapped in after the check, opening it does not wait.
    flags = os.O_RDONLY | _flag("O_NONBLOCK") | _flag("O_BINARY") | _flag("O_CLOEXEC")
    try:
        descriptor = os.open(target, flags)
        try:
            what = _what_it_is(os.fstat(descriptor).st_mode)
            if what is not None:
                raise _not_a_file(path, what, target)
            data = _read_at_most(descriptor, MAX_FILE_BYTES + 1)
        finally:
            os.close(descriptor)
    except FileNotFoundError:
        return None  # removed since the check: as if it had never been there
    except OSError as error:
        raise _unreadable(path, error) from None
    if len(data) > MAX_FILE_BYTES:
        raise AppError(
            "settings-unreadable",
            f"Cannot read {path}: it is larger than 1 MiB, far more than a settings file holds.",
            hint="Check what the file is, or move it away.",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AppError(
            "settings-unreadable",
            f"Cannot read {path}: it is not UTF-8 text (byte {error.start + 1} is not).",
            hint="Save it as UTF-8 in an editor, or move it away.",
        ) from None


def _read_at_most(descriptor: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(descriptor, min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _flag(name: str) -> int:
    """An ``os.O_*`` flag, 0 where the platform has none (O_NONBLOCK on Windows, ...)."""
    return int(getattr(os, name, 0))


def make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents user-only (0700), whatever the umask.

    Directories that exist are left as they are (they may be the user's, like ~/.config).
    Raises OSError.
    """
    missing: list[Path] = []
    current = directory
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for each in reversed(missing):
        try:
            os.mkdir(each, 0o700)
        except FileExistsError:
            continue  # another sipgate-tui made it a moment ago (and made it 0700)
        os.chmod(each, 0o700)  # the umask may have taken bits from the mode mkdir was given


@contextlib.contextmanager
def _file_lock(path: Path, timeout: float) -> Iterator[None]:
    """Hold ``PATH.lock`` (next to ``path``, created 0600) exclusively, waiting at most
    ``timeout`` seconds for another sipgate-tui to let go; raises AppError (exit 7)."""
    lock_path = path.with_name(path.name + ".lock")
    flags = os.O_RDWR | os.O_CREAT | _flag("O_NOFOLLOW") | _flag("O_NONBLOCK") | _flag("O_CLOEXEC")
    try:
        make_private_dirs(path.parent)
        descriptor = os.open(lock_path, flags | _flag("O_BINARY"), 0o600)
    except OSError as error:  # a read-only directory: the write could not happen either
        raise _unwritable(path, path, error) from None
    try:
        info = os.fstat(descriptor)
        what = _what_it_is(info.st_mode)
        if what is not None:
            raise _not_a_file(lock_path, what, lock_path)
        if stat.S_IMODE(info.st_mode) != 0o600 and hasattr(os, "fchmod"):
            with contextlib.suppress(OSError):  # the umask cut it; it holds nothing anyway
                os.fchmod(descriptor, 0o600)
        locked = _wait_for_lock(descriptor, lock_path, timeout)
        try:
            yield
        finally:
            if locked:
                _unlock(descriptor)
    finally:
        os.close(descriptor)  # also lets go of the lock, should unlocking have failed


def _wait_for_lock(descriptor: int, lock_path: Path, timeout: float) -> bool:
    """Take the lock; False where the file system cannot lock (then writes stay atomic, but
    two at the same moment may lose one's change, as before locks existed)."""
    import time

    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            if _try_lock(descriptor):
                return True
        except OSError:
            return False  # ENOLCK, EOPNOTSUPP: no locks on this file system
        left = deadline - time.monotonic()
        if left <= 0:
            raise AppError(
                "settings-locked",
                f"Another sipgate-tui kept {lock_path} locked for more than {timeout:g} s, so "
                f"{lock_path.with_suffix('').name} was not changed.",
                hint="Let the other sipgate-tui finish (one stopped with Ctrl-Z holds the lock "
                "until it goes on or ends), then run this again; SIPGATE_TUI_LOCK_TIMEOUT sets "
                "the wait in seconds.",
            )
        time.sleep(min(pause, left))  # a poll: flock has no timeout of its own
        pause = min(pause * 2, 0.05)


def _try_lock(descriptor: int) -> bool:
    """One attempt at the exclusive lock; False when someone else holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            # msvcrt locks at the current position: the same byte _unlock seeks to.
            os.lseek(descriptor, 0, os.SEEK_SET)
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)  # the first byte stands for all
        except OSError:  # EACCES or EDEADLOCK: held by another process
            return False
        return True
    import errno
    import fcntl

    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
            return False
        raise
    return True


def _unlock(descriptor: int) -> None:
    with contextlib.suppress(OSError):
        if sys.platform == "win32":
            import msvcrt

            os.lseek(descriptor, 0, os.SEEK_SET)
            msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(descriptor, fcntl.LOCK_UN)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half
    (``small_files.write_atomically``: through a symbolic link the link stays; a new file is
    0600, an existing one keeps its mode)."""
    from sipgate_tui.small_files import write_atomically

    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        make_private_dirs(target.parent)
        write_atomically(target, text.encode("utf-8"), new_mode=0o600)
    except OSError as error:
        raise _unwritable(path, target, error) from None


def _unwritable(path: Path, target: Path, error: OSError) -> AppError:
    where = f"{target} (which {path} links to)" if target != path else str(path)
    return AppError(
        "settings-unwritable",
        f"Cannot write {where}: {error.strerror or error}.",
        hint="Check that the directory exists and is writable (or set "
        "SIPGATE_TUI_CONFIG_DIR / SIPGATE_TUI_STATE_DIR to one that is).",
    )


def _pin_national_numbers(table: Any, new_region: str) -> list[Pinned]:
    """Before ``region`` changes: rewrite the numbers of ``table`` (tomlkit, one profile)
    written without '+' to E.164 in the region they were written for, keeping each line's
    comment. Returns the pins; numbers that do not parse are left for the check after the
    change to name."""
    import tomlkit

    try:
        old = parse_region(str(table.get("region") or DEFAULT_REGION))
    except InputError:
        return []  # an unusable region gave those numbers no meaning to keep
    if old == new_region:
        return []
    places: list[tuple[Any, str, str]] = [(table, "default_caller_id", "default-caller-id")]
    favourites = table.get("favourites")
    if isinstance(favourites, Mapping):
        places += [(favourites, str(name), f"favourites.{name}") for name in list(favourites)]
    pinned: list[Pinned] = []
    for container, name, key in places:
        written = container.get(name)
        if not isinstance(written, str) or written.strip().startswith("+"):
            continue
        try:
            e164 = parse_phone_number(written, old).e164
        except InputError:
            continue
        item = tomlkit.item(e164)
        trivia = getattr(written, "trivia", None)
        if trivia is not None:  # "mom = '0157 …'  # mum": the comment stays on its line
            item.trivia.comment_ws, item.trivia.comment = trivia.comment_ws, trivia.comment
        container[name] = item
        pinned.append((key, str(written), e164, old))
    return pinned
