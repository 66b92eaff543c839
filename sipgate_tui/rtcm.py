"""After the dial: active calls (``GET /calls``), hanging up, and the call history.

``GET /calls`` lists only *established* calls (not ringing ones), under ``data`` rather than
``items``; the session id of a dial may or may not be the call's id (sipgate-api.md). Answers
are read defensively, as everywhere: a field of the wrong type is left out, never trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sipgate_tui.account import normalise_api_number
from sipgate_tui.api import SipgateClient
from sipgate_tui.text import one_line

HISTORY_PAGE = 100
MAX_HISTORY = 1000  # the API's own cap for limit


@dataclass(frozen=True)
class Participant:
    """One end of an active call."""

    number: str | None  # E.164, when the API gave a usable number
    owner: bool
    muted: bool
    hold: bool


@dataclass(frozen=True)
class ActiveCall:
    """An established call, as ``GET /calls`` lists it; ``raw`` keeps the API's object."""

    call_id: str
    participants: tuple[Participant, ...]
    muted: bool
    hold: bool
    recording: bool
    raw: dict[str, Any]

    def other_numbers(self) -> list[str]:
        """The numbers of the participants who are not the account's own line."""
        return [p.number for p in self.participants if p.number and not p.owner]


@dataclass(frozen=True)
class HistoryEntry:
    """One call of ``GET /history``; ``raw`` keeps the API's object."""

    target: str
    created: str | None
    duration: int | None  # seconds
    status: str | None
    raw: dict[str, Any]


def _flag(value: object) -> bool:
    return value is True


def parse_calls(data: object) -> list[ActiveCall]:
    """Calls from ``{data: [...]}``; entries without a usable id are skipped."""
    items = data.get("data") if isinstance(data, dict) else None
    calls = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        call_id = item.get("callId")
        if not isinstance(call_id, str) or not call_id.strip() or not call_id.isprintable():
            continue
        people = item.get("participants")
        participants = tuple(
            Participant(
                number=normalise_api_number(person.get("phoneNumber")),
                owner=_flag(person.get("owner")),
                muted=_flag(person.get("muted")),
                hold=_flag(person.get("hold")),
            )
            for person in (people if isinstance(people, list) else [])
            if isinstance(person, dict)
        )
        calls.append(
            ActiveCall(
                call_id=call_id.strip()[:100],
                participants=participants,
                muted=_flag(item.get("muted")),
                hold=_flag(item.get("hold")),
                recording=_flag(item.get("recording")),
                raw=item,
            )
        )
    return calls


def list_calls(client: SipgateClient) -> list[ActiveCall]:
    """The account's established calls (needs ``rtcm:read``)."""
    return parse_calls(client.get_json("/calls"))


def hang_up(client: SipgateClient, call_id: str) -> None:
    """End a call (needs ``rtcm:write``); a call that no longer exists raises 404."""
    # The id may be typed by people: the client escapes it whole, so a "/" in it cannot
    # reach another address with the token attached.
    client.delete("/calls", call_id)


def parse_history_page(data: object) -> tuple[list[HistoryEntry], int, int | None]:
    """The usable entries of one history page, how many items it listed, and the total."""
    items = data.get("items") if isinstance(data, dict) else None
    items = items if isinstance(items, list) else []
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        target = item.get("target")
        number = normalise_api_number(target)
        if number is None and not isinstance(target, str):
            continue
        created = item.get("created")
        duration = item.get("duration")
        status = item.get("callStatus") or item.get("status")
        entries.append(
            HistoryEntry(
                target=number or one_line(str(target), 40),
                created=created if isinstance(created, str) and created.isprintable() else None,
                duration=duration
                if isinstance(duration, int) and duration >= 0 and not isinstance(duration, bool)
                else None,
                status=one_line(status, 30) if isinstance(status, str) else None,
                raw=item,
            )
        )
    total = data.get("totalCount") if isinstance(data, dict) else None
    total = total if isinstance(total, int) and not isinstance(total, bool) else None
    return entries, len(items), total


def list_history(client: SipgateClient, limit: int) -> list[HistoryEntry]:
    """The last ``limit`` outgoing calls (needs ``history:read``), in sipgate's order.

    UNVERIFIED: the API reference does not state the order; the web app shows newest first,
    and offset 0 is assumed to be the newest page.
    """
    entries: list[HistoryEntry] = []
    offset = 0
    while len(entries) < limit:
        size = min(HISTORY_PAGE, limit - len(entries))
        data = client.get_json(
            "/history", {"types": "CALL", "directions": "OUTGOING", "limit": size, "offset": offset}
        )
        found, listed, total = parse_history_page(data)
        entries += found
        offset += listed
        if listed < size or (total is not None and offset >= total):
            break
    return entries[:limit]
