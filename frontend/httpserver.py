"""The built-in HTTP server: stdlib ``wsgiref`` with a bounded pool of worker threads.

Where it sits: ``sitetruth-frontend --listen HOST:PORT`` runs the WSGI app
(:mod:`frontend.app`) in this server; production may put nginx in front or
use gunicorn or FastCGI instead (see :mod:`frontend.wsgi`,
:mod:`frontend.fastcgi`).

Each connection carries one request (HTTP/1.0 semantics, as ``wsgiref``
implements them) and is handled by one of ``threads`` pooled workers. When
every worker is busy the accept loop waits, so excess connections queue in
the kernel's listen backlog instead of in memory, and a slow or silent
client loses its worker after ``timeout`` seconds. Request lines over 64 KiB
are answered 414 by ``wsgiref`` itself.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from ._pool import PoolMixIn
from .errors import FrontendConfigError

__all__ = ["HTTPServer", "parse_listen"]

log = logging.getLogger(__name__)

# Seconds a connection may take to send its request (and to take the reply).
CONNECTION_TIMEOUT = 15.0
_MAX_REQUEST_LINE = 65536


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


class _Handler(WSGIRequestHandler):
    timeout = CONNECTION_TIMEOUT

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

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily, threads: int) -> None:
        self.address_family = family
        self.init_pool(threads, "http")
        super().__init__(address, _Handler)

    def server_close(self) -> None:
        super().server_close()
        self.close_pool()


class HTTPServer:
    """Serve ``app`` on ``host:port`` (port 0: any free port; see :attr:`port`)."""

    def __init__(self, app: Callable[..., Any], host: str = "127.0.0.1", port: int = 8080,
                 threads: int = 16) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            self._server = _PooledServer((host, port), family, threads)
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
