"""Job outcomes (RESULT / FAILED) waiting for a broker that will take them.

Where it sits: :class:`raterd.worker.Worker` puts an outcome here when it
cannot go out at once: no broker connected (IMMEDIATE refuses the send), or,
with several brokers on one store, not registered with any right now (the
link may lead to a standby, which would drop it). Each outcome waits a
limited time; a job whose outcome is given up is re-queued by the broker
when its lease ends, so giving up loses a rating's work, never the job.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable

__all__ = ["Outbox"]

log = logging.getLogger("raterd.worker")


class Outbox:
    """Frames in send order, each with the time it is given up at; bounded in number too."""

    def __init__(self, ttl: float, size: int = 16) -> None:
        self.ttl = ttl
        self._items: collections.deque[tuple[list[bytes], float]] = collections.deque(maxlen=size)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def keep(self, frames: list[bytes], now: float) -> None:
        self._items.append((frames, now + self.ttl))

    def flush(self, now: float, send: Callable[[list[bytes]], bool]) -> None:
        """Send in order until a send fails; drop (and log) what waited past its time."""
        while self._items:
            frames, expires = self._items[0]
            if now > expires:
                log.warning("a job outcome could not reach the broker for %.0f s and is dropped", self.ttl)
            elif not send(frames):
                return
            self._items.popleft()
