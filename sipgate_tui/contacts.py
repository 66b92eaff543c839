"""The account's phonebook (``GET /contacts``, scope ``contacts:read``): parse, fetch, search.

Plain slotted value classes (no dataclasses: later the callee prompt loads them from the cache,
and ten thousand dataclass instances cost more than these) and functions that never print:

* :class:`ContactNumber` and :class:`Contact`: one phonebook entry, its text cleaned for a
  terminal (escapes and bidi marks gone, see ``text.one_line``);
* :func:`parse_contact` / :func:`parse_page`: the API's items, read defensively;
* :func:`fetch_contacts`: every page, bounded (see there), or :class:`ContactsUnusable`;
* :func:`normalise_number`: a phonebook number (free text) to E.164 exactly as a typed number
  would be (``numbers.parse_phone_number``), with a fast path for the common shapes;
* :func:`fold`: text with case and accents folded, in two spellings (``ü`` as ``u`` and as
  ``ue``), and :class:`ContactIndex`: search by name, part of a name, organization or digits,
  best match first, fast enough for a keystroke over ten thousand contacts.

Facts and uncertain points (../shared/sipgate-api.md, "Contacts"): an item is ``{id, name,
numbers: [{number, type: [...]}], organization: [[...]], scope}``; ``scope`` is PRIVATE, SHARED
or INTERNAL; number types are not specified (vCard-like words: work, home, cell, ...), shown as
they are, ``cell`` as "mobile". sipgate may clamp ``limit``; ``totalCount`` is read but never
trusted alone.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, groupby
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from sipgate_tui.errors import AppError, InputError
from sipgate_tui.known_secrets import contains_secret
from sipgate_tui.numbers import normalise_digits, parse_phone_number
from sipgate_tui.text import one_line

if TYPE_CHECKING:
    from sipgate_tui.api import SipgateClient

# Pages of 500: sipgate's default is 5000, but an item with addresses and e-mails is several
# hundred bytes and the client refuses answers over 1 MiB (api.MAX_BODY_BYTES).
PAGE_SIZE = 500
MAX_PAGES = 1000  # a server that never stops paging must not keep us forever
MAX_CONTACTS = 100_000  # far beyond any company phonebook; more is no phonebook we can use
NAME_LIMIT = 120  # characters of a name or organization kept (tables and pickers cut earlier)

PHONEBOOKS = {"SHARED": "shared", "PRIVATE": "private", "INTERNAL": "internal"}
# vCard-like number types in the words the rest of the app uses.
_TYPE_WORDS = {"cell": "mobile", "mobile": "mobile", "voice": "", "pref": ""}


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while ten thousand contacts are made, nor over them
    after: they hold no cycles (reference counting frees them), and the collector's passes
    over them cost more than making them (a 10,000-contact cache loads in half the time).
    ``gc.freeze`` moves what exists to the generation the collector never scans; collection
    goes on as before for everything made later. The price: a reference cycle that is garbage
    at that moment is never collected, a little memory in a process that ends soon."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


class ContactsUnusable(AppError):
    """sipgate's contact list could not be used: an answer that is not a list of contacts, or
    pages that never end. Raised by :func:`fetch_contacts`; the message says which."""


class ContactNumber:
    """One number of a contact: ``raw`` as the phonebook has it (cleaned for a terminal),
    ``type`` in words ("mobile", "work", "home fax"; "" when none), ``e164`` the number to
    dial, or None when it cannot be dialled (letters, too short, ...): never dial those."""

    __slots__ = ("e164", "raw", "type")

    def __init__(self, raw: str, type: str, e164: str | None) -> None:
        self.raw, self.type, self.e164 = raw, type, e164

    @property
    def usable(self) -> bool:
        """Whether this number can be dialled."""
        return self.e164 is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContactNumber):
            return NotImplemented
        return (self.raw, self.type, self.e164) == (other.raw, other.type, other.e164)

    def __hash__(self) -> int:
        return hash((self.raw, self.type, self.e164))

    def __repr__(self) -> str:
        return f"ContactNumber({self.raw!r}, {self.type!r}, {self.e164!r})"


class Contact:
    """One phonebook entry. ``name`` is never empty when the entry has an organization (a
    company contact is named by it); ``phonebook`` is "shared", "private", "internal" (or the
    API's own word, lower case; "" when it gave none). ``search_key`` is what
    :class:`ContactIndex` matches, ``digits_key`` what digits match (both computed when not
    given; the cache keeps them)."""

    __slots__ = ("digits_key", "id", "name", "numbers", "organization", "phonebook", "search_key")

    def __init__(
        self,
        id: str,
        name: str,
        organization: str,
        phonebook: str,
        numbers: tuple[ContactNumber, ...],
        search_key: str | None = None,
        digits_key: str | None = None,
    ) -> None:
        self.id, self.name, self.organization = id, name, organization
        self.phonebook, self.numbers = phonebook, numbers
        self.search_key = search_key if search_key is not None else contact_key(name, organization)
        self.digits_key = digits_key if digits_key is not None else digits_of(numbers)

    @property
    def usable_numbers(self) -> tuple[ContactNumber, ...]:
        """The numbers that can be dialled, in the phonebook's order."""
        return tuple(number for number in self.numbers if number.e164 is not None)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Contact):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def _fields(self) -> tuple[object, ...]:
        return (self.id, self.name, self.organization, self.phonebook, self.numbers)

    def __repr__(self) -> str:
        return f"Contact({self.id!r}, {self.name!r}, {self.organization!r}, {self.phonebook!r})"


# -- parsing the API's items ---------------------------------------------------------------------


def _clean(value: object, limit: int = NAME_LIMIT) -> str:
    """``text.one_line(value)``; most names need none of its work, and skip it."""
    if not isinstance(value, str):
        return ""
    if (
        value.isprintable()  # no escape, control or bidi character, no tab or line break
        and len(value) <= limit
        and not value.startswith(" ")
        and not value.endswith(" ")
        and "  " not in value
        and not contains_secret(value)
        and not contains_secret(value.replace(" ", ""))
    ):
        return value  # what one_line would give
    return one_line(value, limit)


def _organization(value: object) -> str:
    """``organization`` is a list of lists (company, department, ...) in the 2022 spec; a list
    of strings or a string is read too. Parts joined with ", ", entries with "; "."""
    if isinstance(value, str):
        return _clean(value)
    if not isinstance(value, list):
        return ""
    entries = []
    for entry in value[:10]:
        parts = entry if isinstance(entry, list) else [entry]
        text = ", ".join(part for part in (_clean(p) for p in parts[:10]) if part)
        if text:
            entries.append(text)
    return _clean("; ".join(entries))


def _number_type(value: object) -> str:
    """``["cell"]`` -> "mobile", ``["work", "fax"]`` -> "work fax": shown as the phonebook
    says it (the types are not specified), known vCard words in the app's words."""
    words = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    shown: list[str] = []
    for word in words[:5]:
        text = _clean(word).lower()
        text = _TYPE_WORDS.get(text, text)
        if text and text not in shown:
            shown.append(text)
    return _clean(" ".join(shown), 40)


def _phonebook(item: dict[str, Any]) -> str:
    scope = item.get("scope")
    if not isinstance(scope, str):  # newer clients report "scopes" (a list) as well
        scopes = item.get("scopes")
        scope = (
            next((s for s in scopes if isinstance(s, str)), "") if isinstance(scopes, list) else ""
        )
    return PHONEBOOKS.get(scope.upper(), _clean(scope).lower()[:20])


def parse_contact(item: object, region: str) -> Contact | None:
    """One item of ``GET /contacts``; None when it is no object. Numbers are normalised in
    ``region`` (numbers written without country code belong to it)."""
    if not isinstance(item, dict):
        return None
    raw_id = item.get("id")
    contact_id = _clean(str(raw_id)) if isinstance(raw_id, (str, int)) else ""
    organization = _organization(item.get("organization"))
    name = _clean(item.get("name")) or organization
    numbers = []
    listed = item.get("numbers")
    for entry in listed[:50] if isinstance(listed, list) else []:
        if not isinstance(entry, dict):
            continue
        value = entry.get("number")
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            continue
        raw = _clean(value, 60)
        numbers.append(
            ContactNumber(raw, _number_type(entry.get("type")), normalise_number(raw, region))
        )
    return Contact(contact_id, name, organization, _phonebook(item), tuple(numbers))


def parse_page(data: object, region: str) -> tuple[list[Contact], int | None] | None:
    """The contacts of one page and the ``totalCount`` it announced (None: none usable);
    None when the answer is not a ``{items: [...]}`` object."""
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    assert isinstance(data, dict)
    total = data.get("totalCount")
    usable_total = (
        total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None
    )
    contacts = [contact for contact in (parse_contact(item, region) for item in items) if contact]
    return contacts, usable_total


# -- fetching every page ---------------------------------------------------------------------------


def fetch_contacts(
    client: SipgateClient,
    region: str,
    *,
    page_size: int = PAGE_SIZE,
    max_pages: int = MAX_PAGES,
) -> list[Contact]:
    """Every contact of the account, in sipgate's order, following ``offset``/``limit``.

    How it ends, whatever the server does: at an empty page; at a page that adds no contact
    not seen before (a server ignoring ``offset``); at a page shorter than the ones before
    (a clamped ``limit`` is learnt from the pages, never assumed); when a short page reaches
    the announced ``totalCount`` (a missing or lying total only costs one more request).
    Raises :class:`ContactsUnusable` for an answer that is not a list of contacts and for
    pages that go past ``max_pages`` or MAX_CONTACTS; client errors (``api.ApiError``) pass
    through for the caller's ``read_problem``.
    """
    contacts: list[Contact] = []
    seen: set[str] = set()
    offset, largest = 0, 0
    for page in range(max_pages):
        data = client.get_json("/contacts", {"offset": offset, "limit": page_size})
        with paused_gc():
            parsed = parse_page(data, region)
        if parsed is None:
            kind = type(data).__name__
            raise _not_a_list(offset, _JSON_KINDS.get(kind, "an object without a list of items"))
        found, total = parsed
        listed = len(data["items"])
        if listed and not found:
            raise _not_a_list(offset, f"a list of {listed} items none of which is a contact")
        fresh = []
        for contact in found:  # an item listed twice (on one page or two) is kept once
            identity = _identity(contact)
            if identity not in seen:
                seen.add(identity)
                fresh.append(contact)
        if listed == 0 or (found and not fresh):
            return contacts
        contacts += fresh
        if len(contacts) > MAX_CONTACTS:
            raise _endless(len(contacts), page + 1)
        offset += listed
        short = listed < page_size and (page == 0 or listed < largest)
        largest = max(largest, listed)
        if short and ((total is None and page > 0) or (total is not None and offset >= total)):
            return contacts
    raise _endless(len(contacts), max_pages)


def _identity(contact: Contact) -> str:
    """What tells two items apart: the id, else (for items without one) what they hold."""
    if contact.id:
        return contact.id
    return "\x00" + contact.name + "\x00" + "\x00".join(n.raw for n in contact.numbers)


_JSON_KINDS = {
    "list": "a JSON list",
    "str": "a JSON string",
    "int": "a number",
    "float": "a number",
}


def _not_a_list(offset: int, what: str) -> ContactsUnusable:
    return ContactsUnusable(
        "contacts-unreadable",
        f"sipgate's answer to GET /contacts (offset {offset}) is not a list of contacts: it is "
        f"{what}. Nothing was kept.",
        hint="Check --api-url / SIPGATE_API_URL (default https://api.sipgate.com/v2); "
        "if it is right, try again later.",
    )


def _endless(count: int, pages: int) -> ContactsUnusable:
    return ContactsUnusable(
        "contacts-endless",
        f"sipgate's contact list did not end: {count} contacts on {pages} pages, and more kept "
        "coming. Stopped; nothing was kept.",
        hint=f"sipgate-tui reads at most {MAX_CONTACTS} contacts. Check --api-url / "
        "SIPGATE_API_URL; if it is right, try again later.",
    )


# -- numbers: free text to E.164 -----------------------------------------------------------------

_NUMBER_SHAPE = re.compile(r"\+?[0-9][0-9 ./()\-]*")
_TRUNK_AFTER_CODE = re.compile(r"^(\+[0-9]{1,3})\s*\(0\)")  # "+49 (0) 30 1234567"
_NOT_DIGIT = re.compile(r"[^0-9]")
_PLAIN_PREFIXES = re.compile(r"[0-9]+(?:\|[0-9]+)*")  # "0", "0|180020" (GB)


def normalise_number(text: str, region: str) -> str | None:
    """The E.164 form of a phonebook number, or None when it cannot be dialled.

    Exactly what a typed number gives (``numbers.parse_phone_number``: letters, extensions,
    emergency numbers, impossible lengths are refused), so a contact never dials what the
    prompt would refuse. The common shapes (``+49 211 5550003``, ``0211 5550003``,
    ``0049 ...``) take a fast path: parsing costs about 0.1 ms a number, too much for ten
    thousand contacts; tests/test_contacts.py holds both paths to the same answers.
    """
    cleaned = normalise_digits(text.strip())
    fast = _fast_e164(cleaned, region)
    if fast is not None:
        return fast
    try:
        return parse_phone_number(cleaned, region).e164
    except InputError:
        return None


def _fast_e164(text: str, region: str) -> str | None:
    """E.164 for the plain shapes where libphonenumber's full parse can only agree; None where
    the full parse must decide (then it runs)."""
    if len(text) > 40 or not _NUMBER_SHAPE.fullmatch(text):
        return None
    if region not in _REGION_FORMS:
        _REGION_FORMS[region] = _region_forms(region)
    forms = _REGION_FORMS[region]
    if forms is None:
        return None
    national_code, idd_is_00 = forms
    text = _TRUNK_AFTER_CODE.sub(r"\1", text)
    digits = _NOT_DIGIT.sub("", text)
    if text.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        if not idd_is_00:
            return None
        international = digits[2:]
    elif digits.startswith("0") and national_code is not None:
        international = national_code + digits[1:]
    else:
        return None
    return _checked_e164(international)


# What the fast path needs to know, learnt once from libphonenumber's metadata: per region its
# country code when its national numbers are written with a plain trunk 0 (else None) and
# whether "00" dials abroad; per country code the plain prefixes its parse strips (None: a
# pattern, then no fast path); per (country code, national length) whether that is possible.
_REGION_FORMS: dict[str, tuple[str | None, bool] | None] = {}
_CODE_RULES: dict[int, tuple[str, ...] | None] = {}
_POSSIBLE: dict[tuple[int, int], bool] = {}


def _region_forms(region: str) -> tuple[str | None, bool] | None:
    import phonenumbers

    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return None
    plain_trunk = (
        metadata.national_prefix == "0"
        and metadata.national_prefix_for_parsing == "0"
        and metadata.national_prefix_transform_rule is None
    )
    code = str(metadata.country_code) if plain_trunk else None
    return code, metadata.international_prefix == "00"


def _code_rules(code: int) -> tuple[str, ...] | None:
    import phonenumbers

    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code)
    if not regions or "001" in regions:  # unknown, or non-geographic (+800, +882, ...)
        return None
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(regions[0])
    strips = metadata.national_prefix_for_parsing if metadata is not None else "?"
    if strips is None:
        return ()
    if not _PLAIN_PREFIXES.fullmatch(strips):
        return None  # a pattern (Argentina, Mexico, ...): the full parse knows what it strips
    return tuple(strips.split("|"))


def _checked_e164(international: str) -> str | None:
    """``+`` and the digits, if they are a possible number of a geographic country code with
    at least seven national digits (shorter ones may be emergency or incomplete numbers) that
    libphonenumber would not shorten by a national prefix; else None."""
    if not international.isdigit() or international[0] == "0" or len(international) > 15:
        return None  # no country code starts with 0: "+0..." and "000..." are the parser's
    import phonenumbers

    for length in (1, 2, 3):
        code = int(international[:length])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = international[length:]
    if len(national) < 7 or national[0] == "0":
        return None
    if code not in _CODE_RULES:
        _CODE_RULES[code] = _code_rules(code)
    strips = _CODE_RULES[code]
    if strips is None or any(national.startswith(prefix) for prefix in strips):
        return None
    # Whether a number is possible depends on its country code and length alone.
    possible = _POSSIBLE.get((code, len(national)))
    if possible is None:
        number = phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
        result = phonenumbers.is_possible_number_with_reason(number)
        possible = _POSSIBLE[code, len(national)] = (
            result == phonenumbers.ValidationResult.IS_POSSIBLE
        )
    return "+" + international if possible else None


# -- folding and search --------------------------------------------------------------------------

# Letters that do not decompose into a base letter and a mark.
_SPECIAL = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "ł": "l", "ħ": "h", "ı": "i", "þ": "th"}
)
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_SEPARATORS = re.compile(r"[\W_]+")
FOLD_VERSION = 1  # the cache keeps search keys: a change of fold() must change this
_FOLDED: dict[str, tuple[str, str]] = {}  # word -> its two spellings: names repeat words
_FOLDED_MAX = 100_000


def _fold_word(word: str) -> tuple[str, str]:
    import unicodedata

    text = unicodedata.normalize("NFC", word).casefold()
    spellings = []
    for spelled in (text, text.translate(_GERMAN)):
        bare = "".join(
            c for c in unicodedata.normalize("NFKD", spelled) if not unicodedata.combining(c)
        )
        spellings.append(" ".join(_SEPARATORS.split(bare.translate(_SPECIAL))).strip())
    return spellings[0], spellings[1]


def fold(text: str) -> tuple[str, str]:
    """``text`` folded for matching, in two spellings: accents dropped ("Müller" -> "muller")
    and German umlauts written out ("mueller"); lower case, every run of punctuation and
    spaces one space. Both are equal for most text. Never raises."""
    if text.isascii():
        plain = " ".join(_SEPARATORS.split(text.lower())).strip()
        return plain, plain
    plains, expandeds = [], []
    for word in text.split():  # word by word: a phonebook repeats its first and last names
        folded = _FOLDED.get(word)
        if folded is None:
            if len(_FOLDED) >= _FOLDED_MAX:
                _FOLDED.clear()
            folded = _FOLDED[word] = _fold_word(word)
        plains.append(folded[0])
        expandeds.append(folded[1])
    return " ".join(w for w in plains if w), " ".join(w for w in expandeds if w)


def contact_key(name: str, organization: str) -> str:
    """What the index matches for a contact: both spellings of the name and of the
    organization, "\\x00" between the spellings and "\\x01" between name and organization
    (no folded query holds either, so no match crosses them)."""
    name_plain, name_expanded = fold(name)
    org_plain, org_expanded = fold(organization)
    return f"{name_plain}\x00{name_expanded}\x01{org_plain}\x00{org_expanded}"


def digits_of(numbers: Iterable[ContactNumber]) -> str:
    """Every number's digits as written and as E.164, each after a space: what digits match."""
    parts = []
    for number in numbers:
        parts.append(_NOT_DIGIT.sub("", normalise_digits(number.raw)))
        if number.e164 is not None:
            parts.append(number.e164[1:])
    return "".join(" " + part for part in parts if part)


# The ranks of a match, best first: other suggestion sources (favourites, recent numbers,
# missed calls) can be merged on the same scale.
RANK_EXACT = 0  # the whole name
RANK_NAME_START = 1  # the name starts with the query
RANK_WORD_START = 2  # a word of the name starts with it
RANK_NAME_PART = 3  # inside the name
RANK_WORDS = 4  # every word of the query, in any order ("lovelace ada")
RANK_ORGANIZATION = 5  # a word of the organization starts with it
RANK_ORGANIZATION_PART = 6  # inside the organization
RANK_NUMBER_START = 7  # the digits begin a number
RANK_NUMBER_PART = 8  # the digits are inside a number
_RANKS = 9

_DIGITS_QUERY = re.compile(r"\+?[0-9][0-9 ./()\-]*")


class ContactIndex:
    """Search over contacts: build it once, then ask per keystroke (a few milliseconds over
    ten thousand contacts: benchmarks/contacts.py). ``country_code`` ("49") lets a national
    query ("0211 555") find numbers written internationally.

    The contacts are kept in name order; each rank's matches are found by ``str.find`` over
    one joined text per column (names, organizations, numbers), in C, lazily: a scan stops as
    soon as the best ``limit`` matches are known, so a keystroke that matches every contact
    costs as little as one that matches none.
    """

    __slots__ = ("_by_e164", "_digits", "_names", "_orgs", "contacts", "country_code")

    def __init__(self, contacts: Sequence[Contact], country_code: str | None = None) -> None:
        # Name order once (nearly free for the cache, which is kept in it): every match is
        # then found in name order, and nothing is sorted per keystroke.
        with paused_gc():
            self.contacts = sorted(contacts, key=attrgetter("search_key", "id"))
            parts = [contact.search_key.partition("\x01") for contact in self.contacts]
            self._names = _Column([f"\x00{names}\x00" for names, _, _ in parts])
            self._orgs = _Column([f"\x00{orgs}\x00" for _, _, orgs in parts])
            self._digits = _Column([contact.digits_key for contact in self.contacts])
        self.country_code = country_code
        self._by_e164: dict[str, list[tuple[Contact, ContactNumber]]] | None = None

    def search(self, query: str, limit: int | None = None) -> list[Contact]:
        """Contacts matching ``query`` (name, part of one, organization or digits), best
        first, then by name; every contact (by name) for a query with nothing to match."""
        return [contact for _, contact in self.ranked(query, limit)]

    def ranked(self, query: str, limit: int | None = None) -> list[tuple[int, Contact]]:
        """Like :meth:`search`, with each match's rank (``RANK_*``). Never raises."""
        need = len(self.contacts) if limit is None else max(0, limit)
        variants = tuple(dict.fromkeys(v for v in fold(query) if v))
        if not variants:
            everyone = range(min(need, len(self.contacts)))
            return [(RANK_NAME_PART, self.contacts[i]) for i in everyone]
        found: list[tuple[int, int]] = []
        taken: set[int] = set()
        for rank, matches in self._stages(variants, query):
            for index in matches:
                if len(found) >= need:
                    break
                if index not in taken:
                    taken.add(index)
                    found.append((rank, index))
            if len(found) >= need:
                break
        return [(rank, self.contacts[i]) for rank, i in found]

    def _stages(self, variants: tuple[str, ...], query: str) -> Iterator[tuple[int, Iterable[int]]]:
        """Each rank and its matches in name order, all lazy: a stage after the limit is
        never searched."""
        names, orgs = self._names, self._orgs
        yield RANK_EXACT, names.holding(tuple(f"\x00{v}\x00" for v in variants))
        yield RANK_NAME_START, names.holding(tuple("\x00" + v for v in variants))
        yield RANK_WORD_START, names.holding(tuple(" " + v for v in variants))
        yield RANK_NAME_PART, names.holding(variants)
        for variant in variants:  # several words: each anywhere in the name, in any order
            words = tuple(" " + word for word in variant.split(" "))
            if len(words) > 1:
                longest = max(words, key=len)
                candidates = names.holding((longest,))
                yield RANK_WORDS, (i for i in candidates if names.holds_all(i, words))
        yield RANK_ORGANIZATION, orgs.holding(tuple(p + v for v in variants for p in "\x00 "))
        yield RANK_ORGANIZATION_PART, orgs.holding(variants)
        normalised = normalise_digits(query.strip())
        if any(ch.isdigit() for ch in normalised) and _DIGITS_QUERY.fullmatch(normalised):
            # Digits find numbers; a name made of digits found its contact above.
            numbers = self._digit_variants(normalised)
            if numbers:
                yield RANK_NUMBER_START, self._digits.holding(tuple(" " + v for v in numbers))
                yield RANK_NUMBER_PART, self._digits.holding(numbers)

    def _digit_variants(self, query: str) -> tuple[str, ...]:
        digits = _NOT_DIGIT.sub("", query)
        variants = [digits]
        if not query.startswith("+") and digits.startswith("00"):
            variants.append(digits[2:])  # 0049 ... is +49 ...
        elif not query.startswith("+") and digits.startswith("0") and self.country_code:
            variants.append(self.country_code + digits[1:])  # 0211 ... is +49 211 ...
        return tuple(v for v in dict.fromkeys(variants) if v)

    def whole_words(self, query: str) -> list[Contact]:
        """Contacts whose name holds every word of ``query`` as a whole word (case and accents
        folded, in either spelling): what may count without anyone confirming (``call NAME``
        without a terminal). No fuzzy matching, no parts of words."""
        variants = [v.split(" ") for v in dict.fromkeys(fold(query)) if v]
        found = []
        for contact in self.contacts:
            names = contact.search_key.partition("\x01")[0]
            spellings = [set(spelling.split(" ")) for spelling in names.split("\x00")]
            if any(all(w in words for w in asked) for asked in variants for words in spellings):
                found.append(contact)
        return found

    def by_number(self, e164: str) -> list[tuple[Contact, ContactNumber]]:
        """The contacts (and which of their numbers) that have this E.164 number: names for
        numbers shown elsewhere. The map is built on the first call."""
        if self._by_e164 is None:
            self._by_e164 = {}
            for contact in self.contacts:
                for number in contact.numbers:
                    if number.e164 is not None:
                        self._by_e164.setdefault(number.e164, []).append((contact, number))
        return list(self._by_e164.get(e164, ()))


class _Column:
    """One text per contact, joined by line breaks (which no folded text or pattern holds)
    into one string, so that finding the texts holding a pattern runs in C."""

    __slots__ = ("_blob", "_starts")

    def __init__(self, texts: list[str]) -> None:
        self._blob = "\n".join(texts)
        self._starts = [0, *accumulate(len(text) + 1 for text in texts)]

    def text(self, index: int) -> str:
        """The text of one contact."""
        return self._blob[self._starts[index] : self._starts[index + 1] - 1]

    def holds_all(self, index: int, patterns: tuple[str, ...]) -> bool:
        """Whether the text of ``index``, spellings run together, holds every pattern."""
        text = " " + self.text(index).replace("\x00", " ")
        return all(pattern in text for pattern in patterns)

    def holding(self, patterns: tuple[str, ...]) -> Iterator[int]:
        """The positions of the texts holding any of ``patterns``, in order, lazily."""
        if len(patterns) == 1:
            return self._holding(patterns[0])
        merged = heapq.merge(*(self._holding(p) for p in dict.fromkeys(patterns)))
        return (index for index, _ in groupby(merged))

    def _holding(self, pattern: str) -> Iterator[int]:
        blob, starts = self._blob, self._starts
        if not pattern or "\n" in pattern:
            return
        position = blob.find(pattern)
        while position != -1:
            index = bisect_right(starts, position) - 1
            yield index
            position = blob.find(pattern, starts[index + 1])


def pretty_number(e164: str) -> str:
    """``+4915799912345`` -> ``+49 1579 9912345`` without a full parse (a quarter of its
    cost: a list of ten thousand contacts shows every number); the E.164 text itself when it
    cannot be formatted so."""
    import phonenumbers

    digits = e164[1:]
    for length in (1, 2, 3):
        code = int(digits[:length] or "0")
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = digits[length:]
            if not national or national[0] == "0" or not national.isdigit():
                break  # a leading zero (Italy) needs the full parse
            number = phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
            return str(
                phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            )
    from sipgate_tui.numbers import pretty

    return pretty(e164)


def country_code_of(region: str) -> str | None:
    """The country calling code of ``region`` ("DE" -> "49"), for :class:`ContactIndex`."""
    import phonenumbers

    code = phonenumbers.country_code_for_region(region)
    return str(code) if code else None


def number_label(contact: Contact, number: ContactNumber) -> str:
    """How a contact's number is named wherever a number is shown: "Ada Lovelace (mobile)"."""
    return f"{contact.name} ({number.type})" if number.type else contact.name


class NameBook:
    """Names for numbers (E.164 -> "Ada Lovelace (mobile)"), for lists that show numbers
    (``calls``, ``history``): from contacts already in memory, never a request. Where several
    contacts share a number, the first by name wins."""

    __slots__ = ("_labels",)

    def __init__(self, contacts: Iterable[Contact]) -> None:
        self._labels: dict[str, str] = {}
        for contact in sorted(contacts, key=attrgetter("search_key", "id")):
            for number in contact.numbers:
                if number.e164 is not None:
                    self._labels.setdefault(number.e164, number_label(contact, number))

    def name(self, e164: str | None) -> str | None:
        """The label of this number, or None when no contact has it."""
        return self._labels.get(e164) if e164 else None
