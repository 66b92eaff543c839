"""Phone numbers and device ids: what is accepted, what it becomes, what is refused and why."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipgate_tui.errors import ExitCode, InputError
from sipgate_tui.numbers import normalise_digits, parse_device_id, parse_phone_number, parse_region


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


# -- longer than E.164, digits of other scripts (issue 13, item 15) ---------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "0157 999 123 45 6789",  # the example: sipgate answers it with a bare 400
        "+49 157 999123456789",
        "0049 1579 9912 3456 789",
        "+4930123456789012",  # 16 digits: one more than E.164 allows
        "＋４９ ３０ １２３４５６７８９０１２",
    ],
)
def test_more_digits_than_e164_allows_are_too_long(typed: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_phone_number(typed, "DE", what="callee")
    assert "too long" in caught.value.message and "at most 15" in caught.value.message
    assert caught.value.message.startswith("The callee ")  # names what it is about
    assert caught.value.exit_code == ExitCode.USAGE


def test_fifteen_digits_are_still_a_number() -> None:
    assert parse_phone_number("+49 30 12345678901", "DE").e164 == "+493012345678901"


SCRIPTS = {
    "fullwidth": "０１２３４５６７８９",
    "Arabic-Indic": "٠١٢٣٤٥٦٧٨٩",
    "Persian": "۰۱۲۳۴۵۶۷۸۹",
    "Devanagari": "०१२३४५६७८९",
    "Bengali": "০১২৩৪৫৬৭৮৯",
    "Thai": "๐๑๒๓๔๕๖๗๘๙",
    "mathematical bold": "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",
}


def in_script(text: str, digits: str) -> str:
    return text.translate(str.maketrans("0123456789", digits))


@pytest.mark.parametrize("script", list(SCRIPTS))
@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("0157 99912345", "+4915799912345"),
        ("+49 211 5550001", "+492115550001"),
        ("0049 (0211) 555-0001", "+492115550001"),
    ],
)
def test_digits_of_any_script_are_read_as_digits(script: str, typed: str, e164: str) -> None:
    assert parse_phone_number(in_script(typed, SCRIPTS[script]), "DE").e164 == e164


def test_a_fullwidth_plus_is_a_plus() -> None:
    assert parse_phone_number("＋４９ １５７ ９９９１２３４５", "DE").e164 == "+4915799912345"


def test_an_emergency_number_in_other_digits_is_still_refused() -> None:
    with pytest.raises(InputError) as caught:
        parse_phone_number("١١٢", "DE")
    assert caught.value.code == "emergency-number"


def test_letters_that_only_look_like_digits_stay_letters() -> None:
    with pytest.raises(InputError) as caught:
        parse_phone_number("Ｏ１５７ ９９９１２３４５", "DE")  # a fullwidth letter O, not zero
    assert "contains letters" in caught.value.message


@given(text=st.text(max_size=40))
def test_normalising_digits_never_raises_and_keeps_everything_else(text: str) -> None:
    normalised = normalise_digits(text)
    assert len(normalised) == len(text)
    for before, after in zip(text, normalised, strict=True):
        assert after == before or after in "0123456789+"


@settings(max_examples=200, deadline=None)
@given(
    national=st.sampled_from(
        ["0157 99912345", "0211 5550001", "030 12345678", "+44 20 7946 0958", "0049 89 1234567"]
    ),
    scripts=st.lists(st.sampled_from([*SCRIPTS, "ascii"]), min_size=1, max_size=30),
)
def test_a_number_in_mixed_scripts_parses_to_the_same_e164_as_ascii(
    national: str, scripts: list[str]
) -> None:
    expected = parse_phone_number(national, "DE").e164
    mixed = "".join(
        SCRIPTS[scripts[i % len(scripts)]][int(ch)]
        if ch.isdigit() and scripts[i % len(scripts)] != "ascii"
        else ch
        for i, ch in enumerate(national)
    )
    assert parse_phone_number(mixed, "DE").e164 == expected
