"""The keypad of the live view (issue 15, item 3): digits, * and # typed while connected go
into the call at once; Enter lets a dial string's ";" go on; nothing goes into a call that
may not be ours. The live line's tones at 50 and 20 columns, and a real pty run.

The loop runs in simulated time with scripted key batches (each look at the keyboard gets
the next batch); the simulator is the real one, over HTTP.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import replace

import pexpect
import pytest
from helpers import TOKEN, TOKEN_ID, FakeTime, flat, output_of, recording_console

from sipgate_tui import render, rtcm
from sipgate_tui.api import SipgateClient, Timeouts
from sipgate_tui.credentials import Credentials
from sipgate_tui.dial_string import parse_dial_string
from sipgate_tui.numbers import parse_phone_number
from sipgate_tui.plan import CallPlan
from sipgate_tui.rtcm import parse_calls
from sipgate_tui.simulator import SimulatedToken, SipgateSimulator
from sipgate_tui.tone_sender import ToneAnswer, ToneSender
from sipgate_tui.tones import ToneDialer
from sipgate_tui.watch import CallWatch, WatchIO, WatchState, follow, match_call

CALLEE = "+492115550003"
SESSION = "s1"
NEEDS = "sending them needs a token with rtcm:write"


def call_dict(call_id: str, callee: str = CALLEE) -> dict[str, object]:
    return {
        "callId": call_id,
        "participants": [
            {"phoneNumber": "492115550001", "owner": True},
            {"phoneNumber": callee.lstrip("+"), "owner": False},
        ],
    }


class Run:
    """One live view against the simulator: what it showed, and how it ended."""

    def __init__(self, simulator: SipgateSimulator, clock: FakeTime) -> None:
        self.simulator, self.clock = simulator, clock
        self.shown: list[WatchState] = []
        self.hung_up: list[str] = []
        self.client = SipgateClient(
            simulator.url, Credentials(TOKEN_ID, TOKEN), timeouts=Timeouts.both(5)
        )
        simulator.clock = clock.clock

    def follow(
        self,
        keys: list[list[str]],
        dial: str = "",
        *,
        session: str = SESSION,
        really_hang_up: bool = False,
        deadline: float | None = None,
    ) -> WatchState:
        """The live view with these key batches (then q); ``session``: the dial's session id
        (no call has it: matched by number); ``really_hang_up``: h sends DELETE /calls/{id}."""
        batches = list(keys)

        def hang_up(call_id: str) -> None:
            self.hung_up.append(call_id)
            if really_hang_up:
                rtcm.hang_up(self.client, call_id)

        return follow(
            CallWatch(session_id=session, callee=CALLEE, before=set(), started=1000.0),
            WatchIO(
                fetch=lambda: rtcm.list_calls(self.client),
                hang_up=hang_up,
                show=lambda state, now: self.shown.append(state),
                pressed=lambda: batches.pop(0) if batches else ["q"],
                clock=self.clock.clock,
                sleep=self.clock.sleep,
                send_tones=lambda call_id, digits: rtcm.send_tones(
                    self.client, call_id, digits, deadline=deadline
                ),
            ),
            tones=ToneDialer(parse_dial_string(dial)),
        )

    def notes(self) -> list[str]:
        return [state.note for state in self.shown if state.note]

    def received(self) -> list[tuple[str, str]]:
        return [(t.call_id, t.sequence) for t in self.simulator.dtmf_received]


@pytest.fixture
def run(simulator: SipgateSimulator) -> Run:
    return Run(simulator, FakeTime())


def connected(simulator: SipgateSimulator, call_id: str = SESSION) -> None:
    simulator.active_calls[call_id] = call_dict(call_id)


def test_keys_typed_together_go_out_in_one_request(run: Run) -> None:
    connected(run.simulator)
    state = run.follow([[], ["1", "2"], [], ["#"], []])
    assert run.received() == [(SESSION, "12"), (SESSION, "#")]
    assert state.phase == "left" and state.tones is not None and state.tones.keyed == "12#"


def test_keys_before_the_key_that_follows_them_go_out_first(run: Run) -> None:
    connected(run.simulator)
    state = run.follow([["4", "2", "h"]])
    assert run.received() == [(SESSION, "42")]
    assert state.phase == "hung-up" and run.hung_up == [SESSION]


def test_a_digit_while_it_rings_says_tones_come_once_connected(run: Run) -> None:
    run.follow([["5"], []])  # nothing established: it rings
    assert run.received() == []
    assert any("Tones can be sent once the call is connected" in n for n in run.notes())


def test_enter_lets_the_rest_of_a_dial_string_go(run: Run) -> None:
    connected(run.simulator)
    # 1# at once, then the ";" waits: Enter on the 20th look (t = 1001.9) sends 2#.
    run.follow([[]] * 19 + [["c-m"], []], dial="1#;2#")
    assert run.received() == [(SESSION, "1#"), (SESSION, "2#")]
    [first, second] = run.simulator.dtmf_received
    # (a request may reach the server a tick late on a loaded machine, never early)
    assert 1000.0 <= first.at <= 1000.3 and 1001.9 <= second.at <= 1002.2
    assert any(s.tones is not None and s.tones.waiting for s in run.shown)


def test_without_rtcm_write_keys_are_refused_once_and_then_not_sent(run: Run) -> None:
    run.simulator.tokens[TOKEN_ID] = SimulatedToken(
        TOKEN, frozenset({"sessions:calls:write", "rtcm:read"})
    )
    connected(run.simulator)
    run.follow([["1"], [], ["2"], []])
    posts = [r for r in run.simulator.requests if r.path.endswith("/dtmf")]
    assert len(posts) == 1 and posts[0].status == 403  # the second key is not even tried
    assert any("needs a token with rtcm:write" in n for n in run.notes())


def test_two_new_calls_to_the_callee_get_no_tones_and_no_hang_up(run: Run) -> None:
    # Neither is the session's: ours, and a colleague's to the same number, at once.
    connected(run.simulator, "x1")
    connected(run.simulator, "x2")
    state = run.follow([["7"], ["h"], []], dial="1234#")
    assert run.received() == [] and run.hung_up == []
    assert state.ambiguous and state.tones is not None
    assert state.tones.by_hand.digits == "1234#"
    assert "two new calls to +49 211 5550003" in (state.tones.problem or "")  # pretty
    notes = run.notes()
    assert any(n.startswith("7 not sent: two new calls") for n in notes)
    assert any(n.startswith("Not hung up: two new calls") for n in notes)
    # and leaving it names no call id to hang up later: it may be the colleague's
    plan = CallPlan("e0", parse_phone_number(CALLEE, "DE"))
    ended = WatchState("left", state.call, 1000.0, ambiguous=True)
    left = flat(_text(render.watch_result(ended, 1010.0, plan, timeout=45)))
    assert "Two calls to this number are active" in left
    assert "hangup x1" not in left and "hangup x2" not in left


def test_the_session_id_decides_even_beside_another_new_call(run: Run) -> None:
    connected(run.simulator, SESSION)
    connected(run.simulator, "colleague")
    run.follow([["9"], []], dial="1#")
    assert sorted(run.received()) == [(SESSION, "1#"), (SESSION, "9")]


def test_a_call_once_found_is_followed_by_its_id() -> None:
    calls = parse_calls({"data": [call_dict("x1")]})
    both = parse_calls({"data": [call_dict("x1"), call_dict("x2")]})
    assert match_call(calls, session_id="s", callee=CALLEE, before=set()).ambiguous is False
    assert match_call(both, session_id="s", callee=CALLEE, before=set()).ambiguous is True
    assert match_call(both, session_id="s", callee=CALLEE, before={"x2"}).ambiguous is False
    # Found by the session id: a second call to the same number later changes nothing.
    sure = CallWatch(session_id="x1", callee=CALLEE, before=set(), started=0.0)
    assert not sure.update(calls, 1.0).checking
    later = sure.update(both, 2.0)
    assert later.call is not None and later.call.call_id == "x1" and not later.ambiguous
    assert sure.update(parse_calls({"data": [call_dict("x2")]}), 3.0).phase == "ended"


def test_a_call_found_by_its_number_is_trusted_only_while_it_stays_alone() -> None:
    calls = parse_calls({"data": [call_dict("x1")]})
    both = parse_calls({"data": [call_dict("x1"), call_dict("x2")]})
    watch = CallWatch(session_id="s", callee=CALLEE, before=set(), started=0.0)
    assert watch.update(calls, 1.0).checking
    assert watch.update(calls, 2.0).checking
    assert not watch.update(calls, 3.0).checking  # alone on two more looks: trusted
    # Another new call to that number, even later: from now on it is unclear which is ours.
    later = watch.update(both, 30.0)
    assert later.ambiguous and later.call is not None and later.call.call_id == "x1"
    assert watch.update(calls, 31.0).ambiguous  # once unsure, always unsure


# -- a call found by its number (the session id is no call's id) -----------------------------


def test_two_windows_dialling_the_same_number_get_no_tones_and_no_hang_up(run: Run) -> None:
    # Window A's call shows first; window B's own (this one) 1 s later. B sees A's call alone
    # at first: it must not take it for its own.
    connected(run.simulator, "a-call")

    def b_shows(now: float) -> None:
        if now >= 1001.0:
            connected(run.simulator, "b-call")

    run.clock.on_sleep.append(b_shows)
    keys: list[list[str]] = [[]] * 4 + [["7"]] + [[]] * 10 + [["h"]] + [[]] * 10
    state = run.follow(keys, dial="1234#", session="the-session", really_hang_up=True)
    assert run.received() == [] and run.hung_up == []
    assert set(run.simulator.active_calls) == {"a-call", "b-call"}  # both go on
    assert state.ambiguous and state.tones is not None
    assert state.tones.by_hand.digits == "1234#"
    assert any(s.checking and s.held == "7" for s in run.shown)  # 7 waited for the check
    notes = run.notes()
    assert any(n.startswith("7 not sent: two new calls to +49 211 5550003") for n in notes)
    assert any(n.startswith("Not hung up: two new calls") for n in notes)


def test_a_call_found_by_its_number_gets_its_tones_once_it_stayed_alone(run: Run) -> None:
    connected(run.simulator, "x1")
    state = run.follow([[]] * 5 + [["5"]] + [[]] * 30, dial="1234#", session="the-session")
    # Seen alone at 1000, 1001 and 1002: trusted at the third look, then the tones go out,
    # the keypad's 5 (typed at 1000.5, held meanwhile) right after them.
    assert run.received() == [("x1", "1234#"), ("x1", "5")]
    assert round(run.simulator.dtmf_received[0].at) == 1002
    assert state.tones is not None and state.tones.sent == "1234#" and state.tones.keyed == "5"
    checking = [s for s in run.shown if s.checking]
    assert checking and all(s.connected_at is not None for s in checking)
    said = flat(rendered(checking[-1], 100))
    assert "checking this is your call" in said and "keypad 5 waits" in said
    assert "h hang up" not in said  # nor h: it may be somebody else's call


def test_h_while_the_call_is_checked_waits_for_the_check(run: Run) -> None:
    connected(run.simulator, "x1")
    run.follow([["h"]], session="the-session", really_hang_up=True)
    assert run.hung_up == [] and "x1" in run.simulator.active_calls
    assert any(n.startswith("Not hung up yet: checking this is your call") for n in run.notes())


# -- a slow answer to the tones ---------------------------------------------------------------


def slow_tones(simulator: SipgateSimulator) -> None:
    """sipgate takes 30 s to answer the tones (the server thread is a daemon: no test waits)."""
    simulator.respond_with(204, method="POST", path=f"/calls/{SESSION}/dtmf", delay=30)


def test_a_slow_answer_to_the_tones_does_not_freeze_the_live_view(run: Run) -> None:
    connected(run.simulator)
    slow_tones(run.simulator)
    # 855 goes out at the first look; 5 is typed while it waits, then h (at 1001.5).
    keys: list[list[str]] = [[], ["5"]] + [[]] * 13 + [["h"]]
    state = run.follow(keys, dial="855,1#", really_hang_up=True)
    assert state.phase == "hung-up" and run.hung_up == [SESSION]
    assert SESSION not in run.simulator.active_calls  # the DELETE went out, beside the POST
    polls = [r for r in run.simulator.requests if r.method == "GET" and r.path == "/calls"]
    assert len(polls) >= 2  # it kept looking at the calls meanwhile
    assert any(s.sending == "855" for s in run.shown)
    assert "sending 855…" in flat(rendered(next(s for s in run.shown if s.sending), 100))
    assert any("5 not sent: wait until the tones before are answered" in n for n in run.notes())
    dtmf = [r.json for r in run.simulator.requests if r.path.endswith("/dtmf")]
    assert dtmf == [{"sequence": "855"}]  # 5 was not sent later, nor 1#
    assert state.tones is not None and "may or may not have arrived" in (state.tones.problem or "")
    assert state.tones.by_hand.digits == "8551#"


def test_tones_without_an_answer_in_time_are_not_retried(run: Run) -> None:
    connected(run.simulator)
    slow_tones(run.simulator)
    # A deadline of 0.3 s (real time: the client's deadline is a real one) instead of 5 s.
    state = run.follow([[]] * 60, dial="855,1#", deadline=0.3)
    assert state.tones is not None
    assert state.tones.problem == (
        "sipgate did not confirm them within 0.3 s, so they may or may not have arrived"
    )
    assert state.tones.by_hand.digits == "8551#"
    assert len([r for r in run.simulator.requests if r.path.endswith("/dtmf")]) == 1


def test_the_tones_go_out_in_a_daemon_thread_of_their_own() -> None:
    seen: list[tuple[str, bool]] = []

    def send(call_id: str, digits: str) -> None:
        seen.append((threading.current_thread().name, threading.current_thread().daemon))

    sender = ToneSender(send, clock=lambda: 7.0)
    sender.submit("c1", "12", keypad=True)
    assert sender.busy and sender.in_flight == "12"
    assert sender.wait(5)  # an event, set by the thread: no sleep decides
    assert sender.answer() == ToneAnswer("12", keypad=True, error=None, at=7.0)
    assert seen == [("sipgate-tui-tones", True)] and not sender.busy
    sender.close()  # the thread ends: a live view leaves no thread behind


# -- the live line ------------------------------------------------------------------------------


def rendered(
    state: WatchState,
    width: int,
    *,
    can_send_tones: bool = True,
    name: str | None = "Conference line",
) -> str:
    console = recording_console(width)
    plan = CallPlan("e0", parse_phone_number(CALLEE, "DE"), callee_name=name)
    console.print(
        render.live_status(
            state, 1010.0, plan, can_hang_up=True, started=1000.0, can_send_tones=can_send_tones
        )
    )
    return console.file.getvalue()  # type: ignore[attr-defined]


def tone_states() -> dict[str, WatchState]:
    [call] = parse_calls({"data": [call_dict(SESSION)]})
    states = {}
    for name, dial, script in [
        ("pause", "855,,12345678#", lambda t: (t.due(1000.0), t.sent(1009.0))),
        ("waiting", "855;12345678#", lambda t: (t.due(1000.0), t.sent(1000.0))),
        ("failed", "855,,12345678#", lambda t: (t.due(1000.0), t.failed(NEEDS))),
        ("done", "855", lambda t: (t.due(1000.0), t.sent(1000.0), t.keyed("42"))),
    ]:
        tones = ToneDialer(parse_dial_string(dial))
        tones.start(1000.0)
        script(tones)
        states[name] = WatchState("connected", call, 1000.0, tones=tones.view(1010.0))
    return states


@pytest.mark.parametrize("name", ["pause", "waiting", "failed", "done"])
@pytest.mark.parametrize("width", [50, 20, 19])
def test_the_tones_fit_narrow_terminals(name: str, width: int) -> None:
    text = rendered(tone_states()[name], width)
    assert max(len(line) for line in text.splitlines()) <= width
    said = flat(text).replace(" ", "").lower()
    usual = {
        "pause": ["sent855", "left,,12345678#", "nextin"],
        "waiting": ["sent855", "left;12345678#", "waitingforenter"],
        "failed": ["rtcm:write", "dial85512345678#onyourphone"],
        "done": ["tonessent:855", "keypad42"],
    }
    tiny = {  # the tiny form says less: what matters next
        "pause": ["sent855", "left,,12345678#"],
        "waiting": ["enter:;12345678#"],
        "failed": ["dial85512345678#byhand"],
        "done": ["sent85542"],
    }
    expected = (tiny if width < 20 else usual)[name]
    assert all(part in said for part in expected), (expected, text)


def checking() -> WatchState:
    """Connected, found by number and not trusted yet: the PIN and a keypad 5 wait."""
    [call] = parse_calls({"data": [call_dict("x1")]})
    tones = ToneDialer(parse_dial_string("1234#"))
    tones.start(1000.0)
    return WatchState("connected", call, 1000.0, tones=tones.view(1001.0), checking=True, held="5")


def every_state() -> dict[str, WatchState]:
    states = tone_states()
    call = states["pause"].call
    return {
        **states,
        "checking": checking(),
        "checking-in-a-pause": replace(states["pause"], checking=True, held="5"),
        "sending": replace(states["waiting"], sending="12345678#"),
        "keypad-out": WatchState("connected", call, 1000.0, sending="5"),
        "keypad-held": WatchState("connected", call, 1000.0, checking=True, held="5"),
        "unsure": replace(states["failed"], ambiguous=True),
        "ringing": WatchState("ringing", tones=states["pause"].tones),
    }


@pytest.mark.parametrize("name", sorted(every_state()))
@pytest.mark.parametrize("width", [100, 50, 20])
@pytest.mark.parametrize("callee_name", ["Conference line", None])
def test_every_live_line_fits_and_its_keys_hint_is_never_broken(
    name: str, width: int, callee_name: str | None
) -> None:
    state = every_state()[name]
    text = rendered(state, width, name=callee_name)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width, text
    if width == 100 and state.phase == "connected":
        # The hint on one row: after the line when both fit, else on a row of its own.
        hint = next(h for h in ("Enter: next", "0-9*#", "q leave") if h in text)
        [row] = [line for line in lines if hint in line]
        assert row.rstrip().endswith(("q leave", "q leave it running")), text
        if callee_name is None:  # the usual case: all on the one connected row
            assert row.startswith("● Connected to"), text


def test_the_keys_hint_offers_the_keypad_only_once_connected_and_sure() -> None:
    states = tone_states()
    assert "0-9*# tones · h hang up · q leave" in flat(rendered(states["pause"], 100))
    # Enter lets the tones up to the next ";" go, not all the rest.
    assert "Enter: next tones" in flat(rendered(states["waiting"], 100))
    assert "0-9*#" not in flat(rendered(WatchState("ringing"), 100))
    unsure = WatchState("connected", states["pause"].call, 1000.0, ambiguous=True)
    hint = flat(rendered(unsure, 100))
    assert "0-9*#" not in hint and "h hang up" not in hint and "q leave it running" in hint
    unsure_yet = flat(rendered(checking(), 100))
    assert "h hang up" not in unsure_yet and "checking this is your call" in unsure_yet
    in_a_pause = flat(rendered(replace(states["pause"], checking=True), 100))
    assert "next in 3 s" in in_a_pause  # the pause says more than the check
    refused = flat(rendered(states["pause"], 100, can_send_tones=False))
    assert "0-9*#" not in refused


def test_tones_by_hand_says_what_to_dial_and_why() -> None:
    console = recording_console(50)
    console.print(render.tones_by_hand(parse_dial_string(",,855;1#"), "sipgate Neo"))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert max(len(line) for line in text.splitlines()) <= 50
    said = "Tones: dial 855 then, when asked, 1# on your phone once connected (sipgate Neo)."
    assert flat(text) == said


# -- a person, in a real terminal ----------------------------------------------------------------


def wait_until(child: pexpect.spawn, ready: Callable[[], bool], seconds: float = 15) -> None:
    """Let the app run (reading its output) until ``ready()``; no fixed sleep decides."""
    for _ in range(int(seconds / 0.05)):
        if ready():
            return
        child.expect([pexpect.TIMEOUT, pexpect.EOF], timeout=0.05)
    raise AssertionError("timed out")


SENT_PIN = r"Tones sent: (\x1b\[[0-9;]*m)*1234#"  # bold may wrap the digits


def _dial_in_a_pty(
    console_script: str, clean_env: dict[str, str], simulator: SipgateSimulator, dtmf: str
) -> pexpect.spawn:
    """``call CALLEE --device e0 --dtmf DTMF`` in a 100x40 pty without colour, at its
    confirmation question."""
    env = {
        **clean_env,
        "SIPGATE_API_URL": simulator.url,
        "SIPGATE_TOKEN_ID": TOKEN_ID,
        "SIPGATE_TOKEN": TOKEN,
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "NO_COLOR": "1",
    }
    env.pop("COLUMNS")
    child = pexpect.spawn(
        console_script,
        ["call", CALLEE, "--device", "e0", "--dtmf", dtmf],
        env=env,
        dimensions=(40, 100),
        encoding="utf-8",
        timeout=15,
    )
    child.expect("Place this call\\?.*y/N")
    return child


@pytest.mark.pty
def test_a_person_dials_a_pin_and_types_on_the_keypad(
    console_script: str, clean_env: dict[str, str], simulator: SipgateSimulator
) -> None:
    child = _dial_in_a_pty(console_script, clean_env, simulator, ",,1234#")
    child.send("y")
    child.expect("Connected to")
    child.expect(SENT_PIN)
    [session] = simulator.sessions
    call_id = session["sessionId"]
    [pin] = simulator.dtmf_received
    assert (pin.call_id, pin.sequence, pin.established) == (call_id, "1234#", True)
    # Established 0.3 s after the dial at the earliest, then two pauses of 2 s.
    [post] = simulator.call_requests()
    assert pin.at - post.received_at >= 4.0
    child.send("5")
    wait_until(child, lambda: len(simulator.dtmf_received) == 2)
    assert simulator.dtmf_received[1].sequence == "5"
    child.send("h")
    child.expect("You hung up after")
    child.expect(SENT_PIN)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in (child.before or "")
    assert not re.search(r"\x1b\[[0-9;]*3[0-9]m", child.before or "")


def _text(renderable: object) -> str:
    console = recording_console(100)
    console.print(renderable)
    return output_of(console)


@pytest.mark.pty
def test_a_termination_signal_in_the_live_view_ends_it_like_q(
    console_script: str, clean_env: dict[str, str], simulator: SipgateSimulator
) -> None:
    import signal

    simulator.call_id_is_session_id = False  # so the hang-up hint must name the call's own id
    child = _dial_in_a_pty(console_script, clean_env, simulator, ",,,,,,,,,,1234#")
    child.send("y")
    child.expect("Connected to")
    child.kill(signal.SIGTERM)  # a closed terminal window, `kill`, a service manager
    child.expect("The call goes on")
    [call_id] = simulator.active_calls
    assert call_id != simulator.sessions[0]["sessionId"]
    child.expect(r"hangup (\x1b\[[0-9;]*m)*" + call_id)
    child.expect(r"dial (\x1b\[[0-9;]*m)*1234#(\x1b\[[0-9;]*m)* on your phone \(you stopped")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0  # the call was accepted: the signal changes nothing about it
    assert "Traceback" not in (child.before or "")
    assert simulator.dtmf_received == []
