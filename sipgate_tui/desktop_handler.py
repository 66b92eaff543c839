"""sipgate-tui as the desktop's handler of tel:, callto:, sip: and sips: links (freedesktop).

For the current user only: a desktop entry in ``$XDG_DATA_HOME/applications`` that runs
``sipgate-tui call --from-desktop -- LINK`` in a terminal, made the default for the four
schemes with ``xdg-mime``. The handlers they had before are recorded in that same entry
(``X-SipgateTui-Previous-tel=...``), so there is one place to look and it goes when the entry
goes; ``uninstall`` puts them back. ``xdg-mime default`` exits 0 even where it wrote
nothing, so ``install`` reads each scheme back and ``handler_diagnosis`` says why one is not
ours.

The link is untrusted input: it reaches sipgate-tui as one argv element (``%u``), never
through a shell, and no tool here is ever run through one. The two files' formats live in
``desktop_entry``. Nothing here prints; the command (``commands/handler.py``) renders the
results.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sipgate_tui.desktop_entry import (
    DESKTOP_ID,
    DESKTOP_ID_PATTERN,
    SCHEMES,
    entry_text,
    needs_quotes,
    read_entry,
    without_ours,
)
from sipgate_tui.errors import AppError
from sipgate_tui.handler_diagnosis import Blocker, diagnose
from sipgate_tui.small_files import write_atomically

TOOL_TIMEOUT = 5.0  # seconds; the tools are small shell scripts that answer in milliseconds
# The Debian/Ubuntu package of each tool, for the message when one is missing.
PACKAGES = {
    "xdg-mime": "xdg-utils",
    "update-desktop-database": "desktop-file-utils",
    "desktop-file-validate": "desktop-file-utils",
}


@dataclass(frozen=True)
class ToolResult:
    """What a tool printed and how it ended."""

    returncode: int
    stdout: str
    stderr: str


Runner = Callable[[Sequence[str], Mapping[str, str]], ToolResult]


def run_tool(argv: Sequence[str], env: Mapping[str, str]) -> ToolResult:
    """Run one tool: list arguments, no shell, the environment handed in, output captured,
    a timeout. Raises ``OSError`` or ``subprocess.TimeoutExpired``."""
    done = subprocess.run(
        list(argv),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=TOOL_TIMEOUT,
        check=False,
    )
    return ToolResult(done.returncode, done.stdout, done.stderr)


@dataclass(frozen=True)
class Desktop:
    """The outside world of the handler commands: the environment (PATH, HOME, XDG_*), the
    platform, how this program was started, and how tools run. Tests build their own."""

    env: Mapping[str, str]
    platform: str = sys.platform
    argv0: str = field(default_factory=lambda: sys.argv[0] if sys.argv else "")
    executable: str = sys.executable
    run: Runner = run_tool

    @property
    def freedesktop(self) -> bool:
        """Whether links are registered the freedesktop way here (not macOS, not Windows)."""
        return not (self.platform == "darwin" or self.platform.startswith(("win", "cygwin")))

    def which(self, name: str) -> str | None:
        """The program ``name`` on this environment's PATH."""
        return shutil.which(name, path=self.env.get("PATH", os.defpath))

    def _base(self, variable: str, fallback: str) -> Path:
        value = self.env.get(variable, "")
        if os.path.isabs(value):  # the spec: a relative value is invalid and ignored
            return Path(value)
        return Path(self.env.get("HOME") or os.path.expanduser("~")) / fallback

    @property
    def applications_dir(self) -> Path:
        """``$XDG_DATA_HOME/applications`` (default ``~/.local/share/applications``)."""
        return self._base("XDG_DATA_HOME", ".local/share") / "applications"

    @property
    def entry_path(self) -> Path:
        """Where our desktop entry lives."""
        return self.applications_dir / DESKTOP_ID

    @property
    def mimeapps_path(self) -> Path:
        """``$XDG_CONFIG_HOME/mimeapps.list``, where ``xdg-mime default`` writes."""
        return self._base("XDG_CONFIG_HOME", ".config") / "mimeapps.list"


@dataclass(frozen=True)
class SchemeChange:
    """One scheme at install: who had it before us (None: nobody), whether it was ours
    already (then ``before`` is the handler recorded at the first install), who has it as
    read back after writing, and why that is not us (None: it took effect)."""

    scheme: str
    before: str | None
    already_ours: bool
    handler: str | None = DESKTOP_ID
    blocker: Blocker | None = None

    @property
    def took_effect(self) -> bool:
        """Whether xdg-mime names sipgate-tui for the scheme now, and the choice is saved."""
        return self.blocker is None


@dataclass(frozen=True)
class Installed:
    """What ``install`` did."""

    entry_path: Path
    command: list[str]
    changes: list[SchemeChange]
    warnings: list[str]

    @property
    def took_effect(self) -> list[str]:
        """The schemes that sipgate-tui handles now (read back after writing)."""
        return [change.scheme for change in self.changes if change.took_effect]


@dataclass(frozen=True)
class SchemeUndo:
    """One scheme at uninstall: ``restored`` (to ``handler``), ``cleared`` (no handler was
    recorded: our association removed), or ``left`` (``handler`` took it over since)."""

    scheme: str
    outcome: str
    handler: str | None


@dataclass(frozen=True)
class Uninstalled:
    """What ``uninstall`` did; ``installed`` is False when there was no entry to remove."""

    entry_path: Path
    installed: bool
    undone: list[SchemeUndo]
    leftovers: list[str]  # schemes whose stray association named us, removed


@dataclass(frozen=True)
class SchemeState:
    """Who handles one scheme now (None: nothing), the handler recorded before us, and, when
    it is not us while our entry is installed, why."""

    scheme: str
    handler: str | None
    previous: str | None
    blocker: Blocker | None = None

    @property
    def ours(self) -> bool:
        """Whether sipgate-tui handles it."""
        return self.handler == DESKTOP_ID


@dataclass(frozen=True)
class HandlerStatus:
    """What ``status`` found."""

    entry_path: Path
    installed: bool
    command: list[str] | None  # what our entry runs
    command_exists: bool | None  # None when not installed
    current_command: list[str]  # what an install would write now
    schemes: list[SchemeState]  # empty when xdg-mime is missing: nobody can tell then
    tools_missing: list[str] = field(default_factory=list)
    tools_note: str | None = None  # what is missing and how to install it

    @property
    def stale(self) -> bool:
        """Our entry runs a program that is gone (sipgate-tui was moved or reinstalled)."""
        return self.installed and not self.command_exists


# -- the command line the entry runs ---------------------------------------------------------


def launch_command(desktop: Desktop) -> list[str]:
    """The absolute command that starts this sipgate-tui: the running console script, else
    ``sipgate-tui`` on PATH, else ``python -m sipgate_tui`` with this interpreter.

    Paths are made absolute but symbolic links are kept: a venv's python links to a system
    interpreter that lacks our package, and pipx's ``~/.local/bin`` link survives upgrades.
    """
    argv0 = desktop.argv0
    name = os.path.basename(argv0).lower()
    module = [os.path.abspath(desktop.executable), "-m", "sipgate_tui"]
    if name == "__main__.py" and os.path.basename(os.path.dirname(argv0)) == "sipgate_tui":
        return module
    if name in ("sipgate-tui", "sipgate-tui.exe") and os.sep in argv0 and os.path.isfile(argv0):
        return [os.path.abspath(argv0)]
    found = desktop.which("sipgate-tui")
    return [os.path.abspath(found)] if found else module


def program_exists(desktop: Desktop, program: str) -> bool:
    """Whether the program an Exec line starts is there (absolute, or found on PATH)."""
    path = program if os.path.isabs(program) else desktop.which(program)
    return bool(path) and os.path.isfile(str(path)) and os.access(str(path), os.X_OK)


# -- the tools -------------------------------------------------------------------------------


INSTALL_PURPOSE = "to register as the handler of tel: links"
UNINSTALL_PURPOSE = "to give the links back to the apps they had before"
STATUS_PURPOSE = "to tell which app opens tel: links"


def missing_tools(desktop: Desktop, *names: str) -> list[str]:
    """Those of the tools ``names`` that are not on PATH."""
    return [name for name in names if desktop.which(name) is None]


def missing_tools_text(missing: Sequence[str], purpose: str) -> tuple[str, str]:
    """The message and the hint for ``missing`` tools, naming their packages; ``purpose``
    says what sipgate-tui needs them for ("to ...")."""
    packages = sorted({PACKAGES[name] for name in missing})
    message = (
        f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed "
        f"(from the package{'s' if len(packages) > 1 else ''} {' and '.join(packages)}): "
        f"sipgate-tui needs {'it' if len(missing) == 1 else 'them'} {purpose}."
    )
    hint = (
        f"Install {' and '.join(packages)} (Debian, Ubuntu: `sudo apt install "
        f"{' '.join(packages)}`; Fedora: `sudo dnf install {' '.join(packages)}`), "
        "then run the command again."
    )
    return message, hint


def require(desktop: Desktop, *names: str, purpose: str = INSTALL_PURPOSE) -> dict[str, str]:
    """The absolute paths of the tools ``names``; ``handler-tools-missing`` when any is not
    on PATH, naming the missing ones and their packages."""
    missing = missing_tools(desktop, *names)
    if missing:
        message, hint = missing_tools_text(missing, purpose)
        raise AppError("handler-tools-missing", message, hint=hint)
    return {name: str(desktop.which(name)) for name in names}


def tool(desktop: Desktop, argv: Sequence[str], *, what: str) -> str:
    """Run a tool and return what it printed; ``handler-failed`` when it fails, hangs or
    cannot start (``what`` says what it was doing, for the message)."""
    return _checked(desktop, argv, what=what).stdout


def _checked(desktop: Desktop, argv: Sequence[str], *, what: str) -> ToolResult:
    name = os.path.basename(argv[0])
    try:
        result = desktop.run(argv, desktop.env)
    except subprocess.TimeoutExpired:
        raise _tool_failed(name, what, f"it did not answer within {TOOL_TIMEOUT:g} s") from None
    except OSError as error:
        raise _tool_failed(name, what, error.strerror or str(error)) from None
    if result.returncode != 0:
        said = _said(result.stderr or result.stdout)
        reason = f"it ended with exit code {result.returncode}" + (f": {said}" if said else "")
        raise _tool_failed(name, what, reason)
    return result


def _said(text: str) -> str:
    from sipgate_tui.text import one_line

    return one_line(text, 300)


def _tool_failed(name: str, what: str, reason: str) -> AppError:
    return AppError(
        "handler-failed",
        f"{name} failed while {what}: {reason}.",
        hint="Run `sipgate-tui handler status` to see what handles the links now; run the "
        "command again once the tool works.",
    )


def query_default(desktop: Desktop, xdg_mime: str, scheme: str) -> str | None:
    """The desktop id that handles ``scheme`` links now, or None."""
    printed = tool(
        desktop,
        [xdg_mime, "query", "default", f"x-scheme-handler/{scheme}"],
        what=f"looking up the handler of {scheme}: links",
    )
    first = printed.strip().splitlines()[0].strip() if printed.strip() else ""
    return first if DESKTOP_ID_PATTERN.fullmatch(first) else None


def _validate(desktop: Desktop, validator: str, text: str) -> None:
    """``desktop-file-validate`` on the entry, written to a private directory first, so a
    refused entry never reaches the applications directory."""
    with tempfile.TemporaryDirectory(prefix="sipgate-tui-") as directory:
        candidate = Path(directory) / DESKTOP_ID
        candidate.write_text(text, encoding="utf-8")
        try:
            result = desktop.run([validator, str(candidate)], desktop.env)
        except (OSError, subprocess.TimeoutExpired) as error:
            reason = f"it could not run ({error})"
            raise _tool_failed("desktop-file-validate", "checking the entry", reason) from None
    if result.returncode != 0:
        said = _said((result.stdout + " " + result.stderr).replace(str(candidate), DESKTOP_ID))
        raise AppError(
            "handler-failed",
            f"desktop-file-validate refused the desktop entry, so nothing was installed: {said}",
            hint="Please report this as a bug of sipgate-tui, with the message above.",
        )


# -- install, uninstall, status --------------------------------------------------------------


def install(desktop: Desktop) -> Installed:
    """Write our desktop entry and make it the default for the four schemes, recording (and
    returning) the handlers they had; a second install keeps the first install's record."""
    tools = require(desktop, "xdg-mime", "update-desktop-database")
    command = launch_command(desktop)
    old = read_entry(desktop.entry_path)
    changes = []
    for scheme in SCHEMES:
        now = query_default(desktop, tools["xdg-mime"], scheme)
        if now == DESKTOP_ID:  # installed before: the handler before that install stays
            changes.append(SchemeChange(scheme, old.previous.get(scheme) if old else None, True))
        else:
            changes.append(SchemeChange(scheme, now, False))
    previous = {change.scheme: change.before for change in changes if change.before}
    text = entry_text(command, previous)
    validator = desktop.which("desktop-file-validate")
    if validator is not None:  # optional: it checks, it is not needed to register
        _validate(desktop, validator, text)
    try:
        # A desktop entry is read by the desktop, not secret: 0644 as every other one.
        desktop.entry_path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(desktop.entry_path, text.encode("utf-8"), new_mode=0o644)
    except OSError as error:
        raise _unwritable(desktop.entry_path, error) from None
    said = _register(desktop, tools)
    # xdg-mime exits 0 even where it wrote nothing, and another list can overrule the one it
    # writes: only what it answers now counts.
    changes = [_read_back(desktop, tools["xdg-mime"], change, command, said) for change in changes]
    warnings = []
    explained = any(c.blocker and c.blocker.kind == "unstartable-path" for c in changes)
    if any(needs_quotes(word) for word in command) and not explained:
        warnings.append(
            f"The path {command[0]} holds a space or a special character: xdg-open outside "
            "GNOME and KDE (xdg-utils' generic mode) cannot start such a program from a "
            "link. If links do not open, install sipgate-tui under a plain path (`pipx "
            "install sipgate-tui` puts it in ~/.local/bin) and run `sipgate-tui handler "
            "install` from there."
        )
    return Installed(desktop.entry_path, command, changes, warnings)


def _register(desktop: Desktop, tools: Mapping[str, str]) -> str:
    """Update the cache and make us the default; what ``xdg-mime default`` said on stderr
    (it reports a failed write there, and exits 0 all the same)."""
    applications = str(desktop.applications_dir)
    tool(
        desktop,
        [tools["update-desktop-database"], applications],
        what=f"updating the list of link handlers in {applications}",
    )
    result = _checked(
        desktop,
        [tools["xdg-mime"], "default", DESKTOP_ID, *(f"x-scheme-handler/{s}" for s in SCHEMES)],
        what="making sipgate-tui the default for tel:, callto:, sip: and sips: links",
    )
    return _said(result.stderr)


def _read_back(
    desktop: Desktop, xdg_mime: str, change: SchemeChange, command: Sequence[str], said: str
) -> SchemeChange:
    now = query_default(desktop, xdg_mime, change.scheme)
    blocker = diagnose(desktop, change.scheme, now, command, after_install=True, tool_said=said)
    return replace(change, handler=now, blocker=blocker)


def _unwritable(path: Path, error: OSError) -> AppError:
    return AppError(
        "handler-failed",
        f"Cannot write {path}: {error.strerror or error}.",
        hint=f"Check that {path.parent} is writable by you, then run the command again.",
    )


def uninstall(desktop: Desktop) -> Uninstalled:
    """Give each scheme that is still ours back to the handler recorded at install (or, where
    none was, remove our association), then remove our desktop entry."""
    tools = require(desktop, "xdg-mime", "update-desktop-database", purpose=UNINSTALL_PURPOSE)
    entry = read_entry(desktop.entry_path)
    if entry is None and not desktop.entry_path.exists():
        leftovers = _remove_ours_from_mimeapps(desktop, SCHEMES)
        return Uninstalled(desktop.entry_path, False, [], leftovers)
    recorded = entry.previous if entry else {}
    undone = []
    for scheme in SCHEMES:
        now = query_default(desktop, tools["xdg-mime"], scheme)
        if now != DESKTOP_ID:
            undone.append(SchemeUndo(scheme, "left", now))
        elif scheme in recorded:
            undone.append(SchemeUndo(scheme, "restored", recorded[scheme]))
        else:
            undone.append(SchemeUndo(scheme, "cleared", None))
    _restore(desktop, tools["xdg-mime"], [u for u in undone if u.outcome == "restored"])
    # Our id wherever it still stands in the user's list (cleared schemes, and second places
    # in lists that name another handler first): the entry it names is about to go.
    _remove_ours_from_mimeapps(desktop, SCHEMES)
    try:
        desktop.entry_path.unlink()
    except FileNotFoundError:
        pass
    except OSError as error:
        raise _unwritable(desktop.entry_path, error) from None
    _forget_in_cache(desktop, tools["update-desktop-database"])
    return Uninstalled(desktop.entry_path, True, undone, [])


def _forget_in_cache(desktop: Desktop, updater: str) -> None:
    """Make mimeinfo.cache stop naming us: where our entry was the only one, the cache is
    ours (update-desktop-database wrote it for it) and goes; else it is rebuilt."""
    applications = desktop.applications_dir
    if not _holds_desktop_entries(applications):
        try:
            (applications / "mimeinfo.cache").unlink()
        except FileNotFoundError:
            pass
        except OSError as error:
            raise _unwritable(applications / "mimeinfo.cache", error) from None
        return
    tool(
        desktop,
        [updater, str(applications)],
        what=f"updating the list of link handlers in {applications}",
    )


def _holds_desktop_entries(directory: Path) -> bool:
    """Whether ``directory`` or one below it holds a .desktop file (update-desktop-database
    reads subdirectories too); True when it cannot be read, so the cache is rebuilt, not
    removed."""
    try:
        return any(True for _ in directory.rglob("*.desktop"))
    except OSError:
        return True


def _restore(desktop: Desktop, xdg_mime: str, restored: Iterable[SchemeUndo]) -> None:
    by_handler: dict[str, list[str]] = {}
    for undo in restored:
        by_handler.setdefault(str(undo.handler), []).append(f"x-scheme-handler/{undo.scheme}")
    for handler, mime_types in by_handler.items():
        tool(
            desktop,
            [xdg_mime, "default", handler, *mime_types],
            what=f"giving {', '.join(mime_types)} back to {handler}",
        )


def _remove_ours_from_mimeapps(desktop: Desktop, schemes: Iterable[str]) -> list[str]:
    """Remove our id from the user's mimeapps.list for ``schemes``; returns the schemes that
    named it. ``handler-failed`` when the file cannot be rewritten."""
    path = desktop.mimeapps_path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as error:
        raise AppError(
            "handler-failed",
            f"Cannot read {path}: {error.strerror or error}.",
            hint="Check the file's permissions, then run the command again.",
        ) from None
    changed, touched = without_ours(data, schemes)
    if changed != data:
        try:
            write_atomically(path, changed)
        except OSError as error:
            raise _unwritable(path, error) from None
    return touched


def status(desktop: Desktop) -> HandlerStatus:
    """Who handles each scheme now, whether our entry is there and whether what it runs is;
    without xdg-mime, what can be told without it (who handles the links cannot)."""
    entry = read_entry(desktop.entry_path)
    previous = entry.previous if entry else {}
    command = entry.command if entry else None
    missing = missing_tools(desktop, "xdg-mime")
    schemes = []
    note = None
    if missing:
        message, hint = missing_tools_text(missing, STATUS_PURPOSE)
        note = f"{message} {hint}"
    else:
        xdg_mime = str(desktop.which("xdg-mime"))
        for scheme in SCHEMES:
            now = query_default(desktop, xdg_mime, scheme)
            blocker = (
                diagnose(desktop, scheme, now, command, after_install=False) if entry else None
            )
            schemes.append(SchemeState(scheme, now, previous.get(scheme), blocker))
    exists = None if entry is None else command is not None and program_exists(desktop, command[0])
    return HandlerStatus(
        entry_path=desktop.entry_path,
        installed=entry is not None,
        command=command,
        command_exists=exists,
        current_command=launch_command(desktop),
        schemes=schemes,
        tools_missing=missing,
        tools_note=note,
    )


# -- a notification, for a link opened without a terminal --------------------------------------


# Any of these says a desktop session is there to show a notification in.
SESSION_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")


def notify(summary: str, body: str, env: Mapping[str, str]) -> bool:
    """Show a desktop notification with ``notify-send``, when it is installed and a desktop
    session seems present (a display or a session bus). Whether it was shown; never raises."""
    from sipgate_tui.text import one_line

    if not any(env.get(name) for name in SESSION_VARIABLES):
        return False
    program = shutil.which("notify-send", path=env.get("PATH", os.defpath))
    if program is None:
        return False
    # "--": a summary that starts with "-" is text, not an option.
    argv = [program, "--app-name=sipgate-tui", "--", one_line(summary, 120), one_line(body, 600)]
    try:
        return run_tool(argv, env).returncode == 0
    except (OSError, ValueError, subprocess.SubprocessError):
        return False
