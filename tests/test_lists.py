"""``devices`` and ``numbers``: tables, JSON with the API's field names, paging, odd answers."""

from __future__ import annotations

import json

import pytest
from helpers import TOKEN, TOKEN_ID, flat, make_context, output_of

from sipgate_tui.commands.lists import ListOptions, devices, numbers
from sipgate_tui.errors import AppError, ExitCode
from sipgate_tui.simulator import SimulatedDevice, SimulatedToken, SipgateSimulator


def test_devices_table_marks_offline_phones(simulator: SipgateSimulator) -> None:
    ctx = make_context(simulator.url, width=100)
    assert devices(ListOptions(), ctx) == ExitCode.OK
    shown = output_of(ctx.out)
    assert "Desk phone" in shown and "e0" in shown
    assert "OFFLINE" in shown  # e1
    assert "Offline phones (e1) do not ring" in flat(shown)
    assert "Main line" in shown


def test_devices_json_is_the_api_objects(simulator: SipgateSimulator) -> None:
    ctx = make_context(simulator.url)
    devices(ListOptions(json=True), ctx)
    document = json.loads(output_of(ctx.out))
    assert [item["id"] for item in document] == ["e0", "e1", "y0", "x0"]
    assert document[1] == simulator.devices[1].to_api()  # the API's own field names


def test_devices_are_read_defensively(simulator: SipgateSimulator) -> None:
    simulator.respond_with(
        200,
        {
            "items": [
                {"id": "e0", "alias": None, "online": "yes", "dnd": 1},
                {"alias": "no id"},
                "not an object",
                {"id": "w0", "alias": "Web user", "type": "WEB"},
            ]
        },
        path="/w0/devices",
    )
    ctx = make_context(simulator.url)
    devices(ListOptions(), ctx)
    shown = output_of(ctx.out)
    assert "e0" in shown and "w0" in shown and "no id" not in shown


def test_the_user_id_is_cached_per_token(simulator: SipgateSimulator, tmp_path) -> None:
    devices(ListOptions(), make_context(simulator.url, settings_dir=tmp_path))
    devices(ListOptions(), make_context(simulator.url, settings_dir=tmp_path))
    paths = [r.path for r in simulator.requests]
    assert paths == ["/authorization/userinfo", "/w0/devices", "/w0/devices"]


def test_without_devices_read_the_scope_is_named(simulator: SipgateSimulator) -> None:
    simulator.tokens[TOKEN_ID] = SimulatedToken(TOKEN, frozenset({"sessions:calls:write"}))
    with pytest.raises(AppError) as caught:
        devices(ListOptions(), make_context(simulator.url))
    assert (caught.value.code, caught.value.exit_code) == ("forbidden", ExitCode.REFUSED)
    assert "devices:read" in caught.value.hint


def test_numbers_follow_every_page(simulator: SipgateSimulator) -> None:
    simulator.numbers = [
        {
            "id": f"n{i}",
            "number": f"49211555{i:04d}",
            "type": "LANDLINE",
            "endpointId": "p0",
            "endpointAlias": "Main line",
        }
        for i in range(150)
    ]
    ctx = make_context(simulator.url)
    numbers(ListOptions(json=True), ctx)
    document = json.loads(output_of(ctx.out))
    assert len(document) == 150
    assert document[0]["number"] == "+492115550000" and document[149]["number"] == "+492115550149"
    pages = [r.query for r in simulator.requests if r.path == "/numbers"]
    assert [page["offset"] for page in pages] == [["0"], ["100"]]


@pytest.mark.parametrize(
    ("sent", "e164"),
    [
        ("+492115550001", "+492115550001"),
        ("492115550001", "+492115550001"),
        (492115550001, "+492115550001"),
        ("00492115550001", "+492115550001"),
    ],
)
def test_numbers_in_any_form_become_e164(
    simulator: SipgateSimulator, sent: object, e164: str
) -> None:
    simulator.numbers = [
        {"id": "n1", "number": sent, "type": "LANDLINE"},
        {"id": "n2", "number": None},
        {"id": "n3", "number": True},
    ]
    ctx = make_context(simulator.url)
    numbers(ListOptions(json=True), ctx)
    assert [item["number"] for item in json.loads(output_of(ctx.out))] == [e164]


def test_numbers_table(simulator: SipgateSimulator) -> None:
    ctx = make_context(simulator.url)
    numbers(ListOptions(), ctx)
    shown = output_of(ctx.out)
    assert "+49 211 5550001" in shown and "landline" in shown and "Main line" in shown


def test_a_device_without_call_capability_is_listed_dimmed_not_offered(
    simulator: SipgateSimulator,
) -> None:
    simulator.devices.append(SimulatedDevice("f0", "Fax", type="FAX"))
    ctx = make_context(simulator.url)
    devices(ListOptions(), ctx)
    assert "f0" in output_of(ctx.out)


def test_devices_in_a_narrow_terminal_are_a_list(simulator: SipgateSimulator) -> None:
    ctx = make_context(simulator.url, width=40)
    devices(ListOptions(), ctx)
    shown = output_of(ctx.out)
    assert max(len(line) for line in shown.splitlines()) <= 40
    assert "e1  Softphone (laptop)" in shown and "OFFLINE · VoIP phone" in shown


def test_devices_name_types_as_every_other_place_does(simulator: SipgateSimulator) -> None:
    """REGISTER is a "VoIP phone", as the pickers and the call panels say; never "register"."""
    wide = make_context(simulator.url, width=100)
    devices(ListOptions(), wide)
    shown = output_of(wide.out)
    assert "VoIP phone" in shown and "mobile phone" in shown and "external phone" in shown
    assert "register" not in shown.lower()
