"""A per-sender "N per window" limit with bounded memory (error reports from raters).

Each sender's recent times are kept in a deque of at most N entries; senders
are remembered least-recently-seen first and the oldest forgotten past
``max_senders``, so a stream of fresh identities cannot grow it.
"""

from __future__ import annotations

from collections import OrderedDict, deque

__all__ = ["RateLimit"]


class RateLimit:
    def __init__(self, per_window: int, window: float, max_senders: int = 10_000) -> None:
        self.per_window = per_window
        self.window = window
        self.max_senders = max_senders
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, sender: str, now: float) -> bool:
        """True (and counted) if ``sender`` has had fewer than ``per_window`` in the last ``window`` seconds."""
        times = self._seen.get(sender)
        if times is None:
            times = self._seen[sender] = deque(maxlen=self.per_window)
            while len(self._seen) > self.max_senders:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(sender)
        if len(times) == self.per_window and now - times[0] < self.window:
            return False
        times.append(now)
        return True

    def __len__(self) -> int:
        return len(self._seen)
