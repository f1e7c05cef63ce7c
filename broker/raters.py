"""Rater bookkeeping: who is connected, alive, free, and holding which job.

Pure logic, no sockets: the broker's event loop feeds it events (READY,
PULSE, RESULT, silence) and asks it questions (who is free, whose lease ran
out, who stopped talking).

Two separate ideas, on purpose:

* **alive** — the rater sent *something* within the liveness timeout
  (heartbeats included). A rater that is not alive is forgotten and its jobs
  go back to the queue.
* **free** — the rater has an empty slot. Only READY (on arrival) or a
  RESULT/FAILED (ending a job) frees a slot: a heartbeat from a busy rater
  proves it is alive, not that it is idle.

Every job handed out has a lease; a PULSE extends it. A job whose lease ran
out is taken back even though its rater still heartbeats (a hung rating).
A job also has a hard ceiling (``max_job_seconds``) that pulses cannot
stretch, so a rater that pulses forever without finishing cannot pin a job.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, field

from .fairqueue import Job

__all__ = ["Rater", "RaterTable"]


@dataclass(eq=False)
class Rater:
    identity: bytes
    host: str
    pid: int
    worker: str
    version: str
    capacity: int
    connected_at: float
    last_seen: float
    jobs: dict[str, Job] = field(default_factory=dict)   # job_id -> job
    jobs_done: int = 0
    draining: bool = False     # operator asked: finish current work, take no more
    last_sent: float = 0.0     # for broker -> rater heartbeats
    key: str = ""              # CURVE key name it registered with ("" without keys)

    @property
    def free_slots(self) -> int:
        return 0 if self.draining else max(0, self.capacity - len(self.jobs))

    @property
    def state(self) -> str:
        if self.jobs:
            return "busy"
        return "draining" if self.draining else "free"

    @property
    def name(self) -> str:
        return f"{self.host}/{self.worker}"

    @property
    def rated_by(self) -> str:
        """Who a stored rating is attributed to: the key name (what an operator
        revokes and re-rates by), else node/worker."""
        return self.key or f"{self.host}/{self.worker}"

    def held_jobs(self) -> list[Job]:
        """Jobs this rater still holds for the broker.

        ``jobs`` also keeps jobs taken back from it (lease expired, cancelled,
        rated elsewhere): their slot stays occupied until the rater answers,
        but the job itself now belongs to the queue or another rater.
        """
        return [job for jid, job in self.jobs.items() if job.job_id == jid and job.rater == self.identity]


class RaterTable:
    def __init__(self, liveness_timeout: float) -> None:
        self.liveness_timeout = liveness_timeout
        self._raters: dict[bytes, Rater] = {}
        # Raters with a free slot, least recently used first, so work spreads
        # over the nodes instead of piling onto the one that answered last.
        self._free: OrderedDict[bytes, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._raters)

    def __iter__(self):
        return iter(self._raters.values())

    def get(self, identity: bytes) -> Rater | None:
        return self._raters.get(identity)

    def register(self, identity: bytes, *, host: str, pid: int, worker: str, version: str,
                 capacity: int, jobs_done: int, now: float, key: str = "") -> tuple[Rater, list[Job]]:
        """READY: the rater is (again) free for ``capacity`` jobs.

        A READY from a rater we think holds jobs means it gave up on them
        (it restarted or lost track): those jobs are returned for requeueing.
        """
        old = self._raters.get(identity)
        orphaned: list[Job] = []
        if old is not None:
            orphaned = list(old.jobs.values())
            old.jobs.clear()
            old.host, old.pid, old.worker, old.version = host, pid, worker, version
            old.capacity, old.last_seen = capacity, now
            old.jobs_done = max(old.jobs_done, jobs_done)
            rater = old
        else:
            rater = Rater(identity, host, pid, worker, version, capacity, now, now, jobs_done=jobs_done, key=key)
            self._raters[identity] = rater
        self._update_free(rater)
        return rater, orphaned

    def seen(self, rater: Rater, now: float) -> None:
        rater.last_seen = now

    def next_free(self, avoid: bytes | None = None, exclude: Collection[bytes] = ()) -> Rater | None:
        """The least recently used rater with a free slot, other than ``avoid`` if possible.

        Raters in ``exclude`` are skipped altogether (their send queue is full).
        """
        fallback = None
        for identity in self._free:
            if identity in exclude:
                continue
            if identity != avoid:
                return self._raters[identity]
            fallback = self._raters[identity]
        return fallback

    def assign(self, rater: Rater, job: Job, job_id: str, now: float, lease: float) -> None:
        job.job_id = job_id
        job.rater = rater.identity
        job.dispatched_at = now
        job.lease_until = now + lease
        job.progress = ""
        rater.jobs[job_id] = job
        self._update_free(rater)

    def release(self, rater: Rater, job_id: str) -> Job | None:
        """RESULT/FAILED: the slot is free again; returns the job it held."""
        job = rater.jobs.pop(job_id, None)
        self._update_free(rater)
        return job

    def remove(self, identity: bytes) -> list[Job]:
        """Forget a rater (dead or disconnected); returns the jobs it held."""
        rater = self._raters.pop(identity, None)
        self._free.pop(identity, None)
        if rater is None:
            return []
        jobs = list(rater.jobs.values())
        rater.jobs.clear()
        return jobs

    def set_draining(self, rater: Rater, draining: bool) -> None:
        rater.draining = draining
        self._update_free(rater)

    def _update_free(self, rater: Rater) -> None:
        if rater.free_slots > 0 and rater.identity in self._raters:
            if rater.identity not in self._free:
                self._free[rater.identity] = None
        else:
            self._free.pop(rater.identity, None)

    def mark_used(self, rater: Rater) -> None:
        """Move a rater to the back of the free list after giving it a job."""
        if rater.identity in self._free:
            self._free.move_to_end(rater.identity)

    def dead(self, now: float) -> list[Rater]:
        return [r for r in self._raters.values() if now - r.last_seen > self.liveness_timeout]

    def expired_leases(self, now: float, max_job_seconds: float) -> list[tuple[Rater, Job]]:
        out = []
        for rater in self._raters.values():
            for job in rater.held_jobs():
                if now > job.lease_until or now - job.dispatched_at > max_job_seconds:
                    out.append((rater, job))
        return out

    @property
    def free_slots(self) -> int:
        return sum(r.free_slots for r in self._raters.values())
