"""Pure functions that turn results and problems into Rich renderables. No I/O here.

User- and server-supplied text always goes through ``Text`` objects, never through Rich
markup, so a ``[bold]`` in a server message is shown as typed and cannot restyle our output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from rich import box
from rich.console import Group, RenderableType
from rich.constrain import Constrain
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from sipgate_tui.errors import AppError, ExitCode
from sipgate_tui.numbers import describe_device
from sipgate_tui.plan import CallPlan

MAX_WIDTH = 88  # readable line length; narrower terminals shrink panels further


def _panel(body: RenderableType, title: str, style: str) -> RenderableType:
    return Constrain(
        Panel(
            body,
            title=Text(title, style=f"bold {style}"),
            title_align="left",
            border_style=style,
            box=box.ROUNDED,
            padding=(0, 1),
        ),
        width=MAX_WIDTH,
    )


def _rows(rows: Iterable[tuple[str, Text | str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, value if isinstance(value, Text) else Text(value))
    return grid


def bullets(lines: Iterable[str]) -> Table:
    """A bulleted list whose wrapped lines stay indented under their bullet."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for line in lines:
        grid.add_row(" •", Text(line))
    return grid


def _hint(hint: str) -> RenderableType:
    """A hint: one paragraph, or a lead line followed by one bullet per further line."""
    lead, *more = hint.split("\n")
    first = Text.assemble(("What to do: ", "bold"), lead)
    return Group(first, bullets(line.lstrip("• ") for line in more)) if more else first


def who_rings(plan: CallPlan) -> str:
    """``your VoIP phone e0`` or ``+49 211 5550001 (through device e0)``."""
    if plan.ring_number is not None:
        return f"{plan.ring_number.pretty} (through device {plan.device_id})"
    return f"your {describe_device(plan.device_id)}"


def shown_number(plan: CallPlan) -> str:
    """The number the callee will see, in words."""
    if plan.caller_id is not None:
        return plan.caller_id.pretty
    return "the phone's own number"


def notes(lines: Iterable[str]) -> RenderableType:
    """Warnings worth reading before or after dialing, one per line."""
    return Group(*(Text.assemble(("! ", "bold yellow"), (line, "yellow")) for line in lines))


def _call_rows(plan: CallPlan) -> list[tuple[str, Text | str]]:
    # Numbers sit in their own cells, so a narrow terminal never breaks one across lines.
    return [
        ("Rings first", who_rings(plan)),
        ("Then calls", plan.callee.describe()),
        ("Shows", shown_number(plan)),
    ]


def call_summary(plan: CallPlan) -> RenderableType:
    """The panel shown before the confirmation: who rings, whom it calls, what is shown."""
    parts: list[RenderableType] = [_rows(_call_rows(plan))]
    if plan.notes:
        parts += [Text(""), notes(plan.notes)]
    return _panel(Group(*parts), "Ready to call", "cyan")


def call_accepted(plan: CallPlan, session_id: str, *, show_notes: bool = True) -> RenderableType:
    """Success: what happens next, and what to check if nothing rings.

    ``show_notes`` is False when the summary panel already showed the notes.
    """
    lead = Text.assemble(
        ("sipgate accepted the call. ", "bold"),
        "Pick up when your phone rings; sipgate then calls the number below.",
    )
    body = Group(lead, Text(""), _rows([*_call_rows(plan), ("Session", session_id)]))
    hints = Group(
        Text("Nothing rings within a minute?", style="bold"),
        bullets(
            [
                f"Is the phone {plan.device_id} switched on and connected (registered) to "
                "sipgate? sipgate accepts calls for phones that are offline, and then nothing "
                "rings.",
                f"Is {plan.device_id} really this phone's device id? In the sipgate web app, "
                f"open Phones and click the phone: the address ends in /devices/{plan.device_id}.",
            ]
        ),
    )
    parts: list[RenderableType] = [_panel(body, "✓ Call accepted", "green"), hints]
    if plan.notes and show_notes:
        parts.insert(1, notes(plan.notes))
    return Group(*parts)


def dry_run(
    method: str, url: str, headers: Mapping[str, str], body: Mapping[str, str]
) -> RenderableType:
    """The exact request that would be sent (secret masked); nothing was sent."""
    lines = Text(f"{method} {url}\n", style="bold")
    for name, value in headers.items():
        lines.append(f"{name}: ", style="bold")
        lines.append(f"{value}\n")
    lines.append("\n")
    lines.append(json.dumps(body, indent=2))
    footer = Text("Dry run: nothing was sent and no call was placed.", style="italic")
    return _panel(Group(lines, Text(""), footer), "Dry run", "blue")


def problem(error: AppError) -> RenderableType:
    """An error panel: what happened, what the server said (briefly), and what to do."""
    style = "yellow" if error.exit_code in (ExitCode.CANCELLED,) else "red"
    parts: list[RenderableType] = [Text(error.message)]
    if error.detail:
        parts.append(Text.assemble(("sipgate said: ", "bold"), error.detail))
    if error.hint:
        parts += [Text(""), _hint(error.hint)]
    return _panel(Group(*parts), error.title, style)


def cancelled(error: AppError) -> RenderableType:
    """One line for a user who cancelled: no panel, they know what they did."""
    return Text(error.message, style="yellow")


def internal_error(summary: str) -> RenderableType:
    """A bug: say so plainly and how to report it."""
    return problem(
        AppError(
            "internal-error",
            f"sipgate-tui hit a bug: {summary}",
            exit_code=ExitCode.INTERNAL,
            hint="Run the command again with --debug to see the traceback, and report it.",
        )
    )
