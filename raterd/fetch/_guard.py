"""The hard deadline: a watchdog that cuts a fetch's sockets when time is up.

Socket timeouts bound each *read*, not the whole exchange: a server that
sends one header byte a second satisfies every per-read timeout for as long
as it likes.  So each request/response exchange runs inside a
:class:`DeadlineGuard`: the urllib3 connection classes below register every
socket they create or reuse with the guard of the current thread, and when
the deadline passes a timer thread shuts those sockets down, which wakes the
blocked ``recv`` at once.  The fetcher then reports ``DeadlineExceeded``.

The guard holds a ``dup`` of each socket so that shutting it down can never
touch a descriptor number that was closed and reused meanwhile, and it is
disarmed before the connection goes back to the pool, so it can never cut a
connection another fetch is using.

The HTTPS connection class also keeps the peer certificate (DER) so the
fetcher can classify it (:mod:`raterd.fetch.tls`).
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["DeadlineGuard", "GuardedHTTPConnectionPool", "GuardedHTTPSConnectionPool"]

_local = threading.local()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or reset: nothing left to interrupt


class DeadlineGuard:
    """Shut down the sockets registered while it is active, ``delay`` seconds from now."""

    def __init__(self, delay: float) -> None:
        self._lock = threading.Lock()
        self._socks: dict[int, socket.socket] = {}
        self._fired = False
        self._done = False
        self._previous: DeadlineGuard | None = None
        self._timer = threading.Timer(max(0.0, delay), self._fire)
        self._timer.daemon = True

    @property
    def fired(self) -> bool:
        return self._fired

    def __enter__(self) -> DeadlineGuard:
        self._previous = getattr(_local, "guard", None)
        _local.guard = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        _local.guard = self._previous
        self.disarm()

    def register(self, sock: socket.socket) -> None:
        try:
            fd = sock.fileno()
        except OSError:
            return
        if fd < 0:
            return
        with self._lock:
            if self._done or id(sock) in self._socks:
                return
            try:
                dup = socket.fromfd(fd, sock.family, sock.type)
            except OSError:
                return
            self._socks[id(sock)] = dup
            if self._fired:
                _shutdown(dup)

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self._fired = True
            for dup in self._socks.values():
                _shutdown(dup)

    def disarm(self) -> bool:
        """Stop the timer and release the sockets; True if it had fired."""
        self._timer.cancel()
        with self._lock:
            self._done = True
            socks, self._socks = list(self._socks.values()), {}
        for dup in socks:
            dup.close()
        return self._fired


def _register(sock: Any) -> None:
    guard = getattr(_local, "guard", None)
    if guard is not None and sock is not None:
        guard.register(sock)


class _GuardedConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _register(sock)  # covers the TLS handshake too: the dup outlives wrap_socket's detach
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _register(self.sock)  # a kept-alive connection taken from the pool
        super().request(*args, **kwargs)


class _GuardedTLSConnection(_GuardedConnection, HTTPSConnection):
    peer_certificate: bytes | None = None
    cert_info: Any = None  # CertInfo, filled in lazily by the fetcher

    def connect(self) -> None:
        self.peer_certificate = None
        self.cert_info = None
        super().connect()
        getpeercert = getattr(self.sock, "getpeercert", None)
        if getpeercert is not None:
            self.peer_certificate = getpeercert(binary_form=True)


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedTLSConnection
