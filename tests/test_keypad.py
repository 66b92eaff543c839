"""The keypad of the live view (issue 15, item 3): digits, * and # typed while connected go
into the call at once; Enter lets a dial string's ";" go on; nothing goes into a call that
may not be ours. The live line's tones at 50 and 20 columns, and a real pty run.

The loop runs in simulated time with scripted key batches (each look at the keyboard gets
the next batch); the simulator is the real one, over HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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

    def follow(self, keys: list[list[str]], dial: str = "") -> WatchState:
        batches = list(keys)
        return follow(
            CallWatch(session_id=SESSION, callee=CALLEE, before=set(), started=1000.0),
            WatchIO(
                fetch=lambda: rtcm.list_calls(self.client),
                hang_up=self.hung_up.append,
                show=lambda state, now: self.shown.append(state),
                pressed=lambda: batches.pop(0) if batches else ["q"],
                clock=self.clock.clock,
                sleep=self.clock.sleep,
                send_tones=lambda call_id, digits: rtcm.send_tones(self.client, call_id, digits),
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
    assert (first.at, round(second.at, 1)) == (1000.0, 1001.9)
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
    assert "two new calls to +492115550003" in (state.tones.problem or "")
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
    watch = CallWatch(session_id="s", callee=CALLEE, before=set(), started=0.0)
    assert watch.update(calls, 1.0).phase == "connected"
    # A second call to the same number later on changes nothing: ours is x1.
    later = watch.update(both, 2.0)
    assert later.call is not None and later.call.call_id == "x1" and not later.ambiguous
    assert watch.update(parse_calls({"data": [call_dict("x2")]}), 3.0).phase == "ended"


# -- the live line ------------------------------------------------------------------------------


def rendered(state: WatchState, width: int, *, can_send_tones: bool = True) -> str:
    console = recording_console(width)
    plan = CallPlan("e0", parse_phone_number(CALLEE, "DE"), callee_name="Conference line")
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


def test_the_keys_hint_offers_the_keypad_only_once_connected_and_sure() -> None:
    states = tone_states()
    assert "0-9 * # tones" in flat(rendered(states["pause"], 100))
    assert "Enter send the rest" in flat(rendered(states["waiting"], 100))
    assert "0-9 * #" not in flat(rendered(WatchState("ringing"), 100))
    unsure = WatchState("connected", states["pause"].call, 1000.0, ambiguous=True)
    hint = flat(rendered(unsure, 100))
    assert "0-9 * #" not in hint and "h hang up" not in hint and "q leave it running" in hint
    refused = flat(rendered(states["pause"], 100, can_send_tones=False))
    assert "0-9 * #" not in refused


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


@pytest.mark.pty
def test_a_person_dials_a_pin_and_types_on_the_keypad(
    console_script: str, clean_env: dict[str, str], simulator: SipgateSimulator
) -> None:
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
        ["call", CALLEE, "--device", "e0", "--dtmf", ",,1234#"],
        env=env,
        dimensions=(40, 100),
        encoding="utf-8",
        timeout=15,
    )
    child.expect("Place this call\\?.*y/N")
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
