"""The account's devices and numbers, as the API lists them, read defensively."""

from __future__ import annotations

from typing import NamedTuple

from sipgate_tui.api import SipgateClient
from sipgate_tui.errors import InputError
from sipgate_tui.numbers import E164_MAX_DIGITS, normalise_digits, parse_device_id
from sipgate_tui.text import one_line

MAX_PAGES = 50  # a server that never stops paging must not keep us forever
PAGE_SIZE = 100


class Device(NamedTuple):
    """A device as ``GET /{userId}/devices`` lists it, read defensively.

    ``raw`` keeps the API's own object (its field names) for ``--json``.
    """

    id: str
    alias: str
    type: str | None
    online: bool | None
    dnd: bool | None
    phonelines: tuple[str, ...]
    raw: dict[str, object]

    @property
    def can_call(self) -> bool:
        """Whether this device can ring first (e, x, y or p device ids)."""
        try:
            parse_device_id(self.id)
        except InputError:
            return False
        return True

    def label(self) -> str:
        """``Desk phone (e0) · online`` as shown in the picker."""
        state = {True: "online", False: "offline", None: "status unknown"}[self.online]
        dnd = " · do not disturb" if self.dnd else ""
        return f"{self.alias} ({self.id}) · {state}{dnd}"


class AccountNumber(NamedTuple):
    """A number of the account as ``GET /numbers`` lists it, ``e164`` normalised."""

    e164: str
    type: str | None
    rings: str | None  # where calls to it ring (the endpoint's alias or id)
    raw: dict[str, object]


def list_devices(client: SipgateClient, user_id: str, *, all_types: bool = False) -> list[Device]:
    """The user's devices (needs ``devices:read``). ``all_types`` asks for every type, which
    sipgate Neo needs to list its desktop app (``type=all``); classic accounts get no query."""
    params: dict[str, str | int] | None = {"type": "all"} if all_types else None
    return parse_devices(client.get_json(f"/{user_id}/devices", params))


def parse_devices(data: object) -> list[Device]:
    """Devices from a ``{items: [...]}`` answer; entries without a usable id are skipped."""
    items = data.get("items") if isinstance(data, dict) else None
    devices = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        device_id = _clean_name(item["id"])
        if not device_id:
            continue
        alias = item.get("alias")
        lines = item.get("activePhonelines")
        devices.append(
            Device(
                id=device_id,
                alias=_clean_name(alias) if isinstance(alias, str) and alias.strip() else device_id,
                type=_clean_name(item["type"]) if isinstance(item.get("type"), str) else None,
                online=item["online"] if isinstance(item.get("online"), bool) else None,
                dnd=item["dnd"] if isinstance(item.get("dnd"), bool) else None,
                phonelines=tuple(
                    _clean_name(str(line.get("alias") or line.get("id")))
                    for line in (lines if isinstance(lines, list) else [])
                    if isinstance(line, dict) and (line.get("alias") or line.get("id"))
                ),
                raw=item,
            )
        )
    return devices


def list_numbers(client: SipgateClient) -> list[AccountNumber]:
    """Every number of the account (needs ``numbers:read``), following the pages."""
    numbers: list[AccountNumber] = []
    for page in range(MAX_PAGES):
        data = client.get_json("/numbers", {"offset": page * PAGE_SIZE, "limit": PAGE_SIZE})
        found, listed, total = parse_numbers_page(data)
        numbers += found
        if listed < PAGE_SIZE or (total is not None and page * PAGE_SIZE + listed >= total):
            break
    return numbers


def parse_numbers_page(data: object) -> tuple[list[AccountNumber], int, int | None]:
    """The usable numbers of one ``GET /numbers`` page, how many items it listed, and the
    total the API announced (if it did)."""
    items = data.get("items") if isinstance(data, dict) else None
    items = items if isinstance(items, list) else []
    numbers = []
    for item in items:
        number = normalise_api_number(item.get("number")) if isinstance(item, dict) else None
        if number is None:
            continue
        rings = item.get("endpointAlias") or item.get("endpointId")
        numbers.append(
            AccountNumber(
                e164=number,
                type=_clean_name(item["type"]) if isinstance(item.get("type"), str) else None,
                rings=_clean_name(str(rings)) if isinstance(rings, (str, int)) and rings else None,
                raw={**item, "number": number},
            )
        )
    total = data.get("totalCount") if isinstance(data, dict) else None
    total = total if isinstance(total, int) and not isinstance(total, bool) else None
    return numbers, len(items), total


def normalise_api_number(value: object) -> str | None:
    """The API writes numbers with or without ``+``, as strings or as JSON numbers: E.164."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    # Digits in another script (fullwidth, Arabic-Indic) are read as the same digits the user
    # types; other characters that merely count as digits (superscripts) are not digits.
    text = normalise_digits(str(value).strip())
    digits = "".join(ch for ch in text if ch in "0123456789")
    if text.startswith("00"):
        digits = digits[2:]
    if not 6 <= len(digits) <= E164_MAX_DIGITS or digits.startswith("0"):
        return None
    return "+" + digits


def _clean_name(text: str) -> str:
    """A name or id from the account, as shown in pickers and tables."""
    return one_line(text, 80)
