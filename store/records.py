"""The values the store reads and writes: small frozen dataclasses.

These are the only shapes that cross the store's API, so the broker and the
frontend never see rows or driver types. All times are UNIX epoch seconds as
``float`` (``time.time()``), stored as ``DOUBLE`` in MySQL and ``REAL`` in
SQLite, so they round-trip exactly on both back ends and need no time zone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from protocol.vocabulary import RATING_TTL_SECONDS

__all__ = ["StoredRating", "QueuedJob", "ErrorRecord", "QueueStats", "StoreStatus"]


@dataclass(frozen=True, slots=True)
class StoredRating:
    """A rating as the system of record holds it.

    ``location`` is the API v3 business location (keys from
    ``protocol.vocabulary.LOCATION_FIELDS``) or ``None``; ``evidence`` is a
    JSON-serialisable list of what was found where. Both are stored as JSON
    text. ``rated_at``/``expires_at`` are epoch seconds.
    """

    domain: str
    rating: str
    ratinginfo: str
    location: dict[str, Any] | None
    evidence: list[Any]
    rated_at: float
    expires_at: float
    # Who produced it: the rater's CURVE key name, else its node/worker name
    # ("" for ratings made before this was recorded, or by the broker itself).
    rated_by: str = ""

    def expired(self, now: float | None = None) -> bool:
        """True once ``expires_at`` has passed (at ``now``, default: the clock)."""
        return (time.time() if now is None else now) >= self.expires_at

    @classmethod
    def new(
        cls,
        domain: str,
        rating: str,
        ratinginfo: str = "",
        location: dict[str, Any] | None = None,
        evidence: list[Any] | None = None,
        *,
        rated_at: float | None = None,
        ttl: float = RATING_TTL_SECONDS,
        rated_by: str = "",
    ) -> StoredRating:
        """A rating made now (or at ``rated_at``) that expires ``ttl`` seconds later."""
        at = time.time() if rated_at is None else rated_at
        return cls(domain, str(rating), str(ratinginfo), location,
                   [] if evidence is None else evidence, at, at + ttl, rated_by)


@dataclass(frozen=True, slots=True)
class QueuedJob:
    """One domain waiting to be rated: the durable copy of a broker queue entry.

    The durable queue is keyed by domain: a domain is queued at most once,
    whoever asked for it first owns the entry.
    """

    domain: str
    client_ip: str
    priority: int
    enqueued_at: float
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    """One line of the error log: who failed, where, and the traceback."""

    at: float
    host: str
    process: str
    component: str
    message: str
    traceback: str = ""
    domain: str = ""
    id: int | None = None


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Size of the durable queue: ``per_ip[ip] = (jobs, oldest enqueued_at)``."""

    total: int
    per_ip: dict[str, tuple[int, float]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """What ``sitetruth-db status`` shows. ``url`` never contains a password."""

    backend: str
    url: str
    schema_version: int
    latest_version: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def up_to_date(self) -> bool:
        return self.schema_version == self.latest_version


@dataclass(frozen=True, slots=True)
class BrokerLease:
    """The active broker of a store: its epoch (one more per takeover), who it is, since when."""

    epoch: int
    holder: str
    since: float
