"""The sipgate REST API client: typed requests in, typed results or typed errors out.

It never prints and never prompts; what the user sees is decided elsewhere (``problems``,
``render``). ``requests`` is imported lazily so that importing this module stays cheap.
The writes that place a call, ``POST /sessions/calls`` (classic) and ``POST /calls`` (sipgate
Neo), are never retried and never follow a redirect: a call costs money and must not be placed
twice.

Each request has one deadline (``Timeouts.deadline``, set by ``--timeout``), enforced by a
watchdog that cuts the connection (``_Deadline``), and loopback addresses never go through a
proxy (``_transport_adapter_class``); a proxy's own failures and unusable proxy variables are
told apart from sipgate's (``ProxyInUse``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import re
import threading  # loaded by logging anyway
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote, urlencode, urlsplit

from sipgate_tui import __version__
from sipgate_tui.options import DEFAULT_API_URL as DEFAULT_API_URL
from sipgate_tui.text import one_line

if TYPE_CHECKING:
    import socket

    import requests

    from sipgate_tui.credentials import Credentials

USER_AGENT = f"sipgate-tui/{__version__}"
MAX_BODY_BYTES = 1024 * 1024  # no sipgate answer comes near this; bigger bodies are not ours
RETRIABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
READ_RETRY_CAP = 5.0  # seconds; a read never waits longer than this for its one retry
DEFAULT_RETRY_WAIT = 1.0  # without Retry-After
log = logging.getLogger("sipgate_tui.http")


class Timeouts(NamedTuple):
    """Seconds to wait for the TCP/TLS connection, for each read of the answer, and for the
    whole request (``total``: from connecting to the answer's last byte; None: connect + read).

    The per-read bound alone is not enough: a server that sends one byte a second never lets
    a read wait long, and would keep a request open for ever. ``total`` is what stops it.
    """

    connect: float = 5.0
    read: float = 15.0
    total: float | None = None

    @classmethod
    def both(cls, seconds: float) -> Timeouts:
        """One bound for connect, each read and the whole request (what ``--timeout`` sets)."""
        return cls(connect=seconds, read=seconds, total=seconds)

    @property
    def deadline(self) -> float:
        """Seconds one whole request may take."""
        return self.total if self.total is not None else self.connect + self.read


class CallRequest(NamedTuple):
    """The body of ``POST /sessions/calls``; fields that are not set are left out, never null."""

    caller: str
    callee: str
    device_id: str | None = None
    caller_id: str | None = None

    def body(self) -> dict[str, str]:
        """The JSON body exactly as sent, in the API's field names."""
        body = {"caller": self.caller, "callee": self.callee}
        if self.device_id:
            body["deviceId"] = self.device_id
        if self.caller_id:
            body["callerId"] = self.caller_id
        return body


class NeoCallRequest:
    """The body of ``POST /calls`` on a sipgate Neo account (sipgate-api.md, "sipgate Neo
    accounts"); fields that are not set are left out, never null.

    ``target_number`` and ``caller_id`` are E.164 with "+". They are sent as digits only unless
    ``plus_sign``: a disputed point (j-lawyer, verified live, says the endpoint requires digits;
    a CRM sends "+"), so it is the setting ``neo-numbers``.
    """

    # A plain class, not a dataclass: it is created on every dial's import, where each
    # dataclass costs about a millisecond (measured with -X importtime).
    __slots__ = ("caller_id", "channel_id", "device_id", "plus_sign", "target_number")

    def __init__(
        self,
        device_id: str,
        target_number: str,
        caller_id: str | None = None,
        channel_id: str | None = None,
        plus_sign: bool = False,
    ) -> None:
        self.device_id, self.target_number = device_id, target_number
        self.caller_id, self.channel_id, self.plus_sign = caller_id, channel_id, plus_sign

    def body(self) -> dict[str, str]:
        """The JSON body exactly as sent, in the API's field names."""
        body = {"deviceId": self.device_id, "targetNumber": self._number(self.target_number)}
        if self.caller_id:
            body["callerId"] = self._number(self.caller_id)
        if self.channel_id:
            body["channelId"] = self.channel_id
        return body

    def _number(self, e164: str) -> str:
        digits = e164.removeprefix("+")
        return "+" + digits if self.plus_sign else digits


def plain_headers(*, has_body: bool, user_agent: str = USER_AGENT) -> dict[str, str]:
    """Every header we send except Authorization (which ``--dry-run`` shows masked)."""
    headers = {"Accept": "application/json", "User-Agent": user_agent}
    if has_body:
        headers["Content-Type"] = "application/json"
    return headers


class UserInfo(NamedTuple):
    """Who a token belongs to: the user id (``w0``) used in per-user paths, and the domain."""

    user_id: str
    domain: str | None


class ApiError(Exception):
    """Base of every error the client raises. Messages never contain credentials."""


class HttpStatusError(ApiError):
    """The API answered with a status that is not success.

    ``detail`` is the answer shortened for people; ``body`` is its text as sent (the token
    redacted, at most KEPT_BODY_CHARS characters), for predicates such as
    :func:`is_classic_pbx_refusal` that recognise what sipgate said.
    """

    def __init__(
        self,
        status: int,
        url: str,
        detail: str | None,
        retry_after: int | None,
        *,
        body: str = "",
    ) -> None:
        super().__init__(f"HTTP {status} from {url}")
        self.status = status
        self.url = url
        self.detail = detail
        self.retry_after = retry_after
        self.body = body[:KEPT_BODY_CHARS]


KEPT_BODY_CHARS = 4096  # sipgate's refusals are one sentence; more is never needed to tell them
_CLASSIC_PBX_REFUSAL = " this endpoint requires a sipgate classic pbx account "


def is_classic_pbx_refusal(error: HttpStatusError) -> bool:
    """Whether sipgate refused because the account is no Classic PBX account (a Neo one).

    sipgate answers classic-only endpoints on Neo accounts with 403 and the plain-text body
    "This endpoint requires a sipgate Classic PBX Account" (sipgate-api.md, "sipgate Neo
    accounts"). The sentence counts in any case, spacing or punctuation, alone or inside JSON.
    """
    if error.status != 403:
        return False
    return any(_CLASSIC_PBX_REFUSAL in _as_words(text) for text in _texts_of(error.body))


def _texts_of(body: str) -> list[str]:
    """The body itself, and every string in it when it is JSON (escapes decoded)."""
    texts = [body]
    try:
        stack: list[Any] = [json.loads(body)]
    except (ValueError, RecursionError):
        return texts
    while stack:  # a loop, not recursion: the body is the server's, its nesting too
        item = stack.pop()
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return texts


def _as_words(text: str) -> str:
    """``text`` in lower case, every run of non-letters and non-digits one space, padded."""
    return " " + re.sub(r"[\W_]+", " ", text.casefold()).strip() + " "


def _kept_body(body: bytes | None, redact: Callable[[str], str]) -> str:
    """What an HttpStatusError keeps of the body: its text, redacted before it is cut."""
    if not body:
        return ""
    return redact(body.decode("utf-8", errors="replace"))[:KEPT_BODY_CHARS]


class NetworkError(ApiError):
    """Nothing reached the API (or, for reads, nothing usable came back).

    ``kind`` is one of ``dns``, ``refused``, ``tls``, ``connect-timeout``, ``read-timeout``,
    ``proxy`` (the proxy failed), ``proxy-setting`` (a proxy variable that cannot be used, so
    nothing was sent), ``connection``, ``connection-failed``, ``unreadable`` (an answer we
    cannot use). ``reason`` says more for ``tls`` (see TLS_REASONS) and ``proxy``
    (PROXY_REASONS); ``seconds`` is the limit that ran out, for the timeouts; ``proxy`` (host
    and port, never a password) and ``variable`` name the proxy in use and who set it.
    """

    def __init__(
        self,
        kind: str,
        host: str,
        detail: str | None = None,
        *,
        reason: str | None = None,
        seconds: float | None = None,
        proxy: str | None = None,
        variable: str | None = None,
    ) -> None:
        super().__init__(f"{kind} talking to {host}")
        self.kind = kind
        self.host = host
        self.detail = detail
        self.reason, self.seconds, self.proxy, self.variable = reason, seconds, proxy, variable

    @property
    def slow(self) -> bool:
        """sipgate was reached but did not answer in time: "slow", never "could not reach"."""
        return self.kind == "read-timeout"


class OutcomeUnknownError(ApiError):
    """The call request was sent, but no readable answer came back: it may have been placed.

    ``kind`` is ``read-timeout`` (``seconds``: the limit that ran out), ``connection-lost`` or
    ``unreadable-response``.
    """

    def __init__(
        self, kind: str, host: str, detail: str | None = None, *, seconds: float | None = None
    ) -> None:
        super().__init__(f"{kind} after sending to {host}")
        self.kind = kind
        self.host = host
        self.detail = detail
        self.seconds = seconds


class UnexpectedRedirectError(ApiError):
    """The API answered with a redirect; we never follow one (see the module docstring)."""

    def __init__(self, status: int, url: str, location: str | None) -> None:
        super().__init__(f"HTTP {status} redirect from {url}")
        self.status = status
        self.url = url
        self.location = location


class SipgateClient:
    """A small client for the parts of the sipgate REST API that sipgate-tui uses."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeouts: Timeouts = Timeouts(),
        user_agent: str = USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = credentials
        self._timeouts = timeouts
        self._user_agent = user_agent
        self._sleep = sleep
        self._session: requests.Session | None = None
        self.call_requests_sent = 0  # call requests (POSTs) that went out, or started to
        self.accepted_call_id: str | None = None  # the id sipgate gave the last accepted call

    @property
    def token_id(self) -> str:
        """The token id in use (not secret): the key of the cached user id."""
        return self._credentials.token_id

    def place_call(self, call: CallRequest) -> str:
        """``POST /sessions/calls``; returns the ``sessionId``. Sent at most once."""
        return self._post_call("/sessions/calls", call.body(), parse_session_id, "session id")

    def place_neo_call(self, call: NeoCallRequest) -> str:
        """``POST /calls`` (sipgate Neo); returns the call id. Sent at most once, never retried.

        The id is read from ``callSid``, else ``callId``, else ``id`` (third-party clients
        report different names); an answer without one may still have placed the call.
        """
        return self._post_call("/calls", call.body(), parse_call_id, "call id")

    def _post_call(
        self,
        path: str,
        body: dict[str, str],
        parse_id: Callable[[Any], str | None],
        id_name: str,
    ) -> str:
        """One call request, never retried; an answer without the id is an unknown outcome
        (the call may have been placed), never a reason to send again."""
        url = f"{self.base_url}{path}"
        # Counted before sending: whatever goes wrong later (a bug, a signal, a lost stdout),
        # the CLI can tell a call that may have been placed from one that was not.
        self.call_requests_sent += 1
        status, headers, answer = self._send("POST", url, json.dumps(body).encode(), is_write=True)
        found = parse_id(_decode_json(answer))
        if found is None:
            raise OutcomeUnknownError(
                "unreadable-response",
                _host(url),
                f"HTTP {status} without a {id_name}: "
                + _summarise_body(headers, answer, self._redact),
            )
        self.accepted_call_id = found
        return found

    def get_json(self, path: str, params: dict[str, str | int] | None = None) -> Any:
        """``GET {base}{path}`` and return the decoded JSON answer."""
        url = self._url(path, params)
        _, headers, body = self._read(url)
        data = _decode_json(body)
        if data is None:
            raise NetworkError(
                "unreadable", _host(url), _summarise_body(headers, body, self._redact, 120)
            )
        return data

    def delete(self, path: str, item: str) -> None:
        """``DELETE {base}{path}/{item}`` (hanging up). Like every write, never retried.

        ``item`` is escaped whole: an id with "/" in it stays one path segment.
        """
        url = f"{self._url(path, None)}/{quote(item, safe='')}"
        self._send("DELETE", url, None, is_write=False)

    def post_to_item(
        self,
        path: str,
        item: str,
        action: str,
        body: dict[str, str],
        *,
        deadline: float | None = None,
    ) -> None:
        """``POST {base}{path}/{item}/{action}`` with a JSON body (keypad tones into a call).

        A write: never retried (a tone sent twice is a wrong PIN), and a failure after the
        request went out is an OutcomeUnknownError. Not a call request: ``call_requests_sent``
        and ``accepted_call_id`` stay as they are. ``item`` is escaped whole, as in
        :meth:`delete`. ``deadline``: seconds the whole request may take, if shorter than the
        client's own (tones late by many seconds are worse than tones not sent).
        """
        url = f"{self._url(path, None)}/{quote(item, safe='')}/{quote(action, safe='')}"
        self._send("POST", url, json.dumps(body).encode(), is_write=True, deadline=deadline)

    def probe(self, path: str, params: dict[str, str | int] | None = None) -> int:
        """The HTTP status of ``GET {base}{path}``: a cheap way to learn whether a scope works.

        Network failures still raise; statuses never do.
        """
        try:
            self._read(self._url(path, params))
        except HttpStatusError as error:
            return error.status
        return 200

    def probe_refusal(
        self, path: str, params: dict[str, str | int] | None = None
    ) -> tuple[int, bool]:
        """The HTTP status of ``GET {base}{path}``, and whether the answer was sipgate's
        Classic-PBX refusal (:func:`is_classic_pbx_refusal`: the account is a Neo one).

        Network failures still raise; statuses never do.
        """
        try:
            self._read(self._url(path, params))
        except HttpStatusError as error:
            return error.status, is_classic_pbx_refusal(error)
        return 200, False

    def userinfo(self) -> UserInfo:
        """``GET /authorization/userinfo``: who the token belongs to (any valid token may ask)."""
        info = parse_userinfo(self.get_json("/authorization/userinfo"))
        if info is None:
            raise NetworkError("unreadable", _host(self.base_url), "userinfo without a user id")
        return info

    def _url(self, path: str, params: dict[str, str | int] | None) -> str:
        url = self.base_url + quote(path, safe="/")
        return f"{url}?{urlencode(params)}" if params else url

    def close(self) -> None:
        """Close the pooled connections."""
        if self._session is not None:
            self._session.close()

    # -- internals ---------------------------------------------------------------------------

    def _http(self) -> requests.Session:
        if self._session is None:
            import requests
            from requests.adapters import HTTPAdapter
            from urllib3.util.retry import Retry

            session = requests.Session()
            # No retries of any kind at the transport level: a retried POST could ring twice.
            # read=False re-raises a read timeout as itself; read=0 would wrap it (for GETs)
            # in a generic connection error and hide what happened. The adapter is ours: it
            # keeps loopback addresses away from proxies and enforces each request's deadline.
            adapter: HTTPAdapter = _transport_adapter_class()(
                max_retries=Retry(total=0, connect=0, read=False, redirect=0, status=0, other=0)
            )
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            # requests reads ~/.netrc for any request without auth= and puts that password in
            # the Authorization header: the token the user gave must be the only credential
            # ever sent, so the session's own auth is ours (and netrc is never consulted).
            authorization = "Basic " + self._credentials.basic_token()

            def own_credentials(request: requests.PreparedRequest) -> requests.PreparedRequest:
                request.headers["Authorization"] = authorization
                return request

            session.auth = own_credentials
            self._session = session
        return self._session

    def _send(
        self,
        method: str,
        url: str,
        payload: bytes | None,
        *,
        is_write: bool,
        deadline: float | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request, never retried or redirected: (status, headers, body) of a success,
        else the ApiError that says what happened (for writes: whether it may have arrived)."""
        headers = plain_headers(has_body=payload is not None, user_agent=self._user_agent)
        headers["Authorization"] = "Basic " + self._credentials.basic_token()
        request_id = next(_REQUEST_IDS)
        _log_request(request_id, method, url, headers, payload)
        # One deadline from connecting to the answer's last byte (Timeouts.total): a server
        # that trickles keeps no request open longer, and whether the request was written
        # by then tells "not placed" from "may have been placed".
        # The session is made before the clock starts: the first time, that imports requests
        # (0.1 s, up to 0.5 s on a busy machine), which is no time the network took.
        self._http()
        seconds = self._timeouts.deadline
        if deadline is not None:
            seconds = min(seconds, deadline)
        with _Deadline(seconds) as limit:
            response = self._request(method, url, payload, headers, is_write, limit)
            answer = _read_answer(response, limit)
        _log_response(request_id, answer.status, answer.headers, answer.body, self._redact)
        body = self._successful_body(url, answer, is_write=is_write)
        return answer.status, answer.headers, body

    def _request(
        self,
        method: str,
        url: str,
        payload: bytes | None,
        headers: dict[str, str],
        is_write: bool,
        deadline: _Deadline,
    ) -> requests.Response:
        """Send the request; a failure before an answer arrives becomes a NetworkError, or,
        for a write that may have reached sipgate, an OutcomeUnknownError."""
        import requests

        host = _host(url)
        proxy = proxy_in_use(url, os.environ)
        unusable = proxy.problem() if proxy is not None else None
        if proxy is not None and unusable is not None:  # checked first: nothing is sent
            raise proxy.error("proxy-setting", host, unusable)
        try:
            return self._http().request(
                method,
                url,
                data=payload,
                headers=headers,
                timeout=(self._timeouts.connect, self._timeouts.read),
                allow_redirects=False,
                stream=True,
            )
        except _DeadlineExpired:  # raised before the first byte of the request was written
            raise NetworkError("connect-timeout", host, seconds=deadline.seconds) from None
        except requests.exceptions.RequestException as error:
            if deadline.expired:  # the watchdog cut the connection: the deadline, not a break
                raise _late(deadline, host, is_write=is_write) from None
            written = deadline.may_be_written
            raise _failure(error, host, is_write=is_write, written=written, proxy=proxy) from None
        except ValueError as error:
            # urllib3's ProxySchemeUnknown and friends, raised before anything is sent. Its
            # text may hold the proxy's password, so only its type is kept.
            if proxy is None:
                raise
            why = f"cannot be used ({type(error).__name__})"
            raise proxy.error("proxy-setting", host, why) from None

    def _successful_body(self, url: str, answer: _Answer, *, is_write: bool) -> bytes:
        """The body of a complete success; else the error for a redirect, a failure status,
        or a body too large or cut off."""
        status, host = answer.status, _host(url)
        if 300 <= status < 400:
            location = answer.headers.get("location")
            raise UnexpectedRedirectError(
                status, url, one_line(self._redact(location), 200) if location else None
            )
        body = answer.body
        if not 200 <= status < 300:
            detail = (
                TOO_LARGE
                if answer.too_large
                else (_summarise_body(answer.headers, body, self._redact) if body else None)
            )
            raise HttpStatusError(
                status,
                url,
                detail,
                _retry_after(answer.headers.get("retry-after")),
                body=_kept_body(body, self._redact),
            )
        if answer.too_large:
            if is_write:
                raise OutcomeUnknownError("unreadable-response", host, TOO_LARGE)
            raise NetworkError("connection", host, TOO_LARGE)
        if body is None and answer.late is not None:  # trickled past the deadline
            if is_write:
                raise OutcomeUnknownError("read-timeout", host, seconds=answer.late)
            raise NetworkError("read-timeout", host, seconds=answer.late)
        if body is None:
            if is_write:
                raise OutcomeUnknownError("connection-lost", host, f"HTTP {status}, body cut off")
            raise NetworkError("connection", host, f"HTTP {status}, body cut off")
        return body

    def _read(self, url: str) -> tuple[int, dict[str, str], bytes]:
        """A GET, retried once, politely, when sipgate is busy (429) or failing (5xx).

        The wait honours ``Retry-After`` up to READ_RETRY_CAP seconds; a longer requested wait
        is not sat through (the error says how long to wait). Writes are never retried.
        """
        try:
            return self._send("GET", url, None, is_write=False)
        except HttpStatusError as error:
            if error.status not in RETRIABLE_STATUSES:
                raise
            wait = DEFAULT_RETRY_WAIT if error.retry_after is None else error.retry_after
            if wait > READ_RETRY_CAP:
                raise
            log.debug("retrying once in %g s after HTTP %s", wait, error.status)
            self._sleep(wait)
            return self._send("GET", url, None, is_write=False)

    def _redact(self, text: str) -> str:
        """Remove the secret from server text: a hostile or buggy server may echo it back."""
        for secret in (self._credentials.token, self._credentials.basic_token()):
            if secret:
                text = text.replace(secret, "••••")
        return text


class _Answer:
    """A response as read: the status, the headers (names in lower case), and the body (None
    when the connection broke while reading it, or when it was too large to read)."""

    # A plain class, not a dataclass: it is created on every dial's import, where each
    # dataclass costs about a millisecond (measured with -X importtime).
    __slots__ = ("body", "headers", "late", "status", "too_large")

    def __init__(
        self, status: int, headers: dict[str, str], body: bytes | None, too_large: bool = False
    ) -> None:
        self.status, self.headers, self.body, self.too_large = status, headers, body, too_large
        self.late: float | None = None  # the deadline (seconds) that cut the body off, if one did


def _read_answer(response: requests.Response, deadline: _Deadline) -> _Answer:
    """Read the whole response (at most MAX_BODY_BYTES of body) and close it."""
    import requests

    with response:
        status = response.status_code
        headers = {k.lower(): v for k, v in response.headers.items()}
        try:
            answer = _Answer(status, headers, _read_capped(response))
        except _BodyTooLarge:
            return _Answer(status, headers, None, too_large=True)
        except (requests.exceptions.RequestException, OSError):
            answer = _Answer(status, headers, None)
        if deadline.expired:
            # Cut off by the watchdog. No error is not enough to trust what was read: http.client
            # takes the end of the stream inside the headers for their end, so headers cut
            # short look complete, with an empty body. Only the status line is sure.
            answer.body, answer.late = None, deadline.seconds
        return answer


class _BodyTooLarge(Exception):
    pass


TOO_LARGE = "the answer is larger than 1 MiB, which no sipgate answer is; not read"


def parse_session_id(data: Any) -> str | None:
    """The ``sessionId`` of a call answer (a string, or a number we accept as one), or None."""
    session_id = data.get("sessionId") if isinstance(data, dict) else None
    if isinstance(session_id, int) and not isinstance(session_id, bool):
        session_id = str(session_id)
    if not isinstance(session_id, str):
        return None
    cleaned = one_line(session_id, limit=200)  # control characters alone are no session id
    return cleaned or None


CALL_ID_FIELDS = ("callSid", "callId", "id")  # in this order: j-lawyer, a CRM, a guess


def parse_call_id(data: Any) -> str | None:
    """The call id of a ``POST /calls`` answer (sipgate Neo): the first of CALL_ID_FIELDS
    that holds a usable string (or number), else None."""
    if not isinstance(data, dict):
        return None
    for name in CALL_ID_FIELDS:
        value = data.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            cleaned = one_line(value, limit=200)
            if cleaned:
                return cleaned
    return None


_USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def parse_userinfo(data: Any) -> UserInfo | None:
    """``{sub, domain, ...}`` from ``/authorization/userinfo``, or None when unusable.

    The user id goes into URL paths (``/{sub}/devices``), so anything but a plain id is refused.
    """
    user_id = data.get("sub") if isinstance(data, dict) else None
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        return None
    domain = data.get("domain")
    return UserInfo(
        user_id=user_id, domain=one_line(domain, 120) if isinstance(domain, str) else None
    )


def _read_capped(response: requests.Response) -> bytes:
    """Read at most MAX_BODY_BYTES; a bigger body is not a sipgate answer."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=65536):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _decode_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _summarise_body(
    headers: dict[str, str], body: bytes | None, redact: Callable[[str], str], limit: int = 300
) -> str:
    """A short human-readable digest of an answer body: JSON errors, HTML title, or text.

    Secrets are redacted *before* shortening, so truncation can never leave part of one.
    """
    if not body:
        return "(empty body)"
    data = _decode_json(body)
    if data is not None:
        return one_line(redact(_json_message(data)), limit)
    text = body.decode("utf-8", errors="replace")
    if "html" in headers.get("content-type", "") or text.lstrip()[:1] == "<":
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        text = title.group(1) if title else re.sub(r"<[^>]+>", " ", text)
    return one_line(redact(text), limit)


def _json_message(data: Any) -> str:
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for item in errors[:3]:
                if isinstance(item, dict):
                    bits = [str(item[k]) for k in ("title", "detail") if item.get(k)]
                    parts.append(": ".join(bits) if bits else json.dumps(item)[:100])
                else:
                    parts.append(str(item))
            return "; ".join(parts)
        for key in ("message", "detail", "error_description", "error", "title"):
            if isinstance(data.get(key), (str, int, float)):
                return str(data[key])
    return json.dumps(data, ensure_ascii=False)


def _retry_after(value: str | None) -> int | None:
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,9}", value):  # ASCII digits only: "¹".isdigit() is True too
        return int(value)
    try:
        # Here, not at the top: email.utils costs ~20 ms, and dates in Retry-After are rare.
        from datetime import datetime, timezone
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
        return max(0, int((when - datetime.now(timezone.utc)).total_seconds()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _connection_failure_kind(error: BaseException) -> str | None:
    """Classify a connection error that happened *before* sending, else None.

    requests wraps urllib3 errors several layers deep; walk the whole chain.
    """
    import socket  # loaded with requests anyway; ~5 ms that a dry run need not pay

    from urllib3.exceptions import NameResolutionError, NewConnectionError

    seen: set[int] = set()
    stack: list[Any] = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (NameResolutionError, socket.gaierror)):
            return "dns"
        if isinstance(current, ConnectionRefusedError):
            return "refused"
        if isinstance(current, NewConnectionError):
            text = str(current).lower()
            if "refused" in text:
                return "refused"
            if "name or service" in text or "resolve" in text or "nodename" in text:
                return "dns"
            return "connection-failed"
        if isinstance(current, BaseException):
            stack.extend([current.__cause__, current.__context__])
            stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
            stack.append(getattr(current, "reason", None))
    return None


TLS_REASONS = ("hostname", "expired", "untrusted", "not-tls", "handshake")
_NOT_TLS = ("wrong version number", "record layer failure", "http request", "packet length")


def _tls_reason(error: BaseException) -> tuple[str, str]:
    """Which TLS failure this is (one of TLS_REASONS) and a line that says it."""
    text = str(error)
    lower = text.lower()
    # OpenSSL puts these under "certificate verify failed" too: test them first
    if "hostname" in lower or "ip address mismatch" in lower:
        return "hostname", "the certificate does not match the host name"
    if "expired" in lower:
        return "expired", "certificate verify failed: the certificate has expired"
    match = re.search(r"certificate verify failed: ([^(\)\]'\"]+)", text)
    if match:
        return "untrusted", "certificate verify failed: " + match.group(1).strip()
    if any(sign in lower for sign in _NOT_TLS):
        return "not-tls", "the server does not speak TLS on this port"
    return "handshake", "the TLS handshake failed"


def _late(deadline: _Deadline, host: str, *, is_write: bool) -> ApiError:
    """The error for a request the deadline cut off: before the request was written nothing
    was sent (no connection in time); after it, a call request may have been placed."""
    if not deadline.may_be_written:
        return NetworkError("connect-timeout", host, seconds=deadline.seconds)
    if is_write:
        return OutcomeUnknownError("read-timeout", host, seconds=deadline.seconds)
    return NetworkError("read-timeout", host, seconds=deadline.seconds)


def _failure(
    error: requests.RequestException,
    host: str,
    *,
    is_write: bool,
    written: bool,
    proxy: ProxyInUse | None,
) -> ApiError:
    """What a failure of requests means (the deadline did not cause it). ``written``: the
    request may have started to go out (before that, a write placed nothing)."""
    import requests

    exceptions = requests.exceptions
    is_write = is_write and written  # a wait that ran out in a TLS handshake sent nothing
    if isinstance(error, exceptions.ReadTimeout) and not written:
        return NetworkError("connect-timeout", host)
    if isinstance(error, exceptions.ProxyError) and proxy is not None:
        reason, text = _proxy_failure(error, host)
        return proxy.error("proxy", host, text, reason=reason)
    if isinstance(error, exceptions.SSLError):
        reason, text = _tls_reason(error)
        return NetworkError("tls", host, text, reason=reason)
    if isinstance(error, exceptions.ConnectTimeout):
        return NetworkError("connect-timeout", host)
    if isinstance(error, exceptions.ReadTimeout):
        if is_write:
            return OutcomeUnknownError("read-timeout", host)
        return NetworkError("read-timeout", host)
    if isinstance(error, exceptions.ConnectionError):
        kind = _connection_failure_kind(error)
        if kind is None:  # the connection broke after the request went out
            if is_write:
                return OutcomeUnknownError("connection-lost", host)
            return NetworkError("connection", host)
        return NetworkError(kind, host)
    if isinstance(error, (exceptions.InvalidSchema, exceptions.InvalidURL)) and proxy is not None:
        # requests' own refusal of the proxy setting ("Missing dependencies for SOCKS
        # support", a malformed proxy URL), raised before anything was sent
        return proxy.error("proxy-setting", host, f"cannot be used ({type(error).__name__})")
    # InvalidURL and friends: our URL check should have caught these before sending.
    return NetworkError("connection", host, type(error).__name__)


# -- proxies ------------------------------------------------------------------------------------

PROXY_REASONS = ("auth", "status", "refused", "dns", "timeout", "failed")


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is this machine: localhost, 127.0.0.0/8 or ::1 (brackets allowed)."""
    import ipaddress

    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ProxyInUse:
    """The proxy requests would send a request through: the variable that set it, and the
    proxy's address (scheme, host and port only: a password in the variable is never kept)."""

    __slots__ = ("address", "scheme", "value", "variable")

    def __init__(self, variable: str, value: str) -> None:
        self.variable, self.value = variable, value
        parts = urlsplit(value if "://" in value else "http://" + value)
        self.scheme = parts.scheme.lower()
        try:
            port = f":{parts.port}" if parts.port else ""
        except ValueError:
            port = ""
        self.address = f"{parts.hostname or '?'}{port}"

    def problem(self) -> str | None:
        """Why requests could not use this proxy at all (then nothing is sent), else None."""
        import importlib.util

        from requests.utils import prepend_scheme_if_needed
        from urllib3.exceptions import LocationParseError
        from urllib3.util import parse_url

        try:
            parsed = parse_url(prepend_scheme_if_needed(self.value, "http"))
        except (LocationParseError, ValueError):
            return "is no proxy address (it cannot be parsed)"
        scheme = (parsed.scheme or "http").lower()
        if not parsed.host:
            return "is no proxy address (it names no host)"
        if scheme.startswith("socks"):
            if importlib.util.find_spec("socks") is None:
                return (
                    f"asks for a SOCKS proxy ({scheme}://), which needs PySocks, and it is "
                    "not installed"
                )
            return None
        if scheme not in ("http", "https"):
            return f"uses {scheme}://, which is no proxy scheme (http://, https:// or socks5://)"
        return None

    def error(self, kind: str, host: str, detail: str, reason: str | None = None) -> NetworkError:
        """A NetworkError that names this proxy and its variable."""
        return NetworkError(
            kind, host, detail, reason=reason, proxy=self.address, variable=self.variable
        )


def proxy_in_use(url: str, environ: Mapping[str, str]) -> ProxyInUse | None:
    """The proxy requests takes from the environment for ``url``, or None.

    The same rule as urllib's: ``{scheme}_proxy``, else ``all_proxy``; the lower-case name
    wins over the upper-case one (an empty lower-case one switches it off); NO_PROXY exempts.
    Loopback addresses never go through a proxy (the transport adapter enforces it).
    """
    parts = urlsplit(url)
    if is_loopback_host(parts.hostname or ""):
        return None
    candidates: list[tuple[str, str]] = []
    for key in (parts.scheme.lower(), "all"):
        lower, upper = f"{key}_proxy", f"{key.upper()}_PROXY"
        if lower in environ:
            candidates.append((lower, environ[lower]))
        elif environ.get(upper):
            candidates.append((upper, environ[upper]))
    candidates = [(name, value) for name, value in candidates if value.strip()]
    if not candidates:
        return None
    from requests.utils import should_bypass_proxies

    if should_bypass_proxies(url, no_proxy=None):
        return None
    name, value = candidates[0]
    return ProxyInUse(name, value.strip())


def _proxy_failure(error: BaseException, host: str) -> tuple[str, str]:
    """What went wrong at the proxy (one of PROXY_REASONS), and a phrase that says it."""
    from urllib3.exceptions import ConnectTimeoutError

    text = str(error)
    answered = re.search(r"Tunnel connection failed: (\d{3})([^'\"\\)]*)", text)
    if answered:
        status = answered.group(1)
        said = one_line(f"{status} {answered.group(2).strip()}".strip(), 80)
        reason = "auth" if status == "407" else "status"
        return reason, f'answered "{said}" when asked to connect to {host}'
    kind = _connection_failure_kind(error)
    if kind == "refused":
        return "refused", "refused the connection"
    if kind == "dns":
        return "dns", "could not be found (its name does not resolve)"
    # after refused and dns: urllib3's NewConnectionError is a ConnectTimeoutError too
    if _chain_has(error, ConnectTimeoutError) or "timed out" in text.lower():
        return "timeout", "did not accept a connection in time"
    return "failed", f"failed before a connection to {host} was made"


def _chain_has(error: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``error`` or anything it wraps (cause, context, args, reason) is a ``kind``."""
    seen: set[int] = set()
    stack: list[Any] = [error]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return True
        stack.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return False


# -- the deadline and the transport -------------------------------------------------------------


class _DeadlineExpired(Exception):
    """The deadline passed before the first byte of the request was written: nothing was sent.

    Not an OSError on purpose: urllib3 and requests let it through unwrapped.
    """


_CURRENT = threading.local()  # the deadline of the request this thread is sending, if any


class _Deadline:
    """One request's overall limit, enforced by a watchdog timer.

    When it passes, the watchdog shuts down the sockets the request uses (duplicates of
    them, so a descriptor that urllib3 already closed and the system reused is never hit):
    every blocked connect, write or read then fails at once, however slowly the server
    trickles. ``written`` says whether the request had started to go out by then; the
    check and the shutdown share a lock, so a request is either cut before it is written
    or counted as written. ``tracked`` says whether one of our connections reported at all
    (a SOCKS connection does not): without it nobody knows, and :attr:`may_be_written` then
    assumes the worst, so a call request is never called "not placed" on a guess.
    """

    __slots__ = (
        "_done",
        "_lock",
        "_sockets",
        "_timer",
        "expired",
        "seconds",
        "tracked",
        "written",
    )

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = self.written = self.tracked = self._done = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        _CURRENT.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._done = True  # a watchdog firing now must not touch a pooled connection
        _CURRENT.deadline = None

    def _expire(self) -> None:
        import socket

        with self._lock:
            if self._done:
                return
            self.expired = True
            log.debug("deadline of %g s reached: the request's connection is cut", self.seconds)
            for sock in self._sockets:
                # OSError: already closed, or never connected: nothing to cut
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def watch(self, sock: socket.socket | None, *, writing: bool) -> None:
        """Cut ``sock`` at the deadline; ``writing``: the request starts to go out now.
        Raises _DeadlineExpired when the deadline has passed already."""
        with self._lock:
            if self.expired:
                raise _DeadlineExpired()
            if sock is not None and sock not in self._sockets:
                self._sockets.append(sock)
            self.tracked = True
            self.written = self.written or writing

    @property
    def may_be_written(self) -> bool:
        """Whether any of the request may have gone out (unknown counts as yes)."""
        return self.written or not self.tracked


def _current_deadline() -> _Deadline | None:
    deadline: _Deadline | None = getattr(_CURRENT, "deadline", None)
    return deadline


_ADAPTER_CLASS: list[type[Any]] = []  # built once, on the first request (requests is heavy)


def _transport_adapter_class() -> type[Any]:
    """requests' HTTPAdapter with our connections, built on first use.

    * Loopback addresses get no proxy, whatever the environment says: the adapter is the
      last step before a connection is chosen, so neither requests' environment merging
      nor anything else can add one back (http:// is allowed only to loopback, and a proxy
      there would see the token in clear text).
    * Its connections register their sockets with the request's _Deadline, and say when
      the request starts to be written (not the CONNECT to a proxy: that reaches no one).
    """
    if _ADAPTER_CLASS:
        return _ADAPTER_CLASS[0]
    from requests.adapters import HTTPAdapter

    pools = _watched_pool_classes()

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            if not proxy.lower().startswith("socks"):  # SOCKS has connections of its own
                manager.pool_classes_by_scheme = pools
            return manager

        def send(
            self,
            request: requests.PreparedRequest,
            stream: bool = False,
            timeout: Any = None,
            verify: Any = True,
            cert: Any = None,
            proxies: Any = None,
        ) -> requests.Response:
            if is_loopback_host(urlsplit(request.url or "").hostname or ""):
                proxies = {}
            return super().send(
                request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
            )

    _ADAPTER_CLASS.append(Adapter)
    return Adapter


def _watched_pool_classes() -> dict[str, type[Any]]:
    """urllib3's connection pools (by scheme) with connections that report to the _Deadline
    of the request in this thread: their socket (a duplicate, cut at the deadline), and the
    moment the request itself starts to be written."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Watched(HTTPConnection):
        _watch_sock: socket.socket | None = None
        _tunnelling = False

        def _new_conn(self) -> socket.socket:
            deadline = _current_deadline()
            if deadline is not None:  # tracked from here: a connect in progress sent nothing
                deadline.watch(None, writing=False)
            sock = super()._new_conn()
            self._watch_sock = sock.dup()
            if deadline is not None:
                try:
                    deadline.watch(self._watch_sock, writing=False)
                except _DeadlineExpired:
                    self._watch_sock.close()
                    sock.close()
                    raise
            return sock

        def _tunnel(self) -> None:
            self._tunnelling = True
            try:
                super()._tunnel()
            finally:
                self._tunnelling = False

        def send(self, data: Any) -> None:
            if self.sock is None and self.auto_open:
                self.connect()  # plain http connects on the first write: not yet "written"
            deadline = _current_deadline()
            if deadline is not None and not self._tunnelling:
                deadline.watch(self._watch_sock, writing=True)
            super().send(data)

        def close(self) -> None:
            try:
                super().close()
            finally:
                if self._watch_sock is not None:
                    self._watch_sock.close()
                    self._watch_sock = None

    class WatchedHTTPS(Watched, HTTPSConnection):
        pass

    class HTTPPool(HTTPConnectionPool):
        ConnectionCls = Watched

    class HTTPSPool(HTTPSConnectionPool):
        ConnectionCls = WatchedHTTPS

    return {"http": HTTPPool, "https": HTTPSPool}


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1] or url


_REQUEST_IDS = itertools.count(1)  # numbers requests in --debug, so parallel ones can be told apart


def _log_request(
    request_id: int, method: str, url: str, headers: dict[str, str], payload: bytes | None
) -> None:
    if not log.isEnabledFor(logging.DEBUG):
        return
    shown = {k: ("Basic ••••" if k == "Authorization" else v) for k, v in headers.items()}
    log.debug("[%d] > %s %s", request_id, method, url)
    for name, value in shown.items():
        log.debug("[%d] > %s: %s", request_id, name, value)
    if payload is not None:
        log.debug("[%d] > %s", request_id, payload.decode("utf-8", errors="replace"))


def _log_response(
    request_id: int,
    status: int,
    headers: dict[str, str],
    body: bytes | None,
    redact: Callable[[str], str],
) -> None:
    if not log.isEnabledFor(logging.DEBUG):
        return
    log.debug("[%d] < HTTP %s", request_id, status)
    for name, value in headers.items():
        if name not in ("set-cookie", "authorization"):
            log.debug("[%d] < %s: %s", request_id, name, one_line(redact(value), 200))
    if body is not None:
        text = one_line(redact(body.decode("utf-8", errors="replace")), 2000)
        log.debug("[%d] < %s", request_id, text)
