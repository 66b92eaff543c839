"""Issue 13, wording: what the user reads after a dial and in lists.

Tiny terminals (1-3 columns, 4 rows) in a real pseudo-terminal; the 403 advice led by what is
known; the live line for a phone that was offline when dialled; a guided first run that asks
sipgate once for each thing; numbers kept whole; one word for each device type.
"""

from __future__ import annotations

import io
import re

import pexpect
import pytest
from helpers import (
    TOKEN,
    TOKEN_ID,
    FakeTime,
    MemoryKeyring,
    ScriptedPrompter,
    flat,
    make_context,
    output_of,
    pressing,
    recording_console,
)
from servers import SilentServer

from sipgate_tui import render
from sipgate_tui.api import HttpStatusError
from sipgate_tui.commands import guided
from sipgate_tui.commands.after_dial import PhoneNote
from sipgate_tui.commands.call import CallOptions, run
from sipgate_tui.errors import AppError, ExitCode
from sipgate_tui.numbers import parse_phone_number
from sipgate_tui.plan import CallPlan
from sipgate_tui.problems import UNKNOWN_OUTCOME_HINT, call_problem
from sipgate_tui.simulator import SipgateSimulator

CSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
CALLEE = parse_phone_number("0157 99912345", "DE")


def squeezed(text: str) -> str:
    """Terminal output without escapes and without any whitespace: at 1-3 columns every word
    is broken across lines, so only the letters in order can be compared."""
    return "".join(CSI.sub("", text).split())


def spread(word: str) -> str:
    """A regex for ``word`` as a 1-3 column terminal shows it: line breaks (and the colour
    codes around each line) between letters."""
    between = r"(?:\s|\x1b\[[0-9;?]*[A-Za-z])*"
    return between.join(re.escape(ch) for ch in word if not ch.isspace())


def in_a_tiny_terminal(
    script: str,
    env: dict[str, str],
    args: list[str],
    *,
    rows: int,
    columns: int,
    keys: tuple[tuple[str, str], ...] = (),
) -> tuple[int, str]:
    """Run the installed app in a pty of ``rows`` x ``columns``: exit code and its output."""
    child = pexpect.spawn(
        script, args, env=env, dimensions=(rows, columns), encoding="utf-8", timeout=30
    )
    child.logfile_read = screen = io.StringIO()
    for wait_for, send in keys:
        child.expect(spread(wait_for))
        child.send(send)
    child.expect(pexpect.EOF)
    child.close()
    output = screen.getvalue()
    assert "Traceback" not in output
    lines = CSI.sub("", output).splitlines()
    assert max(len(line) for line in lines) <= columns, lines  # nothing wider than the screen
    return child.exitstatus, output


@pytest.fixture
def env(clean_env: dict[str, str], tmp_path) -> dict[str, str]:
    environment = {
        **clean_env,
        "SIPGATE_TOKEN_ID": TOKEN_ID,
        "SIPGATE_TOKEN": TOKEN,
        "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "SIPGATE_TUI_STATE_DIR": str(tmp_path / "state"),
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    environment.pop("COLUMNS")  # the terminal's own size must decide
    return environment


CALL = ["call", "0157 99912345", "-d", "e0", "--yes", "--timeout", "1"]


# -- item 16: tiny terminals -------------------------------------------------------------------


@pytest.mark.pty
@pytest.mark.parametrize(("rows", "columns"), [(4, 1), (4, 3), (3, 2), (4, 80), (40, 3)])
def test_a_placed_call_says_so_in_a_tiny_terminal(
    console_script: str,
    env: dict[str, str],
    simulator: SipgateSimulator,
    rows: int,
    columns: int,
) -> None:
    args = [*CALL, "--no-wait"]
    code, output = in_a_tiny_terminal(
        console_script, {**env, "SIPGATE_API_URL": simulator.url}, args, rows=rows, columns=columns
    )
    assert code == 0
    text = squeezed(output)
    assert "✓Callacceptedbysipgate." in text
    assert simulator.sessions[0]["sessionId"] in text
    assert len(simulator.call_requests()) == 1
    # The outcome is the last line, so it is what the last rows show.
    assert text.endswith("✓Callacceptedbysipgate.")


@pytest.mark.pty
def test_the_live_view_in_a_tiny_terminal_ends_with_the_outcome(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator
) -> None:
    code, output = in_a_tiny_terminal(
        console_script,
        {**env, "SIPGATE_API_URL": simulator.url},
        CALL,
        rows=4,
        columns=3,
        keys=(("Call accepted", ""), ("Connected", "q")),
    )
    assert code == 0
    text = squeezed(output)
    assert "Thecallgoeson.Hanguplaterwith:sipgate-tuihangup" in text


@pytest.mark.pty
@pytest.mark.parametrize("columns", [1, 3])
def test_a_refused_call_says_so_in_a_tiny_terminal(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator, columns: int
) -> None:
    simulator.respond_with(402, {"errors": [{"title": "Payment Required"}]})
    code, output = in_a_tiny_terminal(
        console_script, {**env, "SIPGATE_API_URL": simulator.url}, CALL, rows=4, columns=columns
    )
    assert code == 4
    text = squeezed(output)
    assert "Refusedbysipgate" in text  # the exit code's meaning, as the panel's title
    assert "balanceistoolowforthiscall" in text


@pytest.mark.pty
@pytest.mark.parametrize(("rows", "columns"), [(4, 3), (4, 1), (4, 60)])
def test_may_have_been_placed_says_so_in_a_tiny_terminal(
    console_script: str, env: dict[str, str], rows: int, columns: int
) -> None:
    with SilentServer() as server:
        code, output = in_a_tiny_terminal(
            console_script, {**env, "SIPGATE_API_URL": server.url}, CALL, rows=rows, columns=columns
        )
        posts = server.received.count(b"POST ")
    assert (code, posts) == (6, 1)
    text = squeezed(output)
    assert "Outcomeunknown" in text and text.count("mayhavebeenplaced") == 1
    assert "Checkyourphonebeforetryingagain" in text
    if columns >= 20:  # plain lines, not a panel: no frame takes a row of the four
        assert "╭" not in output


def test_the_renderer_decides_by_size_alone() -> None:
    """Panels at 20 x 5 and more; plain lines below either."""
    error = AppError("no-response", "The call request was sent, but nothing came back.")
    for width, height, framed in ((20, 5, True), (19, 40, False), (80, 4, False)):
        console = recording_console(width)
        console.size = (width, height)
        console.print(render.problem(error))
        assert ("╭" in output_of(console)) is framed, (width, height)


# -- item 23: "may have been placed" once; a guided first run asks once -------------------------


def test_the_panel_says_may_have_been_placed_once_whoever_wrote_message_and_hint() -> None:
    for message in (
        "Interrupted while the call request was on its way: the call may have been placed.",
        "The call request was sent, but sipgate did not answer within 15 s.",
        "The call request was sent, but sipgate took longer than 15 s: the call may have been "
        "placed.",
    ):
        error = AppError("interrupted", message, hint=UNKNOWN_OUTCOME_HINT, after_call_sent=True)
        console = recording_console(60)
        console.print(render.problem(error))
        shown = flat(output_of(console))
        assert shown.count("may have been placed") == 1, shown
        assert "Check your phone before trying again, so nobody is called twice." in shown


def test_a_guided_first_run_asks_sipgate_once_for_the_user_and_the_phones(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    prompter = ScriptedPrompter(
        [TOKEN_ID, TOKEN, "0157 99912345", "Desk phone", "own number", True]
    )
    ctx = make_context(simulator.url, prompter=prompter, terminal=True, env={})
    assert guided.run(ctx) == ExitCode.OK
    asked = [(r.method, r.path) for r in simulator.requests]
    assert asked.count(("GET", "/authorization/userinfo")) == 1, asked
    assert asked.count(("GET", "/w0/devices")) == 1, asked
    assert len(simulator.call_requests()) == 1
    # The list the login saw is the one the picker showed.
    assert any("Desk phone (e0) · online" in title for title in prompter.menus[0])


def test_a_guided_run_with_credentials_is_unchanged(simulator: SipgateSimulator) -> None:
    prompter = ScriptedPrompter(["0157 99912345", "Desk phone", "own number", True])
    ctx = make_context(simulator.url, prompter=prompter, terminal=True)
    assert guided.run(ctx) == ExitCode.OK
    asked = [(r.method, r.path) for r in simulator.requests]
    assert asked.count(("GET", "/w0/devices")) == 1


# -- item 18: the 403 advice -------------------------------------------------------------------


def forbidden(detail: str | None) -> AppError:
    error = HttpStatusError(403, "https://api.sipgate.com/v2/sessions/calls", detail, None)
    return call_problem(
        error, device="e0", connect_timeout=5, read_timeout=15, credentials_source="keyring"
    )


@pytest.mark.parametrize(
    ("detail", "lead"),
    [
        ("Click-to-dial is not available for your account type", "The account type"),
        ("Feature not booked", "The account type"),
        ("Forbidden: token lacks scope sessions:calls:write", "The token lacks the scope"),
        ("Please reset your password", "Your user must reset their password"),
        ("cannot access extension: not found or forbidden", "The device e0 is not yours"),
    ],
)
def test_a_403_that_names_its_cause_leads_with_it(detail: str, lead: str) -> None:
    problem = forbidden(detail)
    assert problem.hint is not None
    assert problem.hint.startswith(f"sipgate names the cause: {lead}")
    assert "does not say which" not in problem.hint
    console = recording_console(88)
    console.print(render.problem(problem))
    shown = flat(output_of(console))
    assert shown.index("sipgate said:") < shown.index("sipgate names the cause")


@pytest.mark.parametrize("detail", [None, "Forbidden", "nope"])
def test_a_403_that_names_no_cause_says_so(detail: str | None) -> None:
    hint = forbidden(detail).hint or ""
    assert hint.startswith("sipgate does not say which")


def test_a_refused_call_to_a_phone_that_is_not_yours_leads_with_it(
    simulator: SipgateSimulator,
) -> None:
    ctx = make_context(simulator.url)
    with pytest.raises(AppError) as caught:
        run(CallOptions(callee="0157 99912345", device="e7", yes=True), ctx)
    assert caught.value.exit_code == ExitCode.REFUSED
    assert (caught.value.hint or "").startswith("e7 is not one of your phones (yours: e0, e1")
    assert len(simulator.call_requests()) == 1


def test_a_phone_that_is_not_yours_is_never_called_yours(simulator: SipgateSimulator) -> None:
    """Asked in a terminal: the summary and the result name it without "your"."""
    simulator.respond_with(200, {"sessionId": "s1"}, method="POST", path="/sessions/calls")
    prompter = ScriptedPrompter(["Call anyway", True])
    ctx = make_context(
        simulator.url, prompter=prompter, terminal=True, keys=lambda: pressing([["q"]])
    )
    assert run(CallOptions(callee="0157 99912345", device="e7"), ctx) == ExitCode.OK
    shown = flat(output_of(ctx.out))
    assert "VoIP phone e7 (not one of your phones)" in shown
    assert "your VoIP phone e7" not in shown


def test_with_yes_a_phone_that_is_not_yours_is_said_after_the_dial(
    simulator: SipgateSimulator,
) -> None:
    simulator.respond_with(200, {"sessionId": "s1"}, method="POST", path="/sessions/calls")
    ctx = make_context(simulator.url)
    assert run(CallOptions(callee="0157 99912345", device="e7", yes=True), ctx) == ExitCode.OK
    shown = flat(output_of(ctx.out))
    assert "e7 is not one of your phones" in shown and "your VoIP phone e7" not in shown


# -- item 21: the live line for a phone that was offline; the note after h -----------------------


def test_the_live_line_names_a_phone_that_was_offline_when_dialled(
    simulator: SipgateSimulator,
) -> None:
    lines: list[str] = []
    clock = FakeTime()
    clock.on_sleep.append(lambda now: None)
    ctx = make_context(
        simulator.url, terminal=True, time_source=clock, keys=lambda: pressing([])
    )
    # What the live line draws, as the terminal would get it.
    ctx.live = _recording_live(ctx, lines)  # type: ignore[method-assign]
    assert run(CallOptions(callee="0157 99912345", device="e1", yes=True), ctx) == ExitCode.OK
    assert lines and all("Ringing your" not in line for line in lines)
    assert "Softphone (laptop) (e1) was offline when dialled" in lines[-1]
    shown = flat(output_of(ctx.out))
    assert "Softphone (laptop) (e1) was offline when dialled, so it could not ring" in shown


def test_a_look_too_late_for_the_panel_still_names_the_offline_phone_in_the_live_line(
    simulator: SipgateSimulator,
) -> None:
    simulator.read_delay = 0.6  # longer than the result panel waits for the device check
    lines: list[str] = []
    ctx = make_context(simulator.url, terminal=True, keys=lambda: pressing([[], ["q"]]))
    ctx.live = _recording_live(ctx, lines)  # type: ignore[method-assign]
    assert run(CallOptions(callee="0157 99912345", device="e1", yes=True), ctx) == ExitCode.OK
    assert "could not be checked in time" in flat(output_of(ctx.out))
    assert lines and "Softphone (laptop) (e1) was offline when dialled" in lines[-1]


def test_a_picked_offline_phone_is_named_in_the_live_line(simulator: SipgateSimulator) -> None:
    lines: list[str] = []
    prompter = ScriptedPrompter(["Softphone", "Call anyway", "own number", True])
    ctx = make_context(
        simulator.url,
        prompter=prompter,
        terminal=True,
        keys=lambda: pressing([[], [], ["q"]]),
    )
    ctx.live = _recording_live(ctx, lines)  # type: ignore[method-assign]
    assert run(CallOptions(callee="0157 99912345"), ctx) == ExitCode.OK
    assert "Softphone (laptop) (e1) was offline when dialled" in lines[-1]


def _recording_live(ctx, lines: list[str]):
    import contextlib

    @contextlib.contextmanager
    def live():
        def update(renderable) -> None:
            console = recording_console(100)
            console.print(renderable)
            lines.append(flat(output_of(console)))

        yield update

    return live


def test_the_note_after_h_while_ringing_stays_readable_for_seconds() -> None:
    from sipgate_tui.watch import NOTE_SECONDS, CallWatch, WatchIO, follow

    clock = FakeTime()
    seen: list[tuple[float, str | None]] = []
    presses = iter([[], ["h"]])
    started = clock.now

    def pressed() -> list[str]:
        if clock.now - started > NOTE_SECONDS + 2:
            return ["q"]
        return next(presses, [])

    follow(
        CallWatch(session_id="s", callee="+4915799912345", before=set(), started=started),
        WatchIO(
            fetch=list,  # polled every second: each answer is a new state
            hang_up=lambda call_id: pytest.fail("nothing may be hung up"),
            show=lambda state, now: seen.append((now - started, state.note)),
            pressed=pressed,
            clock=clock.clock,
            sleep=clock.sleep,
        ),
    )
    with_note = [at for at, note in seen if note and "Nothing to hang up yet" in note]
    assert with_note and max(with_note) - min(with_note) >= NOTE_SECONDS - 0.2
    assert seen[-1][1] is None  # and then it goes


def test_when_the_live_view_cannot_start_one_line_says_why(simulator: SipgateSimulator) -> None:
    import termios

    def no_raw_mode():
        raise termios.error(25, "Inappropriate ioctl for device")

    ctx = make_context(simulator.url, terminal=True, keys=no_raw_mode)
    assert run(CallOptions(callee="0157 99912345", device="e0", yes=True), ctx) == ExitCode.OK
    shown = output_of(ctx.out)
    line = next(line for line in shown.splitlines() if "No live status" in line)
    assert "would not switch to reading single keys" in flat(shown)
    assert "Call accepted" in shown and line


# -- item 24: numbers whole, one word per device type, prompt lines ----------------------------


@pytest.mark.parametrize("width", [24, 30, 36, 44, 50, 60])
def test_numbers_are_never_split_across_lines(width: int) -> None:
    shown_id = parse_phone_number("0211 5550001", "DE")
    plan = CallPlan(device_id="e0", callee=CALLEE, caller_id=shown_id)
    console = recording_console(width)
    console.print(render.call_accepted(plan, "abc"))
    console.print(render.call_summary(plan))
    console.print(render.notes(["The number +49 1579 9912345 is a mobile number, and so on."]))
    shown = output_of(console)
    assert shown.count("+49 1579 9912345") >= 3, shown
    assert shown.count("+49 211 5550001") >= 2, shown
    assert max(len(line) for line in shown.splitlines()) <= width


@pytest.mark.pty
def test_the_first_question_fits_50_columns(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator
) -> None:
    """The question and its example on one line: the prompt would break a longer one
    anywhere, inside the example number too."""
    child = pexpect.spawn(
        console_script,
        ["call"],
        env={**env, "SIPGATE_API_URL": simulator.url},
        dimensions=(40, 50),
        encoding="utf-8",
        timeout=30,
    )
    child.logfile_read = screen = io.StringIO()
    child.expect("Whom do you want to call")
    child.expect(r"\)")  # the example's closing parenthesis: the line is drawn
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    drawn = "? Whom do you want to call? (e.g. 0157 99912345)"
    assert drawn in CSI.sub("", screen.getvalue()) and len(drawn) <= 50


def test_favourites_and_numbers_tables_keep_numbers_whole() -> None:
    from sipgate_tui.account import AccountNumber

    console = recording_console(30)
    console.print(render.favourites_view({"Grandmother": "+4915799912345"}, message=None))
    console.print(
        render.numbers_table([AccountNumber("+492115550001", "LANDLINE", "Main line", {})])
    )
    shown = output_of(console)
    assert "+49 1579 9912345" in shown and "+49 211 5550001" in shown


def test_a_phone_note_is_still_just_the_note() -> None:
    note = PhoneNote("e1 is offline.", about="offline", device_id="e1")
    assert note == "e1 is offline." and note.about == "offline"
    plan = CallPlan(device_id="e1", callee=CALLEE, notes=(note,))
    assert render.phone_noted(plan, "offline") and not render.phone_noted(plan, "foreign")
