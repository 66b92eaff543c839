"""After the dial: following the call live, `calls`, `hangup` and `history`.

The live view runs in simulated time: a FakeTime clock that moves only when the loop sleeps,
and scripted key presses. The simulator is the real one, over HTTP.
"""

from __future__ import annotations

import json

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

from sipgate_tui.commands.call import CallOptions, run
from sipgate_tui.commands.calls import (
    CallsOptions,
    HangupOptions,
    HistoryOptions,
    calls,
    hangup,
    history,
)
from sipgate_tui.errors import AppError, Cancelled, ExitCode
from sipgate_tui.simulator import SimulatedToken, SipgateSimulator
from sipgate_tui.watch import find_call

CALL_ONLY = frozenset({"sessions:calls:write"})
DIAL = CallOptions(callee="0157 99912345", device="e0", yes=True)


def gets(simulator: SipgateSimulator, path: str = "/calls") -> int:
    return sum(1 for r in simulator.requests if r.method == "GET" and r.path == path)


def dial(
    simulator: SipgateSimulator,
    keys: list[list[str]],
    clock: FakeTime | None = None,
    options: CallOptions = DIAL,
    **kwargs: object,
):
    clock = clock or FakeTime()
    ctx = make_context(
        simulator.url, terminal=True, time_source=clock, keys=lambda: pressing(keys), **kwargs
    )
    assert run(options, ctx) == ExitCode.OK
    return flat(output_of(ctx.out)), clock


@pytest.fixture
def picks_up(simulator: SipgateSimulator) -> SipgateSimulator:
    simulator.connect_after = 0  # established by the time of the first look
    return simulator


def test_the_call_connects_and_ends(picks_up: SipgateSimulator) -> None:
    clock = FakeTime()
    # The other side hangs up 12 simulated seconds in.
    clock.on_sleep.append(lambda now: now >= 1012 and picks_up.active_calls.clear())
    shown, _ = dial(picks_up, [], clock)
    assert "Call accepted" in shown
    assert "The call ended after 00:1" in shown
    assert 10 <= gets(picks_up) <= 16  # about one look a second, not a busy loop


def test_q_leaves_the_call_running(picks_up: SipgateSimulator) -> None:
    shown, _ = dial(picks_up, [[], [], ["q"]])
    [session] = picks_up.sessions
    assert (
        f"The call goes on. Hang up later with: sipgate-tui hangup {session['sessionId']}" in shown
    )
    assert picks_up.active_calls  # still running


def test_h_hangs_up(picks_up: SipgateSimulator) -> None:
    shown, _ = dial(picks_up, [[], [], ["h"]])
    assert "You hung up after 00:00" in shown
    deletes = [r for r in picks_up.requests if r.method == "DELETE"]
    assert [r.path for r in deletes] == [f"/calls/{picks_up.sessions[0]['sessionId']}"]
    assert picks_up.active_calls == {}


def test_the_call_is_found_by_number_when_its_id_is_not_the_session_id(
    picks_up: SipgateSimulator,
) -> None:
    picks_up.call_id_is_session_id = False
    # Confirmed, not --yes: the look at the calls before the dial then comes first for sure
    # (here the simulated call connects the instant it is placed).
    confirmed = CallOptions(callee="0157 99912345", device="e0")
    # h once the call found by its number stayed the only one for 2 looks (watch.SETTLE_POLLS).
    keys = [[]] * 25 + [["h"]]
    shown, _ = dial(picks_up, keys, options=confirmed, prompter=ScriptedPrompter([True]))
    assert "You hung up" in shown
    [delete] = [r for r in picks_up.requests if r.method == "DELETE"]
    assert delete.path != f"/calls/{picks_up.sessions[0]['sessionId']}"


def test_a_call_that_existed_before_the_dial_is_not_taken_for_ours() -> None:
    from sipgate_tui.rtcm import parse_calls

    existing = parse_calls(
        {
            "data": [
                {
                    "callId": "old",
                    "participants": [{"phoneNumber": "4915799912345", "owner": False}],
                }
            ]
        }
    )
    assert find_call(existing, session_id="new", callee="+4915799912345", before={"old"}) is None
    assert (
        find_call(existing, session_id="new", callee="+4915799912345", before=set()) == existing[0]
    )


def test_nothing_connects_within_45_seconds(simulator: SipgateSimulator) -> None:
    simulator.phones_answer = False
    shown, clock = dial(simulator, [])
    assert "No call connected" in shown
    assert "sipgate-tui devices" in shown and "/devices/e0" in shown
    assert 44 <= clock.now - 1000 <= 47
    assert gets(simulator) <= 48


def test_without_rtcm_read_one_line_says_what_it_would_show(simulator: SipgateSimulator) -> None:
    simulator.tokens[TOKEN_ID] = SimulatedToken(TOKEN, CALL_ONLY | {"devices:read"})
    shown, _ = dial(simulator, [])
    assert "with a token that has rtcm:read" in shown
    assert gets(simulator) == 1  # the one look before the dial


def test_without_rtcm_write_h_says_so(picks_up: SipgateSimulator) -> None:
    picks_up.tokens[TOKEN_ID] = SimulatedToken(TOKEN, CALL_ONLY | {"rtcm:read"})
    shown, _ = dial(picks_up, [[], ["h"], [], ["q"]])
    assert "The call goes on" in shown and picks_up.active_calls


@pytest.mark.parametrize(
    "options",
    [
        CallOptions(callee="0157 99912345", device="e0", yes=True, wait=False),
        CallOptions(callee="0157 99912345", device="e0", yes=True, json=True),
    ],
)
def test_no_wait_and_json_do_not_follow(simulator: SipgateSimulator, options: CallOptions) -> None:
    dial(simulator, [], options=options)
    assert gets(simulator) == 0


def test_without_a_terminal_nothing_is_followed(simulator: SipgateSimulator) -> None:
    run(DIAL, make_context(simulator.url))
    assert gets(simulator) == 0


def test_the_look_before_the_dial_happens_while_the_summary_is_shown(
    picks_up: SipgateSimulator,
) -> None:
    prompter = ScriptedPrompter([True])
    ctx = make_context(
        picks_up.url, terminal=True, prompter=prompter, keys=lambda: pressing([["q"]])
    )
    run(CallOptions(callee="0157 99912345", device="e0"), ctx)
    first_calls = next(i for i, r in enumerate(picks_up.requests) if r.path == "/calls")
    post = next(i for i, r in enumerate(picks_up.requests) if r.method == "POST")
    assert first_calls < post


# -- calls ----------------------------------------------------------------------------------------


def test_calls_lists_the_established_calls(picks_up: SipgateSimulator) -> None:
    run(DIAL, make_context(picks_up.url))
    ctx = make_context(picks_up.url)
    assert calls(CallsOptions(), ctx) == ExitCode.OK
    shown = output_of(ctx.out)
    assert picks_up.sessions[0]["sessionId"] in shown
    assert "+49 1579 9912345" in shown and "(you)" in shown


def test_calls_json_is_the_api_objects(picks_up: SipgateSimulator) -> None:
    run(DIAL, make_context(picks_up.url))
    ctx = make_context(picks_up.url)
    calls(CallsOptions(json=True), ctx)
    [call] = json.loads(output_of(ctx.out))
    assert call["callId"] == picks_up.sessions[0]["sessionId"]
    assert {"participants", "muted", "hold"} <= set(call)


def test_calls_watch_refreshes_until_q(picks_up: SipgateSimulator) -> None:
    clock = FakeTime()
    ctx = make_context(
        picks_up.url, terminal=True, time_source=clock, keys=lambda: pressing([[]] * 60 + [["q"]])
    )
    calls(CallsOptions(watch=True), ctx)
    assert 3 <= gets(picks_up) <= 5  # every 2 simulated seconds over 6


def test_calls_without_rtcm_read(simulator: SipgateSimulator) -> None:
    simulator.tokens[TOKEN_ID] = SimulatedToken(TOKEN, CALL_ONLY)
    with pytest.raises(AppError) as caught:
        calls(CallsOptions(), make_context(simulator.url))
    assert (caught.value.exit_code, caught.value.status) == (ExitCode.REFUSED, 403)
    assert "rtcm:read" in caught.value.hint


# -- hangup ---------------------------------------------------------------------------------------


def test_hangup_by_id(picks_up: SipgateSimulator) -> None:
    run(DIAL, make_context(picks_up.url))
    call_id = picks_up.sessions[0]["sessionId"]
    ctx = make_context(picks_up.url)
    assert hangup(HangupOptions(call_id=call_id), ctx) == ExitCode.OK
    assert f"Hung up {call_id}" in output_of(ctx.out)
    assert picks_up.active_calls == {}


def test_hangup_of_a_call_that_is_gone(simulator: SipgateSimulator) -> None:
    with pytest.raises(AppError) as caught:
        hangup(HangupOptions(call_id="nope"), make_context(simulator.url))
    assert (caught.value.code, caught.value.exit_code) == ("no-such-call", ExitCode.REFUSED)


def test_hangup_picks_from_the_active_calls(picks_up: SipgateSimulator) -> None:
    run(DIAL, make_context(picks_up.url))
    prompter = ScriptedPrompter(["1579"])
    hangup(HangupOptions(), make_context(picks_up.url, prompter=prompter, terminal=True))
    assert "with +49 1579 9912345" in prompter.menus[0][0]
    assert picks_up.active_calls == {}


def test_hangup_all_asks_first(picks_up: SipgateSimulator) -> None:
    for _ in range(2):
        run(DIAL, make_context(picks_up.url))
    prompter = ScriptedPrompter([False])
    with pytest.raises(Cancelled):
        hangup(
            HangupOptions(all=True), make_context(picks_up.url, prompter=prompter, terminal=True)
        )
    assert len(picks_up.active_calls) == 2
    ctx = make_context(picks_up.url)
    hangup(HangupOptions(all=True, yes=True, json=True), ctx)
    assert len(json.loads(output_of(ctx.out))["hungUp"]) == 2
    assert picks_up.active_calls == {}


def test_hangup_without_an_id_and_without_a_terminal(simulator: SipgateSimulator) -> None:
    with pytest.raises(AppError) as caught:
        hangup(HangupOptions(), make_context(simulator.url))
    assert (caught.value.code, caught.value.exit_code) == ("missing-value", ExitCode.USAGE)


def test_hangup_without_rtcm_write(picks_up: SipgateSimulator) -> None:
    run(DIAL, make_context(picks_up.url))
    picks_up.tokens[TOKEN_ID] = SimulatedToken(TOKEN, CALL_ONLY | {"rtcm:read"})
    with pytest.raises(AppError) as caught:
        hangup(HangupOptions(call_id=picks_up.sessions[0]["sessionId"]), make_context(picks_up.url))
    assert "rtcm:write" in caught.value.hint


# -- history --------------------------------------------------------------------------------------


def test_history_shows_the_last_outgoing_calls(simulator: SipgateSimulator) -> None:
    run(DIAL, make_context(simulator.url))
    ctx = make_context(simulator.url)
    assert history(HistoryOptions(), ctx) == ExitCode.OK
    shown = output_of(ctx.out)
    assert "+49 1579 9912345" in shown and "answered" in shown


def test_history_pages(simulator: SipgateSimulator) -> None:
    simulator.history = [
        {
            "id": f"h{i}",
            "source": "+492115550001",
            "target": f"+49211555{i:04d}",
            "created": "2026-11-27T10:00:00Z",
            "direction": "OUTGOING",
            "type": "CALL",
            "status": "PICKUP",
            "duration": i,
        }
        for i in range(250)
    ]
    ctx = make_context(simulator.url)
    history(HistoryOptions(limit=150, json=True), ctx)
    assert len(json.loads(output_of(ctx.out))) == 150
    offsets = [r.query["offset"] for r in simulator.requests if r.path == "/history"]
    assert offsets == [["0"], ["100"]]


@pytest.mark.parametrize("status", [403, 404])
def test_history_not_available_says_so_plainly(simulator: SipgateSimulator, status: int) -> None:
    simulator.respond_with(status, b"", path="/history")
    with pytest.raises(AppError) as caught:
        history(HistoryOptions(), make_context(simulator.url))
    assert caught.value.code == "history-unavailable"
    assert "history:read" in caught.value.hint and "neo" in caught.value.hint


def test_history_limit_is_checked(simulator: SipgateSimulator) -> None:
    with pytest.raises(AppError):
        history(HistoryOptions(limit=0), make_context(simulator.url))


# -- what the newcomer trial of this feature found ------------------------------------------------


def test_a_call_id_is_escaped_whole_so_it_cannot_point_elsewhere(
    simulator: SipgateSimulator,
) -> None:
    with pytest.raises(AppError) as caught:
        hangup(HangupOptions(call_id="../../v2/users/x"), make_context(simulator.url))
    assert caught.value.code == "no-such-call"
    [delete] = [r for r in simulator.requests if r.method == "DELETE"]
    assert delete.path == "/calls/..%2F..%2Fv2%2Fusers%2Fx"


@pytest.mark.parametrize("typed", ["..", ".", " ", "a b", "x\x1b[2J"])
def test_what_cannot_be_a_call_id_is_refused_before_sending(
    simulator: SipgateSimulator, typed: str
) -> None:
    with pytest.raises(AppError) as caught:
        hangup(HangupOptions(call_id=typed), make_context(simulator.url))
    assert (caught.value.code, caught.value.exit_code) == ("invalid-call-id", ExitCode.USAGE)
    assert not [r for r in simulator.requests if r.method == "DELETE"]


def test_hangup_all_without_a_terminal_needs_yes(picks_up: SipgateSimulator) -> None:
    run(DIAL, make_context(picks_up.url))
    with pytest.raises(AppError) as caught:
        hangup(HangupOptions(all=True), make_context(picks_up.url))
    assert caught.value.code == "confirmation-required"
    assert "--all --yes" in caught.value.hint
    assert len(picks_up.active_calls) == 1


def test_hangup_all_shows_the_calls_before_asking(picks_up: SipgateSimulator) -> None:
    run(DIAL, make_context(picks_up.url))
    prompter = ScriptedPrompter([True])
    ctx = make_context(picks_up.url, prompter=prompter, terminal=True)
    hangup(HangupOptions(all=True), ctx)
    assert "+49 1579 9912345" in output_of(ctx.out)
    assert prompter.questions == ["Hang up this call?"]
    assert picks_up.active_calls == {}


def test_watch_and_json_exclude_each_other(simulator: SipgateSimulator) -> None:
    with pytest.raises(AppError) as caught:
        calls(CallsOptions(watch=True, json=True), make_context(simulator.url))
    assert (caught.value.code, caught.value.exit_code) == ("conflicting-options", ExitCode.USAGE)


def test_h_while_it_rings_says_there_is_nothing_to_hang_up_yet() -> None:
    from sipgate_tui.watch import CallWatch, WatchIO, follow

    clock = FakeTime()
    notes: list[str | None] = []
    keys = iter([[], ["h"], [], ["q"]])
    state = follow(
        CallWatch(session_id="s", callee="+4915799912345", before=set(), started=clock.now),
        WatchIO(
            fetch=list,
            hang_up=lambda call_id: pytest.fail("nothing may be hung up"),
            show=lambda state, now: notes.append(state.note),
            pressed=lambda: next(keys, []),
            clock=clock.clock,
            sleep=clock.sleep,
        ),
    )
    assert state.phase == "left"
    assert any(note and "Nothing to hang up yet" in note for note in notes)


def test_leaving_while_it_rings_says_how_to_find_the_call_later(
    simulator: SipgateSimulator,
) -> None:
    simulator.phones_answer = False
    shown, _ = dial(simulator, [[], ["q"]])
    assert "may still connect" in shown and "sipgate-tui calls" in shown


def test_the_timeout_panel_says_how_long_it_waited_and_names_the_phone(
    simulator: SipgateSimulator,
) -> None:
    simulator.phones_answer = False
    options = CallOptions(callee="0157 99912345", device="e0")
    shown, _ = dial(simulator, [], options=options, prompter=ScriptedPrompter([True]))
    assert "no call connected within 45 s" in shown
    assert "Did Desk phone (e0) ring?" in shown


def test_narrow_calls_and_history_keep_ids_whole(picks_up: SipgateSimulator) -> None:
    picks_up.call_id_is_session_id = True
    run(DIAL, make_context(picks_up.url))
    call_id = picks_up.sessions[0]["sessionId"]
    for command, options in ((calls, CallsOptions()), (history, HistoryOptions())):
        ctx = make_context(picks_up.url, width=40)
        command(options, ctx)
        lines = output_of(ctx.out).splitlines()
        assert max(len(line) for line in lines) <= 40
        if command is calls:
            assert call_id in lines


def test_history_times_are_local(
    simulator: SipgateSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    simulator.history = [
        {
            "id": "h1",
            "source": "+492115550001",
            "target": "+4915799912345",
            "created": "2026-11-27T14:53:14Z",
            "direction": "OUTGOING",
            "type": "CALL",
            "status": "PICKUP",
            "duration": 12,
        }
    ]
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        ctx = make_context(simulator.url)
        history(HistoryOptions(), ctx)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert "2026-11-27 15:53" in output_of(ctx.out)


def test_history_paging_is_bounded_whatever_the_server_lists(simulator: SipgateSimulator) -> None:
    from sipgate_tui.rtcm import MAX_HISTORY_PAGES

    usable = {"target": "+492115550001", "created": "2026-11-27T10:00:00Z", "duration": 5}
    # Full pages without a total, forever: one usable item among 99 that are not.
    simulator.respond_with(200, {"items": [usable] + [{"x": 1}] * 99}, path="/history")
    ctx = make_context(simulator.url)
    history(HistoryOptions(limit=1000, json=True), ctx)
    assert len(json.loads(output_of(ctx.out))) == MAX_HISTORY_PAGES
    assert [r.path for r in simulator.requests].count("/history") == MAX_HISTORY_PAGES


def test_a_history_page_of_unusable_items_ends_the_paging(simulator: SipgateSimulator) -> None:
    simulator.respond_with(200, {"items": [{"x": 1}] * 100}, path="/history")
    ctx = make_context(simulator.url)
    assert history(HistoryOptions(limit=1000), ctx) == ExitCode.OK
    assert "No outgoing calls in the history" in output_of(ctx.out)
    assert [r.path for r in simulator.requests].count("/history") == 1
