"""The built-in HTTP server: stdlib ``wsgiref`` with a bounded pool of worker threads.

Where it sits: ``sitetruth-frontend --listen HOST:PORT`` runs the WSGI app
(:mod:`frontend.app`) in this server; production may put nginx in front or
use gunicorn or FastCGI instead (see :mod:`frontend.wsgi`,
:mod:`frontend.fastcgi`).

Each connection carries one request (HTTP/1.0 semantics, as ``wsgiref``
implements them). The accept loop never waits on anyone: it passes each new
connection to the request intake (:mod:`frontend._intake`), one thread that
reads every request head with a selector, under one overall deadline per
connection (``head_timeout``, not per read). Only a complete request goes to
one of ``threads`` pooled workers, so a client that trickles its headers
holds a file descriptor and a small buffer for at most ``head_timeout``
seconds, never a worker. Replies are written under an overall deadline too
(``write_timeout``), so a client that stops reading cannot keep a worker.
When the workers and their queue are full, a new request is answered 503 at
once. Request lines over 64 KiB are answered 414.
"""

from __future__ import annotations

import io
import logging
import socket
import time
from collections.abc import Callable
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from ._intake import MAX_REQUEST_LINE, Intake, simple_response
from ._pool import PoolMixIn
from .errors import FrontendConfigError

__all__ = ["HTTPServer", "parse_listen"]

log = logging.getLogger(__name__)

# Seconds a connection may take, in total, to send its request head (and
# body); and to take the reply.
HEAD_TIMEOUT = 10.0
WRITE_TIMEOUT = 15.0
# Connections whose request is still arriving; past it the oldest is dropped.
MAX_PENDING = 512
# Complete requests that may wait for a worker; past it: 503 at once.
MAX_WAITING = 256
_MAX_REQUEST_LINE = MAX_REQUEST_LINE
_BUSY = simple_response("503 Service Unavailable", "The server is busy; try again shortly.")


def parse_listen(text: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"``, ``"[::1]:8080"``, ``":8080"`` (every interface) -> (host, port)."""
    text = text.strip()
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise FrontendConfigError(f"listen address {text!r} must be HOST:PORT (or [IPv6]:PORT)")
    return host, int(port)


class _Buffered:
    """A connection whose whole request the intake has already read."""

    __slots__ = ("sock", "data")

    def __init__(self, sock: socket.socket, data: bytes) -> None:
        self.sock = sock
        self.data = data


class _DeadlineWriter:
    """``wfile`` for a reply: every write must finish by one deadline, however slowly the client reads."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self._sock = sock
        self._deadline = time.monotonic() + timeout
        self.closed = False

    def write(self, data: bytes) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the client did not take the reply in time")
        self._sock.settimeout(remaining)
        self._sock.sendall(data)  # the timeout bounds the whole sendall (Python >= 3.5)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class _Handler(WSGIRequestHandler):
    def setup(self) -> None:
        # The request was read by the intake: the handler reads it from
        # memory and only writes to the socket.
        buffered: _Buffered = self.request
        self.request = self.connection = buffered.sock
        self.rfile = io.BytesIO(buffered.data)
        self.wfile = _DeadlineWriter(buffered.sock, self.server.write_timeout)  # type: ignore[attr-defined]

    def handle(self) -> None:
        # wsgiref's own handle(), told the truth about threads, logging via logging.
        self.raw_requestline = self.rfile.readline(_MAX_REQUEST_LINE + 1)
        if len(self.raw_requestline) > _MAX_REQUEST_LINE:
            self.requestline = ""
            self.request_version = ""
            self.command = ""
            self.send_error(414, "Request too long: the request line is over 64 KiB")
            return
        if not self.parse_request():
            return
        handler = ServerHandler(self.rfile, self.wfile, _LogWriter(), self.get_environ(),  # type: ignore[arg-type]
                                multithread=True)
        handler.request_handler = self  # type: ignore[attr-defined]  # lets wsgiref log the request line
        handler.run(self.server.get_app())  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        log.debug("%s %s", self.address_string(), format % args)

    def address_string(self) -> str:
        return str(self.client_address[0])


class _LogWriter:
    """``wsgi.errors`` for the built-in server: goes to the log, not to a raw stderr."""

    def write(self, text: str) -> None:
        if text.strip():
            log.error("%s", text.rstrip())

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass


class _PooledServer(PoolMixIn, WSGIServer):
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily, threads: int, *,
                 head_timeout: float, write_timeout: float, max_pending: int, max_waiting: int) -> None:
        self.address_family = family
        self.write_timeout = write_timeout
        self.init_pool(threads, "http", max_waiting=max_waiting)
        # Before binding: socketserver calls server_close() if the bind fails.
        self.intake = Intake(self._dispatch, head_timeout=head_timeout, max_pending=max_pending)
        super().__init__(address, _Handler)

    def process_request(self, request: socket.socket, client_address: object) -> None:
        self.intake.add(request, client_address)  # never blocks the accept loop

    def _dispatch(self, sock: socket.socket, client_address: object, data: bytes) -> None:
        if not self.hand_over(_Buffered(sock, data), client_address):
            log.warning("all %d workers busy and %d requests waiting: answered 503",
                        self._threads, self._max_waiting)
            try:
                sock.settimeout(0)
                sock.send(_BUSY)
            except OSError:
                pass
            sock.close()

    def shutdown_request(self, request: object) -> None:
        super().shutdown_request(request.sock if isinstance(request, _Buffered) else request)

    def server_close(self) -> None:
        super().server_close()
        self.intake.close()
        self.close_pool()


class HTTPServer:
    """Serve ``app`` on ``host:port`` (port 0: any free port; see :attr:`port`)."""

    def __init__(self, app: Callable[..., Any], host: str = "127.0.0.1", port: int = 8080,
                 threads: int = 16, *, head_timeout: float = HEAD_TIMEOUT, write_timeout: float = WRITE_TIMEOUT,
                 max_pending: int = MAX_PENDING, max_waiting: int = MAX_WAITING) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            self._server = _PooledServer((host, port), family, threads, head_timeout=head_timeout,
                                         write_timeout=write_timeout, max_pending=max_pending,
                                         max_waiting=max_waiting)
        except OSError as e:
            raise FrontendConfigError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
        self._server.set_app(app)
        self.host = host
        self.port = int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else (self.host or "0.0.0.0")
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        """Stop ``serve_forever`` (from another thread or a signal handler's helper thread)."""
        self._server.shutdown()

    def close(self) -> None:
        self._server.server_close()
