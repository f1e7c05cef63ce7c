"""Request intake for the built-in HTTP server: reads request heads without a thread per connection.

Why: a worker thread that waits for a client to finish its request is a
thread a slow client can hold (one header byte every few seconds, for ever
with a per-read timeout). Here one thread with a selector reads every new
connection's request head (and a small body, if any) into memory; only a
complete request is handed to the worker pool, so workers only ever wait on
the application, never on a client.

Bounds:

* each connection has ``head_timeout`` seconds *in total* to send its
  request, however it trickles (408 and closed after that);
* at most ``max_pending`` connections are being read at once; a new one
  beyond that evicts the *oldest* (a normal client sends its head in one
  packet and is gone in milliseconds, so the oldest is the slowest);
* a head over :data:`MAX_HEAD_BYTES` is answered 431, a body over
  :data:`MAX_BODY_BYTES` 413 (the API takes none), a request line over
  64 KiB is handed on so the handler answers 414 as before.

Memory is therefore at most ``max_pending * (MAX_HEAD_BYTES + MAX_BODY_BYTES)``.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

__all__ = ["Intake", "MAX_HEAD_BYTES", "MAX_BODY_BYTES", "MAX_REQUEST_LINE", "simple_response"]

log = logging.getLogger(__name__)

MAX_REQUEST_LINE = 65536
MAX_HEAD_BYTES = 96 * 1024
MAX_BODY_BYTES = 64 * 1024
_READ_CHUNK = 65536


def simple_response(status: str, text: str) -> bytes:
    """A whole HTTP/1.0 reply the intake can send without the application."""
    body = (text + "\n").encode()
    return (f"HTTP/1.0 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


_TIMEOUT = simple_response("408 Request Timeout", "The request took too long to arrive.")
_HEAD_TOO_LARGE = simple_response("431 Request Header Fields Too Large", "The request head is too large.")
_BODY_TOO_LARGE = simple_response("413 Content Too Large", "The request body is too large.")
_BAD_LENGTH = simple_response("400 Bad Request", "Content-Length is not a number.")


class _Pending:
    __slots__ = ("sock", "address", "buf", "deadline", "total")

    def __init__(self, sock: socket.socket, address: Any, deadline: float) -> None:
        self.sock = sock
        self.address = address
        self.buf = bytearray()
        self.deadline = deadline
        self.total: int | None = None  # head + body length, once the head is complete


def _content_length(head: bytes) -> int | None:
    """The Content-Length of a request head (0 if absent); None if it is not a number."""
    for line in head.split(b"\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"content-length":
            value = value.strip()
            return int(value) if value.isdigit() else None
    return 0


class Intake:
    """Collects whole requests on accepted sockets and passes them to *dispatch*.

    ``dispatch(sock, address, data)`` is called in the intake thread with a
    blocking socket and the bytes of the request; it must not block (submit
    to a pool). :meth:`add` is called by the accept loop and never blocks.
    """

    def __init__(self, dispatch: Callable[[socket.socket, Any, bytes], None], *, head_timeout: float,
                 max_pending: int, name: str = "http-intake", clock: Callable[[], float] = time.monotonic) -> None:
        if head_timeout <= 0 or max_pending < 1:
            raise ValueError("head_timeout must be > 0 and max_pending >= 1")
        self._dispatch = dispatch
        self.head_timeout = head_timeout
        self.max_pending = max_pending
        self._clock = clock
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._new: deque[tuple[socket.socket, Any]] = deque()
        self._lock = threading.Lock()
        # Insertion order is arrival order, and every connection gets the same
        # timeout, so the first entry is always the next to expire and the
        # one to evict.
        self._pending: OrderedDict[socket.socket, _Pending] = OrderedDict()
        self._closing = False
        self.evicted = self.timed_out = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def add(self, sock: socket.socket, address: Any) -> None:
        with self._lock:
            if self._closing:
                _close(sock)
                return
            self._new.append((sock, address))
        self._wake()

    def pending(self) -> int:
        return len(self._pending)

    def close(self, timeout: float = 5.0) -> None:
        """Stop reading; connections still sending their request are closed."""
        with self._lock:
            self._closing = True
        self._wake()
        self._thread.join(timeout)

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass  # already awake (buffer full) or closing

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        try:
            while not self._closing:
                self._expire()
                wait = 1.0
                if self._pending:
                    first = next(iter(self._pending.values()))
                    wait = min(wait, max(0.0, first.deadline - self._clock()))
                for key, _ in self._selector.select(wait):
                    if key.fileobj is self._wake_r:
                        self._take_new()
                    else:
                        self._read(key.data)
        except Exception:  # noqa: BLE001 - keep the server answering what it can; log it loudly
            log.exception("HTTP request intake stopped")
        finally:
            for pending in list(self._pending.values()):
                self._drop(pending)
            with self._lock:
                self._closing = True
                leftover = list(self._new)
                self._new.clear()
            for sock, _ in leftover:
                _close(sock)
            self._selector.close()
            self._wake_r.close()
            self._wake_w.close()

    def _take_new(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass
        with self._lock:
            new = list(self._new)
            self._new.clear()
        for sock, address in new:
            while len(self._pending) >= self.max_pending:
                oldest = next(iter(self._pending.values()))
                self.evicted += 1
                log.debug("evicting the slowest request head (from %r): %d connections pending",
                          oldest.address, len(self._pending))
                self._drop(oldest, _TIMEOUT)
            try:
                sock.setblocking(False)
                pending = _Pending(sock, address, self._clock() + self.head_timeout)
                self._selector.register(sock, selectors.EVENT_READ, pending)
            except (OSError, ValueError):
                _close(sock)
                continue
            self._pending[sock] = pending

    def _expire(self) -> None:
        now = self._clock()
        while self._pending:
            first = next(iter(self._pending.values()))
            if first.deadline > now:
                return
            self.timed_out += 1
            log.debug("request head from %r not complete after %.1f s: closed", first.address, self.head_timeout)
            self._drop(first, _TIMEOUT if first.buf else None)

    def _read(self, p: _Pending) -> None:
        try:
            data = p.sock.recv(_READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(p)
            return
        if not data:
            self._drop(p)  # the client went away before finishing its request
            return
        start = max(0, len(p.buf) - 3)
        p.buf += data
        if p.total is None:
            end = _head_end(p.buf, start)
            if end is None:
                if b"\n" not in p.buf and len(p.buf) > MAX_REQUEST_LINE:
                    self._hand_over(p)  # the handler answers 414, as it always did
                elif len(p.buf) > MAX_HEAD_BYTES:
                    self._drop(p, _HEAD_TOO_LARGE)
                return
            if end > MAX_HEAD_BYTES:
                self._drop(p, _HEAD_TOO_LARGE)
                return
            length = _content_length(bytes(p.buf[:end]))
            if length is None:
                self._drop(p, _BAD_LENGTH)
                return
            if length > MAX_BODY_BYTES:
                self._drop(p, _BODY_TOO_LARGE)
                return
            p.total = end + length
        if len(p.buf) >= p.total:
            del p.buf[p.total:]  # HTTP/1.0, one request per connection: nothing after it is read
            self._hand_over(p)

    def _forget(self, p: _Pending) -> None:
        self._pending.pop(p.sock, None)
        try:
            self._selector.unregister(p.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _hand_over(self, p: _Pending) -> None:
        self._forget(p)
        try:
            p.sock.setblocking(True)
            self._dispatch(p.sock, p.address, bytes(p.buf))
        except Exception:  # noqa: BLE001 - one connection's failure must not stop the intake
            log.exception("cannot hand a request from %r to a worker", p.address)
            _close(p.sock)

    def _drop(self, p: _Pending, reply: bytes | None = None) -> None:
        self._forget(p)
        if reply is not None:
            try:
                p.sock.send(reply)  # non-blocking, best effort: a slow client gets what fits
            except OSError:
                pass
        _close(p.sock)


def _head_end(buf: bytearray, start: int) -> int | None:
    """Index just past the blank line that ends the head, searching from *start*."""
    crlf = buf.find(b"\r\n\r\n", start)
    lf = buf.find(b"\n\n", start)
    ends = [i + 4 for i in (crlf,) if i >= 0] + [i + 2 for i in (lf,) if i >= 0]
    return min(ends) if ends else None


def _close(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass
