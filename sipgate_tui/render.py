"""Pure functions that turn results and problems into Rich renderables. No I/O here.

User- and server-supplied text always goes through ``Text`` objects, never through Rich
markup, so a ``[bold]`` in a server message is shown as typed and cannot restyle our output.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.constrain import Constrain
from rich.padding import Padding
from rich.panel import Panel
from rich.text import Text

from sipgate_tui.account_type import LABELS as ACCOUNT_LABELS
from sipgate_tui.credentials import IncompleteCredentials
from sipgate_tui.dial_string import DialString, Pause, Tones, WaitForEnter
from sipgate_tui.errors import AppError, ExitCode
from sipgate_tui.numbers import CALL_CAPABLE_DEVICE_KINDS, describe_device, pretty
from sipgate_tui.options import DEFAULT_REGION
from sipgate_tui.plan import CallPlan

if TYPE_CHECKING:
    from sipgate_tui.account import AccountNumber, Device
    from sipgate_tui.missed import MissedCaller
    from sipgate_tui.numbers import PhoneNumber
    from sipgate_tui.rtcm import ActiveCall, HistoryEntry
    from sipgate_tui.token_check import Scope
    from sipgate_tui.tones import ToneView
    from sipgate_tui.watch import WatchState

# The tones of the app's output; everything else is bold, dim or plain.
OK = "green"  # accepted, saved, connected
WARN = "yellow"  # notes and warnings worth reading, cancellations
ERROR = "red"  # problems
INFO = "cyan"  # summaries, questions answered, hints
DEMO = "magenta"  # the demo's badge and panels
NEUTRAL = "blue"  # a dry run: nothing happened

MAX_WIDTH = 88  # readable line length; narrower terminals shrink panels further


BADGE: ContextVar[str | None] = ContextVar("badge", default=None)


@contextmanager
def badge(label: str) -> Iterator[None]:
    """Mark every panel rendered inside this block (the demo: ``DEMO``)."""
    token = BADGE.set(label)
    try:
        yield
    finally:
        BADGE.reset(token)


def _panel(body: RenderableType, title: str, style: str) -> RenderableType:
    label = BADGE.get()
    heading = Text(title, style=f"bold {style}")
    if label:
        heading = Text.assemble((f" {label} ", f"bold reverse {DEMO}"), " ", heading)
    return _Framed(body, heading, style)


# A terminal narrower than this, or with fewer rows, gets plain lines instead of panels and
# columns: at 1-3 columns a panel's frame is all that shows (its words vanish), and in 4 rows
# the frame and blank lines push the outcome of a call off the screen.
TINY_COLUMNS = 20
TINY_ROWS = 5


def too_small(width: int, height: int) -> bool:
    """Whether a terminal of ``width`` x ``height`` gets plain lines (no panels, no spinner)."""
    return width < TINY_COLUMNS or height < TINY_ROWS


def _tiny(options: ConsoleOptions) -> bool:
    return too_small(options.max_width, options.size.height)


class _Framed:
    """A panel; in a tiny terminal its title and body as plain lines (the one place that
    decides, so every panel, the problems' too, stays readable there)."""

    def __init__(self, body: RenderableType, heading: Text, style: str) -> None:
        self.body, self.heading, self.style = body, heading, style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if _tiny(options):
            yield self.heading
            yield self.body
            return
        yield Constrain(
            Panel(
                self.body,
                title=self.heading,
                title_align="left",
                border_style=self.style,
                box=box.ROUNDED,
                padding=(0, 1),
            ),
            width=MAX_WIDTH,
        )


class _BySize:
    """One of two renderables: the usual one, or a shorter one of plain lines for a tiny
    terminal (where what matters must come last, so it is what the last rows show)."""

    def __init__(self, usual: RenderableType, tiny: RenderableType) -> None:
        self.usual, self.tiny = usual, tiny

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.tiny if _tiny(options) else self.usual


class _Gap:
    """A blank line between parts, left out in a tiny terminal (every row counts there)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not _tiny(options):
            yield Text("")


GAP = _Gap()

# A phone number as pretty() writes it (+49 1579 9912345): its spaces must not become line
# breaks. Rich breaks at any whitespace, the no-break space too, so while wrapping the spaces
# inside a number are a stand-in character of the same width, put back afterwards.
_NUMBER = re.compile(r"\+\d+(?: \d+)+")
_STAND_IN = "\ue000"


def wrap_keeping_numbers(console: Console, text: Text, width: int) -> list[Text]:
    """``text`` wrapped to ``width``, never inside a phone number (unless it is longer than
    the whole width, which leaves no choice), each line without trailing spaces."""
    plain = text.plain
    masked = _NUMBER.sub(lambda found: found.group().replace(" ", _STAND_IN), plain)
    source = text
    if masked != plain:
        source = text.copy()
        source.plain = masked  # the same length: the styles keep their places
    lines = []
    for line in source.wrap(console, max(width, 1), overflow="fold"):
        line.rstrip()
        if _STAND_IN in line.plain:
            line.plain = line.plain.replace(_STAND_IN, " ")
        lines.append(line)
    return lines


class _Unbroken:
    """A paragraph that wraps at the width it gets, never inside a phone number."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from wrap_keeping_numbers(console, self.text, options.max_width)


def para(text: Text | str, style: str = "") -> _Unbroken:
    """A paragraph of our words (and server text), wrapped without splitting a number."""
    return _Unbroken(text if isinstance(text, Text) else Text(text, style=style))


class _Rows:
    """Label and value pairs: labels in a column, each value wrapped under itself (a hanging
    indent), so a number never breaks across the label column.

    A two-column rich.table grid does the same, but rich.table alone costs a one-shot dial
    about 4 ms to import; this is all the success panel needs.
    """

    def __init__(
        self,
        rows: Iterable[tuple[str, Text | str]],
        *,
        label_style: str = "bold",
        gap: int = 2,
        joiner: str = ": ",
    ) -> None:
        self.rows = [(label, v if isinstance(v, Text) else Text(v)) for label, v in rows]
        self.label_style = label_style
        self.gap = gap
        self.joiner = joiner  # between label and value when there is no room for a column

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.rows:
            return
        width = max(len(label) for label, _ in self.rows) + self.gap
        available = options.max_width - width
        # The value column must hold the longest number whole; else "label: value" lines.
        numbers = [len(found) for _, value in self.rows for found in _NUMBER.findall(value.plain)]
        if available < max([12, *numbers]) or _tiny(options):
            for label, value in self.rows:
                line = Text.assemble((label.strip(), self.label_style), self.joiner, value)
                yield from wrap_keeping_numbers(console, line, options.max_width)
            return
        for label, value in self.rows:
            for index, line in enumerate(wrap_keeping_numbers(console, value, available)):
                first = index == 0
                yield Text.assemble(
                    (
                        label.ljust(width) if first else " " * width,
                        self.label_style if first else "",
                    ),
                    line,
                )


def _rows(rows: Iterable[tuple[str, Text | str]]) -> _Rows:
    return _Rows(rows)


def bullets(lines: Iterable[str]) -> _Rows:
    """A bulleted list whose wrapped lines stay indented under their bullet."""
    return _Rows([(" •", Text(line)) for line in lines], label_style="", gap=1, joiner=" ")


def _hint(hint: str) -> RenderableType:
    """A hint: one paragraph, or a lead line followed by one bullet per further line."""
    lead, *more = hint.split("\n")
    first = para(Text.assemble(("What to do: ", "bold"), lead))
    return Group(first, bullets(line.lstrip("• ") for line in more)) if more else first


def _words(text: str) -> str:
    """``text`` in lower case, each run of other characters than letters and digits one space."""
    return " " + re.sub(r"[\W_]+", " ", text.casefold()).strip() + " "


def _not_said_in(message: str, hint: str) -> str:
    """``hint`` without the sentences of its lead that ``message`` already says, so a panel
    says "the call may have been placed" once, whoever wrote the two."""
    lead, newline, more = hint.partition("\n")
    said = _words(message)
    kept = [
        sentence
        for sentence in re.split(r"(?<=[.!?])\s+", lead)
        if not (_words(sentence).strip() and _words(sentence) in said)
    ]
    if not kept:
        return more.lstrip("• ") if more else ""
    return " ".join(kept) + newline + more


def phone_noted(plan: CallPlan, about: str) -> bool:
    """Whether the plan's notes say its phone was ``about`` ("offline", "foreign": not in the
    user's list). The notes that say so are marked (``after_dial.PhoneNote``)."""
    return any(
        getattr(note, "about", None) == about and getattr(note, "device_id", None) == plan.device_id
        for note in plan.notes
    )


def who_rings(plan: CallPlan) -> str:
    """``your VoIP phone e0`` or ``+49 211 5550001 (through device e0)``; a phone the account
    showed is not the user's is never called "your"."""
    if plan.ring_number is not None:
        return f"{plan.ring_number.pretty} (through device {plan.device_id})"
    if phone_noted(plan, "foreign"):
        return f"{describe_device(plan.device_id)} (not one of your phones)"
    if plan.device_name:
        return f"your {plan.device_name} ({plan.device_id})"
    return f"your {describe_device(plan.device_id)}"


def phone_name(plan: CallPlan) -> str:
    """The phone that rings first by its name, without "your": ``Desk phone (e0)``."""
    if plan.ring_number is not None:
        return f"{plan.ring_number.pretty} (through device {plan.device_id})"
    # With --yes the name is known only from the look at the list beside the dial (a note).
    name = plan.device_name or next(
        (
            getattr(note, "name", None)
            for note in plan.notes
            if getattr(note, "device_id", None) == plan.device_id and getattr(note, "name", None)
        ),
        None,
    )
    return f"{name} ({plan.device_id})" if name else describe_device(plan.device_id)


def shown_number(plan: CallPlan) -> str:
    """The number the callee will see, in words."""
    if plan.caller_id is not None:
        return plan.caller_id.pretty
    return "the phone's own number"


def info(line: str) -> RenderableType:
    """A one-line hint, such as why a picker fell back to typed input."""
    return para(Text.assemble(("i ", f"bold {INFO}"), (line, INFO)))


def notes(lines: Iterable[str]) -> RenderableType:
    """Warnings worth reading before or after dialing, one per line."""
    return Group(*(para(Text.assemble(("! ", f"bold {WARN}"), (line, WARN))) for line in lines))


def _call_rows(plan: CallPlan) -> list[tuple[str, Text | str]]:
    # Numbers sit in their own cells, so a narrow terminal never breaks one across lines.
    return [
        ("Rings first", who_rings(plan)),
        (
            "Then calls",
            (f"{plan.callee_name} · " if plan.callee_name else "") + plan.callee.describe(),
        ),
        ("Shows", shown_number(plan)),
        *([("Channel", plan.channel)] if plan.channel else []),
        *([("From link", plan.link)] if plan.link else []),
        *([("Then dials", tones_in_words(plan.dial, plan.tone_pause))] if plan.dial else []),
    ]


def tones_in_words(dial: DialString, pause_seconds: float) -> str:
    """A dial string as people read it: ``4 s pause · 85512345678# · wait for Enter · 1#``."""
    words = []
    for step in dial.steps:
        if isinstance(step, Tones):
            words.append(step.digits)
        elif isinstance(step, Pause):
            words.append(f"{step.count * pause_seconds:g} s pause")
        else:
            words.append("wait for Enter")
    return " · ".join(words)


TONES_NOTE = (
    "The tones are sent once the call is connected (this needs a token with rtcm:write). "
    "If they cannot be sent, type them on your phone: {digits}"
)


def link_opened(number: PhoneNumber, dial: DialString) -> RenderableType:
    """A link opened from the desktop: whom it calls (and the tones it carries), before the
    questions; nothing is called before the summary is confirmed."""
    tones: list[str | tuple[str, str]] = (
        [" then dials ", (_by_hand(dial), "bold")] if dial.digits else []
    )
    return Text.assemble(
        ("→ ", f"bold {INFO}"),
        "A link asks to call ",
        (number.describe(), "bold"),
        *tones,
        ". Nothing is called before you confirm.",
    )


def call_summary(plan: CallPlan) -> RenderableType:
    """The panel shown before the confirmation: who rings, whom it calls, what is shown, and
    the tones dialled after connecting (always in full: the user may have to type them)."""
    parts: list[RenderableType] = [_rows(_call_rows(plan))]
    shown = plan.with_notes(TONES_NOTE.format(digits=_by_hand(plan.dial)) if plan.dial else None)
    if shown.notes:
        parts += [GAP, notes(shown.notes)]
    return _panel(Group(*parts), "Ready to call", INFO)


def call_accepted(
    plan: CallPlan,
    session_id: str,
    *,
    show_notes: bool = True,
    show_hints: bool = True,
    id_label: str = "Session",
) -> RenderableType:
    """Success: what happens next, and what to check if nothing rings.

    ``show_notes`` is False when the summary panel already showed the notes; ``show_hints``
    is False when the call is followed live, which explains a silent phone itself;
    ``id_label`` names the id sipgate answered with (a session on classic, a call on Neo).
    """
    lead = Text.assemble(
        ("sipgate accepted the call. ", "bold"),
        "Pick up when your phone rings; sipgate then calls the number below.",
    )
    rows = _rows([*_call_rows(plan), (id_label, session_id)])
    body = Group(para(lead), GAP, rows)
    # A tiny terminal: the notes, the rows, then the outcome as the last line, so it is what
    # the last rows show (the checklist does not fit there; the live view or `calls` tells).
    tiny = Group(
        *([notes(plan.notes)] if plan.notes and show_notes else []),
        rows,
        Text.assemble(("✓ Call accepted", f"bold {OK}"), " by sipgate."),
    )
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
    parts: list[RenderableType] = [_panel(body, "✓ Call accepted", OK)]
    if show_hints:
        parts.append(hints)
    if plan.notes and show_notes:
        parts.insert(1, notes(plan.notes))
    return _BySize(Group(*parts), tiny)


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
    return _panel(Group(lines, Text(""), footer), "Dry run", NEUTRAL)


def problem(error: AppError) -> RenderableType:
    """An error panel: what happened, what the server said (briefly), and what to do."""
    style = WARN if error.exit_code in (ExitCode.CANCELLED,) else ERROR
    return _panel(Group(*_problem_lines(error)), error.title, style)


def _problem_lines(error: AppError, *, style: str = "") -> list[RenderableType]:
    """What happened (in ``style``), what sipgate said (briefly), and what to do."""
    parts: list[RenderableType] = [para(error.message, style=style)]
    if error.detail:
        parts.append(para(Text.assemble(("sipgate said: ", "bold"), error.detail)))
    hint = _not_said_in(error.message, error.hint) if error.hint else ""
    if hint:
        parts += [GAP, _hint(hint)]
    return parts


def cancelled(error: AppError) -> RenderableType:
    """One line for a user who cancelled: no panel, they know what they did."""
    return Text(error.message, style=WARN)


def internal_error(summary: str) -> RenderableType:
    """A bug: say so plainly and how to report it."""
    return problem(
        AppError(
            "internal-error",
            f"sipgate-tui hit a bug: {summary}",
            hint="Run the command again with --debug to see the traceback, and report it.",
        )
    )


# -- credentials: login, status, logout ------------------------------------------------------


def login_intro(profile: str) -> RenderableType:
    """Where to create a token and which scopes to tick, before asking for it."""
    from rich.table import Table

    wide = Table.grid(padding=(0, 2))
    wide.add_column(style="bold", no_wrap=True)
    wide.add_column(no_wrap=True)
    wide.add_column(overflow="fold")
    narrow: list[RenderableType] = []
    from sipgate_tui.token_check import SCOPES  # status and login only: not on a dial's path
    for scope in SCOPES:
        need = Text("required", style="bold") if scope.required else Text("optional", style="dim")
        wide.add_row(scope.name, need, scope.used_for)
        narrow.append(Text.assemble((scope.name, "bold"), " ", need))
        narrow.append(Padding(Text(scope.used_for), (0, 0, 0, 2)))
    scopes = _ByWidth(wide, Group(*narrow), breakpoint=56)
    steps = Table.grid(padding=(0, 1))
    steps.add_column(no_wrap=True, style="bold")
    steps.add_column(overflow="fold")
    steps.add_row(
        "1.",
        "In the sipgate web app, open your user settings, then Personal Access Tokens, and "
        "create a token.",
    )
    steps.add_row("2.", Group(Text("Tick these scopes:"), scopes))
    steps.add_row("3.", "Copy the token id (token-…) and the token, and paste them below.")
    body = Group(
        Text("sipgate-tui needs a sipgate personal access token:"),
        steps,
        Text(""),
        Text(
            "The token is checked with sipgate first, then kept in your operating system's "
            "keyring, never in a plain-text file.",
            style="dim",
        ),
    )
    title = "Log in to sipgate" + ("" if profile == "default" else f" · profile {profile}")
    return _panel(body, title, INFO)


def scope_report(
    scopes: Mapping[str, bool | None],
    login_command: str,
    *,
    source: str | None = "keyring",
    account_type: str = "unknown",
) -> RenderableType:
    """One line per scope: granted, not granted, not checkable, or not used on this account
    type; then how to add scopes, and which matter on sipgate Neo."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(overflow="fold")
    narrow: list[RenderableType] = []
    missing = False
    from sipgate_tui.token_check import SCOPES  # status and login only: not on a dial's path
    for scope in SCOPES:
        granted = scopes.get(scope.name)
        unused = _unused_here(scope, account_type)
        if unused is not None:
            mark = Text("–", style="dim")
            what = Text.assemble(scope.used_for, (f"  ({unused})", "dim"))
        elif scope.probe is None:
            mark = Text("?", style=WARN)
            what = Text.assemble(
                scope.used_for, ("  (cannot be checked without side effects)", "dim")
            )
        elif granted:
            mark, what = Text("✓", style=OK), Text(scope.used_for)
        elif granted is None:
            mark = Text("?", style=WARN)
            what = Text.assemble(scope.used_for, ("  (could not be checked)", "dim"))
        else:
            missing = True
            mark = Text("✗", style=ERROR)
            # The verdict first: at the end it wrapped differently for every scope (sometimes
            # "not" on one line, "granted" on the next); at a line's start it never splits.
            what = Text.assemble(("not granted", ERROR), ": ", scope.used_for)
        grid.add_row(mark, scope.name, what)
        narrow.append(Text.assemble(mark, " ", (scope.name, "bold")))
        narrow.append(Padding(what, (0, 0, 0, 2)))
    footer = "Make sure sessions:calls:write is ticked: without it no call can be placed."
    footer += _neo_scopes_note(account_type, scopes.get("channels:read"))
    if missing and source == "env":
        footer += (
            " To add scopes, create a token with them and put it in SIPGATE_TOKEN_ID and "
            "SIPGATE_TOKEN."
        )
    elif missing:
        footer += f" To add scopes, create a token with them and run `{login_command}`."
    return Group(_ByWidth(grid, Group(*narrow), breakpoint=56), Text(footer, style="dim"))


def _unused_here(scope: Scope, account_type: str) -> str | None:
    """Why ``scope`` does not matter on this account type, or None when it may."""
    if account_type == "neo" and scope.on_neo:
        return scope.on_neo
    if scope.only_on and account_type in ("classic", "neo") and scope.only_on != account_type:
        return f"not used on {ACCOUNT_LABELS[account_type]} accounts"
    return None


def _neo_scopes_note(account_type: str, channels: bool | None) -> str:
    """What a sipgate Neo account (or one that may be Neo) needs beyond the classic scopes."""
    if account_type == "neo" and channels is not True:
        return (
            " On sipgate Neo, calls go through your phone's channel: tick channels:read, "
            "without it sipgate-tui cannot pick the channel (sipgate then uses the phone's "
            "default one) or list your recent calls."
        )
    if account_type == "neo":
        return (
            " On sipgate Neo, channels:read picks the channel a call goes through and lists "
            "your recent calls."
        )
    if account_type == "unknown":
        return (
            " If your account is on sipgate Neo (every account since September 2025), tick "
            "channels:read too; groups:read and phonelines:read let sipgate-tui tell which "
            "kind of account you have."
        )
    return ""


def account_line(account_type: str, why: str | None) -> Text:
    """``sipgate Neo · why``: the account type in words, and how it was found out."""
    label = ACCOUNT_LABELS.get(account_type, account_type)
    return Text.assemble(
        (label, "bold" if account_type != "unknown" else ""),
        (f" · {why}", "dim") if why else "",
    )


def login_done(
    *,
    profile: str,
    token_id: str,
    user_id: str,
    domain: str | None,
    stored_in: str,
    replaced: str | None,
    scopes: Mapping[str, bool | None],
    login_command: str,
    account_type: str = "unknown",
    account_why: str | None = None,
) -> RenderableType:
    """Success: the token works, where it is stored (the store's own words), what it may do,
    and the account type (``account_why``: how it was found out)."""
    rows: list[tuple[str, Text | str]] = [
        ("User", user_id + (f" · {domain}" if domain else "")),
        ("Account", account_line(account_type, account_why)),
        ("Token id", token_id),
        ("Stored in", stored_in),
    ]
    if replaced:
        rows.append(("Replaced", f"the token {replaced} stored before"))
    body = Group(
        Text("sipgate accepted the token.", style="bold"),
        Text(""),
        _rows(rows),
        Text(""),
        Text("What this token may do:", style="bold"),
        scope_report(scopes, login_command, account_type=account_type),
    )
    title = "✓ Logged in" + ("" if profile == "default" else f" · profile {profile}")
    return _panel(body, title, OK)


def status_report(
    *,
    profile: str,
    api_url: str,
    source: str | None,
    backend: str | None,
    token_id: str | None,
    token_masked: str | None,
    user_id: str | None,
    domain: str | None,
    valid: bool | None,
    scopes: Mapping[str, bool | None],
    problem: AppError | None,
    login_command: str,
    account_type: str | None = None,
    account_why: str | None = None,
) -> RenderableType:
    """Where the credentials come from, whether sipgate accepts them, what they may do, and
    the account type (None: no row, as when there are no credentials to ask about).

    ``valid`` is None when it could not be checked (no network, keyring trouble).
    """
    origin = _credentials_origin(source, backend, profile, problem)
    rows: list[tuple[str, Text | str]] = [("Credentials", origin)]
    if token_id:
        rows += [("Token id", token_id), ("Token", token_masked or "••••")]
    verdict = _sipgate_verdict(valid, source, user_id, domain)
    if verdict is not None:
        rows.append(("sipgate", verdict))
    if account_type is not None:
        rows.append(("Account", account_line(account_type, account_why)))
    rows.append(("API", api_url))
    parts: list[RenderableType] = [_rows(rows)]
    if valid:
        parts += [
            Text(""),
            Text("What this token may do:", style="bold"),
            scope_report(
                scopes, login_command, source=source, account_type=account_type or "unknown"
            ),
        ]
    if source == "env":
        parts += [
            Text(""),
            Text(
                "The environment takes precedence over any token stored in the keyring.",
                style="dim",
            ),
        ]
    if problem is not None:
        parts += [Text(""), *_problem_lines(problem, style=ERROR)]
    title = "sipgate-tui status" + ("" if profile == "default" else f" · profile {profile}")
    return _panel(Group(*parts), title, OK if valid else ERROR if valid is False else WARN)


def _credentials_origin(
    source: str | None, backend: str | None, profile: str, problem: AppError | None
) -> str:
    """Where status found the credentials, in words; a keyring that could not be read says
    why, never "none found" (there may well be a token in it)."""
    from sipgate_tui.credentials import (
        CredentialsCorrupted,
        KeyringFailed,
        KeyringLocked,
        KeyringTimedOut,
    )

    if source is None and isinstance(problem, IncompleteCredentials):
        return "incomplete (environment)"
    if source is None and problem is not None:
        unread = {
            KeyringLocked: "keyring locked: unlock it to read what it keeps",
            KeyringTimedOut: "keyring did not answer (it may be locked)",
            KeyringFailed: "keyring could not be read",
            CredentialsCorrupted: f"your keyring, but item sipgate-tui / {profile} is unreadable",
        }
        for kind, words in unread.items():
            if isinstance(problem, kind):
                return words
    origins = {
        "env": "the environment (SIPGATE_TOKEN_ID and SIPGATE_TOKEN)",
        "keyring": f"your keyring ({backend}), item sipgate-tui / {profile}",
    }
    return origins.get(source or "", "none found")


def _sipgate_verdict(
    valid: bool | None, source: str | None, user_id: str | None, domain: str | None
) -> Text | None:
    """What sipgate said about the token; None when there was no token to ask about."""
    if valid:
        who = f"{user_id}" + (f" · {domain}" if domain else "")
        return Text.assemble(("✓ ", OK), f"token accepted: user {who}")
    if valid is False and source:
        return Text.assemble(("✗ ", ERROR), "token not accepted")
    if valid is None and source:
        return Text.assemble(("? ", WARN), "could not be checked")
    return None


def logout_done(
    *, profile: str, removed: str | None, backend: str, env_set: bool
) -> RenderableType:
    """What logout removed (or that there was nothing), and whether env vars still apply."""
    if removed:
        lines = [
            Text.assemble(
                ("✓ ", OK),
                f"Removed the token {removed} of profile {profile} from your keyring ({backend}).",
            )
        ]
    else:
        lines = [Text(f"No token is stored for profile {profile}; nothing to remove.")]
    if removed:
        lines.append(
            Text(
                "The token itself stays valid at sipgate until you delete it in the web app "
                "(Personal Access Tokens).",
                style="dim",
            )
        )
    if env_set:
        lines.append(
            Text(
                "SIPGATE_TOKEN_ID / SIPGATE_TOKEN are set in your environment and are still "
                "used until you unset them.",
                style=WARN,
            )
        )
    return Group(*lines)


# -- account lists and settings ------------------------------------------------------------


def _yes_no(value: bool | None, yes: str, no: str, *, no_style: str = "") -> Text:
    if value is None:
        return Text("?", style="dim")
    return Text(yes, style=OK) if value else Text(no, style=no_style)


class _ByWidth:
    """One of two renderables, chosen by the width available when it is printed: tables of
    five columns are unreadable in 40 columns, where a list of short lines reads well."""

    def __init__(self, wide: RenderableType, narrow: RenderableType, breakpoint: int = 64):
        self.wide, self.narrow, self.breakpoint = wide, narrow, breakpoint

    def __rich_console__(self, console: object, options: ConsoleOptions) -> RenderResult:
        yield self.narrow if options.max_width < self.breakpoint else self.wide


# The API's device types in the words every other place uses for a device (by its id's
# letter: numbers.CALL_CAPABLE_DEVICE_KINDS), so `devices` never says "register".
_TYPE_LETTERS = {"REGISTER": "e", "MOBILE": "y", "EXTERNAL": "x"}
_OTHER_TYPES = {"APP": "desktop app"}


def device_kind(device_id: str, device_type: str | None) -> str:
    """``VoIP phone``, ``mobile phone``, ``external phone``, ``desktop app``: the type in
    words (by the API's type, else by the id's letter; an unknown type as sipgate wrote it)."""
    upper = (device_type or "").upper()
    letter = _TYPE_LETTERS.get(upper) or (device_id[:1] if not upper else "")
    if letter in CALL_CAPABLE_DEVICE_KINDS:
        return CALL_CAPABLE_DEVICE_KINDS[letter]
    return _OTHER_TYPES.get(upper) or (device_type or "?").lower()


def devices_table(devices: Iterable[Device]) -> RenderableType:
    """The user's devices; offline ones stand out, devices that cannot call are dimmed."""
    from rich.table import Table

    rows = list(devices)
    if not rows:
        return Text("No devices found for this user.")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("Id", "Name", "Type", "Online", "DND", "Phonelines"):
        table.add_column(column, overflow="fold")
    narrow: list[RenderableType] = []
    for device in rows:
        style = "" if device.can_call else "dim"
        online = _yes_no(device.online, "online", "OFFLINE", no_style=f"bold {ERROR}")
        table.add_row(
            Text(device.id, style="bold"),
            Text(device.alias),
            Text(device_kind(device.id, device.type)),
            online,
            _yes_no(device.dnd, "on", "off"),
            Text(", ".join(device.phonelines) or "–"),
            style=style,
        )
        details = Text.assemble(
            "   ",
            online,
            f" · {device_kind(device.id, device.type)}",
            " · do not disturb" if device.dnd else "",
            f" · {', '.join(device.phonelines)}" if device.phonelines else "",
            style=style,
        )
        narrow += [Text.assemble((device.id, "bold"), f"  {device.alias}", style=style), details]
    offline = [d.id for d in rows if d.online is False and d.can_call]
    parts: list[RenderableType] = [_ByWidth(table, Group(*narrow))]
    if offline:
        parts.append(
            Text(
                f"Offline phones ({', '.join(offline)}) do not ring: sipgate accepts calls for "
                "them, but nothing happens until they are connected.",
                style=WARN,
            )
        )
    parts.append(Text("Use an id with: sipgate-tui call NUMBER --device ID", style="dim"))
    return Group(*parts)


def numbers_table(numbers: Iterable[AccountNumber]) -> RenderableType:
    """The account's numbers, international format, with their type and where they ring."""
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Number", no_wrap=True)  # a number stays on one line
    for column in ("Type", "Rings at"):
        table.add_column(column, overflow="fold")
    rows = list(numbers)
    for number in rows:
        table.add_row(
            Text(pretty(number.e164), style="bold"),
            Text((number.type or "?").lower()),
            Text(number.rings or "–"),
        )
    if not rows:
        return Text("No numbers found for this account.")
    return Group(
        table,
        Text("Show one to the callee with: sipgate-tui call NUMBER --caller-id YOURS", style="dim"),
    )


def config_view(
    *,
    profile: str,
    config_path: str,
    state_path: str,
    values: Mapping[str, object],
    favourites: int,
    changed: str | None,
) -> RenderableType:
    """The profile's settings and the files they live in."""
    rows: list[tuple[str, Text | str]] = []
    for key, value in values.items():
        shown = (
            ("not set" if key != "region" else f"not set ({DEFAULT_REGION})")
            if value is None
            else ("true" if value is True else "false" if value is False else str(value))
        )
        rows.append((key, Text(shown, style="dim" if value is None else "")))
    rows.append(("favourites", f"{favourites} (see `sipgate-tui favourites`)"))
    body = Group(
        _rows(rows),
        Text(""),
        _rows([("Config file", config_path), ("Recent numbers", state_path)]),
        Text(""),
        Text(
            f"Change with: sipgate-tui config set KEY VALUE  (keys: {', '.join(values)})",
            style="dim",
        ),
    )
    title = f"Settings · profile {profile}" + (f" · {changed}" if changed else "")
    return _panel(body, title, OK if changed else INFO)


def favourites_view(favourites: Mapping[str, str], *, message: str | None) -> RenderableType:
    """The favourites as a table, after what just changed."""
    from rich.table import Table

    parts: list[RenderableType] = []
    if message:
        parts.append(Text.assemble(("✓ ", OK), message))
    if favourites:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        table.add_column("Name", style="bold")
        table.add_column("Number", no_wrap=True)  # a number stays on one line
        for name, number in sorted(favourites.items(), key=lambda item: item[0].lower()):
            table.add_row(Text(name), Text(pretty(number)))
        parts.append(table)
    else:
        parts.append(
            Text("No favourites yet. Add one: sipgate-tui favourites add mom +49 157 99912345")
        )
    return Group(*parts)


# -- the demo ------------------------------------------------------------------------------------


def demo_intro(*, why_recorded: str | None, token_id: str, neo: bool = False) -> RenderableType:
    """What the demo is, and that nothing real happens.

    ``why_recorded`` is None when the questions are asked for real, else why they cannot be;
    ``neo``: the simulated account is a sipgate Neo one (no live view there).
    """
    after = (
        "see how a sipgate Neo account places the call through a channel"
        if neo
        else "press h to hang up once the call connects"
    )
    how = (
        "Answer the questions as you would for a real call: type `mom` for a favourite, try "
        f"the offline Softphone to see the warning, and {after}. Ctrl-C ends the demo at any "
        "time."
        if why_recorded is None
        else f"This plays a recorded walkthrough: {why_recorded}."
    )
    body = Group(
        Text(
            "This is sipgate-tui against a simulated sipgate account on this machine.", style="bold"
        ),
        Text(""),
        bullets(
            [
                "No real call is placed, nothing goes over the network, and your keyring, "
                "config and environment variables are not used.",
                f"The login uses a visibly fake token ({token_id}); it lives in memory and is "
                "gone when the demo ends.",
                how,
            ]
        ),
    )
    return _panel(body, "sipgate-tui demo", DEMO)


def demo_answer(question: str, answer: str) -> RenderableType:
    """A question of the recorded walkthrough, answered as if typed."""
    label = BADGE.get()
    prefix = (f"{label} ", f"bold {DEMO}") if label else ""
    return Text.assemble(prefix, ("? ", f"bold {INFO}"), (question, "bold"), " ", (answer, WARN))


def demo_menu(question: str, titles: Iterable[str], chosen: int) -> RenderableType:
    """A picker of the recorded walkthrough, with the choice highlighted."""
    label = BADGE.get()
    prefix = (f"{label} ", f"bold {DEMO}") if label else ""
    lines = [
        Text.assemble(prefix, ("? ", f"bold {INFO}"), (question, "bold"), (" (↑/↓, Enter)", "dim"))
    ]
    for index, title in enumerate(titles):
        pointer = " » " if index == chosen else "   "
        lines.append(Text(pointer + title, style=f"bold {INFO}" if index == chosen else ""))
    return Group(*lines)


def demo_done(received: Mapping[str, object]) -> RenderableType:
    """The end: what the simulated sipgate received, and how to do it for real."""
    body = Group(
        Text("The simulated sipgate received this call request:"),
        Text(json.dumps(received, indent=2), style=INFO),
        Text(""),
        Text(
            "For real: create a personal access token in the sipgate web app, then run "
            "`sipgate-tui login` and `sipgate-tui call`.",
            style="bold",
        ),
    )
    return _panel(body, "Demo finished", DEMO)


# -- after the dial ------------------------------------------------------------------------------


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return (
        f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
        if hours
        else f"{rest // 60:02d}:{rest % 60:02d}"
    )


_SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def live_status(
    state: WatchState,
    now: float,
    plan: CallPlan,
    *,
    can_hang_up: bool,
    started: float,
    can_send_tones: bool = True,
) -> RenderableType:
    """The live line under the result: ringing (a spinner), or connected with its duration;
    under it the tones (sent, left, waiting for Enter, or stopped with what to type by hand).

    The spinner's frame comes from ``now`` (not from a Rich Spinner, which would restart
    with every redraw), so the line is a pure function of the clock.
    """
    keys = _live_keys(state, can_hang_up=can_hang_up, can_send_tones=can_send_tones)
    if state.phase == "connected" and state.call is not None:
        clock = _clock(now - (state.connected_at or now))
        others = state.call.other_numbers()
        connected = ", ".join(pretty(n) for n in others) or plan.callee.pretty
        callee_digits = plan.callee.e164.lstrip("+")
        if plan.callee_name and (not others or any(n.lstrip("+") == callee_digits for n in others)):
            # The name the plan knows (a favourite's, a contact's from the cache): no request.
            connected = f"{plan.callee_name} · {connected}"
        line = Text.assemble(
            ("● ", f"bold {OK}"), "Connected to ", (connected, "bold"), f" · {clock}"
        )
        short = Text(f"Connected {clock}")
    else:
        clock = _clock(now - started)
        frame = _SPINNER_FRAMES[int(max(now - started, 0) / 0.1) % len(_SPINNER_FRAMES)]
        # A phone known to be offline at the dial does not ring: say which, and that.
        waiting = (
            f"{phone_name(plan)} was offline when dialled: it rings only once it is "
            "connected to sipgate"
            if phone_noted(plan, "offline")
            else f"Ringing {who_rings(plan)}… pick up"
        )
        line = Text.assemble(
            (f"{frame} ", f"bold {INFO}"),
            waiting,
            (f" · {clock}   ", "dim"),
            ("q stop watching", "dim"),
        )
        # The state first: a 3-column terminal may show only the first few letters of it.
        short = Text(
            f"Offline: {plan.device_id} {clock}"
            if phone_noted(plan, "offline")
            else f"Ringing {plan.device_id} {clock}"
        )
    usual: RenderableType = (
        _WithKeys(line, keys) if state.phase == "connected" and state.call else para(line)
    )
    tones = _tones_line(state)
    if tones is not None:
        usual = Group(usual, para(tones))
        short = Text.assemble(short, " ", _tones_short(state))
    if state.note:
        usual = Group(usual, para(state.note, style=WARN))
        short = Text.assemble(short, " ", (state.note, WARN))
    return _BySize(usual, short)


# The same words as watch.CHECKING (not imported: render does not load the watch).
_CHECKING = "checking this is your call"


class _WithKeys:
    """The connected line with its keys hint after it, or under it where both do not fit
    on one row (a long name, a narrow terminal): the hint never breaks the line mid-way."""

    def __init__(self, line: Text, keys: str) -> None:
        self.line, self.keys = line, keys

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        gap, width = "   ", options.max_width
        if self.line.cell_len + len(gap) + len(self.keys) <= width:
            yield para(Text.assemble(self.line, gap, (self.keys, "dim")))
            return
        yield para(self.line)
        # Broken between keys, not inside one ("q" here, "leave" on the next row).
        keys = self.keys.split(" · ")
        rows = [""]
        for index, key in enumerate(keys):
            joined = f"{rows[-1]} · {key}" if rows[-1] else key
            ending = 0 if index == len(keys) - 1 else 2  # the " ·" that may end the row
            if rows[-1] and len(joined) + ending > width:
                rows[-1] += " ·"
                rows.append(key)
            else:
                rows[-1] = joined
        for row in rows:
            yield para(Text(row, style="dim"))


def _live_keys(state: WatchState, *, can_hang_up: bool, can_send_tones: bool) -> str:
    """The keys the live line offers: the keypad and Enter only once connected, neither the
    keypad nor h while it is unclear which call is ours, and no h while it is being checked.
    Short, so the line fits 100 columns with all of them."""
    if state.phase != "connected":
        return "h hang up · q leave it running" if can_hang_up else "q leave it running"
    # Enter lets the tones up to the next ";" go, not all the rest.
    keys = ["Enter: next tones"] if state.tones is not None and state.tones.waiting else []
    if can_send_tones and not state.ambiguous:
        keys.append("0-9*# tones")
    if can_hang_up and not state.ambiguous and not state.checking:
        keys.append("h hang up")
    return " · ".join([*keys, "q leave"]) if keys else "q leave it running"


def _tones_line(state: WatchState) -> Text | None:
    """The tones under the live line: what went out, what is left and what it waits for
    (a request out, the check that the call is ours); None when there are none."""
    view, connected = state.tones, state.phase == "connected"
    if view is None or (not view.rest and not view.sent and not view.problem):
        return _keypad_line(state, view.keyed if view else "")
    keyed = Text.assemble(
        (f" · keypad {view.keyed}", "dim") if view.keyed else "",
        (f" · keypad {state.held} waits", "dim") if state.held else "",
    )
    if view.problem:
        return Text.assemble(
            ("✗ ", f"bold {WARN}"),
            f"Tones stopped: {view.problem}. Dial ",
            (_by_hand(view.by_hand), "bold"),
            " on your phone.",
            keyed,
        )
    if not view.rest:
        out = (f" · sending {state.sending}…", "dim") if state.sending else ""
        return Text.assemble(
            ("✓ ", f"bold {OK}"), "Tones sent: ", (view.sent, "bold"), keyed, out
        )
    if not connected:
        return Text.assemble(("Tones once connected: ", "dim"), (view.left, "bold"))
    if state.sending:
        after = f"sending {state.sending}…"
    elif state.checking and view.next_in is None:  # a pause still running says more
        after = f"{_CHECKING}…"
    elif view.waiting:
        after = "waiting for Enter"
    elif view.next_in is not None:
        after = f"next in {math.ceil(view.next_in)} s"
    else:
        after = "sending"
    return Text.assemble(
        "Tones: sent ",
        (view.sent or "none yet", "bold"),
        " · left ",
        (view.left, "bold"),
        f" · {after}",
        keyed,
    )


def _keypad_line(state: WatchState, keyed: str) -> Text | None:
    """Keypad tones without a dial string: sent, out, or held while the call is checked."""
    if state.held:
        return Text.assemble(("Keypad ", "dim"), (state.held, "bold"), f" waits: {_CHECKING}…")
    if state.sending:
        sent = ("", (f" · sent {keyed}", "dim"))[bool(keyed)]
        return Text.assemble(("Keypad: ", "dim"), f"sending {state.sending}…", sent)
    if keyed:
        return Text.assemble(("Keypad tones sent: ", "dim"), (keyed, "bold"))
    return None


def _tones_short(state: WatchState) -> Text:
    """The tones in a tiny terminal: what matters next, in as few cells as possible."""
    view, connected = state.tones, state.phase == "connected"
    if view is not None and view.problem:
        return Text(f"Dial {view.by_hand.digits} by hand", style=WARN)
    if state.checking and (state.held or (view is not None and view.rest)):
        return Text("Checking call")
    if state.sending:
        return Text(f"Sending {state.sending}")
    if view is None:
        return Text("")
    if not view.rest:
        return Text(f"Sent {view.sent}{view.keyed}")
    if view.waiting:
        return Text(f"Enter: {view.left}")
    return Text(f"Tones {view.left}" if not connected else f"Sent {view.sent} left {view.left}")


def tones_sent(view: ToneView) -> RenderableType:
    """After the live view: which tones went out (its line is gone by then), and which of
    the dial string did not before the call ended (and why, when they stopped)."""
    keyed = ("", (f" · keypad {view.keyed}", "dim"))[bool(view.keyed)]
    missing = view.by_hand if view.problem else view.rest
    if not missing.digits:
        return Text.assemble(
            ("✓ ", f"bold {OK}"), "Tones sent: ", (view.sent or "none", "bold"), keyed
        )
    if view.problem:
        return Text.assemble(
            ("Tones stopped: ", f"bold {WARN}"),
            view.problem,
            f" (sent: {view.sent})" if view.sent else "",
            keyed,
            "; not sent before the end: ",
            (_by_hand(missing), "bold"),
            ".",
        )
    return Text.assemble(
        "Tones sent: ",
        (view.sent or "none", "bold"),
        keyed,
        "; not sent before the end: ",
        (_by_hand(missing), "bold"),
        ".",
    )


def tones_stopped(view: ToneView) -> RenderableType:
    """After the live view: the tones stopped (a refusal, an unclear call), what went out
    and what to type on the phone."""
    return Text.assemble(
        ("Tones stopped: ", f"bold {WARN}"),
        view.problem or "",
        (f" (sent: {view.sent})" if view.sent else "") + ". Dial ",
        (_by_hand(view.by_hand), "bold"),
        " on your phone.",
    )


def _by_hand(dial: DialString) -> str:
    """The tones to type on the phone: the digits, and where a ";" waits, "then, when
    asked," (pauses need no words: a person waits for the prompt anyway)."""
    groups: list[str] = [""]
    for step in dial.steps:
        if isinstance(step, WaitForEnter):
            groups.append("")
        elif isinstance(step, Tones):
            groups[-1] += step.digits
    return " then, when asked, ".join(group for group in groups if group)


def tones_by_hand(dial: DialString, why: str, *, connected: bool = False) -> RenderableType:
    """Tones that cannot be sent at all (no live view: no terminal, --no-wait, sipgate Neo,
    GET /calls refused), or were not all sent: what to type on the phone (once connected,
    unless ``connected`` already), and ``why``."""
    return Text.assemble(
        ("Tones: ", f"bold {WARN}"),
        "dial ",
        (_by_hand(dial), "bold"),
        f" on your phone{'' if connected else ' once connected'} ({why}).",
    )


def watch_result(
    state: WatchState, now: float, plan: CallPlan, *, timeout: float
) -> RenderableType:
    """How the watch ended (``timeout``: how long it waited for the call to connect)."""
    call_id = state.call.call_id if state.call else None
    took = _clock(now - state.connected_at) if state.connected_at is not None else None
    if state.phase == "ended":
        return Text.assemble(("✓ ", OK), f"The call ended after {took}.")
    if state.phase == "hung-up":
        return Text.assemble(("✓ ", OK), f"You hung up after {took}.")
    if state.phase == "left" and call_id and state.ambiguous:
        # Two new calls to the same number: the id may be a colleague's call, so none is named.
        return Text.assemble(
            ("● ", OK),
            "The call goes on. Two calls to this number are active: ",
            ("sipgate-tui calls", "bold"),
            " shows which is yours, and ",
            ("sipgate-tui hangup CALL_ID", "bold"),
            " ends it.",
        )
    if state.phase == "left" and call_id:
        return Text.assemble(
            ("● ", OK),
            "The call goes on. Hang up later with: ",
            (f"sipgate-tui hangup {call_id}", "bold"),
        )
    if state.phase == "left":
        return Group(
            Text("Stopped watching; the call was accepted and may still connect.", style="dim"),
            Text(
                "If it does: `sipgate-tui calls` shows it, `sipgate-tui hangup` ends it.",
                style="dim",
            ),
        )
    if state.phase == "lost":
        return Text(f"Stopped watching: {state.note}. The call itself was accepted.", style=WARN)
    return no_call_appeared(plan, timeout)


def no_call_appeared(plan: CallPlan, timeout: float) -> RenderableType:
    """Nothing connected within ``timeout`` seconds: the seed's first troubleshooting entry,
    as a checklist."""
    phone = phone_name(plan)
    offline = phone_noted(plan, "offline")
    lead = f"sipgate accepted the call, but no call connected within {timeout:.0f} s." + (
        f" {phone} was offline when dialled, so it could not ring." if offline else ""
    )
    body = Group(
        para(lead),
        GAP,
        bullets(
            [
                f"Connect {phone} to sipgate (switch it on, check its network), then call again."
                if offline
                else f"Did {phone} ring? If it rang and nobody answered, try again.",
                f"Is the phone {plan.device_id} switched on and connected (registered)? sipgate "
                "accepts calls for offline phones, and then nothing rings. "
                "`sipgate-tui devices` shows which phones are online.",
                f"Is {plan.device_id} really this phone's device id? In the sipgate web app, open "
                f"Phones: the phone's address ends in /devices/{plan.device_id}.",
            ]
        ),
    )
    return _panel(body, "No call connected", WARN)


def no_live_view(account_type: str) -> RenderableType:
    """Where live call status does not exist yet: one line instead of the live view."""
    return Text(
        f"Live call status is not available for {account_type} accounts yet (sipgate lists "
        "no active calls there); `sipgate-tui config set live-view on` tries it anyway.",
        style="dim",
    )


def no_live_view_because(reason: str) -> RenderableType:
    """The live view could not start: one line that says why (the call was accepted)."""
    return Text(f"No live status for this call: {reason}.", style="dim")


def rtcm_tip() -> RenderableType:
    """Without rtcm:read: one line on what it would show."""
    return Text(
        "Tip: with a token that has rtcm:read (and rtcm:write), sipgate-tui shows here "
        "when the call connects, and can hang up.",
        style="dim",
    )


def calls_table(
    calls: Iterable[ActiveCall],
    now: float | None = None,
    seen: Mapping[str, float] | None = None,
    *,
    watching: bool = False,
    names: NameOf | None = None,
) -> RenderableType:
    """The account's established calls; ``watching`` adds how to stop the live refresh;
    ``names`` gives a contact's name for a number.

    One participant per line and the id never wrapped, so each id stays whole and on the line
    of its call (copyable, and findable with grep); a list instead of columns when narrow.
    """
    from rich.table import Table

    rows = list(calls)
    hang_up = "Hang up with: sipgate-tui hangup CALL_ID"
    footer = Text("Refreshing every 2 s · q stops" if watching else hang_up, style="dim")
    if not rows:
        return Group(Text("No active calls."), footer) if watching else Text("No active calls.")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    # The id whole, always (it is what `hangup` takes); the participants give way first.
    table.add_column("Call id", no_wrap=True, min_width=max(len(c.call_id) for c in rows))
    table.add_column("Participants", no_wrap=True, overflow="ellipsis")
    table.add_column("Duration", no_wrap=True, min_width=8)
    table.add_column("State", overflow="fold", min_width=6)
    narrow: list[RenderableType] = []
    for call in rows:
        people = [
            _named(p.number, names) + (" (you)" if p.owner else "")
            for p in call.participants
            if p.number
        ] or ["–"]
        since = (seen or {}).get(call.call_id)
        duration = _clock(now - since) if now is not None and since is not None else "–"
        flags = [
            name
            for name, on in (
                ("on hold", call.hold),
                ("muted", call.muted),
                ("recording", call.recording),
            )
            if on
        ]
        state = ", ".join(flags) or "active"
        table.add_row(
            Text(call.call_id, style="bold"), Text("\n".join(people)), Text(duration), Text(state)
        )
        narrow += [Text(call.call_id, style="bold"), Text(f"  {state} · {duration}")]
        narrow += [para(f"  {person}") for person in people]
    return Group(_ByWidth(table, Group(*narrow)), footer)


def _local_time(created: str | None) -> str:
    """An API timestamp (ISO 8601, UTC) in the local time zone, to the minute."""
    if not created:
        return "?"
    try:
        moment = datetime.datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return created[:25]
    if moment.tzinfo is None:  # no zone given: sipgate's times are UTC
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    try:
        return moment.astimezone().strftime("%Y-%m-%d %H:%M")
    except (OverflowError, ValueError, OSError):  # year 1 or 9999 in a far zone: shown raw
        return created[:25]


# sipgate's words for how a call ended, in the README's ("answered or not"); others lowercased.
HISTORY_STATUS_WORDS = {
    "pickup": "answered",
    "nopickup": "not answered",
    "busy": "busy",
    "failure": "failed",
    "forward": "forwarded",
    "voicemail": "voicemail",
}


def history_status(status: str | None) -> str:
    """How a history entry's call ended, in words ("answered", "not answered", ...)."""
    from sipgate_tui.text import one_line

    raw = one_line(status or "?", 30).lower()
    return HISTORY_STATUS_WORDS.get(raw, raw)


NameOf = Callable[[str | None], str | None]  # a number's contact name, if one has it


def _named(number: str, names: NameOf | None) -> str:
    """A number as lists show it: "Ada Lovelace (mobile) · +49 1579 9912347" when a contact
    has it (the name cleaned), else the number alone."""
    from sipgate_tui.text import one_line

    name = names(number) if names is not None else None
    return f"{one_line(name, 60)} · {pretty(number)}" if name else pretty(number)


def history_table(
    entries: Iterable[HistoryEntry], *, names: NameOf | None = None
) -> RenderableType:
    """The last outgoing calls in sipgate's order, times in the local time zone; ``names``
    gives a contact's name for a number."""
    from rich.table import Table

    rows = list(entries)
    if not rows:
        return Text("No outgoing calls in the history.")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("To", no_wrap=True, overflow="ellipsis")
    table.add_column("When", no_wrap=True, min_width=16)
    table.add_column("Duration", no_wrap=True, min_width=8)
    table.add_column("Status", no_wrap=True, min_width=12)
    narrow: list[RenderableType] = []
    for entry in rows:
        when = _local_time(entry.created)
        # A call nobody picked up has no length: its 0 (or none) is shown as "–", not 00:00.
        connected = entry.duration is not None and entry.answered is not False
        duration = _clock(entry.duration) if connected and entry.duration is not None else "–"
        status = history_status(entry.status)
        target = _named(entry.target, names)
        table.add_row(Text(target, style="bold"), Text(when), Text(duration), Text(status))
        narrow.append(para(Text.assemble((target, "bold"), f"  {status}")))
        narrow.append(Text(f"  {when} · {duration}"))
    return _ByWidth(table, Group(*narrow), breakpoint=56)


def _missed_when(
    created: str | None, when: datetime.datetime | None, now: datetime.datetime | None
) -> str:
    """The last day's calls as "14:05 (10 min ago)" (the age says which day), older ones as
    the local date and time."""
    from sipgate_tui.missed import ago_words  # the suggestions' words, said the same way

    ago = ago_words(when, now)
    if when is not None and now is not None and ago and (now - when).total_seconds() < 86400:
        try:
            return f"{when.astimezone():%H:%M} ({ago})"
        except (OverflowError, ValueError, OSError):  # the calendar's edge: shown raw below
            pass
    return _local_time(created)


def _missed_caller(caller: MissedCaller, names: NameOf | None = None) -> tuple[Text, str]:
    """Who called, cleaned (the number pretty, else the caller as sipgate wrote it, dimmed),
    and whether they were called back: "yes", "no", or "–" when nobody can call them."""
    from sipgate_tui.text import one_line

    if caller.number is not None:
        # Named as every list names a number: the contact's label (or sipgate's alias) first.
        label = (names(caller.number) if names is not None else None) or caller.name
        shown = _named(caller.number, lambda number: label)
        return Text(shown, style="bold"), "yes" if caller.called_back else "no"
    if caller.anonymous:
        return Text("anonymous (number withheld)", style="dim"), "–"
    who = Text(f"{one_line(caller.raw, 40)} (not a number to call)", style="dim")
    if caller.name:
        who.append(f" · {one_line(caller.name, 60)}")
    return who, "–"


def missed_table(
    callers: Iterable[MissedCaller],
    now: datetime.datetime | None = None,
    *,
    names: NameOf | None = None,
) -> RenderableType:
    """Missed incoming calls, one line per caller, newest first: who, when (local time, and
    how long ago when ``now`` is given), how many times, whether called back. Missed calls
    have no duration, so none is shown."""
    from rich.table import Table

    rows = list(callers)
    if not rows:
        return Text("No missed calls in the history.")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    # "From" is capped so 80 columns hold the table: a long name is cut, never the answers.
    table.add_column("From", no_wrap=True, overflow="ellipsis", max_width=34)
    table.add_column("When", no_wrap=True)
    table.add_column("Times", no_wrap=True, justify="right")
    table.add_column("Called back", no_wrap=True)
    narrow: list[RenderableType] = []
    for caller in rows:
        who, back = _missed_caller(caller, names)
        when = _missed_when(caller.newest.created, caller.newest.when, now)
        style = WARN if back == "no" else OK if back == "yes" else "dim"
        table.add_row(who, Text(when), Text(f"{caller.count}×"), Text(back, style=style))
        times = "1 call" if caller.count == 1 else f"{caller.count} calls"
        called = {"yes": "called back", "no": "not called back"}.get(back, "cannot call back")
        narrow.append(para(who))
        narrow.append(para(Text.assemble(f"  {when} · {times} · ", (called, style))))
    waiting = [caller for caller in rows if caller.number is not None and not caller.called_back]
    parts: list[RenderableType] = [_ByWidth(table, Group(*narrow), breakpoint=64)]
    if waiting:
        parts.append(Text(f"Call back with: sipgate-tui call {waiting[0].number}", style="dim"))
    return Group(*parts)


def hung_up(call_ids: Iterable[str], missing: Iterable[str]) -> RenderableType:
    """What hangup did."""
    lines = [Text.assemble(("✓ ", OK), f"Hung up {call_id}.") for call_id in call_ids]
    lines += [Text(f"{call_id} was no longer active.", style=WARN) for call_id in missing]
    return Group(*lines) if lines else Text("No active calls to hang up.")


# -- contacts ------------------------------------------------------------------------------------
# `sipgate-tui contacts`. A phonebook can hold ten thousand contacts: a Rich Table of that many
# rows takes over ten seconds to lay out, so the rows are laid out here, once, as plain lines
# (the columns measured in terminal cells), and printed as segments.

CONTACTS_NARROW = 60  # columns: below this, a list instead of the table
_NOT_DIALLABLE = "Numbers marked ✗ cannot be dialled: sipgate-tui cannot read them as numbers."


class _Lines:
    """Lines of (text, style) pieces, printed as they are: no wrapping, no measuring."""

    def __init__(self, lines: list[list[tuple[str, str]]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.cells import cell_len
        from rich.segment import Segment
        from rich.style import Style

        styles: dict[str, Style] = {}
        width = options.max_width
        for line in self.lines:
            segments = []
            for text, style in line:
                if style not in styles:
                    styles[style] = Style.parse(style) if style else Style()
                segments.append(Segment(text, styles[style]))
            if sum(cell_len(text) for text, _ in line) > width:  # a long name in the list
                segments = Segment.adjust_line_length(segments, width, pad=False)
            yield from segments
            yield Segment.line()


def _fit(text: str, width: int) -> str:
    """``text`` cut (with "…") or padded to exactly ``width`` terminal cells."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) > width:
        return set_cell_size(text, max(0, width - 1)) + "…" if width > 0 else ""
    return set_cell_size(text, width)


def _contact_rows(contacts: Iterable[Contact]) -> list[tuple[str, str, str, str, str, bool]]:
    """(name, organization, number, type, phonebook, diallable) per number; a contact without
    numbers gets one row with "–". Everything cleaned for the terminal here, whatever the
    source (the API or the cache file)."""
    from sipgate_tui.contacts import pretty_number
    from sipgate_tui.text import one_line

    rows = []
    for contact in contacts:
        name = one_line(contact.name, 60) or "(no name)"
        organization = one_line(contact.organization, 60)
        organization = "" if organization == name else organization
        phonebook = one_line(contact.phonebook, 12) or "?"
        numbers = contact.numbers or ()
        if not numbers:
            rows.append((name, organization, "–", "", phonebook, True))
        for number in numbers:
            # Marked in words as well as dimmed: piped, with NO_COLOR or in the list layout the
            # dimming is gone, and an undiallable number must still say so.
            shown = pretty_number(number.e164) if number.e164 else f"{one_line(number.raw, 20)} ✗"
            kind = one_line(number.type, 20)
            rows.append((name, organization, shown, kind, phonebook, number.e164 is not None))
    return rows


class _ContactsByWidth:
    """The table or, below CONTACTS_NARROW columns, the list; chosen when printed."""

    def __init__(self, rows: list[tuple[str, str, str, str, str, bool]]) -> None:
        self.rows = rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if width < CONTACTS_NARROW:
            yield _Lines(_contacts_list(self.rows))
        else:
            yield _Lines(_contacts_table(self.rows, width))


def _contacts_table(
    rows: list[tuple[str, str, str, str, str, bool]], width: int
) -> list[list[tuple[str, str]]]:
    from rich.cells import cell_len

    headers = ("Name", "Number", "Type", "Phonebook")
    number_w = max([cell_len(headers[1])] + [min(cell_len(r[2]), 24) for r in rows])
    type_w = max([cell_len(headers[2])] + [min(cell_len(r[3]), 16) for r in rows])
    book_w = max([cell_len(headers[3])] + [min(cell_len(r[4]), 12) for r in rows])
    longest = max([cell_len(headers[0])] + [cell_len(_with_org(r)) for r in rows])
    name_w = max(10, min(longest, width - number_w - type_w - book_w - 6))
    widths = (name_w, number_w, type_w, book_w)
    lines = [[(_columns(headers, widths), "bold")]]
    lines.append([("  ".join("─" * w for w in widths), "dim")])
    previous = None
    for row in rows:
        style = "" if row[5] else "dim"
        tail = "  " + _columns(row[2:5], widths[1:]).rstrip()
        if row[:2] == previous:  # the contact's further numbers: its name once
            lines.append([(" " * name_w, ""), (tail, style)])
            continue
        previous = row[:2]
        lines.append([*_name_cell(row[0], row[1], name_w), (tail, style)])
    return lines


def _name_cell(name: str, organization: str, width: int) -> list[tuple[str, str]]:
    """The name in bold, then " · organization" dimmed if there is room; ``width`` cells."""
    from rich.cells import cell_len

    room = width - cell_len(name)
    if not organization or room < 5:
        return [(_fit(name, width), "bold")]
    return [(name, "bold"), (_fit(" · " + organization, room), "dim")]


def _with_org(row: tuple[str, str, str, str, str, bool]) -> str:
    return f"{row[0]} · {row[1]}" if row[1] else row[0]


def _columns(cells: Iterable[str], widths: Iterable[int]) -> str:
    return "  ".join(_fit(cell, width) for cell, width in zip(cells, widths, strict=False))


def _contacts_list(rows: list[tuple[str, str, str, str, str, bool]]) -> list[list[tuple[str, str]]]:
    lines: list[list[tuple[str, str]]] = []
    previous = None
    for row in rows:
        if row[:2] != previous:
            organization = f" · {row[1]}" if row[1] else ""
            lines.append([(row[0], "bold"), (organization, "dim"), (f" · {row[4]}", "dim")])
        previous = row[:2]
        kind = f"  {row[3]}" if row[3] else ""
        lines.append([("  " + row[2], "" if row[5] else "dim"), (kind, "dim")])
    return lines


def contacts_list(
    contacts: Sequence[Contact], *, query: str | None, total: int, age: float | None
) -> RenderableType:
    """The contacts found (all of them without ``query``): name, number, type, phonebook.

    ``total``: how many the phonebooks hold; ``age``: seconds since they were fetched (None:
    fetched just now), said below the list with how to refresh.
    """
    from sipgate_tui.text import one_line

    where = "fetched just now" if age is None else f"from the cache, fetched {_ago(age)}"
    if not contacts:
        if query is None or total == 0:
            message = "No contacts in this account's phonebooks."
        else:
            message = f"No contact matches '{one_line(query, 40)}' (of {total})."
        return Group(Text(message), Text(where.capitalize() + ".", style="dim"))
    rows = _contact_rows(contacts)
    parts: list[RenderableType] = [_ContactsByWidth(rows)]
    if not all(row[5] for row in rows):
        parts.append(Text(_NOT_DIALLABLE, style="dim"))
    count = f"{len(contacts)} of {total} contacts" if query is not None else f"{total} contacts"
    refresh = "" if age is None else "; --refresh fetches them again"
    parts.append(Text(f"{count}, {where}{refresh}.", style="dim"))
    return Group(*parts)


def _ago(seconds: float) -> str:
    if seconds < 90:
        return "a minute ago" if seconds >= 45 else "just now"
    if seconds < 5400:
        return f"{round(seconds / 60)} min ago"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"


def contacts_note(message: str) -> RenderableType:
    """A note about the contacts (a cache that could not be written, an old list shown)."""
    return Text(message, style=WARN)


if TYPE_CHECKING:
    from collections.abc import Sequence

    from sipgate_tui.contacts import Contact


# -- profiles ------------------------------------------------------------------------------------


class ProfileRow:
    """One line of ``profiles`` or ``status --all``: the profile, its token id and masked
    token (None: none known), where it is kept (in words), whether commands use it now, and
    (``status --all``) what sipgate said about it."""

    __slots__ = (
        "domain",
        "in_use",
        "name",
        "token_id",
        "token_masked",
        "user_id",
        "valid",
        "where",
    )

    def __init__(
        self,
        *,
        name: str,
        token_id: str | None,
        token_masked: str | None,
        where: str,
        in_use: bool,
        valid: bool | None = None,
        user_id: str | None = None,
        domain: str | None = None,
    ) -> None:
        self.name, self.token_id, self.token_masked = name, token_id, token_masked
        self.where, self.in_use = where, in_use
        self.valid, self.user_id, self.domain = valid, user_id, domain


def profiles_table(
    rows: Sequence[ProfileRow], *, in_use: str, no_keyring: bool, none_stored: bool
) -> RenderableType:
    """The stored profiles (the one in use marked ▸), and which one commands use and why;
    ``none_stored``: the keyring answered for every profile, and holds none."""
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("", "Profile", "Token id", "Token", "Stored in"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            Text("▸", style=INFO) if row.in_use else Text(""),
            Text(row.name, style="bold"),
            Text(row.token_id or "–"),
            Text(row.token_masked or "–"),
            Text(row.where, style="" if row.token_id else "dim"),
        )
    parts: list[RenderableType] = [table, Text(in_use, style="dim")]
    if no_keyring:
        parts.append(
            Text(
                "No usable keyring was found, so no profile can have a stored token here.",
                style=WARN,
            )
        )
    elif none_stored:
        parts.append(Text("No profile has a stored token yet: `sipgate-tui login` stores one."))
    return Group(*parts)


def status_all_table(rows: Sequence[ProfileRow], *, in_use: str) -> RenderableType:
    """``status --all``: each stored profile's token, checked with sipgate."""
    from rich.table import Table

    if not rows:
        return Text("No profile has a stored token: `sipgate-tui login` stores one.")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("", "Profile", "Token id", "Token", "sipgate"):
        table.add_column(column, overflow="fold")
    for row in rows:
        verdict = _sipgate_verdict(row.valid, "keyring", row.user_id, row.domain)
        table.add_row(
            Text("▸", style=INFO) if row.in_use else Text(""),
            Text(row.name, style="bold"),
            Text(row.token_id or "–"),
            Text(row.token_masked or "–"),
            verdict if row.token_id and verdict is not None else Text(row.where, style=WARN),
        )
    return Group(table, Text(in_use, style="dim"))


# -- the desktop link handler --------------------------------------------------------------------

if TYPE_CHECKING:
    from sipgate_tui.desktop_handler import HandlerStatus, Installed, SchemeChange, Uninstalled
    from sipgate_tui.handler_diagnosis import Blocker
    from sipgate_tui.handler_steps import ManualSteps

TRY_LINK = "xdg-open 'tel:+49 211 5550003'"


def _desktop_app(desktop_id: str | None) -> str:
    """A handler by its desktop id; ours by name."""
    from sipgate_tui.desktop_entry import DESKTOP_ID

    if desktop_id is None:
        return "no app"
    return "sipgate-tui" if desktop_id == DESKTOP_ID else desktop_id


def _runs(command: Iterable[str]) -> str:
    import shlex

    return shlex.join([*command, "call", "--from-desktop", "--"]) + " LINK"


def _change_line(change: SchemeChange) -> Text:
    """One scheme after install: ✓ and who had it, or ✗ and who has it (read back)."""
    if not change.took_effect:
        if change.handler and change.handler == change.before:
            now = f"still opens {change.handler}, not sipgate-tui"
        elif change.handler:
            from sipgate_tui.desktop_entry import DESKTOP_ID

            if change.handler == DESKTOP_ID:
                now = "opens sipgate-tui for now, but the choice was not saved"
            else:
                now = f"opens {change.handler}, not sipgate-tui"
        else:
            now = "opens no app, not sipgate-tui"
        return Text.assemble(("✗ ", f"bold {ERROR}"), f"{change.scheme}: {now}")
    if change.already_ours:
        before = f" (before it: {change.before})" if change.before else ""
        line = f"{change.scheme}: was already handled by sipgate-tui{before}"
    elif change.before:
        line = f"{change.scheme}: was handled by {change.before}; now sipgate-tui"
    else:
        line = f"{change.scheme}: had no handler; now sipgate-tui"
    return Text.assemble(("✓ ", OK), line)


def _grouped_reasons(
    pairs: Iterable[tuple[str, Blocker | None]],
) -> list[str]:
    """One sentence per distinct reason, led by the schemes it holds for."""
    by_text: dict[str, list[str]] = {}
    for scheme, blocker in pairs:
        if blocker is not None:
            by_text.setdefault(blocker.text, []).append(f"{scheme}:")
    reasons = []
    for text, schemes in by_text.items():
        which = schemes[0] if len(schemes) == 1 else ", ".join(schemes[:-1]) + " and " + schemes[-1]
        reasons.append(f"For {which} links: {text}")
    return reasons


def handler_reasons(changes: Iterable[SchemeChange]) -> list[str]:
    """Why the schemes that did not take effect at install did not: one sentence per reason."""
    return _grouped_reasons((change.scheme, change.blocker) for change in changes)


def handler_installed(installed: Installed) -> RenderableType:
    """After ``handler install``: per scheme, who had it and that sipgate-tui has it now (as
    read back), or ✗ and why not."""
    took = installed.took_effect
    parts_of_body: list[RenderableType] = [para(_change_line(c)) for c in installed.changes]
    reasons = handler_reasons(installed.changes)
    if reasons:
        parts_of_body += [GAP, *(para(reason) for reason in reasons)]
    parts_of_body += [
        GAP,
        _rows([("Desktop entry", str(installed.entry_path)), ("Runs", _runs(installed.command))]),
    ]
    if took:
        parts_of_body += [
            GAP,
            para(
                f"Try it: {TRY_LINK}. A browser asks before it hands a link to sipgate-tui; "
                "every call is shown and confirmed first. Undo: sipgate-tui handler uninstall"
            ),
        ]
    if len(took) == len(installed.changes):
        title, style = "✓ sipgate-tui now opens phone links", OK
    elif took:
        only = ", ".join(scheme + ":" for scheme in took)
        title, style = f"! sipgate-tui became the handler of {only} links only", WARN
    else:
        title, style = "✗ sipgate-tui did not become the handler of phone links", ERROR
    parts: list[RenderableType] = [_panel(Group(*parts_of_body), title, style)]
    if installed.warnings:
        parts.append(notes(installed.warnings))
    return Group(*parts)


def handler_uninstalled(removed: Uninstalled) -> RenderableType:
    """After ``handler uninstall``: what each scheme went back to, or why it was left alone."""
    if not removed.installed:
        lines = [
            f"sipgate-tui is not installed as a link handler ({removed.entry_path} does not "
            "exist): nothing to remove."
        ]
        if removed.leftovers:
            schemes = ", ".join(f"{scheme}:" for scheme in removed.leftovers)
            lines.append(f"Removed a leftover association of {schemes} with sipgate-tui.")
        return Group(*(para(line) for line in lines))
    lines = []
    for undo in removed.undone:
        if undo.outcome == "restored":
            lines.append(f"{undo.scheme}: back to {undo.handler}")
        elif undo.outcome == "cleared":
            lines.append(f"{undo.scheme}: no handler now (it had none before sipgate-tui)")
        elif undo.handler:
            lines.append(f"{undo.scheme}: left alone: {undo.handler} handles it since")
        else:
            lines.append(f"{undo.scheme}: left alone: no app handles it")
    body = Group(*(para(line) for line in lines), GAP, para(f"Removed {removed.entry_path}."))
    return _panel(body, "✓ sipgate-tui no longer opens phone links", OK)


def handler_status(found: HandlerStatus) -> RenderableType:
    """``handler status``: who handles each scheme, our entry, and what to do about it."""
    rows: list[tuple[str, Text | str]] = []
    for state in found.schemes:
        value = Text(_desktop_app(state.handler), style=OK if state.ours else "")
        if state.ours and state.previous:
            value.append(f" (before it: {state.previous})", style="dim")
        rows.append((f"{state.scheme}:", value))
    if found.tools_missing:
        rows.append(("Links", Text("unknown (xdg-mime is not installed)", style=WARN)))
    entry = str(found.entry_path) if found.installed else f"none ({found.entry_path})"
    rows.append(("Desktop entry", entry))
    if found.command:
        missing = Text(" (missing)", style=f"bold {ERROR}") if found.stale else Text("")
        rows.append(("Runs", Text.assemble(_runs(found.command), missing)))
    parts: list[RenderableType] = [_rows(rows)]
    for advice in _handler_advice(found):
        parts += [GAP, para(advice)]
    body = Group(*parts)
    if found.stale:
        return _panel(body, "Link handler · needs `handler install` again", WARN)
    title = "Link handler · installed" if found.installed else "Link handler · not installed"
    return _panel(body, title, WARN if found.tools_missing else INFO)


def _handler_advice(found: HandlerStatus) -> list[str]:
    advice = [found.tools_note] if found.tools_note else []
    if found.installed:
        return advice + _handler_advice_installed(found)
    return advice or ["Make sipgate-tui open tel: links: sipgate-tui handler install"]


def _handler_advice_installed(found: HandlerStatus) -> list[str]:
    if found.stale:
        return [
            f"The program it runs, {found.command[0] if found.command else '?'}, is gone "
            "(sipgate-tui was moved, upgraded or reinstalled): run `sipgate-tui handler "
            "install` again."
        ]
    if found.command != found.current_command:
        return [
            f"It runs another sipgate-tui than this one ({found.current_command[0]}): "
            "`sipgate-tui handler install` points it here."
        ]
    reasons = _grouped_reasons((s.scheme, s.blocker) for s in found.schemes)
    if reasons or found.tools_missing:  # without xdg-utils there is no xdg-open to try
        return reasons
    return [f"Try it: {TRY_LINK}"]


def handler_steps(steps: ManualSteps, *, undo: bool = False) -> RenderableType:
    """The manual steps on macOS or Windows (``undo``: the steps that remove it). Code is
    printed unindented, each line broken only where the terminal is too narrow for it."""
    lines = steps.undo if undo else steps.steps
    what = "stop sipgate-tui opening" if undo else "make sipgate-tui open"
    parts: list[RenderableType] = [
        Text(f"On {steps.platform}, {what} tel: links by hand:", style="bold"),
    ]
    for number, step in enumerate(lines, start=1):
        lead, _, code = step.partition("\n")
        parts.append(para(f"{number}. {lead}"))
        if code:
            # Folded, not cropped: a narrow terminal must not cut off the end of a path.
            parts.append(Text(code, overflow="fold"))
    if not undo:
        parts += [GAP, para("To undo: " + " ".join(steps.undo))]
    return Group(*parts)
