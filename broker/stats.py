"""The broker's answer to a STATS request: one msgpack-able dict.

Read by ``zmq-monitor``, the frontend's ``/status`` page and the tests. The
shape is documented here because three consumers depend on it::

    broker:   {version, host, pid, started_at, uptime, paused, store_ok, store_error,
               accepting, refusal, role, epoch, role_age}
                                                 (refusal: why new work is refused, "" if accepted;
                                                  role: "active" (a standby answers "not active"
                                                  instead of STATS); epoch: the store lease's)
    totals:   {live, queued, in_flight, raters, free_slots, ip_queues, max_live_jobs, max_queues}
    queues:   [{ip, queued, outstanding, oldest_age}]            (deepest first, <= 200)
    raters:   [{id, key, host, pid, worker, version, state, capacity, jobs, draining,
                job, job_age, progress, jobs_done, last_seen_age, connected_age}]
                                                 (by node then worker, <= 500: totals.raters counts all)
    counters: {accepted, coalesced, dispatched, completed, ...}  (since start)
    rates:    {completed_per_min, dispatched_total}
    recent:   [{domain, rating, ratinginfo, elapsed, rater, at}] (newest first; rater: key name, else host/worker)
    journal:  {commits, rows, unacked_batches, pending_requests, backlog,
               last_commit_age, stalled_for, alive, error}
                                                 (backlog: writes not yet resolved, held in the
                                                  loop or handed to the journal;
                                                  stalled_for: s that writes waited with no commit)
    weights:  {ip: weight}                       (operator-set DRR weights; {} when over 200)
    dispatch_latency: {le, counts, sum, count}   (enqueue -> JOB sent, seconds; broker.metrics.LatencyBuckets)
    security: {curve, refused: {reason: n}}      (CURVE on or not; handshakes and messages refused)
    counters also hold rated_A, rated_Q, rated_X, rated_U: ratings committed, by letter
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .server import Broker

__all__ = ["snapshot", "VERSION"]

VERSION = "0.1.0"
MAX_QUEUES = 200
# Thousands of raters would make every STATS hold the loop for tens of
# milliseconds (and fill a terminal nobody reads): list the first 500.
MAX_RATERS = 500


def rater_id(identity: bytes) -> str:
    """A printable form of a ZeroMQ routing id (raters set readable ones)."""
    try:
        text = identity.decode("ascii")
        if text.isprintable():
            return text
    except UnicodeDecodeError:
        pass
    return identity.hex()


def snapshot(broker: Broker, recent: int = 20) -> dict:
    core, journal = broker.core, broker.journal
    now_wall = time.time()
    now = time.monotonic()
    per_ip = core.fq.per_ip()
    queues = sorted(
        ({"ip": ip, "queued": queued, "outstanding": owned,
          "oldest_age": round(now_wall - oldest, 3) if queued else 0.0}
         for ip, (queued, owned, oldest) in per_ip.items()),
        key=lambda q: (-q["queued"], q["ip"]))[:MAX_QUEUES]
    raters = []
    for r in sorted(core.raters, key=lambda r: (r.host, r.worker))[:MAX_RATERS]:
        held = r.held_jobs()
        job = held[0] if held else None
        raters.append({
            "id": rater_id(r.identity), "key": r.key, "host": r.host, "pid": r.pid, "worker": r.worker,
            "version": r.version, "state": r.state, "capacity": r.capacity, "jobs": len(held), "draining": r.draining,
            "job": job.domain if job else "", "job_age": round(now - job.dispatched_at, 3) if job else 0.0,
            "progress": job.progress if job else "", "jobs_done": r.jobs_done,
            "last_seen_age": round(now - r.last_seen, 3), "connected_age": round(now - r.connected_at, 3),
        })
    in_flight = len(core.fq) - core.fq.queued
    refusal = core.refusal()
    weights = core.fq.weights()
    return {
        "broker": {"version": VERSION, "host": broker.host, "pid": os.getpid(),
                   "started_at": broker.started_at, "uptime": round(now_wall - broker.started_at, 3),
                   "paused": core.paused, "store_ok": core.store_ok,
                   "store_error": "" if core.store_ok else core.store_error[:500],
                   "accepting": refusal is None, "refusal": (refusal or "")[:500],
                   "role": broker.role, "epoch": broker.lease.epoch if broker.lease else 0,
                   "role_age": round(now_wall - broker.became, 3)},
        "totals": {"live": len(core.fq), "queued": core.fq.queued, "in_flight": in_flight,
                   "raters": len(core.raters), "free_slots": core.raters.free_slots,
                   "ip_queues": core.fq.tracked_ips(), "max_live_jobs": core.config.max_live_jobs,
                   "max_queues": core.config.max_queues},
        "queues": queues,
        "raters": raters,
        "counters": dict(core.counters),
        "rates": {"completed_per_min": core.completed_last_minute(now)},
        "recent": list(reversed(core.recent))[:max(0, recent)],
        "journal": {"commits": journal.commits, "rows": journal.rows,
                    "unacked_batches": core.unacked_batches, "pending_requests": core.pending_requests,
                    "backlog": journal.backlog + len(core.writes), "last_commit_age": round(journal.last_commit_age(now), 3),
                    "stalled_for": round(journal.stalled_for(now), 3),
                    "alive": journal.alive, "error": (journal.death or journal.last_error)[:500],
                    "errors_pruned": journal.pruned},
        "weights": weights if len(weights) <= MAX_QUEUES else {},
        "dispatch_latency": broker.dispatch_latency.snapshot(),
        "security": {"curve": broker.gate.secure, "refused": broker.refusals.counts()},
    }
