"""Phone numbers and device ids: what is accepted, what it becomes, what is refused and why."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipgate_tui.errors import ExitCode, InputError
from sipgate_tui.numbers import parse_device_id, parse_phone_number, parse_region


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("0157 99912345", "DE", "+4915799912345"),
        ("+49 (157) 999-12345", "DE", "+4915799912345"),
        ("0049 15799912345", "DE", "+4915799912345"),
        ("+4915799912345", "DE", "+4915799912345"),
        ("  +49 157 999 123 45  ", "DE", "+4915799912345"),
        ("0211 5550001", "DE", "+492115550001"),
        ("(0211) 555-0001", "DE", "+492115550001"),
        ("0211/5550001", "DE", "+492115550001"),
        ("tel:+4915799912345", "DE", "+4915799912345"),
        ("01 5880 0000", "AT", "+43158800000"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("(202) 555-0100", "US", "+12025550100"),
        ("+1 202 555 0100", "DE", "+12025550100"),
        ("4915799912345", "DE", "+4915799912345"),  # the API's own bare-digits style
    ],
)
def test_numbers_are_normalised_to_e164(typed: str, region: str, e164: str) -> None:
    assert parse_phone_number(typed, region).e164 == e164


def test_a_number_shows_its_country_and_kind() -> None:
    number = parse_phone_number("0157 99912345", "DE")
    assert number.pretty == "+49 1579 9912345"
    assert number.describe() == "+49 1579 9912345 (DE, mobile)"
    assert number.notes == ()


def test_bare_digits_with_country_code_are_read_as_international_with_a_note() -> None:
    number = parse_phone_number("4915799912345", "DE")
    assert number.e164 == "+4915799912345"
    assert "read as an international number" in number.notes[0]


def test_premium_rate_numbers_carry_a_warning() -> None:
    number = parse_phone_number("0900 1 234567", "DE")
    assert number.kind == "premium-rate"
    assert "premium-rate" in number.notes[0]


@pytest.mark.parametrize(
    ("typed", "fragment"),
    [
        ("", "No number given"),
        ("   ", "No number given"),
        ("e0", "looks like a device id"),
        ("0l57 99912345", "contains letters"),
        ("0800 FLOWERS", "contains letters"),
        ("+49 211 5550001 ext. 12", "extension"),
        ("+999 123456", "unknown country code"),
        ("0049", "too short"),
        ("++49", "no digits"),
        ("5550001", "not a full number in DE"),
        ("12", "not a full number in DE"),
        ("110", "emergency number"),
        ("112", "emergency number"),
        ("+49 112", "emergency number"),
        ("1" * 200, "too long"),
        ("0157", "looks incomplete"),  # an area code alone
        ("0211", "looks incomplete"),
        ("0157 123", "looks incomplete"),
    ],
)
def test_bad_numbers_are_refused_with_the_reason(typed: str, fragment: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_phone_number(typed, "DE")
    assert fragment in caught.value.message
    assert caught.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("typed", "device"),
    [("e0", "e0"), ("E0", "e0"), (" e12 ", "e12"), ("x1", "x1"), ("y0", "y0"), ("p0", "p0")],
)
def test_call_capable_device_ids_are_accepted(typed: str, device: str) -> None:
    assert parse_device_id(typed) == device


@pytest.mark.parametrize(
    ("typed", "fragment"),
    [
        ("", "No device id given"),
        ("e01", "no leading zero"),
        ("e", "one letter followed by a number"),
        ("0", "one letter followed by a number"),
        ("e-1", "one letter followed by a number"),
        ("ee0", "one letter followed by a number"),
        ("w0", "web user, which cannot place calls"),
        ("g1", "group, which cannot place calls"),
        ("f0", "fax line, which cannot place calls"),
        ("q3", "no phone's device id: no 'q' device can place calls"),
        ("+4915799912345", "one letter followed by a number"),
    ],
)
def test_bad_device_ids_are_refused_with_the_reason(typed: str, fragment: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_device_id(typed)
    assert fragment in caught.value.message


def test_regions_are_case_insensitive_and_checked() -> None:
    assert parse_region("de") == "DE"
    with pytest.raises(InputError, match="not a known region code"):
        parse_region("Germany")


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=60), region=st.sampled_from(["DE", "AT", "US", "GB", "IT"]))
def test_number_parsing_raises_nothing_but_our_input_error(text: str, region: str) -> None:
    try:
        number = parse_phone_number(text, region)
    except InputError:
        return
    assert number.e164.startswith("+") and number.e164[1:].isdigit()


@settings(max_examples=200, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=30),
        st.from_regex(r"[+0-9 ()\-/.]{0,30}", fullmatch=True),
    )
)
def test_digit_like_input_raises_nothing_but_our_input_error(text: str) -> None:
    with contextlib.suppress(InputError):
        parse_phone_number(text, "DE")


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=20), st.from_regex(r"[a-zA-Z][0-9]{0,5}", fullmatch=True)))
def test_device_parsing_raises_nothing_but_our_input_error(text: str) -> None:
    try:
        device = parse_device_id(text)
    except InputError:
        return
    assert device[0] in "exyp" and device[1:].isdigit()
    assert device[1:] == "0" or not device[1:].startswith("0")


def test_an_emergency_number_as_caller_id_gets_its_own_message() -> None:
    with pytest.raises(InputError) as caught:
        parse_phone_number("110", "DE", what="caller ID")
    assert "not one of your numbers" in caught.value.message


def test_an_unknown_but_plausible_range_passes_with_a_note() -> None:
    number = parse_phone_number("+49 157 1234567", "DE")
    assert number.e164 == "+491571234567"
    assert "may be new, or mistyped" in number.notes[0]
