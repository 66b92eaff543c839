"""Missed incoming calls: which still wait for a call back, and `history --missed`.

The rules of "called back" are pure (sipgate_tui.missed); the reading runs against the
simulator's classic history and its Neo channel events, as in use.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import TOKEN_ID, flat, make_context, output_of

from sipgate_tui.commands.calls import HistoryOptions, history
from sipgate_tui.context import AppContext
from sipgate_tui.errors import AppError, ExitCode
from sipgate_tui.missed import (
    MissedCall,
    ago_words,
    caller_number,
    not_called_back,
    parse_missed_event,
    parse_missed_item,
    summarise,
)
from sipgate_tui.rtcm import MAX_HISTORY_PAGES, HistoryEntry
from sipgate_tui.settings import Recent
from sipgate_tui.simulator import SimulatedChannel, SimulatedToken, SipgateSimulator

UTC = datetime.timezone.utc
ADA, GRACE = "+4915799912347", "+49301234567"


def at(hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 11, 30, hour, minute, tzinfo=UTC)


def missed(number: str | None, when: datetime.datetime | None, raw: str = "") -> MissedCall:
    return MissedCall(number, raw or number or "", when, created=when.isoformat() if when else None)


def outgoing(target: str, when: datetime.datetime | str) -> HistoryEntry:
    created = when.isoformat() if isinstance(when, datetime.datetime) else when
    return HistoryEntry(target, created, 30, "PICKUP", {}, True)


# -- called back or not: pure ------------------------------------------------------------------


def test_a_call_back_after_the_missed_call_drops_it_one_before_does_not() -> None:
    calls = [missed(ADA, at(10)), missed(ADA, at(11)), missed(GRACE, at(9))]
    waiting = not_called_back(calls, [outgoing(ADA, at(10, 30)), outgoing(GRACE, at(9, 30))], [])
    assert [(c.number, c.count, c.newest.when) for c in waiting] == [(ADA, 1, at(11))]


def test_the_recent_numbers_count_as_calls_back() -> None:
    calls = [missed(ADA, at(10)), missed(GRACE, at(9))]
    recent = [Recent(GRACE, at(12).isoformat(), "+49 30 1234567")]
    assert [c.number for c in not_called_back(calls, [], recent)] == [ADA]


def test_a_call_back_without_a_readable_time_does_not_count() -> None:
    calls = [missed(ADA, at(10))]
    assert len(not_called_back(calls, [], [Recent(ADA, "", ADA)])) == 1
    assert len(not_called_back(calls, [outgoing(ADA, "yesterday")], [])) == 1


def test_a_missed_call_without_a_time_counts_as_called_back_once_one_is_known() -> None:
    calls = [missed(ADA, None)]
    assert len(not_called_back(calls, [], [])) == 1
    assert not_called_back(calls, [outgoing(ADA, at(8))], []) == []


def test_one_entry_per_number_newest_first_with_the_count() -> None:
    calls = [missed(GRACE, at(8)), missed(ADA, at(9)), missed(GRACE, at(12)), missed(ADA, at(7))]
    waiting = not_called_back(calls, [], [])
    assert [(c.number, c.count) for c in waiting] == [(GRACE, 2), (ADA, 2)]
    assert [call.when for call in waiting[0].calls] == [at(12), at(8)]


def test_a_history_target_written_nationally_is_the_same_number() -> None:
    assert not_called_back([missed(GRACE, at(9))], [outgoing("030 1234567", at(10))], []) == []


def test_anonymous_callers_are_summarised_but_never_waiting() -> None:
    calls = [missed(None, at(9), "anonymous"), missed(None, at(10), ""), missed(ADA, at(8))]
    summary = summarise(calls, [outgoing(ADA, at(11))], [])
    assert [(c.number, c.anonymous, c.count, c.called_back) for c in summary] == [
        (None, True, 2, False),
        (ADA, False, 1, True),
    ]
    assert [c.number for c in not_called_back(calls, [], [])] == [ADA]


def test_the_json_object_has_the_documented_keys() -> None:
    [caller] = summarise([missed(ADA, at(9))], [], [])
    assert caller.to_json() == {
        "number": ADA,
        "raw": ADA,
        "time": at(9).isoformat(),
        "count": 1,
        "calledBack": False,
    }


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (0.5, "just now"),
        (10, "10 min ago"),
        (59, "59 min ago"),
        (180, "3 h ago"),
        (4000, "2 days ago"),
        (-5, ""),
    ],
)
def test_the_age_in_words(minutes: float, words: str) -> None:
    assert ago_words(at(12) - datetime.timedelta(minutes=minutes), at(12)) == words
    assert ago_words(None, at(12)) == ago_words(at(12), None) == ""


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("+4915799912347", ADA),
        ("4915799912347", ADA),
        ("004915799912347", ADA),
        ("01579 9912347", ADA),  # national, as the spec's examples write numbers
        ("anonymous", None),
        ("", None),
        ("0800-FLOWERS", None),
        (4915799912347, ADA),
    ],
)
def test_callers_as_sipgate_may_write_them(written: object, e164: str | None) -> None:
    assert caller_number(written, "DE") == e164


def test_history_items_that_are_no_missed_call_are_left_out() -> None:
    good = {"source": "anonymous", "created": "2026-11-30T10:00:00Z"}
    assert parse_missed_item(good) is not None and parse_missed_item(good).anonymous  # type: ignore[union-attr]
    assert parse_missed_item({**good, "direction": "OUTGOING"}) is None  # a filter ignored
    assert parse_missed_item({**good, "type": "SMS"}) is None
    assert parse_missed_item({**good, "source": ["+49"]}) is None
    assert parse_missed_item({"source": None}) is None  # no caller, no time: nothing to show
    assert parse_missed_item({"source": None, "created": "2026-11-30T10:00:00Z"}) is not None
    assert parse_missed_item("x") is None


def test_only_incoming_missed_events_are_missed_calls() -> None:
    call = {"direction": "INCOMING", "state": "MISSED", "from": "+4915799912347"}
    event = {"type": "CALL", "createdAt": "2026-11-30T10:00:00Z", "call": call}
    assert parse_missed_event(event).number == ADA  # type: ignore[union-attr]
    assert parse_missed_event({**event, "call": {**call, "state": "FINISHED"}}) is None
    assert parse_missed_event({**event, "call": {**call, "direction": "OUTGOING"}}) is None
    assert parse_missed_event({**event, "type": "SMS"}) is None


# -- history --missed against the simulator --------------------------------------------------


def context(sim: SipgateSimulator, *, known: bool = True, **kwargs: object) -> AppContext:
    """A context for the simulator; ``known``: the account type remembered for the token, as
    login and the first call leave it."""
    ctx = make_context(sim.url, **kwargs)  # type: ignore[arg-type]
    if known:
        ctx.make_settings().remember(account_type=(TOKEN_ID, sim.account_type))
    return ctx


def shown(sim: SipgateSimulator, ctx: AppContext | None = None, **options: object) -> str:
    ctx = ctx or context(sim)
    assert history(HistoryOptions(missed=True, **options), ctx) == ExitCode.OK  # type: ignore[arg-type]
    return output_of(ctx.out)


def as_json(sim: SipgateSimulator, ctx: AppContext | None = None) -> tuple[list[Any], str]:
    ctx = ctx or context(sim)
    assert history(HistoryOptions(missed=True, json=True), ctx) == ExitCode.OK
    return json.loads(output_of(ctx.out)), output_of(ctx.err)


def gets(sim: SipgateSimulator) -> list[tuple[str, dict[str, list[str]]]]:
    return [(r.path, r.query) for r in sim.requests if r.method == "GET"]


@pytest.fixture(params=["classic", "neo"])
def sim(request: pytest.FixtureRequest) -> Iterator[SipgateSimulator]:
    with SipgateSimulator(account_type=request.param) as simulator:
        yield simulator


def test_the_sample_is_listed_per_caller_with_counts_and_calls_back(sim: SipgateSimulator) -> None:
    sim.add_missed_sample()
    text = shown(sim)
    lines = [line for line in text.splitlines() if "×" in line]
    assert len(lines) == 3
    assert "+49 1579 9912347" in lines[0] and "2×" in lines[0] and lines[0].rstrip().endswith("no")
    assert "anonymous (number withheld)" in lines[1] and lines[1].rstrip().endswith("–")
    assert "+49 30 1234567" in lines[2] and lines[2].rstrip().endswith("yes")
    assert "10 min ago" in lines[0]
    assert "00:00" not in text  # missed calls have no duration
    assert "Call back with: sipgate-tui call +4915799912347" in text


def test_the_json_is_one_object_per_caller(sim: SipgateSimulator) -> None:
    sim.add_missed_sample()
    callers, errors = as_json(sim)
    assert errors == ""
    assert [(c["number"], c["raw"], c["count"], c["calledBack"]) for c in callers] == [
        (ADA, ADA, 2, False),
        (None, "anonymous", 1, False),
        (GRACE, GRACE, 1, True),
    ]
    assert all(set(c) == {"number", "raw", "time", "count", "calledBack"} for c in callers)
    assert callers[0]["time"].startswith(time.strftime("%Y-", time.gmtime()))


def test_a_call_placed_from_here_since_counts_as_the_call_back(sim: SipgateSimulator) -> None:
    sim.add_missed_sample()
    ctx = context(sim)
    ctx.make_settings().remember_call(ADA, "e0", "+49 1579 9912347")
    callers, _ = as_json(sim, ctx)
    assert callers[0]["number"] == ADA and callers[0]["calledBack"] is True


def test_classic_asks_for_missed_calls_then_for_outgoing_ones(simulator: SipgateSimulator) -> None:
    simulator.add_missed_sample()
    shown(simulator)
    [(path1, first), (path2, second)] = gets(simulator)
    assert path1 == path2 == "/history"
    assert first["directions"] == ["MISSED_INCOMING"] and first["types"] == ["CALL"]
    assert second["directions"] == ["OUTGOING"]


def test_no_missed_calls_costs_one_request(simulator: SipgateSimulator) -> None:
    simulator.add_past_call(GRACE, at=time.time() - 60)
    assert flat(shown(simulator, context(simulator))) == "No missed calls in the history."
    assert [path for path, _ in gets(simulator)] == ["/history"]  # no outgoing calls asked


@pytest.mark.parametrize("account", ["classic", "neo"])
def test_an_unknown_account_type_finds_the_missed_calls_where_they_are(account: str) -> None:
    with SipgateSimulator(account_type=account) as sim:
        sim.add_missed_call(ADA)
        callers, _ = as_json(sim, context(sim, known=False))
        assert [c["number"] for c in callers] == [ADA]
        paths = [path for path, _ in gets(sim)]
        assert paths[0] == "/history"
        assert ("/channels/ch0/events" in paths) == (account == "neo")


def test_neo_reads_the_channel_once_for_missed_and_outgoing_calls() -> None:
    with SipgateSimulator(account_type="neo") as neo:
        neo.add_missed_sample()
        shown(neo)
        paths = [path for path, _ in gets(neo)]
        assert paths.count("/channels/ch0/events") == 1


def test_a_private_channel_is_skipped_with_a_note() -> None:
    with SipgateSimulator(account_type="neo") as neo:
        neo.channels.append(SimulatedChannel("ch1", "Boss", ("e0",), private=True))
        neo.add_missed_call(ADA, channel_id="ch0")
        neo.add_missed_call(GRACE, channel_id="ch1")
        callers, errors = as_json(neo)
        assert [c["number"] for c in callers] == [ADA]
        assert "Skipped the channel Boss" in flat(errors)


def test_missed_calls_from_history_and_events_are_merged_on_a_migrated_account() -> None:
    with SipgateSimulator(account_type="neo") as neo:
        neo.neo_history_calls = True
        neo.add_missed_call(ADA, at=time.time() - 600)
        neo.history.append(
            {
                "id": "old",
                "source": "0301234567",  # national: the same as +49301234567
                "created": "2026-01-05T10:00:00Z",
                "direction": "MISSED_INCOMING",
                "type": "CALL",
            }
        )
        callers, _ = as_json(neo)
        assert [c["number"] for c in callers] == [ADA, GRACE]


def test_classic_without_history_read_gives_the_history_fix(simulator: SipgateSimulator) -> None:
    simulator.tokens[TOKEN_ID] = SimulatedToken(simulator.tokens[TOKEN_ID].token, frozenset())
    with pytest.raises(AppError) as caught:
        history(HistoryOptions(missed=True), make_context(simulator.url))
    assert caught.value.code == "history-unavailable"
    assert "history:read" in (caught.value.hint or "")


def test_neo_without_channels_read_names_the_scope() -> None:
    with SipgateSimulator(account_type="neo") as neo:
        token = neo.tokens[TOKEN_ID].token
        neo.tokens[TOKEN_ID] = SimulatedToken(token, frozenset({"history:read"}))
        with pytest.raises(AppError) as caught:
            history(HistoryOptions(missed=True), context(neo))
        assert "channels:read" in (caught.value.hint or "") + caught.value.message


def test_pages_of_unusable_items_end_the_reading(simulator: SipgateSimulator) -> None:
    simulator.respond_with(200, {"items": [{"source": 1}] * 100}, path="/history")
    assert flat(shown(simulator)) == "No missed calls in the history."
    assert len(gets(simulator)) == 1


def test_pages_that_never_end_are_capped(simulator: SipgateSimulator) -> None:
    # One usable call among 99 unusable items on every page, without end: the page cap ends it.
    usable = {"source": ADA, "created": "2026-11-30T10:00:00Z"}
    page = {"items": [usable, *[{"source": 1}] * 99]}
    simulator.respond_with(200, page, path="/history")
    ctx = context(simulator)
    assert history(HistoryOptions(missed=True, json=True, limit=1000), ctx) == ExitCode.OK
    [caller] = json.loads(output_of(ctx.out))
    assert caller["count"] == MAX_HISTORY_PAGES
    missed_pages = [q for _, q in gets(simulator) if q["directions"] == ["MISSED_INCOMING"]]
    assert len(missed_pages) == MAX_HISTORY_PAGES
    assert len(gets(simulator)) == MAX_HISTORY_PAGES + 1  # and one page of outgoing calls


def test_escapes_in_the_caller_and_the_name_are_cleaned(simulator: SipgateSimulator) -> None:
    simulator.add_missed_call("\x1b]0;pwned\x07+49 1579\u202e9912347", alias="\x1b[2JAda\u202e")
    simulator.add_missed_call("\x1b[31mevil\x1b[0m")
    text = shown(simulator)
    assert "\x1b" not in text and "\u202e" not in text and "pwned" not in text
    assert "Ada · +49 1579 9912347" in text
    assert "evil (not a number to call)" in text
    callers, _ = as_json(simulator, context(simulator))
    assert "\x1b" not in json.dumps(callers, ensure_ascii=False)


def test_the_narrow_layout_is_a_list(simulator: SipgateSimulator) -> None:
    simulator.add_missed_sample()
    text = shown(simulator, context(simulator, width=44))
    assert "Called back" not in text  # no table header
    said = flat(text)
    assert "Ada Lovelace · +49 1579 9912347" in text.splitlines()  # the time on its own line
    assert "2 calls · not called back" in said and "1 call · cannot call back" in said
    assert max(len(line) for line in text.splitlines()) <= 44


def test_the_plain_history_shows_no_length_for_an_unanswered_call(
    simulator: SipgateSimulator,
) -> None:
    simulator.phones_answer = False
    simulator.history = [
        {
            "id": "h1",
            "source": "+492115550001",
            "target": GRACE,
            "created": "2026-11-30T10:00:00Z",
            "direction": "OUTGOING",
            "type": "CALL",
            "status": "NOPICKUP",
            "duration": 0,
        },
        {
            "id": "h2",
            "source": "+492115550001",
            "target": ADA,
            "created": "2026-11-30T09:00:00Z",
            "direction": "OUTGOING",
            "type": "CALL",
            "status": "PICKUP",
            "duration": 0,
        },
    ]
    ctx = make_context(simulator.url)
    history(HistoryOptions(), ctx)
    lines = output_of(ctx.out).splitlines()
    assert "–" in next(line for line in lines if "+49 30 1234567" in line)
    assert "00:00" in next(line for line in lines if "+49 1579 9912347" in line)  # connected
