"""The broker's write-ahead journal: one thread that owns the store connection.

The event loop never touches the database. It hands typed operations
(:mod:`broker.ops`) to this thread (``submit``) and carries on; the thread
writes them and reports an :class:`~broker.ops.Outcome` for each through a
deque plus a one-byte wake-up on an ``inproc`` PUSH socket the loop polls.

Group commit: each time the thread wakes it takes *everything* waiting,
merges it into as few statements as :func:`broker.ops.plan` allows, and
writes them all in one transaction (``Store.write_together``). At light load
a turn is one request; under load hundreds of requests and ratings share one
commit. ``plan`` never reorders two writes of one domain, so a retire
followed by a new enqueue of the same domain cannot come out the other way
round. A record the store refuses undoes that transaction; the groups are
then written one transaction each, so only the refused record's group fails.
The loop hands a turn's writes over at once (``submit_all``): one wake-up.

Failures: when the store is unreachable, the rest of that drain is not
attempted. Enqueues are reported failed at once (the event loop answers
"unavailable": nothing was acknowledged), while completions, attempt counts,
removals and error records are kept, in order, and retried until the store
returns: they describe work already done and must not be lost.

Death: anything unexpected in this thread is caught, logged and reported as
``alive = False`` plus a final wake-up; the event loop then stops
acknowledging and exits, so a supervisor restarts the broker instead of it
running on without a way to write.

Lease (hot standby). Several brokers may run on one store; the one whose
journal holds the store's broker lease (``Store.take_broker_lease``) is
active. A journal starts as a standby: it waits for the lease, reports
:class:`Promoted`, then writes. While active it uses its connection at least
every ``lock_timeout / 4`` s (a ping when idle), so the server keeps the
lock, and ``renewed`` tells the event loop when the store last answered:
the loop fences itself (stops acknowledging and dispatching) when that is
older than half the lock timeout, before the server can give the lock to a
standby. A journal that learns its lease is gone (``LeaseLost``: the lock
was lost and another broker took it) writes nothing more and ends with
``demoted`` set; so does one the loop ``abandon``-s. Either way its
unwritten operations are dropped: the new active broker reloads the durable
queue and rates again whatever they were about.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import threading
import time

import zmq

from store import BrokerLease, LeaseLost, StoreError, StoreUnavailable, open_store

from .ops import AppendErrors, Group, Op, OpKind, Outcome, plan

__all__ = ["Journal", "StoreState", "Promoted", "FAULT_ENV"]

log = logging.getLogger(__name__)

# Error records waiting for a store that is down are capped: a crash loop
# must not eat the broker's memory. The count of dropped records is logged.
MAX_BUFFERED_ERRORS = 10_000
PRUNE_INTERVAL = 3600.0

# Fault injection for the fault tests: "die-after:N" makes the journal thread
# raise after N committed transactions. Read once, when a Journal is made.
FAULT_ENV = "SITETRUTH_TEST_JOURNAL_FAULT"


class StoreState:
    """Marker outcome: the store went down (ok False) or came back (ok True)."""

    __slots__ = ("ok", "detail")

    def __init__(self, ok: bool, detail: str) -> None:
        self.ok = ok
        self.detail = detail


class Promoted:
    """Marker outcome: the journal holds the store's broker lease; the broker may serve."""

    __slots__ = ("lease",)

    def __init__(self, lease: BrokerLease) -> None:
        self.lease = lease


class JournalFault(RuntimeError):
    """Raised inside the journal thread by the test fault hook."""


class Journal:
    """Runs store writes in a thread of its own; see the module docstring."""

    def __init__(self, context: zmq.Context, store_url: str, wake_endpoint: str,
                 retry_interval: float = 1.0, die_after: int | None = None, *,
                 error_buffer_bytes: int = 8 * 1024 * 1024, error_log_days: float = 30.0,
                 holder: str = "broker", lock_timeout: float = 10.0, startup: bool = True) -> None:
        self.store_url = store_url
        self.holder = holder
        self.lock_timeout = lock_timeout
        self.ping_interval = lock_timeout / 4
        self.lease: BrokerLease | None = None   # set once this journal is the store's active one
        self.renewed = 0.0          # monotonic: start of the last round trip the store answered
        self.standby = "starting"   # while waiting for the lease: why (who holds it, or the store's error)
        self.demoted = ""           # why this journal gave its lease up, if it did
        self.first_error: StoreError | None = None   # the first lease attempt's error (start-up checks)
        self._startup = startup     # a start-up journal ends on a first error; a later one keeps trying
        self.first_attempt = threading.Event()
        self._abandoned = threading.Event()
        self._stopping = threading.Event()
        self.wake_endpoint = wake_endpoint
        self.retry_interval = retry_interval
        self._context = context
        self._inbox: queue.SimpleQueue[list[Op] | None] = queue.SimpleQueue()     # a submit_all each
        self.outcomes: collections.deque[Outcome | StoreState] = collections.deque()
        self.store_ok = True
        self.last_error = ""
        self.alive = False
        self.death = ""             # why the thread died, if it did
        self.commits = 0            # transactions committed (for stats)
        self.rows = 0
        self.last_commit = time.monotonic()
        self._submitted = 0         # ops handed over; backlog = submitted - resolved
        self._resolved = 0
        # Since when writes have been waiting without progress (None: nothing
        # waits). A stall is measured from here, not from the last commit, so
        # the first write after a long idle spell is not taken for a stall.
        self._waiting_since: float | None = None
        self._dropped_errors = 0
        self.error_buffer_bytes = error_buffer_bytes
        self.error_log_days = error_log_days
        self._next_prune = 0.0      # monotonic; the error log is pruned at start, then hourly while busy
        self.pruned = 0             # error-log rows deleted for age (for stats)
        if die_after is None:
            spec = os.environ.get(FAULT_ENV, "")
            if spec.startswith("die-after:"):
                die_after = int(spec.split(":", 1)[1])
        self._die_after = die_after
        self._thread = threading.Thread(target=self._run, name="journal", daemon=True)
        self._ready = threading.Event()

    # ---- event-loop side ---------------------------------------------------
    def start(self) -> None:
        self.alive = True
        self._thread.start()
        self._ready.wait(10)

    def submit(self, op: Op) -> None:
        """Queue a write; thread-safe (the log handler calls it from anywhere)."""
        self.submit_all([op])

    def submit_all(self, ops: list[Op]) -> None:
        """Queue several writes as one hand-over: the thread wakes once and takes them all together."""
        if not ops:
            return
        self._submitted += len(ops)
        if self._waiting_since is None:
            self._waiting_since = time.monotonic()
        self._inbox.put(ops)

    @property
    def backlog(self) -> int:
        """Operations handed over and not yet committed or given up."""
        return max(0, self._submitted - self._resolved)

    def last_commit_age(self, now: float | None = None) -> float:
        return (now if now is not None else time.monotonic()) - self.last_commit

    def stalled_for(self, now: float | None = None) -> float:
        """Seconds that writes have waited with no commit (0 when nothing waits)."""
        since = self._waiting_since
        if since is None or not self.backlog:
            return 0.0
        return max(0.0, (now if now is not None else time.monotonic()) - max(since, self.last_commit))

    def stop(self, timeout: float = 10.0) -> bool:
        """Flush what is queued (best effort within ``timeout``) and stop."""
        self._stopping.set()
        self._inbox.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def abandon(self, why: str) -> None:
        """Write nothing more, give the lease up, end (without waiting: the thread may be stuck in a call)."""
        if not self.demoted:
            self.demoted = why
        self._abandoned.set()
        self._inbox.put(None)

    @property
    def abandoned(self) -> bool:
        return self._abandoned.is_set()

    # ---- thread side ---------------------------------------------------
    def _run(self) -> None:
        wake = self._context.socket(zmq.PUSH)
        wake.setsockopt(zmq.LINGER, 0)
        wake.connect(self.wake_endpoint)
        store = None
        retry: list[Op] = []
        try:
            store = open_store(self.store_url)
            self._ready.set()
            if self._wait_for_lease(store, wake):
                self._loop(store, wake, retry)
        except LeaseLost as e:
            self.demoted = str(e)
            log.warning("%s", e)
        except BaseException as e:  # noqa: BLE001 - the thread must never die silently
            self.death = f"{type(e).__name__}: {e}"
            log.critical("journal thread died: %s", self.death, exc_info=True)
        finally:
            self.alive = False
            self._ready.set()
            self.first_attempt.set()
            if retry and not self.demoted:
                log.warning("journal stopping with %d operations unwritten", len(retry))
            try:
                self._wake(wake)
            finally:
                wake.close()
                if store is not None:
                    store.close()

    def _wait_for_lease(self, store, wake: zmq.Socket) -> bool:
        """Standby until this journal holds the lease (True), or until it is stopped or abandoned (False).

        At start-up, an error on the very first attempt ends the thread with
        ``first_error`` set (the broker reports it and exits); other errors
        only show in ``standby`` while it keeps trying.
        """
        next_look = 0.0
        while not (self._stopping.is_set() or self._abandoned.is_set()):
            started = time.monotonic()
            try:
                lease = store.take_broker_lease(self.holder, wait=1.0, timeout=self.lock_timeout)
            except StoreError as e:
                if self._startup and not self.first_attempt.is_set():
                    self.first_error = e
                    return False
                self.first_attempt.set()
                self.standby = f"store unavailable: {e}"
                self._abandoned.wait(self.retry_interval)
                continue
            if lease is not None:
                self.lease, self.renewed = lease, started
                log.warning("this broker is now the store's active one (epoch %d)", lease.epoch)
                self.outcomes.append(Promoted(lease))
                self.first_attempt.set()
                self._wake(wake)
                return True
            if started >= next_look:
                next_look = started + 5.0
                try:
                    holder = store.broker_lease()
                except StoreError:
                    holder = None
                self.standby = (f"{holder.holder} is active (epoch {holder.epoch})" if holder
                                else "another broker holds the store's lock")
            self.first_attempt.set()
        return False

    def _loop(self, store, wake: zmq.Socket, retry: list[Op]) -> None:
        stopping = False
        while not self._abandoned.is_set():
            # Idle, it still wakes every ping_interval: a round trip keeps
            # the lock's session alive and renews the lease; with writes
            # owed it wakes every retry_interval to see if the store is back.
            owed = bool(retry) or not self.store_ok or stopping
            ops = self._drain(wait_forever=False, timeout=self.retry_interval if owed else self.ping_interval)
            if None in ops:
                stopping = True
                ops = [op for op in ops if op is not None]
            if self._abandoned.is_set():
                return
            self._maybe_prune(store)
            if not ops:
                if self.store_ok and not retry:
                    if stopping:
                        return
                    self._keep_alive(store, wake)
                    continue
                if not self._store_back(store):
                    if stopping:
                        return
                    continue
                self._set_state(True, "")
                self._wake(wake)
                if not retry:
                    continue
            batch = retry + ops
            retry.clear()
            started = time.monotonic()
            retry.extend(self._execute(store, batch))
            if self.store_ok:
                self.renewed = started
            if not retry and self.backlog == 0:
                self._waiting_since = None
            self._wake(wake)
            if stopping and (not retry or not self.store_ok):
                return

    def _drain(self, wait_forever: bool, timeout: float) -> list[Op | None]:
        """Everything waiting; waits for the first op (forever, or ``timeout``)."""
        ops: list[Op | None] = []
        try:
            item = self._inbox.get(timeout=None if wait_forever else timeout)
        except queue.Empty:
            return ops
        while True:
            if item is None:
                ops.append(None)        # stop or abandon
            else:
                ops.extend(item)
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return ops

    def _maybe_prune(self, store) -> None:
        """Delete error-log rows past the retention period, at most once an hour."""
        now = time.monotonic()
        if now < self._next_prune or not self.store_ok:
            return
        self._next_prune = now + PRUNE_INTERVAL
        try:
            self.pruned += store.prune_errors(time.time() - self.error_log_days * 86400)
        except LeaseLost:
            raise
        except StoreError as e:
            log.warning("error log not pruned: %s", e)

    def _keep_alive(self, store, wake: zmq.Socket) -> None:
        started = time.monotonic()
        if self._store_back(store):
            self.renewed = started
        else:
            self._set_state(False, self.last_error)
            self._wake(wake)

    def _store_back(self, store) -> bool:
        try:
            store.ping()
        except LeaseLost:
            raise
        except StoreError as e:
            self.last_error = str(e)
            return False
        return True

    def _wake(self, wake: zmq.Socket) -> None:
        try:
            wake.send(b"!", zmq.NOBLOCK)
        except zmq.Again:
            pass    # a wake-up is already waiting: the loop will see every outcome

    def _execute(self, store, ops: list[Op]) -> list[Op]:
        """Write ``ops`` in planned groups; return those to retry later, in order.

        The groups of one turn go in one transaction (one commit, where
        there would be one per group: under load a turn holds the requests'
        enqueues and the ratings that came back meanwhile). Should the store
        refuse a record, that transaction is undone and the groups are
        written one by one, so the refusal stays with its own group.
        """
        groups = plan(ops)
        if len(groups) > 1 and all(group.kind is not OpKind.LOOKUP for group in groups):
            together = self._write_together(store, groups)
            if together is not None:
                return together
        for n, group in enumerate(groups):
            if self._abandoned.is_set():
                return []       # fenced: the next active broker redoes what these were about
            failed = self._write(store, group)
            if failed is not None:
                # Store down: nothing after this group is attempted (a later
                # write must not overtake an earlier one of the same domain).
                # The group's own enqueues were answered by _write.
                unwritten = [op for op in group.ops if op.kind is not OpKind.ENQUEUE]
                return self._store_down(unwritten + [op for g in groups[n + 1:] for op in g.ops], failed)
        return []

    def _write_together(self, store, groups: list[Group]) -> list[Op] | None:
        """Write every group in one transaction: the ops to retry later, or None to write them one group at a time."""
        writes = [(group.kind.value, group.items()) for group in groups]
        try:
            self._injected_fault()
            store.write_together(writes)
        except LeaseLost:
            raise
        except StoreUnavailable as e:
            self._set_state(False, str(e))
            return self._store_down([op for group in groups for op in group.ops], str(e))
        except StoreError:
            return None         # a refused record: the groups one by one find whose it is
        self._committed(groups, sum(len(items) for _, items in writes))
        return []

    def _store_down(self, unwritten: list[Op], why: str) -> list[Op]:
        """Writes the store was down for: enqueues are answered "unavailable" now; what describes work
        already done is kept, in order, to retry (error records capped)."""
        self._report([op for op in unwritten if op.kind is OpKind.ENQUEUE], False, why, retryable=True)
        return self._cap_errors([op for op in unwritten if op.kind is not OpKind.ENQUEUE])

    def _committed(self, groups: list[Group], rows: int) -> None:
        self._set_state(True, "")
        self.commits += 1
        self.rows += rows
        self.last_commit = time.monotonic()
        for group in groups:
            self._report(group.ops, True)

    def _injected_fault(self) -> None:
        """The fault tests' journal death (``SITETRUTH_TEST_JOURNAL_FAULT=die-after:N``)."""
        if self._die_after is not None and self.commits >= self._die_after:
            raise JournalFault(f"injected journal fault after {self.commits} commits")

    def _write(self, store, group: Group) -> str | None:
        """Write one group; None when done (committed or refused for good), else why the store is down."""
        items = group.items()
        try:
            self._injected_fault()
            kind = group.kind
            if kind is OpKind.ENQUEUE:
                store.enqueue(items)
            elif kind is OpKind.COMPLETE:
                store.complete(items)
            elif kind is OpKind.ATTEMPTS:
                store.record_attempts(items)
            elif kind is OpKind.REMOVE:
                store.remove_jobs(items)
            elif kind is OpKind.LOOKUP:
                for op in group.ops:
                    op.found[:] = store.domains_rated_by(op.rater, op.limit)
            else:
                store.append_errors(items)
        except LeaseLost:
            raise
        except StoreUnavailable as e:
            self._set_state(False, str(e))
            if group.kind is OpKind.ENQUEUE:
                self._report(group.ops, False, str(e), retryable=True)
            return str(e)
        except StoreError as e:
            if len(group.ops) > 1:
                # Not retryable (schema, bad record): write the merged ops one
                # by one so one bad record cannot sink the others.
                for n, op in enumerate(group.ops):
                    down = self._write(store, Group(group.kind, [op]))
                    if down is not None:
                        # The store went away half-way: leave in the group
                        # only what is still unwritten, for the caller to keep.
                        rest = group.ops[n + 1:]
                        if group.kind is OpKind.ENQUEUE:
                            self._report(rest, False, down, retryable=True)
                        group.ops[:] = [op, *rest]
                        return down
                return None
            log.warning("journal %s of %d rows failed: %s", group.kind.value, len(items), e)
            self._report(group.ops, False, str(e))
            return None
        self._committed([group], len(items))
        return None

    def _report(self, ops: list[Op], ok: bool, detail: str = "", retryable: bool = False) -> None:
        for op in ops:
            self._resolved += 1
            self.outcomes.append(Outcome(op, ok, detail, retryable))

    def _cap_errors(self, ops: list[Op]) -> list[Op]:
        """Bound the error records kept for a store that is down, by count and by bytes (newest kept)."""
        records = [r for op in ops if isinstance(op, AppendErrors) for r in op.records]
        if len(records) <= MAX_BUFFERED_ERRORS and sum(map(_record_size, records)) <= self.error_buffer_bytes:
            return ops
        keep: list[Op] = []
        budget, room = MAX_BUFFERED_ERRORS, self.error_buffer_bytes
        for op in reversed(ops):          # keep the newest error records, every other write
            if not isinstance(op, AppendErrors):
                keep.append(op)
                continue
            kept = []
            for record in reversed(op.records):
                size = _record_size(record)
                if budget <= 0 or size > room:
                    budget = 0
                    break
                kept.append(record)
                budget -= 1
                room -= size
            self._dropped_errors += len(op.records) - len(kept)
            if not kept:
                self._resolved += 1
                continue
            keep.append(AppendErrors(tuple(reversed(kept))))
        log.warning("store down: %d error-log records dropped so far", self._dropped_errors)
        return list(reversed(keep))

    def _set_state(self, ok: bool, detail: str) -> None:
        if ok != self.store_ok:
            if ok:
                log.warning("store is back")
            else:
                log.warning("store unavailable: %s", detail)
            self.outcomes.append(StoreState(ok, detail))
        self.store_ok = ok
        self.last_error = detail


def _record_size(record) -> int:
    """Roughly the memory an error record holds (its texts)."""
    return 200 + len(record.message) + len(record.traceback) + len(record.host) + len(record.domain)
