"""The broker's acknowledgement core: pure bookkeeping, no sockets, no threads.

The event loop (:mod:`broker.server`) decodes messages and feeds them here;
this module decides what happens and leaves its effects in three outboxes the
loop empties after each turn:

* ``replies`` — (client identity, message) for frontends and admin tools;
* ``to_raters`` — (rater identity, message) other than JOBs (those come from
  :meth:`BrokerCore.next_assignment`, because a send can fail);
* ``writes`` — typed journal operations (:mod:`broker.ops`), in order.

The promise kept here: *a RATE reply says QUEUED/RATING for a domain only once
that domain is durable* — its queue row committed, or its rating committed.
How:

* A new job joins an enqueue *batch*; requests waiting on non-durable jobs
  are *pending* until every job they wait on resolves. The enqueue outcome
  resolves a batch; the complete outcome resolves a job rated before its row
  was committed. A job that is live, not durable and in no batch (its
  enqueue failed while a rater held it) joins the batch of the next request
  that asks for it, so that request is answered too.
* A job stays live (coalescing requests) until its rating commits. A rating
  the store refuses for good counts as a failed attempt, and after
  ``max_attempts`` the job is stored as U/error.
* A rater that dies or overruns its lease costs the job an attempt; a rater
  whose queue is momentarily full just gets the job back in the queue.

Every time-dependent call takes ``now`` (monotonic) and ``wall`` (epoch) so
the model-based test (tests/broker/test_core_model.py) can drive it with a
clock of its own.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass, field

from protocol import (
    Disconnect,
    DomainStatus,
    ErrorReport,
    Failed,
    Heartbeat,
    JobState,
    Overload,
    Pulse,
    RateReply,
    RateRequest,
    Ready,
    Result,
    Unavailable,
    is_registrable_domain,
)
from protocol import Job as JobMessage
from protocol.vocabulary import Rating, RatingInfo
from store import ErrorRecord, QueuedJob, StoredRating

from . import admin
from .config import BrokerConfig
from .fairqueue import FairQueue, Job
from .ops import AppendErrors, Complete, Enqueue, FindRatedBy, Op, Outcome, RecordAttempts, Remove
from .raters import Rater, RaterTable
from .ratelimit import RateLimit
from .recent import RecentlyRated

__all__ = ["BrokerCore", "Pending"]

MAX_DISPATCH_IPS = 100_000
MAX_REPORT_MESSAGE = 4000      # characters of an error report's message kept


@dataclass(eq=False)
class Pending:
    """A RATE request waiting for some of its jobs to become durable."""

    identity: bytes
    req_id: int
    items: list[tuple[str, JobState, str]]     # (domain, state, progress) at request time
    waiting: set[Job] = field(default_factory=set)
    done: bool = False


class BrokerCore:
    """Jobs, raters, acknowledgements and the retry policy; see the module docstring."""

    def __init__(self, config: BrokerConfig, host: str = "", process: str = "broker", epoch: str = "0") -> None:
        self.config = config
        self.host = host
        self.process = process
        self.fq = FairQueue()
        self.raters = RaterTable(config.liveness, config.max_job)
        self.counters: collections.Counter[str] = collections.Counter()
        self.recent: collections.deque[dict] = collections.deque(maxlen=config.recent)
        self._completions: collections.deque[float] = collections.deque()   # monotonic, last minute
        self.paused = False
        self.store_ok = True
        self.store_error = ""
        self.journal_problem = ""      # set when the journal cannot commit: new work is refused
        self._epoch = epoch
        self._seq = 0
        self._batches: dict[int, list[Job]] = {}        # enqueue token -> jobs
        self._waiters: dict[Job, list[Pending]] = {}    # job -> requests waiting for it to be durable
        self._blocked: set[bytes] = set()               # raters whose send queue was full this turn
        # Dispatches per owner IP since start or the last reset (operators and
        # the load test read the fairness spread from it); bounded.
        self.dispatch_by_ip: collections.Counter[str] = collections.Counter()
        self.replies: list[tuple[bytes, object]] = []
        self.to_raters: list[tuple[bytes, object]] = []
        self.writes: list[Op] = []
        self._reports = RateLimit(config.error_reports_per_min, 60.0)
        self.recently_rated = RecentlyRated(config.recently_rated)

    # ---- views ------------------------------------------------------------
    @property
    def unacked_batches(self) -> int:
        return len(self._batches)

    @property
    def pending_requests(self) -> int:
        return len({id(p) for ps in self._waiters.values() for p in ps if not p.done})

    def memory_sizes(self) -> dict[str, int]:
        """Sizes of the structures that must empty once work is finished."""
        return {"jobs": len(self.fq), "batches": len(self._batches), "waiters": len(self._waiters),
                "ips": self.fq.tracked_ips()}

    def refusal(self) -> str | None:
        """Why new work is refused right now, or None when it is accepted."""
        if self.journal_problem:
            return self.journal_problem
        if not self.store_ok:
            return f"store unavailable: {self.store_error}"
        if len(self._batches) >= self.config.max_unacked:
            return f"store is slow: {len(self._batches)} batches waiting for commit"
        return None

    def completed_last_minute(self, now: float) -> int:
        while self._completions and self._completions[0] < now - 60:
            self._completions.popleft()
        return len(self._completions)

    # ---- start-up -----------------------------------------------------------
    def load(self, jobs: Iterable[QueuedJob], wall: float) -> int:
        """Jobs reloaded from the durable queue (all durable by definition)."""
        n = 0
        for qj in jobs:
            self.fq.add(qj.domain, qj.client_ip, qj.priority, qj.enqueued_at or wall,
                        attempts=qj.attempts, durable=True)
            n += 1
        self.counters["reloaded"] += n
        return n

    # ---- clients --------------------------------------------------------------
    def rate(self, identity: bytes, req: RateRequest, wall: float, owner: str = "") -> None:
        """A RATE from ``identity``; ``owner`` is the sender's client key name ("" without keys)."""
        self.counters["rate_requests"] += 1
        refused = self.refusal()
        if refused is not None:
            self._unavailable(identity, req.req_id, refused)
            return
        ip = req.client_ip
        valid = [d for d in dict.fromkeys(req.domains) if is_registrable_domain(d)]
        # Rated moments ago (the asker has not seen it yet): no second job.
        just_rated = {d for d in valid if self.fq.get(d) is None and (d, wall) in self.recently_rated}
        new = [d for d in valid if self.fq.get(d) is None and d not in just_rated]
        outstanding = self.fq.outstanding(ip)
        if new and outstanding + len(new) > self.config.max_per_ip:
            self.counters["overloads"] += 1
            self.replies.append((identity, Overload(req_id=req.req_id, client_ip=ip,
                                                    outstanding=outstanding, limit=self.config.max_per_ip)))
            return
        over = self._over_caps(ip, len(new), owner) if new else None
        if over is not None:
            what, have, limit = over
            self.counters["overloads"] += 1
            self.counters["overload_" + what] += 1
            self.replies.append((identity, Overload(req_id=req.req_id, client_ip=ip, outstanding=have, limit=limit)))
            return
        items: list[tuple[str, JobState, str]] = []
        batch: list[Job] = []
        waiting: set[Job] = set()
        valid_set = set(valid)
        for domain in req.domains:
            if domain not in valid_set:
                items.append((domain[:253], JobState.INVALID, ""))
                continue
            if domain in just_rated:
                self.counters["just_rated"] += 1
                items.append((domain, JobState.RATING, "rated"))
                continue
            job, is_new = self.fq.add(domain, ip, req.priority, wall, owner=owner)
            if is_new:
                self.counters["accepted"] += 1
                batch.append(job)
            else:
                self.counters["coalesced"] += 1
                if not job.durable and not job.done and job.batch is None and job not in waiting:
                    # Its enqueue failed while a rater held it: write it again
                    # (once, however often the request names it).
                    batch.append(job)
            if not job.durable:
                waiting.add(job)
            items.append((domain, JobState.QUEUED if job.queued else JobState.RATING, job.progress[:200]))
        if batch:
            self.enqueue_new(batch)
        if waiting:
            pending = Pending(identity, req.req_id, items, waiting)
            for job in waiting:
                self._waiters.setdefault(job, []).append(pending)
        else:
            self.replies.append((identity, self._rate_reply(req.req_id, items)))

    def _over_caps(self, ip: str, new: int, owner: str) -> tuple[str, int, int] | None:
        """Which cap ``new`` more jobs (for ``ip``, from key ``owner``) would break: (name, have, limit)."""
        cfg, fq = self.config, self.fq
        if len(fq) + new > cfg.max_live_jobs:
            return "live_jobs", len(fq), cfg.max_live_jobs
        new_queue = not fq.has_queue(ip)
        if new_queue and fq.tracked_ips() >= cfg.max_queues:
            return "queues", fq.tracked_ips(), cfg.max_queues
        if owner:
            jobs, queues = fq.owned_by(owner)
            job_limit = max(1, int(cfg.max_live_jobs * cfg.key_share))
            queue_limit = max(1, int(cfg.max_queues * cfg.key_share))
            if jobs + new > job_limit:
                return "key_jobs", jobs, job_limit
            if new_queue and queues >= queue_limit:
                return "key_queues", queues, queue_limit
        return None

    def _rate_reply(self, req_id: int, items: list[tuple[str, JobState, str]]) -> RateReply:
        out = []
        for domain, state, progress in items:
            position = 0
            if state is JobState.QUEUED:
                job = self.fq.get(domain)
                position = self.fq.position(job) if job is not None else 0
            out.append(DomainStatus(domain=domain, state=state, position=position, progress=progress))
        return RateReply(req_id=req_id, items=tuple(out))

    def _unavailable(self, identity: bytes, req_id: int, reason: str) -> None:
        self.counters["unavailable"] += 1
        self.replies.append((identity, Unavailable(req_id=req_id, reason=reason[:500],
                                                   retry_after=self.config.retry_after)))

    def _resolve(self, job: Job, ok: bool, reason: str = "") -> None:
        """``job`` became durable (ok) or cannot be acknowledged now: answer who waited for it."""
        for pending in self._waiters.pop(job, ()):
            pending.waiting.discard(job)
            if pending.done:
                continue
            if not ok:
                pending.done = True
                self._unavailable(pending.identity, pending.req_id,
                                  reason or f"store unavailable: {self.store_error}")
            elif not pending.waiting:
                pending.done = True
                self.replies.append((pending.identity, self._rate_reply(pending.req_id, pending.items)))

    # ---- journal outcomes ------------------------------------------------------
    def store_state(self, ok: bool, detail: str) -> None:
        self.store_ok = ok
        self.store_error = "" if ok else detail

    def journal_outcome(self, outcome: Outcome, wall: float | None = None) -> None:
        """What the journal did with one write; ``wall``: when we learnt it (default: the rating's time)."""
        op = outcome.op
        if isinstance(op, Enqueue):
            self._enqueue_done(op.token, outcome.ok, outcome.detail)
        elif isinstance(op, Complete):
            self._complete_done(op, outcome, op.rating.rated_at if wall is None else wall)
        elif isinstance(op, FindRatedBy):
            admin.rerate_found(self, op, outcome, 0.0 if wall is None else wall)
        elif not outcome.ok:
            self.counters["writes_refused"] += 1

    def outcome_unhandled(self, outcome: Outcome) -> None:
        """Handling ``outcome`` raised (a bug): still answer whoever waits on it, keep its jobs.

        Jobs of an enqueue stay live (durable if the write committed; if not,
        the next request for one writes it again); a committed rating lets
        its job go; a refused one leaves the job as it is (its row remains).
        """
        op = outcome.op
        if isinstance(op, Enqueue):
            for job in self._batches.pop(op.token, ()):
                if job.batch == op.token:
                    job.batch = None
                if outcome.ok:
                    job.durable = True
                self._resolve(job, False, "internal error: ask again")
        elif isinstance(op, Complete):
            job = self.fq.get(op.rating.domain)
            if job is not None and job.done:
                if outcome.ok:
                    self.fq.finish(job)
                self._resolve(job, False, "internal error: ask again")

    def journal_stopped(self, detail: str) -> None:
        """The journal can never commit again: answer everyone waiting, refuse new work."""
        self.journal_problem = f"journal stopped: {detail}"
        for job in list(self._waiters):
            self._resolve(job, False, self.journal_problem)
        self._batches.clear()

    def _enqueue_done(self, token: int, ok: bool, detail: str) -> None:
        for job in self._batches.pop(token, ()):
            if job.batch == token:
                job.batch = None
            if ok:
                job.durable = True
            elif self.fq.get(job.domain) is job and job.queued and not job.durable:
                # Never acknowledged, never written: forget it. (In flight or
                # rated, it stays: its rating is stored when it comes.)
                self.fq.finish(job)
            self._resolve(job, ok, "" if ok else f"store unavailable: {detail or self.store_error}")

    def _complete_done(self, op: Complete, outcome: Outcome, wall: float) -> None:
        job = self.fq.get(op.rating.domain)
        if job is None or not job.done:
            return
        if outcome.ok:
            # The rating is committed: a new request may make a new job once
            # the recently-rated window has passed.
            self.counters["rated_" + op.rating.rating] += 1
            self.fq.finish(job)
            self.recently_rated.add(job.domain, wall)
            self._resolve(job, True)
            return
        self.counters["ratings_refused"] += 1
        self._resolve(job, False, f"rating could not be stored: {outcome.detail}")
        if op.given_up:
            # Even the error rating was refused: forget the job here; its
            # queue row (if any) brings it back at the next start.
            self.fq.finish(job)
            return
        self.fq.unretire(job)
        self._attempt_failed(job, f"the store refused its rating: {outcome.detail}", "", "broker",
                             op.rating.rated_at)

    # ---- raters -------------------------------------------------------------------
    def rater_message(self, identity: bytes, msg, now: float, wall: float, key: str = "") -> None:
        """One decoded message from the rater socket; ``key`` is its sender's CURVE key name ("" without keys).

        A routing identity is bound to the key that registered it: a message
        from that identity under another key is dropped (``wrong_key``), so
        one key can neither take over another's jobs nor answer them. RESULT,
        FAILED and PULSE count only from the rater that was given that
        job_id (``not_holder`` otherwise; nothing changes).
        """
        rater = self.raters.get(identity)
        if rater is not None and rater.key != key:
            self.counters["wrong_key"] += 1
            return
        if isinstance(msg, Ready):
            rater, orphaned = self.raters.register(
                identity, host=msg.host, pid=msg.pid, worker=msg.worker, version=msg.version,
                capacity=msg.capacity, jobs_done=msg.jobs_done, now=now, key=key, update=msg.update,
                released=msg.released)
            for job in orphaned:
                self._hand_back(job, identity)
            self.counters["ready"] += 1
            return
        if isinstance(msg, ErrorReport):
            # Any authenticated rater key may report (a supervisor reports a
            # worker crash before, or without, ever registering itself).
            self._error_report(msg, rater, wall, identity, key)
            return
        if rater is None:
            if isinstance(msg, (Result, Failed, Pulse)):
                # Work from before our restart, or a forgery: the job (if
                # live) is requeued and rated by a rater that holds it.
                self.counters["not_holder"] += 1
            if not isinstance(msg, Disconnect):
                self.counters["unknown_rater"] += 1
                self.to_raters.append((identity, Disconnect(reason="unknown rater: send READY", reregister=True)))
            return
        self.raters.seen(rater, now)
        if isinstance(msg, Pulse):
            self.counters["pulse_messages"] += 1
            for pulse in (msg, *msg.more):
                self._progress(rater, identity, pulse, now)
            return
        if isinstance(msg, (Result, Failed)) and msg.job_id not in rater.jobs:
            self.counters["not_holder"] += 1
            return
        if isinstance(msg, Result):
            held = self.raters.release(rater, msg.job_id)
            rater.jobs_done += 1
            if held.domain != msg.domain:
                # A rater bug: never file a rating under the wrong domain.
                self.counters["mismatched_results"] += 1
                if self.fq.get(held.domain) is held and held.job_id == msg.job_id:
                    self._attempt_failed(held, f"rater {rater.name} answered job {msg.job_id} "
                                               f"({held.domain}) with a result for {msg.domain}", "", "broker", wall)
                return
            self._accept_result(msg, rater, held, now, wall)
        elif isinstance(msg, Failed):
            job = self.raters.release(rater, msg.job_id)
            self.counters["failed"] += 1
            if self.fq.get(job.domain) is job and job.job_id == msg.job_id:
                self._attempt_failed(job, f"rater {rater.name} failed: {msg.error}", msg.traceback, "rater", wall)
        elif isinstance(msg, Disconnect):
            for job in self.raters.remove(identity):
                self._hand_back(job, identity)
            self.counters["disconnects"] += 1
        elif not isinstance(msg, Heartbeat):
            self.counters["malformed_rater"] += 1

    def _progress(self, rater: Rater, identity: bytes, pulse: Pulse, now: float) -> None:
        """One job's progress (a PULSE, or one carried in another's ``more``): its lease renewed."""
        job = rater.jobs.get(pulse.job_id)
        if job is None:
            self.counters["not_holder"] += 1
            return
        if job.rater == identity and job.job_id == pulse.job_id:
            job.lease_until = now + self.config.lease
            job.progress = _progress_text(pulse)
        self.counters["pulses"] += 1

    def _error_report(self, msg: ErrorReport, rater: Rater | None, wall: float, identity: bytes = b"",
                      key: str = "") -> None:
        if not self._reports.allow(key or identity.hex(), wall):
            self.counters["error_reports_dropped"] += 1
            return
        host = msg.host or (rater.host if rater else "")
        process = msg.process or (f"raterd[{rater.pid}]" if rater else "raterd")
        self.writes.append(AppendErrors((ErrorRecord(
            at=wall, host=host, process=process, component=msg.component or "rater",
            message=msg.message[:MAX_REPORT_MESSAGE], traceback=_clip(msg.traceback, self.config.max_traceback),
            domain=msg.domain),)))
        self.counters["error_reports"] += 1

    def _accept_result(self, msg: Result, rater: Rater, held: Job, now: float, wall: float) -> None:
        job = self.fq.get(msg.domain)
        if job is None or job.done or held is not job:
            # Rated already (by another rater after this one's lease ran out),
            # or work for an earlier job of the domain whose rating is stored.
            self.counters["stale_results"] += 1
            return
        self._store_rating(job, msg.rating, msg.ratinginfo, dict(msg.location) if msg.location else None,
                           list(msg.evidence), elapsed=msg.elapsed, rater=rater.rated_by, wall=wall)
        self.counters["completed"] += 1
        self._completions.append(now)
        self.completed_last_minute(now)

    def _store_rating(self, job: Job, rating: Rating, ratinginfo: RatingInfo, location: dict | None,
                      evidence: list, elapsed: float, rater: str, wall: float, given_up: bool = False) -> None:
        """Retire the job and journal its rating; the job stays live until the commit."""
        self.fq.retire(job)
        ttl = self.config.error_ttl if ratinginfo == RatingInfo.ERROR else self.config.rating_ttl
        self.writes.append(Complete(StoredRating(
            domain=job.domain, rating=str(rating), ratinginfo=str(ratinginfo), location=location,
            evidence=evidence, rated_at=wall, expires_at=wall + ttl, rated_by=rater), given_up))
        self.recent.append({"domain": job.domain, "rating": str(rating), "ratinginfo": str(ratinginfo),
                            "elapsed": round(elapsed, 3), "rater": rater, "at": wall})

    def _hand_back(self, job: Job, identity: bytes) -> None:
        """A rater gave a job back without failing it (shutdown, restart)."""
        if self.fq.get(job.domain) is job and job.rater == identity:
            self.fq.requeue(job)
            self.counters["handed_back"] += 1

    def _attempt_failed(self, job: Job, reason: str, tb: str, component: str, wall: float) -> None:
        tb = _clip(tb, self.config.max_traceback)
        job.attempts += 1
        job.last_error = tb or reason
        self.writes.append(AppendErrors((ErrorRecord(
            at=wall, host=self.host, process=self.process, component=component,
            message=f"{job.domain}: attempt {job.attempts}/{self.config.max_attempts}: {reason}"[:60000],
            traceback=tb, domain=job.domain),)))
        if job.attempts >= self.config.max_attempts:
            self._store_rating(job, Rating.U, RatingInfo.ERROR, None,
                               [{"kind": "error", "value": f"gave up after {job.attempts} attempts: {reason}"[:2000],
                                 "source": "broker"}], elapsed=0.0, rater="", wall=wall, given_up=True)
            self.counters["gave_up"] += 1
            return
        if job.in_flight:
            self.fq.requeue(job)
        self.writes.append(RecordAttempts(job.domain, job.attempts))
        self.counters["requeued"] += 1

    # ---- dispatch and timers ----------------------------------------------------------
    def begin_dispatch(self) -> None:
        self._blocked.clear()

    def next_assignment(self, now: float) -> tuple[Rater, JobMessage] | None:
        """The next JOB to send, already assigned; report a failed send with :meth:`send_failed`."""
        if self.paused or self.journal_problem:
            return None
        rater = self.raters.next_free(exclude=self._blocked)
        if rater is None:
            return None
        job = self.fq.pop()
        if job is None:
            return None
        if job.last_rater is not None:
            # A retry goes to another rater when there is one: the last
            # one may be dying (it reported FAILED and is not gone yet).
            rater = self.raters.next_free(avoid=job.last_rater, exclude=self._blocked) or rater
        self._seq += 1
        job_id = f"{self._epoch}-{self._seq}"
        self.raters.assign(rater, job, job_id, now, self.config.lease)
        self.raters.mark_used(rater)
        self.counters["dispatched"] += 1
        if job.client_ip in self.dispatch_by_ip or len(self.dispatch_by_ip) < MAX_DISPATCH_IPS:
            self.dispatch_by_ip[job.client_ip] += 1
        return rater, JobMessage(job_id=job_id, domain=job.domain, attempt=job.attempts + 1,
                                 lease=self.config.lease, deadline=self.config.rating_deadline)

    def send_failed(self, rater: Rater, job_id: str, gone: bool) -> None:
        """A JOB could not be sent: the rater is gone (``gone``), or its queue is full for now."""
        self.counters["dispatched"] -= 1
        job = rater.jobs.get(job_id)
        if job is not None and self.dispatch_by_ip.get(job.client_ip):
            self.dispatch_by_ip[job.client_ip] -= 1
        if gone:
            self.counters["rater_gone"] += 1
            for held in self.raters.remove(rater.identity):
                self._hand_back(held, rater.identity)
            return
        # Full, not dead: give the job back (no attempt lost) and leave this
        # rater alone until the next turn.
        self.counters["rater_backpressure"] += 1
        job = self.raters.release(rater, job_id)
        if job is not None and job.job_id == job_id and self.fq.get(job.domain) is job:
            self.fq.requeue(job)
            job.last_rater = None
        self._blocked.add(rater.identity)

    def timers(self, now: float, wall: float) -> list[bytes]:
        """Dead raters and expired leases; returns the raters owed a heartbeat."""
        for rater in self.raters.dead(now):
            jobs = self.raters.remove(rater.identity)
            self.counters["dead_raters"] += 1
            for job in jobs:
                if self.fq.get(job.domain) is job and job.rater == rater.identity:
                    self._attempt_failed(job, f"rater {rater.name} (pid {rater.pid}) died or went silent",
                                         "", "broker", wall)
        for rater, job in self.raters.expired_leases(now, self.config.max_job):
            # The rater stays busy (alive is not free): only READY/RESULT frees it.
            self.counters["lease_expired"] += 1
            self._attempt_failed(job, f"lease expired on rater {rater.name} (no progress for "
                                      f"{self.config.lease:.0f} s or over {self.config.max_job:.0f} s)",
                                 "", "broker", wall)
        return [r.identity for r in self.raters.heartbeats_owed(now, self.config.heartbeat)]

    # ---- operator actions -------------------------------------------------------------
    def cancel(self, domains: Iterable[str]) -> list[str]:
        """Drop these jobs (queued or in flight); a job already rated is not cancelled."""
        cancelled = []
        for domain in domains:
            job = self.fq.get(domain)
            if job is not None and not job.done:
                self.fq.finish(job)
                cancelled.append(domain)
        if cancelled:
            self.writes.append(Remove(tuple(cancelled)))
        return cancelled

    def enqueue_new(self, batch: list[Job]) -> None:
        """Journal the queue rows of jobs just created, as one batch (durable at its commit)."""
        self._seq += 1
        token = self._seq
        self._batches[token] = batch
        for job in batch:
            job.batch = token
        self.writes.append(Enqueue(token, tuple(
            QueuedJob(j.domain, j.client_ip, j.priority, j.enqueued_at, j.attempts) for j in batch)))

    def set_weight(self, ip: str, weight: int) -> None:
        self.fq.set_weight(ip, weight)

    def set_draining(self, rater: Rater, draining: bool) -> None:
        self.raters.set_draining(rater, draining)


def _clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, keeping the end (a traceback's last lines name the error)."""
    if len(text) <= limit:
        return text
    return "[clipped]\n" + text[-(limit - 10):]


def _progress_text(msg: Pulse) -> str:
    text = msg.stage
    if msg.total:
        text += f" {msg.done}/{msg.total}"
    if msg.detail:
        text += f" {msg.detail}"
    return text[:300]
