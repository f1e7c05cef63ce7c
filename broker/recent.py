"""Domains whose rating just committed: a RATE for one of them makes no second job for a while.

A frontend that reads a replica lagging behind the primary, or a poll that
races the commit, sees no rating yet and asks again; without this guard the
broker (whose job ended at the commit) would make a new job and rate the
domain a second time. Within ``window`` seconds of the commit such a request
is answered "being rated" (the frontend shows W and asks again, by when the
rating is readable) and no job is made.

Memory is bounded: at most ``max_entries`` domains, oldest forgotten first;
entries past the window are dropped as new ones come in.
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["RecentlyRated"]


class RecentlyRated:
    def __init__(self, window: float, max_entries: int = 100_000) -> None:
        self.window = window
        self.max_entries = max_entries
        self._at: OrderedDict[str, float] = OrderedDict()   # domain -> commit time (epoch), oldest first

    def add(self, domain: str, wall: float) -> None:
        self._at.pop(domain, None)
        self._at[domain] = wall
        self._expire(wall)
        while len(self._at) > self.max_entries:
            self._at.popitem(last=False)

    def __contains__(self, item: tuple[str, float]) -> bool:
        """``(domain, now) in recent``: was the domain's rating committed within the window before ``now``?"""
        domain, now = item
        at = self._at.get(domain)
        return at is not None and now - at < self.window

    def forget(self, domain: str) -> None:
        """An operator asked for a fresh rating: let the next request make a job."""
        self._at.pop(domain, None)

    def _expire(self, now: float) -> None:
        while self._at:
            domain, at = next(iter(self._at.items()))
            if now - at < self.window:
                return
            del self._at[domain]

    def __len__(self) -> int:
        return len(self._at)
