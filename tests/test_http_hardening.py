"""Issue 13, the HTTP layer: proxies (item 5), each request's deadline (item 8), and the words
for network failures (item 20). Real servers on 127.0.0.1 (tests/servers.py): a recording
proxy, a relay that trickles the simulator's answers, TLS in front of it. The proxy variables
are set in the real environment (requests reads os.environ), nothing is patched.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from helpers import TOKEN, TOKEN_ID, flat
from hypothesis import given
from hypothesis import strategies as st
from servers import FullBacklog, RecordingProxy, SilentServer, TlsFront, TrickleFront

from sipgate_tui.api import (
    TLS_REASONS,
    ApiError,
    CallRequest,
    NetworkError,
    OutcomeUnknownError,
    ProxyInUse,
    SipgateClient,
    Timeouts,
    proxy_in_use,
)
from sipgate_tui.commands.common import timeouts_from_option
from sipgate_tui.credentials import Credentials
from sipgate_tui.errors import AppError
from sipgate_tui.exit_codes import ExitCode
from sipgate_tui.problems import TLS_HINTS, call_problem, read_problem
from sipgate_tui.simulator import SipgateSimulator

CREDENTIALS = Credentials(TOKEN_ID, TOKEN)
CALL = CallRequest(caller="e0", callee="+4915799912345")
PROXY_VARIABLES = (
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
)
OFFSITE = "https://api.sipgate.invalid/v2"


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test without proxy variables (the machine's own must not leak in)."""
    for name in (*PROXY_VARIABLES, "no_proxy", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    with RecordingProxy() as server:
        yield server


def client(url: str, seconds: float = 1.0) -> SipgateClient:
    return SipgateClient(url, CREDENTIALS, timeouts=Timeouts.both(seconds))


def as_call_problem(error: ApiError) -> AppError:
    return call_problem(
        error, device="e0", connect_timeout=1, read_timeout=1, credentials_source="env"
    )


def as_read_problem(error: ApiError, what: str = "list your phones") -> AppError:
    return read_problem(
        error, what=what, scope=None, connect_timeout=1, read_timeout=1, credentials_source="env"
    )


# -- item 5: loopback never goes through a proxy ----------------------------------------------


def test_the_recording_proxy_would_get_a_plain_requests_call(
    simulator: SipgateSimulator, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The control: requests on its own sends a loopback request (and the token) to the proxy.
    monkeypatch.setenv("http_proxy", proxy.url)
    answer = requests.get(simulator.url + "/authorization/userinfo", auth=(TOKEN_ID, TOKEN))
    assert answer.status_code == 502
    assert b"GET http://127.0.0.1" in proxy.received and b"Authorization: Basic" in proxy.received


@pytest.mark.parametrize("variable", PROXY_VARIABLES)
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_goes_direct_whatever_proxy_is_set(
    variable: str,
    host: str,
    simulator: SipgateSimulator,
    proxy: RecordingProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(variable, proxy.url)
    url = simulator.url.replace("127.0.0.1", host)
    # requests' environment merging still picks the proxy for this URL...
    merged = requests.Session().merge_environment_settings(url, {}, None, None, None)
    if variable.lower() != "https_proxy":
        assert merged["proxies"], merged
    sipgate = client(url)
    assert sipgate.userinfo().user_id == "w0"
    assert sipgate.place_call(CALL)
    # ...but our adapter drops it: the proxy got nothing, the simulator got both requests.
    assert proxy.connections == 0 and bytes(proxy.received) == b""
    assert [r.path for r in simulator.requests] == ["/authorization/userinfo", "/sessions/calls"]


def test_the_proxy_rule_matches_urllib() -> None:
    environ = {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"}
    found = proxy_in_use(OFFSITE, environ)
    assert found is not None and (found.variable, found.address) == ("https_proxy", "lower:2")
    # an empty lower-case variable switches the upper-case one off; ALL_PROXY is the fallback
    found = proxy_in_use(
        OFFSITE, {"HTTPS_PROXY": "http://u:1", "https_proxy": "", "ALL_PROXY": "p:3"}
    )
    assert found is not None and (found.variable, found.address) == ("ALL_PROXY", "p:3")
    assert proxy_in_use(OFFSITE, {"HTTP_PROXY": "http://p:1"}) is None  # not for https
    assert proxy_in_use("http://127.0.0.1:9/v2", {"http_proxy": "http://p:1"}) is None
    assert proxy_in_use("http://[::1]:9/v2", {"ALL_PROXY": "http://p:1"}) is None


LOOPBACK_HOSTS = st.one_of(
    st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)).map(
        lambda parts: "127.{}.{}.{}".format(*parts)
    ),
    st.sampled_from(["localhost", "LOCALHOST", "[::1]", "[0:0:0:0:0:0:0:1]"]),
)


@given(
    host=LOOPBACK_HOSTS,
    scheme=st.sampled_from(["http", "https"]),
    variables=st.sets(st.sampled_from(PROXY_VARIABLES), min_size=1),
)
def test_property_no_proxy_variable_ever_applies_to_loopback(
    host: str, scheme: str, variables: set[str]
) -> None:
    environ = {name: "http://proxy.example:3128" for name in variables}
    assert proxy_in_use(f"{scheme}://{host}:8080/v2", environ) is None


SECRET = st.text(alphabet="abcdefghijklmnopqrstuvwxyzXYZ0123456789", min_size=8, max_size=20)


@given(password=SECRET, scheme=st.sampled_from(["http", "https", "socks5", "socks5h", "ftp"]))
def test_property_a_proxy_password_never_reaches_the_words(password: str, scheme: str) -> None:
    proxy = ProxyInUse("HTTPS_PROXY", f"{scheme}://user:{password}@proxy.example:3128")
    assert proxy.address == "proxy.example:3128"
    why = proxy.problem() or "answered"
    for kind in ("proxy", "proxy-setting"):
        problem = as_call_problem(proxy.error(kind, "api.sipgate.com", why, reason="auth"))
        assert password not in problem.message + (problem.hint or "") + (problem.detail or "")


def test_no_proxy_exempts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "api.sipgate.invalid")
    assert proxy_in_use(OFFSITE, {"HTTPS_PROXY": "http://p:1"}) is None


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("socks5://127.0.0.1:1080", "needs PySocks"),
        ("socks5h://user:secret@127.0.0.1:1080", "needs PySocks"),
        ("http://:3128", "names no host"),
        ("http://proxy.example:port", "cannot be parsed"),
        ("ftp://proxy.example:21", "no proxy scheme"),
    ],
)
def test_an_unusable_proxy_setting_sends_nothing(
    value: str, says: str, simulator: SipgateSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", value)
    with pytest.raises(NetworkError) as caught:
        client(OFFSITE).place_call(CALL)
    error = caught.value
    assert (error.kind, error.variable) == ("proxy-setting", "HTTPS_PROXY")
    assert says in (error.detail or "")
    problem = as_call_problem(error)
    assert problem.exit_code == ExitCode.USAGE
    assert "nothing was sent. The call was not placed." in problem.message
    assert "HTTPS_PROXY" in problem.message and "Fix HTTPS_PROXY" in (problem.hint or "")
    assert "secret" not in problem.message + (problem.hint or "")


def test_a_usable_proxy_setting_is_no_problem() -> None:
    assert ProxyInUse("HTTPS_PROXY", "proxy.example:3128").problem() is None
    assert ProxyInUse("HTTPS_PROXY", "https://user:pw@proxy.example:3128").address == (
        "proxy.example:3128"
    )


@pytest.mark.parametrize(("status", "reason"), [(502, "status"), (407, "auth"), (403, "status")])
def test_the_proxys_own_answer_is_named_as_the_proxys(
    status: int, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with RecordingProxy(status) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url.replace("http://", "http://me:secret@"))
        with pytest.raises(NetworkError) as caught:
            client(OFFSITE).place_call(CALL)
        assert proxy.received.startswith(b"CONNECT api.sipgate.invalid:443 ")
        port = proxy.port
    error = caught.value
    assert (error.kind, error.reason, error.variable) == ("proxy", reason, "HTTPS_PROXY")
    problem = as_call_problem(error)
    assert (problem.code, problem.exit_code) == ("proxy-error", ExitCode.NETWORK)
    assert problem.message.startswith(f"The proxy at 127.0.0.1:{port} (set by HTTPS_PROXY)")
    assert f'answered "{status} ' in problem.message
    assert problem.message.endswith("nothing reached sipgate. The call was not placed.")
    assert problem.detail is None  # never shown as "sipgate said"
    assert "secret" not in problem.message + (problem.hint or "")
    if status == 407:
        assert "wants a user name and password" in (problem.hint or "")
    else:
        assert "the proxy's answer, not sipgate's" in (problem.hint or "")


def test_a_proxy_that_is_down_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    with pytest.raises(NetworkError) as caught:
        client(OFFSITE).userinfo()
    problem = as_read_problem(caught.value)
    assert "The proxy at 127.0.0.1:9 (set by ALL_PROXY) refused the connection" in problem.message


def test_tls_settings_still_work_for_https(
    tmp_path: Path,
    simulator: SipgateSimulator,
    proxy: RecordingProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    certificates = TlsFront(tmp_path)
    with TrickleFront(simulator.url, "slow", b"\x00never", tls=certificates.context) as front:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificates.ca_file))
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        assert client(front.url).userinfo().user_id == "w0"
    assert bytes(proxy.received) == b""


# -- item 8: one deadline for each whole request ----------------------------------------------


def test_timeout_sets_the_whole_requests_deadline() -> None:
    assert timeouts_from_option(3).deadline == 3
    assert timeouts_from_option(None).deadline == 20  # 5 s to connect + 15 s per wait
    assert Timeouts(connect=1, read=2).deadline == 3


@pytest.mark.parametrize("how", ["headers", "body"])
def test_a_trickled_answer_to_the_call_request_ends_at_the_deadline(
    how: str, simulator: SipgateSimulator
) -> None:
    with TrickleFront(simulator.url, how, b"POST ", interval=0.05) as front:
        started = time.monotonic()
        with pytest.raises(OutcomeUnknownError) as caught:
            client(front.url, 1.0).place_call(CALL)
        took = time.monotonic() - started
        assert front.received.count(b"POST ") == 1  # once, never again
    assert took < 5  # one second, plus a loaded machine's slack; not for ever
    assert (caught.value.kind, caught.value.seconds) == ("read-timeout", 1.0)
    problem = as_call_problem(caught.value)
    assert problem.exit_code == ExitCode.OUTCOME_UNKNOWN
    assert "sipgate did not answer within 1 s" in problem.message


@pytest.mark.parametrize("how", ["headers", "body"])
def test_a_trickled_answer_to_a_read_is_slow(how: str, simulator: SipgateSimulator) -> None:
    front = TrickleFront(simulator.url, how, b"/userinfo", interval=0.05)
    with front, pytest.raises(NetworkError) as caught:
        client(front.url, 1.0).userinfo()
    assert caught.value.kind == "read-timeout" and caught.value.slow
    problem = as_read_problem(caught.value)
    assert problem.exit_code == ExitCode.NETWORK
    assert "is slow: it did not answer within 1 s" in problem.message


def test_slow_but_within_the_deadline_succeeds(simulator: SipgateSimulator) -> None:
    with TrickleFront(simulator.url, "slow", b"POST ", interval=0.5) as front:
        assert client(front.url, 5.0).place_call(CALL)
        assert front.received.count(b"POST ") == 1


def test_a_tls_handshake_that_never_completes_placed_nothing() -> None:
    with SilentServer() as server:
        with pytest.raises(NetworkError) as caught:
            client(server.url.replace("http://", "https://"), 1.0).place_call(CALL)
        assert b"POST" not in server.received
    assert caught.value.kind == "connect-timeout"
    problem = as_call_problem(caught.value)
    assert problem.exit_code == ExitCode.NETWORK
    assert "The call was not placed" in problem.message


def test_a_connect_that_never_completes_placed_nothing() -> None:
    with FullBacklog() as server, pytest.raises(NetworkError) as caught:
        client(server.url, 0.5).place_call(CALL)
    assert caught.value.kind == "connect-timeout"
    assert "The call was not placed" in as_call_problem(caught.value).message


def test_a_pooled_connection_survives_the_deadline_of_the_request_before(
    simulator: SipgateSimulator,
) -> None:
    # One client, several requests on one kept-alive connection: each gets its own deadline,
    # and a finished one never cuts the next.
    sipgate = client(simulator.url, 2.0)
    for _ in range(5):
        assert sipgate.userinfo().user_id == "w0"


# -- item 20: words that fit ------------------------------------------------------------------


def test_each_tls_diagnosis_has_its_own_advice() -> None:
    hints = {}
    for reason in TLS_REASONS:
        problem = as_read_problem(NetworkError("tls", "h:1", "x", reason=reason))
        hints[reason] = problem.hint or ""
    assert len(set(hints.values())) == len(TLS_REASONS)
    assert "proxy" not in hints["not-tls"] and "scheme and the port" in hints["not-tls"]
    assert "REQUESTS_CA_BUNDLE" in hints["untrusted"]
    assert "date and time" in hints["expired"] and "another name" in hints["hostname"]
    assert set(TLS_HINTS) == set(TLS_REASONS)


def test_https_to_a_plain_http_port_is_diagnosed_as_such(simulator: SipgateSimulator) -> None:
    with pytest.raises(NetworkError) as caught:
        client(simulator.url.replace("http://", "https://")).userinfo()
    assert caught.value.reason == "not-tls"
    problem = as_read_problem(caught.value)
    assert "does not speak TLS on this port" in problem.message
    assert "company proxy" not in (problem.hint or "")


@pytest.mark.parametrize(
    ("names", "expired", "reason"),
    [(("sipgate.example",), False, "hostname"), ((), True, "expired")],
)
def test_certificate_problems_are_told_apart(
    names: tuple[str, ...],
    expired: bool,
    reason: str,
    tmp_path: Path,
    simulator: SipgateSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    certificates = TlsFront(tmp_path, *names, expired=expired)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificates.ca_file))
    front = TrickleFront(simulator.url, "slow", b"\x00", tls=certificates.context)
    with front, pytest.raises(NetworkError) as caught:
        client(front.url).userinfo()
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    "what",
    [
        "check the token",
        "list your phones",
        "list your numbers",
        "list the active calls",
        "read the history",
        "read the calls of your channels",
        "hang up calls",
    ],
)
def test_a_slow_server_is_slow_in_the_same_words_for_every_read(what: str) -> None:
    for error in (
        NetworkError("read-timeout", "api.sipgate.com"),
        NetworkError("read-timeout", "api.sipgate.com", seconds=1.0),
    ):
        problem = as_read_problem(error, what)
        assert problem.message == "sipgate (api.sipgate.com) is slow: it did not answer within 1 s."
        assert "reach" not in problem.message + (problem.hint or "")


def test_timeout_help_says_it_bounds_the_whole_request(console_script: str) -> None:
    for command in ("call", "devices", "status"):
        result = subprocess.run(
            [console_script, command, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "TERM": "dumb"},
        )
        assert "Seconds each whole request may take" in flat(result.stdout), result.stdout
