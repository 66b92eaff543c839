"""Remembered settings: ``config.toml`` (the user's, written only on request) and the state
file (recent numbers, the last phone used; written by the app).

The config file is read with the standard TOML parser and changed with tomlkit, which keeps the
user's comments and layout. Every write is atomic (a temporary file, then a rename), and a file
that cannot be parsed is reported with its path and line, and never overwritten. No secret is
ever written to either file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sipgate_tui.errors import AppError, InputError
from sipgate_tui.numbers import is_favourite_name, parse_device_id, parse_phone_number, parse_region
from sipgate_tui.options import DEFAULT_REGION
from sipgate_tui.setting_keys import SETTING_KEYS

APP_NAME = "sipgate-tui"
CONFIG_FILE = "config.toml"
STATE_FILE = "state.json"
MAX_RECENT = 20
_E164 = re.compile(r"\+[1-9][0-9]{5,14}")
REMEMBERED_TYPES = ("classic", "neo")  # "unknown" is never remembered: it is no finding


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


@dataclass(frozen=True)
class Recent:
    """A number called before, newest first in the state file."""

    number: str
    at: str  # ISO 8601, UTC
    pretty: str = ""  # as it was shown ("+49 1579 9912345"), so suggestions need no parsing


@dataclass(frozen=True)
class ProfileState:
    """What the app remembers by itself for one profile."""

    recent: tuple[Recent, ...] = ()
    last_device: str | None = None
    user_id: str | None = None  # cached from /authorization/userinfo, per token id
    user_token_id: str | None = None
    account_type: str | None = None  # "classic" or "neo", as detected, per token id
    account_type_token_id: str | None = None

    def user_id_for(self, token_id: str) -> str | None:
        """The cached user id, if it was learnt with this token id: another token (after a
        new login, or in the environment) may belong to another user."""
        return self.user_id if self.user_id and self.user_token_id == token_id else None

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

    def set_value(self, key: str, value: Any) -> None:
        """Set one key of this profile's table (``None`` removes it)."""

        def change(table: Any) -> None:
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value

        self._edit(change)

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
        text = self._read_text(self.config_path)
        if text is None:
            return {}
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - exercised on Python 3.10 only
            import tomli as tomllib
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise AppError(
                "config-unreadable",
                f"The config file {self.config_path} is not valid TOML: {error}.",
                hint="Fix that line in an editor (or move the file away to start over). "
                "sipgate-tui never overwrites a file it cannot read.",
            ) from None

    def _edit(self, change: Any) -> None:
        import tomlkit

        self._read_config()  # refuses, with the line, to touch a file it cannot parse
        text = self._read_text(self.config_path) or ""
        document = tomlkit.parse(text)
        profiles = document.setdefault("profiles", tomlkit.table(is_super_table=True))
        if self.profile not in profiles:
            profiles[self.profile] = tomlkit.table()
        change(profiles[self.profile])
        self._validate(profiles[self.profile].unwrap())
        _atomic_write(self.config_path, tomlkit.dumps(document))

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
            user_id=_str_or_none(entry.get("user_id")),
            user_token_id=_str_or_none(entry.get("user_token_id")),
            account_type=_str_or_none(entry.get("account_type")),
            account_type_token_id=_str_or_none(entry.get("account_type_token_id")),
        )

    def forget_recent(self) -> int:
        """Empty this profile's recent numbers (and the last phone); how many were there."""
        count = len(self.load_state().recent)

        def change(entry: dict[str, Any]) -> None:
            entry.pop("recent", None)
            entry.pop("last_device", None)

        self._edit_state(change)
        return count

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

    def _read_state(self) -> dict[str, Any]:
        text = self._read_text(self.state_path)
        if text is None:
            return {}
        try:
            data = json.loads(text)
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
            "the last phone, a cached user id and the account type).",
            hint=f"Delete {self.state_path}; it is rebuilt on the next call.",
        )

    def _edit_state(self, change: Any) -> None:
        data = self._read_state()
        self._state_entry(data)  # refuses to rewrite a file it does not understand
        entry = data.setdefault("profiles", {}).setdefault(self.profile, {})
        change(entry)
        _atomic_write(self.state_path, json.dumps(data, indent=2) + "\n")

    # -- shared --------------------------------------------------------------------------------

    @staticmethod
    def _read_text(path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise AppError(
                "settings-unreadable",
                f"Cannot read {path}: {getattr(error, 'strerror', None) or error}.",
                hint="Check the file's permissions, or move it away.",
            ) from None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", text=True)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            if path.exists():
                os.chmod(temporary, path.stat().st_mode & 0o777)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as error:
        raise AppError(
            "settings-unwritable",
            f"Cannot write {path}: {error.strerror or error}.",
            hint="Check that the directory exists and is writable (or set "
            "SIPGATE_TUI_CONFIG_DIR / SIPGATE_TUI_STATE_DIR to one that is).",
        ) from None
