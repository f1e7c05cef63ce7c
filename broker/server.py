"""The broker's event loop: two ROUTER sockets around the acknowledgement core.

Flow of one rating::

    frontend --RATE--> [clients ROUTER] --> BrokerCore.rate --> Journal (Enqueue)
                                                  |                  | commit
                                                  |                  v
                                                  |      RATE_REPLY to the frontend
                                                  v          (only once durable)
    rater <--JOB-- [raters ROUTER] <-- BrokerCore.next_assignment (DRR over client IPs)
    rater --PULSE--> lease extended, progress shown in stats
    rater --RESULT--> BrokerCore (retire) --> Journal (Complete: rating + queue row, one txn)

This module only moves bytes: it decodes frames (:mod:`protocol`), feeds the
pure :class:`~broker.core.BrokerCore`, and after each turn sends what the core
left in its outboxes and hands its writes to the journal thread
(:mod:`broker.journal`), which owns the store connection.

* One thread owns both ROUTER sockets; nothing here blocks on the database.
* Every phase of a turn is guarded: a bug in one message's handling, in the
  timers or in dispatch is logged (and lands in the error log), never fatal.
* The one fatal condition is the journal thread dying: the loop answers
  whoever waits with "unavailable" and :meth:`Broker.run` raises
  :class:`JournalStopped`, so the process exits non-zero and its supervisor
  restarts it.
* Sockets are bound before the store is opened: a busy port leaves no new
  store file behind.

Active and standby. Any number of brokers may run on one store; the one
whose journal holds the store's broker lease is active (see
:mod:`broker.journal`). A standby binds its sockets like the active one but
answers every client request ``ErrorReply(code="not_active")`` and every
rater message ``Disconnect("not active: ...", reregister=False)``, so
frontends and raters given several endpoints move on to the active one. It
becomes active when its journal gets the lease: it then reloads the durable
queue, as after a restart. An active broker drops back to standby at once
when its journal loses the lease, or when the store has not answered for
half the lock timeout (fencing: it stops acknowledging and dispatching
before the server can hand the lock to a standby). Dropping back answers
whoever waits "unavailable", tells its raters "not active", and forgets its
in-memory queue: what it held is in the durable queue for the next active
broker, and what it had not written is redone there.
"""

from __future__ import annotations

import errno
import gc
import logging
import math
import os
import socket
import threading
import time

import zmq

from protocol import (
    AdminReply,
    AdminRequest,
    Disconnect,
    ErrorReply,
    Heartbeat,
    ProtocolError,
    RateRequest,
    StatsReply,
    StatsRequest,
    decode,
    join_envelope,
    split_envelope,
)
from protocol.wire import send_frames
from protocol.client import NOT_ACTIVE
from protocol.security import KeySet
from store import BrokerLease, StoreError, open_store, parse_store_url

from . import admin, stats
from .config import BrokerConfig
from .core import BrokerCore
from .errorlog import JournalLogHandler
from .auth import CLIENT_DOMAIN, RATER_DOMAIN, BrokerAuth, Gate, Refusals
from .journal import Journal, Promoted, StoreState
from .ops import AppendErrors, Complete, RecordAttempts
from .metrics import BrokerMetrics, LatencyBuckets

__all__ = ["Broker", "JournalStopped", "ACTIVE", "STANDBY"]

log = logging.getLogger(__name__)

# Messages read from one socket per loop turn before looking at the other:
# a flood on one side cannot starve the other.
_BATCH = 500
_TICK = 0.1          # seconds between timer checks when nothing happens
# Socket options and flags as plain ints: pyzmq's enum versions build a new
# enum value on every use, which the loop does several times per message.
_EVENTS, _POLLIN, _NOBLOCK = int(zmq.EVENTS), int(zmq.POLLIN), int(zmq.NOBLOCK)
# Thousands of raters are owed one every second: encode it once.
_HEARTBEAT = Heartbeat().to_frames()
# Writes held back while the journal writes a group (see Broker._flush).
_HOLD_WRITES = 2000
# Writes nobody waits on (a rating, attempts, error records) wait for the
# next timer tick, at most _TICK, when only a few are pending (see Broker._flush).
_LAZY = (Complete, RecordAttempts, AppendErrors)
_LAZY_MAX = 64

ACTIVE = "active"
STANDBY = "standby"


class JournalStopped(RuntimeError):
    """The journal thread died: the broker can no longer make anything durable."""


class Broker:
    """Run with :meth:`start` then :meth:`run`; stop with :meth:`stop` from any thread.

    ``rater_hwm`` and ``stall_after`` override the config's (tests).
    """

    def __init__(self, config: BrokerConfig, context: zmq.Context | None = None, *,
                 rater_hwm: int | None = None, stall_after: float | None = None, metrics: BrokerMetrics | None = None,
                 keyset: KeySet | None = None) -> None:
        self.config = config
        self.context = context or zmq.Context.instance()
        self.started_at = time.time()
        self.host = socket.gethostname()
        self.core = self._new_core()
        self.role = STANDBY
        self.became = time.time()        # when the broker took its present role
        self.stall_after = config.stall_after if stall_after is None else stall_after
        self._rater_hwm = config.rater_hwm if rater_hwm is None else rater_hwm
        # Fed by this loop when a scrape asks (nothing is computed otherwise).
        self.metrics = metrics
        self.dispatch_latency = LatencyBuckets()
        # CURVE: with a key set both sockets admit only known keys (ZAP) and
        # every message is checked against its sender's role (the Gate);
        # without one (loopback only, see broker.auth.bind_policy) every peer
        # is the local peer.
        self.keyset = keyset
        self.refusals = Refusals()
        self.gate = Gate(secure=keyset is not None, refusals=self.refusals)
        self.auth: BrokerAuth | None = None
        self._handshakes: list = []
        self._stop = threading.Event()
        self._wake_endpoint = f"inproc://broker-journal-{id(self)}"
        self.journal = self._new_journal()
        self.clients: zmq.Socket | None = None
        self.raters_sock: zmq.Socket | None = None
        self._wake: zmq.Socket | None = None
        self.client_endpoint = config.bind_clients
        self.rater_endpoint = config.bind_raters
        self._log_handler: logging.Handler | None = None
        self.lease: BrokerLease | None = None
        self._first_dispatch = False     # log the first JOB sent after becoming active (failover time)
        self._commit_at: float | None = None     # --commit-delay: when the writes held now go to the journal
        # A MariaDB lock ends with a session the server finds silent for
        # lock_timeout s: serve no longer than half of that without an answer.
        # An SQLite file lock lasts as long as the process: no fencing needed.
        store_url = parse_store_url(config.store)
        self.fence_after = config.lock_timeout / 2 if store_url.backend == "mysql" else None
        self._store_name = store_url.redacted()      # for "not active" answers (never a password)

    def _new_core(self, counters=None) -> BrokerCore:
        # A fresh job-id epoch per core: ids of a tenure that ended never
        # match jobs of the next one.
        core = BrokerCore(self.config, host=self.host, process=f"broker[{os.getpid()}]",
                          epoch=f"{int(time.time() * 1000) & 0xFFFFFFFFFF:x}")
        if counters is not None:
            core.counters = counters
        return core

    def _new_journal(self, startup: bool = True) -> Journal:
        return Journal(self.context, self.config.store, self._wake_endpoint,
                       error_buffer_bytes=self.config.error_buffer_bytes, error_log_days=self.config.error_log_days,
                       holder=f"{self.host} broker[{os.getpid()}] {self.config.bind_clients}",
                       lock_timeout=self.config.lock_timeout, startup=startup)

    # ---- life cycle ------------------------------------------------------
    def start(self) -> None:
        """Bind sockets, then take the store's lease (or stand by) and load the durable queue.

        The first attempt at the lease is waited for, so a broker alone on
        its store is serving when this returns, and a store it cannot use at
        all (bad URL, wrong schema, unreachable) is reported by raising here.
        """
        try:
            if self.keyset is not None:
                self.auth = BrokerAuth(self.context, self.keyset, self.refusals)
            self.clients = self._router(self.config.bind_clients, hwm=100_000, domain=CLIENT_DOMAIN)
            self.raters_sock = self._router(self.config.bind_raters, hwm=self._rater_hwm, domain=RATER_DOMAIN)
            if self.auth is not None:
                self._handshakes = [self.auth.watch(self.clients), self.auth.watch(self.raters_sock)]
            if self.auth is None:
                # A restarted rater process may reuse its identity at once.
                # With keys, never: a newcomer (another key) must not take
                # over a live rater's identity and its jobs.
                self.raters_sock.setsockopt(zmq.ROUTER_HANDOVER, 1)
            self.client_endpoint = self.clients.getsockopt_string(zmq.LAST_ENDPOINT)
            self.rater_endpoint = self.raters_sock.getsockopt_string(zmq.LAST_ENDPOINT)
            self._wake = self.context.socket(zmq.PULL)
            self._wake.bind(self._wake_endpoint)
            self.journal.start()
            self.journal.first_attempt.wait()
            if self.journal.first_error is not None:
                raise self.journal.first_error
            if self.journal.lease is not None:
                self._drain_wake()          # takes the Promoted outcome: loads the queue
        except BaseException:
            if self.journal.alive:
                self.journal.stop(timeout=2)
            self._close_sockets()
            raise
        self._log_handler = JournalLogHandler(self)
        logging.getLogger().addHandler(self._log_handler)
        if self.role == ACTIVE:
            log.info("broker up: clients %s, raters %s, %d jobs loaded",
                     self.client_endpoint, self.rater_endpoint, len(self.core.fq))
        else:
            log.warning("broker up as a standby: clients %s, raters %s; %s",
                        self.client_endpoint, self.rater_endpoint, self.journal.standby)

    def _router(self, endpoint: str, hwm: int, domain: str) -> zmq.Socket:
        sock = self.context.socket(zmq.ROUTER)
        if self.auth is not None:
            self.auth.secure(sock, domain)      # before bind: no peer ever talks to it unchecked
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
        try:
            sock.bind(endpoint)
        except zmq.ZMQError:
            sock.close(linger=0)
            raise
        return sock

    def _load_queue(self) -> None:
        """Reload the durable queue; jobs that were in flight at a crash are simply queued again."""
        store = open_store(self.config.store)
        try:
            # Streamed: a million rows never sit in a list.
            now = time.time()
            self.core.load(store.iter_queue(), now)
            # Ratings of the last moments: a restart must not open the
            # recently-rated guard (oldest first, as the guard keeps them).
            recent = [r for r in store.recent_ratings(10_000)
                      if now - r.rated_at < self.core.recently_rated.window]
            for rating in reversed(recent):
                self.core.recently_rated.add(rating.domain, rating.rated_at)
        finally:
            store.close()

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        """Tell raters we are going, flush the journal, close sockets."""
        if self._log_handler is not None:
            logging.getLogger().removeHandler(self._log_handler)
            self._log_handler = None
        if self.raters_sock is not None:
            for rater in list(self.core.raters):
                self._send(self.raters_sock, rater.identity, Disconnect(reason="broker shutting down",
                                                                        reregister=True))
        if self.role == ACTIVE:
            self._flush(force=True)
        self.journal.stop()
        self._close_sockets()

    def _close_sockets(self) -> None:
        for watcher in self._handshakes:
            watcher.close()
        self._handshakes = []
        if self.auth is not None:
            self.auth.stop()
            self.auth = None
        for sock in (self.clients, self.raters_sock, self._wake):
            if sock is not None:
                sock.close()
        self.clients = self.raters_sock = self._wake = None

    def run(self) -> None:
        poller = zmq.Poller()
        poller.register(self.clients, zmq.POLLIN)
        poller.register(self.raters_sock, zmq.POLLIN)
        poller.register(self._wake, zmq.POLLIN)
        for watcher in self._handshakes:
            poller.register(watcher.socket, zmq.POLLIN)
        next_tick = time.monotonic()
        busy = False
        pollin, events = _POLLIN, _EVENTS
        ticked = True
        while not self._stop.is_set():
            if busy:
                # The last turn read something: more is likely waiting. Asking
                # each socket directly (ZMQ_EVENTS) costs a fraction of a poll,
                # which under load would run once per message.
                readable = {sock for sock in (self._wake, self.raters_sock, self.clients)
                            if sock.getsockopt(events) & pollin}
                if not readable and time.monotonic() < next_tick:
                    # Nothing came since the last turn, which dispatched and
                    # flushed already: straight back to the poll. At a light
                    # load (one message per wake-up) this halves the turns.
                    busy = False
                    continue
            else:
                wake_at = next_tick if self._commit_at is None else min(next_tick, self._commit_at)
                # Whole milliseconds, rounded up: pyzmq truncates, and a wait of
                # 0.9 ms polled as 0 would spin through the last one before every tick.
                readable = dict(poller.poll(timeout=math.ceil(max(0.0, wake_at - time.monotonic()) * 1000)))
            busy = False
            if self._wake in readable:
                self._guard("journal outcomes", self._drain_wake)
            if self.raters_sock in readable:
                busy = self._read(self.raters_sock, self._on_rater) > 0
            if self.clients in readable:
                busy = self._read(self.clients, self._on_client) > 0 or busy
            for watcher in self._handshakes:
                if watcher.socket in readable:
                    self._guard("handshake failures", watcher.drain)
            now = time.monotonic()
            ticked = now >= next_tick
            if ticked:
                for watcher in self._handshakes:        # also while busy, when the poll is skipped
                    if watcher.socket.getsockopt(events) & pollin:
                        self._guard("handshake failures", watcher.drain)
                self._guard("timers", self._timers, now)
                next_tick = now + _TICK
            self._guard("dispatch", self._dispatch)
            self._flush(lazy_due=ticked)
            if self.metrics is not None and self.metrics.wanted():
                self._guard("metrics", self._feed_metrics)
            if not self.journal.alive:
                if self.journal.demoted:
                    self._demote(self.journal.demoted)
                    continue
                # Take in what it reported last, answer whoever waits, then go.
                self._guard("journal outcomes", self._drain_wake)
                self._flush()
                raise JournalStopped(self.core.journal_problem or "journal thread stopped")

    # ---- active and standby ------------------------------------------------
    def _promote(self, lease: BrokerLease) -> None:
        """The journal holds the lease: reload the durable queue and serve."""
        try:
            self._load_queue()
        except StoreError as e:
            self._demote(f"the durable queue could not be read: {e}")
            return
        self.role, self.became, self.lease = ACTIVE, time.time(), lease
        self._first_dispatch = True
        # What is loaded now (up to millions of queued jobs) lives long and
        # forms no reference cycles: keep it out of every later collection,
        # which would otherwise walk all of it and stall the loop.
        gc.collect()
        gc.freeze()
        log.warning("active on the store (epoch %d): %d jobs loaded", lease.epoch, len(self.core.fq))

    def _demote(self, reason: str) -> None:
        """Stop acknowledging and dispatching now; forget the in-memory queue; wait for the lease again."""
        old, core = self.journal, self.core
        old.abandon(reason)
        if self.role == ACTIVE:
            log.warning("dropping to standby: %s", reason)
            core.writes.clear()             # never written: the next active broker redoes their work
            core.journal_stopped(f"this broker is no longer active ({reason})")
            goodbye = Disconnect(reason=f"not active: {reason}"[:500], reregister=False)
            core.to_raters.extend((rater.identity, goodbye) for rater in list(core.raters))
            self._flush()
            core.counters["demotions"] += 1
        self.core = self._new_core(core.counters)
        self.role, self.became, self.lease = STANDBY, time.time(), None
        self.journal = self._new_journal(startup=False)
        self.journal.standby = f"it stopped being active: {reason}"
        self.journal.start()

    def not_active(self) -> str:
        """What a standby tells whoever asks it for anything."""
        return f"not active: this broker is a standby of {self._store_name}; {self.journal.standby}"

    def _feed_metrics(self) -> None:
        self.metrics.update(stats.snapshot(self, 0))

    def _guard(self, what: str, fn, *args) -> None:
        try:
            fn(*args)
        except Exception:
            # A bug must not take the broker down with it; it lands in the
            # error log through the journal log handler.
            log.exception("error in %s", what)
            self.core.counters["loop_errors"] += 1

    def _flush(self, lazy_due: bool = True, force: bool = False) -> None:
        """Send the core's replies and rater messages, then hand its writes to the journal.

        Writes go last: handing them over wakes the journal thread, which
        then competes with this one for the GIL, so it stays off the
        dispatch path. And while the journal is busy with a group, new
        writes wait here for the next one: they would only queue behind it
        anyway, and a journal woken once per group instead of once per
        loop turn takes the GIL from the loop (at every send and receive,
        which release it) far less often.

        At a light, steady load (a few ratings a second: each alone in its
        group, one transaction each), a few writes nobody waits on (ratings,
        attempts, error records) wait for the next timer tick unless
        ``lazy_due``: the ratings of a tick share one transaction. A request
        waiting on an enqueue is never held: an enqueue goes out at once and
        takes the lazy writes before it along, in order. With
        ``--commit-delay`` the writes of an idle journal wait that long for
        company first. ``force`` (shutting down): everything goes now.
        """
        core = self.core
        if core.replies:
            replies, core.replies = core.replies, []
            for identity, msg in replies:
                if self._send(self.clients, identity, msg) is not None:
                    core.counters["client_send_failures"] += 1
        if core.to_raters:
            out, core.to_raters = core.to_raters, []
            for identity, msg in out:
                self._send_rater(identity, msg)
        writes, journal = core.writes, self.journal
        holding = bool(writes) and not force and journal.store_ok and len(writes) < _HOLD_WRITES
        lazy = holding and not lazy_due and len(writes) < _LAZY_MAX and all(type(op) in _LAZY for op in writes)
        if holding and not journal.backlog and not lazy and self.config.commit_delay > 0:
            now = time.monotonic()
            if self._commit_at is None:
                self._commit_at = now + self.config.commit_delay
            if now < self._commit_at:
                return
        self._commit_at = None
        if not writes or lazy or holding and journal.backlog:
            return      # nothing, or held until the tick, or until the journal reports the group it is writing
        core.writes = []
        journal.submit_all(writes)

    def _send(self, sock: zmq.Socket | None, identity: bytes, msg) -> int | None:
        """Send ``msg`` (a message, or its frames) without blocking; the errno on failure (EHOSTUNREACH: gone,
        EAGAIN: full)."""
        if sock is None:
            return errno.ENOTSOCK
        try:
            send_frames(sock, join_envelope(identity, msg if type(msg) is list else msg.to_frames()), zmq.NOBLOCK)
        except zmq.ZMQError as e:
            log.debug("message to %r dropped: %s", identity, e)
            return e.errno
        return None

    def _send_rater(self, identity: bytes, msg) -> int | None:
        err = self._send(self.raters_sock, identity, msg)
        if err is not None:
            self.core.counters["rater_send_failures"] += 1
            return err
        rater = self.core.raters.get(identity)
        if rater is not None:
            self.core.raters.sent(rater, time.monotonic())
        return None

    def _read(self, sock: zmq.Socket, handler) -> int:
        """Handle what waits on ``sock`` (at most _BATCH messages); how many there were."""
        # Secured: frames as zmq.Frame, which carry the sender's ZAP User-Id.
        copy = not self.gate.secure
        recv, events = sock.recv_multipart, sock.getsockopt
        for n in range(_BATCH):
            # Asked first rather than caught: at a light load most reads find
            # one message, and a zmq.Again costs more than the question.
            if n and not events(_EVENTS) & _POLLIN:
                return n
            try:
                frames = recv(_NOBLOCK, copy=copy)
            except zmq.Again:
                return n
            self._guard("a message", handler, frames)
        return _BATCH

    def _decode(self, frames: list) -> tuple[bytes, object]:
        """(identity, message) of a received message; ProtocolError if malformed."""
        raw = frames if not self.gate.secure else [f.bytes for f in frames]
        identity, app = split_envelope(raw)
        return identity, decode(app)

    def _admitted(self, frames: list, msg):
        """Its sender's Peer if it may send this, else None (counted, dropped without a reply)."""
        peer = self.gate.check(frames, msg.COMMAND)
        if peer is None:
            self.core.counters["refused"] += 1
        return peer

    # ---- clients ---------------------------------------------------------
    def _on_client(self, frames: list[bytes]) -> None:
        core = self.core
        raw = frames if not self.gate.secure else [f.bytes for f in frames]
        try:
            identity, app = split_envelope(raw)
        except ProtocolError:
            core.counters["malformed_client"] += 1
            return
        try:
            msg = decode(app)
        except ProtocolError as e:
            core.counters["malformed_client"] += 1
            core.replies.append((identity, ErrorReply(req_id=0, code="protocol", message=str(e)[:500])))
            return
        peer = self._admitted(frames, msg)
        if peer is None:
            return
        if self.role != ACTIVE:
            core.counters["not_active_replies"] += 1
            core.replies.append((identity, ErrorReply(req_id=getattr(msg, "req_id", 0), code=NOT_ACTIVE,
                                                      message=self.not_active()[:500])))
            return
        if isinstance(msg, RateRequest):
            # With keys, the jobs count against the frontend key that asked.
            core.rate(identity, msg, time.time(), owner=peer.name if self.gate.secure else "")
        elif isinstance(msg, StatsRequest):
            core.counters["stats_requests"] += 1
            core.replies.append((identity, StatsReply(req_id=msg.req_id, stats=stats.snapshot(self, msg.recent))))
        elif isinstance(msg, AdminRequest):
            answer = admin.handle(core, msg.action, msg.args, identity, msg.req_id)
            core.counters["admin_requests"] += 1
            if answer is not None:     # None: the core answers once the store has been read
                ok, detail, data = answer
                core.replies.append((identity, AdminReply(req_id=msg.req_id, ok=ok, detail=detail, data=data)))
        else:
            core.counters["malformed_client"] += 1
            core.replies.append((identity, ErrorReply(
                req_id=getattr(msg, "req_id", 0), code="unexpected",
                message=f"{type(msg).__name__} is not a client request")))

    # ---- raters ------------------------------------------------------------
    def _on_rater(self, frames: list[bytes]) -> None:
        try:
            identity, msg = self._decode(frames)
        except ProtocolError as e:
            self.core.counters["malformed_rater"] += 1
            log.debug("malformed rater message: %s", e)
            return
        peer = self._admitted(frames, msg)
        if peer is None:
            return
        if self.role != ACTIVE:
            if not isinstance(msg, Disconnect):
                self.core.counters["not_active_replies"] += 1
                self.core.to_raters.append((identity, Disconnect(reason=self.not_active()[:500], reregister=False)))
            return
        # The key name binds the identity (see BrokerCore.rater_message).
        key = peer.name if self.gate.secure else ""
        self.core.rater_message(identity, msg, time.monotonic(), time.time(), key=key)

    # ---- journal, dispatch and timers ------------------------------------------
    def _drain_wake(self) -> None:
        while True:
            try:
                self._wake.recv(zmq.NOBLOCK)
            except zmq.Again:
                break
        journal = self.journal
        outcomes = journal.outcomes
        while outcomes and self.journal is journal:    # a demotion ends this journal's say
            outcome = outcomes.popleft()
            if isinstance(outcome, Promoted):
                self._promote(outcome.lease)
                continue
            if isinstance(outcome, StoreState):
                self.core.store_state(outcome.ok, outcome.detail)
                continue
            try:
                self.core.journal_outcome(outcome, time.time())
            except Exception:
                # One outcome's bug must not strand the requests waiting on
                # it, nor the outcomes behind it.
                log.exception("error handling a journal outcome")
                self.core.counters["loop_errors"] += 1
                self._guard("journal outcome clean-up", self.core.outcome_unhandled, outcome)
        if (not self.journal.alive and not self.journal.demoted
                and not self.core.journal_problem.startswith("journal stopped")):
            # Everything it reported is handled above; answer whoever still waits.
            self.core.journal_stopped(self.journal.death or "journal thread ended")

    def _dispatch(self) -> None:
        core = self.core
        core.begin_dispatch()
        while True:
            assignment = core.next_assignment(time.monotonic())
            if assignment is None:
                return
            rater, job_msg = assignment
            err = self._send_rater(rater.identity, job_msg)
            if err is not None:
                core.send_failed(rater, job_msg.job_id, gone=err != errno.EAGAIN)
                continue
            job = rater.jobs.get(job_msg.job_id)
            if job is not None:
                self.dispatch_latency.observe(time.time() - job.enqueued_at)
            if self._first_dispatch:
                self._first_dispatch = False
                log.info("first job dispatched %.2f s after becoming active", time.time() - self.became)

    def _timers(self, now: float) -> None:
        self._check_journal(now)
        for identity in self.core.timers(now, time.time()):
            self._send_rater(identity, _HEARTBEAT)

    def _check_journal(self, now: float) -> None:
        """Stop acknowledging while the journal cannot commit (stalled), start again when it does."""
        core, journal = self.core, self.journal
        if self.role == ACTIVE and self.fence_after is not None and journal.alive:
            silent = now - journal.renewed
            if silent > self.fence_after:
                self._demote(f"no answer from the store for {silent:.1f} s "
                             f"(it frees a silent broker's lock after {self.config.lock_timeout:g} s)")
                return
        if core.journal_problem.startswith("journal stopped"):
            return
        stalled = journal.stalled_for(now)
        if journal.store_ok and stalled > self.stall_after:
            core.journal_problem = (f"journal stalled: no commit for {stalled:.0f} s "
                                    f"with {journal.backlog} writes waiting")
        else:
            core.journal_problem = ""
