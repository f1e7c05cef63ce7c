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

The timers ask these questions ten times a second, of thousands of raters
at internet scale, so none of them scans the table: raters are kept in
order of when they were last heard from and last sent to (a silent rater
and a rater owed a heartbeat are at the front), and leases in a heap by
deadline (a pulse only moves ``lease_until``; the heap entry is corrected
when it comes up).
"""

from __future__ import annotations

import heapq
import math
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
    def __init__(self, liveness_timeout: float, max_job_seconds: float = math.inf) -> None:
        self.liveness_timeout = liveness_timeout
        self.max_job_seconds = max_job_seconds
        self._raters: dict[bytes, Rater] = {}
        # Raters with a free slot, least recently used first, so work spreads
        # over the nodes instead of piling onto the one that answered last.
        self._free: OrderedDict[bytes, None] = OrderedDict()
        # Least recently heard from / sent to first.
        self._by_seen: OrderedDict[bytes, None] = OrderedDict()
        self._by_sent: OrderedDict[bytes, None] = OrderedDict()
        # (deadline, tie, rater identity, job id); stale entries are skipped.
        self._leases: list[tuple[float, int, bytes, str]] = []
        self._tie = 0
        self._compact_at = 1024     # heap size at which entries of answered jobs are dropped

    def __len__(self) -> int:
        return len(self._raters)

    def __iter__(self):
        return iter(self._raters.values())

    def get(self, identity: bytes) -> Rater | None:
        return self._raters.get(identity)

    def register(self, identity: bytes, *, host: str, pid: int, worker: str, version: str,
                 capacity: int, jobs_done: int, now: float, key: str = "", update: bool = False,
                 released: Collection[str] = ()) -> tuple[Rater, list[Job]]:
        """READY: the rater can take ``capacity`` jobs in all.

        A READY from a rater we think holds jobs means it gave up on them
        (it restarted or lost track): those jobs are returned for requeueing.
        An ``update`` (a node connection whose workers came or went) keeps
        them, except those in ``released``.
        """
        old = self._raters.get(identity)
        orphaned: list[Job] = []
        if old is not None:
            if update:
                orphaned = [old.jobs.pop(jid) for jid in released if jid in old.jobs]
            else:
                orphaned = list(old.jobs.values())
                old.jobs.clear()
            old.host, old.pid, old.worker, old.version = host, pid, worker, version
            old.capacity, old.last_seen = capacity, now
            old.jobs_done = max(old.jobs_done, jobs_done)
            rater = old
            self._by_seen.move_to_end(identity)
        else:
            rater = Rater(identity, host, pid, worker, version, capacity, now, now, jobs_done=jobs_done, key=key)
            self._raters[identity] = rater
            self._by_seen[identity] = None
            self._by_sent[identity] = None
            self._by_sent.move_to_end(identity, last=False)     # never sent to: owed a heartbeat first
        self._update_free(rater)
        return rater, orphaned

    def seen(self, rater: Rater, now: float) -> None:
        rater.last_seen = now
        self._by_seen.move_to_end(rater.identity)

    def sent(self, rater: Rater, now: float) -> None:
        """Something was sent to ``rater`` (it counts as a heartbeat)."""
        rater.last_sent = now
        if rater.identity in self._by_sent:
            self._by_sent.move_to_end(rater.identity)

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
        self._tie += 1
        heapq.heappush(self._leases, (min(job.lease_until, now + self.max_job_seconds), self._tie,
                                      rater.identity, job_id))

    def release(self, rater: Rater, job_id: str) -> Job | None:
        """RESULT/FAILED: the slot is free again; returns the job it held."""
        job = rater.jobs.pop(job_id, None)
        self._update_free(rater)
        return job

    def remove(self, identity: bytes) -> list[Job]:
        """Forget a rater (dead or disconnected); returns the jobs it held."""
        rater = self._raters.pop(identity, None)
        self._free.pop(identity, None)
        self._by_seen.pop(identity, None)
        self._by_sent.pop(identity, None)
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
        """Raters silent for longer than the liveness timeout (longest silent first)."""
        out = []
        for identity in self._by_seen:
            rater = self._raters[identity]
            if now - rater.last_seen <= self.liveness_timeout:
                break
            out.append(rater)
        return out

    def heartbeats_owed(self, now: float, interval: float) -> list[Rater]:
        """Raters sent nothing for ``interval`` seconds or more."""
        out = []
        for identity in self._by_sent:
            rater = self._raters[identity]
            if now - rater.last_sent < interval:
                break
            out.append(rater)
        return out

    def expired_leases(self, now: float, max_job_seconds: float) -> list[tuple[Rater, Job]]:
        """Jobs still held whose lease ran out, or that ran past ``max_job_seconds``; each reported once."""
        out = []
        heap = self._leases
        while heap and heap[0][0] < now:
            _, _, identity, job_id = heapq.heappop(heap)
            rater = self._raters.get(identity)
            job = rater.jobs.get(job_id) if rater is not None else None
            if job is None or job.job_id != job_id or job.rater != identity:
                continue            # answered, taken back or its rater gone
            deadline = min(job.lease_until, job.dispatched_at + max_job_seconds)
            if now > deadline:
                out.append((rater, job))
            else:                   # a pulse extended it
                self._tie += 1
                heapq.heappush(heap, (deadline, self._tie, identity, job_id))
        if len(heap) >= self._compact_at:
            # Entries of answered jobs wait for their deadline; drop them in
            # one go each time the heap has doubled (amortised O(1) a job).
            self._leases = [e for e in heap if e[2] in self._raters and e[3] in self._raters[e[2]].jobs]
            heapq.heapify(self._leases)
            self._compact_at = max(1024, 2 * len(self._leases))
        return out

    @property
    def free_slots(self) -> int:
        return sum(r.free_slots for r in self._raters.values())
