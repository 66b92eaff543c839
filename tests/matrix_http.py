"""Setups for the fault matrix's HTTP rows (issue 13: proxies, deadlines, TLS, slow servers).

Each function returns a ``setup`` for a row: it gets the run's ``Prepared`` and changes the
environment, the API address, or puts a real server in front of the simulator. Checks that
the runner cannot make (a proxy that must have received nothing) are registered on the run's
ExitStack, so a failing one fails the row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from servers import RecordingProxy, SilentServer, TlsFront, TrickleFront, closed_port_url

Setup = Callable[[Any], None]
OFFSITE = "https://api.sipgate.invalid/v2"  # not loopback: proxies apply (and DNS never answers)


def _must_receive_nothing(proxy: RecordingProxy) -> None:
    assert proxy.connections == 0 and bytes(proxy.received) == b"", bytes(proxy.received)[:200]


def loopback_proxy(*variables: str) -> Setup:
    """The simulator (loopback) with a recording proxy in ``variables``: it must get nothing."""

    def setup(run: Any) -> None:
        proxy = run.stack.enter_context(RecordingProxy())
        for variable in variables:
            run.env[variable] = proxy.url
        run.stack.callback(_must_receive_nothing, proxy)

    return setup


def loopback_proxy_value(variable: str, value: str) -> Setup:
    """The simulator (loopback) with ``variable`` set to ``value`` (say, an unusable proxy)."""

    def setup(run: Any) -> None:
        run.env[variable] = value

    return setup


def offsite_proxy(variable: str, status: int = 502, **more: str) -> Setup:
    """A non-loopback https API address through a recording proxy that answers CONNECT with
    ``status``; ``more``: other variables (NO_PROXY, a competing upper-case one)."""

    def setup(run: Any) -> None:
        proxy = run.stack.enter_context(RecordingProxy(status))
        run.env[variable] = proxy.url
        run.env.update(more)
        run.url = OFFSITE

    return setup


def offsite_proxy_value(variable: str, value: str, **more: str) -> Setup:
    """A non-loopback https API address with ``variable`` set to ``value``."""

    def setup(run: Any) -> None:
        run.env[variable] = value.replace("CLOSED", closed_port_url().split("//")[1][:-3])
        run.env.update(more)
        run.url = OFFSITE

    return setup


def trickle(how: str, match: bytes, interval: float = 0.1) -> Setup:
    """A TrickleFront in front of the simulator; its POSTs are the ones counted."""

    def setup(run: Any) -> None:
        front = run.stack.enter_context(TrickleFront(run.url, how, match, interval))
        run.raw_servers.append(front)
        run.url = front.url

    return setup


def tls_never_completes(run: Any) -> None:
    """A server that accepts TCP and never answers, asked for https: the TLS handshake (part
    of connecting) never completes, so nothing can have been sent."""
    server = run.stack.enter_context(SilentServer())
    run.raw_servers.append(server)
    run.url = server.url.replace("http://", "https://")


def https_to_plain_port(run: Any) -> None:
    """https:// to the simulator, which speaks plain HTTP on its port."""
    run.url = run.url.replace("http://", "https://")


def tls_front(*names: str, expired: bool = False, proxy: str | None = None) -> Setup:
    """HTTPS in front of the simulator, its CA trusted through REQUESTS_CA_BUNDLE (so that
    variable must keep working); the certificate names ``names`` or has ``expired``.
    ``proxy``: a variable that points to a recording proxy, which must get nothing."""

    def setup(run: Any) -> None:
        certificates = TlsFront(run.tmp_path, *names, expired=expired)
        front = TrickleFront(run.url, "slow", b"\x00never", tls=certificates.context)
        run.stack.enter_context(front)
        run.env["REQUESTS_CA_BUNDLE"] = str(certificates.ca_file)
        run.url = front.url
        if proxy is not None:
            loopback_proxy(proxy)(run)

    return setup


def tls_trickle(how: str, match: bytes) -> Setup:
    """A trickling front that speaks HTTPS (trusted through REQUESTS_CA_BUNDLE): the deadline
    must cut a TLS connection as it cuts a plain one. Its POSTs are the ones counted."""

    def setup(run: Any) -> None:
        certificates = TlsFront(run.tmp_path)
        front = TrickleFront(run.url, how, match, 0.1, tls=certificates.context)
        run.stack.enter_context(front)
        run.raw_servers.append(front)
        run.env["REQUESTS_CA_BUNDLE"] = str(certificates.ca_file)
        run.url = front.url

    return setup
