"""Turn client errors into what the user reads: cause, fix, next command.

One table per kind of failure, so every message lives in one place. The tables name problem
codes; each code's exit code is in ``catalogue`` (a test checks every code here is there).
"""

from __future__ import annotations

from dataclasses import dataclass

from sipgate_tui.api import (
    ApiError,
    HttpStatusError,
    NetworkError,
    OutcomeUnknownError,
    UnexpectedRedirectError,
)
from sipgate_tui.errors import AppError

CALL_NOT_PLACED = "The call was not placed."


class TokenRejected(AppError):
    """sipgate did not accept the token id and token (HTTP 401, code ``unauthorized``)."""


@dataclass(frozen=True)
class StatusProblem:
    """What an HTTP status means: the problem code (the catalogue has its exit code), words,
    and the error type to raise (so callers can tell it apart without comparing codes)."""

    code: str
    message: str
    hint: str
    error_type: type[AppError] = AppError


# POST /sessions/calls, from sipgate's docs (sipgate-api.md "Status codes for /sessions/calls").
CALL_STATUS_PROBLEMS: dict[int, StatusProblem] = {
    400: StatusProblem(
        "bad-request",
        "sipgate rejected the call request as invalid (HTTP 400).",
        "Check the values: the phone must be one of your device ids (such as e0), or a number "
        "given with --caller together with --device; the callee must be a full phone number. "
        "See exactly what is sent with `sipgate-tui call --dry-run`.",
    ),
    401: StatusProblem(
        "unauthorized",
        "sipgate did not accept the token id and token (HTTP 401).",
        "{credentials_fix}",
        TokenRejected,
    ),
    402: StatusProblem(
        "insufficient-balance",
        "Your sipgate account balance is too low for this call (HTTP 402).",
        "Top up the balance in the sipgate web app, then try again.",
    ),
    403: StatusProblem(
        "forbidden",
        "sipgate refused to place this call (HTTP 403).",
        "sipgate does not say which of these it is; check them in this order:\n"
        "• The token lacks the scope sessions:calls:write: create a token with it in the "
        "sipgate web app, then run `{login}`.\n"
        "• The device {device} is not yours, or you may not use it: check the Phones page in "
        "the web app.\n"
        "• Your user must reset their password in the web app before using the API.\n"
        "• The account type does not offer click-to-dial (newer sipgate accounts may not).",
    ),
    404: StatusProblem(
        "not-found",
        "The API address was not found (HTTP 404): {url}",
        "Check --api-url or SIPGATE_API_URL; sipgate's API lives at "
        "https://api.sipgate.com/v2 (leave both unset to use it).",
    ),
    405: StatusProblem(
        "method-not-allowed",
        "The server does not accept this request at {url} (HTTP 405).",
        "The API address probably points to the wrong place: check --api-url or "
        "SIPGATE_API_URL (default https://api.sipgate.com/v2).",
    ),
    415: StatusProblem(
        "unsupported-media-type",
        "The server did not accept the request's content type (HTTP 415).",
        "sipgate-tui sends Content-Type: application/json, so a proxy may have changed the "
        "request. Run the command with --debug to see what was sent.",
    ),
    429: StatusProblem(
        "rate-limited",
        "sipgate is limiting requests right now (HTTP 429). " + CALL_NOT_PLACED,
        "Wait {wait} and try again.",
    ),
}

SERVER_ERROR = StatusProblem(
    "server-error",
    "sipgate had a problem on its side (HTTP {status}). The call was most likely not placed.",
    "If your phone rings anyway, the call went through. Otherwise wait a minute and try again.",
)
OTHER_STATUS = StatusProblem(
    "unexpected-status",
    "sipgate answered with an unexpected status (HTTP {status}). " + CALL_NOT_PLACED,
    "Check --api-url or SIPGATE_API_URL, and run the command with --debug to see the answer.",
)

NETWORK_PROBLEMS: dict[str, tuple[str, str, str]] = {
    # kind: (code, message, hint). For the call request, CALL_NOT_PLACED is appended where
    # nothing reached sipgate (everything but a broken or unreadable answer).
    "dns": (
        "dns-failure",
        "The server name {host} could not be resolved.",
        "Check your internet connection and the API address (--api-url or SIPGATE_API_URL).",
    ),
    "refused": (
        "connection-refused",
        "{host} refused the connection.",
        "Check the API address (--api-url or SIPGATE_API_URL) and whether a firewall or proxy "
        "blocks it.",
    ),
    "connection-failed": (
        "connection-failed",
        "Could not connect to {host}.",
        "Check your internet connection, then try again.",
    ),
    "connect-timeout": (
        "connect-timeout",
        "No connection to {host} within {connect:g} s.",
        "Check your internet connection, or allow more time with --timeout.",
    ),
    # The same words for every read (status, devices, numbers, calls, history, login): a
    # server that is slow is slow, never "could not be reached". {read} is the limit that
    # ran out: the wait for an answer, or the whole request's (--timeout bounds both).
    "read-timeout": (
        "read-timeout",
        "sipgate ({host}) is slow: it did not answer within {read:g} s.",
        "Try again in a moment, or allow more time with --timeout.",
    ),
    "tls": (  # the hint depends on the diagnosis: TLS_HINTS
        "tls-error",
        "No secure connection to {host}: {detail}.",
        "",
    ),
    "proxy": (  # the proxy's own failure, never sipgate's; the hint: PROXY_HINTS
        "proxy-error",
        "The proxy at {proxy} (set by {variable}) {detail}; nothing reached sipgate.",
        "",
    ),
    "proxy-setting": (
        "proxy-setting",
        "{variable} {detail}, so nothing was sent.",
        "Fix {variable}: set it to an http:// proxy such as http://proxy.example:3128, or "
        "unset it (or list {host} in NO_PROXY) to reach sipgate directly. For a SOCKS proxy, "
        "install PySocks (pip install 'requests[socks]').",
    ),
    "connection": (
        "connection-lost",
        "The connection to {host} broke before an answer arrived.",
        "Try again in a moment.",
    ),
    "unreadable": (
        "unreadable-response",
        "The answer from {host} could not be read as the sipgate API's.",
        "Check the API address (--api-url or SIPGATE_API_URL); run with --debug to see the answer.",
    ),
}
NOTHING_SENT = {
    "dns",
    "refused",
    "connection-failed",
    "connect-timeout",
    "tls",
    "proxy",
    "proxy-setting",
}
# Advice that fits the TLS diagnosis (api.TLS_REASONS): a port without TLS is a wrong address,
# not an intercepting proxy; a wrong name is a wrong host; only an unknown authority is the
# company proxy or old certificates.
_API_URL = "--api-url or SIPGATE_API_URL (sipgate's is https://api.sipgate.com/v2)"
TLS_HINTS: dict[str, str] = {
    "not-tls": "Nothing speaks HTTPS at this address: check the scheme and the port in "
    + _API_URL
    + ". A local test server without TLS is reached with http://127.0.0.1:PORT.",
    "hostname": "The certificate belongs to another name than {host}: check the host in "
    + _API_URL
    + ". If you typed it right, something in between answers in sipgate's place.",
    "expired": "Check that this computer's date and time are right; if they are, the "
    "server's certificate has run out (for sipgate's own address, try again later).",
    "untrusted": "The certificate is signed by an authority this computer does not trust. "
    "If your network inspects HTTPS with its own certificate authority (a company proxy), "
    "point REQUESTS_CA_BUNDLE to that authority's certificate file; otherwise the system's "
    "certificates may be out of date.",
    "handshake": "The server and sipgate-tui found no common way to encrypt. Check the "
    "address in " + _API_URL + "; run the command with --debug to see more.",
}
# Advice for the proxy's own failure (api.PROXY_REASONS): the proxy is to be fixed, not sipgate.
_BYPASS = "to reach sipgate without it, unset {variable} or list {host} in NO_PROXY."
PROXY_HINTS: dict[str, str] = {
    "auth": "The proxy wants a user name and password: put them into {variable} "
    "(http://USER:PASSWORD@HOST:PORT), or ask whoever runs it; " + _BYPASS,
    "status": "This is the proxy's answer, not sipgate's: check the proxy (or ask whoever "
    "runs it) and {variable}; " + _BYPASS,
    "refused": "Nothing answers at the proxy's address: check {variable}; " + _BYPASS,
    "dns": "Check the proxy's host name in {variable}; " + _BYPASS,
    "timeout": "Check that the proxy in {variable} is running and reachable; " + _BYPASS,
    "failed": "Check the proxy in {variable}; " + _BYPASS,
}
# Kinds whose detail is ours (the TLS diagnosis, what the proxy did, what is wrong with a proxy
# variable): it goes into the message, never under "sipgate said", which it is not.
OWN_DETAIL_KINDS = {"tls", "proxy", "proxy-setting"}

# Reads (userinfo, devices, numbers, ...): what a status means when we only asked.
READ_STATUS_PROBLEMS: dict[int, StatusProblem] = {
    401: StatusProblem(
        "unauthorized",
        "sipgate did not accept the token id and token (HTTP 401).",
        CALL_STATUS_PROBLEMS[401].hint,
        TokenRejected,
    ),
    403: StatusProblem(
        "forbidden",
        "sipgate did not let this token {what} (HTTP 403).",
        "The token probably lacks the scope {scope}: create a token with it in the sipgate web "
        "app and {store_it}. Some account types do not offer this at all.",
    ),
    404: StatusProblem(
        "not-found",
        "sipgate has nothing at {url} (HTTP 404).",
        "Check --api-url or SIPGATE_API_URL (default https://api.sipgate.com/v2). Some "
        "account types do not offer this endpoint.",
    ),
    429: StatusProblem(
        "rate-limited",
        "sipgate is limiting requests right now (HTTP 429).",
        "Wait {wait} and try again.",
    ),
}
READ_SERVER_ERROR = StatusProblem(
    "server-error",
    "sipgate had a problem on its side (HTTP {status}).",
    "Wait a minute and try again.",
)
READ_OTHER_STATUS = StatusProblem(
    "unexpected-status",
    "sipgate answered with an unexpected status (HTTP {status}).",
    OTHER_STATUS.hint,
)

UNKNOWN_OUTCOME_PROBLEMS: dict[str, tuple[str, str]] = {
    "read-timeout": (
        "no-response",
        "The call request was sent, but sipgate did not answer within {read:g} s.",
    ),
    "connection-lost": (
        "connection-lost",
        "The call request was sent, but the connection broke before sipgate's answer arrived.",
    ),
    "unreadable-response": (
        "unreadable-response",
        "The call request was sent, but sipgate's answer could not be read.",
    ),
}
UNKNOWN_OUTCOME_HINT = (
    "The call may have been placed. Check your phone before trying again, so nobody is called "
    "twice."
)


# POST /calls of sipgate Neo: where its refusals need other words than the classic ones.
NEO_CALL_STATUS_PROBLEMS: dict[int, StatusProblem] = {
    400: StatusProblem(
        "bad-request",
        "sipgate rejected the call request as invalid (HTTP 400).",
        "Check the values: the phone must be one of yours, and on sipgate Neo not a mobile "
        'device (reported: "Invalid invitable device"), in the channel the call goes through; '
        "the callee must be a full phone number. If sipgate objects to a number's format, try "
        "`sipgate-tui config set neo-numbers plus` (or `digits`). See what is sent with "
        "`sipgate-tui call --dry-run`.",
    ),
    404: StatusProblem(
        "not-found",
        "sipgate has no call endpoint for sipgate Neo here (HTTP 404): {url}",
        "POST /calls exists only on sipgate Neo accounts. {neo_forced}Otherwise check --api-url "
        "or SIPGATE_API_URL (default https://api.sipgate.com/v2).",
    ),
}


def call_problem(
    error: ApiError,
    *,
    on_neo: bool = False,
    neo_forced_by: str | None = None,
    device: str | None,
    connect_timeout: float,
    read_timeout: float,
    credentials_source: str | None,
    login_command: str = "sipgate-tui login",
) -> AppError:
    """The user-facing problem for a failed call request (``on_neo``: ``POST /calls`` of
    sipgate Neo, ``neo_forced_by``: who forced that path), else ``POST /sessions/calls``."""
    if isinstance(error, HttpStatusError):
        neo_entry = NEO_CALL_STATUS_PROBLEMS.get(error.status) if on_neo else None
        entry = neo_entry or CALL_STATUS_PROBLEMS.get(error.status)
        if entry is None:
            entry = SERVER_ERROR if error.status >= 500 else OTHER_STATUS
        neo_forced = (
            f"The Neo way is {neo_forced_by}: if this account is classic, use --account-type "
            "auto or `sipgate-tui config unset account-type`. "
            if neo_forced_by
            else ""
        )
        problem = _status_problem(
            error,
            entry,
            credentials_source,
            device=device or "you chose",
            login=login_command,
            neo_forced=neo_forced,
        )
        if error.status == 403 and entry is CALL_STATUS_PROBLEMS[403]:
            return _forbidden_call(problem, error, device or "you chose", login_command)
        return problem
    timing = {"connect": connect_timeout, "read": read_timeout}
    if isinstance(error, OutcomeUnknownError):
        code, message = UNKNOWN_OUTCOME_PROBLEMS[error.kind]
        if error.seconds is not None:  # the whole request's deadline ran out
            timing = {"connect": error.seconds, "read": error.seconds}
        return AppError(
            code,
            message.format(host=error.host, **timing),
            hint=UNKNOWN_OUTCOME_HINT,
            detail=error.detail,
            after_call_sent=True,
        )
    if isinstance(error, NetworkError):
        return _network_problem(
            error, timing, suffix=" " + CALL_NOT_PLACED if error.kind in NOTHING_SENT else ""
        )
    if isinstance(error, UnexpectedRedirectError):
        return _redirect_problem(error, " " + CALL_NOT_PLACED)
    raise TypeError(f"not a client error: {type(error).__name__}")


class DeviceNotListed(HttpStatusError):
    """sipgate's 403 for a call whose phone the account's own list does not hold (so it is
    not the user's); ``yours``: the ids of the user's phones."""

    def __init__(self, error: HttpStatusError, yours: tuple[str, ...]) -> None:
        super().__init__(
            error.status, error.url, error.detail, error.retry_after, body=error.body
        )
        self.yours = yours


# The causes of a refused call (403), each with the words sipgate is seen to use for it.
_FORBIDDEN_CAUSES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "account",
        ("account type", "tariff", "feature", "booked", "product", "contract"),
        "The account type does not offer click-to-dial (newer sipgate accounts may not).",
    ),
    (
        "scope",
        ("scope",),
        "The token lacks the scope sessions:calls:write: create a token with it in the "
        "sipgate web app, then run `{login}`.",
    ),
    (
        "device",
        ("extension", "device"),
        "The device {device} is not yours, or you may not use it: check the Phones page in "
        "the web app.",
    ),
    (
        "password",
        ("password",),
        "Your user must reset their password in the web app before using the API.",
    ),
)


def _forbidden_call(
    problem: AppError, error: HttpStatusError, device: str, login: str
) -> AppError:
    """A refused call's advice, led by what is known: a phone the account does not list,
    else the cause sipgate named; "sipgate does not say which" only when it does not."""
    words = " ".join((error.detail or "").casefold().split())
    causes = {
        name: text.format(device=device, login=login) for name, _, text in _FORBIDDEN_CAUSES
    }
    named = next((n for n, keys, _ in _FORBIDDEN_CAUSES if any(k in words for k in keys)), None)
    if isinstance(error, DeviceNotListed):
        yours = ", ".join(error.yours) or "none"
        lead = (
            f"{device} is not one of your phones (yours: {yours}): call again with one of "
            "them (`sipgate-tui devices` lists them)."
        )
        named = "device"
    elif named is not None:
        lead = f"sipgate names the cause: {causes[named]}"
    else:
        return problem
    others = "\n".join(f"• {text}" for name, text in causes.items() if name != named)
    return problem.reworded(problem.message, hint=f"{lead} If that is not it:\n{others}")


def read_problem(
    error: ApiError,
    *,
    what: str,
    scope: str | None,
    connect_timeout: float,
    read_timeout: float,
    credentials_source: str | None,
    login_command: str = "sipgate-tui login",
) -> AppError:
    """The user-facing problem for a failed read (``what``: 'read your devices', ...)."""
    if isinstance(error, HttpStatusError):
        entry = READ_STATUS_PROBLEMS.get(error.status)
        if entry is None:
            entry = READ_SERVER_ERROR if error.status >= 500 else READ_OTHER_STATUS
        return _status_problem(
            error,
            entry,
            credentials_source,
            what=what,
            scope=scope or "it needs",
            login=login_command,
        )
    if isinstance(error, NetworkError):
        return _network_problem(error, {"connect": connect_timeout, "read": read_timeout})
    if isinstance(error, UnexpectedRedirectError):
        return _redirect_problem(error, "")
    raise TypeError(f"not a client error: {type(error).__name__}")


def _status_problem(
    error: HttpStatusError, entry: StatusProblem, credentials_source: str | None, **extra: str
) -> AppError:
    login = extra.get("login", "sipgate-tui login")
    if credentials_source == "env":
        credentials_fix = (
            "SIPGATE_TOKEN_ID and SIPGATE_TOKEN are in use: check that both are complete and "
            f"current, or unset them to use the token stored by `{login}`."
        )
    else:
        credentials_fix = (
            "The token may be mistyped, deleted or expired. Create a new personal access token "
            f"in the sipgate web app and store it with `{login}`."
        )
    store_it = (
        "put it into SIPGATE_TOKEN_ID and SIPGATE_TOKEN (they are in use now)"
        if credentials_source == "env"
        else f"run `{login}`"
    )
    fields = {
        "status": error.status,
        "url": error.url,
        "wait": f"{error.retry_after} s" if error.retry_after is not None else "a minute",
        "credentials_fix": credentials_fix,
        "store_it": store_it,
        **extra,
    }
    return entry.error_type(
        entry.code,
        entry.message.format(**fields),
        hint=entry.hint.format(**fields),
        status=error.status,
        detail=error.detail,
    )


def _network_problem(error: NetworkError, timing: dict[str, float], suffix: str = "") -> AppError:
    code, message, hint = NETWORK_PROBLEMS.get(error.kind, NETWORK_PROBLEMS["connection"])
    if error.kind == "tls":
        hint = TLS_HINTS.get(error.reason or "", TLS_HINTS["handshake"])
    elif error.kind == "proxy":
        hint = PROXY_HINTS.get(error.reason or "", PROXY_HINTS["failed"])
    if error.seconds is not None:  # the whole request's deadline ran out, not one wait
        timing = {"connect": error.seconds, "read": error.seconds}
    fields = {
        "host": error.host,
        "detail": error.detail or "handshake failed",
        "proxy": error.proxy or "?",
        "variable": error.variable or "the proxy variable",
        **timing,
    }
    return AppError(
        code,
        message.format(**fields) + suffix,
        hint=hint.format(**fields),
        detail=error.detail if error.kind not in OWN_DETAIL_KINDS else None,
    )


def _redirect_problem(error: UnexpectedRedirectError, suffix: str) -> AppError:
    target = f" to {error.location}" if error.location else ""
    return AppError(
        "unexpected-redirect",
        f"The API answered with a redirect{target} (HTTP {error.status}), which sipgate-tui "
        "never follows, so nothing is ever sent twice or to another server." + suffix,
        hint="Check the API address (--api-url or SIPGATE_API_URL); sipgate's is "
        "https://api.sipgate.com/v2. A captive portal (hotel or train Wi-Fi) can also "
        "cause this.",
        status=error.status,
    )
