"""``sipgate-tui handler install | uninstall | status``: sipgate-tui as the desktop's handler of
tel:, callto:, sip: and sips: links, for the current user.

The work is in ``desktop_handler`` (freedesktop; the files it writes: ``desktop_entry``) and
``handler_steps`` (the manual steps on macOS and Windows, where nothing is installed and the
command says so with exit code 7). ``install`` exits 7 (``handler-failed``) when no scheme
took effect; ``status`` exits 0 whatever it finds, even without xdg-mime (it says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sipgate_tui import desktop_handler, render
from sipgate_tui.desktop_handler import Desktop
from sipgate_tui.errors import AppError, ExitCode
from sipgate_tui.handler_diagnosis import Blocker
from sipgate_tui.handler_steps import ManualSteps, manual_steps

if TYPE_CHECKING:
    from sipgate_tui.context import AppContext

ACTIONS = ("install", "uninstall", "status")


@dataclass(frozen=True)
class HandlerOptions:
    """``handler install``, ``handler uninstall``, ``handler status`` (also bare ``handler``).

    ``desktop`` is the outside world the command works on; None: this machine (the context's
    environment, ``sys.platform``, this program's path). Tests hand in their own."""

    action: str = "status"
    json: bool = False
    desktop: Desktop | None = None


def run(options: HandlerOptions, ctx: AppContext) -> ExitCode:
    """Install, remove or show the link handler; on macOS and Windows, print the steps."""
    desktop = options.desktop or Desktop(env=ctx.env)
    if not desktop.freedesktop:
        steps = manual_steps(desktop.platform, desktop_handler.launch_command(desktop))
        raise _manual(options, ctx, steps)
    if options.action == "install":
        installed = desktop_handler.install(desktop)
        if not installed.took_effect:
            raise _nothing_took_effect(options, ctx, installed)
        # Some schemes only: exit 0, as those links do open sipgate-tui now; the rows of the
        # others say why, and a script finds them in "tookEffect".
        if options.json:
            ctx.emit_json(_installed_json(installed))
        else:
            ctx.show(render.handler_installed(installed))
    elif options.action == "uninstall":
        removed = desktop_handler.uninstall(desktop)
        if options.json:
            ctx.emit_json(_uninstalled_json(removed))
        else:
            ctx.show(render.handler_uninstalled(removed))
    else:
        found = desktop_handler.status(desktop)
        if options.json:
            ctx.emit_json(_status_json(found))
        else:
            ctx.show(render.handler_status(found))
    return ExitCode.OK


def _manual(options: HandlerOptions, ctx: AppContext, steps: ManualSteps) -> AppError:
    """The steps shown (on stdout, to copy from), and the problem that says nothing was
    installed; with --json the steps travel in the error document's hint."""
    message = (
        f"On {steps.platform} sipgate-tui cannot register itself as the handler of tel: "
        "links: nothing was installed or changed."
    )
    if options.json:
        lines = [*steps.steps, *("To undo: " + line for line in steps.undo)]
        hint = "Follow these steps:\n" + "\n".join(lines)  # JSON keeps the line breaks exact
    else:
        ctx.show(render.handler_steps(steps, undo=options.action == "uninstall"))
        hint = 'Follow the steps above (also in the README: "Dial from your browser").'
    return AppError("handler-manual-steps", message, hint=hint)


def _nothing_took_effect(
    options: HandlerOptions, ctx: AppContext, installed: desktop_handler.Installed
) -> AppError:
    """The rows shown (each scheme and why it is not ours), and ``handler-failed``; with
    --json the reasons travel in the error document's message."""
    hint = (
        "Do what the reason says, then run `sipgate-tui handler install` again; "
        "`sipgate-tui handler uninstall` removes the desktop entry it wrote."
    )
    lead = "sipgate-tui did not become the handler of tel:, callto:, sip: or sips: links"
    if options.json:
        reasons = render.handler_reasons(installed.changes)
        return AppError("handler-failed", f"{lead}: " + " ".join(reasons), hint=hint)
    ctx.show(render.handler_installed(installed))
    return AppError("handler-failed", f"{lead}: the reasons are above.", hint=hint)


def _installed_json(installed: desktop_handler.Installed) -> dict[str, object]:
    return {
        "ok": True,
        "desktopFile": str(installed.entry_path),
        "command": installed.command,
        "schemes": [
            {
                "scheme": change.scheme,
                "previous": change.before,
                "alreadyOurs": change.already_ours,
                "handler": change.handler,
                "tookEffect": change.took_effect,
                "problem": _problem_json(change.blocker),
            }
            for change in installed.changes
        ],
        "warnings": installed.warnings,
    }


def _problem_json(blocker: Blocker | None) -> dict[str, str] | None:
    return None if blocker is None else {"kind": blocker.kind, "message": blocker.text}


def _uninstalled_json(removed: desktop_handler.Uninstalled) -> dict[str, object]:
    return {
        "ok": True,
        "desktopFile": str(removed.entry_path),
        "wasInstalled": removed.installed,
        "schemes": [
            {"scheme": undo.scheme, "outcome": undo.outcome, "handler": undo.handler}
            for undo in removed.undone
        ],
        "leftoversRemoved": removed.leftovers,
    }


def _status_json(found: desktop_handler.HandlerStatus) -> dict[str, object]:
    return {
        "ok": True,
        "desktopFile": str(found.entry_path),
        "installed": found.installed,
        "command": found.command,
        "commandExists": found.command_exists,
        "stale": found.stale,
        "currentCommand": found.current_command,
        # Null, not empty, without xdg-mime: nobody can tell who handles the links then.
        "schemes": None
        if found.tools_missing
        else [
            {
                "scheme": state.scheme,
                "handler": state.handler,
                "ours": state.ours,
                "previous": state.previous,
                "problem": _problem_json(state.blocker),
            }
            for state in found.schemes
        ],
        "toolsMissing": found.tools_missing,
        "toolsNote": found.tools_note,
    }
