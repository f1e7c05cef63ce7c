"""A small, thread-safe, size-bounded TTL cache: the frontend's first stop for a rating.

Where it sits: the rating service (:mod:`frontend.ratings`) asks the cache
for every requested domain, sends only the misses to the store in one batch
and puts what the store found back. Entries live ``ttl`` seconds at most
(and never past a shorter lifetime the caller gives, e.g. the rating's own
expiry); past ``maxsize`` entries the least recently used go first.

One lock guards everything, held only for dictionary work (no I/O), so
contention stays negligible next to an HTTP request. The lock is replaced in
a forked child: a pre-forking server may fork while another thread holds it.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

__all__ = ["TTLCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """``get_many`` / ``put`` with per-entry expiry; ``ttl <= 0`` or ``maxsize <= 0`` disables it."""

    def __init__(self, ttl: float, maxsize: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = float(ttl)
        self.maxsize = int(maxsize)
        self._clock = clock
        self._data: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        if hasattr(os, "register_at_fork"):
            ref = weakref.WeakMethod(self._after_fork)
            os.register_at_fork(after_in_child=lambda: (m := ref()) and m())

    @property
    def enabled(self) -> bool:
        return self.ttl > 0 and self.maxsize > 0

    def _after_fork(self) -> None:
        self._lock = threading.Lock()

    def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        """The live entries among ``keys`` (expired ones are dropped on the way)."""
        if not self.enabled:
            return {}
        now = self._clock()
        found: dict[K, V] = {}
        with self._lock:
            for key in keys:
                entry = self._data.get(key)
                if entry is None:
                    continue
                if entry[0] <= now:
                    del self._data[key]
                    continue
                self._data.move_to_end(key)
                found[key] = entry[1]
        return found

    def put(self, key: K, value: V, max_age: float | None = None) -> None:
        """Keep ``value`` for ``min(ttl, max_age)`` seconds (not at all if that is <= 0)."""
        if not self.enabled:
            return
        life = self.ttl if max_age is None else min(self.ttl, max_age)
        if life <= 0:
            return
        until = self._clock() + life
        with self._lock:
            self._data[key] = (until, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def discard(self, key: K) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
