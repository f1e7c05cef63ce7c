"""A bounded worker pool for ``socketserver`` servers (the HTTP and FastCGI servers share it).

``process_request`` hands each accepted connection to one of ``threads``
pooled threads. When all are busy, the accept loop waits for one to come
free, so a burst of connections waits in the kernel's listen backlog rather
than as an unbounded queue of Python objects, and thread count never grows
with load (``socketserver.ThreadingMixIn`` starts a thread per connection).
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

    def init_pool(self, threads: int, name: str) -> None:
        self._slots = threading.BoundedSemaphore(threads)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix=name)

    def process_request(self, request: Any, client_address: Any) -> None:
        self._slots.acquire()
        try:
            self._pool.submit(self._work, request, client_address)
        except RuntimeError:  # the pool was shut down while we were accepting
            self._slots.release()
            self.shutdown_request(request)  # type: ignore[attr-defined]

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)  # type: ignore[attr-defined]
        except (ConnectionError, TimeoutError) as e:
            log.debug("connection from %r ended: %s", client_address, e)
        except Exception:  # noqa: BLE001 - one connection's failure must not stop the server
            log.exception("error handling a connection from %r", client_address)
        finally:
            self.shutdown_request(request)  # type: ignore[attr-defined]
            self._slots.release()

    def close_pool(self) -> None:
        self._pool.shutdown(wait=True)
