"""Why ``xdg-mime query default`` names another app than sipgate-tui for a link scheme.

``xdg-mime default`` exits 0 even when it wrote nothing, and a list read before
``mimeapps.list`` can overrule it, so ``handler install`` reads the choice back and, where it
did not take effect, this module finds the file (and the line) that really decides, in the
order the Association spec and xdg-utils read them: per config directory, the desktop's own
``DESKTOP-mimeapps.list`` first, then ``mimeapps.list``; then the same in the data
directories' ``applications``. It only reads files; the text it returns names what to do,
never a command that cannot help.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sipgate_tui.desktop_entry import DESKTOP_ID, needs_quotes, read_entry
from sipgate_tui.small_files import read_small_file

if TYPE_CHECKING:
    from sipgate_tui.desktop_handler import Desktop

MAX_LIST_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Blocker:
    """Why a scheme is not (or not for sure) sipgate-tui's: ``kind`` is one of
    ``config-unusable`` (the choice cannot be saved), ``desktop-list`` (a desktop's own list
    read first names another app), ``unstartable-path`` (xdg-utils skips our entry),
    ``not-saved`` (mimeapps.list names another app or none) and ``unknown``; ``text`` says
    it and what to do, for people."""

    kind: str
    text: str


@dataclass(frozen=True)
class ListLine:
    """A ``[Default Applications]`` line of a mimeapps list (``number`` counts from 1)."""

    path: Path
    number: int
    line: str
    ids: list[str]


def _dirs(desktop: Desktop, variable: str, fallback: str) -> list[Path]:
    value = desktop.env.get(variable, "") or fallback
    return [Path(part) for part in value.split(":") if os.path.isabs(part)]


def _config_home(desktop: Desktop) -> Path:
    return desktop.mimeapps_path.parent


def _data_home(desktop: Desktop) -> Path:
    return desktop.applications_dir.parent


def _prefixes(desktop: Desktop) -> list[str]:
    names = [name for name in desktop.env.get("XDG_CURRENT_DESKTOP", "").split(":") if name]
    return [f"{name.lower()}-" for name in names] + [""]


def list_files(desktop: Desktop) -> Iterator[Path]:
    """The mimeapps lists in the order they are read; the first that names an installed
    app for a type decides."""
    config = [_config_home(desktop), *_dirs(desktop, "XDG_CONFIG_DIRS", "/etc/xdg")]
    data = [_data_home(desktop), *_dirs(desktop, "XDG_DATA_DIRS", "/usr/local/share:/usr/share")]
    for directory in [*config, *(d / "applications" for d in data)]:
        for prefix in _prefixes(desktop):
            yield directory / f"{prefix}mimeapps.list"


def default_line(path: Path, scheme: str) -> ListLine | None:
    """The first line for ``x-scheme-handler/SCHEME`` in the list's default applications."""
    text = read_small_file(path, MAX_LIST_BYTES)
    if text is None:
        return None
    key = f"x-scheme-handler/{scheme}"
    in_defaults = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_defaults = stripped == "[Default Applications]"
            continue
        name, equals, value = stripped.partition("=")
        if in_defaults and equals and name.strip() == key:
            ids = [part.strip() for part in value.split(";") if part.strip()]
            return ListLine(path, number, stripped, ids)
    return None


def installed_app(desktop: Desktop, desktop_id: str) -> bool:
    """Whether a desktop entry of that id is in a data directory (as a list's entry must be
    to count); ours only where xdg-utils can start what it runs."""
    if desktop_id == DESKTOP_ID:
        entry = read_entry(desktop.entry_path)
        return bool(entry and entry.command and not needs_quotes(entry.command[0]))
    data = [_data_home(desktop), *_dirs(desktop, "XDG_DATA_DIRS", "/usr/local/share:/usr/share")]
    for directory in (d / "applications" for d in data):
        candidates = [directory / desktop_id]
        vendor, dash, rest = desktop_id.partition("-")
        if dash:
            candidates.append(directory / vendor / rest)
        with contextlib.suppress(OSError):
            candidates += [sub / desktop_id for sub in directory.iterdir() if sub.is_dir()]
        if any(candidate.is_file() for candidate in candidates):
            return True
    return False


def overruling_line(desktop: Desktop, scheme: str) -> ListLine | None:
    """A line of a list read before the user's mimeapps.list (a desktop's own, such as
    ~/.config/gnome-mimeapps.list) whose first installed app is another than sipgate-tui:
    whatever mimeapps.list says, that app wins."""
    for path in list_files(desktop):
        if path == desktop.mimeapps_path:
            return None
        found = default_line(path, scheme)
        ids = found.ids if found else []
        first = next((app for app in ids if installed_app(desktop, app)), None)
        if first is not None:
            return found if first != DESKTOP_ID else None
    return None


def saved(desktop: Desktop, scheme: str) -> bool:
    """Whether the user's mimeapps.list makes sipgate-tui the default for ``scheme``."""
    found = default_line(desktop.mimeapps_path, scheme)
    return bool(found and found.ids[:1] == [DESKTOP_ID])


def config_problem(desktop: Desktop) -> str | None:
    """Why the user's mimeapps.list cannot be written (None: it can, as far as we can tell)."""
    directory = _config_home(desktop)
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent  # xdg-mime creates the missing directories
    if not existing.is_dir():
        variable = os.path.isabs(desktop.env.get("XDG_CONFIG_HOME", "")) and existing == directory
        return f"{existing}{' (XDG_CONFIG_HOME)' if variable else ''} is not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable by you"
    path = desktop.mimeapps_path
    if path.exists() and not path.is_file():
        return f"{path} is not a regular file"
    return None


def diagnose(
    desktop: Desktop,
    scheme: str,
    handler: str | None,
    command: Sequence[str] | None,
    *,
    after_install: bool,
    tool_said: str = "",
) -> Blocker | None:
    """Why ``scheme`` is not sipgate-tui's for sure (None: it is), with ``handler`` what
    xdg-mime names now and ``command`` what our entry runs.

    ``after_install``: the choice was just written, so ours counts only where it was saved
    (``tool_said``: what xdg-mime printed on stderr); else ``status`` asks, where ours counts
    unless the choice cannot be saved, and a missing choice is one an install would write.
    """
    is_saved = saved(desktop, scheme)
    if handler == DESKTOP_ID and is_saved:
        return None
    mimeapps = desktop.mimeapps_path
    problem = None if is_saved else config_problem(desktop)
    if handler == DESKTOP_ID and not after_install and not problem:
        return None  # ours by another list's say (a desktop's own, chosen in its settings)
    if problem:
        unset = " (or unset XDG_CONFIG_HOME)" if "XDG_CONFIG_HOME" in problem else ""
        return Blocker(
            "config-unusable",
            f"the choice cannot be saved in {mimeapps}: {problem}. Make it a directory you "
            f"can write{unset}, then run `sipgate-tui handler install` again.",
        )
    found = overruling_line(desktop, scheme)
    if found:
        return Blocker(
            "desktop-list",
            f"line {found.number} of {found.path} says {found.line}, and that list is read "
            f"before {mimeapps.name}, so it decides. Remove that line (or change it to "
            f"x-scheme-handler/{scheme}={DESKTOP_ID}), or choose sipgate-tui for {scheme}: "
            "links in your desktop's default-apps settings.",
        )
    if command and needs_quotes(command[0]):  # so an install again cannot help either
        return Blocker(
            "unstartable-path",
            f"the path {command[0]} holds a space or a special character: xdg-utils "
            "(xdg-mime, and xdg-open outside GNOME and KDE) cannot start such a program, so "
            "it skips sipgate-tui's entry. Install sipgate-tui under a plain path (`pipx "
            "install sipgate-tui` puts it in ~/.local/bin) and run `sipgate-tui handler "
            "install` from there.",
        )
    if not is_saved and not after_install:
        named = default_line(mimeapps, scheme)
        return Blocker(
            "not-saved",
            f"{mimeapps} names {named.ids[0] if named and named.ids else 'no app'} for it: "
            "`sipgate-tui handler install` takes it back.",
        )
    if not is_saved:
        said = f" (it said: {tool_said})" if tool_said else ""
        only = (
            "; sipgate-tui opens these links only while no other app claims them"
            if handler == DESKTOP_ID
            else ""
        )
        return Blocker("not-saved", f"xdg-mime did not save the choice in {mimeapps}{said}{only}.")
    return Blocker(
        "unknown",
        f"{mimeapps} names sipgate-tui, yet xdg-mime names {handler or 'no app'} (your desktop "
        f"may keep its own choice): choose sipgate-tui for {scheme}: links in your desktop's "
        "default-apps settings.",
    )
