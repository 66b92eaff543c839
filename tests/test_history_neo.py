"""`history` on sipgate Neo: the calls in the channels' events, against the simulator's Neo mode.

The account type comes the way it does in use: remembered for the token (as login and the
first call leave it), forced by the option, or not known at all.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest
from helpers import TOKEN_ID, flat, make_context, output_of

from sipgate_tui.commands.calls import HistoryOptions, history
from sipgate_tui.context import AppContext
from sipgate_tui.errors import AppError, ExitCode
from sipgate_tui.rtcm import MAX_EVENT_PAGES
from sipgate_tui.simulator import SimulatedChannel, SimulatedToken, SipgateSimulator

START = 1_800_000_000  # 2027-01-15 08:00 UTC: a fixed time, so entries sort predictably
CLASSIC_ENTRY = {
    "source": "+492115550001",
    "direction": "OUTGOING",
    "type": "CALL",
    "status": "PICKUP",
    "callStatus": "PICKUP",
    "duration": 42,
}


@pytest.fixture
def neo() -> Iterator[SipgateSimulator]:
    with SipgateSimulator(account_type="neo") as sim:
        sim.connect_after = 0
        yield sim


def context(sim: SipgateSimulator, remembered: str | None = "neo", **kwargs: object) -> AppContext:
    """A context for the simulator, the account type remembered for the token (or not)."""
    ctx = make_context(sim.url, **kwargs)  # type: ignore[arg-type]
    if remembered is not None:
        ctx.make_settings().remember(account_type=(TOKEN_ID, remembered))
    return ctx


def shown(sim: SipgateSimulator, options: HistoryOptions, **kwargs: object) -> str:
    ctx = context(sim, **kwargs)
    assert history(options, ctx) == ExitCode.OK
    return flat(output_of(ctx.out))


JSON = HistoryOptions(json=True)


def as_json(
    sim: SipgateSimulator, options: HistoryOptions = JSON, **kwargs: object
) -> tuple[list[dict], str]:
    ctx = context(sim, **kwargs)
    assert history(dataclasses.replace(options, json=True), ctx) == ExitCode.OK
    return json.loads(output_of(ctx.out)), output_of(ctx.err)


def add_calls(sim: SipgateSimulator, count: int, channel: str = "ch0") -> None:
    """``count`` finished outgoing calls, one a minute, to +49211555000i (i = 0, 1, ...)."""
    for i in range(count):
        sim.add_call_event(channel, f"+49211555{i:04d}", started=START + 60 * i, duration=i)


def requested(sim: SipgateSimulator, prefix: str) -> list[dict[str, list[str]]]:
    return [r.query for r in sim.requests if r.method == "GET" and r.path.startswith(prefix)]


# -- Neo: the channels' events -------------------------------------------------------------------


def test_neo_history_shows_the_calls_of_the_channels(neo: SipgateSimulator) -> None:
    add_calls(neo, 2)
    neo.add_call_event("ch0", "+4915799912345", started=START + 600, duration=None, state="MISSED")
    neo.add_call_event("ch0", "+4915799900000", started=START + 900, direction="INCOMING")
    text = shown(neo, HistoryOptions())
    assert "+49 1579 9912345" in text and "missed" in text
    assert "+49 211 5550001" in text and "finished" in text and "00:01" in text
    assert "+49 1579 9900000" not in text  # incoming calls are not outgoing ones
    assert text.index("+49 1579 9912345") < text.index("+49 211 5550001")  # newest first


def test_a_call_nobody_answered_shows_no_length(neo: SipgateSimulator) -> None:
    neo.add_call_event("ch0", "+4915799912345", started=START, duration=None, state="MISSED")
    neo.add_call_event("ch0", "+492115550002", started=START + 60, duration=0)  # connected
    ctx = context(neo)
    assert history(HistoryOptions(), ctx) == ExitCode.OK
    lines = output_of(ctx.out).splitlines()
    unanswered = next(line for line in lines if "+49 1579 9912345" in line)
    assert "00:00" not in unanswered and "–" in unanswered
    assert "00:00" in next(line for line in lines if "+49 211 5550002" in line)
    [_, entry], _ = as_json(neo)
    assert entry["duration"] == 0  # --json keeps what the event says


def test_missed_incoming_calls_are_no_outgoing_history(neo: SipgateSimulator) -> None:
    neo.add_missed_call("+4915799912345", at=START)
    assert flat(shown(neo, HistoryOptions())) == "No outgoing calls in the history."


def test_neo_json_keeps_the_classic_shape_with_the_event_added(neo: SipgateSimulator) -> None:
    event = neo.add_call_event("ch0", "+4915799912345", started=START, duration=75)
    [entry], errors = as_json(neo)
    assert errors == ""
    assert entry == {
        "id": event["eventId"],
        "source": "+492115550001",
        "target": "+4915799912345",
        "created": event["call"]["startedAt"],
        "direction": "OUTGOING",
        "type": "CALL",
        "status": "FINISHED",
        "callStatus": "FINISHED",
        "duration": 75,
        "event": event,
    }


@pytest.mark.parametrize("migrated", [False, True])
def test_a_call_placed_on_neo_shows_in_the_history_once(
    neo: SipgateSimulator, migrated: bool
) -> None:
    import requests

    neo.neo_history_calls = migrated  # a migrated account lists it in /history too
    answer = requests.post(
        f"{neo.url}/calls",
        json={"deviceId": "e0", "targetNumber": "4915799912345", "channelId": "ch0"},
        auth=(TOKEN_ID, neo.tokens[TOKEN_ID].token),
        timeout=5,
    )
    [entry], _ = as_json(neo)
    assert entry["event"]["call"]["callSid"] == answer.json()["callSid"]
    assert (entry["target"], entry["status"], entry["duration"]) == (
        "+4915799912345",
        "ESTABLISHED",
        None,  # still going: no length yet
    )


def test_events_are_paged_with_the_position_until_the_limit(neo: SipgateSimulator) -> None:
    neo.neo_events_max_limit = 5  # sipgate may answer smaller pages than asked for
    add_calls(neo, 12)
    entries, _ = as_json(neo, HistoryOptions(limit=7))
    assert [e["target"] for e in entries] == [f"+49211555{i:04d}" for i in range(11, 4, -1)]
    pages = requested(neo, "/channels/ch0/events")
    assert len(pages) == 2 and "position" not in pages[0]
    assert pages[1]["position"] != pages[0].get("position")
    assert pages[0]["limit"] == ["100"]


def test_all_pages_are_read_when_the_events_come_oldest_first(neo: SipgateSimulator) -> None:
    neo.neo_events_max_limit = 5
    neo.neo_events_oldest_first = True
    add_calls(neo, 12)
    entries, _ = as_json(neo, HistoryOptions(limit=3))
    assert [e["target"] for e in entries] == ["+492115550011", "+492115550010", "+492115550009"]
    assert len(requested(neo, "/channels/ch0/events")) == 3


def test_the_page_cap_stops_a_long_channel_with_a_note(neo: SipgateSimulator) -> None:
    neo.neo_events_max_limit = 1
    neo.neo_events_oldest_first = True  # so the limit cannot end the reading early
    add_calls(neo, MAX_EVENT_PAGES + 5)
    entries, errors = as_json(neo, HistoryOptions(limit=5))
    assert len(requested(neo, "/channels/ch0/events")) == MAX_EVENT_PAGES
    assert len(entries) == 5
    assert f"first {MAX_EVENT_PAGES} pages of the channel Main" in flat(errors)


def test_a_server_repeating_its_page_is_not_read_forever(neo: SipgateSimulator) -> None:
    event = neo.add_call_event("ch0", "+4915799912345", started=START)
    page = {"events": [event], "limit": 100, "position": "again"}
    neo.respond_with(200, page, path="/channels/ch0/events")
    entries, _ = as_json(neo)
    assert len(entries) == 1
    assert len(requested(neo, "/channels/ch0/events")) == 2  # the second added nothing


def test_a_private_channel_is_skipped_with_a_note(neo: SipgateSimulator) -> None:
    neo.channels.append(SimulatedChannel("ch1", "Boss", ("e0",), private=True))
    add_calls(neo, 1)
    neo.add_call_event("ch1", "+4915799912345", started=START)
    text = shown(neo, HistoryOptions())
    assert "+49 211 5550000" in text and "+49 1579 9912345" not in text
    assert "Skipped the channel Boss" in text and "HTTP 403" in text
    entries, errors = as_json(neo)
    assert len(entries) == 1 and "Skipped the channel Boss" in flat(errors)


def test_calls_of_several_channels_are_merged_newest_first(neo: SipgateSimulator) -> None:
    neo.channels.append(SimulatedChannel("ch1", "Support", ("e0",)))
    neo.channels.append(SimulatedChannel("ch2", "Not mine", (), other_users={"w1": ("e7",)}))
    add_calls(neo, 2)
    neo.add_call_event("ch1", "+4915799912345", started=START + 30)
    neo.add_call_event("ch2", "+4915799900000", started=START + 40)
    entries, _ = as_json(neo)
    assert [e["target"] for e in entries] == ["+492115550001", "+4915799912345", "+492115550000"]
    assert requested(neo, "/channels/ch2/") == []  # the user is not in that one


def test_neo_without_channels_read_says_which_scope(neo: SipgateSimulator) -> None:
    neo.tokens[TOKEN_ID] = SimulatedToken(neo.tokens[TOKEN_ID].token, frozenset({"history:read"}))
    with pytest.raises(AppError) as caught:
        history(HistoryOptions(), context(neo))
    assert "channels:read" in (caught.value.hint or "") + caught.value.message


# -- migrated accounts: /history still has calls ------------------------------------------------


def test_a_migrated_account_merges_both_and_drops_the_same_call(neo: SipgateSimulator) -> None:
    import time

    neo.neo_history_calls = True
    now = time.time()
    older = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600))
    neo.history = [{**CLASSIC_ENTRY, "id": "h1", "target": "+492115559999", "created": older}]
    # The same call in both: /history writes it without + and a second later.
    neo.add_call_event("ch0", "+4915799912345", started=now, duration=10)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 1))
    neo.history.insert(
        0, {**CLASSIC_ENTRY, "id": "h2", "target": "4915799912345", "created": stamp}
    )
    entries, _ = as_json(neo)
    assert [e["target"] for e in entries] == ["+4915799912345", "+492115559999"]
    assert "event" in entries[0] and "event" not in entries[1]
    assert requested(neo, "/history")  # both sources were read


def test_a_classic_history_that_fails_on_neo_leaves_a_note(neo: SipgateSimulator) -> None:
    add_calls(neo, 1)
    neo.respond_with(400, b"", path="/history")
    entries, errors = as_json(neo)
    assert len(entries) == 1 and "classic call history could not be read (HTTP 400)" in flat(errors)


def test_neo_without_history_read_needs_no_note(neo: SipgateSimulator) -> None:
    token = neo.tokens[TOKEN_ID].token
    neo.tokens[TOKEN_ID] = SimulatedToken(token, frozenset({"channels:read"}))
    add_calls(neo, 1)
    entries, errors = as_json(neo)
    assert len(entries) == 1 and errors == ""


# -- how the type is known ----------------------------------------------------------------------


def test_the_option_forces_neo(neo: SipgateSimulator) -> None:
    add_calls(neo, 1)
    ctx = context(neo, remembered="classic")
    ctx.options = ctx.options._replace(account_type="neo")
    assert history(HistoryOptions(json=True), ctx) == ExitCode.OK
    assert len(json.loads(output_of(ctx.out))) == 1


def test_an_unknown_type_with_an_empty_history_reads_the_channels(neo: SipgateSimulator) -> None:
    add_calls(neo, 2)
    entries, _ = as_json(neo, remembered=None)
    assert len(entries) == 2
    paths = [r.path for r in neo.requests if r.method == "GET"]
    assert paths[0] == "/history" and "/channels" in paths


def test_an_unknown_type_without_history_read_reads_the_channels(neo: SipgateSimulator) -> None:
    token = neo.tokens[TOKEN_ID].token
    neo.tokens[TOKEN_ID] = SimulatedToken(token, frozenset({"channels:read"}))
    add_calls(neo, 1)
    entries, _ = as_json(neo, remembered=None)
    assert len(entries) == 1


# -- classic: unchanged ------------------------------------------------------------------------


@pytest.mark.parametrize("remembered", ["classic", None])
def test_classic_history_is_read_as_before(
    simulator: SipgateSimulator, remembered: str | None
) -> None:
    simulator.history = [{**CLASSIC_ENTRY, "id": "h1", "target": "+492115550002", "created": "x"}]
    entries, errors = as_json(simulator, remembered=remembered)
    assert entries == simulator.history and errors == ""
    assert [r.path for r in simulator.requests] == ["/history"]


def test_an_empty_classic_history_stays_empty(simulator: SipgateSimulator) -> None:
    text = shown(simulator, HistoryOptions(), remembered="classic")
    assert text == "No outgoing calls in the history."
    assert [r.path for r in simulator.requests] == ["/history"]
    # Of unknown type, one look at /channels (404 on classic) says there is nothing more.
    simulator.requests.clear()
    assert shown(simulator, HistoryOptions(), remembered=None) == text
    assert [r.path for r in simulator.requests] == [
        "/history",
        "/authorization/userinfo",
        "/channels",
    ]


def test_an_unavailable_classic_history_is_reported_as_before(simulator: SipgateSimulator) -> None:
    simulator.respond_with(403, b"", path="/history")
    for remembered in ("classic", None):
        with pytest.raises(AppError) as caught:
            history(HistoryOptions(), context(simulator, remembered=remembered))
        assert caught.value.code == "history-unavailable"
