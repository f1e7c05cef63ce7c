"""A bounded worker pool for ``socketserver`` servers (the HTTP and FastCGI servers share it).

``process_request`` hands each accepted connection to one of ``threads``
pooled threads. When all are busy, the accept loop waits for one to come
free, so a burst of connections waits in the kernel's listen backlog rather
than as an unbounded queue of Python objects, and thread count never grows
with load (``socketserver.ThreadingMixIn`` starts a thread per connection).

:meth:`PoolMixIn.hand_over` is the non-blocking door for a caller that must
never wait (the HTTP server's request intake): it queues at most
``max_waiting`` connections beyond the busy workers and says no past that,
so the caller can answer "busy" at once instead of holding the connection.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["PoolMixIn"]

log = logging.getLogger(__name__)


class PoolMixIn:
    """Mix in before a ``socketserver`` server class; call ``init_pool`` before its ``__init__``."""

    request_queue_size = 1024

    def init_pool(self, threads: int, name: str, max_waiting: int = 0) -> None:
        self._slots = threading.BoundedSemaphore(threads)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix=name)
        self._threads = threads
        self._max_waiting = max_waiting
        self._in_flight = 0
        self._flight_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        self._slots.acquire()
        try:
            self._pool.submit(self._work, request, client_address)
        except RuntimeError:  # the pool was shut down while we were accepting
            self._slots.release()
            self.shutdown_request(request)  # type: ignore[attr-defined]

    def hand_over(self, request: Any, client_address: Any) -> bool:
        """Queue *request* for a worker without waiting; False if the workers and the queue are full."""
        with self._flight_lock:
            if self._in_flight >= self._threads + self._max_waiting:
                return False
            self._in_flight += 1
        try:
            # The executor's own queue holds the waiting ones; the count above bounds it.
            self._pool.submit(self._work, request, client_address, True)
        except RuntimeError:  # shut down
            with self._flight_lock:
                self._in_flight -= 1
            return False
        return True

    def in_flight(self) -> int:
        """Connections handed over and not finished (running or waiting for a worker)."""
        return self._in_flight

    def _work(self, request: Any, client_address: Any, handed_over: bool = False) -> None:
        try:
            self.finish_request(request, client_address)  # type: ignore[attr-defined]
        except (ConnectionError, TimeoutError) as e:
            log.debug("connection from %r ended: %s", client_address, e)
        except Exception:  # noqa: BLE001 - one connection's failure must not stop the server
            log.exception("error handling a connection from %r", client_address)
        finally:
            self.shutdown_request(request)  # type: ignore[attr-defined]
            if handed_over:
                with self._flight_lock:
                    self._in_flight -= 1
            else:
                self._slots.release()

    def close_pool(self) -> None:
        self._pool.shutdown(wait=True)
