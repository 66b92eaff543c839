"""A simulated sipgate REST API on 127.0.0.1, for tests (and a later demo mode).

It behaves like the API as described in sipgate's public material (OpenAPI spec, the official
examples, the help pages): Basic auth with a personal access token, scopes, JSON bodies, the
documented status codes. It records every request so tests can assert on exactly what was sent.

Where sipgate's behaviour is not documented, this simulator has to choose, and says so:

* UNCERTAIN: error *bodies* of ``POST /sessions/calls`` are not specified. We answer 400/403 in
  the ``{"errors": [...]}`` shape the spec uses elsewhere, and 401 with an empty body.
* UNCERTAIN: a device id that is valid in form but not the user's. sipgate's docs name 403
  ("no permission to use specified Web Phone extension"); we answer 403.
* UNCERTAIN: number formats. The spec's examples use bare digits, the Node SDK sends ``+``;
  both are accepted here.
* ``POST /calls/{id}/dtmf`` ``{"sequence": "1234#"}`` (rtcm:write, else 403): 204 for an
  established call, 404 for any other (ringing, ended, unknown; on Neo unless
  ``neo_calls_list``), 400 for a sequence that is not 0-9, * and #. Each one past the scope
  check is kept in ``dtmf_received`` with the simulator's ``clock()`` (tests may hand in
  simulated time) and whether the call was established then. UNCERTAIN: whether sipgate
  answers before or after the tones are played; here at once.

sipgate Neo (``account_type="neo"``; facts and sources in ../shared/sipgate-api.md, "sipgate Neo
accounts": P = sipgate's help article, T = a third-party client). What the article states:

* ``POST /sessions/calls``, ``GET /groups`` and ``GET /{userId}/phonelines`` answer 403 with the
  plain-text body "This endpoint requires a sipgate Classic PBX Account" (P, T: j-lawyer,
  sipgate-mcp). On classic, ``/groups`` and ``/{userId}/phonelines`` answer 200 (scopes
  ``groups:read``, ``phonelines:read``) and the Neo endpoints below answer 404.
* ``GET /{userId}/devices`` takes ``type`` (a comma list of all, app, register, mobile,
  external); app devices (type APP) are listed only when asked for (P). Without ``type`` every
  other device is listed, as on classic. An unknown value answers 400 (UNCERTAIN).
* ``GET /history`` lists no calls (fax and SMS would stay), unless ``neo_history_calls`` (P:
  migrated customers still see calls there "initially").
* Missed calls (sipgate-api.md, "Missed calls"): ``add_missed_call`` records one, on classic as
  a ``/history`` item (direction MISSED_INCOMING, ``source`` the caller; the ``directions`` and
  ``types`` filters are honoured, each repeatable), on Neo as an event with direction INCOMING
  and state MISSED; ``add_past_call`` an answered outgoing call; ``add_missed_sample`` the
  demo's set (several from one number, an anonymous caller, one called back since).
* Calls are in ``GET /channels/{channelId}/events`` (T: a TypeScript client), paged with an
  opaque ``position`` cursor: ``{events: [...], limit, position}``, ``position`` absent on the
  last page. Scope ``channels:read`` for it and for ``GET /channels`` (T).

What rests on third-party reports or nothing, each a switch (an attribute, set after
construction) or a stated choice:

* UNCERTAIN ``neo_numbers`` ("any" default | "digits" | "plus"): the number format ``POST
  /calls`` accepts for ``targetNumber`` and ``callerId``. j-lawyer sends E.164 digits without
  ``+`` and says the endpoint requires that; a CRM sends ``+``. A wrong format answers 400.
* UNCERTAIN ``neo_call_id_field`` ("callSid" default, j-lawyer | "callId", the CRM) and
  ``neo_call_status`` (200 default | 201: both are reported): the answer of ``POST /calls``.
* UNCERTAIN ``neo_calls_list`` (False: ``GET /calls`` answers 404; P says it is "planned") and
  ``neo_hangup`` (False: ``DELETE /calls/{id}`` answers 404; whether it works on Neo is
  unknown). True: both behave as on classic, with the call's ``callSid`` as its id.
* UNCERTAIN ``neo_history_calls`` (False): True is a migrated account whose ``/history`` still
  lists calls, old ones and the ones placed now (so both sources hold the same call).
* UNCERTAIN ``neo_sessions_calls_work`` (False): a j-lawyer design note (March 2026) says
  ``POST /sessions/calls`` "still works but does not support channel-based routing"; the CRM
  saw 403. True: it places the call as on classic.
* UNCERTAIN ``neo_refusal_before_scope`` (False): whether a Neo account refuses a classic-only
  endpoint before checking the token's scope. False: a token without the scope gets the
  ordinary scope 403 (which tells nothing about the account type).
* UNCERTAIN ``neo_channel_required`` (False): without ``channelId`` sipgate uses the device's
  default channel (T); here the first channel holding the device. A device in no channel then
  gets a 200 and never rings (the CRM's "API says success, phone does not ring"). True: a
  missing ``channelId`` answers 400.
* UNCERTAIN ``neo_events_oldest_first`` (False: newest first): the order of the events.
* UNCERTAIN ``neo_event_numbers`` ("plus" default | "digits"): how events write ``from``/``to``.
* UNCERTAIN ``neo_events_default_limit`` (20) and ``neo_events_max_limit`` (100): the page size
  without ``limit`` and its cap; the answer's ``limit`` says what was used.
* UNCERTAIN, no switch: ``POST /calls`` checks the same write scopes as ``/sessions/calls``; a
  device that is not the user's answers 403; a MOBILE device 400 "Invalid invitable device"
  (T: j-lawyer, the CRM); an unknown ``channelId``, or one not holding the device, 400; a
  private channel answers its events with 403 (T), an unknown one 404. A call nobody answers is
  recorded at once as state MISSED with terminatedReason NO_ANSWER (the states are T's list;
  which one an unanswered outgoing call gets is not stated); a placed call is RINGING until
  picked up (ESTABLISHED), FINISHED when hung up. Times are ISO 8601 UTC with milliseconds.
  ``GET /channels`` pages with ``offset``/``limit`` and says ``totalCount`` like ``/numbers``.
  Whether the own device rings first or the target is dialled directly does not change what
  the simulator answers.

Contacts (``GET /contacts``, scope ``contacts:read``; ../shared/sipgate-api.md, "Contacts"):
``offset`` (default 0) and ``limit`` (default 5000), answered ``{items, totalCount}``; an item
is ``{id, name, picture, emails, numbers: [{number, type: [...]}], addresses, organization:
[[...]], scope}`` with ``scope`` PRIVATE, SHARED or INTERNAL. ``contacts`` (a constructor
argument and attribute) holds the items in that shape; ``default_contacts()`` are the demo's.
The ``phonenumbers`` filter is not simulated. Switches, for what sipgate may do:

* UNCERTAIN ``contacts_max_limit`` (None): sipgate "may clamp" ``limit``; a number clamps it.
* ``contacts_total_count`` (None: the true count) announces another total (a lying one);
  ``contacts_send_total`` (True) False leaves ``totalCount`` out.
* ``contacts_endless`` (False): a broken server whose pages never end (new ids every page).
* ``large_phonebook(n)``: ``n`` generated contacts, for benchmarks and paging tests.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

CALL_SCOPES = frozenset({"sessions:calls:write", "sessions:write", "all"})
ALL_READ_SCOPES = frozenset(
    {
        "devices:read",
        "numbers:read",
        "rtcm:read",
        "rtcm:write",
        "history:read",
        "balance:read",
        "groups:read",
        "phonelines:read",
        "channels:read",
        "contacts:read",
    }
)
CLASSIC_PBX_REFUSAL = "This endpoint requires a sipgate Classic PBX Account"
ACCOUNT_TYPES = ("classic", "neo")
DEVICE_TYPES = {"app": "APP", "register": "REGISTER", "mobile": "MOBILE", "external": "EXTERNAL"}
_DEVICE_ID = re.compile(r"^[a-z](0|[1-9][0-9]*)$")
_PHONE_NUMBER = re.compile(r"^\+?[1-9][0-9]{5,15}$")
_NEO_NUMBER = {
    "any": _PHONE_NUMBER,
    "digits": re.compile(r"^[1-9][0-9]{5,15}$"),
    "plus": re.compile(r"^\+[1-9][0-9]{5,15}$"),
}
_EVENTS_PATH = re.compile(r"^/channels/([^/]+)/events$")
_DTMF_PATH = re.compile(r"^/calls/([^/]+)/dtmf$")
_DTMF_SEQUENCE = re.compile(r"^[0-9*#]{1,100}$")

Answer = tuple[int, dict[str, str], bytes]


@dataclass
class SimulatedToken:
    """A personal access token known to the simulated account."""

    token: str
    scopes: frozenset[str] = field(default_factory=lambda: CALL_SCOPES | ALL_READ_SCOPES)


@dataclass
class SimulatedDevice:
    """A device of the simulated user, in the API's shape."""

    id: str
    alias: str
    type: str = "REGISTER"
    online: bool = True
    dnd: bool = False
    phonelines: tuple[tuple[str, str], ...] = (("p0", "Main line"),)

    def to_api(self) -> dict[str, Any]:
        """The device as ``GET /{userId}/devices`` lists it."""
        return {
            "id": self.id,
            "alias": self.alias,
            "type": self.type,
            "online": self.online,
            "dnd": self.dnd,
            "activePhonelines": [{"id": i, "alias": a} for i, a in self.phonelines],
            "activeGroups": [],
        }


@dataclass
class SimulatedChannel:
    """A Neo channel: the user's devices in it, other users' entries, and its events.

    ``private``: the user is in it but may not read its events (they answer 403). ``events``
    are kept oldest first, in the shape ``GET /channels/{id}/events`` lists them.
    """

    id: str
    name: str
    device_ids: tuple[str, ...] = ()
    private: bool = False
    other_users: dict[str, tuple[str, ...]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    def to_api(self, user_id: str) -> dict[str, Any]:
        """The channel as ``GET /channels`` lists it (the user's entry only if in it)."""
        users = [{"id": user_id, "deviceIds": list(self.device_ids)}] if self.device_ids else []
        users += [{"id": uid, "deviceIds": list(ids)} for uid, ids in self.other_users.items()]
        return {"id": self.id, "name": self.name, "owner": user_id, "users": users}


@dataclass
class RecordedRequest:
    """One request as the simulator received it. Header names are lower-case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    peer: tuple[str, int] = ("", 0)  # the client's address: shows connection reuse
    received_at: float = 0.0  # time.monotonic() when the request arrived
    answered_at: float | None = None  # ... and when its answer was sent
    status: int | None = None  # the status it was answered with
    answer: bytes = b""  # the start of the answer's body (tests tell refusals apart by it)

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True)
class ReceivedTones:
    """One ``POST /calls/{id}/dtmf`` that passed the scope check: the sequence, the
    simulator's ``clock()`` when it arrived, and whether the call was established then."""

    call_id: str
    sequence: str
    at: float
    established: bool


@dataclass
class CannedResponse:
    """A fault to inject: answer matching requests with this instead of the normal behaviour."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    method: str | None = None
    path: str | None = None
    delay: float = 0.0
    times: int | None = None  # None: forever

    def matches(self, method: str, path: str) -> bool:
        """Whether this canned answer applies to ``method path``."""
        return (self.method in (None, method)) and (self.path in (None, path))


DEFAULT_TOKEN_ID = "token-SIM001"
DEFAULT_TOKEN = "5f0c2a4e-8b1d-4c6f-9e3a-7d2b1c0e9f84"
MAIN_CHANNEL_ID = "ch0"


def default_devices() -> list[SimulatedDevice]:
    """A small account: a desk phone online, a softphone offline, a mobile, an external phone."""
    return [
        SimulatedDevice("e0", "Desk phone", online=True),
        SimulatedDevice("e1", "Softphone (laptop)", online=False),
        SimulatedDevice("y0", "Mobile", type="MOBILE", online=True),
        SimulatedDevice("x0", "Home phone", type="EXTERNAL", online=True),
    ]


def default_neo_devices() -> list[SimulatedDevice]:
    """The small account on Neo: the same devices and the desktop app (type APP, ``e2``)."""
    return [*default_devices(), SimulatedDevice("e2", "Desktop app", type="APP", online=True)]


def default_channels() -> list[SimulatedChannel]:
    """One channel, "Main", holding the desk phone, the softphone and the desktop app; the
    mobile and the home phone are in no channel."""
    return [SimulatedChannel(MAIN_CHANNEL_ID, "Main", ("e0", "e1", "e2"))]


def contact_item(
    contact_id: str,
    name: str,
    numbers: Iterable[tuple[str, Iterable[str]]] = (),
    *,
    scope: str = "SHARED",
    organization: Iterable[Iterable[str]] = (),
) -> dict[str, Any]:
    """A contact in the shape ``GET /contacts`` lists (numbers: (text, types) pairs)."""
    return {
        "id": contact_id,
        "name": name,
        "picture": None,
        "emails": [],
        "numbers": [{"number": number, "type": list(types)} for number, types in numbers],
        "addresses": [],
        "organization": [list(entry) for entry in organization],
        "scope": scope,
    }


def default_contacts() -> list[dict[str, Any]]:
    """The demo's phonebook: several numbers with types, accents, a contact without numbers,
    a company contact (no name, only the organization), numbers written as people write them,
    and one that cannot be dialled."""
    return [
        contact_item(
            "c1",
            "Ada Lovelace",
            [("+49 1579 9912347", ["cell"]), ("0211 5550003", ["work"])],
            organization=[["Analytical Engines Ltd"]],
        ),
        contact_item("c2", "Grace Hopper", [("+49 (0) 30 1234567", ["work"])]),
        contact_item(
            "c3",
            "Jürgen Müller",
            [
                ("0211 5550004", ["home"]),
                ("+49 160 5550005", ["cell"]),
                ("0211 5550006", ["work", "fax"]),
            ],
            scope="PRIVATE",
        ),
        contact_item("c4", "José García", [("+34 612 345 678", ["cell"])], scope="PRIVATE"),
        contact_item("c5", "", [("0800 5550007", ["work"])], organization=[["ACME GmbH", "Sales"]]),
        contact_item("c6", "Charles Babbage", []),
        contact_item("c7", "Flower shop", [("0800-FLOWERS", ["work"])]),
        contact_item("c8", "Reception", [("+49 211 5550002", ["work"])], scope="INTERNAL"),
    ]


_FIRST_NAMES = ("Anna", "Björn", "Chloé", "Dmitri", "Elif", "François", "Grete", "Hüseyin")
_LAST_NAMES = ("Schmidt", "Müller", "Øster", "Nuñez", "Kowalski", "Dubois", "Şahin", "Lee")


def generated_contacts(count: int) -> list[dict[str, Any]]:
    """``count`` contacts for a large company phonebook: names from a small list with a
    number each (distinct), a mobile for every third, a company contact every tenth."""
    items = []
    for index in range(count):
        first = _FIRST_NAMES[index % len(_FIRST_NAMES)]
        last = _LAST_NAMES[(index // len(_FIRST_NAMES)) % len(_LAST_NAMES)]
        numbers = [(f"0211 {5_000_000 + index:07d}", ["work"])]
        if index % 3 == 0:
            numbers.append((f"+49 151 {10_000_000 + index:08d}", ["cell"]))
        organization = [[f"Firma {index // 10}"]] if index % 10 == 0 else []
        scope = ("SHARED", "PRIVATE", "INTERNAL")[index % 3]
        items.append(
            contact_item(
                f"big{index}",
                f"{first} {last} {index}",
                numbers,
                scope=scope,
                organization=organization,
            )
        )
    return items


def iso_time(seconds: float) -> str:
    """A Unix time as Neo events write it: ISO 8601 UTC with milliseconds (UNCERTAIN)."""
    whole, millis = divmod(int(seconds * 1000), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def call_event(
    event_id: str,
    channel_id: str,
    call_sid: str,
    *,
    source: str,
    target: str,
    started: float,
    established: float | None = None,
    terminated: float | None = None,
    state: str = "FINISHED",
    direction: str = "OUTGOING",
    terminated_reason: str | None = None,
    owner: str = "w0",
) -> dict[str, Any]:
    """A CALL event in the shape ``GET /channels/{id}/events`` lists (times are Unix times)."""
    return {
        "eventId": event_id,
        "createdAt": iso_time(started),
        "type": "CALL",
        "call": {
            "callSid": call_sid,
            "channelId": channel_id,
            "direction": direction,
            "from": source,
            "to": target,
            "startedAt": iso_time(started),
            "establishedAt": iso_time(established) if established is not None else None,
            "terminatedAt": iso_time(terminated) if terminated is not None else None,
            "terminatedReason": terminated_reason,
            "state": state,
            "owner": owner,
        },
        "recordings": [],
    }


class SipgateSimulator:
    """A real HTTP server on 127.0.0.1 (port 0 by default) speaking the sipgate REST API v2.

    Use as a context manager; ``url`` is the base URL to pass as ``--api-url``.
    ``account_type`` is "classic" (the default) or "neo"; on Neo the default devices gain the
    desktop app and the account has one channel (``default_channels``). The Neo switches are
    attributes, described in the module docstring.
    """

    def __init__(
        self,
        *,
        tokens: dict[str, SimulatedToken] | None = None,
        devices: Iterable[SimulatedDevice] | None = None,
        user_id: str = "w0",
        domain: str = "simulated.sipgate.test",
        balance_cents: int = 100_000,
        read_delay: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        account_type: str = "classic",
        channels: Iterable[SimulatedChannel] | None = None,
        contacts: Iterable[dict[str, Any]] | None = None,
    ) -> None:
        if account_type not in ACCOUNT_TYPES:
            raise ValueError(f"account_type must be one of {ACCOUNT_TYPES}, not {account_type!r}")
        neo = account_type == "neo"
        self.account_type = account_type
        self.tokens = (
            tokens if tokens is not None else {DEFAULT_TOKEN_ID: SimulatedToken(DEFAULT_TOKEN)}
        )
        if devices is not None:
            self.devices = list(devices)
        else:
            self.devices = default_neo_devices() if neo else default_devices()
        self.user_id = user_id
        self.domain = domain
        self.balance_cents = balance_cents
        self.read_delay = read_delay  # seconds every GET waits: makes waiting on reads visible
        self.own_number = "+492115550001"  # what the user's phones show
        self.connect_after = 0.3  # seconds from the dial to an established call
        self.phones_answer = True  # False: nobody ever picks up
        self.call_id_is_session_id = True
        self.active_calls: dict[str, dict[str, Any]] = {}
        self.history: list[dict[str, Any]] = []
        self._ending: dict[str, tuple[dict[str, Any], float]] = {}
        self.numbers: list[dict[str, Any]] = [
            {
                "id": "n1",
                "number": "+492115550001",
                "localized": "0211 5550001",
                "type": "LANDLINE",
                "endpointId": "p0",
                "endpointAlias": "Main line",
                "endpointUrl": "/w0/phonelines/p0",
            },
        ]
        self.groups: list[dict[str, Any]] = [{"id": "g1", "alias": "Office"}]
        self.requests: list[RecordedRequest] = []
        self.sessions: list[dict[str, Any]] = []
        # POST /calls/{id}/dtmf, in order; ``clock`` stamps them (tests hand in simulated time).
        self.dtmf_received: list[ReceivedTones] = []
        self.clock: Callable[[], float] = time.monotonic
        self._init_neo(channels)
        self._init_contacts(contacts)
        self._canned: list[CannedResponse] = []
        self._lock = threading.Lock()
        self._server = _QuietServer((host, port), _make_handler(self))
        self._thread: threading.Thread | None = None

    def _init_neo(self, channels: Iterable[SimulatedChannel] | None) -> None:
        """The Neo account's channels, the calls placed through ``POST /calls``, the switches."""
        if channels is not None:
            self.channels = list(channels)
        else:
            self.channels = default_channels() if self.account_type == "neo" else []
        self.neo_calls: list[dict[str, Any]] = []  # accepted POST /calls: callSid and body
        self._neo_events: dict[str, dict[str, Any]] = {}  # callSid -> its event
        self._event_count = 0
        self.neo_numbers = "any"
        self.neo_call_id_field = "callSid"
        self.neo_call_status = 200
        self.neo_calls_list = False
        self.neo_hangup = False
        self.neo_history_calls = False
        self.neo_sessions_calls_work = False
        self.neo_refusal_before_scope = False
        self.neo_channel_required = False
        self.neo_events_oldest_first = False
        self.neo_event_numbers = "plus"
        self.neo_events_default_limit = 20
        self.neo_events_max_limit = 100

    def _init_contacts(self, contacts: Iterable[dict[str, Any]] | None) -> None:
        """The phonebook (``GET /contacts`` items) and its switches (module docstring)."""
        self.contacts: list[dict[str, Any]] = (
            list(contacts) if contacts is not None else default_contacts()
        )
        self.contacts_max_limit: int | None = None
        self.contacts_total_count: int | None = None
        self.contacts_send_total = True
        self.contacts_endless = False

    def large_phonebook(self, count: int) -> SipgateSimulator:
        """Replace the phonebook by ``count`` generated contacts (``generated_contacts``)."""
        self.contacts = generated_contacts(count)
        return self

    @property
    def neo(self) -> bool:
        """Whether the simulated account is a sipgate Neo one."""
        return self.account_type == "neo"

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the simulated API, e.g. ``http://127.0.0.1:40123/v2``."""
        # The bound socket's own address (what server_address holds, typed without the
        # bytes host that typeshed allows there): the port is the one the OS picked.
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}/v2"

    def start(self) -> SipgateSimulator:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sipgate-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SipgateSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test helpers ------------------------------------------------------------------------

    def respond_with(
        self,
        status: int,
        body: bytes | str | dict[str, Any] | list[Any] = b"",
        *,
        headers: dict[str, str] | None = None,
        method: str | None = None,
        path: str | None = None,
        delay: float = 0.0,
        times: int | None = None,
    ) -> None:
        """Answer matching requests (path without ``/v2``) with a canned response."""
        if isinstance(body, (dict, list)):
            raw = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = body
        with self._lock:
            self._canned.append(
                CannedResponse(status, raw, dict(headers or {}), method, path, delay, times)
            )

    def call_requests(self) -> list[RecordedRequest]:
        """Every ``POST /sessions/calls`` received, accepted or not."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path == "/sessions/calls"]

    def neo_call_requests(self) -> list[RecordedRequest]:
        """Every ``POST /calls`` (the Neo dial) received, accepted or not."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path == "/calls"]

    def dial_requests(self) -> list[RecordedRequest]:
        """Every request that could have placed a call: ``POST`` to either dial endpoint."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.method == "POST" and r.path in ("/sessions/calls", "/calls")
            ]

    def channel(self, channel_id: str) -> SimulatedChannel | None:
        """The channel with this id, if the account has it."""
        return next((c for c in self.channels if c.id == channel_id), None)

    def add_call_event(
        self,
        channel_id: str,
        target: str,
        *,
        started: float | None = None,
        duration: int | None = 30,
        state: str = "FINISHED",
        direction: str = "OUTGOING",
    ) -> dict[str, Any]:
        """Record a past call in a channel's events (``duration`` None: never established).

        ``started`` is a Unix time (default: now); the event is kept in time order.
        ``target`` is the other side: the callee of an OUTGOING call, the caller of an
        INCOMING one (then ``from``; text that is no number, "anonymous", is kept as it is).
        """
        start = time.time() if started is None else started
        own, other = self._event_number(self.own_number), self._event_number(target)
        with self._lock:
            event = call_event(
                self._next_event_id(),
                channel_id,
                secrets.token_hex(16),
                source=other if direction == "INCOMING" else own,
                target=own if direction == "INCOMING" else other,
                started=start,
                established=start + 2 if duration is not None else None,
                terminated=start + 2 + (duration or 0),
                state=state,
                direction=direction,
                terminated_reason="HANGUP" if duration is not None else "NO_ANSWER",
                owner=self.user_id,
            )
            events = self._channel_or_fail(channel_id).events
            events.append(event)
            events.sort(key=lambda e: e["createdAt"])
        return event

    def end_call(self, call_id: str) -> bool:
        """The other side hangs up: the call leaves ``GET /calls``, its history entry and its
        Neo event get their end. False if no such call was active."""
        with self._lock:
            return self._finish(call_id)

    def _channel_or_fail(self, channel_id: str) -> SimulatedChannel:
        found = self.channel(channel_id)
        if found is None:
            raise KeyError(f"no channel {channel_id!r}; add a SimulatedChannel first")
        return found

    def _next_event_id(self) -> str:
        self._event_count += 1
        return f"ev{self._event_count}"

    def _event_number(self, number: str) -> str:
        digits = number.lstrip("+")
        if not digits.isdigit():  # "anonymous", or whatever a test wants sipgate to write
            return number
        return digits if self.neo_event_numbers == "digits" else "+" + digits

    def add_missed_call(
        self,
        caller: str,
        *,
        at: float | None = None,
        alias: str | None = None,
        channel_id: str | None = None,
    ) -> dict[str, Any]:
        """Record a missed incoming call from ``caller`` (a number, or "anonymous") at the
        Unix time ``at`` (default: now): on classic a ``/history`` item (direction
        MISSED_INCOMING, ``sourceAlias`` = ``alias``), on Neo an INCOMING event in state
        MISSED in ``channel_id`` (default: the first channel). Returns the item or event."""
        when = time.time() if at is None else at
        if self.neo:
            channel = channel_id or self.channels[0].id
            return self.add_call_event(
                channel, caller, started=when, duration=None, state="MISSED", direction="INCOMING"
            )
        item: dict[str, Any] = {
            "id": f"h{len(self.history) + 1}",
            "source": caller,
            "target": self.own_number,
            "targetAlias": "Main line",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when)),
            "direction": "MISSED_INCOMING",
            "type": "CALL",
            "status": "NOPICKUP",
            "callStatus": "MISSED",
            "duration": 0,
        }
        if alias is not None:
            item["sourceAlias"] = alias
        self._add_history_item(item)
        return item

    def add_past_call(self, target: str, *, at: float, duration: int = 60) -> dict[str, Any]:
        """Record an outgoing call placed at ``at`` (a Unix time) and answered: a ``/history``
        item on classic, a FINISHED OUTGOING event in the first channel on Neo."""
        if self.neo:
            return self.add_call_event(self.channels[0].id, target, started=at, duration=duration)
        item = {
            "id": f"h{len(self.history) + 1}",
            "source": self.own_number,
            "target": target,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
            "direction": "OUTGOING",
            "type": "CALL",
            "status": "PICKUP",
            "callStatus": "PICKUP",
            "duration": duration,
        }
        self._add_history_item(item)
        return item

    def _add_history_item(self, item: dict[str, Any]) -> None:
        """Into ``history`` in its place: newest first, as sipgate is assumed to list it."""
        with self._lock:
            created = str(item["created"])
            place = next(
                (i for i, old in enumerate(self.history) if str(old.get("created")) < created),
                len(self.history),
            )
            self.history.insert(place, item)

    def add_missed_sample(self, now: float | None = None) -> SipgateSimulator:
        """The demo's missed calls (before ``now``, default: the present): Ada Lovelace's
        mobile twice (3 h and 10 min ago), an anonymous caller (40 min ago), Grace Hopper
        (2 h ago, called back 90 min ago). Returns the simulator."""
        moment = time.time() if now is None else now
        self.add_missed_call("+4915799912347", at=moment - 3 * 3600, alias="Ada Lovelace")
        self.add_missed_call("+49301234567", at=moment - 2 * 3600, alias="Grace Hopper")
        self.add_past_call("+49301234567", at=moment - 90 * 60, duration=240)
        self.add_missed_call("anonymous", at=moment - 40 * 60)
        self.add_missed_call("+4915799912347", at=moment - 10 * 60, alias="Ada Lovelace")
        return self

    # -- behaviour ---------------------------------------------------------------------------

    def _canned_for(self, method: str, path: str) -> CannedResponse | None:
        with self._lock:
            for canned in self._canned:
                if canned.matches(method, path):
                    if canned.times is not None:
                        canned.times -= 1
                        if canned.times <= 0:
                            self._canned.remove(canned)
                    return canned
        return None

    def handle(self, request: RecordedRequest) -> Answer:
        """Answer one request the way sipgate would (see the module docstring)."""
        with self._lock:
            self.requests.append(request)
        canned = self._canned_for(request.method, request.path)
        if canned is not None:
            if canned.delay:
                time.sleep(canned.delay)
            return canned.status, canned.headers, canned.body
        methods = self._routes().get(request.path)
        if methods is None and _DTMF_PATH.match(request.path):
            methods = {"POST": self._post_dtmf}
        if methods is None and request.path.startswith("/calls/"):
            methods = {"DELETE": self._delete_call}
        if methods is None and self.neo and _EVENTS_PATH.match(request.path):
            methods = {"GET": self._get_events}
        if methods is None:
            return _error(404, "Not Found")
        handler = methods.get(request.method)
        if handler is None:
            return 405, {"Allow": ", ".join(methods)}, b""
        token = self._authenticate(request)
        if token is None:
            return 401, {}, b""
        return handler(request, token)

    def _routes(self) -> dict[str, dict[str, Callable[[RecordedRequest, SimulatedToken], Answer]]]:
        """Path -> method -> handler; the Neo-only paths exist only on a Neo account."""
        routes: dict[str, dict[str, Callable[[RecordedRequest, SimulatedToken], Answer]]] = {
            "/sessions/calls": {"POST": self._post_call},
            "/authorization/userinfo": {"GET": self._get_userinfo},
            f"/{self.user_id}/devices": {"GET": self._get_devices},
            "/numbers": {"GET": self._get_numbers},
            "/contacts": {"GET": self._get_contacts},
            "/calls": {"GET": self._get_calls, "POST": self._post_neo_call},
            "/history": {"GET": self._get_history},
            "/groups": {"GET": self._get_groups},
            f"/{self.user_id}/phonelines": {"GET": self._get_phonelines},
        }
        if self.neo:
            routes["/channels"] = {"GET": self._get_channels}
        return routes

    def _authenticate(self, request: RecordedRequest) -> SimulatedToken | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            token_id, _, token = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        known = self.tokens.get(token_id)
        if known is None or not secrets.compare_digest(known.token, token):
            return None
        return known

    def _classic_only(self, missing: Answer | None) -> Answer | None:
        """On Neo: the Classic-PBX refusal, after or before the scope check (a switch).
        ``missing`` is the scope refusal, None when the token has the scope."""
        if not self.neo:
            return missing
        if missing and not self.neo_refusal_before_scope:
            return missing
        return 403, {"Content-Type": "text/plain; charset=utf-8"}, CLASSIC_PBX_REFUSAL.encode()

    def _post_call(self, request: RecordedRequest, token: SimulatedToken) -> Answer:
        if self.neo and not self.neo_sessions_calls_work:
            refused = self._classic_only(_lacks_call_scope(token))
            if refused:
                return refused
        if not (token.scopes & CALL_SCOPES):
            return _error(403, "Forbidden", "token lacks scope sessions:calls:write")
        if not request.headers.get("content-type", "").startswith("application/json"):
            return 415, {}, b""
        body = request.json
        if not isinstance(body, dict):
            return _error(400, "Bad Request", "body is not a JSON object")
        return self._session_call(body)

    def _session_call(self, body: dict[str, Any]) -> Answer:
        """``POST /sessions/calls`` once the token and the body's form are checked."""
        for name in ("caller", "callee"):
            value = body.get(name)
            if not isinstance(value, str) or not value.strip():
                return _error(400, "Bad Request", f"{name} is missing or empty", name)
        for name in ("deviceId", "callerId"):
            if name in body and (not isinstance(body[name], str) or not body[name].strip()):
                return _error(400, "Bad Request", f"{name} is empty", name)
        caller, callee = body["caller"], body["callee"]
        if _DEVICE_ID.match(caller):
            device = caller
        elif _PHONE_NUMBER.match(caller):
            device = body.get("deviceId")
            if not device:
                return _error(400, "Bad Request", "deviceId is required for a number as caller")
            if not _DEVICE_ID.match(device):
                return _error(400, "Bad Request", "deviceId is not a device id", "deviceId")
        else:
            return _error(400, "Bad Request", "invalid caller", "caller")
        if not _PHONE_NUMBER.match(callee):
            return _error(400, "Bad Request", "invalid callee", "callee")
        if "callerId" in body and not _PHONE_NUMBER.match(body["callerId"]):
            return _error(400, "Bad Request", "invalid callerId", "callerId")
        if device not in {d.id for d in self.devices if d.id[0] in "exyp"} and device[0] != "p":
            return _error(403, "Forbidden", "cannot access extension: not found or forbidden")
        if self.balance_cents <= 0:
            return _error(402, "Payment Required", "insufficient funds")
        session_id = secrets.token_hex(16)
        with self._lock:
            self.sessions.append({"sessionId": session_id, **body})
        self._after_dial(session_id, device, body)
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"sessionId": session_id}).encode(),
        )

    def _get_userinfo(self, request: RecordedRequest, token: SimulatedToken) -> Answer:
        return _json(
            200,
            {
                "sub": self.user_id,
                "domain": self.domain,
                "masterSipId": "1234567",
                "locale": "de_DE",
            },
        )

    def _get_devices(self, request: RecordedRequest, token: SimulatedToken) -> Answer:
        if not (token.scopes & {"devices:read", "all"}):
            return _error(403, "Forbidden", "token lacks scope devices:read")
        if not self.neo:
            return _json(200, {"items": [d.to_api() for d in self.devices]})
        asked = [t.strip().lower() for v in request.query.get("type", []) for t in v.split(",")]
        unknown = [t for t in asked if t != "all" and t not in DEVICE_TYPES]
        if unknown:
            return _error(400, "Bad Request", f"invalid type {unknown[0]!r}", "type")
        if "all" in asked:
            listed = self.devices
        elif asked:
            types = {DEVICE_TYPES[t] for t in asked}
            listed = [d for d in self.devices if d.type in types]
        else:  # app devices show only when asked for (sipgate's article)
            listed = [d for d in self.devices if d.type != "APP"]
        return _json(200, {"items": [d.to_api() for d in listed]})

    def _get_numbers(self, request: RecordedRequest, token: SimulatedToken) -> Answer:
        refused = _needs("numbers:read", token)
        if refused:
            return refused
        offset = _int_param(request, "offset", 0)
        limit = _int_param(request, "limit", 100)
        page = self.numbers[offset : offset + limit]
        return _json(200, {"items": page, "totalCount": len(self.numbers)})

    def _get_contacts(self, request: RecordedRequest, token: SimulatedToken) -> Answer:
        refused = _needs("contacts:read", token)
        if refused:
            return refused
        offset = _int_param(request, "offset", 0)
        limit = _int_param(request, "limit", 5000)
        if self.contacts_max_limit is not None:
            limit = min(limit, self.contacts_max_limit)
        if self.contacts_endless:  # every page new: ids no page had before
            page = [
                contact_item(f"endless{offset + i}", f"Person {offset + i}") for i in range(limit)
            ]
            return _json(200, {"items": page, "totalCount": offset + 2 * limit})
        with self._lock:
            page = copy.deepcopy(self.contacts[offset : offset + limit])
            total = len(self.contacts)
        answer: dict[str, Any] = {"items": page}
        if self.contacts_send_total:
            answer["totalCount"] = (
                total if self.contacts_total_count is None else self.contacts_total_count
            )
        return _json(200, answer)

    def _get_groups(self, request: RecordedRequest, token: SimulatedToken) -> Answer:
        refused = self._classic_only(_needs("groups:read", token))
        return refused or _json(200, {"items": self.groups, "totalCount": len(self.groups)})

    def _get_phonelines(self, request: RecordedRequest, token: SimulatedToken) -> Answer:
        refused = self._classic_only(_needs("phonelines:read", token))
        if refused:
            return refused
        lines: dict[str, str] = {}
        for device in self.devices:
            lines.update(device.phonelines)
        return _json(200, {"items": [{"id": i, "alias": a} for i, a in lines.items()]})

    # -- after the dial: the phone rings, someone picks up, a call is established ----------

    def _after_dial(self, session_id: str, device: str, body: dict[str, Any]) -> None:
        """Once the phone is picked up (after ``connect_after`` seconds), the call shows in
        GET /calls. An offline phone never rings, so its call never appears; nor does any
        call while ``phones_answer`` is False (the "nobody picks up" mode)."""
        online = next((d.online for d in self.devices if d.id == device), True)
        callee = body["callee"]
        entry = self._history_entry(callee, picked_up=online and self.phones_answer)
        if not (online and self.phones_answer):
            return
        # UNCERTAIN: sipgate's docs say the sessionId can serve as the call id; both are
        # supported, selected by call_id_is_session_id.
        call_id = session_id if self.call_id_is_session_id else secrets.token_hex(8)
        self._establish_later(call_id, self._active_call(call_id, callee), entry)

    def _history_entry(self, callee: str, *, picked_up: bool) -> dict[str, Any]:
        """A new entry at the top of ``/history`` for a call just placed."""
        entry: dict[str, Any] = {
            "id": f"h{len(self.history) + 1}",
            "source": self.own_number,
            "target": callee,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "direction": "OUTGOING",
            "type": "CALL",
            "status": "PICKUP" if picked_up else "NOPICKUP",
            "callStatus": "PICKUP" if picked_up else "NOPICKUP",
            "duration": 0,
        }
        self.history.insert(0, entry)
        return entry

    def _active_call(self, call_id: str, callee: str) -> dict[str, Any]:
        """The call as ``GET /calls`` lists it."""
        return {
            "callId": call_id,
            "muted": False,
            "recording": False,
            "hold": False,
            "participants": [
                {
                    "participantId": "1",
                    "phoneNumber": self.own_number.lstrip("+"),
                    "muted": False,
                    "hold": False,
                    "owner": True,
                },
                {
                    "participantId": "2",
                    "phoneNumber": callee.lstrip("+"),
                    "muted": False,
                    "hold": False,
                    "owner": False,
                },
            ],
        }

    def _establish_later(
        self,
        call_id: str,
        call: dict[str, Any],
        entry: dict[str, Any],
        on_established: Callable[[], None] | None = None,
    ) -> None:
        """After ``connect_after`` seconds the call is established (and listed)."""

        def establish() -> None:
            with self._lock:
                self.active_calls[call_id] = call
                # A hang-up writes the call's length into its history entry.
                self._ending[call_id] = (entry, time.monotonic())
                if on_established is not None:
                    on_established()

        if self.connect_after <= 0:
            establish()
        else:
            timer = threading.Timer(self.connect_after, establish)
            timer.daemon = True
            timer.start()

    def _get_calls(self, request: RecordedRequest, token: SimulatedToken) -> Answer:
        # GET /calls answers with "data", not "items" (sipgate-api.md, "After the dial"), and
        # lists only established calls, not ringing ones.
        refused = _needs("rtcm:read", token)
        if not refused and self.neo and not self.neo_calls_list:
            return _error(404, "Not Found")  # "planned" for Neo (sipgate's article)
        with self._lock:
            calls = list(self.active_calls.values())
        return refused or _json(200, {"data": calls})

    def _delete_call(self, request: RecordedRequest, token: SimulatedToken) -> Answer:
        refused = _needs("rtcm:write", token)
        if refused:
            return refused
        if self.neo and not self.neo_hangup:
            return _error(404, "Not Found")
        call_id = unquote(request.path.removeprefix("/calls/"))
        with self._lock:
            found = self._finish(call_id)
        return (204, {}, b"") if found else _error(404, "Not Found", "no such call")

    def _post_dtmf(self, request: RecordedRequest, token: SimulatedToken) -> Answer:
        """Keypad tones into an established call: 204; 404 when the call is not established
        (ringing, ended, unknown; on Neo unless ``neo_calls_list``); 403 without rtcm:write."""
        refused = _needs("rtcm:write", token)
        if refused:
            return refused
        body = request.json
        sequence = body.get("sequence") if isinstance(body, dict) else None
        if not isinstance(sequence, str) or not _DTMF_SEQUENCE.match(sequence):
            return _error(400, "Bad Request", "sequence must be 0-9, * and #")
        match = _DTMF_PATH.match(request.path)
        call_id = unquote(match.group(1)) if match else ""
        with self._lock:
            established = call_id in self.active_calls and (not self.neo or self.neo_calls_list)
            self.dtmf_received.append(ReceivedTones(call_id, sequence, self.clock(), established))
        return (204, {}, b"") if established else _error(404, "Not Found", "no such call")

    def _finish(self, call_id: str) -> bool:
        """End a call (the lock held): its history entry gets its length, its event its end."""
        found = self.active_calls.pop(call_id, None)
        entry, since = self._ending.pop(call_id, ({}, time.monotonic()))
        entry["duration"] = round(time.monotonic() - since)
        event = self._neo_events.get(call_id)
        if found is not None and event is not None:
            now = time.time()
            event["call"].update(
                state="FINISHED", terminatedAt=iso_time(now), terminatedReason="HANGUP"
            )
        return found is not None

    def _get_history(self, request: RecordedRequest, token: SimulatedToken) -> Answer:
        refused = _needs("history:read", token)
        if refused:
            return refused
        offset = _int_param(request, "offset", 0)
        limit = min(_int_param(request, "limit", 20), 1000)
        # The filters repeat their key (explode: true in the spec): each lists what it lets in.
        directions = request.query.get("directions")
        types = request.query.get("types")
        with self._lock:
            items = [
                item
                for item in self.history
                if (directions is None or item.get("direction") in directions)
                and (types is None or item.get("type") in types)
                and not (self.neo and not self.neo_history_calls and item.get("type") == "CALL")
            ]
        return _json(200, {"items": items[offset : offset + limit], "totalCount": len(items)})

    # -- sipgate Neo: POST /calls, channels and their events ---------------------------------

    def _post_neo_call(self, request: RecordedRequest, token: SimulatedToken) -> Answer:
        if not self.neo:
            return _error(404, "Not Found")
        refused = _lacks_call_scope(token)
        if refused:
            return refused
        if not request.headers.get("content-type", "").startswith("application/json"):
            return 415, {}, b""
        body = request.json
        if not isinstance(body, dict):
            return _error(400, "Bad Request", "body is not a JSON object")
        problem = self._neo_body_problem(body)
        if problem:
            return problem
        device = next((d for d in self.devices if d.id == body["deviceId"]), None)
        if device is None:
            return _error(403, "Forbidden", "cannot access extension: not found or forbidden")
        if device.type == "MOBILE":
            return _error(400, "Bad Request", "Invalid invitable device", "deviceId")
        channel, problem = self._neo_channel_for(device.id, body.get("channelId"))
        if problem:
            return problem
        if self.balance_cents <= 0:
            return _error(402, "Payment Required", "insufficient funds")
        call_sid = secrets.token_hex(16)
        with self._lock:
            self.neo_calls.append({"callSid": call_sid, **body})
        self._after_neo_dial(call_sid, device, body, channel)
        return _json(self.neo_call_status, {self.neo_call_id_field: call_sid})

    def _neo_body_problem(self, body: dict[str, Any]) -> Answer | None:
        """A 400 for a body ``POST /calls`` cannot use: fields missing, empty or malformed."""
        for name in ("deviceId", "targetNumber"):
            value = body.get(name)
            if not isinstance(value, str) or not value.strip():
                return _error(400, "Bad Request", f"{name} is missing or empty", name)
        for name in ("callerId", "channelId"):
            if name in body and (not isinstance(body[name], str) or not body[name].strip()):
                return _error(400, "Bad Request", f"{name} is empty", name)
        number = _NEO_NUMBER.get(self.neo_numbers, _PHONE_NUMBER)
        for name in ("targetNumber", "callerId"):
            if name in body and not number.match(body[name]):
                return _error(400, "Bad Request", f"invalid {name}", name)
        return None

    def _neo_channel_for(
        self, device_id: str, channel_id: str | None
    ) -> tuple[SimulatedChannel | None, Answer | None]:
        """The channel a Neo call goes through: the one named (which must hold the device),
        else the device's first channel (None when it is in none), or the 400 that refuses."""
        if channel_id is None:
            if self.neo_channel_required:
                return None, _error(400, "Bad Request", "channelId is required", "channelId")
            return next((c for c in self.channels if device_id in c.device_ids), None), None
        channel = self.channel(channel_id)
        if channel is None:
            return None, _error(400, "Bad Request", "unknown channel", "channelId")
        if device_id not in channel.device_ids:
            return None, _error(400, "Bad Request", "device is not in this channel", "channelId")
        return channel, None

    def _after_neo_dial(
        self,
        call_sid: str,
        device: SimulatedDevice,
        body: dict[str, Any],
        channel: SimulatedChannel | None,
    ) -> None:
        """The call's event in its channel (RINGING, then ESTABLISHED once picked up, or
        MISSED at once when nobody will); a device in no channel never rings and leaves no
        trace. A migrated account (``neo_history_calls``) lists the call in /history too."""
        if channel is None:
            return
        target = body["targetNumber"]
        answers = device.online and self.phones_answer
        now = time.time()
        with self._lock:
            event = call_event(
                self._next_event_id(),
                channel.id,
                call_sid,
                source=self._event_number(body.get("callerId") or self.own_number),
                target=self._event_number(target),
                started=now,
                state="RINGING" if answers else "MISSED",
                terminated=None if answers else now,
                terminated_reason=None if answers else "NO_ANSWER",
                owner=self.user_id,
            )
            channel.events.append(event)
            self._neo_events[call_sid] = event
            entry = self._history_entry(target, picked_up=answers) if self.neo_history_calls else {}
        if not answers:
            return

        def established() -> None:  # called with the lock held
            event["call"].update(state="ESTABLISHED", establishedAt=iso_time(time.time()))

        self._establish_later(call_sid, self._active_call(call_sid, target), entry, established)

    def _get_channels(self, request: RecordedRequest, token: SimulatedToken) -> Answer:
        refused = _needs("channels:read", token)
        if refused:
            return refused
        offset = _int_param(request, "offset", 0)
        limit = _int_param(request, "limit", 100)
        items = [c.to_api(self.user_id) for c in self.channels]
        return _json(200, {"items": items[offset : offset + limit], "totalCount": len(items)})

    def _get_events(self, request: RecordedRequest, token: SimulatedToken) -> Answer:
        refused = _needs("channels:read", token)
        if refused:
            return refused
        match = _EVENTS_PATH.match(request.path)
        channel = self.channel(unquote(match.group(1))) if match else None
        if channel is None:
            return _error(404, "Not Found", "no such channel")
        if channel.private:
            return _error(403, "Forbidden", "no access to the events of this channel")
        limit = _int_param(request, "limit", self.neo_events_default_limit)
        limit = max(1, min(limit, self.neo_events_max_limit))
        with self._lock:
            ordered = list(channel.events if self.neo_events_oldest_first else channel.events[::-1])
            start = _cursor_index(request.query.get("position", [None])[0], ordered)
            if start is None:
                return _error(400, "Bad Request", "invalid position", "position")
            page = copy.deepcopy(ordered[start : start + limit])
        answer: dict[str, Any] = {"events": page, "limit": limit}
        if start + limit < len(ordered):
            answer["position"] = _cursor(ordered[start + limit]["eventId"])
        return _json(200, answer)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer (as tests of huge bodies do) is not news.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def _int_param(request: RecordedRequest, name: str, default: int) -> int:
    try:
        return max(0, int(request.query.get(name, [default])[0]))
    except ValueError:
        return default


def _needs(scope: str, token: SimulatedToken) -> tuple[int, dict[str, str], bytes] | None:
    if token.scopes & {scope, "all"}:
        return None
    return _error(403, "Forbidden", f"token lacks scope {scope}")


def _cursor(event_id: str) -> str:
    """An opaque position: the next page starts at this event (stable while events are added)."""
    return base64.urlsafe_b64encode(f"from:{event_id}".encode()).decode().rstrip("=")


def _cursor_index(position: str | None, ordered: list[dict[str, Any]]) -> int | None:
    """Where the page of ``position`` starts in ``ordered``; None for a position not ours."""
    if position is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(position + "=" * (-len(position) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    event_id = text.removeprefix("from:")
    if event_id == text:
        return None
    return next((i for i, e in enumerate(ordered) if e["eventId"] == event_id), None)


def _lacks_call_scope(token: SimulatedToken) -> Answer | None:
    if token.scopes & CALL_SCOPES:
        return None
    return _error(403, "Forbidden", "token lacks scope sessions:calls:write")


def _json(status: int, data: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


def _error(
    status: int, title: str, detail: str | None = None, pointer: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    error: dict[str, Any] = {"status": str(status), "title": title}
    if detail:
        error["detail"] = detail
    if pointer:
        error["source"] = {"pointer": f"/{pointer}"}
    return _json(status, {"errors": [error]})


def _make_handler(simulator: SipgateSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Without this, every keep-alive request waits ~40 ms for delayed ACKs.
        disable_nagle_algorithm = True
        server_version = "sipgate-simulator"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            path = parts.path
            recorded_path = path[3:] if path.startswith("/v2/") else "/not-under-v2" + path
            request = RecordedRequest(
                method=self.command,
                path=recorded_path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                peer=self.client_address[:2],
                received_at=time.monotonic(),
            )
            if self.command == "GET" and simulator.read_delay:
                time.sleep(simulator.read_delay)
            status, headers, payload = simulator.handle(request)
            request.status, request.answer = status, payload[:300]
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            request.answered_at = time.monotonic()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # tests read simulator.requests instead of a log

    return Handler
