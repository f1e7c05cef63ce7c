"""One store connection and one broker socket per thread (and per process).

Neither a Store nor a ZeroMQ socket may be shared between threads, and
neither survives ``fork``. :class:`PerThread` hands each thread its own,
made on first use, and notices when it runs in a forked child: objects
inherited from the parent are then set aside untouched (closing an inherited
MySQL connection would say goodbye on the parent's socket) and fresh ones
are made.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["PerThread"]

T = TypeVar("T")

# Objects a forked child inherited: kept referenced so the garbage collector
# never finalises (and so closes) the parent's connections from the child.
_inherited: list[object] = []


class PerThread(Generic[T]):
    """``get()`` returns this thread's object, made by ``factory()`` on first use."""

    def __init__(self, factory: Callable[[], T], close: Callable[[T], None]) -> None:
        self._factory = factory
        self._close = close
        self._local = threading.local()
        self._all: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # object -> pid that made it
        self._lock = threading.Lock()

    def get(self) -> T:
        local = self._local
        obj = getattr(local, "obj", None)
        if obj is not None and local.pid == os.getpid():
            return obj
        if obj is not None:
            _inherited.append(obj)
        obj = self._factory()
        local.obj, local.pid = obj, os.getpid()
        with self._lock:
            self._all[obj] = os.getpid()
        return obj

    def reset(self) -> None:
        """Close and forget this thread's object (the next get() makes a new one)."""
        obj = getattr(self._local, "obj", None)
        self._local.obj = None
        if obj is not None and self._local.pid == os.getpid():
            self._close(obj)

    def close_all(self) -> None:
        """Close every thread's object: only when no thread uses them any more (shutdown)."""
        me = os.getpid()
        with self._lock:
            objs = [obj for obj, pid in self._all.items() if pid == me]
            self._all = weakref.WeakKeyDictionary()
        for obj in objs:
            try:
                self._close(obj)
            except Exception:  # noqa: BLE001 - shutting down: a failed close changes nothing
                pass
