"""Links and dial strings as the callee (issue 15): what each real-world form becomes, what is
refused and why, and properties over any text and every region's example numbers."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipgate_tui.dial_string import (
    MAX_PAUSES,
    MAX_TONES,
    DialString,
    Pause,
    Tones,
    WaitForEnter,
    parse_dial_string,
)
from sipgate_tui.errors import ExitCode, InputError
from sipgate_tui.links import MAX_LINK, has_dial_string, is_link, read_callee
from sipgate_tui.numbers import parse_phone_number

ISSUE = "tel:+496971049922,,85512345678#"


@pytest.mark.parametrize(
    ("link", "e164", "dial"),
    [
        (ISSUE, "+496971049922", ",,85512345678#"),
        ("tel:+49 211 5550003", "+492115550003", ""),
        ("tel:%2B49%20211%205550003", "+492115550003", ""),
        ("tel:0211-5550003;phone-context=+49", "+492115550003", ""),
        ("tel:5550003;phone-context=+49-211", "+492115550003", ""),  # RFC 3966 prefix context
        ("tel:2025550100;phone-context=+1", "+12025550100", ""),
        ("tel:0211-5550003;phone-context=+49,,123#", "+492115550003", ",,123#"),
        ("tel:+49-211-555-0003", "+492115550003", ""),
        ("tel:+49-211-555-0003;ext=12", "+492115550003", ",12"),
        ("tel:+49-211-555-0003;ext=12,,855#", "+492115550003", ",12,,855#"),
        ("tel:+49-211-555-0003;foo=bar;npdi", "+492115550003", ""),  # other parameters ignored
        ("TEL://+49-211-555-0003", "+492115550003", ""),
        ("Tel:+49.211.555.0003", "+492115550003", ""),
        ("tel://+49 (0) 211 5550003", "+492115550003", ""),  # the trunk 0 is not dialled
        ("tel:+41 (0) 44 668 18 00", "+41446681800", ""),
        ("tel:0211 5550003", "+492115550003", ""),  # local, read in the user's region
        ("tel:+49 211 5550003 ,, 855 #", "+492115550003", ",,855#"),
        ("tel:+492115550003;1234#", "+492115550003", ";1234#"),  # ; before a tone: a wait
        ("tel:+492115550003;;1234%23", "+492115550003", ";;1234#"),
        ("tel:+492115550003,,855%23", "+492115550003", ",,855#"),
        ("tel:+492115550003#", "+492115550003", "#"),  # a raw # is a tone
        ("tel:+492115550003*21#", "+492115550003", "*21#"),
        ("tel:+492115550003;", "+492115550003", ";"),
        ("tel:+492115550003;postd=pp123w4", "+492115550003", ",,123;4"),  # RFC 2806
        ("tel:+4921155500０3", "+492115550003", ""),  # a fullwidth digit is a digit
        ("callto:+492115550003", "+492115550003", ""),
        ("callto://+492115550003", "+492115550003", ""),
        ("callto://+492115550003/", "+492115550003", ""),  # the slash browsers add
        ("callto:0211 5550003", "+492115550003", ""),
        ("CALLTO:%2B492115550003,,1%23", "+492115550003", ",,1#"),
        ("sip:+492111234567@sipgate.de;user=phone", "+492111234567", ""),
        ("sip:0211 5550003@pbx.example.com", "+492115550003", ""),
        ("sip:02115550003@pbx.example.com:5061;transport=tls?subject=hi", "+492115550003", ""),
        ("sips:+492111234567@sipgate.de;user=phone", "+492111234567", ""),
        ("sip:%2B492111234567@sipgate.de", "+492111234567", ""),
        ("sip:+492111234567,,99%23@sipgate.de", "+492111234567", ",,99#"),
        ("sip:+492111234567", "+492111234567", ""),  # no host: the number-shaped user part
        ("  tel:+492115550003  ", "+492115550003", ""),
    ],
)
def test_links_name_the_number_and_the_tones(link: str, e164: str, dial: str) -> None:
    read = read_callee(link, "DE")
    assert read.number.e164 == e164
    assert read.dial.text == dial
    assert read.scheme == link.strip().split(":")[0].lower()
    assert read.link == link.strip()


def test_the_issues_link_dials_the_meeting_id_after_two_pauses() -> None:
    read = read_callee(ISSUE, "DE")
    assert read.number.pretty == "+49 69 71049922"
    assert read.dial == DialString((Pause(2), Tones("85512345678#")))
    assert read.dial.digits == "85512345678#"


def test_an_extension_is_one_pause_then_its_digits_before_the_links_own_tones() -> None:
    read = read_callee("tel:+49-211-555-0003;ext=12;99#", "DE")
    assert read.dial == DialString((Pause(1), Tones("12"), WaitForEnter(), Tones("99#")))


@pytest.mark.parametrize(
    ("typed", "region", "e164", "dial"),
    [
        ("+49 69 71049922,,855#", "DE", "+496971049922", ",,855#"),
        ("069 71049922,,855#", "DE", "+496971049922", ",,855#"),
        ("0211 5550003;1234#", "DE", "+492115550003", ";1234#"),
        ("(202) 555-0100,,1", "US", "+12025550100", ",,1"),
        ("+492115550003;ext=7", "DE", "+492115550003", ",7"),
        ("+492115550003", "DE", "+492115550003", ""),
    ],
)
def test_a_typed_number_with_tones_reads_like_a_link(
    typed: str, region: str, e164: str, dial: str
) -> None:
    read = read_callee(typed, region)
    assert (read.number.e164, read.dial.text, read.scheme, read.link) == (e164, dial, None, None)


def test_an_isdn_subaddress_is_left_out_with_a_note() -> None:
    # isub selects a terminal on the callee's ISDN bus: nothing sipgate can pass on, and the
    # line is still reached without it, so refusing would only make the link useless.
    read = read_callee("tel:+49-211-555-0003;isub=1234", "DE")
    assert read.number.e164 == "+492115550003"
    assert read.dial.text == ""
    assert "subaddress (;isub=) was left out" in read.number.notes[-1]


def test_a_sip_password_is_never_shown() -> None:
    read = read_callee("sip:+492111234567:s3cret@sipgate.de", "DE")
    assert read.number.e164 == "+492111234567"
    assert read.link == "sip:+492111234567@sipgate.de"
    long_password = read_callee("sip:+492111234567:" + "s3cret" * 60 + "@sipgate.de", "DE")
    assert long_password.link == "sip:+492111234567@sipgate.de"
    with pytest.raises(InputError) as caught:
        read_callee("sip:alice:s3cret@example.com", "DE")
    assert "s3cret" not in caught.value.message + (caught.value.hint or "")


def test_a_long_link_is_shown_cut_on_one_line() -> None:
    link = "tel:+492115550003" + ";x=\x1b[31m" + ";y=" + "a" * 300
    read = read_callee(link, "DE")
    assert read.link is not None
    assert len(read.link) == 120 and read.link.endswith("…")
    assert "\x1b" not in read.link


@pytest.mark.parametrize(
    ("link", "code", "fragment"),
    [
        ("sip:alice@example.com", "not-a-phone-link", "a SIP address with a name ('alice')"),
        ("sips:bob2@example.com", "not-a-phone-link", "a SIP address with a name ('bob2')"),
        ("sip:example.com", "not-a-phone-link", "names a SIP server but no one to call"),
        ("callto:alice.smith", "not-a-phone-link", "a callto: link with a name"),
        ("mailto:ada@example.com", "not-a-phone-link", "The mailto: link (an e-mail address)"),
        ("http://example.com/+4921155500", "not-a-phone-link", "The http: link (a web page)"),
        ("javascript:alert(1)", "not-a-phone-link", "The javascript: link names no phone number"),
        ("skype:+492115550003", "not-a-phone-link", "only tel:, callto:, sip: and sips:"),
        ("tel:", "not-a-phone-link", "names no phone number after 'tel:'"),
        ("tel:,,123#", "not-a-phone-link", "names no phone number"),
        ("callto://", "not-a-phone-link", "names no phone number"),
        (
            "tel:863-1234;phone-context=example.com",
            "not-a-phone-link",
            "a private numbering plan cannot be dialled through sipgate",
        ),
        ("tel:863-1234;phone-context=+4x", "not-a-phone-link", "neither a number prefix"),
        ("tel:+492115550003;ext=1;ext=2", "not-a-phone-link", "gives ;ext= twice"),
        ("tel:1-800-FLOWERS", "invalid-number", "it contains letters"),
        ("tel:+492115550003 ext. 12", "invalid-number", "has an extension"),
        ("tel:+49 211 5550003!", "invalid-number", "it holds '!', which is no digit"),
        ("tel:+49%00211 5550003", "invalid-number", "an invisible character"),
        ("tel:+49%FF211 5550003", "invalid-number", "'�', which is no digit"),
        ("tel:%252B492115550003", "invalid-number", "'%', which is no digit"),  # decoded once
        ("tel:+492115550003,,12a", "invalid-dial-string", "'a' at position 5"),
        ("tel:+492115550003,,12x", "invalid-dial-string", "letters are not keypad tones"),
        ("tel:+492115550003;ext=12b", "invalid-dial-string", "The extension (;ext=)"),
        ("tel:+492115550003," + "1" * 65, "invalid-dial-string", "65 tones; at most 64"),
        ("tel:+492115550003" + "," * 31, "invalid-dial-string", "31 pauses"),
        ("tel:+492115550003;ext=" + "1" * 40 + "," + "2" * 30, "invalid-dial-string", "70 tones"),
        ("tel:112", "emergency-number", "112 is an emergency number"),
        ("callto:110", "emergency-number", "emergency number"),
        ("sip:112@sipgate.de", "emergency-number", "emergency number"),
        ("tel:110;phone-context=+49", "emergency-number", "emergency number"),
        ("tel:+4921155500031234567", "invalid-number", "is too long: 19 digits"),
        ("tel:5550003", "invalid-number", "not a full number in DE"),
        ("tel:" + "1" * MAX_LINK, "not-a-phone-link", f"a phone link has at most {MAX_LINK}"),
    ],
)
def test_refused_links_say_why(link: str, code: str, fragment: str) -> None:
    with pytest.raises(InputError) as caught:
        read_callee(link, "DE")
    assert caught.value.code == code
    assert fragment in caught.value.message
    assert caught.value.exit_code is ExitCode.USAGE


def test_a_megabyte_link_is_refused_unread() -> None:
    for text in ("tel:" + "," * 1_000_000, " " * 1_000_000 + "tel:1", "1;" * 500_000):
        with pytest.raises(InputError, match="characters long"):
            read_callee(text, "DE")
        assert is_link(text) == text.lstrip().startswith("tel:")
        assert has_dial_string(text) == text.startswith("1")


def test_messages_never_echo_control_characters() -> None:
    for link in ("sip:\x1b]0;owned\x07alice@example.com", "tel:\x1b[2J+49 211 5550003x"):
        with pytest.raises(InputError) as caught:
            read_callee(link, "DE")
        assert "\x1b" not in caught.value.message and "\x07" not in caught.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tel:+49", True),
        ("TEL:+49", True),
        ("callto:x", True),
        ("sips:x", True),
        ("mailto:a@b", True),  # routed to read_callee, which names the scheme it refuses
        ("x-custom+scheme.v2:1", True),
        ("  tel:1", True),
        ("+49 211 5550003", False),
        ("0211 5550003,,1", False),
        ("Ada Lovelace", False),
        ("", False),
        (":tel", False),
        ("1tel:", False),
    ],
)
def test_a_link_is_any_scheme_at_the_start(text: str, expected: bool) -> None:
    assert is_link(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+49 69 71049922,,855#", True),
        ("0211 5550003;1234", True),
        ("(0211) 555-0003,1", True),
        ("  +4921155500,", True),
        ("+4921155500", False),
        ("mom,,1234", False),
        (",,1234", False),
        ("tel:+49,1", False),
        ("", False),
    ],
)
def test_a_dial_string_after_a_typed_number_is_seen(text: str, expected: bool) -> None:
    assert has_dial_string(text) is expected


# --- properties -------------------------------------------------------------------------------

_LINK_PIECES = [
    "tel:", "TEL://", "callto:", "callto://", "sip:", "sips:", "mailto:", "//", "/", "@", ":",
    "+49", "+", "0211", "5550003", "49", "0", "1", "112", "(0)", " ", "-", ".", "(", ")",
    ",", ";", ";;", "#", "*", "%", "%2B", "%23", "%20", "%0A", "%FF", "%3B", "%252B",
    ";ext=", ";phone-context=", "example.com", ";isub=", ";postd=", "p", "w", ";user=phone",
    "=", "?", "&", "alice", "x", "ext", "\x1b[31m", "\u202e", "\x00", "０", "٣", "ß", "\n",
]  # fmt: skip
link_like = st.lists(st.sampled_from(_LINK_PIECES), max_size=14).map("".join)


def _accepted_cleanly(text: str, region: str) -> None:
    try:
        read = read_callee(text, region)
    except InputError as error:
        assert error.exit_code is ExitCode.USAGE
        assert all(ch.isprintable() for ch in error.message)
        return
    assert read.number.e164.startswith("+") and read.number.e164[1:].isdigit()
    assert set(read.dial.digits) <= set("0123456789*#")
    assert read.link is None or all(ch.isprintable() for ch in read.link)


@settings(max_examples=600, deadline=None)
@given(
    text=st.one_of(st.text(max_size=80), link_like),
    region=st.sampled_from(["DE", "AT", "US", "GB", "IT"]),
)
def test_reading_any_text_raises_nothing_but_input_error(text: str, region: str) -> None:
    _accepted_cleanly(text, region)


def _no_digit(character: str) -> bool:
    return not character.isdigit() and unicodedata.decimal(character, None) is None


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(["", "tel:", "TEL://", "callto:", "sip:", "sips:", "x:"]),
    garbage=st.text(st.characters().filter(_no_digit), max_size=60),
)
def test_text_without_a_number_is_never_accepted(prefix: str, garbage: str) -> None:
    with pytest.raises(InputError):
        read_callee(prefix + garbage, "DE")


def _examples() -> list[phonenumbers.PhoneNumber]:
    """Every region's example landline and mobile number that a typed callee may be."""
    found = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            try:
                parse_phone_number(e164, "DE")
            except InputError:
                continue
            found.append(number)
    return found


EXAMPLES = _examples()


def _forms(number: phonenumbers.PhoneNumber, dial: str) -> list[str]:
    """The ways real links write ``number`` with ``dial`` after it."""
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    spaced = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    encoded = quote(dial, safe=",;")
    return [
        f"tel:{e164}{dial}",
        f"tel:{spaced.replace(' ', '-')}{encoded}",
        f"TEL://{e164}{dial}",
        f"tel:{quote(spaced, safe='')}{encoded}",
        f"tel:{national.replace(' ', '-')}{encoded};phone-context=+{number.country_code}",
        f"callto:{e164}{dial}",
        f"callto://{spaced}{dial}/",
        f"sip:{e164}{encoded}@sipgate.de;user=phone",
        f"sips:{quote(e164)}{encoded}@example.com",
        f"{spaced}{dial}",
    ]


dial_texts = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(["", ",", ";", "#", "*"]),
    st.text(alphabet="0123456789*#,; ", max_size=20),
).filter(lambda text: not text.lstrip(" ")[:1].isdigit())


@settings(max_examples=500, deadline=None)
@given(number=st.sampled_from(EXAMPLES), form=st.integers(0, 9), dial=dial_texts)
def test_every_link_form_of_a_valid_number_reads_back_to_its_e164(
    number: phonenumbers.PhoneNumber, form: int, dial: str
) -> None:
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    link = _forms(number, dial)[form]
    read = read_callee(link, "DE")
    assert read.number.e164 == parse_phone_number(e164, "DE").e164, link
    assert read.dial == parse_dial_string(dial), link


def test_the_examples_cover_the_world() -> None:
    assert len({phonenumbers.region_code_for_number(n) for n in EXAMPLES}) > 200


steps = st.one_of(
    st.text(alphabet="0123456789*#", min_size=1, max_size=8).map(Tones),
    st.integers(1, 3).map(Pause),
    st.just(WaitForEnter()),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(steps, max_size=8))
def test_a_dial_strings_text_parses_back_to_the_same_dial_string(parts: list) -> None:
    dial = DialString().then(DialString(tuple(parts)))  # then() merges neighbours
    assert parse_dial_string(dial.text) == dial
    after_a_pause = DialString((Pause(1),)).then(dial)
    assert read_callee(f"tel:+492115550003,{dial.text}", "DE").dial == after_a_pause


def test_the_dial_string_limits_are_what_a_meeting_needs() -> None:
    assert parse_dial_string("," * MAX_PAUSES + "1" * MAX_TONES).digits == "1" * MAX_TONES
    with pytest.raises(InputError, match="characters long, far more than the 64 tones"):
        parse_dial_string("," * 100_000, what="--dtmf")
    assert parse_dial_string("１２#").digits == "12#"  # fullwidth digits, as in numbers
