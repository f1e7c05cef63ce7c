"""The one time budget a rating has, shared by every fetch it makes.

A worker creates one ``Deadline`` per rating (default 30 s) and passes it to
every :meth:`Fetcher.get`, robots.txt read and remote-source lookup of that
rating.  The fetcher derives all its socket timeouts from
:meth:`Deadline.remaining` and arms a watchdog at the deadline, so neither a
slow DNS answer, a server that accepts and never answers, nor one that
trickles a byte a second can make the rating run longer.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .errors import DeadlineExceeded

__all__ = ["Deadline", "DEFAULT_RATING_SECONDS"]

DEFAULT_RATING_SECONDS = 30.0


class Deadline:
    """A point in time, ``seconds`` after creation on ``clock``.

    Immutable after creation and therefore safe to share between threads.
    """

    __slots__ = ("seconds", "_clock", "_start", "_end")

    def __init__(self, seconds: float = DEFAULT_RATING_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        if not seconds >= 0:  # also refuses NaN
            raise ValueError(f"deadline seconds must be >= 0, got {seconds!r}")
        self.seconds = float(seconds)
        self._clock = clock
        self._start = clock()
        self._end = self._start + self.seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._end - self._clock())

    def elapsed(self) -> float:
        """Seconds since the deadline was created."""
        return self._clock() - self._start

    @property
    def expired(self) -> bool:
        return self._clock() >= self._end

    def check(self, url: str = "") -> None:
        """Raise :class:`DeadlineExceeded` if the deadline has passed."""
        if self.expired:
            raise DeadlineExceeded(f"stopped at the rating's deadline of {self.seconds:g} s", url=url)

    def sub(self, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now, but never later than this one.

        For a lookup with its own, shorter timeout inside a rating (a remote
        business registry): it gives up on its own without delaying the rating.
        """
        child = Deadline(min(max(0.0, seconds), self.remaining()), self._clock)
        return child

    def __repr__(self) -> str:
        return f"Deadline({self.seconds:g} s, {self.remaining():.3f} s left)"
