"""Every failure of the call request: the panel's message and hint, the code and exit code."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import make_context, output_of, recording_console
from servers import FullBacklog, HangUpServer, SilentServer, UntrustedTlsServer, closed_port_url

from sipgate_tui import render
from sipgate_tui.api import (
    KEPT_BODY_CHARS,
    CallRequest,
    HttpStatusError,
    SipgateClient,
    Timeouts,
    is_classic_pbx_refusal,
)
from sipgate_tui.commands.call import CallOptions, run
from sipgate_tui.credentials import Credentials
from sipgate_tui.errors import AppError, ExitCode
from sipgate_tui.problems import TokenRejected, read_problem
from sipgate_tui.simulator import DEFAULT_TOKEN, DEFAULT_TOKEN_ID, SipgateSimulator

CALL = CallOptions(callee="0157 99912345", device="e0", yes=True, timeout=0.4)


def failure(api_url: str, options: CallOptions = CALL, **ctx_args: object) -> AppError:
    with pytest.raises(AppError) as caught:
        run(options, make_context(api_url, **ctx_args))
    return caught.value


def panel_text(error: AppError, width: int = 80) -> str:
    console = recording_console(width)
    console.print(render.problem(error))
    return output_of(console)


STATUS_CASES = [
    # status, body, code, exit code, message fragment, hint fragment
    (
        400,
        {"errors": [{"title": "Bad Request", "detail": "invalid callee"}]},
        "bad-request",
        ExitCode.REFUSED,
        "rejected the call request as invalid",
        "--dry-run",
    ),
    (
        401,
        b"",
        "unauthorized",
        ExitCode.CREDENTIALS,
        "did not accept the token",
        "sipgate-tui login",
    ),
    (402, b"", "insufficient-balance", ExitCode.REFUSED, "balance is too low", "Top up"),
    (
        403,
        "This endpoint requires a sipgate Classic PBX Account",
        "forbidden",
        ExitCode.REFUSED,
        "refused to place this call",
        "sessions:calls:write",
    ),
    (403, b"", "forbidden", ExitCode.REFUSED, "HTTP 403", "device e0 is not yours"),
    (404, b"", "not-found", ExitCode.REFUSED, "API address was not found", "--api-url"),
    (405, b"", "method-not-allowed", ExitCode.REFUSED, "does not accept this request", "--api-url"),
    (415, b"", "unsupported-media-type", ExitCode.REFUSED, "content type", "--debug"),
    (429, b"", "rate-limited", ExitCode.NETWORK, "limiting requests", "Wait 7 s"),
    (500, b"", "server-error", ExitCode.NETWORK, "problem on its side (HTTP 500)", "try again"),
    (
        502,
        "<html><title>502 Bad Gateway</title></html>",
        "server-error",
        ExitCode.NETWORK,
        "HTTP 502",
        "try again",
    ),
    (503, b"", "server-error", ExitCode.NETWORK, "HTTP 503", "If your phone rings anyway"),
    (418, b"", "unexpected-status", ExitCode.REFUSED, "HTTP 418", "--api-url"),
]


@pytest.mark.parametrize(
    ("status", "body", "code", "exit_code", "message", "hint"),
    STATUS_CASES,
    ids=[f"{case[0]}-{case[2]}" for case in STATUS_CASES],
)
def test_every_status_has_its_own_message_hint_and_exit_code(
    simulator: SipgateSimulator,
    status: int,
    body: object,
    code: str,
    exit_code: ExitCode,
    message: str,
    hint: str,
) -> None:
    simulator.respond_with(status, body, headers={"Retry-After": "7"} if status == 429 else None)
    error = failure(simulator.url)
    assert (error.code, error.exit_code, error.status) == (code, exit_code, status)
    assert message in error.message
    assert hint in error.hint
    text = panel_text(error)
    assert message.split()[0] in text and "What to do:" in text
    assert len(simulator.call_requests()) == 1


def test_the_servers_own_words_are_shown_briefly(simulator: SipgateSimulator) -> None:
    simulator.respond_with(403, "This endpoint requires a sipgate Classic PBX Account")
    text = panel_text(failure(simulator.url))
    assert "sipgate said: This endpoint requires a sipgate Classic PBX Account" in text


def test_a_401_with_env_credentials_points_at_the_env_vars(simulator: SipgateSimulator) -> None:
    error = failure(
        simulator.url, env={"SIPGATE_TOKEN_ID": "token-WRONG1", "SIPGATE_TOKEN": "nope"}
    )
    assert error.code == "unauthorized"
    assert "SIPGATE_TOKEN_ID and SIPGATE_TOKEN are in use" in error.hint


def test_the_real_simulator_refuses_a_device_that_is_not_yours(simulator: SipgateSimulator) -> None:
    error = failure(simulator.url, CallOptions(callee="0157 99912345", device="e9", yes=True))
    assert (error.code, error.status) == ("forbidden", 403)
    assert "cannot access extension" in (error.detail or "")


def test_an_empty_balance_is_refused(simulator: SipgateSimulator) -> None:
    simulator.balance_cents = 0
    assert failure(simulator.url).code == "insufficient-balance"


def test_connection_refused() -> None:
    error = failure(closed_port_url())
    assert (error.code, error.exit_code) == ("connection-refused", ExitCode.NETWORK)
    assert "The call was not placed" in error.message


def test_dns_failure() -> None:
    error = failure("https://api.sipgate.invalid/v2")
    assert (error.code, error.exit_code) == ("dns-failure", ExitCode.NETWORK)
    assert "api.sipgate.invalid" in error.message


def test_connect_timeout() -> None:
    with FullBacklog() as server:
        error = failure(server.url)
    assert (error.code, error.exit_code) == ("connect-timeout", ExitCode.NETWORK)
    assert "within 0.4 s" in error.message and "--timeout" in error.hint


def test_tls_failure() -> None:
    with UntrustedTlsServer() as server:
        error = failure(server.url.replace("http://", "https://"))
    assert (error.code, error.exit_code) == ("tls-error", ExitCode.NETWORK)
    assert "certificate verify failed" in error.message
    assert "REQUESTS_CA_BUNDLE" in error.hint


def test_no_answer_after_sending_says_the_call_may_have_been_placed() -> None:
    with SilentServer() as server:
        error = failure(server.url)
    assert (error.code, error.exit_code) == ("no-response", ExitCode.OUTCOME_UNKNOWN)
    assert "did not answer within 0.4 s" in error.message
    assert "may have been placed" in error.hint and "Check your phone" in error.hint


def test_a_broken_connection_after_sending_is_an_unknown_outcome() -> None:
    with HangUpServer() as server:
        error = failure(server.url)
    assert (error.code, error.exit_code) == ("connection-lost", ExitCode.OUTCOME_UNKNOWN)


def test_a_redirect_is_not_followed(simulator: SipgateSimulator) -> None:
    simulator.respond_with(302, b"", headers={"Location": "https://login.example.net/portal"})
    error = failure(simulator.url)
    assert (error.code, error.exit_code) == ("unexpected-redirect", ExitCode.NETWORK)
    assert "https://login.example.net/portal" in error.message
    assert "captive portal" in error.hint


@pytest.mark.parametrize("width", [40, 60, 100])
def test_panels_never_exceed_the_terminal_width(simulator: SipgateSimulator, width: int) -> None:
    simulator.respond_with(403, "x" * 500)
    text = panel_text(failure(simulator.url), width=width)
    assert max(len(line) for line in text.splitlines()) <= width


def test_server_text_cannot_inject_rich_markup(simulator: SipgateSimulator) -> None:
    simulator.respond_with(400, "[red]not markup[/red] [link=http://evil]x[/link]")
    text = panel_text(failure(simulator.url))
    assert "[red]not markup[/red]" in text


def test_a_rejected_token_is_its_own_type_for_the_call_and_for_reads(
    simulator: SipgateSimulator,
) -> None:
    simulator.respond_with(401, b"")
    assert isinstance(failure(simulator.url), TokenRejected)
    with pytest.raises(HttpStatusError) as caught:
        _client(simulator).get_json("/authorization/userinfo")
    problem = read_problem(
        caught.value,
        what="check the token",
        scope=None,
        connect_timeout=1,
        read_timeout=1,
        credentials_source=None,
    )
    assert isinstance(problem, TokenRejected)
    assert (problem.code, problem.exit_code) == ("unauthorized", ExitCode.CREDENTIALS)


# -- recognising what sipgate says: the Classic-PBX refusal of a Neo account -----------------

CLASSIC_ONLY = "This endpoint requires a sipgate Classic PBX Account"


def _client(simulator: SipgateSimulator) -> SipgateClient:
    credentials = Credentials(DEFAULT_TOKEN_ID, DEFAULT_TOKEN)
    return SipgateClient(simulator.url, credentials, timeouts=Timeouts(1, 1))


Body = bytes | str | dict[str, Any]


def _refusal(simulator: SipgateSimulator, status: int, body: Body) -> HttpStatusError:
    simulator.respond_with(status, body, path="/groups")
    with pytest.raises(HttpStatusError) as caught:
        _client(simulator).get_json("/groups")
    return caught.value


@pytest.mark.parametrize(
    "body",
    [
        CLASSIC_ONLY,  # what sipgate sends: plain text
        CLASSIC_ONLY + ".\n",
        "  this endpoint   requires a SIPGATE classic-pbx account ",
        {"message": CLASSIC_ONLY},
        {"errors": [{"title": "Forbidden", "detail": CLASSIC_ONLY}]},
        '"This endpoint requires a sipgate Classic PBX Account"',  # a JSON string
        '{"message": "This endpoint requires a sipgate Classic PBX \\u0041ccount"}',
    ],
    ids=["plain", "trailing", "case-and-spaces", "json", "json-errors", "json-string", "escaped"],
)
def test_the_classic_pbx_refusal_is_recognised_on_the_raw_body(
    simulator: SipgateSimulator, body: Body
) -> None:
    assert is_classic_pbx_refusal(_refusal(simulator, 403, body))


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, b""),
        (403, {"errors": [{"title": "Forbidden", "detail": "missing scope groups:read"}]}),
        (403, "This endpoint requires a sipgate Classic PBX Accountant"),
        (401, CLASSIC_ONLY),  # anything but 403 tells nothing (sipgate-api.md)
        (500, CLASSIC_ONLY),
    ],
    ids=["empty", "scope", "other-word", "401", "500"],
)
def test_other_refusals_are_not_taken_for_it(
    simulator: SipgateSimulator, status: int, body: Body
) -> None:
    assert not is_classic_pbx_refusal(_refusal(simulator, status, body))


def test_the_call_request_keeps_the_body_for_the_predicate_too(
    simulator: SipgateSimulator,
) -> None:
    simulator.respond_with(403, CLASSIC_ONLY)
    with pytest.raises(HttpStatusError) as caught:
        _client(simulator).place_call(CallRequest(caller="e0", callee="+4915799912345"))
    assert is_classic_pbx_refusal(caught.value)


def test_the_kept_body_is_bounded_and_never_holds_the_token(
    simulator: SipgateSimulator,
) -> None:
    error = _refusal(simulator, 403, f"you sent {DEFAULT_TOKEN}; " + "x" * (3 * KEPT_BODY_CHARS))
    assert len(error.body) == KEPT_BODY_CHARS
    assert DEFAULT_TOKEN not in error.body and error.body.startswith("you sent ••••; ")
