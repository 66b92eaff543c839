"""The HTTP client against a real server on 127.0.0.1: what is sent, and how failures are typed."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from helpers import TOKEN, TOKEN_ID
from servers import FullBacklog, HangUpServer, SilentServer, UntrustedTlsServer, closed_port_url

from sipgate_tui import __version__
from sipgate_tui.api import (
    CallRequest,
    HttpStatusError,
    NetworkError,
    OutcomeUnknownError,
    SipgateClient,
    Timeouts,
    UnexpectedRedirectError,
)
from sipgate_tui.credentials import Credentials
from sipgate_tui.simulator import SipgateSimulator

CREDENTIALS = Credentials(TOKEN_ID, TOKEN)
CALL = CallRequest(caller="e0", callee="+4915799912345")
FAST = Timeouts(connect=0.5, read=0.5)


def client_for(
    url: str, credentials: Credentials = CREDENTIALS, timeouts: Timeouts = FAST
) -> SipgateClient:
    return SipgateClient(url, credentials, timeouts=timeouts)


def test_the_call_request_is_exactly_what_the_api_wants(simulator: SipgateSimulator) -> None:
    session_id = client_for(simulator.url).place_call(CALL)

    [request] = simulator.requests
    assert (request.method, request.path) == ("POST", "/sessions/calls")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"] == f"sipgate-tui/{__version__}"
    expected_auth = base64.b64encode(f"{TOKEN_ID}:{TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected_auth}"
    assert request.json == {"caller": "e0", "callee": "+4915799912345"}
    assert simulator.sessions[0]["sessionId"] == session_id


def test_optional_fields_are_sent_only_when_set(simulator: SipgateSimulator) -> None:
    client_for(simulator.url).place_call(
        CallRequest(
            caller="+492115550001",
            callee="+4915799912345",
            device_id="e0",
            caller_id="+492115550002",
        )
    )
    client_for(simulator.url).place_call(CallRequest(caller="e0", callee="+4915799912345"))
    first, second = (r.json for r in simulator.requests)
    assert first == {
        "caller": "+492115550001",
        "callee": "+4915799912345",
        "deviceId": "e0",
        "callerId": "+492115550002",
    }
    assert second == {"caller": "e0", "callee": "+4915799912345"}
    assert None not in second.values() and "" not in second.values()


@pytest.mark.parametrize(
    ("status", "body", "content_type", "detail"),
    [
        (
            400,
            {"errors": [{"title": "Bad Request", "detail": "invalid callee"}]},
            "application/json",
            "Bad Request: invalid callee",
        ),
        (
            403,
            "This endpoint requires a sipgate Classic PBX Account",
            "text/plain",
            "This endpoint requires a sipgate Classic PBX Account",
        ),
        (403, b"", "text/plain", None),
        (
            502,
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            "text/html",
            "502 Bad Gateway",
        ),
        (500, {"message": "boom"}, "application/json", "boom"),
        (
            400,
            "\x1b[31mred\x1b[0m [bold]markup[/bold]\nsecond line",
            "text/plain",
            "red [bold]markup[/bold] second line",
        ),
    ],
)
def test_error_bodies_are_parsed_defensively(
    simulator: SipgateSimulator, status: int, body: object, content_type: str, detail: str | None
) -> None:
    simulator.respond_with(status, body, headers={"Content-Type": content_type})
    with pytest.raises(HttpStatusError) as caught:
        client_for(simulator.url).place_call(CALL)
    assert caught.value.status == status
    assert caught.value.detail == detail


def test_a_server_echoing_the_token_never_gets_it_into_the_error(
    simulator: SipgateSimulator,
) -> None:
    basic = base64.b64encode(f"{TOKEN_ID}:{TOKEN}".encode()).decode()
    simulator.respond_with(400, f"you sent {TOKEN} as Basic {basic}; " + "x" * 400)
    with pytest.raises(HttpStatusError) as caught:
        client_for(simulator.url).place_call(CALL)
    assert TOKEN not in caught.value.detail and basic not in caught.value.detail
    assert TOKEN[:8] not in caught.value.detail  # not even a truncated piece
    assert "you sent ••••" in caught.value.detail


def test_retry_after_is_read_from_a_429(simulator: SipgateSimulator) -> None:
    simulator.respond_with(429, b"", headers={"Retry-After": "30"})
    with pytest.raises(HttpStatusError) as caught:
        client_for(simulator.url).place_call(CALL)
    assert (caught.value.status, caught.value.retry_after) == (429, 30)


def test_the_post_is_never_retried_or_redirected(simulator: SipgateSimulator) -> None:
    with SipgateSimulator() as elsewhere:
        simulator.respond_with(307, b"", headers={"Location": elsewhere.url + "/sessions/calls"})
        with pytest.raises(UnexpectedRedirectError) as caught:
            client_for(simulator.url).place_call(CALL)
        assert caught.value.location == elsewhere.url + "/sessions/calls"
        assert elsewhere.requests == []
    assert len(simulator.call_requests()) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"sessionId": ""}',
        b'{"sessionId": null}',
        b'{"other": 1}',
        b'{"sessionId": ["a"]}',
        b"\xff\xfe",
    ],
)
def test_a_200_without_a_usable_session_id_is_an_unknown_outcome(
    simulator: SipgateSimulator, body: bytes
) -> None:
    simulator.respond_with(200, body, headers={"Content-Type": "application/json"})
    with pytest.raises(OutcomeUnknownError) as caught:
        client_for(simulator.url).place_call(CALL)
    assert caught.value.kind == "unreadable-response"
    assert len(simulator.call_requests()) == 1


def test_a_numeric_session_id_and_extra_fields_are_accepted(simulator: SipgateSimulator) -> None:
    simulator.respond_with(200, {"sessionId": 12345, "extra": True})
    assert client_for(simulator.url).place_call(CALL) == "12345"


def test_a_huge_body_is_not_read_into_memory(simulator: SipgateSimulator) -> None:
    simulator.respond_with(200, b"x" * (10 * 1024 * 1024))
    with pytest.raises(OutcomeUnknownError) as caught:
        client_for(simulator.url).place_call(CALL)
    assert "larger than 1 MiB" in caught.value.detail
    assert len(simulator.call_requests()) == 1


def test_connection_refused_means_nothing_was_sent() -> None:
    with pytest.raises(NetworkError) as caught:
        client_for(closed_port_url()).place_call(CALL)
    assert caught.value.kind == "refused"


def test_a_name_that_does_not_resolve_is_a_dns_failure() -> None:
    with pytest.raises(NetworkError) as caught:
        client_for("https://api.sipgate.invalid/v2").place_call(CALL)
    assert caught.value.kind == "dns"
    assert caught.value.host == "api.sipgate.invalid"


def test_a_connect_timeout_means_nothing_was_sent() -> None:
    with FullBacklog() as server, pytest.raises(NetworkError) as caught:
        client_for(server.url, timeouts=Timeouts(connect=0.3, read=5)).place_call(CALL)
    assert caught.value.kind == "connect-timeout"


def test_no_answer_after_sending_means_the_call_may_have_been_placed() -> None:
    with SilentServer() as server, pytest.raises(OutcomeUnknownError) as caught:
        client_for(server.url, timeouts=Timeouts(connect=1, read=0.3)).place_call(CALL)
    assert caught.value.kind == "read-timeout"
    assert b"POST /v2/sessions/calls" in server.received


def test_a_connection_closed_after_sending_is_an_unknown_outcome_and_not_retried() -> None:
    with HangUpServer() as server, pytest.raises(OutcomeUnknownError) as caught:
        client_for(server.url).place_call(CALL)
    assert caught.value.kind == "connection-lost"
    assert server.received.count(b"POST /v2/sessions/calls") == 1


def test_an_untrusted_certificate_is_a_tls_error() -> None:
    with UntrustedTlsServer() as server, pytest.raises(NetworkError) as caught:
        client_for(server.url).place_call(CALL)
    assert caught.value.kind == "tls"
    assert "certificate verify failed" in caught.value.detail


def test_the_debug_log_redacts_the_token(
    simulator: SipgateSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    basic = base64.b64encode(f"{TOKEN_ID}:{TOKEN}".encode()).decode()
    simulator.respond_with(400, json.dumps({"message": f"echo {TOKEN} {basic}"}))
    with caplog.at_level(logging.DEBUG, logger="sipgate_tui"), pytest.raises(HttpStatusError):
        client_for(simulator.url).place_call(CALL)
    assert "> POST " in caplog.text and "< HTTP 400" in caplog.text
    assert "Authorization: Basic ••••" in caplog.text
    assert TOKEN not in caplog.text and basic not in caplog.text


# -- reads: one polite retry -------------------------------------------------------------------


def recording_client(url: str) -> tuple[SipgateClient, list[float]]:
    waits: list[float] = []
    return SipgateClient(url, CREDENTIALS, timeouts=FAST, sleep=waits.append), waits


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_a_busy_or_failing_read_is_retried_once(simulator: SipgateSimulator, status: int) -> None:
    simulator.respond_with(status, b"", path="/authorization/userinfo", times=1)
    client, waits = recording_client(simulator.url)
    assert client.userinfo().user_id == "w0"
    assert waits == [1.0]
    assert [r.path for r in simulator.requests] == ["/authorization/userinfo"] * 2


def test_the_retry_honours_retry_after(simulator: SipgateSimulator) -> None:
    simulator.respond_with(429, b"", headers={"Retry-After": "3"}, path="/numbers", times=1)
    client, waits = recording_client(simulator.url)
    client.get_json("/numbers")
    assert waits == [3.0]


def test_a_long_retry_after_is_not_sat_through(simulator: SipgateSimulator) -> None:
    simulator.respond_with(429, b"", headers={"Retry-After": "60"}, path="/numbers")
    client, waits = recording_client(simulator.url)
    with pytest.raises(HttpStatusError) as caught:
        client.get_json("/numbers")
    assert (caught.value.retry_after, waits, len(simulator.requests)) == (60, [], 1)


def test_at_most_one_retry(simulator: SipgateSimulator) -> None:
    simulator.respond_with(503, b"", path="/numbers")
    client, waits = recording_client(simulator.url)
    with pytest.raises(HttpStatusError):
        client.get_json("/numbers")
    assert len(simulator.requests) == 2 and waits == [1.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_refusals_are_not_retried(simulator: SipgateSimulator, status: int) -> None:
    simulator.respond_with(status, b"", path="/numbers")
    client, waits = recording_client(simulator.url)
    with pytest.raises(HttpStatusError):
        client.get_json("/numbers")
    assert len(simulator.requests) == 1 and waits == []


@pytest.mark.parametrize("status", [429, 503])
def test_the_call_request_is_never_retried(simulator: SipgateSimulator, status: int) -> None:
    simulator.respond_with(status, b"", headers={"Retry-After": "0"}, path="/sessions/calls")
    client, waits = recording_client(simulator.url)
    with pytest.raises(HttpStatusError):
        client.place_call(CALL)
    assert len(simulator.call_requests()) == 1 and waits == []


def test_a_redirected_read_does_not_carry_the_token_anywhere(simulator: SipgateSimulator) -> None:
    with SipgateSimulator() as elsewhere:
        simulator.respond_with(302, b"", headers={"Location": elsewhere.url + "/numbers"})
        with pytest.raises(UnexpectedRedirectError):
            client_for(simulator.url).get_json("/numbers")
        assert elsewhere.requests == []


def test_no_answer_to_a_read_is_a_read_timeout() -> None:
    with SilentServer() as server, pytest.raises(NetworkError) as caught:
        client_for(server.url, timeouts=Timeouts(connect=1, read=0.3)).get_json("/numbers")
    assert caught.value.kind == "read-timeout"


@pytest.mark.parametrize(
    "netrc",
    [
        "default login token-EVIL01 password stolen-password\n",
        "machine 127.0.0.1 login token-EVIL01 password stolen-password\n",
        "machine localhost login token-EVIL01 password stolen-password\n"
        "default login token-EVIL01 password stolen-password\n",
    ],
)
def test_a_netrc_never_replaces_the_token(
    simulator: SipgateSimulator, tmp_path, monkeypatch: pytest.MonkeyPatch, netrc: str
) -> None:
    # requests reads ~/.netrc (or $NETRC) for requests without auth=: a real file, not a mock.
    (tmp_path / ".netrc").write_text(netrc)
    (tmp_path / ".netrc").chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    client = client_for(simulator.url)
    client.userinfo()
    client.place_call(CALL)
    expected = "Basic " + base64.b64encode(f"{TOKEN_ID}:{TOKEN}".encode()).decode()
    assert [r.headers["authorization"] for r in simulator.requests] == [expected, expected]
