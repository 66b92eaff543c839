"""``contacts``: the phonebook's items parsed, every page fetched (against the simulator, with
its clamp, lying totals and endless pages), numbers normalised like typed ones, and search
(folding case and accents, best match first)."""

from __future__ import annotations

import string

import pytest
from helpers import TOKEN, TOKEN_ID
from hypothesis import given
from hypothesis import strategies as st

from sipgate_tui.api import HttpStatusError, SipgateClient
from sipgate_tui.contacts import (
    RANK_EXACT,
    RANK_NAME_START,
    RANK_NUMBER_START,
    RANK_ORGANIZATION,
    Contact,
    ContactIndex,
    ContactNumber,
    ContactsUnusable,
    fetch_contacts,
    fold,
    normalise_number,
    parse_contact,
    pretty_number,
)
from sipgate_tui.credentials import Credentials
from sipgate_tui.errors import ExitCode, InputError
from sipgate_tui.numbers import parse_phone_number
from sipgate_tui.simulator import (
    SimulatedToken,
    SipgateSimulator,
    contact_item,
    default_contacts,
)


def client(simulator: SipgateSimulator) -> SipgateClient:
    return SipgateClient(simulator.url, Credentials(TOKEN_ID, TOKEN))


def contacts_requests(simulator: SipgateSimulator) -> list[tuple[int, int]]:
    return [
        (int(r.query["offset"][0]), int(r.query["limit"][0]))
        for r in simulator.requests
        if r.path == "/contacts"
    ]


def demo() -> list[Contact]:
    found = [parse_contact(item, "DE") for item in default_contacts()]
    return [contact for contact in found if contact is not None]


# -- parsing -----------------------------------------------------------------------------------


def test_the_demo_phonebook_is_read_with_types_phonebooks_and_numbers() -> None:
    by_id = {contact.id: contact for contact in demo()}
    ada = by_id["c1"]
    assert (ada.name, ada.organization, ada.phonebook) == (
        "Ada Lovelace",
        "Analytical Engines Ltd",
        "shared",
    )
    assert ada.numbers == (
        ContactNumber("+49 1579 9912347", "mobile", "+4915799912347"),
        ContactNumber("0211 5550003", "work", "+492115550003"),
    )
    assert by_id["c2"].numbers[0].e164 == "+49301234567"  # "+49 (0) 30 1234567"
    assert [n.type for n in by_id["c3"].numbers] == ["home", "mobile", "work fax"]
    assert by_id["c3"].phonebook == "private" and by_id["c8"].phonebook == "internal"
    assert by_id["c5"].name == "ACME GmbH, Sales"  # a company: named by its organization
    assert by_id["c6"].numbers == ()
    flowers = by_id["c7"].numbers[0]
    assert (flowers.raw, flowers.e164, flowers.usable) == ("0800-FLOWERS", None, False)
    assert by_id["c7"].usable_numbers == ()


def test_items_are_read_defensively() -> None:
    assert parse_contact("not an object", "DE") is None
    odd = parse_contact(
        {
            "id": 17,
            "name": None,
            "numbers": [
                {"number": 492115550009, "type": "cell"},
                {"number": None},
                "x",
                {"number": "   "},
                {"number": True},
            ],
            "organization": "Plain string GmbH",
            "scopes": ["SHARED"],
        },
        "DE",
    )
    assert odd is not None
    assert (odd.id, odd.name, odd.phonebook) == ("17", "Plain string GmbH", "shared")
    assert odd.numbers == (ContactNumber("492115550009", "mobile", "+492115550009"),)
    nothing = parse_contact({}, "DE")
    assert nothing is not None and (nothing.name, nothing.phonebook, nothing.numbers) == (
        "",
        "",
        (),
    )


def test_escapes_and_bidi_marks_are_cleaned_from_names_and_numbers() -> None:
    contact = parse_contact(
        {
            "id": "x",
            "name": "Eve\x1b]0;owned\x07 \u202eliveE\x1b[2J",
            "numbers": [{"number": "0211\x1b[31m 5550003", "type": ["wo\x07rk"]}],
            "organization": [["Evil\nCorp"]],
        },
        "DE",
    )
    assert contact is not None
    for text in (
        contact.name,
        contact.organization,
        contact.numbers[0].raw,
        contact.numbers[0].type,
    ):
        assert (
            "\x1b" not in text and "\u202e" not in text and "\n" not in text and "\x07" not in text
        )
    assert contact.name.startswith("Eve")
    assert contact.numbers[0].e164 == "+492115550003"


# -- numbers: the fast path agrees with the typed-number parser ------------------------------------


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("0211 5550003", "+492115550003"),
        ("+49 (0) 30 1234567", "+49301234567"),
        ("0049 211 5550003", "+492115550003"),
        ("+49-157-99912345", "+4915799912345"),
        ("030/1234567", "+49301234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("０２１１ ５５５０００３", "+492115550003"),
        ("0800-FLOWERS", None),
        ("112", None),
        ("0211", None),
        ("+49 211 5550003 ext. 12", None),
        ("00012000000000", None),  # no country code starts with 0 (found by hypothesis)
        ("", None),
    ],
)
def test_phonebook_numbers_are_normalised_like_typed_ones(text: str, e164: str | None) -> None:
    assert normalise_number(text, "DE") == e164


def typed(text: str, region: str) -> str | None:
    try:
        return parse_phone_number(text, region).e164
    except InputError:
        return None


number_texts = st.one_of(
    st.text(alphabet="0123456789 +-/()", max_size=24),
    st.builds(
        lambda prefix, digits, sep: prefix + sep.join(digits),
        st.sampled_from(["+49", "0", "00", "+1", "+44", "+39", "+54 9", "+7", "0049", "+49 (0)"]),
        st.lists(st.text(alphabet="0123456789", min_size=1, max_size=5), max_size=5),
        st.sampled_from(["", " ", "-", "/"]),
    ),
)


@given(number_texts, st.sampled_from(["DE", "AT", "GB", "US", "IT", "FR", "AR"]))
def test_the_fast_path_gives_what_the_typed_number_parser_gives(text: str, region: str) -> None:
    assert normalise_number(text, region) == typed(text, region)


@given(st.text(max_size=60))
def test_normalising_never_raises(text: str) -> None:
    result = normalise_number(text, "DE")
    assert result is None or result.startswith("+")


def test_pretty_numbers_match_the_parser() -> None:
    for e164 in ("+4915799912347", "+492115550003", "+390612345678", "+12125550100"):
        assert pretty_number(e164) == parse_phone_number(e164, "DE").pretty


# -- fetching every page -------------------------------------------------------------------------


def test_a_small_phonebook_is_one_request(simulator: SipgateSimulator) -> None:
    found = fetch_contacts(client(simulator), "DE")
    assert [c.id for c in found] == [item["id"] for item in default_contacts()]
    assert contacts_requests(simulator) == [(0, 500)]


def test_a_large_phonebook_follows_every_page(simulator: SipgateSimulator) -> None:
    simulator.large_phonebook(1234)
    found = fetch_contacts(client(simulator), "DE")
    assert len(found) == 1234 and len({c.id for c in found}) == 1234
    assert contacts_requests(simulator) == [(0, 500), (500, 500), (1000, 500)]


def test_a_clamped_limit_is_learnt_from_the_pages(simulator: SipgateSimulator) -> None:
    simulator.large_phonebook(250)
    simulator.contacts_max_limit = 100
    found = fetch_contacts(client(simulator), "DE")
    assert len(found) == 250
    assert [offset for offset, _ in contacts_requests(simulator)] == [0, 100, 200]


def test_a_clamp_that_divides_the_phonebook_costs_one_more_request(
    simulator: SipgateSimulator,
) -> None:
    simulator.large_phonebook(200)
    simulator.contacts_max_limit = 100
    assert len(fetch_contacts(client(simulator), "DE")) == 200
    assert [offset for offset, _ in contacts_requests(simulator)] == [0, 100, 200]


@pytest.mark.parametrize("total", [None, 0, 10, 100, 5000])
def test_a_missing_or_lying_total_loses_no_contact(
    simulator: SipgateSimulator, total: int | None
) -> None:
    simulator.large_phonebook(1200)
    if total is None:
        simulator.contacts_send_total = False
    else:
        simulator.contacts_total_count = total
    assert len(fetch_contacts(client(simulator), "DE")) == 1200
    assert len(contacts_requests(simulator)) <= 4


def test_a_lying_total_with_a_clamp_still_reads_everything(simulator: SipgateSimulator) -> None:
    simulator.large_phonebook(330)
    simulator.contacts_max_limit = 100
    simulator.contacts_total_count = 5000
    assert len(fetch_contacts(client(simulator), "DE")) == 330


def test_a_server_that_ignores_offset_ends_at_the_page_that_adds_nothing(
    simulator: SipgateSimulator,
) -> None:
    page = {"items": [contact_item(f"c{i}", f"P {i}") for i in range(500)], "totalCount": 100000}
    simulator.respond_with(200, page, path="/contacts")
    found = fetch_contacts(client(simulator), "DE")
    assert len(found) == 500
    assert len(contacts_requests(simulator)) == 2


def test_an_item_listed_twice_is_kept_once(simulator: SipgateSimulator) -> None:
    ada = contact_item("c1", "Ada Lovelace", [("+49 1579 9912347", ["cell"])])
    simulator.contacts = [ada, ada, contact_item("c2", "Grace Hopper"), ada]
    assert [c.id for c in fetch_contacts(client(simulator), "DE")] == ["c1", "c2"]


def test_pages_that_never_end_stop_with_a_clear_error(simulator: SipgateSimulator) -> None:
    simulator.contacts_endless = True
    with pytest.raises(ContactsUnusable) as caught:
        fetch_contacts(client(simulator), "DE", page_size=50, max_pages=20)
    assert caught.value.code == "contacts-endless" and caught.value.exit_code == ExitCode.NETWORK
    assert (
        "did not end" in caught.value.message
        and "1000 contacts on 20 pages" in caught.value.message
    )
    assert len(contacts_requests(simulator)) == 20


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ([1, 2, 3], "a JSON list"),
        ({"items": "nope"}, "an object without a list of items"),
        ({"data": []}, "an object without a list of items"),
        ({"items": ["a", 1, None]}, "none of which is a contact"),
        ("hello", "a JSON string"),
    ],
)
def test_an_answer_that_is_not_a_list_of_contacts_is_a_clear_error(
    simulator: SipgateSimulator, answer: object, words: str
) -> None:
    simulator.respond_with(
        200,
        answer if not isinstance(answer, str) else f'"{answer}"',
        path="/contacts",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(ContactsUnusable) as caught:
        fetch_contacts(client(simulator), "DE")
    assert caught.value.code == "contacts-unreadable"
    assert words in caught.value.message and "GET /contacts" in caught.value.message


def test_a_second_page_that_is_no_list_is_an_error_too(simulator: SipgateSimulator) -> None:
    simulator.large_phonebook(700)
    simulator.respond_with(200, {"items": None}, path="/contacts", times=None)
    with pytest.raises(ContactsUnusable):
        fetch_contacts(client(simulator), "DE")


def test_without_the_scope_the_403_passes_to_the_caller(simulator: SipgateSimulator) -> None:
    simulator.tokens[TOKEN_ID] = SimulatedToken(TOKEN, frozenset({"sessions:calls:write"}))
    with pytest.raises(HttpStatusError) as caught:
        fetch_contacts(client(simulator), "DE")
    assert caught.value.status == 403


# -- folding and search --------------------------------------------------------------------------


def test_folding_writes_umlauts_both_ways() -> None:
    assert fold("Jürgen Müller") == ("jurgen muller", "juergen mueller")
    assert fold("José García-López") == ("jose garcia lopez",) * 2
    assert fold("Øster Straße") == ("oster strasse",) * 2
    assert fold("O'Brien") == ("o brien",) * 2


@pytest.mark.parametrize(
    "query", ["muller", "mueller", "Müller", "MÜLLER", "MUELLER", "jurgen", "juergen"]
)
def test_muller_and_mueller_find_mueller(query: str) -> None:
    assert "Jürgen Müller" in [c.name for c in ContactIndex(demo()).search(query)]


def test_a_name_written_with_ue_is_found_by_the_umlaut_too() -> None:
    mueller = Contact("m", "Hans Mueller", "", "shared", ())
    assert ContactIndex([mueller]).search("müller") == [mueller]


def test_best_match_first() -> None:
    people = [
        Contact("1", "Adam Smith", "", "shared", ()),
        Contact("2", "Ada", "", "shared", ()),
        Contact("3", "Grace Ada Hopper", "", "shared", ()),
        Contact("4", "Nevada Jones", "", "shared", ()),
        Contact("5", "Bob", "Ada Corp", "shared", ()),
        Contact("6", "Ada Lovelace", "", "shared", ()),
    ]
    ranked = ContactIndex(people).ranked("ada")
    assert [c.name for _, c in ranked] == [
        "Ada",
        "Ada Lovelace",
        "Adam Smith",
        "Grace Ada Hopper",
        "Nevada Jones",
        "Bob",
    ]
    assert ranked[0][0] == RANK_EXACT and ranked[1][0] == RANK_NAME_START
    assert ranked[-1][0] == RANK_ORGANIZATION


def test_search_finds_part_of_a_name_an_organization_and_words_in_any_order() -> None:
    index = ContactIndex(demo())
    assert [c.name for c in index.search("love")] == ["Ada Lovelace"]
    assert [c.name for c in index.search("analytical")] == ["Ada Lovelace"]
    assert [c.name for c in index.search("acme")] == ["ACME GmbH, Sales"]
    assert [c.name for c in index.search("lovelace ada")] == ["Ada Lovelace"]
    assert [c.name for c in index.search("garcia jose")] == ["José García"]
    assert index.search("nobody at all") == []


def test_digits_find_numbers_however_they_are_written() -> None:
    index = ContactIndex(demo(), country_code="49")
    assert [c.name for c in index.search("0211 555 0003")] == ["Ada Lovelace"]
    assert [c.name for c in index.search("+49 211 5550003")] == ["Ada Lovelace"]
    assert [c.name for c in index.search("030 1234567")] == ["Grace Hopper"]  # written +49 (0) 30
    assert [c.name for c in index.search("0049 30 123")] == ["Grace Hopper"]
    ranked = index.ranked("1579")
    assert ranked[0][1].name == "Ada Lovelace"
    assert index.ranked("+4916055")[0] == (RANK_NUMBER_START, index.search("jürgen")[0])


def test_an_empty_query_lists_everyone_by_name() -> None:
    names = [c.name for c in ContactIndex(demo()).search("  ")]
    assert names[:3] == ["ACME GmbH, Sales", "Ada Lovelace", "Charles Babbage"]
    assert len(names) == len(default_contacts())


def test_whole_words_is_strict() -> None:
    index = ContactIndex(demo())
    assert [c.name for c in index.whole_words("grace")] == ["Grace Hopper"]
    assert [c.name for c in index.whole_words("mueller")] == ["Jürgen Müller"]
    assert [c.name for c in index.whole_words("hopper grace")] == ["Grace Hopper"]
    assert index.whole_words("grac") == [] and index.whole_words("") == []


def test_by_number_names_a_number() -> None:
    index = ContactIndex(demo())
    [(contact, number)] = index.by_number("+492115550002")
    assert (contact.name, number.type) == ("Reception", "work")
    assert index.by_number("+499999999999") == []


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from("äöüÄÖÜßéèñçøØ"),
    max_size=30,
)


@given(st.text(max_size=40))
def test_folding_and_search_never_raise(query: str) -> None:
    plain, expanded = fold(query)
    assert isinstance(plain, str) and isinstance(expanded, str)
    ContactIndex(demo(), "49").ranked(query)


@given(names, st.text(alphabet=string.digits + " +", max_size=15), names)
def test_a_contacts_own_name_always_finds_it(name: str, digits: str, organization: str) -> None:
    parsed = parse_contact(
        {
            "id": "me",
            "name": name,
            "numbers": [{"number": digits}],
            "organization": [[organization]],
        },
        "DE",
    )
    assert parsed is not None
    others = demo()
    index = ContactIndex([*others, parsed], "49")
    assert parsed in index.search(parsed.name)
    assert parsed in index.search(parsed.name.upper())


def some_contacts() -> list[Contact]:
    from sipgate_tui.simulator import generated_contacts

    found = [parse_contact(item, "DE") for item in [*default_contacts(), *generated_contacts(300)]]
    return [contact for contact in found if contact is not None]


SOME = ContactIndex(some_contacts(), "49")


@given(
    st.text(alphabet="adeilmnorsuüö 0125+", max_size=8),
    st.integers(min_value=0, max_value=40),
)
def test_a_limited_search_is_the_start_of_the_full_one(query: str, limit: int) -> None:
    everything = SOME.ranked(query)
    assert SOME.ranked(query, limit) == everything[:limit]
    ranks = [rank for rank, _ in everything]
    assert ranks == sorted(ranks)  # best first, then by name
    order = [(rank, contact.search_key, contact.id) for rank, contact in everything]
    assert order == sorted(order)
    assert len({id(contact) for _, contact in everything}) == len(everything)  # each once
