"""The simulator's sipgate Neo mode, asked over HTTP with plain ``requests`` (not the client).

What a Neo account answers is checked here against sipgate-api.md ("sipgate Neo accounts"), so
the client's tests can trust the simulator; each disputed point is a switch, tested both ways.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sipgate_tui.simulator import (
    CLASSIC_PBX_REFUSAL,
    SimulatedChannel,
    SimulatedToken,
    SipgateSimulator,
)

TOKEN_ID = "token-SIM001"
TOKEN = "5f0c2a4e-8b1d-4c6f-9e3a-7d2b1c0e9f84"
AUTH = (TOKEN_ID, TOKEN)
DIAL = {"deviceId": "e0", "targetNumber": "4915799912345", "channelId": "ch0"}


@pytest.fixture
def neo() -> Iterator[SipgateSimulator]:
    with SipgateSimulator(account_type="neo") as sim:
        sim.connect_after = 0
        yield sim


def get(sim: SipgateSimulator, path: str, **params: Any) -> requests.Response:
    return requests.get(sim.url + path, params=params, auth=AUTH, timeout=5)


def post(sim: SipgateSimulator, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(sim.url + path, json=body, auth=AUTH, timeout=5)


def only_scopes(sim: SipgateSimulator, *scopes: str) -> None:
    sim.tokens[TOKEN_ID] = SimulatedToken(TOKEN, frozenset(scopes))


# -- the account type shows in what the classic-only endpoints answer -----------------------


@pytest.mark.parametrize("path", ["/groups", "/w0/phonelines"])
def test_neo_refuses_classic_only_reads_with_the_plain_sentence(
    neo: SipgateSimulator, path: str
) -> None:
    answer = get(neo, path)
    assert answer.status_code == 403
    assert answer.text == CLASSIC_PBX_REFUSAL
    assert answer.headers["Content-Type"].startswith("text/plain")


def test_neo_refuses_the_classic_dial_and_places_nothing(neo: SipgateSimulator) -> None:
    answer = post(neo, "/sessions/calls", {"caller": "e0", "callee": "+4915799912345"})
    assert (answer.status_code, answer.text) == (403, CLASSIC_PBX_REFUSAL)
    assert neo.sessions == [] and neo.history == []
    assert len(neo.call_requests()) == 1 and len(neo.dial_requests()) == 1


def test_the_classic_dial_still_works_on_neo_when_switched(neo: SipgateSimulator) -> None:
    neo.neo_sessions_calls_work = True  # the j-lawyer note: "still works"
    answer = post(neo, "/sessions/calls", {"caller": "e0", "callee": "+4915799912345"})
    assert answer.status_code == 200 and "sessionId" in answer.json()


@pytest.mark.parametrize(("before", "status_text"), [(False, "lacks"), (True, "Classic PBX")])
def test_without_the_scope_the_refusal_comes_first_only_when_switched(
    neo: SipgateSimulator, before: bool, status_text: str
) -> None:
    only_scopes(neo, "sessions:calls:write")
    neo.neo_refusal_before_scope = before
    answer = get(neo, "/groups")
    assert answer.status_code == 403 and status_text in answer.text


def test_classic_answers_the_classic_only_reads_and_not_the_neo_ones(
    simulator: SipgateSimulator,
) -> None:
    assert get(simulator, "/groups").json()["items"] == [{"id": "g1", "alias": "Office"}]
    assert get(simulator, "/w0/phonelines").json()["items"] == [{"id": "p0", "alias": "Main line"}]
    assert get(simulator, "/channels").status_code == 404
    assert get(simulator, "/channels/ch0/events").status_code == 404
    assert post(simulator, "/calls", DIAL).status_code == 404
    assert simulator.dial_requests() and not simulator.call_requests()


def test_classic_needs_the_probe_scopes(simulator: SipgateSimulator) -> None:
    only_scopes(simulator, "sessions:calls:write")
    for path in ("/groups", "/w0/phonelines"):
        answer = get(simulator, path)
        assert answer.status_code == 403 and "lacks scope" in answer.text


def test_an_account_type_the_simulator_does_not_know_is_refused() -> None:
    with pytest.raises(ValueError, match="account_type"):
        SipgateSimulator(account_type="neo-ish")


# -- devices and channels -------------------------------------------------------------------


def ids(answer: requests.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


def test_the_desktop_app_is_listed_only_when_every_type_is_asked_for(
    neo: SipgateSimulator,
) -> None:
    assert ids(get(neo, "/w0/devices")) == ["e0", "e1", "y0", "x0"]
    assert ids(get(neo, "/w0/devices", type="all")) == ["e0", "e1", "y0", "x0", "e2"]
    assert ids(get(neo, "/w0/devices", type="app,mobile")) == ["y0", "e2"]
    assert get(neo, "/w0/devices", type="phones").status_code == 400


def test_classic_devices_are_as_before_whatever_the_type(simulator: SipgateSimulator) -> None:
    assert ids(get(simulator, "/w0/devices", type="all")) == ["e0", "e1", "y0", "x0"]


def test_channels_list_the_users_devices(neo: SipgateSimulator) -> None:
    neo.channels.append(SimulatedChannel("ch1", "Support", ("e0",), other_users={"w1": ("e5",)}))
    answer = get(neo, "/channels")
    assert answer.status_code == 200
    assert answer.json() == {
        "items": [
            {
                "id": "ch0",
                "name": "Main",
                "owner": "w0",
                "users": [{"id": "w0", "deviceIds": ["e0", "e1", "e2"]}],
            },
            {
                "id": "ch1",
                "name": "Support",
                "owner": "w0",
                "users": [{"id": "w0", "deviceIds": ["e0"]}, {"id": "w1", "deviceIds": ["e5"]}],
            },
        ],
        "totalCount": 2,
    }
    assert get(neo, "/channels", limit=1, offset=1).json()["items"][0]["id"] == "ch1"


def test_channels_need_channels_read(neo: SipgateSimulator) -> None:
    only_scopes(neo, "sessions:calls:write", "devices:read")
    for path in ("/channels", "/channels/ch0/events"):
        answer = get(neo, path)
        assert answer.status_code == 403 and "channels:read" in answer.text


# -- POST /calls ----------------------------------------------------------------------------


def test_a_neo_call_is_placed_and_its_id_comes_back(neo: SipgateSimulator) -> None:
    answer = post(neo, "/calls", {**DIAL, "callerId": "492115550001"})
    assert answer.status_code == 200
    [placed] = neo.neo_calls
    assert answer.json() == {"callSid": placed["callSid"]}
    assert placed["targetNumber"] == "4915799912345"
    assert len(neo.neo_call_requests()) == 1 and neo.call_requests() == []


def test_the_answers_field_name_and_status_are_switches(neo: SipgateSimulator) -> None:
    neo.neo_call_id_field, neo.neo_call_status = "callId", 201
    answer = post(neo, "/calls", DIAL)
    assert answer.status_code == 201 and set(answer.json()) == {"callId"}


@pytest.mark.parametrize(
    ("numbers", "target", "status"),
    [
        ("any", "4915799912345", 200),
        ("any", "+4915799912345", 200),
        ("digits", "4915799912345", 200),
        ("digits", "+4915799912345", 400),
        ("plus", "+4915799912345", 200),
        ("plus", "4915799912345", 400),
    ],
)
def test_the_number_format_is_a_switch(
    neo: SipgateSimulator, numbers: str, target: str, status: int
) -> None:
    neo.neo_numbers = numbers
    assert post(neo, "/calls", {**DIAL, "targetNumber": target}).status_code == status
    both = {**DIAL, "targetNumber": target, "callerId": target}
    assert post(neo, "/calls", both).status_code == status


def test_the_caller_id_is_held_to_the_same_format(neo: SipgateSimulator) -> None:
    neo.neo_numbers = "digits"
    answer = post(neo, "/calls", {**DIAL, "callerId": "+492115550001"})
    assert answer.status_code == 400 and "callerId" in answer.text


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        ({"deviceId": "y0", "channelId": None}, 400, "Invalid invitable device"),
        ({"deviceId": "e9"}, 403, "cannot access extension"),
        ({"channelId": "ch9"}, 400, "unknown channel"),
        ({"deviceId": "x0"}, 400, "not in this channel"),
        ({"targetNumber": ""}, 400, "targetNumber"),
        ({"deviceId": None}, 400, "deviceId"),
        ({"channelId": ""}, 400, "channelId is empty"),
    ],
)
def test_a_neo_call_sipgate_would_refuse_is_refused(
    neo: SipgateSimulator, change: dict[str, Any], status: int, says: str
) -> None:
    body = {k: v for k, v in {**DIAL, **change}.items() if v is not None}
    answer = post(neo, "/calls", body)
    assert answer.status_code == status and says in answer.text
    assert neo.neo_calls == []


def test_without_a_channel_the_devices_own_channel_is_used(neo: SipgateSimulator) -> None:
    answer = post(neo, "/calls", {"deviceId": "e2", "targetNumber": "4915799912345"})
    assert answer.status_code == 200
    [event] = neo.channel("ch0").events  # type: ignore[union-attr]
    assert event["call"]["channelId"] == "ch0"


def test_a_device_in_no_channel_is_accepted_and_never_rings(neo: SipgateSimulator) -> None:
    neo.neo_calls_list = True
    answer = post(neo, "/calls", {"deviceId": "x0", "targetNumber": "4915799912345"})
    assert answer.status_code == 200  # "API says success, phone does not ring"
    assert neo.channel("ch0").events == []  # type: ignore[union-attr]
    assert get(neo, "/calls").json() == {"data": []}


def test_a_missing_channel_is_refused_when_switched(neo: SipgateSimulator) -> None:
    neo.neo_channel_required = True
    answer = post(neo, "/calls", {"deviceId": "e0", "targetNumber": "4915799912345"})
    assert answer.status_code == 400 and "channelId is required" in answer.text


def test_a_neo_call_needs_the_write_scope_and_credit(neo: SipgateSimulator) -> None:
    neo.balance_cents = 0
    assert post(neo, "/calls", DIAL).status_code == 402
    only_scopes(neo, "devices:read")
    assert post(neo, "/calls", DIAL).status_code == 403
    assert neo.neo_calls == []


# -- after the dial on Neo ------------------------------------------------------------------


def test_a_placed_call_is_an_event_in_its_channel(neo: SipgateSimulator) -> None:
    before = time.time()
    call_sid = post(neo, "/calls", {**DIAL, "callerId": "492115550002"}).json()["callSid"]
    answer = get(neo, "/channels/ch0/events")
    assert answer.status_code == 200
    [event] = answer.json()["events"]
    call = event["call"]
    assert (event["type"], call["callSid"], call["channelId"]) == ("CALL", call_sid, "ch0")
    assert (call["direction"], call["from"], call["to"]) == (
        "OUTGOING",
        "+492115550002",
        "+4915799912345",
    )
    assert call["state"] == "ESTABLISHED" and call["terminatedAt"] is None
    assert event["createdAt"] == call["startedAt"] and call["startedAt"].endswith("Z")
    started = time.mktime(time.strptime(call["startedAt"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert abs(started - time.timezone - before) < 5
    assert answer.json()["limit"] == 20 and "position" not in answer.json()


def test_a_call_nobody_answers_is_missed(neo: SipgateSimulator) -> None:
    neo.phones_answer = False
    neo.neo_event_numbers = "digits"
    post(neo, "/calls", DIAL)
    [event] = get(neo, "/channels/ch0/events").json()["events"]
    assert event["call"]["state"] == "MISSED" and event["call"]["terminatedAt"]
    assert event["call"]["to"] == "4915799912345"


def test_a_ringing_call_is_established_after_a_while(neo: SipgateSimulator) -> None:
    neo.connect_after = 0.2
    post(neo, "/calls", DIAL)
    states = [get(neo, "/channels/ch0/events").json()["events"][0]["call"]["state"]]
    time.sleep(0.4)
    states.append(get(neo, "/channels/ch0/events").json()["events"][0]["call"]["state"])
    assert states == ["RINGING", "ESTABLISHED"]


def test_neo_lists_no_active_calls_and_hangs_up_none_by_default(neo: SipgateSimulator) -> None:
    call_sid = post(neo, "/calls", DIAL).json()["callSid"]
    assert get(neo, "/calls").status_code == 404
    answer = requests.delete(f"{neo.url}/calls/{call_sid}", auth=AUTH, timeout=5)
    assert answer.status_code == 404
    assert neo.active_calls  # still going: nothing was hung up


def test_the_calls_list_and_hangup_work_on_neo_when_switched(neo: SipgateSimulator) -> None:
    neo.neo_calls_list = neo.neo_hangup = True
    call_sid = post(neo, "/calls", DIAL).json()["callSid"]
    assert [call["callId"] for call in get(neo, "/calls").json()["data"]] == [call_sid]
    answer = requests.delete(f"{neo.url}/calls/{call_sid}", auth=AUTH, timeout=5)
    assert answer.status_code == 204
    [event] = get(neo, "/channels/ch0/events").json()["events"]
    assert event["call"]["state"] == "FINISHED" and event["call"]["terminatedAt"]
    assert get(neo, "/calls").json() == {"data": []}


def test_the_other_side_hanging_up_ends_the_event(neo: SipgateSimulator) -> None:
    call_sid = post(neo, "/calls", DIAL).json()["callSid"]
    assert neo.end_call(call_sid) and not neo.end_call(call_sid)
    [event] = get(neo, "/channels/ch0/events").json()["events"]
    assert event["call"]["terminatedReason"] == "HANGUP"


def test_neo_history_holds_no_calls_unless_migrated(neo: SipgateSimulator) -> None:
    post(neo, "/calls", DIAL)
    assert get(neo, "/history", types="CALL").json() == {"items": [], "totalCount": 0}
    neo.neo_history_calls = True
    post(neo, "/calls", DIAL)
    [item] = get(neo, "/history", types="CALL").json()["items"]
    assert (item["target"], item["direction"], item["type"]) == (
        "4915799912345",
        "OUTGOING",
        "CALL",
    )


# -- events: paging with the opaque position -------------------------------------------------


def add_events(sim: SipgateSimulator, count: int, channel: str = "ch0") -> None:
    for i in range(count):
        sim.add_call_event(channel, f"+49211555{i:04d}", started=1_800_000_000 + 60 * i)


def read_all_events(sim: SipgateSimulator, **params: Any) -> tuple[list[dict], list[int]]:
    events: list[dict] = []
    sizes: list[int] = []
    position = None
    while True:
        query = {**params, **({"position": position} if position else {})}
        answer = get(sim, "/channels/ch0/events", **query).json()
        events += answer["events"]
        sizes.append(len(answer["events"]))
        position = answer.get("position")
        if position is None:
            return events, sizes


def test_events_page_with_an_opaque_position_newest_first(neo: SipgateSimulator) -> None:
    add_events(neo, 45)
    events, sizes = read_all_events(neo)
    assert sizes == [20, 20, 5]
    targets = [event["call"]["to"] for event in events]
    assert targets == [f"+49211555{i:04d}" for i in reversed(range(45))]
    first = get(neo, "/channels/ch0/events").json()
    assert not first["position"].isdigit()  # a cursor, not an offset


def test_the_page_size_is_capped_and_the_order_is_a_switch(neo: SipgateSimulator) -> None:
    add_events(neo, 150)
    events, sizes = read_all_events(neo, limit=1000)
    assert sizes == [100, 50] and len({e["eventId"] for e in events}) == 150
    assert get(neo, "/channels/ch0/events", limit=1000).json()["limit"] == 100
    neo.neo_events_oldest_first = True
    first = get(neo, "/channels/ch0/events", limit=1).json()["events"][0]
    assert first["call"]["to"] == "+492115550000"


def test_a_position_stays_valid_while_new_calls_arrive(neo: SipgateSimulator) -> None:
    add_events(neo, 30)
    first = get(neo, "/channels/ch0/events").json()
    post(neo, "/calls", DIAL)  # a new call at the top while paging
    second = get(neo, "/channels/ch0/events", position=first["position"]).json()
    seen = [e["eventId"] for e in first["events"] + second["events"]]
    assert len(seen) == len(set(seen)) == 30


@pytest.mark.parametrize("position", ["42", "bm90LW91cnM", "%%%"])
def test_a_position_that_is_not_the_servers_is_refused(
    neo: SipgateSimulator, position: str
) -> None:
    add_events(neo, 3)
    assert get(neo, "/channels/ch0/events", position=position).status_code == 400


def test_a_private_channel_refuses_its_events(neo: SipgateSimulator) -> None:
    neo.channels.append(SimulatedChannel("ch1", "Boss", ("e0",), private=True))
    add_events(neo, 2, channel="ch1")
    answer = get(neo, "/channels/ch1/events")
    assert answer.status_code == 403
    assert get(neo, "/channels/nope/events").status_code == 404
    assert [c["id"] for c in get(neo, "/channels").json()["items"]] == ["ch0", "ch1"]


def test_add_call_event_needs_a_known_channel(neo: SipgateSimulator) -> None:
    with pytest.raises(KeyError):
        neo.add_call_event("ch7", "+4915799912345")
