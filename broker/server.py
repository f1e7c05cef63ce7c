"""The broker's event loop: two ROUTER sockets, a fair queue and a journal.

Flow of one rating::

    frontend --RATE--> [clients ROUTER] --> FairQueue.add --> Journal (enqueue)
                                                  |                 | commit
                                                  |                 v
                                                  |      RATE_REPLY to the frontend
                                                  v          (only once durable)
    rater <--JOB-- [raters ROUTER] <-- dispatch (DRR over client IPs)
    rater --PULSE--> lease extended, progress shown in stats
    rater --RESULT--> FairQueue.finish --> Journal (rating + retire job, one txn)

Design points (see also README "Broker"):

* One thread owns both ROUTER sockets; the journal thread owns the store.
  Nothing here blocks on the database: writes are handed to the journal and
  their outcomes come back through an ``inproc`` wake-up socket.
* A request is acknowledged only after its new jobs are committed (group
  commit). Dispatch may run ahead of the commit: the journal writes in order,
  so a result can never retire a queue row before that row is written, and a
  job whose enqueue failed is dropped from memory unless already in flight
  (then its rating is simply stored). Dispatch latency stays sub-millisecond
  while durability is untouched.
* "Alive" and "free" are different (see :mod:`broker.raters`). Jobs whose
  rater died, disconnected or overran its lease are re-queued; after
  ``max_attempts`` the job is stored as U/``error`` with its traceback in the
  error log.
* Every frame from a socket is decoded by :mod:`protocol`; anything malformed
  is counted and dropped (clients get an ERROR reply), never raised.
"""

from __future__ import annotations

import collections
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field

import zmq

from protocol import (
    AdminReply,
    AdminRequest,
    Disconnect,
    DomainStatus,
    ErrorReply,
    ErrorReport,
    Failed,
    Heartbeat,
    JobState,
    Overload,
    ProtocolError,
    Pulse,
    RateReply,
    RateRequest,
    Ready,
    Result,
    StatsReply,
    StatsRequest,
    Unavailable,
    decode,
    is_registrable_domain,
    join_envelope,
    split_envelope,
)
from protocol import Job as JobMessage
from protocol.vocabulary import Rating, RatingInfo
from store import ErrorRecord, QueuedJob, StoredRating, open_store

from . import admin, stats
from .config import BrokerConfig
from .errorlog import JournalLogHandler
from .fairqueue import FairQueue, Job
from .journal import Journal
from .raters import Rater, RaterTable

__all__ = ["Broker"]

log = logging.getLogger(__name__)

# Messages read from one socket per loop turn before looking at the other:
# a flood on one side cannot starve the other.
_BATCH = 500
_TICK = 0.1          # seconds between timer checks when nothing happens


@dataclass(eq=False)
class _PendingReply:
    """A RATE request waiting for its new jobs to be committed."""

    identity: bytes
    req_id: int
    items: list[tuple[str, JobState, str]]     # (domain, state, progress), made into DomainStatus at reply time
    waiting: set[str] = field(default_factory=set)
    done: bool = False


class Broker:
    """Run with :meth:`start` then :meth:`run`; stop with :meth:`stop` from any thread."""

    def __init__(self, config: BrokerConfig, context: zmq.Context | None = None) -> None:
        self.config = config
        self.context = context or zmq.Context.instance()
        self.fq = FairQueue()
        self.raters = RaterTable(config.liveness)
        self.counters: collections.Counter[str] = collections.Counter()
        self.recent: collections.deque[dict] = collections.deque(maxlen=config.recent)
        # Completion times of the last minute, oldest first (pruned as we go).
        self.completions: collections.deque[float] = collections.deque()
        self.started_at = time.time()
        self.paused = False
        self.store_ok = True
        self.host = socket.gethostname()
        self._epoch = f"{int(self.started_at * 1000) & 0xFFFFFFFFFF:x}"
        self._seq = 0
        self._batches: dict[int, list[Job]] = {}           # enqueue token -> jobs
        self._waiters: dict[str, list[_PendingReply]] = {}  # domain -> requests awaiting commit
        self._stop = threading.Event()
        self._writes: list[tuple[str, list, object]] = []   # for the journal, after this turn's dispatch
        self._wake_endpoint = f"inproc://broker-journal-{id(self)}"
        self.journal = Journal(self.context, config.store, self._wake_endpoint)
        self.clients: zmq.Socket | None = None
        self.raters_sock: zmq.Socket | None = None
        self._wake: zmq.Socket | None = None
        self.client_endpoint = config.bind_clients
        self.rater_endpoint = config.bind_raters
        self._log_handler: logging.Handler | None = None

    # ---- life cycle ------------------------------------------------------
    def start(self) -> None:
        """Migrate and load the durable queue, start the journal, bind sockets."""
        self._load_queue()
        self._wake = self.context.socket(zmq.PULL)
        self._wake.bind(self._wake_endpoint)
        self.journal.start()
        self.clients = self._router(self.config.bind_clients, hwm=100_000)
        self.raters_sock = self._router(self.config.bind_raters, hwm=10_000)
        self.raters_sock.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self.client_endpoint = self.clients.getsockopt_string(zmq.LAST_ENDPOINT)
        self.rater_endpoint = self.raters_sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self._log_handler = JournalLogHandler(self)
        logging.getLogger().addHandler(self._log_handler)
        log.info("broker up: clients %s, raters %s, %d jobs loaded",
                 self.client_endpoint, self.rater_endpoint, len(self.fq))

    def _router(self, endpoint: str, hwm: int) -> zmq.Socket:
        sock = self.context.socket(zmq.ROUTER)
        # Sending to a peer that is gone raises instead of vanishing silently.
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        # At shutdown give queued replies a moment, never hang.
        sock.setsockopt(zmq.LINGER, 500)
        sock.setsockopt(zmq.SNDHWM, hwm)
        sock.setsockopt(zmq.RCVHWM, hwm)
        # libzmq drops oversized messages (and the peer) before we see them.
        sock.setsockopt(zmq.MAXMSGSIZE, self.config.max_message)
        sock.setsockopt(zmq.TCP_KEEPALIVE, 1)
        sock.setsockopt(zmq.TCP_KEEPALIVE_IDLE, 60)
        sock.bind(endpoint)
        return sock

    def _load_queue(self) -> None:
        """Reload the durable queue; jobs that were in flight at a crash are simply queued again."""
        now = time.time()
        loaded = 0
        store = open_store(self.config.store)
        try:
            store.migrate()
            for qj in store.iter_queue():          # streamed: a million rows never sit in a list
                self.fq.add(qj.domain, qj.client_ip, qj.priority, qj.enqueued_at or now,
                            attempts=qj.attempts, durable=True)
                loaded += 1
        finally:
            store.close()
        self.counters["reloaded"] += loaded

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        """Tell raters we are going, flush the journal, close sockets."""
        if self._log_handler is not None:
            logging.getLogger().removeHandler(self._log_handler)
            self._log_handler = None
        if self.raters_sock is not None:
            for rater in list(self.raters):
                self._send_rater(rater.identity, Disconnect(reason="broker shutting down", reregister=True))
        self._flush_writes()
        self.journal.stop()
        for sock in (self.clients, self.raters_sock, self._wake):
            if sock is not None:
                sock.close()
        self.clients = self.raters_sock = self._wake = None

    def run(self) -> None:
        poller = zmq.Poller()
        poller.register(self.clients, zmq.POLLIN)
        poller.register(self.raters_sock, zmq.POLLIN)
        poller.register(self._wake, zmq.POLLIN)
        next_tick = time.monotonic()
        while not self._stop.is_set():
            events = dict(poller.poll(timeout=max(0.0, next_tick - time.monotonic()) * 1000))
            if self._wake in events:
                self._drain_wake()
            if self.raters_sock in events:
                self._read(self.raters_sock, self._on_rater)
            if self.clients in events:
                self._read(self.clients, self._on_client)
            now = time.monotonic()
            if now >= next_tick:
                self._timers(now)
                next_tick = now + _TICK
            self._dispatch()
            self._flush_writes()

    def _write(self, kind: str, items: list, token=None) -> None:
        """Queue a journal write; it is handed over after this turn's dispatch.

        Handing it over wakes the journal thread, which then competes with
        this one for the GIL. Done after the JOBs are sent, it stays off the
        dispatch path (measured inside the broker, RATE in -> JOB out at
        light load: p50 about 320 us instead of about 400 us).
        """
        self._writes.append((kind, items, token))

    def _flush_writes(self) -> None:
        if self._writes:
            writes, self._writes = self._writes, []
            for kind, items, token in writes:
                self.journal.submit(kind, items, token)

    def _read(self, sock: zmq.Socket, handler) -> None:
        for _ in range(_BATCH):
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK, copy=True)
            except zmq.Again:
                return
            try:
                handler(frames)
            except Exception:
                # A bug must not take the broker down with it; it lands in
                # the error log through the journal log handler.
                log.exception("error handling a message")
                self.counters["handler_errors"] += 1

    # ---- clients ---------------------------------------------------------
    def _on_client(self, frames: list[bytes]) -> None:
        try:
            identity, app = split_envelope(frames)
        except ProtocolError:
            self.counters["malformed_client"] += 1
            return
        try:
            msg = decode(app)
        except ProtocolError as e:
            self.counters["malformed_client"] += 1
            self._send_client(identity, ErrorReply(req_id=0, code="protocol", message=str(e)[:500]))
            return
        if isinstance(msg, RateRequest):
            self._on_rate(identity, msg)
        elif isinstance(msg, StatsRequest):
            self.counters["stats_requests"] += 1
            self._send_client(identity, StatsReply(req_id=msg.req_id, stats=stats.snapshot(self, msg.recent)))
        elif isinstance(msg, AdminRequest):
            ok, detail, data = admin.handle(self, msg.action, msg.args)
            self.counters["admin_requests"] += 1
            self._send_client(identity, AdminReply(req_id=msg.req_id, ok=ok, detail=detail, data=data))
        else:
            self.counters["malformed_client"] += 1
            self._send_client(identity, ErrorReply(
                req_id=getattr(msg, "req_id", 0), code="unexpected",
                message=f"{type(msg).__name__} is not a client request"))

    def _on_rate(self, identity: bytes, req: RateRequest) -> None:
        self.counters["rate_requests"] += 1
        if not self.store_ok or len(self._batches) >= self.config.max_unacked:
            self.counters["unavailable"] += 1
            self._send_unavailable(identity, req.req_id, None if not self.store_ok else
                                   f"store is slow: {len(self._batches)} batches waiting for commit")
            return
        ip = req.client_ip
        valid = [d for d in dict.fromkeys(req.domains) if is_registrable_domain(d)]
        new = [d for d in valid if self.fq.get(d) is None]
        outstanding = self.fq.outstanding(ip)
        if new and outstanding + len(new) > self.config.max_per_ip:
            self.counters["overloads"] += 1
            self._send_client(identity, Overload(req_id=req.req_id, client_ip=ip,
                                                 outstanding=outstanding, limit=self.config.max_per_ip))
            return
        now = time.time()
        # Plain tuples here; the validated DomainStatus messages are built
        # when the reply is sent, after this turn's dispatch.
        items: list[tuple[str, JobState, str]] = []
        created: list[Job] = []
        waiting: set[str] = set()
        valid_set = set(valid)
        for domain in req.domains:
            if domain not in valid_set:
                items.append((domain[:253], JobState.INVALID, ""))
                continue
            job, is_new = self.fq.add(domain, ip, req.priority, now)
            if is_new:
                created.append(job)
            else:
                self.counters["coalesced"] += 1
            if not job.durable:
                waiting.add(domain)
            items.append((domain, JobState.QUEUED if job.queued else JobState.RATING, job.progress[:200]))
        self.counters["accepted"] += len(created)
        if created:
            self._seq += 1
            token = self._seq
            self._batches[token] = created
            self._write("enqueue", [QueuedJob(j.domain, j.client_ip, j.priority, j.enqueued_at, j.attempts)
                                            for j in created], token)
        if waiting:
            pending = _PendingReply(identity, req.req_id, items, waiting)
            for domain in waiting:
                self._waiters.setdefault(domain, []).append(pending)
        else:
            self._send_client(identity, _rate_reply(req.req_id, items))

    def _send_unavailable(self, identity: bytes, req_id: int, reason: str | None = None) -> None:
        reason = reason or f"store unavailable: {self.journal.last_error}"
        self._send_client(identity, Unavailable(req_id=req_id, reason=reason[:500],
                                                retry_after=self.config.retry_after))

    def _send_client(self, identity: bytes, msg) -> None:
        try:
            self.clients.send_multipart(join_envelope(identity, msg.to_frames()), zmq.NOBLOCK)
        except zmq.ZMQError as e:
            # EHOSTUNREACH: the client went away (ROUTER_MANDATORY); EAGAIN:
            # it is not reading. Either way the reply has nowhere to go.
            self.counters["client_send_failures"] += 1
            log.debug("reply to client %r dropped: %s", identity, e)

    # ---- journal outcomes --------------------------------------------------
    def _drain_wake(self) -> None:
        while True:
            try:
                self._wake.recv(zmq.NOBLOCK)
            except zmq.Again:
                break
        outcomes = self.journal.outcomes
        while outcomes:
            outcome = outcomes.popleft()
            if outcome.kind == "store":
                self.store_ok = outcome.ok
            elif outcome.kind == "enqueue":
                self._enqueue_done(outcome.token, outcome.ok)
            elif outcome.kind == "complete" and isinstance(outcome.token, Job):
                # The rating is committed: only now may a new request make a new job.
                self.fq.finish(outcome.token)

    def _enqueue_done(self, token: int, ok: bool) -> None:
        jobs = self._batches.pop(token, [])
        for job in jobs:
            live = self.fq.get(job.domain) is job
            if ok:
                job.durable = True
            elif live and job.queued:
                # Never acknowledged, never written: forget it. (In flight, it
                # is rated anyway and the rating stored when the store returns.)
                self.fq.finish(job)
            for pending in self._waiters.pop(job.domain, []):
                pending.waiting.discard(job.domain)
                if pending.done:
                    continue
                if not ok:
                    pending.done = True
                    self.counters["unavailable"] += 1
                    self._send_unavailable(pending.identity, pending.req_id)
                elif not pending.waiting:
                    pending.done = True
                    self._send_client(pending.identity, _rate_reply(pending.req_id, pending.items))

    # ---- raters ------------------------------------------------------------
    def _on_rater(self, frames: list[bytes]) -> None:
        try:
            identity, app = split_envelope(frames)
            msg = decode(app)
        except ProtocolError as e:
            self.counters["malformed_rater"] += 1
            log.debug("malformed rater message: %s", e)
            return
        now = time.monotonic()
        rater = self.raters.get(identity)
        if isinstance(msg, Ready):
            rater, orphaned = self.raters.register(
                identity, host=msg.host, pid=msg.pid, worker=msg.worker, version=msg.version,
                capacity=msg.capacity, jobs_done=msg.jobs_done, now=now)
            for job in orphaned:
                self._hand_back(job, identity)
            self.counters["ready"] += 1
            return
        if isinstance(msg, ErrorReport):
            # Accepted from any peer on the rater socket (raters are our own
            # machines): a supervisor reports a worker crash before, or
            # without, ever registering itself.
            self._error_report(msg, rater)
            return
        if rater is None:
            if isinstance(msg, Result):
                # A rater finishing work from before our restart: keep the rating.
                self._accept_result(msg, None)
            if not isinstance(msg, Disconnect):
                self.counters["unknown_rater"] += 1
                self._send_rater(identity, Disconnect(reason="unknown rater: send READY", reregister=True))
            return
        self.raters.seen(rater, now)
        if isinstance(msg, Heartbeat):
            return
        if isinstance(msg, Pulse):
            job = rater.jobs.get(msg.job_id)
            if job is not None and job.rater == identity and job.job_id == msg.job_id:
                job.lease_until = now + self.config.lease
                job.progress = _progress_text(msg)
            self.counters["pulses"] += 1
        elif isinstance(msg, Result):
            held = self.raters.release(rater, msg.job_id)
            rater.jobs_done += 1
            if held is not None and held.domain != msg.domain:
                # A rater bug: never file a rating under the wrong domain.
                self.counters["mismatched_results"] += 1
                if self.fq.get(held.domain) is held and held.job_id == msg.job_id:
                    self._attempt_failed(held, f"rater {rater.name} answered job {msg.job_id} "
                                               f"({held.domain}) with a result for {msg.domain}", "", "broker")
                return
            self._accept_result(msg, rater)
        elif isinstance(msg, Failed):
            job = self.raters.release(rater, msg.job_id)
            self.counters["failed"] += 1
            if job is not None and self.fq.get(job.domain) is job and job.job_id == msg.job_id:
                self._attempt_failed(job, f"rater {rater.name} failed: {msg.error}", msg.traceback, "rater")
        elif isinstance(msg, Disconnect):
            for job in self.raters.remove(identity):
                self._hand_back(job, identity)
            self.counters["disconnects"] += 1
        else:
            self.counters["malformed_rater"] += 1

    def _error_report(self, msg: ErrorReport, rater: Rater | None) -> None:
        host = msg.host or (rater.host if rater else "")
        process = msg.process or (f"raterd[{rater.pid}]" if rater else "raterd")
        self._write("errors", [ErrorRecord(
            at=time.time(), host=host, process=process, component=msg.component or "rater",
            message=msg.message, traceback=msg.traceback, domain=msg.domain)])
        self.counters["error_reports"] += 1

    def _send_rater(self, identity: bytes, msg) -> bool:
        try:
            self.raters_sock.send_multipart(join_envelope(identity, msg.to_frames()), zmq.NOBLOCK)
        except zmq.ZMQError as e:
            self.counters["rater_send_failures"] += 1
            log.debug("message to rater %r dropped: %s", identity, e)
            return False
        rater = self.raters.get(identity)
        if rater is not None:
            rater.last_sent = time.monotonic()
        return True

    def _accept_result(self, msg: Result, rater: Rater | None) -> None:
        job = self.fq.get(msg.domain)
        if job is None or job.done:
            # Rated already (e.g. by another rater after this one's lease ran out).
            self.counters["stale_results"] += 1
            return
        self._store_rating(job, msg.rating, msg.ratinginfo, dict(msg.location) if msg.location else None,
                           list(msg.evidence), elapsed=msg.elapsed, rater=rater.name if rater else "")
        self.counters["completed"] += 1
        self._count_completion()

    def _store_rating(self, job: Job, rating: Rating, ratinginfo: RatingInfo, location: dict | None,
                      evidence: list, elapsed: float, rater: str) -> None:
        """Retire the job and journal its rating; the job stays live until the commit."""
        self.fq.retire(job)
        now = time.time()
        ttl = self.config.error_ttl if ratinginfo == RatingInfo.ERROR else self.config.rating_ttl
        self._write("complete", [StoredRating(
            domain=job.domain, rating=str(rating), ratinginfo=str(ratinginfo), location=location,
            evidence=evidence, rated_at=now, expires_at=now + ttl)], token=job)
        self.recent.append({"domain": job.domain, "rating": str(rating), "ratinginfo": str(ratinginfo),
                            "elapsed": round(elapsed, 3), "rater": rater, "at": now})

    def _count_completion(self) -> None:
        now = time.monotonic()
        self.completions.append(now)
        while self.completions[0] < now - 60:
            self.completions.popleft()

    def completed_last_minute(self) -> int:
        now = time.monotonic()
        while self.completions and self.completions[0] < now - 60:
            self.completions.popleft()
        return len(self.completions)

    def _hand_back(self, job: Job, identity: bytes) -> None:
        """A rater gave a job back without failing it (shutdown, restart)."""
        if self.fq.get(job.domain) is job and job.rater == identity:
            self.fq.requeue(job)
            self.counters["handed_back"] += 1

    def _attempt_failed(self, job: Job, reason: str, tb: str, component: str) -> None:
        job.attempts += 1
        job.last_error = tb or reason
        self._write("errors", [ErrorRecord(
            at=time.time(), host=self.host, process=f"broker[{os.getpid()}]", component=component,
            message=f"{job.domain}: attempt {job.attempts}/{self.config.max_attempts}: {reason}"[:60000],
            traceback=tb, domain=job.domain)])
        if job.attempts >= self.config.max_attempts:
            self._give_up(job, reason)
            return
        self.fq.requeue(job)
        self._write("attempts", [(job.domain, job.attempts)])
        self.counters["requeued"] += 1

    def _give_up(self, job: Job, reason: str) -> None:
        self._store_rating(job, Rating.U, RatingInfo.ERROR, None,
                           [{"kind": "error", "value": f"gave up after {job.attempts} attempts: {reason}"[:2000],
                             "source": "broker"}], elapsed=0.0, rater="")
        self.counters["gave_up"] += 1
        log.warning("gave up on %s after %d attempts: %s", job.domain, job.attempts, reason)

    # ---- dispatch and timers -------------------------------------------------
    def _dispatch(self) -> None:
        if self.paused:
            return
        while True:
            rater = self.raters.next_free()
            if rater is None:
                return
            job = self.fq.pop()
            if job is None:
                return
            if job.last_rater is not None:
                # A retry goes to another rater when there is one: the last
                # one may be dying (it reported FAILED and is not gone yet).
                rater = self.raters.next_free(avoid=job.last_rater)
            self._seq += 1
            job_id = f"{self._epoch}-{self._seq}"
            now = time.monotonic()
            self.raters.assign(rater, job, job_id, now, self.config.lease)
            self.raters.mark_used(rater)
            sent = self._send_rater(rater.identity, JobMessage(
                job_id=job_id, domain=job.domain, attempt=job.attempts + 1,
                lease=self.config.lease, deadline=self.config.rating_deadline))
            if not sent:
                # The rater is gone (ROUTER_MANDATORY told us): forget it, keep the job.
                for held in self.raters.remove(rater.identity):
                    self._hand_back(held, rater.identity)
                continue
            self.counters["dispatched"] += 1

    def _timers(self, now: float) -> None:
        for rater in self.raters.dead(now):
            jobs = self.raters.remove(rater.identity)
            self.counters["dead_raters"] += 1
            log.warning("rater %s (pid %d) silent for %.1f s: presumed dead, %d job(s) re-queued",
                        rater.name, rater.pid, now - rater.last_seen, len(jobs))
            for job in jobs:
                if self.fq.get(job.domain) is job and job.rater == rater.identity:
                    self._attempt_failed(job, f"rater {rater.name} (pid {rater.pid}) died or went silent",
                                         "", "broker")
        for rater, job in self.raters.expired_leases(now, self.config.max_job):
            # The rater stays busy (alive is not free): only READY/RESULT frees it.
            self.counters["lease_expired"] += 1
            self._attempt_failed(job, f"lease expired on rater {rater.name} (no progress for "
                                      f"{self.config.lease:.0f} s or over {self.config.max_job:.0f} s)", "", "broker")
        for rater in list(self.raters):
            if now - rater.last_sent >= self.config.heartbeat:
                self._send_rater(rater.identity, Heartbeat())


def _rate_reply(req_id: int, items: list[tuple[str, JobState, str]]) -> RateReply:
    return RateReply(req_id=req_id, items=tuple(DomainStatus(domain=d, state=st, progress=pr) for d, st, pr in items))


def _progress_text(msg: Pulse) -> str:
    text = msg.stage
    if msg.total:
        text += f" {msg.done}/{msg.total}"
    if msg.detail:
        text += f" {msg.detail}"
    return text[:300]
