"""Phone numbers and device ids: parse, normalise, validate.

Every function here either returns a normalised value or raises :class:`InputError`; no other
exception escapes, whatever the input (a hypothesis test holds us to that).
``phonenumbers`` is imported inside the functions so that importing this module stays cheap, and
only the parts reading a number needs (phone_library.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from sipgate_tui.errors import InputError
from sipgate_tui.options import DEFAULT_REGION
from sipgate_tui.text import one_line

if TYPE_CHECKING:
    import phonenumbers
    from phonenumbers import PhoneNumber as LibPhoneNumber

# The letters sipgate uses for devices that can place calls (sipgate-api.md, "Device ids").
CALL_CAPABLE_DEVICE_KINDS = {
    "e": "VoIP phone",
    "x": "external phone",
    "y": "mobile phone",
    "p": "phoneline",
}
# Known letters that exist but cannot place calls: named so the error can say what was typed.
OTHER_DEVICE_KINDS = {
    "w": "web user",
    "g": "group",
    "f": "fax line",
    "s": "SMS extension",
}
_DEVICE_ID = re.compile(r"[a-z](0|[1-9][0-9]*)")
# A favourite's name is a word, so it can never look like a number, and short enough for a
# table column.
_FAVOURITE_NAME = re.compile(r"[^\W\d][\w.-]{0,39}")
_MAX_INPUT = 100  # longer than any phone number or device id with generous formatting

_NUMBER_TYPES = {
    0: "landline",
    1: "mobile",
    2: "landline or mobile",
    3: "toll-free",
    4: "premium-rate",
    5: "shared-cost",
    6: "VoIP",
    7: "personal number",
    8: "pager",
    9: "UAN",
    10: "voicemail",
}


class PhoneNumber(NamedTuple):
    """A phone number, normalised.

    ``e164`` is what we send (``+4915799912345``); ``pretty`` is what we show
    (``+49 1579 9912345``); ``notes`` are warnings worth showing before dialing.
    """

    e164: str
    pretty: str
    region: str | None
    kind: str | None
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        """``+49 1579 9912345 (DE, mobile)``: the number as a person reads it."""
        extras = [part for part in (self.region, self.kind) if part]
        return f"{self.pretty} ({', '.join(extras)})" if extras else self.pretty


E164_MAX_DIGITS = 15  # ITU-T E.164: at most 15 digits, the country code included
# Plus signs a phone keyboard or an East Asian input method may give (libphonenumber knows
# the fullwidth one; our own checks look for "+").
_PLUS_SIGNS = {"\uff0b": "+", "\ufe62": "+"}  # fullwidth and small plus


def normalise_digits(text: str) -> str:
    """``text`` with every Unicode decimal digit as its ASCII digit (fullwidth ``０``,
    Arabic-Indic ``٠``, Persian ``۰``, Devanagari ``०`` ...) and wide plus signs as ``+``.

    Everything else is left as it was (letters stay letters, so they are still refused).
    Never raises, for any string.
    """
    if text.isascii():
        return text
    import unicodedata  # only for text that needs it: ASCII numbers pay nothing

    return "".join(
        character
        if character.isascii()
        else _PLUS_SIGNS.get(character, _decimal(unicodedata.decimal(character, None), character))
        for character in text
    )


def _decimal(value: int | None, character: str) -> str:
    return character if value is None else str(value)


def is_favourite_name(name: str) -> bool:
    """Whether ``name`` may name a favourite: a word of up to 40 characters that starts with a
    letter and is not shaped like a device id (``e0``)."""
    return bool(_FAVOURITE_NAME.fullmatch(name)) and not re.fullmatch(r"[A-Za-z]\d+", name)


def looks_like_device_id(text: str) -> bool:
    """True when ``text`` has the shape of a device id (one letter, then digits)."""
    return bool(re.fullmatch(r"\s*[A-Za-z][0-9]+\s*", text or ""))


def parse_device_id(text: str) -> str:
    """Return the call-capable device id in ``text`` (``E0 `` -> ``e0``), or raise InputError."""
    candidate = (text or "").strip().lower()
    if not candidate:
        raise InputError(
            "invalid-device",
            "No device id given.",
            hint="A device id is one letter and a number, such as e0 (your VoIP phone).",
        )
    if len(candidate) > _MAX_INPUT or not _DEVICE_ID.fullmatch(candidate):
        shown = _shorten(text.strip())
        if re.fullmatch(r"[a-z]0[0-9]+", candidate):
            reason = "device ids have no leading zero"
        else:
            reason = "a device id is one letter followed by a number"
        raise InputError(
            "invalid-device",
            f"'{shown}' is not a device id: {reason}.",
            hint="Examples: e0 (VoIP phone), x1 (external phone), y0 (mobile phone), "
            "p0 (phoneline).",
        )
    letter = candidate[0]
    if letter not in CALL_CAPABLE_DEVICE_KINDS:
        kind = OTHER_DEVICE_KINDS.get(letter)
        raise InputError(
            "invalid-device",
            f"'{candidate}' is a {kind}, which cannot place calls."
            if kind
            else f"'{candidate}' is no phone's device id: no '{letter}' device can place calls.",
            hint="Use a phone's device id starting with e (VoIP), x (external), y (mobile) or "
            "p (phoneline).",
        )
    return candidate


def describe_device(device_id: str) -> str:
    """``e0`` -> ``VoIP phone e0``."""
    kind = CALL_CAPABLE_DEVICE_KINDS.get(device_id[:1], "device")
    return f"{kind} {device_id}"


def parse_region(text: str) -> str:
    """Return the upper-case region code in ``text`` (``de`` -> ``DE``), or raise InputError."""
    from sipgate_tui import phone_library

    region = (text or "").strip().upper()
    if region not in phone_library.SUPPORTED_REGIONS:
        raise InputError(
            "invalid-region",
            f"'{_shorten(text)}' is not a known region code.",
            hint="Use a two-letter ISO country code such as DE, AT, CH or GB.",
        )
    return region


def parse_phone_number(text: str, region: str, *, what: str = "number") -> PhoneNumber:
    """Normalise ``text`` to E.164, reading numbers without country code as being in ``region``.

    ``0157 99912345``, ``+49 (157) 999-12345`` and ``0049 15799912345`` all become
    ``+4915799912345`` with region DE. Blocks input that cannot be a number, extensions and
    emergency numbers; numbers that libphonenumber thinks unassigned pass with a note (unless
    they are too short to be more than a fragment), because
    its data lags behind newly assigned ranges.
    """
    from sipgate_tui import phone_library

    # Digits in any script are digits (a fullwidth ０ is a 0): read before every check, so
    # none of them refuses a number for a false reason.
    raw = normalise_digits((text or "").strip())
    _refuse_what_is_no_number(raw, what)
    shown = _shorten(raw)
    if _is_short_emergency_number(re.sub(r"[^0-9]", "", raw), region):
        raise _emergency(shown, what)
    number, notes = _read_number(raw, region, shown)
    e164 = phone_library.format_number(number, phone_library.PhoneNumberFormat.E164)
    _refuse_longer_than_e164(e164, shown, what)
    number_region = phone_library.region_code_for_number(number)
    _refuse_what_cannot_be_dialed(number, number_region or region, shown, what)
    pretty = phone_library.format_number(number, phone_library.PhoneNumberFormat.INTERNATIONAL)
    kind, note = _kind_of(number, number_region, pretty, shown)
    return PhoneNumber(
        e164=e164,
        pretty=pretty,
        region=number_region if number_region not in (None, "ZZ", "001") else None,
        kind=kind,
        notes=(*notes, note) if note else tuple(notes),
    )


def _refuse_what_is_no_number(raw: str, what: str) -> None:
    """Raise InputError for typed text that is no phone number before any parsing: nothing,
    far too much, a device id, or letters."""
    if not raw:
        raise InputError("invalid-number", f"No {what} given.", hint=_NUMBER_EXAMPLES)
    shown = _shorten(raw)
    if len(raw) > _MAX_INPUT:
        raise InputError("invalid-number", f"The {what} is too long to be a phone number.")
    if looks_like_device_id(raw):
        raise InputError(
            "invalid-number",
            f"'{shown}' looks like a device id, but the {what} must be a phone number.",
            hint=_NUMBER_EXAMPLES,
        )
    if _contains_letters(raw):
        raise InputError(
            "invalid-number",
            f"'{shown}' is not a phone number: it contains letters.",
            hint=_NUMBER_EXAMPLES,
        )


def _refuse_longer_than_e164(e164: str, shown: str, what: str) -> None:
    """Raise InputError for more digits than any phone number has: libphonenumber keeps up to
    17 national digits, and sipgate answers such a call request with a bare 400."""
    digits = len(e164) - 1  # without the "+"
    if digits > E164_MAX_DIGITS:
        raise InputError(
            "invalid-number",
            f"The {what} '{shown}' is too long: {digits} digits with the country code, and "
            f"a phone number has at most {E164_MAX_DIGITS}.",
            hint="Check for a digit typed twice or two numbers run together. " + _NUMBER_EXAMPLES,
        )


def _is_short_emergency_number(digits: str, region: str) -> bool:
    """112, 110, 999 ...: short numbers the region uses for emergencies."""
    from sipgate_tui import phone_library

    return len(digits) <= 4 and phone_library.is_emergency_number(digits, region)


def _read_number(raw: str, region: str, shown: str) -> tuple[LibPhoneNumber, list[str]]:
    """libphonenumber's reading of ``raw`` in ``region``, and a note when it was read as
    international; InputError when it cannot be read at all."""
    from sipgate_tui import phone_library

    notes: list[str] = []
    try:
        number = phone_library.parse(raw, region)
        reinterpreted = _as_international_if_unambiguous(raw, region)
        if reinterpreted is not None:
            number = reinterpreted
            notes.append(
                f"'{shown}' has no leading 0 or +, so it was read as an international number."
            )
    except phone_library.NumberParseException as error:
        raise InputError(
            "invalid-number",
            f"'{shown}' is not a phone number ({_parse_reason(error)}).",
            hint=_NUMBER_EXAMPLES,
        ) from None
    return number, notes


def _refuse_what_cannot_be_dialed(
    number: LibPhoneNumber, region: str, shown: str, what: str
) -> None:
    """Raise InputError for a read number the API cannot or must not dial: one with an
    extension, an emergency number, one too short or too long for its country."""
    from sipgate_tui import phone_library

    if number.extension:
        raise InputError(
            "invalid-number",
            f"'{shown}' has an extension, which cannot be dialed through the API.",
            hint="Leave out the extension (the part after 'ext' or ';').",
        )
    if _is_short_emergency_number(str(number.national_number), region):
        raise _emergency(shown, what)
    possible = phone_library.is_possible_number_with_reason(number)
    if possible == phone_library.ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        raise InputError(
            "invalid-number",
            f"'{shown}' is too short: it needs the rest of the number after the area code.",
            hint=_NUMBER_EXAMPLES,
        )
    if possible != phone_library.ValidationResult.IS_POSSIBLE:
        raise InputError(
            "invalid-number",
            f"'{shown}' is not a phone number ({_possibility_reason(possible)}).",
            hint=_NUMBER_EXAMPLES,
        )


def _kind_of(
    number: LibPhoneNumber, number_region: str | None, pretty: str, shown: str
) -> tuple[str | None, str | None]:
    """The number's kind (mobile, landline ...) where its range is known, and a note worth
    showing before dialing; InputError for a fragment that only looks like a new range."""
    from sipgate_tui import phone_library

    if phone_library.is_valid_number(number):
        kind = _NUMBER_TYPES.get(phone_library.number_type(number))
        if kind == "premium-rate":
            return kind, f"{pretty} is a premium-rate number: calls to it can be expensive."
        return kind, None
    if len(str(number.national_number)) < 7 or (
        number.italian_leading_zero and metadata_prefix(number_region) == "0"
    ):
        # Not a known range and short, or still carrying the trunk 0 after the country code
        # ("0157" alone is +49 0157): an area code or a number cut short, not a new range.
        raise InputError(
            "invalid-number",
            f"'{shown}' looks incomplete: too short for a phone number.",
            hint=_NUMBER_EXAMPLES,
        )
    unknown = f"{pretty} is not in any number range sipgate-tui knows; it may be new, or mistyped."
    return None, unknown


_NUMBER_EXAMPLES = "Examples: +49 157 99912345, 0157 99912345 (with --region DE), 0049 15799912345."


def resolve_callee(
    text: str, region: str, favourites: Mapping[str, str]
) -> tuple[PhoneNumber, str | None]:
    """A typed callee: a favourite's name (any case) or a number. Returns (number, name)."""
    stripped = text.strip()
    name = favourite_named(stripped, favourites)
    if name is not None:
        return parse_phone_number(favourites[name], region, what="callee"), name
    # A name-shaped text with digits ("0l57...") is more likely a mistyped number: the
    # number parser says what is wrong with it.
    if is_favourite_name(stripped) and not any(ch.isdigit() for ch in stripped):
        known = ", ".join(sorted(favourites)) or "none yet"
        raise InputError(
            "unknown-favourite",
            f"'{stripped[:40]}' is neither a number nor one of your favourites ({known}).",
            hint="Add it with `sipgate-tui favourites add NAME NUMBER`, or give the number.",
        )
    number = parse_phone_number(stripped, region, what="callee")
    # A number that is a favourite's is shown with its name, however it was typed.
    named = next(
        (name for name, saved in favourites.items() if _same_number(saved, number.e164, region)),
        None,
    )
    return number, named


def favourite_named(text: str, favourites: Mapping[str, str]) -> str | None:
    """The favourite ``text`` names: the exact name, else one differing only in case (mom
    before Mom); None when it names none. Favourites come before contacts (``call NAME``)."""
    stripped = text.strip()
    if stripped in favourites:
        return stripped
    return next((name for name in favourites if name.lower() == stripped.lower()), None)


_NAME_TEXT = re.compile(r"[^\W\d_](?:[^\W\d_]|[ .'’\-&])*", re.UNICODE)


def looks_like_name(text: str) -> bool:
    """Whether a callee is written like a person's or company's name ("Ada Lovelace",
    "müller", "O'Neil") rather than a number: letters (any script), spaces and ``.'-&``, no
    digit, at most 80 characters, not shaped like a device id. Such a text may be looked up
    among the contacts (``call NAME``)."""
    stripped = text.strip()
    return (
        0 < len(stripped) <= 80
        and bool(_NAME_TEXT.fullmatch(stripped))
        and not looks_like_device_id(stripped)
    )


def _same_number(saved: str, e164: str, region: str) -> bool:
    try:
        return parse_phone_number(saved, region).e164 == e164
    except InputError:
        return False


def _as_international_if_unambiguous(raw: str, region: str) -> LibPhoneNumber | None:
    """Read ``4915799912345`` as ``+4915799912345`` where it cannot be a full national number.

    sipgate's own API shows numbers as bare digits with the country code. In regions whose
    full national numbers start with the trunk prefix 0 (Germany, Austria, the UK, ...), digits
    without a leading 0 cannot be a complete national number: either they carry a country code
    (read them so, and tell the caller in a note) or they are a local number without area code,
    which would dial somebody else entirely, so it is refused.
    Returns None where the region's normal reading applies.
    """
    from sipgate_tui import phone_library

    if not re.fullmatch(r"[\d\s\-./()]+", raw) or raw.lstrip("( ").startswith("0"):
        return None
    metadata = phone_library.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.national_prefix != "0":
        return None
    try:
        international = phone_library.parse("+" + re.sub(r"\D", "", raw), None)
        if phone_library.is_valid_number(international):
            return international
    except phone_library.NumberParseException:
        pass
    raise InputError(
        "invalid-number",
        f"'{_shorten(raw)}' has no leading 0, + or 00, so it is not a full number in {region}.",
        hint="Add the area code with its leading 0 (0211 5550001) or the country code "
        "(+49 211 5550001).",
    )


def metadata_prefix(region: str | None) -> str | None:
    """The region's trunk prefix (``0`` in Germany), if any."""
    from sipgate_tui import phone_library

    metadata = phone_library.PhoneMetadata.metadata_for_region(region or "")
    return metadata.national_prefix if metadata is not None else None


def _emergency(shown: str, what: str) -> InputError:
    if what == "caller ID":
        return InputError(
            "invalid-number",
            f"{shown} is an emergency number, not one of your numbers to show.",
            hint="Leave the caller ID empty to show the phone's own number.",
        )
    return InputError(
        "emergency-number",
        f"{shown} is an emergency number: call it from your phone directly.",
        hint="sipgate-tui does not dial emergency numbers.",
    )


def _contains_letters(raw: str) -> bool:
    # phonenumbers would turn vanity letters into digits ("0800 FLOWERS"); a typo such as
    # "0l57" would then dial a wrong number, so letters are refused (except "ext" markers,
    # which the extension check reports more precisely, and tel: URIs).
    cleaned = re.sub(r"(?i)^tel:|ext\.?|extension|x(?=\s*\d+\s*$)", "", raw)
    return any(character.isalpha() for character in cleaned)


def _parse_reason(error: phonenumbers.NumberParseException) -> str:
    from sipgate_tui import phone_library

    reasons = {
        phone_library.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        phone_library.NumberParseException.NOT_A_NUMBER: "no digits to dial",
        phone_library.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        phone_library.NumberParseException.TOO_SHORT_NSN: "too short",
        phone_library.NumberParseException.TOO_LONG: "too long",
    }
    return reasons.get(error.error_type, "cannot be read")


def _possibility_reason(result: int) -> str:
    from sipgate_tui import phone_library

    reasons = {
        phone_library.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
        phone_library.ValidationResult.TOO_SHORT: "too short",
        phone_library.ValidationResult.TOO_LONG: "too long",
        phone_library.ValidationResult.INVALID_LENGTH: "wrong length for its country",
    }
    return reasons.get(result, "cannot be dialed")


def _shorten(text: str, limit: int = 40) -> str:
    """What the user typed, echoed in a message: printable, and short enough for one line."""
    return one_line(text or "", limit, replacement="?")


def pretty(number: str, region: str = DEFAULT_REGION) -> str:
    """``+4915799912345`` -> ``+49 1579 9912345``; unchanged when it is no number."""
    try:
        return parse_phone_number(number, region).pretty
    except InputError:
        return number
