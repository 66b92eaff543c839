"""What a token may do: verify it, and probe the optional read scopes in parallel.

sipgate does not tell a token its own scopes, so each read scope is probed with the cheapest
GET that needs it. Write scopes cannot be probed without side effects (a call, a hang-up).
Three of the probes also tell the account type (``account_type``): they run in the same pool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from sipgate_tui import account_type
from sipgate_tui.account_type import PROBE_SCOPES, probe_paths
from sipgate_tui.api import ApiError, SipgateClient, UserInfo
from sipgate_tui.errors import InputError
from sipgate_tui.numbers import E164_MAX_DIGITS, normalise_digits, parse_device_id
from sipgate_tui.text import one_line


@dataclass(frozen=True)
class Scope:
    """A token scope, what it unlocks, and how to probe it (None: it cannot be probed).

    ``only_on`` names the account type the scope matters for ("classic", "neo"), if only one;
    ``on_neo`` is what to say instead of its verdict on a Neo account, where it unlocks
    nothing yet; ``missing`` are the probe's statuses that mean the token lacks the scope.
    """

    name: str
    used_for: str
    required: bool = False
    probe: Callable[[UserInfo], tuple[str, dict[str, str | int]]] | None = None
    only_on: str | None = None
    on_neo: str | None = None
    missing: tuple[int, ...] = (401, 403, 404)


def _type_probe(scope: str) -> Callable[[UserInfo], tuple[str, dict[str, str | int]]]:
    """The probe of one of the account type's scopes (account_type.PROBE_SCOPES)."""
    return lambda user: (probe_paths(user.user_id)[scope], {})


SCOPES: tuple[Scope, ...] = (
    Scope("sessions:calls:write", "place calls", required=True),
    Scope(
        "devices:read",
        "pick your phone from a list and see whether it is online",
        probe=lambda user: (f"/{user.user_id}/devices", {}),
    ),
    Scope(
        "numbers:read",
        "pick the number the callee sees",
        probe=lambda user: ("/numbers", {"limit": 1}),
    ),
    Scope(
        "rtcm:read",
        "watch the call connect after dialing",
        probe=lambda user: ("/calls", {}),
        on_neo="sipgate Neo lists no active calls yet",
    ),
    Scope("rtcm:write", "hang up from the terminal"),
    Scope(
        "history:read",
        "list your recent calls",
        probe=lambda user: ("/history", {"types": "CALL", "limit": 1}),
    ),
    Scope(
        "contacts:read",
        "find people by name in the account's contacts",
        probe=lambda user: ("/contacts", {"limit": 1}),
    ),
    Scope(
        "channels:read",
        "pick the channel a call goes through, and list recent calls, on sipgate Neo",
        probe=_type_probe("channels:read"),
        only_on="neo",
        missing=(401, 403),  # a 404: no channels at all, as on classic accounts
    ),
    Scope(
        "groups:read",
        "tell a classic account from a sipgate Neo one",
        probe=_type_probe("groups:read"),
        only_on="classic",
    ),
    Scope(
        "phonelines:read",
        "tell a classic account from a sipgate Neo one",
        probe=_type_probe("phonelines:read"),
        only_on="classic",
    ),
)
PROBED = tuple(scope for scope in SCOPES if scope.probe is not None)


@dataclass(frozen=True)
class AccountCheck:
    """A verified token: whose it is, per probed scope True / False / None (unknown), and
    the account type its answers show ("classic", "neo", "unknown") with the reason."""

    user: UserInfo
    scopes: dict[str, bool | None] = field(default_factory=dict)
    account_type: str = "unknown"
    account_type_reason: str = ""


def check_account(client: SipgateClient) -> AccountCheck:
    """Verify the token (``GET /authorization/userinfo``), then probe the read scopes at once.

    Raises the client's errors for the verification (401: the token is wrong); a probe that
    fails for any reason other than a missing scope is reported as unknown, never as an error.
    """
    user = client.userinfo()

    def probe(scope: Scope) -> tuple[int, bool] | None:
        assert scope.probe is not None
        path, params = scope.probe(user)
        try:
            return client.probe_refusal(path, params)
        except ApiError:
            return None

    # Here, not at the top: the thread pool's modules cost ~3 ms, and only login and status
    # probe the scopes.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(PROBED), thread_name_prefix="probe") as pool:
        answers = dict(zip(PROBED, pool.map(probe, PROBED), strict=True))
    paths = probe_paths(user.user_id)
    type_answers = {
        paths[scope.name]: answer
        for scope, answer in answers.items()
        if scope.name in PROBE_SCOPES and answer is not None
    }
    found = account_type.conclude(type_answers, user.user_id)
    return AccountCheck(
        user,
        {scope.name: _granted(scope, answer, found) for scope, answer in answers.items()},
        account_type=found,
        account_type_reason=account_type.explain(type_answers, user.user_id),
    )


def _granted(scope: Scope, answer: tuple[int, bool] | None, found: str) -> bool | None:
    """Whether a probe's answer shows the scope granted; None when it tells nothing (a
    network failure, a server error, the Classic-PBX refusal, which is about the account, not
    the token, or a 404 on Neo from an endpoint Neo does not have yet, such as ``/calls``)."""
    if answer is None or answer[1]:
        return None
    status = answer[0]
    if 200 <= status < 300:
        return True
    if status == 404 and found == "neo" and scope.on_neo:
        return None
    return False if status in scope.missing else None


# -- devices and numbers -----------------------------------------------------------------------

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
