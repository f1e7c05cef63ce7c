"""The broker's write-ahead journal: one thread that owns the store connection.

The event loop never touches the database. It hands operations to this
thread (``submit``) and carries on; the thread executes them in order and
reports outcomes back through a deque plus a one-byte wake-up on an
``inproc`` PUSH socket the event loop polls.

Group commit: each time the thread wakes it takes *everything* waiting and
writes all enqueues in one transaction, all completions in one, and so on.
At light load a batch is one request; under load hundreds of requests share
one commit, so the store is never on the per-message path.

Ordering: operations run in submission order, except that same-kind
operations of one drain are merged. That is safe unless a domain is
completed and then enqueued again in the same drain (a new request for a
domain just rated); the merge is cut at such a point so the new queue row is
never deleted by the older completion.

Failures: when the store is unreachable an enqueue is reported failed at
once (the event loop answers "unavailable", nothing was acknowledged), while
completions, attempt counts and error records are kept and retried until the
store returns: they describe work already done and must not be lost.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import zmq

from store import StoreError, StoreUnavailable, open_store

__all__ = ["Journal", "Outcome"]

log = logging.getLogger(__name__)

# Error records waiting for a store that is down are capped: a crash loop
# must not eat the broker's memory. The count of dropped records is logged.
MAX_BUFFERED_ERRORS = 10_000


@dataclass
class Outcome:
    """What happened to one submitted operation (kind, token, ok, detail)."""

    kind: str
    token: Any
    ok: bool
    detail: str = ""


@dataclass
class _Op:
    kind: str                 # enqueue | complete | attempts | remove | errors
    items: list
    token: Any = None
    submitted: float = field(default_factory=time.monotonic)


class Journal:
    """Runs store writes in a thread of its own; see the module docstring."""

    def __init__(self, context: zmq.Context, store_url: str, wake_endpoint: str,
                 retry_interval: float = 1.0) -> None:
        self.store_url = store_url
        self.wake_endpoint = wake_endpoint
        self.retry_interval = retry_interval
        self._context = context
        self._inbox: queue.SimpleQueue[_Op | None] = queue.SimpleQueue()
        self.outcomes: collections.deque[Outcome] = collections.deque()
        self.store_ok = True
        self.last_error = ""
        self.commits = 0            # transactions committed (for stats)
        self.rows = 0
        self._dropped_errors = 0
        self._thread = threading.Thread(target=self._run, name="journal", daemon=True)
        self._ready = threading.Event()

    # ---- event-loop side ---------------------------------------------------
    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def submit(self, kind: str, items: list, token: Any = None) -> None:
        """Queue a write; thread-safe (the log handler calls it from anywhere)."""
        self._inbox.put(_Op(kind, items, token))

    def stop(self, timeout: float = 10.0) -> bool:
        """Flush what is queued (best effort within ``timeout``) and stop."""
        self._inbox.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # ---- thread side ---------------------------------------------------
    def _run(self) -> None:
        wake = self._context.socket(zmq.PUSH)
        wake.setsockopt(zmq.LINGER, 0)
        wake.connect(self.wake_endpoint)
        store = open_store(self.store_url)
        retry: list[_Op] = []        # completions etc. waiting for the store
        self._ready.set()
        stopping = False
        try:
            while True:
                # Wait for work forever only when nothing is owed to the store;
                # otherwise wake every retry_interval to see if it is back.
                owed = bool(retry) or not self.store_ok or stopping
                ops = self._drain(wait_forever=not owed, timeout=self.retry_interval)
                if None in ops:
                    stopping = True
                    ops = [op for op in ops if op is not None]
                if not ops:
                    if self.store_ok and not retry:
                        if stopping:
                            break
                        continue
                    if not self._store_back(store):
                        if stopping:
                            break
                        continue
                    self._set_state(True, "")
                    self._wake(wake)
                    if not retry:
                        continue
                batch, retry = retry + ops, []
                retry = self._execute(store, batch)
                self._wake(wake)
                if stopping and (not retry or not self.store_ok):
                    break
        finally:
            if retry:
                log.warning("journal stopping with %d operations unwritten (store down)", len(retry))
            store.close()
            wake.close()

    def _drain(self, wait_forever: bool, timeout: float) -> list[_Op | None]:
        """Everything waiting; waits for the first op (forever, or ``timeout``)."""
        ops: list[_Op | None] = []
        try:
            ops.append(self._inbox.get(timeout=None if wait_forever else timeout))
        except queue.Empty:
            return ops
        while True:
            try:
                ops.append(self._inbox.get_nowait())
            except queue.Empty:
                return ops

    def _store_back(self, store) -> bool:
        try:
            store.ping()
        except StoreError as e:
            self.last_error = str(e)
            return False
        return True

    def _wake(self, wake: zmq.Socket) -> None:
        try:
            wake.send(b"!", zmq.NOBLOCK)
        except zmq.Again:
            pass    # a wake-up is already waiting: the loop will see every outcome

    def _execute(self, store, ops: list[_Op]) -> list[_Op]:
        """Write ``ops`` in merged groups; return those to retry later."""
        retry: list[_Op] = []
        for group in _groups(ops):
            for kind in ("enqueue", "complete", "attempts", "remove", "errors"):
                members = [op for op in group if op.kind == kind]
                if members:
                    retry.extend(self._write(store, kind, members))
        return retry

    def _write(self, store, kind: str, ops: list[_Op]) -> list[_Op]:
        items = [item for op in ops for item in op.items]
        try:
            if kind == "enqueue":
                store.enqueue(items)
            elif kind == "complete":
                store.complete(items)
            elif kind == "attempts":
                store.record_attempts(items)
            elif kind == "remove":
                store.remove_jobs(items)
            elif kind == "errors":
                store.append_errors(items)
            else:  # pragma: no cover - programming error, not input
                raise ValueError(f"unknown journal operation {kind}")
        except StoreUnavailable as e:
            self._set_state(False, str(e))
            if kind == "enqueue":
                self._report(ops, False, str(e))
                return []
            if kind == "errors":
                return self._cap_errors(ops)
            return ops
        except StoreError as e:
            if len(ops) > 1:
                # Not retryable (schema, bad record): write the merged ops one
                # by one so one bad record cannot sink the others.
                return [op for single in ops for op in self._write(store, kind, [single])]
            log.warning("journal %s of %d rows failed: %s", kind, len(items), e)
            self._report(ops, False, str(e))
            return []
        self._set_state(True, "")
        self.commits += 1
        self.rows += len(items)
        self._report(ops, True)
        return []

    def _report(self, ops: list[_Op], ok: bool, detail: str = "") -> None:
        for op in ops:
            self.outcomes.append(Outcome(op.kind, op.token, ok, detail))

    def _cap_errors(self, ops: list[_Op]) -> list[_Op]:
        total = sum(len(op.items) for op in ops)
        if total <= MAX_BUFFERED_ERRORS:
            return ops
        keep: list[_Op] = []
        budget = MAX_BUFFERED_ERRORS
        for op in reversed(ops):          # keep the newest
            if budget <= 0:
                self._dropped_errors += len(op.items)
                continue
            items = op.items[-budget:]
            self._dropped_errors += len(op.items) - len(items)
            budget -= len(items)
            keep.append(_Op(op.kind, items, op.token, op.submitted))
        log.warning("store down: %d error-log records dropped so far", self._dropped_errors)
        return list(reversed(keep))

    def _set_state(self, ok: bool, detail: str) -> None:
        if ok != self.store_ok:
            if ok:
                log.warning("store is back")
            else:
                log.warning("store unavailable: %s", detail)
            self.outcomes.append(Outcome("store", None, ok, detail))
        self.store_ok = ok
        self.last_error = detail


def _groups(ops: list[_Op]) -> list[list[_Op]]:
    """Split ops where a domain completed earlier in the group is enqueued again."""
    groups: list[list[_Op]] = [[]]
    completed: set[str] = set()
    for op in ops:
        if op.kind == "enqueue" and any(job.domain in completed for job in op.items):
            groups.append([])
            completed = set()
        if op.kind == "complete":
            completed.update(r.domain for r in op.items)
        groups[-1].append(op)
    return [g for g in groups if g]

