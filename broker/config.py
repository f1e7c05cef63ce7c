"""Broker settings: every default in one place, with the reasons for it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BrokerConfig"]


@dataclass(frozen=True)
class BrokerConfig:
    store: str = "sqlite:///./sitetruth.db"
    bind_clients: str = "tcp://127.0.0.1:7710"
    bind_raters: str = "tcp://127.0.0.1:7711"
    # Outstanding (queued + in flight) jobs one client IP may own; over it the
    # request gets an overload reply (HTTP 502 at the frontend).
    max_per_ip: int = 100
    # Dispatches that may end without a RESULT before the job is stored as
    # U/error with its traceback in the error log.
    max_attempts: int = 3
    # Raters and broker heartbeat each other this often; a rater silent for
    # ``liveness`` seconds is dead and its jobs go back to the queue.
    heartbeat: float = 1.0
    liveness: float = 5.0
    # A job's lease: how long a rater may go without a PULSE. The rating
    # deadline is 30 s and raters pulse every page, so 20 s of silence means
    # a hung rating. ``max_job`` is the ceiling pulses cannot stretch.
    lease: float = 20.0
    max_job: float = 120.0
    # Sent to raters with each JOB: the rating's own deadline.
    rating_deadline: float = 30.0
    # Ratings stay valid this long; error ratings are retried much sooner so
    # one bad day of a site (or of ours) does not stick for a month.
    rating_ttl: float = 30 * 24 * 3600.0
    error_ttl: float = 24 * 3600.0
    # How many recent completions the stats keep.
    recent: int = 50
    # Largest frame the sockets accept (libzmq drops bigger messages and the
    # peer's connection before Python sees them).
    max_message: int = 2 * 1024 * 1024
    # Enqueue batches waiting for their commit before new work is refused as
    # "unavailable": a slow store must push back, not grow our memory.
    max_unacked: int = 2000
    # Retry-After (seconds) suggested in "unavailable" replies.
    retry_after: float = 5.0
