"""After the dial: active calls (``GET /calls``), hanging up, and the call history.

``GET /calls`` lists only *established* calls (not ringing ones), under ``data`` rather than
``items``; the session id of a dial may or may not be the call's id (sipgate-api.md). Answers
are read defensively, as everywhere: a field of the wrong type is left out, never trusted.

On sipgate Neo the calls are not in ``/history`` (except, for a while, on migrated accounts)
but in each channel's events, ``GET /channels/{id}/events``, paged with an opaque
``position`` cursor (sipgate-api.md, "sipgate Neo accounts"; the shape is a third-party
client's). :func:`list_neo_history` maps their outgoing CALL events to the same
:class:`HistoryEntry` as ``/history`` gives, and :func:`merge_history` joins both sources.
UNCERTAIN: the events' order (both are handled: newest first lets paging stop early), whether
a channel shared with colleagues lists their calls too (all its outgoing calls are shown), and
whether ``terminatedAt`` minus ``establishedAt`` is what sipgate counts as the length.

The paging rules live once, for any kind of item: :func:`read_history_pages` (``/history`` in
one direction) and :func:`read_users_channels` (every channel's events); ``missed.py`` reads
the missed incoming calls through them.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from sipgate_tui.account import normalise_api_number
from sipgate_tui.api import HttpStatusError, SipgateClient
from sipgate_tui.channels import Channel, list_channels
from sipgate_tui.text import one_line

HISTORY_PAGE = 100
MAX_HISTORY = 1000  # the API's own cap for limit
MAX_HISTORY_PAGES = 2 * MAX_HISTORY // HISTORY_PAGE  # room for pages thinned by unusable items
EVENT_PAGE = 100  # events asked for per page; sipgate may answer fewer (the answer's limit)
MAX_EVENT_PAGES = 20  # per channel: a channel that pages forever must not keep us forever
DUPLICATE_WINDOW = 5.0  # seconds: the same call in /history and in a channel's events


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
    # False when the call was never connected (nobody picked up, busy, rejected): its
    # duration, 0 or absent, is no length to show; None when the answer does not say.
    answered: bool | None = None


# How sipgate says a call never connected: the 2022 spec's `status` values (NOPICKUP, BUSY;
# PICKUP and FORWARD connected), the Node SDK's `callStatus` values and the Neo states.
NOT_CONNECTED = frozenset(
    {
        "NOPICKUP",
        "BUSY",
        "FAILURE",
        "REJECTED",
        "REJECTED_DND",
        "VOICEMAIL_NO_MESSAGE",
        "BUSY_ON_BUSY",
        "MISSED",
    }
)
CONNECTED = frozenset({"PICKUP", "FORWARD", "SUCCESS"})


def answered_by_status(status: object) -> bool | None:
    """Whether a history status says the call connected; None when it does not say."""
    if not isinstance(status, str):
        return None
    word = status.strip().upper()
    return False if word in NOT_CONNECTED else True if word in CONNECTED else None


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


def send_tones(
    client: SipgateClient, call_id: str, sequence: str, *, deadline: float | None = None
) -> None:
    """Keypad tones into an established call (``POST /calls/{id}/dtmf``, needs
    ``rtcm:write``): 404 when sipgate lists no such established call. Sent once, never
    retried; the call id is escaped whole, as for :func:`hang_up`. ``deadline``: seconds the
    whole request may take (when shorter than the client's)."""
    client.post_to_item("/calls", call_id, "dtmf", {"sequence": sequence}, deadline=deadline)


def _answered(item: dict[str, Any]) -> bool | None:
    """What a history item says about the call connecting: its callStatus, else its status."""
    said = answered_by_status(item.get("callStatus"))
    return said if said is not None else answered_by_status(item.get("status"))


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
                answered=_answered(item),
            )
        )
    total = data.get("totalCount") if isinstance(data, dict) else None
    total = total if isinstance(total, int) and not isinstance(total, bool) else None
    return entries, len(items), total


def list_history(
    client: SipgateClient, limit: int, *, since: datetime.datetime | None = None
) -> list[HistoryEntry]:
    """The last ``limit`` outgoing calls (needs ``history:read``), in sipgate's order.

    With ``since``, paging also stops once the calls read so far come newest first and reach
    back before it (who called whom after a missed call needs no older page).

    UNVERIFIED: the API reference does not state the order; the web app shows newest first,
    and offset 0 is assumed to be the newest page.
    """

    def reached(entries: list[HistoryEntry]) -> bool:
        if since is None or not entries or not _descending(entries):
            return False
        oldest = parse_time(entries[-1].created)
        return oldest is not None and oldest < since

    return read_history_pages(client, "OUTGOING", limit, parse_history_page, reached)


Found = TypeVar("Found")
PageParser = Callable[[object], tuple[list[Found], int, int | None]]


def read_history_pages(
    client: SipgateClient,
    direction: str,
    limit: int,
    parse: PageParser[Found],
    enough: Callable[[list[Found]], bool] | None = None,
) -> list[Found]:
    """Up to ``limit`` CALL items of ``/history`` in one ``direction`` (OUTGOING,
    MISSED_INCOMING, ...), each page read by ``parse`` into (usable items, items listed,
    totalCount); ``enough`` may end the paging early.

    Bounded whatever the server answers: a page cap, and a page that adds no usable item ends
    the paging (a server listing unusable items forever once cost 225 requests in 10 s).
    """
    entries: list[Found] = []
    offset = 0
    for _ in range(MAX_HISTORY_PAGES):
        if len(entries) >= limit:
            break
        size = min(HISTORY_PAGE, limit - len(entries))
        data = client.get_json(
            "/history", {"types": "CALL", "directions": direction, "limit": size, "offset": offset}
        )
        found, listed, total = parse(data)
        entries += found
        offset += listed
        if not found or listed < size or (total is not None and offset >= total):
            break
        if enough is not None and enough(entries):
            break
    return entries[:limit]


# -- sipgate Neo: the calls in the channels' events ------------------------------------------


def _text(value: object, limit: int) -> str | None:
    """A printable string field, cleaned; None for anything else."""
    return one_line(value, limit) if isinstance(value, str) and value.strip() else None


def parse_time(value: object) -> datetime.datetime | None:
    """An ISO 8601 time of the API (``Z`` or an offset; none given means UTC), or None."""
    if not isinstance(value, str) or not value.isprintable():
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def _call_length(call: dict[str, Any]) -> int | None:
    """Seconds from establishedAt to terminatedAt; 0 for a call that ended unanswered; None
    while it goes on or when the times cannot be read."""
    ended = parse_time(call.get("terminatedAt"))
    if ended is None:
        return None
    if call.get("establishedAt") is None:
        return 0
    began = parse_time(call.get("establishedAt"))
    seconds = (ended - began).total_seconds() if began is not None else -1.0
    return round(seconds) if seconds >= 0 else None


def parse_call_event(event: object) -> HistoryEntry | None:
    """An outgoing CALL event as a history entry; None for any other event or an unusable one.

    ``raw`` has the keys of a ``/history`` item (id, source, target, created, direction, type,
    status, callStatus, duration: the values as the event gives them) and the event itself
    under ``event``, so ``--json`` has one shape on both account types.
    """
    call = event.get("call") if isinstance(event, dict) else None
    if not isinstance(event, dict) or event.get("type") != "CALL" or not isinstance(call, dict):
        return None
    if call.get("direction") != "OUTGOING":
        return None
    to = call.get("to")
    number = normalise_api_number(to)
    if number is None and not isinstance(to, str):
        return None
    created = next(
        (t for t in (call.get("startedAt"), event.get("createdAt")) if parse_time(t)), None
    )
    state, duration = _text(call.get("state"), 30), _call_length(call)
    raw = {
        "id": event.get("eventId"),
        "source": call.get("from"),
        "target": to,
        "created": created,
        "direction": "OUTGOING",
        "type": "CALL",
        "status": call.get("state"),
        "callStatus": call.get("state"),
        "duration": duration,
        "event": event,
    }
    target = number or one_line(str(to), 40)
    return HistoryEntry(target, created, duration, state, raw, _event_answered(call))


def _event_answered(call: dict[str, Any]) -> bool | None:
    """Established: connected; ended without being established: never connected."""
    if call.get("establishedAt"):
        return True
    return False if call.get("terminatedAt") else answered_by_status(call.get("state"))


def parse_events_page(data: object) -> tuple[list[dict[str, Any]], str | None]:
    """The events of one page (objects only) and the position of the next page, if any."""
    events = data.get("events") if isinstance(data, dict) else None
    position = data.get("position") if isinstance(data, dict) else None
    listed = events if isinstance(events, list) else []
    found = [event for event in listed if isinstance(event, dict)]
    usable = position if isinstance(position, str) and position.strip() else None
    return found, usable


def _event_key(event: dict[str, Any]) -> object:
    """What makes an event the same one on another page: its id, else its call's sid."""
    call = event.get("call")
    sid = call.get("callSid") if isinstance(call, dict) else None
    return event.get("eventId") or sid or repr(event)


def read_channel_calls(
    client: SipgateClient, channel_id: str, limit: int
) -> tuple[list[HistoryEntry], bool]:
    """The outgoing calls of one channel, and whether the page cap cut the reading short.

    Pages follow ``position`` until the last page, a page that adds no new event (a server
    that repeats itself), or MAX_EVENT_PAGES. While the events come newest first, reading
    stops once ``limit`` calls are in; listed oldest first, every page is needed.
    """
    found, capped = read_channel_events(
        client, channel_id, parse_call_event, lambda entries: len(entries) >= limit
    )
    return [entry for _, entry in found], capped


def read_channel_events(
    client: SipgateClient,
    channel_id: str,
    parse: Callable[[dict[str, Any]], Found | None],
    enough: Callable[[list[Found]], bool],
) -> tuple[list[tuple[dict[str, Any], Found]], bool]:
    """The events of one channel that ``parse`` makes something of, each with its event, and
    whether the page cap cut the reading short (the rules of :func:`read_channel_calls`,
    with ``enough`` saying when the newest-first reading may stop)."""
    found: list[tuple[dict[str, Any], Found]] = []
    seen: set[object] = set()
    params: dict[str, str | int] = {"limit": EVENT_PAGE}
    newest_first = True
    times: list[datetime.datetime] = []
    for _ in range(MAX_EVENT_PAGES):
        data = client.get_json(f"/channels/{_path_part(channel_id)}/events", params)
        events, position = parse_events_page(data)
        fresh = [event for event in events if _event_key(event) not in seen]
        seen.update(_event_key(event) for event in fresh)
        for event in fresh:
            parsed = parse(event)
            if parsed is not None:
                found.append((event, parsed))
                times += [t for t in (_event_time(event),) if t is not None]
        newest_first = newest_first and all(a >= b for a, b in itertools.pairwise(times))
        if not fresh or position is None or position == params.get("position"):
            return found, False
        if newest_first and enough([item for _, item in found]):
            return found, False
        params = {"limit": EVENT_PAGE, "position": position}
    return found, True


def _event_time(event: dict[str, Any]) -> datetime.datetime | None:
    """When an event's call began (its startedAt, else the event's createdAt)."""
    call = event.get("call")
    began = parse_time(call.get("startedAt")) if isinstance(call, dict) else None
    return began or parse_time(event.get("createdAt"))


def _path_part(text: str) -> str:
    # A channel id comes from the server: escaped whole, it stays one step of the path.
    return quote(text, safe="")


def _descending(entries: list[HistoryEntry]) -> bool:
    times = [t for t in (parse_time(entry.created) for entry in entries) if t is not None]
    return all(a >= b for a, b in itertools.pairwise(times))


def _newest_first(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """Sorted by time, newest first; entries without a readable time last, in their order."""
    floor = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
    return sorted(entries, key=lambda entry: parse_time(entry.created) or floor, reverse=True)


def _users_channels(channels: list[Channel], user_id: str) -> list[Channel]:
    """The channels the user is in: with devices of theirs, or listing them among the users.
    When no channel lists users at all, every channel (the shape is a third party's)."""
    if not any(isinstance(channel.raw.get("users"), list) for channel in channels):
        return channels
    return [
        channel
        for channel in channels
        if channel.device_ids
        or any(
            isinstance(user, dict) and user.get("id") == user_id
            for user in channel.raw.get("users") or []
        )
    ]


def list_neo_history(
    client: SipgateClient, user_id: str, limit: int
) -> tuple[list[HistoryEntry], list[str]]:
    """The last ``limit`` outgoing calls of every channel the user is in, newest first, and
    notes on what could not be read (needs ``channels:read``).

    A channel that refuses its events (403: a private one) or no longer has them (404) is
    skipped with a note; every other failure raises, as on classic. The same call listed in
    two channels is shown once.
    """
    found, notes = read_users_channels(
        client, user_id, parse_call_event, lambda entries: len(entries) >= limit
    )
    return _newest_first([entry for _, _, entry in found])[:limit], notes


def read_users_channels(
    client: SipgateClient,
    user_id: str,
    parse: Callable[[dict[str, Any]], Found | None],
    enough: Callable[[list[Found]], bool],
) -> tuple[list[tuple[Channel, dict[str, Any], Found]], list[str]]:
    """What ``parse`` makes of the events of every channel the user is in (with the channel
    and the event), and notes on what could not be read; the rules of
    :func:`list_neo_history`. The same call (its callSid) in two channels is kept once."""
    results: list[tuple[Channel, dict[str, Any], Found]] = []
    notes: list[str] = []
    calls_seen: set[object] = set()
    for channel in _users_channels(list_channels(client, user_id), user_id):
        try:
            found, capped = read_channel_events(client, channel.id, parse, enough)
        except HttpStatusError as error:
            if error.status not in (403, 404):
                raise
            notes.append(
                f"Skipped the channel {channel.name}: sipgate does not show its calls to this "
                f"token (HTTP {error.status})."
            )
            continue
        if capped:
            notes.append(
                f"Read the first {MAX_EVENT_PAGES} pages of the channel {channel.name} only: "
                "older calls in it may be missing."
            )
        for event, item in found:
            sid = _call_sid(event)
            if sid is None or sid not in calls_seen:
                calls_seen.add(sid)
                results.append((channel, event, item))
    return results, notes


def _call_sid(event: dict[str, Any]) -> object:
    call = event.get("call")
    sid = call.get("callSid") if isinstance(call, dict) else None
    return sid if isinstance(sid, str) else None


def merge_history(
    events: list[HistoryEntry], classic: list[HistoryEntry], limit: int
) -> list[HistoryEntry]:
    """The calls of both sources (a migrated account still has some in ``/history``), newest
    first, at most ``limit``. A ``/history`` entry for the same number as a channel's call
    within DUPLICATE_WINDOW seconds is that call again: the channel's entry stays."""

    def duplicate(entry: HistoryEntry) -> bool:
        when = parse_time(entry.created)
        return when is not None and any(
            other.target == entry.target
            and (other_time := parse_time(other.created)) is not None
            and abs((other_time - when).total_seconds()) <= DUPLICATE_WINDOW
            for other in events
        )

    return _newest_first([*events, *(entry for entry in classic if not duplicate(entry))])[:limit]
