"""Keypad tones after the call connects (issue 15, item 2): when each group goes out, what
the simulator received and when, and what is said when they cannot be sent.

The dialer is pure and runs on numbers; the command runs in simulated time (FakeTime), the
simulator stamps each ``POST /calls/{id}/dtmf`` with the same clock, and it is the real one,
over HTTP.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator

import pytest
from helpers import (
    TOKEN,
    TOKEN_ID,
    FakeTime,
    ScriptedPrompter,
    flat,
    make_context,
    output_of,
    pressing,
)

from sipgate_tui.api import SipgateClient, Timeouts
from sipgate_tui.commands.call import CallOptions, run
from sipgate_tui.credentials import Credentials
from sipgate_tui.dial_string import parse_dial_string
from sipgate_tui.errors import ExitCode
from sipgate_tui.rtcm import send_tones
from sipgate_tui.simulator import SimulatedToken, SipgateSimulator
from sipgate_tui.tones import ToneDialer

CALLEE = "+492115550003"
NO_RTCM_WRITE = frozenset({"sessions:calls:write", "devices:read", "rtcm:read"})


def dialer(text: str, pause: float = 2.0) -> ToneDialer:
    return ToneDialer(parse_dial_string(text), pause_seconds=pause)


def tones_of(simulator: SipgateSimulator) -> list[tuple[str, float, bool]]:
    """Each tone request as (sequence, simulated time, established). The time is floored to
    the half second: the request travels in the tones' own thread, and on a loaded machine it
    may reach the server a tick (0.1 s) or two after it was due, never before; the pauses
    being checked are 2 s each."""
    return [
        (t.sequence, math.floor(t.at * 2) / 2, t.established) for t in simulator.dtmf_received
    ]


def dtmf_posts(simulator: SipgateSimulator) -> int:
    return sum(1 for r in simulator.requests if r.method == "POST" and r.path.endswith("/dtmf"))


def dial(
    simulator: SipgateSimulator,
    dtmf: str,
    keys: list[list[str]] | None = None,
    *,
    clock: FakeTime | None = None,
    hang_up_at: float | None = None,
) -> str:
    """``call CALLEE --device e0 --yes --dtmf DTMF`` in simulated time; the other side hangs
    up at ``hang_up_at`` (simulated), else the keys decide."""
    clock = clock or FakeTime()
    simulator.clock = clock.clock
    if hang_up_at is not None:
        clock.on_sleep.append(lambda now: now >= hang_up_at and simulator.active_calls.clear())
    ctx = make_context(
        simulator.url, terminal=True, time_source=clock, keys=lambda: pressing(keys or [])
    )
    options = CallOptions(callee=CALLEE, device="e0", yes=True, dtmf=dtmf)
    assert run(options, ctx) == ExitCode.OK
    return flat(output_of(ctx.out))


@pytest.fixture
def picks_up(simulator: SipgateSimulator) -> SipgateSimulator:
    simulator.connect_after = 0  # established by the time of the first look
    return simulator


# -- the dialer on its own --------------------------------------------------------------------


def test_the_first_group_is_due_the_moment_the_call_connects() -> None:
    tones = dialer("855,12#")
    assert tones.due(100.0) is None  # not connected yet
    tones.start(100.0)
    assert tones.due(100.0) == "855"
    assert tones.due(100.0) is None  # in flight: never handed out twice
    tones.sent(100.3)
    assert tones.view(101.0).next_in == pytest.approx(1.3)
    assert tones.due(102.2) is None
    assert tones.due(102.3) == "12#"
    tones.sent(102.4)
    assert tones.finished and tones.view(103.0).sent == "85512#"


def test_pauses_first_hold_back_the_first_group() -> None:
    tones = dialer(",,1234#", pause=2.5)
    tones.start(10.0)
    view = tones.view(10.0)
    assert (view.sent, view.left, view.next_in) == ("", ",,1234#", 5.0)
    assert tones.due(14.9) is None
    assert tones.due(15.0) == "1234#"


def test_a_semicolon_waits_for_enter_and_pauses_count_from_it() -> None:
    tones = dialer("1#;,2#")
    tones.start(0.0)
    assert tones.enter(0.0) is False  # nothing waits yet
    assert tones.due(0.0) == "1#"
    tones.sent(0.1)
    assert tones.due(50.0) is None and tones.waiting(50.0)
    assert tones.view(50.0).left == ";,2#"
    assert tones.enter(60.0) is True
    assert not tones.waiting(60.0)
    assert tones.due(61.9) is None
    assert tones.due(62.0) == "2#"


def test_enter_lets_only_the_tones_up_to_the_next_semicolon_go() -> None:
    tones = dialer("1#;2#;3#")
    tones.start(0.0)
    assert tones.due(0.0) == "1#"
    tones.sent(0.0)
    assert tones.enter(1.0) is True
    assert tones.due(1.0) == "2#"
    tones.sent(1.0)
    assert tones.due(5.0) is None and tones.waiting(5.0)  # the next ";" waits again
    assert tones.view(5.0).left == ";3#"


def test_a_failed_group_is_never_sent_again_and_is_left_to_type_by_hand() -> None:
    tones = dialer("855,,123;9#")
    tones.start(0.0)
    assert tones.due(0.0) == "855"
    tones.sent(0.0)
    assert tones.due(4.0) == "123"
    tones.failed("sending them needs a token with rtcm:write")
    assert all(tones.due(t) is None for t in (4.0, 10.0, 100.0))
    assert tones.enter(100.0) is False
    view = tones.view(100.0)
    assert (view.sent, view.by_hand.text, view.problem) == (
        "855",
        "123;9#",
        "sending them needs a token with rtcm:write",
    )


def test_stopping_with_nothing_left_says_nothing() -> None:
    tones = dialer("12")
    tones.start(0.0)
    assert tones.due(0.0) == "12"
    tones.sent(0.0)
    tones.stop("two new calls")
    assert tones.view(1.0).problem is None


# -- the API and the simulator ----------------------------------------------------------------


def test_send_tones_posts_the_sequence_with_the_call_id_escaped_whole(
    picks_up: SipgateSimulator,
) -> None:
    client = SipgateClient(picks_up.url, Credentials(TOKEN_ID, TOKEN), timeouts=Timeouts.both(5))
    picks_up.active_calls["a/b"] = {"callId": "a/b", "participants": []}
    send_tones(client, "a/b", "1234#")
    [post] = [r for r in picks_up.requests if r.method == "POST"]
    assert (post.path, post.json) == ("/calls/a%2Fb/dtmf", {"sequence": "1234#"})
    assert tones_of(picks_up)[0][::2] == ("1234#", True)
    # Tones are no call request: the count that tells "a call may have been placed" stays 0.
    assert client.call_requests_sent == 0 and client.accepted_call_id is None


# -- the command ---------------------------------------------------------------------------------


def test_tones_go_out_after_the_pauses_once_the_call_is_established(
    picks_up: SipgateSimulator,
) -> None:
    shown = dial(picks_up, ",,1234#", hang_up_at=1010)
    # Connected at the first look (1000.0), two pauses of 2 s: sent at 1004, exactly once.
    assert tones_of(picks_up) == [("1234#", 1004.0, True)]
    assert "Tones sent: 1234#" in shown


def test_groups_are_paced_by_the_pauses_between_them(picks_up: SipgateSimulator) -> None:
    dial(picks_up, "855,,,12345678#", hang_up_at=1012)
    assert tones_of(picks_up) == [("855", 1000.0, True), ("12345678#", 1006.0, True)]


def test_no_tone_is_sent_while_it_rings(simulator: SipgateSimulator) -> None:
    simulator.phones_answer = False  # nobody picks up: the watch times out
    shown = dial(simulator, "1234#")
    assert dtmf_posts(simulator) == 0
    assert "No call connected" in shown


def test_without_rtcm_write_the_first_refusal_stops_them_and_says_what_to_dial(
    picks_up: SipgateSimulator,
) -> None:
    picks_up.tokens[TOKEN_ID] = SimulatedToken(TOKEN, NO_RTCM_WRITE)
    shown = dial(picks_up, "855,1234#", hang_up_at=1010)
    assert dtmf_posts(picks_up) == 1  # the later group is not even tried
    assert "Tones stopped: sending them needs a token with rtcm:write" in shown
    # The call has ended by then: nothing to dial on the phone, only what did not go out.
    assert "not sent before the end: 8551234#." in shown


def test_a_refusal_mid_sequence_keeps_what_went_out_and_never_retries(
    picks_up: SipgateSimulator,
) -> None:
    clock = FakeTime()
    refusing: list[bool] = []

    def refuse_after_the_first(now: float) -> None:
        if len(picks_up.dtmf_received) == 1 and not refusing:
            refusing.append(True)  # from now on, as for a token whose scope was taken away
            picks_up.respond_with(403, {"errors": []}, method="POST")

    clock.on_sleep.append(refuse_after_the_first)
    shown = dial(picks_up, "855,,12;9#", clock=clock, hang_up_at=1010)
    assert [t[0] for t in tones_of(picks_up)] == ["855"]
    assert dtmf_posts(picks_up) == 2  # 855, then 12 refused; 9# never tried
    assert "(sent: 855); not sent before the end: 12 then, when asked, 9#." in shown


def test_a_call_that_ends_mid_sequence_answers_404_and_the_rest_is_not_sent(
    picks_up: SipgateSimulator,
) -> None:
    from sipgate_tui import rtcm
    from sipgate_tui.watch import CallWatch, WatchIO, follow

    clock = FakeTime()
    picks_up.clock = clock.clock
    client = SipgateClient(picks_up.url, Credentials(TOKEN_ID, TOKEN), timeouts=Timeouts.both(5))
    picks_up.active_calls["c1"] = {"callId": "c1", "participants": []}
    # The other side hangs up after the poll at 1003, before the second group is due (1003.1).
    clock.on_sleep.append(lambda now: now >= 1003.05 and picks_up.active_calls.clear())
    state = follow(
        CallWatch(session_id="c1", callee=CALLEE, before=set(), started=clock.now),
        WatchIO(
            fetch=lambda: rtcm.list_calls(client),
            hang_up=lambda call_id: pytest.fail("nothing may be hung up"),
            show=lambda state, now: None,
            pressed=list,
            clock=clock.clock,
            sleep=clock.sleep,
            send_tones=lambda call_id, digits: rtcm.send_tones(client, call_id, digits),
        ),
        tones=dialer("855,,1234#", pause=1.55),
    )
    assert [(t[0], t[2]) for t in tones_of(picks_up)] == [("855", True), ("1234#", False)]
    assert state.phase == "ended" and state.tones is not None
    assert state.tones.problem == "sipgate does not list the call as connected (HTTP 404)"
    assert state.tones.by_hand.digits == "1234#"


def test_leaving_before_the_tones_are_out_says_what_to_dial(picks_up: SipgateSimulator) -> None:
    shown = dial(picks_up, "855,,,,1234#", [[], [], ["q"]])
    assert [t[0] for t in tones_of(picks_up)] == ["855"]
    assert "The call goes on" in shown
    # It was connected: "once connected" would make the person wait for something past.
    assert "dial 1234# on your phone (you stopped watching" in shown


def test_without_rtcm_read_the_tones_are_to_be_dialled_by_hand(
    simulator: SipgateSimulator,
) -> None:
    simulator.tokens[TOKEN_ID] = SimulatedToken(TOKEN, frozenset({"sessions:calls:write"}))
    shown = dial(simulator, ",,855;1#")
    assert "dial 855 then, when asked, 1# on your phone once connected" in shown
    assert dtmf_posts(simulator) == 0


def test_when_the_live_view_cannot_start_the_tones_are_to_be_dialled_by_hand(
    picks_up: SipgateSimulator,
) -> None:
    def no_keyboard() -> None:  # what a terminal that refuses raw mode does
        raise OSError("Inappropriate ioctl for device")

    ctx = make_context(picks_up.url, terminal=True, keys=no_keyboard)
    options = CallOptions(callee=CALLEE, device="e0", yes=True, dtmf="1234#")
    assert run(options, ctx) == ExitCode.OK
    shown = flat(output_of(ctx.out))
    assert "could not start" in shown and "dial 1234# on your phone once connected" in shown
    assert dtmf_posts(picks_up) == 0


def test_when_the_other_side_hangs_up_first_a_line_says_which_tones_were_not_sent(
    picks_up: SipgateSimulator,
) -> None:
    shown = dial(picks_up, ",,,,1234#", hang_up_at=1003)
    assert dtmf_posts(picks_up) == 0
    assert "The call ended after" in shown
    assert "Tones sent: none; not sent before the end: 1234#." in shown


@contextlib.contextmanager
def interrupted_at(look: int) -> Iterator[Callable[[], list[str]]]:
    """Keys that never come; at the ``look``-th look, what __main__ makes of SIGTERM/SIGHUP."""
    looks: list[int] = []

    def pressed() -> list[str]:
        looks.append(1)
        if len(looks) == look:
            raise KeyboardInterrupt
        return []

    yield pressed


def test_a_termination_signal_leaves_like_q_naming_the_calls_own_id_and_the_tones_left(
    picks_up: SipgateSimulator,
) -> None:
    picks_up.call_id_is_session_id = False  # the call's id is not the session id
    clock = FakeTime()
    picks_up.clock = clock.clock
    # Confirmed at the summary (not --yes): the look at the calls before the dial is then
    # in before the POST, so the call (connected at once here) counts as new, whatever the load.
    ctx = make_context(
        picks_up.url,
        terminal=True,
        time_source=clock,
        keys=lambda: interrupted_at(30),
        prompter=ScriptedPrompter([True]),
    )
    options = CallOptions(callee=CALLEE, device="e0", dtmf=",,,,,,1234#")
    assert run(options, ctx) == ExitCode.OK  # the call was accepted, and goes on
    shown = flat(output_of(ctx.out))
    [call_id] = picks_up.active_calls
    session_id = picks_up.sessions[0]["sessionId"]
    assert call_id != session_id
    assert "The call goes on" in shown
    assert f"sipgate-tui hangup {call_id}" in shown
    assert f"hangup {session_id}" not in shown
    assert "dial 1234# on your phone (you stopped watching before they were all sent)" in shown
    assert dtmf_posts(picks_up) == 0
