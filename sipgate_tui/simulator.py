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
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

CALL_SCOPES = frozenset({"sessions:calls:write", "sessions:write", "all"})
ALL_READ_SCOPES = frozenset(
    {"devices:read", "numbers:read", "rtcm:read", "rtcm:write", "history:read", "balance:read"}
)
_DEVICE_ID = re.compile(r"^[a-z](0|[1-9][0-9]*)$")
_PHONE_NUMBER = re.compile(r"^\+?[1-9][0-9]{5,15}$")


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

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


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


def default_devices() -> list[SimulatedDevice]:
    """A small account: a desk phone online, a softphone offline, a mobile, an external phone."""
    return [
        SimulatedDevice("e0", "Desk phone", online=True),
        SimulatedDevice("e1", "Softphone (laptop)", online=False),
        SimulatedDevice("y0", "Mobile", type="MOBILE", online=True),
        SimulatedDevice("x0", "Home phone", type="EXTERNAL", online=True),
    ]


class SipgateSimulator:
    """A real HTTP server on 127.0.0.1 (port 0 by default) speaking the sipgate REST API v2.

    Use as a context manager; ``url`` is the base URL to pass as ``--api-url``.
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
    ) -> None:
        self.tokens = (
            tokens if tokens is not None else {DEFAULT_TOKEN_ID: SimulatedToken(DEFAULT_TOKEN)}
        )
        self.devices = list(devices) if devices is not None else default_devices()
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
        self.requests: list[RecordedRequest] = []
        self.sessions: list[dict[str, Any]] = []
        self._canned: list[CannedResponse] = []
        self._lock = threading.Lock()
        self._server = _QuietServer((host, port), _make_handler(self))
        self._thread: threading.Thread | None = None

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

    def handle(self, request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        """Answer one request the way sipgate would (see the module docstring)."""
        with self._lock:
            self.requests.append(request)
        canned = self._canned_for(request.method, request.path)
        if canned is not None:
            if canned.delay:
                time.sleep(canned.delay)
            return canned.status, canned.headers, canned.body

        routes = {
            "/sessions/calls": {"POST": self._post_call},
            "/authorization/userinfo": {"GET": self._get_userinfo},
            f"/{self.user_id}/devices": {"GET": self._get_devices},
            "/numbers": {"GET": self._get_numbers},
            "/calls": {"GET": self._get_calls},
            "/history": {"GET": self._get_history},
        }
        methods = routes.get(request.path)
        if methods is None and request.path.startswith("/calls/"):
            methods = {"DELETE": self._delete_call}
        if methods is None:
            return _error(404, "Not Found")
        handler = methods.get(request.method)
        if handler is None:
            return 405, {"Allow": ", ".join(methods)}, b""
        token = self._authenticate(request)
        if token is None:
            return 401, {}, b""
        return handler(request, token)

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

    def _post_call(
        self, request: RecordedRequest, token: SimulatedToken
    ) -> tuple[int, dict[str, str], bytes]:
        if not (token.scopes & CALL_SCOPES):
            return _error(403, "Forbidden", "token lacks scope sessions:calls:write")
        if not request.headers.get("content-type", "").startswith("application/json"):
            return 415, {}, b""
        body = request.json
        if not isinstance(body, dict):
            return _error(400, "Bad Request", "body is not a JSON object")
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

    def _get_userinfo(
        self, request: RecordedRequest, token: SimulatedToken
    ) -> tuple[int, dict[str, str], bytes]:
        return _json(
            200,
            {
                "sub": self.user_id,
                "domain": self.domain,
                "masterSipId": "1234567",
                "locale": "de_DE",
            },
        )

    def _get_devices(
        self, request: RecordedRequest, token: SimulatedToken
    ) -> tuple[int, dict[str, str], bytes]:
        if not (token.scopes & {"devices:read", "all"}):
            return _error(403, "Forbidden", "token lacks scope devices:read")
        return _json(200, {"items": [d.to_api() for d in self.devices]})

    def _get_numbers(
        self, request: RecordedRequest, token: SimulatedToken
    ) -> tuple[int, dict[str, str], bytes]:
        refused = _needs("numbers:read", token)
        if refused:
            return refused
        offset = _int_param(request, "offset", 0)
        limit = _int_param(request, "limit", 100)
        page = self.numbers[offset : offset + limit]
        return _json(200, {"items": page, "totalCount": len(self.numbers)})

    # -- after the dial: the phone rings, someone picks up, a call is established ----------

    def _after_dial(self, session_id: str, device: str, body: dict[str, Any]) -> None:
        """Once the phone is picked up (after ``connect_after`` seconds), the call shows in
        GET /calls. An offline phone never rings, so its call never appears; nor does any
        call while ``phones_answer`` is False (the "nobody picks up" mode)."""
        online = next((d.online for d in self.devices if d.id == device), True)
        callee = body["callee"]
        entry: dict[str, Any] = {
            "id": f"h{len(self.history) + 1}",
            "source": self.own_number,
            "target": callee,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "direction": "OUTGOING",
            "type": "CALL",
            "status": "PICKUP" if online and self.phones_answer else "NOPICKUP",
            "callStatus": "PICKUP" if online and self.phones_answer else "NOPICKUP",
            "duration": 0,
        }
        self.history.insert(0, entry)
        if not (online and self.phones_answer):
            return
        # UNCERTAIN: sipgate's docs say the sessionId can serve as the call id; both are
        # supported, selected by call_id_is_session_id.
        call_id = session_id if self.call_id_is_session_id else secrets.token_hex(8)
        call = {
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

        def establish() -> None:
            with self._lock:
                self.active_calls[call_id] = call
                # A hang-up writes the call's length into its history entry.
                self._ending[call_id] = (entry, time.monotonic())

        if self.connect_after <= 0:
            establish()
        else:
            timer = threading.Timer(self.connect_after, establish)
            timer.daemon = True
            timer.start()

    def _get_calls(
        self, request: RecordedRequest, token: SimulatedToken
    ) -> tuple[int, dict[str, str], bytes]:
        # GET /calls answers with "data", not "items" (sipgate-api.md, "After the dial"), and
        # lists only established calls, not ringing ones.
        refused = _needs("rtcm:read", token)
        with self._lock:
            calls = list(self.active_calls.values())
        return refused or _json(200, {"data": calls})

    def _delete_call(
        self, request: RecordedRequest, token: SimulatedToken
    ) -> tuple[int, dict[str, str], bytes]:
        refused = _needs("rtcm:write", token)
        if refused:
            return refused
        call_id = unquote(request.path.removeprefix("/calls/"))
        with self._lock:
            found = self.active_calls.pop(call_id, None)
            entry, since = self._ending.pop(call_id, ({}, time.monotonic()))
            entry["duration"] = round(time.monotonic() - since)
        return (204, {}, b"") if found else _error(404, "Not Found", "no such call")

    def _get_history(
        self, request: RecordedRequest, token: SimulatedToken
    ) -> tuple[int, dict[str, str], bytes]:
        refused = _needs("history:read", token)
        if refused:
            return refused
        offset = _int_param(request, "offset", 0)
        limit = min(_int_param(request, "limit", 20), 1000)
        with self._lock:
            items = [
                item
                for item in self.history
                if request.query.get("directions", [item["direction"]])[0] == item["direction"]
            ]
        return _json(200, {"items": items[offset : offset + limit], "totalCount": len(items)})


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
