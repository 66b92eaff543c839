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
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sipgate_tui.errors import AppError, ExitCode, InputError

APP_NAME = "sipgate-tui"
CONFIG_FILE = "config.toml"
STATE_FILE = "state.json"
MAX_RECENT = 20
FAVOURITE_NAME = re.compile(r"[^\W\d][\w.-]{0,39}")  # a word, so it can never look like a number


def is_favourite_name(name: str) -> bool:
    """A word starting with a letter, and not shaped like a device id (``e0``)."""
    return bool(FAVOURITE_NAME.fullmatch(name)) and not re.fullmatch(r"[A-Za-z]\d+", name)


@dataclass(frozen=True)
class ProfileSettings:
    """One ``[profiles.NAME]`` table, validated."""

    default_device: str | None = None
    default_caller_id: str | None = None
    region: str | None = None
    history: bool = True
    favourites: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recent:
    """A number called before, newest first in the state file."""

    number: str
    at: str  # ISO 8601, UTC


@dataclass(frozen=True)
class ProfileState:
    """What the app remembers by itself for one profile."""

    recent: tuple[Recent, ...] = ()
    last_device: str | None = None
    user_id: str | None = None  # cached from /authorization/userinfo, per token id
    user_token_id: str | None = None


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
        table = data.get("profiles", {}).get(self.profile, {})
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

    def set_favourite(self, name: str, number: str | None) -> bool:
        """Add or replace (``number``) or remove (None) a favourite; False if nothing to remove."""
        found = {"removed": False}

        def change(table: Any) -> None:
            import tomlkit

            favourites = table.get("favourites")
            if number is None:
                if favourites is not None:
                    for existing in list(favourites):
                        if existing.lower() == name.lower():
                            del favourites[existing]
                            found["removed"] = True
                return
            if favourites is None:
                favourites = tomlkit.table()
                table["favourites"] = favourites
            for existing in list(favourites):
                if existing.lower() == name.lower() and existing != name:
                    del favourites[existing]
            favourites[name] = number

        self._edit(change)
        return found["removed"]

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
                exit_code=ExitCode.ENVIRONMENT,
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
        from sipgate_tui.numbers import parse_device_id, parse_phone_number, parse_region

        prefix = f"profiles.{self.profile}"
        values: dict[str, Any] = {}
        try:
            if "default_device" in table:
                values["default_device"] = parse_device_id(self._string(table, "default_device"))
            if "region" in table:
                values["region"] = parse_region(self._string(table, "region"))
            region = values.get("region", "DE")
            if "default_caller_id" in table:
                text = self._string(table, "default_caller_id")
                values["default_caller_id"] = parse_phone_number(text, region).e164
            if "history" in table:
                if not isinstance(table["history"], bool):
                    raise self._bad_value(f"{prefix}.history", "must be true or false")
                values["history"] = table["history"]
            favourites = table.get("favourites", {})
            if not isinstance(favourites, Mapping):
                raise self._bad_value(f"{prefix}.favourites", "must be a table of name = number")
            checked: dict[str, str] = {}
            for name, number in favourites.items():
                if not is_favourite_name(str(name)):
                    raise self._bad_value(f"{prefix}.favourites.{name}", "is not a usable name")
                if not isinstance(number, str):
                    raise self._bad_value(f"{prefix}.favourites.{name}", "must be a string")
                checked[str(name)] = parse_phone_number(number, region).e164
            values["favourites"] = checked
        except InputError as error:
            raise AppError(
                "config-invalid",
                f"A value in {self.config_path} cannot be used: {error.message}",
                exit_code=ExitCode.ENVIRONMENT,
                hint="Fix it in an editor, or set it again with `sipgate-tui config set`.",
            ) from None
        unknown = set(table) - {
            "default_device",
            "default_caller_id",
            "region",
            "history",
            "favourites",
        }
        if unknown:
            raise self._bad_value(f"{prefix}.{sorted(unknown)[0]}", "is not a known setting")
        return ProfileSettings(**values)

    def _string(self, table: Mapping[str, Any], key: str) -> str:
        value = table[key]
        if not isinstance(value, str):
            raise self._bad_value(f"profiles.{self.profile}.{key}", "must be a string")
        return value

    def _bad_value(self, key: str, problem: str) -> AppError:
        return AppError(
            "config-invalid",
            f"In {self.config_path}, {key} {problem}.",
            exit_code=ExitCode.ENVIRONMENT,
            hint="Fix it in an editor, or set it with `sipgate-tui config set`.",
        )

    # -- state.json --------------------------------------------------------------------------

    def load_state(self) -> ProfileState:
        """What the app remembered for this profile; empty when the file is missing.

        Raises AppError (exit 7) when the file exists but is unreadable; callers that only
        want suggestions catch it and go on without them.
        """
        data = self._read_state()
        entry = data.get("profiles", {}).get(self.profile, {})
        if not isinstance(entry, dict):
            return ProfileState()
        recent = tuple(
            Recent(str(item["number"]), str(item.get("at", "")))
            for item in entry.get("recent", [])
            if isinstance(item, dict) and isinstance(item.get("number"), str)
        )[:MAX_RECENT]
        return ProfileState(
            recent=recent,
            last_device=_str_or_none(entry.get("last_device")),
            user_id=_str_or_none(entry.get("user_id")),
            user_token_id=_str_or_none(entry.get("user_token_id")),
        )

    def remember_call(self, number: str, device: str) -> None:
        """Put ``number`` first in the recent list (bounded) and remember the phone used."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")

        def change(entry: dict[str, Any]) -> None:
            recent = [
                item
                for item in entry.get("recent", [])
                if isinstance(item, dict) and item.get("number") != number
            ]
            entry["recent"] = [{"number": number, "at": now}, *recent][:MAX_RECENT]
            entry["last_device"] = device

        self._edit_state(change)

    def remember_user(self, token_id: str, user_id: str) -> None:
        """Cache the user id of a token id, saving a request on later calls."""

        def change(entry: dict[str, Any]) -> None:
            entry["user_id"], entry["user_token_id"] = user_id, token_id

        self._edit_state(change)

    def _read_state(self) -> dict[str, Any]:
        text = self._read_text(self.state_path)
        if text is None:
            return {}
        try:
            data = json.loads(text)
        except ValueError as error:
            raise AppError(
                "state-unreadable",
                f"The state file {self.state_path} is damaged (line "
                f"{getattr(error, 'lineno', '?')}); recent numbers are not used or updated.",
                exit_code=ExitCode.ENVIRONMENT,
                hint="Delete the file to start a fresh list; it holds only recent numbers.",
            ) from None
        return data if isinstance(data, dict) else {}

    def _edit_state(self, change: Any) -> None:
        data = self._read_state()
        profiles = data.setdefault("profiles", {})
        if not isinstance(profiles, dict):
            profiles = data["profiles"] = {}
        entry = profiles.setdefault(self.profile, {})
        if not isinstance(entry, dict):
            entry = profiles[self.profile] = {}
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
                exit_code=ExitCode.ENVIRONMENT,
                hint="Check the file's permissions, or move it away.",
            ) from None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half."""
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
            exit_code=ExitCode.ENVIRONMENT,
            hint="Check that the directory exists and is writable (or set "
            "SIPGATE_TUI_CONFIG_DIR / SIPGATE_TUI_STATE_DIR to one that is).",
        ) from None
