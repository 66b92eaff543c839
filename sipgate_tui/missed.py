"""Missed incoming calls: read from sipgate, and which of them still wait for a call back.

The API, for ``history --missed`` and the callee prompt:

* :class:`MissedCall`: one missed call. ``number`` is E.164, or None when the caller is
  anonymous (:attr:`MissedCall.anonymous`) or wrote something no number can be made of;
  ``raw`` is the caller as sipgate wrote it (cleaned for a terminal), ``name`` the name
  sipgate gave (``sourceAlias``, classic only), ``when`` an aware datetime (None when
  unreadable) and ``created`` the time as sipgate wrote it, ``channel`` where it came in (the
  channel's name on sipgate Neo, the line or number called on classic), if known.
* :func:`missed_calls`: reads them, newest first, with the outgoing calls read alongside (so
  :func:`not_called_back` can tell which were called back) and notes on what was left out.
  Raises :class:`MissedUnreadable`, which says which source failed (its scope differs).
* :class:`MissedCaller` and :func:`summarise`: one entry per caller, newest first, with how
  many calls it stands for and whether it was called back; :func:`not_called_back` keeps
  the ones that still wait (and can be dialled), for suggestions. Both are pure, as is
  :func:`ago_words` ("10 min ago"), the words ``history --missed`` uses for a call's age.

Where they come from (../shared/sipgate-api.md, "Missed calls"): classic accounts list them in
``GET /history?types=CALL&directions=MISSED_INCOMING`` (``source`` is the caller; scope
``history:read``), sipgate Neo in the channels' events (direction INCOMING, state MISSED; scope
``channels:read``), and a migrated Neo account possibly in both.

"Called back" means an outgoing call to that number after the missed call: in the history
read alongside, or in the recent numbers of the state file (``settings.Recent``: the number
and ``at``, when the call request was accepted, ISO 8601 UTC). Decided where the data is thin:
a callback without a readable time (an old state entry, an odd history item) does not count,
since nobody can say it came after (a missed call shown once too often costs less than one
hidden); a missed call without a readable time counts as called back once any callback with a
time is known. Anonymous callers can never be called back.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sipgate_tui.account import normalise_api_number
from sipgate_tui.api import ApiError, HttpStatusError
from sipgate_tui.options import DEFAULT_REGION
from sipgate_tui.rtcm import (
    DUPLICATE_WINDOW,
    HISTORY_PAGE,
    MAX_HISTORY,
    HistoryEntry,
    list_history,
    parse_call_event,
    parse_time,
    read_history_pages,
    read_users_channels,
)
from sipgate_tui.text import one_line

if TYPE_CHECKING:
    from sipgate_tui.api import SipgateClient
    from sipgate_tui.settings import Recent

DEFAULT_LIMIT = 50  # missed calls read: enough for a day's work, one page on classic
# How sipgate and phone systems write a caller who withheld the number (the spec's example is
# "anonymous"; the others are common elsewhere). An empty or missing source counts too.
ANONYMOUS_WORDS = frozenset({"anonymous", "unknown", "restricted", "withheld", "private"})
_FLOOR = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)


class MissedCall:
    """One missed incoming call (see the module docstring for the fields)."""

    __slots__ = ("channel", "created", "key", "name", "number", "raw", "when")

    def __init__(
        self,
        number: str | None,
        raw: str,
        when: datetime.datetime | None,
        *,
        created: str | None = None,
        name: str | None = None,
        channel: str | None = None,
        key: object = None,
    ) -> None:
        self.number = number
        self.raw = raw
        self.when = when
        self.created = created
        self.name = name
        self.channel = channel
        self.key = key  # what makes it the same call again: the item's id or the call's sid

    @property
    def anonymous(self) -> bool:
        """The caller withheld the number (as opposed to a number sipgate wrote oddly)."""
        return self.number is None and (not self.raw or self.raw.casefold() in ANONYMOUS_WORDS)

    def __repr__(self) -> str:
        return f"MissedCall({self.number or self.raw!r}, {self.created!r})"


class MissedCaller:
    """The missed calls of one caller: the ones since the last call back (or, when all were
    called back, all of them), newest first; ``count`` how many."""

    __slots__ = ("called_back", "calls", "name", "number", "raw")

    def __init__(self, calls: tuple[MissedCall, ...], *, called_back: bool) -> None:
        self.calls = calls
        self.called_back = called_back
        self.number = calls[0].number
        self.raw = calls[0].raw
        self.name = next((call.name for call in calls if call.name), None)

    @property
    def count(self) -> int:
        """How many missed calls this entry stands for."""
        return len(self.calls)

    @property
    def newest(self) -> MissedCall:
        """The latest of them."""
        return self.calls[0]

    @property
    def anonymous(self) -> bool:
        """The caller withheld the number."""
        return self.calls[0].anonymous

    def to_json(self) -> dict[str, Any]:
        """The ``history --missed --json`` object: number, raw, time, count, calledBack."""
        return {
            "number": self.number,
            "raw": self.raw,
            "time": self.newest.created,
            "count": self.count,
            "calledBack": self.called_back,
        }

    def __repr__(self) -> str:
        return f"MissedCaller({self.number or self.raw!r}, {self.count}, {self.called_back})"


class MissedRead:
    """What :func:`missed_calls` read: the missed calls, newest first; the outgoing calls
    read alongside; notes on what was left out (skipped channels, a capped reading)."""

    __slots__ = ("calls", "notes", "outgoing")

    def __init__(
        self, calls: list[MissedCall], outgoing: list[HistoryEntry], notes: list[str]
    ) -> None:
        self.calls = calls
        self.outgoing = outgoing
        self.notes = notes


class MissedUnreadable(Exception):
    """Reading the missed calls failed: ``source`` is "history" (``/history``, scope
    ``history:read``) or "channels" (the channels' events, scope ``channels:read``),
    ``error`` the client's error."""

    def __init__(self, source: str, error: ApiError) -> None:
        super().__init__(f"{source}: {error}")
        self.source = source
        self.error = error


# -- reading -------------------------------------------------------------------------------


def caller_number(value: object, region: str = DEFAULT_REGION) -> str | None:
    """The E.164 form of a caller as sipgate writes it (with or without ``+``, or national,
    as the spec's examples are), or None."""
    # Cleaned first: the digits inside an escape sequence ("\x1b]0;...") are no part of it.
    text = one_line(value, 60) if isinstance(value, str) else value
    found = normalise_api_number(text)
    if found is not None or not isinstance(text, str):
        return found
    if not text.startswith("0") or text.startswith("00") or len(text) > 40:
        return None
    from sipgate_tui.errors import InputError
    from sipgate_tui.numbers import parse_phone_number

    try:
        return parse_phone_number(text, region).e164
    except InputError:
        return None


def _text(value: object, limit: int) -> str | None:
    return one_line(value, limit) or None if isinstance(value, str) else None


def parse_missed_item(item: object, region: str = DEFAULT_REGION) -> MissedCall | None:
    """A ``/history`` item as a missed call; None for anything else (another direction or
    type, from a server ignoring the filter) and for an item with nothing to show: a caller
    that is no text, or none and no readable time."""
    if not isinstance(item, dict):
        return None
    if item.get("direction", "MISSED_INCOMING") != "MISSED_INCOMING":
        return None
    if item.get("type", "CALL") != "CALL":
        return None
    source, created = item.get("source"), item.get("created")
    if not (isinstance(source, str) or (source is None and parse_time(created))):
        return None
    target = item.get("target")
    called = normalise_api_number(target)
    return MissedCall(
        caller_number(source, region),
        one_line(source, 40) if isinstance(source, str) else "",
        parse_time(created),
        created=created if isinstance(created, str) and created.isprintable() else None,
        name=_text(item.get("sourceAlias"), 60),
        channel=_text(item.get("targetAlias"), 40) or called,
        key=item.get("id") if isinstance(item.get("id"), str) else None,
    )


def parse_missed_page(
    data: object, region: str = DEFAULT_REGION
) -> tuple[list[MissedCall], int, int | None]:
    """The usable missed calls of one ``/history`` page, how many items it listed, the total."""
    items = data.get("items") if isinstance(data, dict) else None
    items = items if isinstance(items, list) else []
    found = [call for call in (parse_missed_item(item, region) for item in items) if call]
    total = data.get("totalCount") if isinstance(data, dict) else None
    total = total if isinstance(total, int) and not isinstance(total, bool) else None
    return found, len(items), total


def parse_missed_event(event: object, region: str = DEFAULT_REGION) -> MissedCall | None:
    """A channel's CALL event that is a missed incoming call (direction INCOMING, state
    MISSED), or None."""
    call = event.get("call") if isinstance(event, dict) else None
    if not isinstance(event, dict) or event.get("type") != "CALL" or not isinstance(call, dict):
        return None
    if call.get("direction") != "INCOMING" or call.get("state") != "MISSED":
        return None
    source = call.get("from")
    if source is not None and not isinstance(source, str):
        return None
    created = next(
        (t for t in (call.get("startedAt"), event.get("createdAt")) if parse_time(t)), None
    )
    sid = call.get("callSid")
    return MissedCall(
        caller_number(source, region),
        one_line(source, 40) if isinstance(source, str) else "",
        parse_time(created),
        created=created,
        channel=_text(call.get("channelId"), 40),
        key=sid if isinstance(sid, str) else None,
    )


def missed_calls(
    client: SipgateClient,
    *,
    kind: str,
    user_id: Callable[[], str],
    limit: int = DEFAULT_LIMIT,
    region: str = DEFAULT_REGION,
) -> MissedRead:
    """The last ``limit`` missed incoming calls, newest first, by the account type ``kind``
    ("classic", "neo" or "unknown", as ``account_type`` gives it), as ``history`` reads.

    Classic: ``/history``. Neo: the channels' events, and ``/history`` (migrated accounts;
    its failure is a note, or nothing for 403/404). Unknown: ``/history``, and when it has no
    missed call (or cannot be read) the channels too, if they can be read. ``user_id`` is
    asked only when the channels are read. Raises :class:`MissedUnreadable`.
    """
    if kind == "neo":
        return _neo_missed(client, user_id, limit, region)
    try:
        read = _classic_missed(client, limit, region)
    except MissedUnreadable as problem:
        if kind != "unknown" or not _unavailable(problem.error):
            raise
        found = _neo_if_readable(client, user_id, limit, region)
        if found is None:
            raise
        return found
    if read.calls or kind == "classic":
        return read
    return _neo_if_readable(client, user_id, limit, region) or read


def _unavailable(error: ApiError) -> bool:
    return isinstance(error, HttpStatusError) and error.status in (403, 404)


def _classic_missed(client: SipgateClient, limit: int, region: str) -> MissedRead:
    """``/history``'s missed calls and, when there are any, the outgoing calls since the
    oldest of them (one page when no time can be read)."""
    try:
        calls = read_history_pages(
            client, "MISSED_INCOMING", limit, lambda data: parse_missed_page(data, region)
        )
        times = [call.when for call in calls if call.when is not None]
        since = min(times) if times else None
        outgoing = (
            list_history(client, MAX_HISTORY if since else HISTORY_PAGE, since=since)
            if calls
            else []
        )
    except ApiError as error:
        raise MissedUnreadable("history", error) from None
    return MissedRead(newest_first(calls), outgoing, [])


def _neo_missed(
    client: SipgateClient, user_id: Callable[[], str], limit: int, region: str
) -> MissedRead:
    """The channels' missed calls and outgoing calls (one reading), with what ``/history``
    still lists on a migrated account."""

    def parse(event: dict[str, Any]) -> MissedCall | HistoryEntry | None:
        return parse_missed_event(event, region) or parse_call_event(event)

    def enough(found: list[MissedCall | HistoryEntry]) -> bool:
        return sum(isinstance(item, MissedCall) for item in found) >= limit

    try:
        found, notes = read_users_channels(client, user_id(), parse, enough)
    except ApiError as error:
        raise MissedUnreadable("channels", error) from None
    calls = [
        _in_channel(item, channel.name)
        for channel, _, item in found
        if isinstance(item, MissedCall)
    ]
    outgoing = [item for _, _, item in found if isinstance(item, HistoryEntry)]
    try:
        classic = _classic_missed(client, limit, region)
    except MissedUnreadable as problem:
        if not _unavailable(problem.error):
            notes.append(
                f"The classic call history could not be read ({_why(problem.error)}): missed "
                "calls from before the move to sipgate Neo may be missing."
            )
        classic = MissedRead([], [], [])
    merged = _merge(calls, classic.calls)
    return MissedRead(newest_first(merged)[:limit], outgoing + classic.outgoing, notes)


def _why(error: ApiError) -> str:
    return f"HTTP {error.status}" if isinstance(error, HttpStatusError) else type(error).__name__


def _neo_if_readable(
    client: SipgateClient, user_id: Callable[[], str], limit: int, region: str
) -> MissedRead | None:
    """The channels' missed calls of an account of unknown type, or None when it has no
    channels to read (a classic account answers ``/channels`` with 404)."""
    try:
        return _neo_missed(client, user_id, limit, region)
    except MissedUnreadable:
        return None


def _in_channel(call: MissedCall, name: str) -> MissedCall:
    return MissedCall(
        call.number,
        call.raw,
        call.when,
        created=call.created,
        name=call.name,
        channel=one_line(name, 40) or call.channel,
        key=call.key,
    )


def _merge(events: list[MissedCall], classic: list[MissedCall]) -> list[MissedCall]:
    """Both sources; a ``/history`` call from the same caller as a channel's call within
    DUPLICATE_WINDOW seconds is that call again."""

    def duplicate(call: MissedCall) -> bool:
        return call.when is not None and any(
            other.number == call.number
            and other.raw == call.raw
            and other.when is not None
            and abs((other.when - call.when).total_seconds()) <= DUPLICATE_WINDOW
            for other in events
        )

    return [*events, *(call for call in classic if not duplicate(call))]


def newest_first(calls: Iterable[MissedCall]) -> list[MissedCall]:
    """Sorted by time, newest first; calls without a readable time last, in their order."""
    return sorted(calls, key=lambda call: call.when or _FLOOR, reverse=True)


# -- called back or not (pure) ---------------------------------------------------------------


def _callback_times(
    outgoing: Iterable[HistoryEntry], recent: Iterable[Recent], region: str
) -> dict[str, datetime.datetime]:
    """The latest outgoing call with a readable time, per E.164 number."""
    latest: dict[str, datetime.datetime] = {}
    pairs = [(entry.target, parse_time(entry.created)) for entry in outgoing]
    pairs += [(item.number, parse_time(item.at)) for item in recent]
    for target, when in pairs:
        number = caller_number(target, region)
        if number is not None and when is not None and (latest.get(number) or _FLOOR) < when:
            latest[number] = when
    return latest


def _caller_key(call: MissedCall) -> str:
    if call.number is not None:
        return call.number
    return "anonymous" if call.anonymous else "raw:" + call.raw.casefold()


def summarise(
    missed: Iterable[MissedCall],
    outgoing_calls: Iterable[HistoryEntry],
    recent_numbers: Iterable[Recent],
    *,
    region: str = DEFAULT_REGION,
) -> list[MissedCaller]:
    """One entry per caller (all anonymous callers together), newest first: the missed calls
    since the last call back, or all of them, called back, when none is left."""
    callbacks = _callback_times(outgoing_calls, recent_numbers, region)
    groups: dict[str, list[MissedCall]] = {}
    for call in newest_first(missed):
        groups.setdefault(_caller_key(call), []).append(call)
    callers = []
    for calls in groups.values():
        back = callbacks.get(calls[0].number) if calls[0].number else None
        waiting = tuple(
            call for call in calls if back is None or (call.when is not None and call.when > back)
        )
        if waiting:
            callers.append(MissedCaller(waiting, called_back=False))
        else:
            callers.append(MissedCaller(tuple(calls), called_back=True))
    return sorted(callers, key=lambda caller: caller.newest.when or _FLOOR, reverse=True)


def ago_words(when: datetime.datetime | None, now: datetime.datetime | None) -> str:
    """How long ago a missed call was, in words ("just now", "10 min ago", "3 h ago",
    "2 days ago"); "" when either time is unknown or ``when`` lies ahead."""
    if when is None or now is None:
        return ""
    seconds = (now - when).total_seconds()
    if seconds < 0:
        return ""
    if seconds < 3600:
        return "just now" if seconds < 60 else f"{int(seconds // 60)} min ago"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def not_called_back(
    missed: Iterable[MissedCall],
    outgoing_calls: Iterable[HistoryEntry],
    recent_numbers: Iterable[Recent],
    *,
    region: str = DEFAULT_REGION,
) -> list[MissedCaller]:
    """The callers still waiting for a call back, newest first, one entry per number with
    the count of missed calls since the last call back; anonymous callers and numbers that
    cannot be dialled are left out (there is nothing to call)."""
    return [
        caller
        for caller in summarise(missed, outgoing_calls, recent_numbers, region=region)
        if not caller.called_back and caller.number is not None
    ]
