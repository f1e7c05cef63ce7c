"""Per-client-IP fair queues: the broker's in-memory scheduling core.

Pure logic, no sockets, no threads: the broker's event loop calls it and the
tests drive it directly.

* Every job belongs to the client IP that first asked for its domain (the
  *owner*). Each IP has its own queue; within it, lower ``priority`` values
  go first and equal priorities keep arrival order.
* IPs are served by deficit round-robin (DRR): each turn an IP's deficit
  grows by its weight (default 1) and each dispatched job costs 1. With equal
  weights this is plain round-robin, so an IP that floods the broker delays
  another IP by at most one job per rater slot.
* Jobs are coalesced by domain: asking for a domain that is already queued
  or being rated returns the existing job instead of making a second one.
* ``outstanding(ip)`` counts the jobs an IP owns that are not yet finished;
  the broker refuses new work from an IP over its cap.

Memory matters here (the queue may hold a million jobs): :class:`Job` uses
``__slots__``, client IP strings are interned, and per-IP priority buckets
are deques rather than heaps of tuples.
"""

from __future__ import annotations

import sys
from collections import Counter, deque
from collections.abc import Iterator

__all__ = ["Job", "FairQueue"]


class Job:
    """One domain to rate. Identity is the domain: there is never a second job for it."""

    __slots__ = ("domain", "client_ip", "priority", "enqueued_at", "attempts",
                 "job_id", "rater", "dispatched_at", "lease_until", "last_error",
                 "progress", "durable", "last_rater", "done", "batch", "owner")

    def __init__(self, domain: str, client_ip: str, priority: int, enqueued_at: float,
                 attempts: int = 0, durable: bool = False, owner: str = "") -> None:
        self.domain = domain
        self.owner = owner              # client key that created it ("" without keys, or reloaded)
        self.client_ip = client_ip
        self.priority = priority
        self.enqueued_at = enqueued_at
        self.attempts = attempts        # dispatches that did not end in a RESULT
        self.job_id: str | None = None  # set while a rater holds it
        self.rater: bytes | None = None
        self.dispatched_at = 0.0
        self.lease_until = 0.0
        self.last_error = ""            # traceback or reason of the last failed attempt
        self.progress = ""
        self.durable = durable          # its row is committed in the store
        self.last_rater: bytes | None = None  # who failed it last: retry elsewhere if we can
        self.done = False               # rated; stays live until the rating is committed
        self.batch: int | None = None   # the enqueue batch that will make it durable, while one is pending

    @property
    def in_flight(self) -> bool:
        return self.rater is not None

    @property
    def queued(self) -> bool:
        return self.rater is None and not self.done

    def __repr__(self) -> str:
        state = "in flight" if self.in_flight else "queued"
        return f"<Job {self.domain} ip={self.client_ip} prio={self.priority} {state} attempts={self.attempts}>"


class _IPQueue:
    __slots__ = ("buckets", "size", "weight", "deficit", "owned", "owner")

    def __init__(self, weight: int, owner: str = "") -> None:
        self.owner = owner     # client key whose request created this queue
        self.buckets: dict[int, deque[Job]] = {}
        self.size = 0          # queued (not in flight) jobs
        self.weight = weight
        self.deficit = 0
        self.owned = 0         # queued + in-flight jobs this IP owns

    def push(self, job: Job, front: bool = False) -> None:
        bucket = self.buckets.get(job.priority)
        if bucket is None:
            bucket = self.buckets[job.priority] = deque()
        if front:
            bucket.appendleft(job)
        else:
            bucket.append(job)
        self.size += 1

    def pop(self) -> Job:
        prio = min(self.buckets)
        bucket = self.buckets[prio]
        job = bucket.popleft()
        if not bucket:
            del self.buckets[prio]
        self.size -= 1
        return job

    def remove(self, job: Job) -> bool:
        bucket = self.buckets.get(job.priority)
        if bucket is None:
            return False
        try:
            bucket.remove(job)
        except ValueError:
            return False
        if not bucket:
            del self.buckets[job.priority]
        self.size -= 1
        return True

    def oldest(self) -> float:
        return min((b[0].enqueued_at for b in self.buckets.values() if b), default=0.0)


class FairQueue:
    """Jobs by domain, queued per client IP and served by deficit round-robin."""

    def __init__(self, default_weight: int = 1) -> None:
        self.default_weight = default_weight
        self._jobs: dict[str, Job] = {}        # every live job, queued or in flight
        self._ips: dict[str, _IPQueue] = {}
        self._ring: deque[str] = deque()       # IPs with queued jobs, in service order
        self._queued = 0
        # Operator-set weights live apart from the per-IP queues: they outlive
        # an IP's last job and cost nothing while it is idle. Setting the
        # default weight forgets the entry.
        self._weights: dict[str, int] = {}
        # Live jobs and IP queues per client key that created them: the
        # broker's caps keep one key from filling the broker for all others.
        self._jobs_by_owner: Counter[str] = Counter()
        self._queues_by_owner: Counter[str] = Counter()

    # ---- adding -------------------------------------------------------
    def get(self, domain: str) -> Job | None:
        return self._jobs.get(domain)

    def add(self, domain: str, client_ip: str, priority: int, now: float,
            attempts: int = 0, durable: bool = False, owner: str = "") -> tuple[Job, bool]:
        """Queue ``domain`` for ``client_ip``; returns (job, created).

        An existing job for the domain is returned as is (coalescing); a
        higher-priority (lower value) request from its owner moves it forward.
        """
        job = self._jobs.get(domain)
        if job is not None:
            if priority < job.priority and job.queued and job.client_ip == client_ip:
                q = self._ips[job.client_ip]
                q.remove(job)
                job.priority = priority
                q.push(job)
            return job, False
        client_ip = sys.intern(client_ip)
        job = Job(domain, client_ip, priority, now, attempts, durable, owner)
        self._jobs[domain] = job
        if owner:
            self._jobs_by_owner[owner] += 1
        q = self._queue_of(client_ip, owner)
        q.owned += 1
        self._enqueue(q, job)
        return job, True

    def requeue(self, job: Job, front: bool = True) -> None:
        """Put an in-flight job back (its rater died or handed it back).

        It goes to the front of its IP's queue: it has waited its turn once.
        """
        if self._jobs.get(job.domain) is not job:
            raise KeyError(f"job {job.domain} is not live")
        job.last_rater = job.rater
        job.job_id = None
        job.rater = None
        job.progress = ""
        self._enqueue(self._ips[job.client_ip], job, front=front)

    def _queue_of(self, ip: str, owner: str = "") -> _IPQueue:
        q = self._ips.get(ip)
        if q is None:
            q = self._ips[ip] = _IPQueue(self._weights.get(ip, self.default_weight), owner)
            if owner:
                self._queues_by_owner[owner] += 1
        return q

    def _enqueue(self, q: _IPQueue, job: Job, front: bool = False) -> None:
        was_empty = q.size == 0
        q.push(job, front)
        self._queued += 1
        if was_empty:
            self._ring.append(job.client_ip)

    # ---- serving ------------------------------------------------------
    def pop(self) -> Job | None:
        """The next job by DRR across IPs, or None if nothing is queued.

        The job stays live (for coalescing and ``outstanding``) until
        :meth:`finish` is called.
        """
        ring = self._ring
        # Bounded: every pass over the ring adds at least weight >= 1 to each
        # deficit, so some IP can pay for a job within one full turn.
        for _ in range(2 * len(ring) + 1):
            if not ring:
                return None
            ip = ring[0]
            q = self._ips[ip]
            if q.deficit < 1:
                q.deficit += q.weight
            if q.deficit >= 1:
                q.deficit -= 1
                job = q.pop()
                self._queued -= 1
                if q.size == 0:
                    q.deficit = 0      # DRR: an idle flow keeps no credit
                    ring.popleft()
                elif q.deficit < 1:
                    ring.rotate(-1)    # turn used up: next IP
                return job
            ring.rotate(-1)
        return None

    def retire(self, job: Job) -> None:
        """The job is rated (or given up): never dispatch it again, but keep it
        live, so requests for its domain coalesce onto it, until :meth:`finish`
        is called once the rating is committed. Without this window a request
        arriving between the RESULT and the commit would find neither a job
        nor a stored rating and the site would be rated twice.
        """
        if self._jobs.get(job.domain) is not job or job.done:
            return
        q = self._ips[job.client_ip]
        if not job.in_flight and q.remove(job):
            self._queued -= 1
            if q.size == 0:
                self._drop_from_ring(job.client_ip)
        job.rater = None
        job.job_id = None
        job.done = True

    def unretire(self, job: Job) -> None:
        """A retired job whose rating the store refused: queue it again, at the front."""
        if self._jobs.get(job.domain) is not job or not job.done:
            raise KeyError(f"job {job.domain} is not a retired live job")
        job.done = False
        self._enqueue(self._ips[job.client_ip], job, front=True)

    def position(self, job: Job) -> int:
        """1-based place of a queued job in its IP's queue (0 when not queued)."""
        if not job.queued or self._jobs.get(job.domain) is not job:
            return 0
        q = self._ips[job.client_ip]
        ahead = sum(len(b) for prio, b in q.buckets.items() if prio < job.priority)
        bucket = q.buckets.get(job.priority)
        try:
            return ahead + (bucket.index(job) if bucket is not None else 0) + 1
        except ValueError:
            return 0

    def finish(self, job: Job) -> None:
        """Forget a job for good: rated, failed for good, or cancelled."""
        if self._jobs.get(job.domain) is not job:
            return
        del self._jobs[job.domain]
        q = self._ips[job.client_ip]
        if job.queued and q.remove(job):
            self._queued -= 1
            if q.size == 0:
                self._drop_from_ring(job.client_ip)
        job.rater = None
        job.job_id = None
        if job.owner:
            _uncount(self._jobs_by_owner, job.owner)
        q.owned -= 1
        if q.owned == 0 and q.size == 0:
            del self._ips[job.client_ip]
            if q.owner:
                _uncount(self._queues_by_owner, q.owner)

    def _drop_from_ring(self, ip: str) -> None:
        try:
            self._ring.remove(ip)
        except ValueError:
            pass
        self._ips[ip].deficit = 0

    # ---- weights and views -----------------------------------------------
    MAX_WEIGHTS = 100_000

    def set_weight(self, ip: str, weight: int) -> None:
        """DRR weight of ``ip``; kept while the IP is idle, forgotten when set back to the default."""
        if weight < 1:
            raise ValueError("weight must be >= 1")
        if weight == self.default_weight:
            self._weights.pop(ip, None)
        else:
            if ip not in self._weights and len(self._weights) >= self.MAX_WEIGHTS:
                raise ValueError(f"too many weighted IPs (limit {self.MAX_WEIGHTS}); reset some to {self.default_weight}")
            self._weights[sys.intern(ip)] = weight
        q = self._ips.get(ip)
        if q is not None:
            q.weight = weight

    def weights(self) -> dict[str, int]:
        """Operator-set weights (IPs at the default weight are not listed)."""
        return dict(self._weights)

    def tracked_ips(self) -> int:
        """IPs with live jobs (each has a queue object in memory)."""
        return len(self._ips)

    def owned_by(self, owner: str) -> tuple[int, int]:
        """(live jobs, IP queues) that client key ``owner`` created."""
        return self._jobs_by_owner.get(owner, 0), self._queues_by_owner.get(owner, 0)

    def has_queue(self, ip: str) -> bool:
        return ip in self._ips

    def outstanding(self, ip: str) -> int:
        q = self._ips.get(ip)
        return q.owned if q else 0

    def __len__(self) -> int:
        """Live jobs: queued plus in flight."""
        return len(self._jobs)

    @property
    def queued(self) -> int:
        return self._queued

    def jobs(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def per_ip(self) -> dict[str, tuple[int, int, float]]:
        """ip -> (queued, owned incl. in flight, oldest queued enqueued_at)."""
        return {ip: (q.size, q.owned, q.oldest()) for ip, q in self._ips.items()}


def _uncount(counter: Counter[str], key: str) -> None:
    n = counter[key] - 1
    if n > 0:
        counter[key] = n
    else:
        del counter[key]
