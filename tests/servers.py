"""Loopback servers that misbehave the way networks do: silence, hang-ups, a full listen queue,
a refused port, a certificate nobody trusts. Real sockets on 127.0.0.1; nothing is patched.

The well-behaved server is the simulator (``sipgate_tui.simulator``); these are its failures.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class SilentServer:
    """Accepts connections and reads, but never answers (read timeouts)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.connections: list[socket.socket] = []
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v2"

    def _run(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections.append(connection)
            connection.settimeout(0.5)
            with contextlib.suppress(OSError):
                self.received += connection.recv(65536)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for connection in self.connections:
            connection.close()
        self.sock.close()


class HangUpServer(SilentServer):
    """Reads the request, then closes the connection without any answer."""

    def _run(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            connection.settimeout(2)
            with contextlib.suppress(OSError):
                self.received += connection.recv(65536)
            connection.close()


class FullBacklog:
    """An address whose listen queue is full, so new connections hang (connect timeouts)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.fillers = []
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(self.sock.getsockname())
            self.fillers.append(filler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v2"

    def __enter__(self) -> FullBacklog:
        return self

    def __exit__(self, *exc: object) -> None:
        for filler in self.fillers:
            filler.close()
        self.sock.close()


def closed_port_url() -> str:
    """A loopback URL on which nothing listens (connection refused)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}/v2"


class UntrustedTlsServer:
    """An HTTPS server with a certificate from a CA the client does not trust."""

    def __init__(self) -> None:
        import trustme

        ca = trustme.CA()
        certificate = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        certificate.configure_cert(context)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}/v2"

    def __enter__(self) -> UntrustedTlsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- proxies, trickling and slow answers, TLS in front of the simulator (issue 13: the HTTP layer)


class _TcpServer:
    """A listening socket on 127.0.0.1 and one thread per connection (``_serve``)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.received = bytearray()  # every byte any client sent (POSTs are counted in it)
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.connections += 1
                self._open.append(connection)
            threading.Thread(target=self._guarded, args=(connection,), daemon=True).start()

    def _guarded(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            self._serve(connection)
        with contextlib.suppress(OSError):
            connection.close()

    def _serve(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def _read_request(self, connection: socket.socket) -> bytes:
        """One HTTP request (head and Content-Length body), recorded in ``received``."""
        connection.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or 0)
        while len(body) < length:
            chunk = connection.recv(65536)
            if not chunk:
                break
            body += chunk
        request = head + b"\r\n\r\n" + body
        with self._lock:
            self.received += request
        return request

    def __enter__(self) -> _TcpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        with self._lock:
            for connection in self._open:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
        self.sock.close()


_PROXY_REASONS = {407: "Proxy Authentication Required", 502: "Bad Gateway", 403: "Forbidden"}


class RecordingProxy(_TcpServer):
    """An HTTP proxy that records what it receives and forwards nothing.

    ``CONNECT`` (how HTTPS goes through a proxy) is answered with ``connect_status`` (502 by
    default; 407 asks for credentials); any other request with 502. A test that must not go
    through a proxy asserts ``received`` stays empty.
    """

    def __init__(self, connect_status: int = 502) -> None:
        super().__init__()
        self.connect_status = connect_status

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self, connection: socket.socket) -> None:
        request = self._read_request(connection)
        status = self.connect_status if request.startswith(b"CONNECT ") else 502
        reason = _PROXY_REASONS.get(status, "Error")
        extra = b'Proxy-Authenticate: Basic realm="proxy"\r\n' if status == 407 else b""
        connection.sendall(
            f"HTTP/1.1 {status} {reason}\r\n".encode()
            + extra
            + b"Content-Length: 0\r\nConnection: close\r\n\r\n"
        )


class TrickleFront(_TcpServer):
    """A relay in front of a real server (the simulator) that answers slowly.

    Requests whose first line contains ``match`` (b"POST ", b"/devices", ...) get the
    upstream's answer ``how``:

    * ``headers``: one byte every ``interval`` s from the first, behind a long padding
      header, so the header phase alone outlasts any deadline;
    * ``body``: the head at once, then the body one byte every ``interval`` s, behind
      padding whitespace (JSON allows it), so the body alone outlasts any deadline;
    * ``slow``: the whole answer after ``interval`` s, then at once (slow, but in time).

    Every other request is relayed at once. ``tls`` (an ssl.SSLContext) makes the front an
    HTTPS server. The upstream's answer is read whole first (``Connection: close``).
    """

    def __init__(
        self,
        upstream: str,
        how: str,
        match: bytes,
        interval: float = 0.1,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__()
        parts = upstream.split("//", 1)[1].split("/", 1)[0]
        host, _, port = parts.rpartition(":")
        self.upstream = (host, int(port))
        self.how, self.match, self.interval, self.tls = how, match, interval, tls

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/v2"

    def _serve(self, connection: socket.socket) -> None:
        if self.tls is not None:
            connection.settimeout(10)
            connection = self.tls.wrap_socket(connection, server_side=True)
        request = self._read_request(connection)
        answer = self._relay(request)
        if self.match not in request.split(b"\r\n", 1)[0]:
            connection.sendall(answer)
            return
        head, _, body = answer.partition(b"\r\n\r\n")
        if self.how == "slow":
            self._stop.wait(self.interval)
            connection.sendall(answer)
        elif self.how == "headers":
            status, _, rest = head.partition(b"\r\n")
            self._trickle(connection, status + b"\r\nX-Slow: " + b"." * 100_000 + b"\r\n" + rest)
        else:  # body: whitespace first (valid JSON), then the body, all one byte at a time
            padded = b" " * 100_000 + body
            head = re.sub(
                rb"(?im)^content-length:.*$", f"Content-Length: {len(padded)}".encode(), head
            )
            connection.sendall(head + b"\r\n\r\n")
            self._trickle(connection, padded)

    def _trickle(self, connection: socket.socket, data: bytes) -> None:
        for index in range(len(data)):
            if self._stop.wait(self.interval):
                return
            connection.sendall(data[index : index + 1])

    def _relay(self, request: bytes) -> bytes:
        request = re.sub(rb"(?im)^connection:.*\r\n", b"", request, count=1)
        head, _, body = request.partition(b"\r\n\r\n")
        with socket.create_connection(self.upstream, timeout=10) as upstream:
            upstream.sendall(head + b"\r\nConnection: close\r\n\r\n" + body)
            answer = b""
            while chunk := upstream.recv(65536):
                answer += chunk
        return re.sub(rb"(?im)^connection:.*\r\n", b"Connection: close\r\n", answer, count=1)


class TlsFront:
    """Certificates for HTTPS in front of the simulator: a CA written to ``ca_file`` (for
    REQUESTS_CA_BUNDLE), and a server context whose certificate names ``names`` and is
    valid until ``not_after`` (None: for a while)."""

    def __init__(self, tmp: Path, *names: str, expired: bool = False) -> None:
        import datetime

        import trustme

        ca = trustme.CA()
        self.ca_file = tmp / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        if expired:
            now = datetime.datetime.now(datetime.timezone.utc)
            leaf = ca.issue_cert(
                *(names or ("127.0.0.1",)),
                not_before=now - datetime.timedelta(days=30),
                not_after=now - datetime.timedelta(days=1),
            )
        else:
            leaf = ca.issue_cert(*(names or ("127.0.0.1", "localhost")))
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        leaf.configure_cert(self.context)
