"""Callees given as links (``tel:``, ``callto:``, ``sip:``) or as a number with tones after it.

A conference invitation's ``tel:+496971049922,,85512345678#`` names a number and the tones to
dial once connected. Real links break RFC 3966 in known ways (``tel://``, spaces or ``%20``,
``+49 (0) 211 ...``, a raw ``#``, local numbers without ``phone-context``), and ``callto:``
has no standard at all, so a small scanner of our own takes the link apart: the scheme,
percent-encoding, the ``;name=value`` parameters and the dial string. The number itself then
goes through :func:`sipgate_tui.numbers.parse_phone_number`, so a link is refused exactly
where the same number typed would be (emergency numbers, too long, letters ...).

phonenumbers alone would not do: it knows no ``callto:``/``sip:`` and reads a domain
``phone-context`` as if it were the default region (``tel:863-1234;phone-context=example.com``
becomes ``+1 863 1234`` in the US). ``teluri`` (PyPI 0.2.0) is a strict RFC 3966 parser: it
refuses ``tel://``, spaces and dial strings, the very forms real links use.

A link is untrusted input (a web page chose it): its length is capped before any work, and
whatever is quoted from it in a message goes through :func:`sipgate_tui.text.one_line`.
Importing this module stays cheap (``phonenumbers`` is imported where a number is read).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sipgate_tui.dial_string import DialString, Pause, check_size, parse_dial_string
from sipgate_tui.errors import InputError
from sipgate_tui.numbers import PhoneNumber, metadata_prefix, normalise_digits, parse_phone_number
from sipgate_tui.text import one_line

SCHEMES = ("tel", "callto", "sip", "sips")
# Far more than any real phone link (number, parameters and a full dial string, even
# percent-encoded); a longer text is refused unread.
MAX_LINK = 512
LINK_SHOWN = 120  # characters of the link shown back (CalleeText.link)
ISUB_NOTE = (
    "The link's ISDN subaddress (;isub=) was left out: sipgate cannot pass one on, and the "
    "number is called without it."
)
_HINT = "Give the number itself, or a link such as tel:+49-211-5550003."

# RFC 3986 scheme: a letter, then letters, digits, + - . (bounded: a cheap match on any text).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,31}:")
# A typed number (digits and the separators numbers may have), then "," or ";".
_TYPED_WITH_DIAL = re.compile(r"\+?[\d \t\-./()]*[,;]")
# Where the number ends: a pause, a wait or parameter, or a tone that no number has.
_NUMBER_END = re.compile(r"[,;#*]")
_NUMBER_CHARACTERS = re.compile(r"[+0-9 \t\-./()\[\]]*")
# ";name" or ";name=value" (RFC 3966 pname: letters, digits, "-"); the value runs to the next
# ";" or ",". A ";" before anything else is a wait of the dial string.
_PARAMETER = re.compile(r";([A-Za-z][A-Za-z0-9\-]*)(?:=([^;,]*))?")
_NEXT_PARAMETER = re.compile(r";[A-Za-z]")
_SEPARATORS = re.compile(r"[ \t\-.()\[\]/]")


@dataclass(frozen=True)
class CalleeText:
    """A callee read from a link or from a number with tones after it."""

    number: PhoneNumber  # as numbers.parse_phone_number read it (notes included)
    dial: DialString  # what to dial once connected; empty when nothing follows the number
    scheme: str | None  # "tel", "callto", "sip" or "sips"; None for a typed number
    link: str | None  # the link as given, one printable line (no SIP password); None if typed


@dataclass
class _Parts:
    """A link's user part taken apart: the number text, its parameters and the dial string."""

    number: str
    parameters: dict[str, str] = field(default_factory=dict)
    dial: list[str] = field(default_factory=list)  # the pieces between parameters, in order


def is_link(text: str) -> bool:
    """Whether ``text`` starts with a URI scheme (``tel:``, ``mailto:`` ...): such a callee is
    read by :func:`read_callee` (which refuses schemes that name no phone). Cheap: no number
    parsing, whatever the length of ``text``."""
    return bool(_SCHEME.match(text.lstrip()[:40]))


def has_dial_string(text: str) -> bool:
    """Whether ``text`` is a typed number followed by ``,`` or ``;`` (``+49 69 71049922,,855#``):
    tones to dial after connecting, read by :func:`read_callee`. Cheap: a pattern on the first
    characters only."""
    found = _TYPED_WITH_DIAL.match(text.strip()[:MAX_LINK])
    return found is not None and any(character.isdigit() for character in found.group())


def read_callee(text: str, region: str) -> CalleeText:
    """The number and dial string in ``text``: a ``tel:``, ``callto:``, ``sip:`` or ``sips:``
    link, or a typed number with tones after it. Numbers without country code are read in
    ``region``, as typed numbers are. Raises only InputError: ``not-a-phone-link`` for a link
    naming no phone number, ``invalid-dial-string`` for bad tones, and the codes of
    :func:`~sipgate_tui.numbers.parse_phone_number` for the number."""
    if len(text) > MAX_LINK:
        raise _too_long(text)
    cleaned = normalise_digits(text.strip())
    scheme_found = _SCHEME.match(cleaned)
    if scheme_found is None:
        return _read_parts(_split(cleaned), region, scheme=None, link=None)
    scheme = scheme_found.group()[:-1].lower()
    if scheme not in SCHEMES:
        raise _other_scheme(scheme)
    rest, shown = cleaned[scheme_found.end() :], _shown_link(text)
    user = _sip_user(rest, shown) if scheme in ("sip", "sips") else _decoded(_bare(rest))
    parts = _split(user.strip())
    _refuse_names(parts, scheme, shown)
    return _read_parts(parts, region, scheme=scheme, link=shown)


def _bare(rest: str) -> str:
    """A link's text after the scheme without what browsers and mail programs add:
    ``//`` (``tel://``, ``callto://``) and trailing slashes (``callto://+49.../``)."""
    rest = rest.strip()
    rest = rest[2:] if rest.startswith("//") else rest
    return rest.rstrip("/ ")


def _decoded(text: str) -> str:
    """``text`` with percent-encoding undone (``%2B49%20211`` -> ``+49 211``), once: a ``%`` left
    over stays and is refused later. Bytes that are no UTF-8 become U+FFFD, also refused."""
    from urllib.parse import unquote

    return normalise_digits(unquote(text, errors="replace"))


def _sip_user(rest: str, link: str) -> str:
    """The user part of a SIP URI (``+492111234567`` in ``sip:+492111234567@sipgate.de``),
    decoded; the password (``user:password@``), host, URI parameters and headers are dropped.
    Without an ``@`` the text is a host, unless it is number-shaped (``sip:+4921...``)."""
    rest = _bare(rest)
    user, at, _host = rest.partition("@")
    if not at:
        user = rest.split("?", 1)[0]
        if any(character.isalpha() for character in user.split(";", 1)[0]):
            raise InputError(
                "not-a-phone-link",
                f"'{_shown(link)}' names a SIP server but no one to call: there is no phone "
                "number before an '@'.",
                hint=_HINT,
            )
    return _decoded(user.split(":", 1)[0])


def _split(text: str) -> _Parts:
    """``text`` (a link's user part, decoded) as number, parameters and dial-string pieces.

    The number runs to the first ``,``, ``;``, ``#`` or ``*``. After it, ``;name=value`` is a
    parameter; every other run of text is dial string (``;`` before a tone, a pause, another
    ``;`` or the end is a wait), kept in order for :func:`parse_dial_string`.
    """
    end = _NUMBER_END.search(text)
    cut = end.start() if end else len(text)
    parts = _Parts(number=text[:cut].strip())
    position = cut
    while position < len(text):
        parameter = _PARAMETER.match(text, position)
        if parameter is not None:
            name, value = parameter.group(1).lower(), (parameter.group(2) or "").strip()
            if name in parts.parameters and name in ("ext", "phone-context", "postd"):
                raise InputError(
                    "not-a-phone-link",
                    f"The link gives ;{name}= twice, so which one is meant cannot be told.",
                    hint=_HINT,
                )
            parts.parameters[name] = value
            position = parameter.end()
            continue
        following = _NEXT_PARAMETER.search(text, position + 1)
        stop = following.start() if following else len(text)
        parts.dial.append(text[position:stop])
        position = stop
    return parts


def _refuse_names(parts: _Parts, scheme: str, link: str) -> None:
    """InputError ``not-a-phone-link`` for a link that names a person or nothing: a SIP address
    or callto: name (``sip:alice@example.com``, ``callto:alice``), or no digits at all."""
    named = any(character.isalpha() for character in parts.number)
    if named and scheme != "tel":
        what = "a SIP address" if scheme.startswith("sip") else "a callto: link"
        raise InputError(
            "not-a-phone-link",
            f"'{_shown(link)}' is {what} with a name ('{_shown(parts.number)}'), not a phone "
            "number: sipgate-tui calls phone numbers only.",
            hint="Ask for the phone number, or call the address from an app that speaks "
            f"{scheme}:.",
        )
    if not any(character.isdigit() for character in parts.number):
        raise InputError(
            "not-a-phone-link",
            f"'{_shown(link)}' names no phone number after '{scheme}:'.",
            hint=_HINT,
        )


def _read_parts(parts: _Parts, region: str, *, scheme: str | None, link: str | None) -> CalleeText:
    """The number (in ``phone-context`` or ``region``) and the whole dial string of ``parts``."""
    number = _number(parts.number, parts.parameters.get("phone-context", ""), region)
    if "isub" in parts.parameters:
        number = number._replace(notes=(*number.notes, ISUB_NOTE))
    return CalleeText(number=number, dial=_dial(parts), scheme=scheme, link=link)


def _number(text: str, context: str, region: str) -> PhoneNumber:
    """``text`` read as a phone number: a global one (``+49...``) as it is; a local one in its
    numeric ``phone-context`` (``+49``), refused in a domain context, else read in ``region``."""
    _refuse_odd_characters(text)
    if text.startswith("+") or not context:
        return parse_phone_number(text, region, what="callee")
    if not context.startswith("+"):
        raise InputError(
            "not-a-phone-link",
            f"The link's number '{_shown(text)}' only counts inside '{_shown(context)}' "
            "(its phone-context): a private numbering plan cannot be dialled through sipgate.",
            hint="Ask for the full number with its country code, such as +49 211 5550003.",
        )
    digits = _SEPARATORS.sub("", context[1:])
    if not (digits.isascii() and digits.isdigit()):
        raise InputError(
            "not-a-phone-link",
            f"The link's phone-context '{_shown(context)}' is neither a number prefix (such as "
            "+49) nor a domain.",
            hint=_HINT,
        )
    context_region, whole = _country_of(digits)
    local = _SEPARATORS.sub("", text)
    trunk = metadata_prefix(context_region) if whole else None
    if context_region is not None and trunk and local.startswith(trunk):
        # "0211-5550003" with context +49: a national number, written with its trunk prefix.
        return parse_phone_number(text, context_region, what="callee")
    # RFC 3966: the context's digits, then the local number's (5550003 in +49-211).
    return parse_phone_number(f"+{digits}{local}", context_region or region, what="callee")


def _refuse_odd_characters(text: str) -> None:
    """InputError for a character no number has (``!``, ``%``, U+FFFD from bad encoding):
    phonenumbers skips some of them silently. Letters are left to parse_phone_number, which
    names vanity numbers and extensions precisely."""
    odd = next(
        (character for character in _NUMBER_CHARACTERS.sub("", text) if not character.isalpha()),
        None,
    )
    if odd is not None:
        named = f"'{odd}'" if odd.isprintable() else "an invisible character (shown as ?)"
        # Each invisible character becomes "?" before the text is cleaned for showing, so
        # the number shown is not a valid-looking one with the culprit silently removed.
        marked = "".join(ch if ch.isprintable() else "?" for ch in text)
        raise InputError(
            "invalid-number",
            f"'{_shown(marked)}' is not a phone number: it holds {named}, which is no digit.",
            hint="A number holds digits, a leading +, and spaces, -, ., / or brackets.",
        )


def _country_of(digits: str) -> tuple[str | None, bool]:
    """The region of the country code ``digits`` starts with (``49211`` -> ``DE``; None for
    none or a non-geographic code), and whether ``digits`` is that code and nothing more."""
    import phonenumbers

    for length in (1, 2, 3):
        code = digits[:length]
        if len(code) == length and not code.startswith("0"):
            regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(code))
            if regions:
                region = regions[0]
                return (None if region == "001" else region), len(digits) == length
    return None, False


def _dial(parts: _Parts) -> DialString:
    """Everything to dial once connected: an ``;ext=`` first (one pause, then its digits), then
    the link's own tones (``;postd=`` of RFC 2806 with p and w read as , and ;) in order."""
    what = "The tones after the number"
    dial = DialString()
    extension = parts.parameters.get("ext", "")
    if extension:
        digits = parse_dial_string(extension, what="The extension (;ext=)")
        # A PBX answers before it listens for an extension: one pause, as phones make for "p".
        dial = DialString((Pause(1), *digits.steps))
    for piece in parts.dial:
        dial = dial.then(parse_dial_string(piece, what=what))
    postd = parts.parameters.get("postd", "")
    if postd:
        written = postd.lower().replace("p", ",").replace("w", ";")
        dial = dial.then(parse_dial_string(written, what="The tones after the number (;postd=)"))
    check_size(dial, what)
    return dial


def _too_long(text: str) -> InputError:
    if is_link(text):
        return InputError(
            "not-a-phone-link",
            f"The link is {len(text)} characters long; a phone link has at most {MAX_LINK}.",
            hint=_HINT,
        )
    return InputError(
        "invalid-number",
        f"The callee is {len(text)} characters long, far too long for a number and its tones.",
        hint="Give the number, then the tones: +49 69 71049922,,85512345678#",
    )


def _other_scheme(scheme: str) -> InputError:
    kind = {"mailto": " (an e-mail address)", "http": " (a web page)", "https": " (a web page)"}
    return InputError(
        "not-a-phone-link",
        f"The {scheme}: link{kind.get(scheme, '')} names no phone number: only tel:, callto:, "
        "sip: and sips: links can be called.",
        hint=_HINT,
    )


def _shown_link(text: str) -> str:
    """The link as given, for showing: one printable line, without a SIP password."""
    without_password = re.sub(r"(?i)^(\s*sips?:(?://)?[^:@]*):[^@]*@", r"\1@", text)
    return one_line(without_password, LINK_SHOWN, replacement="?")


def _shown(text: str, limit: int = 40) -> str:
    """A part of the link quoted in a message: printable, one line, short."""
    return one_line(text, limit, replacement="?")
