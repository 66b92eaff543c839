"""``call`` with a link or a dial string as the callee, ``--dtmf``, and ``--from-desktop``: what
is sent, what is shown, and what is refused before anything is sent."""

from __future__ import annotations

import json

import pytest
from helpers import TOKEN, ScriptedPrompter, flat, make_context, output_of

from sipgate_tui.commands.call import CallOptions, run
from sipgate_tui.errors import AppError, ExitCode
from sipgate_tui.simulator import SipgateSimulator

PIN_LINK = "tel:+496971049922,,85512345678#"


def _json_call(simulator: SipgateSimulator, **options: object) -> dict:
    ctx = make_context(simulator.url)
    code = run(CallOptions(device="e0", yes=True, json=True, **options), ctx)  # type: ignore[arg-type]
    assert code == ExitCode.OK
    return json.loads(output_of(ctx.out))


@pytest.mark.parametrize(
    ("callee", "sent"),
    [
        ("tel:+49 211 5550003", "+492115550003"),
        ("tel:%2B49%20211%205550003", "+492115550003"),
        ("tel:0211-5550003;phone-context=+49", "+492115550003"),
        ("TEL://+49-211-555-0003", "+492115550003"),
        ("callto:+492115550003", "+492115550003"),
        ("sip:+492115550003@sipgate.de;user=phone", "+492115550003"),
    ],
)
def test_a_link_calls_its_number_and_says_it_came_from_a_link(
    simulator: SipgateSimulator, callee: str, sent: str
) -> None:
    document = _json_call(simulator, callee=callee)
    [request] = simulator.call_requests()
    assert request.json == {"caller": "e0", "callee": sent}
    assert document["callee"]["source"] == "link"
    assert document["callee"]["link"] == callee
    assert document["tones"] is None


def test_a_meeting_link_keeps_its_pin_as_tones_the_user_must_type_with_json(
    simulator: SipgateSimulator,
) -> None:
    document = _json_call(simulator, callee=PIN_LINK)
    [request] = simulator.call_requests()
    assert request.json["callee"] == "+496971049922"  # the PIN is never part of the number
    assert document["tones"] == {
        "sequence": ",,85512345678#",
        "digits": "85512345678#",
        "sentBy": "you",  # --json never follows the call, so nothing sends them
        "scope": "rtcm:write",
    }


def test_a_typed_number_with_tones_after_it_is_read_like_a_link(
    simulator: SipgateSimulator,
) -> None:
    document = _json_call(simulator, callee="+49 69 71049922,,855 123#")
    assert simulator.call_requests()[0].json["callee"] == "+496971049922"
    assert document["callee"]["source"] == "number"
    assert document["tones"]["sequence"] == ",,855123#"


def test_dtmf_option_gives_the_tones(simulator: SipgateSimulator) -> None:
    document = _json_call(simulator, callee="+4921155500", dtmf=";1#")
    assert document["tones"]["sequence"] == ";1#"


@pytest.mark.parametrize(
    ("options", "code", "says"),
    [
        (
            {"callee": PIN_LINK, "dtmf": "1234"},
            "conflicting-options",
            "already carries tones to dial (,,85512345678#)",
        ),
        ({"callee": "+4921155500", "dtmf": "12a"}, "invalid-dial-string", "'a' at position 3"),
        ({"callee": "sip:alice@example.com"}, "not-a-phone-link", "alice"),
        ({"callee": "mailto:ada@example.com"}, "not-a-phone-link", "mailto"),
        ({"callee": "tel:112"}, "emergency-number", "emergency number"),
        # the desktop handler's flag takes links only, and without a terminal it asks nobody
        ({"callee": "+4921155500", "from_desktop": True}, "not-a-phone-link", "takes a link"),
        ({"callee": PIN_LINK, "from_desktop": True}, "link-needs-terminal", "always shown"),
    ],
)
def test_what_cannot_be_called_is_refused_before_anything_is_sent(
    simulator: SipgateSimulator, options: dict, code: str, says: str
) -> None:
    ctx = make_context(simulator.url)
    with pytest.raises(AppError) as caught:
        run(CallOptions(device="e0", yes=True, **options), ctx)
    assert caught.value.code == code
    assert says in caught.value.message
    assert caught.value.exit_code == ExitCode.USAGE
    assert simulator.dial_requests() == []


def test_a_desktop_link_is_shown_and_asked_even_with_yes(simulator: SipgateSimulator) -> None:
    prompter = ScriptedPrompter([False])  # No at "Place this call?"
    ctx = make_context(simulator.url, prompter=prompter, terminal=True, width=100)
    with pytest.raises(AppError) as caught:
        run(CallOptions(callee=PIN_LINK, device="e0", yes=True, from_desktop=True), ctx)
    assert caught.value.exit_code == ExitCode.CANCELLED
    assert prompter.questions == ["Place this call?"]
    shown = flat(output_of(ctx.out))
    assert shown.startswith(
        "→ A link asks to call +49 69 71049922 (DE, landline) then dials 85512345678#. "
        "Nothing is called before you confirm."
    )
    assert "--yes is ignored for a link opened from the desktop" in shown
    assert "From link tel:+496971049922,,85512345678#" in shown
    assert "Then dials 4 s pause · 85512345678#" in shown
    assert "type them on your phone: 85512345678#" in shown
    assert simulator.dial_requests() == []


def test_a_desktop_link_to_a_premium_rate_number_is_refused_outright(
    simulator: SipgateSimulator,
) -> None:
    ctx = make_context(simulator.url, prompter=ScriptedPrompter([]), terminal=True)
    with pytest.raises(AppError) as caught:
        run(CallOptions(callee="tel:+49 900 1234567", device="e0", from_desktop=True), ctx)
    assert caught.value.code == "premium-rate-link"
    assert "type it yourself: sipgate-tui call +499001234567" in (caught.value.hint or "")
    assert simulator.dial_requests() == []


def test_a_typed_premium_rate_link_keeps_the_warning_and_may_be_called(
    simulator: SipgateSimulator,
) -> None:
    document = _json_call(simulator, callee="tel:+49 900 1234567")
    assert any("premium-rate" in warning for warning in document["warnings"])
    assert len(simulator.call_requests()) == 1


def test_a_pasted_link_at_the_prompt_keeps_its_tones(simulator: SipgateSimulator) -> None:
    prompter = ScriptedPrompter([PIN_LINK, "e0", 0, False])
    ctx = make_context(simulator.url, prompter=prompter, terminal=True, width=100)
    with pytest.raises(AppError):
        run(CallOptions(), ctx)
    shown = flat(output_of(ctx.out))
    assert "Then dials 4 s pause · 85512345678#" in shown
    assert "+49 69 71049922" in shown


def test_the_tone_pause_setting_sets_the_pace_shown(simulator: SipgateSimulator) -> None:
    ctx = make_context(simulator.url, prompter=ScriptedPrompter([False]), terminal=True, width=100)
    ctx.make_settings().set_value("tone_pause", 3.5)
    with pytest.raises(AppError):
        run(CallOptions(callee=PIN_LINK, device="e0"), ctx)
    assert "Then dials 7 s pause · 85512345678#" in flat(output_of(ctx.out))


def test_dry_run_names_the_tones(simulator: SipgateSimulator) -> None:
    ctx = make_context(simulator.url)
    run(CallOptions(callee=PIN_LINK, device="e0", dry_run=True), ctx)
    shown = flat(output_of(ctx.out))
    assert "Once connected, this call dials 4 s pause · 85512345678# as keypad tones" in shown
    assert '"callee": "+496971049922"' in shown


@pytest.mark.parametrize(
    ("options", "says"),
    [
        # a phone's pause and wait letters: named, with the characters to write instead
        ({"dtmf": "12p34"}, "write a pause as ',' and a wait for Enter as ';'"),
        # 20 commas are fine at 2 s, but not at the setting's 10 s: 200 s holds the call
        ({"dtmf": "," * 20 + "1"}, "the pauses add up to 200 s at 10 s each"),
    ],
)
def test_tones_that_cannot_or_should_not_be_dialled_are_refused(
    simulator: SipgateSimulator, options: dict, says: str
) -> None:
    ctx = make_context(simulator.url)
    ctx.make_settings().set_value("tone_pause", 10.0)
    with pytest.raises(AppError) as caught:
        run(CallOptions(callee="+4921155500", device="e0", yes=True, **options), ctx)
    assert caught.value.code == "invalid-dial-string"
    assert says in caught.value.message
    assert simulator.dial_requests() == []


def test_an_invisible_character_in_a_link_is_shown_where_it_was(
    simulator: SipgateSimulator,
) -> None:
    ctx = make_context(simulator.url)
    with pytest.raises(AppError) as caught:
        run(CallOptions(callee="tel:+49 211\x1b[2J 5550003", device="e0", yes=True), ctx)
    assert "'+49 211?[2J 5550003' is not a phone number" in caught.value.message
    assert "\x1b" not in caught.value.message


@pytest.mark.parametrize("callee", ["{token}", "sip:{token}@sipgate.de", "tel:{token}"])
def test_the_environments_token_pasted_as_the_callee_is_never_echoed(
    simulator: SipgateSimulator, callee: str
) -> None:
    ctx = make_context(simulator.url)
    with pytest.raises(AppError) as caught:
        run(CallOptions(callee=callee.format(token=TOKEN), device="e0", dry_run=True), ctx)
    from sipgate_tui import render

    ctx.err.print(render.problem(caught.value))
    shown = output_of(ctx.err)
    assert TOKEN not in shown and "••••" in shown


def test_a_dry_run_says_whom_a_favourite_reaches(simulator: SipgateSimulator) -> None:
    ctx = make_context(simulator.url)
    ctx.make_settings().set_favourite("mom", "+4915799912345")
    run(CallOptions(callee="mom", device="e0", dry_run=True), ctx)
    assert "This calls mom: +49 1579 9912345." in flat(output_of(ctx.out))
