"""Property tests: no answer from a server, however odd, makes a parser raise or lie."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipgate_tui.account import normalise_api_number, parse_devices, parse_numbers_page
from sipgate_tui.api import _retry_after, _summarise_body, parse_session_id, parse_userinfo
from sipgate_tui.credentials import decode_item
from sipgate_tui.errors import AppError

E164 = re.compile(r"\+[1-9][0-9]{5,14}")  # ASCII digits only, at most 15 of them

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
# Answers shaped like the API's, with any value in any field.
DEVICE = st.fixed_dictionaries(
    {},
    optional={
        "id": JSON,
        "alias": JSON,
        "type": JSON,
        "online": JSON,
        "dnd": JSON,
        "activePhonelines": JSON,
    },
)
NUMBER = st.fixed_dictionaries(
    {},
    optional={
        "number": JSON | st.integers(),
        "type": JSON,
        "endpointId": JSON,
        "endpointAlias": JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(data=JSON | st.fixed_dictionaries({"items": st.lists(DEVICE | JSON, max_size=6)}))
def test_devices(data: object) -> None:
    for device in parse_devices(data):
        assert isinstance(device.id, str) and device.id
        assert device.online in (True, False, None) and device.dnd in (True, False, None)
        assert all(ch.isprintable() for ch in device.alias + device.id)
        device.label()
        device.can_call  # noqa: B018 - must not raise


@settings(max_examples=300, deadline=None)
@given(
    data=JSON
    | st.fixed_dictionaries({"items": st.lists(NUMBER | JSON, max_size=6), "totalCount": JSON})
)
def test_numbers(data: object) -> None:
    numbers, listed, total = parse_numbers_page(data)
    assert listed >= len(numbers)
    assert total is None or isinstance(total, int)
    for number in numbers:
        assert E164.fullmatch(number.e164), number.e164  # ASCII digits, whatever arrived
        assert number.raw["number"] == number.e164
        json.dumps(number.raw)


@given(value=JSON | st.integers())
def test_api_numbers(value: object) -> None:
    number = normalise_api_number(value)
    assert number is None or E164.fullmatch(number), number


# Numbers as a server might write them, in any script's digits (issue 13, item 15).
DIGITS = st.sampled_from(["0123456789", "０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹"])


@given(
    digits=st.lists(DIGITS, min_size=13, max_size=13),
    prefix=st.sampled_from(["", "+", "＋", "00"]),
)
def test_api_numbers_in_other_digits_are_the_same_numbers(digits: list[str], prefix: str) -> None:
    written = prefix + "".join(
        script[int(ch)] for script, ch in zip(digits, "4921155500010", strict=True)
    )
    assert normalise_api_number(written) == "+4921155500010"


@pytest.mark.parametrize(
    ("value", "e164"),
    [
        ("٤٩٢١١٥٥٥٠٠٠١", "+492115550001"),
        ("＋４９ ２１１ ５５５０００１", "+492115550001"),
        ("00492115550001", "+492115550001"),
        ("0049 211 555000100000", None),  # 17 digits after the 00: not a number
        ("²⁴⁹²¹¹⁵⁵⁵⁰⁰⁰¹", None),  # superscripts count as digits to str.isdigit, not here
        ("02115550001", None),  # national: no country code to read it with
    ],
)
def test_api_numbers_examples(value: str, e164: str | None) -> None:
    assert normalise_api_number(value) == e164


@given(data=JSON | st.fixed_dictionaries({"sessionId": JSON}))
def test_session_ids(data: object) -> None:
    session_id = parse_session_id(data)
    assert session_id is None or (session_id and session_id.isprintable())


@given(data=JSON | st.fixed_dictionaries({"sub": JSON, "domain": JSON}))
def test_userinfo(data: object) -> None:
    info = parse_userinfo(data)
    assert info is None or ("/" not in info.user_id and ".." not in info.user_id)


@settings(max_examples=300, deadline=None)
@given(
    body=st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode()),
    content_type=st.sampled_from(["application/json", "text/html", "text/plain", ""]),
)
def test_error_bodies(body: bytes, content_type: str) -> None:
    text = _summarise_body({"content-type": content_type}, body, lambda t: t)
    assert len(text) <= 300
    assert "\x1b" not in text and "\n" not in text


@given(value=st.none() | st.text(max_size=40))
def test_retry_after(value: str | None) -> None:
    wait = _retry_after(value)
    assert wait is None or wait >= 0


@given(value=st.text(max_size=80) | JSON.map(json.dumps))
def test_keyring_items(value: str) -> None:
    try:
        credentials = decode_item(value)
    except AppError as error:
        assert error.code == "credentials-corrupted"
    else:
        assert credentials.token_id and credentials.token
