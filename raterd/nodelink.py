"""One broker connection for a whole node (``sitetruth-raterd --node-link``).

Without it every worker process holds its own connection to the broker, and
at internet scale (thousands of workers) the broker spends most of its time
on their heartbeats: one each way per worker per second. With it the
supervisor runs a :class:`NodeLink` thread that holds the node's single
connection and registers the node as one rater with a capacity of as many
jobs as it has workers; the workers connect to the link instead, over an
``ipc://`` socket in a private directory, and speak the same protocol to it
as they would to a broker. The broker then hears one heartbeat a second per
node, and the node's CURVE secret is read by this one process only.

What the link does, seen from each side::

    worker READY        -> a local slot; answered at once (the worker is registered
                           as soon as the link knows it), capacity +1 at the broker
    worker HEARTBEAT    <-> answered locally; a worker silent for ``liveness`` s is dead
    broker JOB          -> the least recently used free worker
    worker RESULT/FAILED/ERROR_REPORT -> the broker, as they are
    worker PULSE        -> the broker: the latest of every job, all in one PULSE, at most every 5 s
    worker DISCONNECT   -> its job handed back (no attempt counted), capacity -1
    worker dead         -> its job FAILED (an attempt, as when a lone worker dies), capacity -1
    broker HEARTBEAT/DISCONNECT/silence -> as a worker would: the same registration
                           machine (:mod:`raterd._registration`), the same
                           endpoint list for standby brokers

Capacity changes are a READY with ``update`` set: the broker keeps the
node's jobs except those listed in ``released`` (handed back: a worker left
holding one, or a JOB came when no worker was free). After the broker may have forgotten the node (it
restarted, a standby took over, the link fell silent), jobs of the earlier
registration still being rated are not announced: their slots are left out
of the capacity until they finish, and their results are sent anyway (a
broker that does not know the job drops the result and rates the domain
again from its durable queue: rated once either way, as with lone workers).
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import os
import re
import shutil
import socket
import stat
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import zmq

from protocol import (
    Disconnect,
    ErrorReport,
    Failed,
    Heartbeat,
    Job,
    ProtocolError,
    Pulse,
    Ready,
    Result,
    decode,
    join_envelope,
    split_envelope,
)
from protocol.wire import send_frames

from ._brokerlink import BrokerEndpoints, BrokerLink, is_not_active
from ._outbox import Outbox
from ._registration import Registration
from ._workerconfig import WorkerConfig

__all__ = ["NodeLink"]

log = logging.getLogger("raterd.nodelink")

_TICK = 0.1
_OUTBOX_TTL = 60.0          # a job outcome waits this long for a broker that takes it
_OUTBOX_SIZE = 4096
_HEARTBEAT = Heartbeat().to_frames()
_VERSION = "nodelink"
# Progress reaches the broker at most this often per job (and four times per
# lease at least): a worker may report several times a second, and across
# thousands of workers that would be most of the broker's traffic.
_PULSE_EVERY = 5.0
# What one PULSE carries at most (the protocol takes 1 MiB a body): a node of
# many workers with long progress texts sends its jobs' progress in parts.
_PROGRESS_BYTES = 256 * 1024
# The link's socket directory: <tmp>/sitetruth-raterd-<supervisor pid>-<random>.
_DIR_PREFIX = "sitetruth-raterd-"
_DIR_NAME = re.compile(re.escape(_DIR_PREFIX) + r"(\d+)-")


@dataclass(eq=False)
class _Local:
    """One worker process connected to the link."""

    identity: bytes
    name: str
    pid: int
    last_seen: float
    last_sent: float = 0.0
    job: Job | None = None
    generation: int = 0          # the broker registration its job came from
    leaving: bool = False        # its replacement is in: no new job for it
    pulse: Pulse | None = None   # the latest progress of its job not yet passed on


class NodeLink:
    """The node's broker connection; :meth:`start` runs it in a thread, :meth:`stop` ends it."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.host = config.node_name or socket.gethostname()
        self.pid = os.getpid()
        self.identity = f"{self.host}/node/{self.pid}".encode()[:255]
        # Only this user may reach the socket: whoever can talk to the link
        # speaks to the broker with the node's key.
        self._curve = config.client_keys()      # read first: a bad key file leaves nothing behind
        _sweep_stale_dirs()
        self._dir = tempfile.mkdtemp(prefix=f"{_DIR_PREFIX}{self.pid}-")
        os.chmod(self._dir, 0o700)
        self.endpoint = f"ipc://{self._dir}/workers"
        self.jobs_done = 0
        self.counters: dict[str, int] = {"jobs": 0, "results": 0, "worker_deaths": 0, "handed_back": 0}
        self._context = zmq.Context()
        self._local = self._context.socket(zmq.ROUTER)
        self._local.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self._local.setsockopt(zmq.ROUTER_HANDOVER, 1)       # a restarted worker may reuse its identity
        self._local.setsockopt(zmq.LINGER, 0)
        try:
            self._local.bind(self.endpoint)
        except zmq.ZMQError:
            self._local.close(0)
            self._context.term()
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        self._workers: OrderedDict[bytes, _Local] = OrderedDict()     # least recently given a job first
        self._brokers = BrokerEndpoints(config.broker_list)
        self._poller = zmq.Poller()
        self._poller.register(self._local, zmq.POLLIN)
        self._link: BrokerLink | None = None
        now = time.monotonic()
        self._registration = Registration(now, max_delay=config.reconnect_max)
        self._generation = 0
        self._announced: int | None = None      # capacity last told the broker (None: not since registering)
        self._releases: list[str] = []          # jobs to hand back with the next capacity update
        self._last_heard = now
        self._last_sent = 0.0
        self._progress_sent_at = 0.0           # when the node's jobs' progress last went to the broker
        self._outbox = Outbox(_OUTBOX_TTL, _OUTBOX_SIZE)
        self._refused: str | None = None       # the handshake failure last logged
        # From the supervisor's thread: (pid, "leaving") or (pid, "died", how it exited).
        self._notices: collections.deque[tuple] = collections.deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- life cycle ------------------------------------------------------------------
    def start(self) -> None:
        self._link = BrokerLink(self._context, self.config, self.identity, self._curve, self._brokers.current,
                                self._poller)
        self._thread = threading.Thread(target=self._run, name="node-link", daemon=True)
        self._thread.start()
        log.info("node link %s up: workers at %s, broker %s", self.identity.decode(errors="replace"),
                 self.endpoint, self.config.broker)

    def stop(self, timeout: float = 5.0) -> None:
        """Tell the broker the node is leaving (it re-queues what is still held), then close."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def registered(self) -> bool:
        return self._registration.registered

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self._step()
                except Exception:
                    log.exception("internal error in the node link")
                    time.sleep(0.1)
        finally:
            if self._link is not None:
                self._send(Disconnect(reason="node leaving").to_frames())
                self._link.close(linger=1000)
            self._local.close(0)
            self._context.term()

    def _step(self) -> None:
        events = dict(self._poller.poll(_TICK * 1000))
        link = self._link
        ready = events.get(link.sock, 0)
        if ready & zmq.POLLOUT and link.watching_writable:
            link.watch_writable(False)
            self._registration.connection_up(time.monotonic())
        if ready & zmq.POLLIN:
            self._read_broker()
        if self._local in events:
            self._read_workers()
        now = time.monotonic()
        while self._notices:
            self._on_notice(*self._notices.popleft())
        if self._registration.registered:
            self._outbox.flush(now, self._send)
        self._check_workers(now)
        self._check_broker(now)

    # ---- the broker side ------------------------------------------------------------------
    def _send(self, frames: list[bytes]) -> bool:
        if self._link is None or not self._link.send(frames):
            return False
        self._last_sent = time.monotonic()
        return True

    def _connect_next(self) -> None:
        self._link.close()
        if self._brokers.several:
            log.info("moving to the next broker: %s", self._brokers.advance())
        self._link = BrokerLink(self._context, self.config, self.identity, self._curve, self._brokers.current,
                                self._poller)

    def _forgotten(self) -> None:
        """The broker may no longer know the node: jobs held now belong to an earlier registration."""
        self._generation += 1
        self._announced = None
        self._releases.clear()      # a full READY re-queues whatever the broker still thought we held

    def _read_broker(self) -> None:
        for msg in self._link.messages(200):
            now = time.monotonic()
            self._last_heard = now
            if msg is None:
                continue
            if isinstance(msg, Disconnect):
                self._forgotten()
                if is_not_active(msg):
                    log.info("broker %s says %r", self._brokers.current, msg.reason)
                    self._registration.standby(now)
                    self._connect_next()
                    return
                log.info("broker says %r: registering again", msg.reason)
                self._registration.told_to_register(now, restarted=msg.reregister)
                continue
            if self._registration.answered():
                log.info("node registered with the broker at %s (capacity %d)", self._brokers.current,
                         self._capacity())
            if isinstance(msg, Job):
                self._give(msg, now)

    def _capacity(self) -> int:
        """Slots the broker may fill: every worker but those still rating a job it may not know."""
        return sum(1 for w in self._workers.values()
                   if (w.job is None and not w.leaving) or (w.job is not None and w.generation == self._generation))

    def _check_broker(self, now: float) -> None:
        registration = self._registration
        silent = now - self._last_heard
        if registration.registered and silent > self.config.liveness:
            log.warning("broker %s silent for %.1f s: reconnecting", self._brokers.current, silent)
            registration.silent(now)
            self._forgotten()
            self._connect_next()
        registration.answer_overdue(now)
        capacity = self._capacity()
        if registration.registered:
            if capacity == 0:
                # No worker left (or all rating jobs the broker forgot): take no work.
                self._send(Disconnect(reason="no free worker on this node").to_frames())
                registration.told_to_register(now, restarted=False)
                self._forgotten()
                return
            if capacity != self._announced or self._releases:
                self._ready(capacity, update=True)      # a failed send is retried next turn
            if now - self._last_sent >= self.config.heartbeat:
                self._send(_HEARTBEAT)
                self._last_sent = now       # also when it failed: retry next interval, not every tick
        elif registration.ready_due(now) and capacity > 0:
            if silent > self.config.liveness and now - self._link.opened > self.config.liveness:
                self._connect_next()        # a half-open connection never recovers by itself
            if self._ready(capacity):
                registration.ready_sent(now, answer_within=2 * self.config.heartbeat)
            else:
                registration.ready_not_sent(now)
                self._link.watch_writable(True)
                why = self._link.why_down()
                if why and why != self._refused:
                    self._refused = why
                    log.warning("broker %s refused the connection: %s", self._brokers.current, why)

    def _ready(self, capacity: int, update: bool = False) -> bool:
        """READY with the node's capacity (``update``: a change, handing back the released jobs); False if
        it could not be sent."""
        released = tuple(self._releases) if update else ()
        sent = self._send(Ready(capacity=capacity, host=self.host, pid=self.pid, worker="node", version=_VERSION,
                                jobs_done=self.jobs_done, update=update, released=released).to_frames())
        if sent:
            self._announced = capacity
            del self._releases[:len(released)]
        return sent

    # ---- the worker side -------------------------------------------------------------------
    def _to_worker(self, worker: _Local, frames: list[bytes], now: float) -> None:
        try:
            send_frames(self._local, join_envelope(worker.identity, frames), zmq.NOBLOCK)
        except zmq.ZMQError as e:
            log.debug("message to worker %s dropped: %s", worker.name, e)
            return
        worker.last_sent = now

    def _read_workers(self) -> None:
        for _ in range(500):
            try:
                frames = self._local.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            now = time.monotonic()
            try:
                identity, app = split_envelope(frames)
                msg = decode(app)
            except ProtocolError as e:
                log.warning("malformed message from a worker dropped: %s", e)
                continue
            self._on_worker(identity, msg, app, now)

    def _on_worker(self, identity: bytes, msg, app: list[bytes], now: float) -> None:
        """One message from a worker; ``app`` is its frames as received (checked by decoding), passed on as is."""
        worker = self._workers.get(identity)
        if isinstance(msg, Ready):
            if worker is not None and worker.job is not None:
                self._release(worker, hand_back=True, reason="it registered again")
            if worker is None:
                worker = self._workers[identity] = _Local(identity, msg.worker, msg.pid, now)
                log.info("worker %s (pid %d) joined the node link", msg.worker, msg.pid)
            worker.last_seen = now
            self._to_worker(worker, _HEARTBEAT, now)       # "registered"
            return
        if isinstance(msg, ErrorReport):
            self._send(app)
            return
        if worker is None:
            if not isinstance(msg, Disconnect):
                self._to_worker(_Local(identity, "?", 0, now),
                                Disconnect(reason="unknown worker: send READY", reregister=True).to_frames(), now)
            return
        worker.last_seen = now
        if isinstance(msg, Disconnect):
            self._drop(worker, hand_back=True, reason="it left")
            log.info("worker %s left the node link", worker.name)
        elif isinstance(msg, (Pulse, Result, Failed)):
            if worker.job is None or worker.job.job_id != msg.job_id:
                return              # a job it was relieved of
            if isinstance(msg, Pulse):
                # Its own job's only; passed on with the others' at the end of this turn (_check_workers).
                worker.pulse = dataclasses.replace(msg, more=()) if msg.more else msg
                return
            worker.pulse = None
            self._send_or_keep(app, now)
            worker.job = None
            self.jobs_done += 1
            self.counters["results"] += 1

    def _give(self, job: Job, now: float) -> None:
        for worker in self._workers.values():
            if worker.job is None and not worker.leaving:
                worker.job, worker.generation = job, self._generation
                worker.pulse = None
                self._workers.move_to_end(worker.identity)
                self._to_worker(worker, job.to_frames(), now)
                self.counters["jobs"] += 1
                return
        # No free worker (one left while the JOB was on its way): handed
        # back with the capacity update that is on its way too.
        log.info("job %s for %s arrived with no free worker: handing it back", job.job_id, job.domain)
        self.counters["handed_back"] += 1
        self._releases.append(job.job_id)

    def _drop(self, worker: _Local, hand_back: bool, reason: str) -> None:
        """Forget a worker that left (``hand_back``) or died; its job, if any, goes with it."""
        del self._workers[worker.identity]
        if not hand_back:
            self.counters["worker_deaths"] += 1
        self._release(worker, hand_back, reason)

    def _release(self, worker: _Local, hand_back: bool, reason: str) -> None:
        """A worker's job ends without an outcome from it: handed back (released with the next capacity
        update) or failed."""
        job, worker.job = worker.job, None
        if job is None:
            return
        if hand_back:
            log.info("job %s for %s handed back: worker %s %s", job.job_id, job.domain, worker.name, reason)
            self.counters["handed_back"] += 1
            if worker.generation == self._generation:
                self._releases.append(job.job_id)
            return
        self._send_or_keep(Failed(job_id=job.job_id, error=f"raterd worker {worker.name} (pid {worker.pid}) {reason}"
                                  ).to_frames(), time.monotonic())

    def _send_or_keep(self, frames: list[bytes], now: float) -> None:
        """A job outcome: to the broker now, or kept (in order) until the node is registered again."""
        if not (self._registration.registered and not self._outbox and self._send(frames)):
            self._outbox.keep(frames, now)

    def _check_workers(self, now: float) -> None:
        for worker in list(self._workers.values()):
            if now - worker.last_seen > self.config.liveness:
                log.warning("worker %s (pid %d) silent for %.1f s: gone", worker.name, worker.pid,
                            now - worker.last_seen)
                self._drop(worker, hand_back=False, reason="stopped answering")
            elif now - worker.last_sent >= self.config.heartbeat:
                self._to_worker(worker, _HEARTBEAT, now)
        self._pass_progress(now)

    def _pass_progress(self, now: float) -> None:
        """The latest progress of every job that reported since the last time, in one PULSE (best effort).

        At most every 5 s (four times per lease at least): one message for
        the node where there would be one per job. A job's progress is
        passed on at most that long after it was reported.
        """
        pending = [w for w in self._workers.values() if w.pulse is not None and w.job is not None]
        if not pending or not self._registration.registered:
            return
        every = min(_PULSE_EVERY, *(w.job.lease / 4 for w in pending))
        if now - self._progress_sent_at < every:
            return
        pulses = [w.pulse for w in pending]
        for w in pending:
            w.pulse = None
        self._progress_sent_at = now
        for part in _progress_messages(pulses):
            self._send(part.to_frames())

    def worker_died(self, pid: int, how: str) -> None:
        """The supervisor saw worker ``pid`` exit (any thread; handled on the link's next turn)."""
        self._notices.append((pid, "died", how))

    def worker_leaving(self, pid: int) -> None:
        """The supervisor told worker ``pid`` to leave once its job is done (any thread)."""
        self._notices.append((pid, "leaving"))

    def _on_notice(self, pid: int, what: str, how: str = "") -> None:
        # A worker that exits cleanly said DISCONNECT first and is gone already.
        for worker in [w for w in self._workers.values() if w.pid == pid]:
            if what == "leaving":
                worker.leaving = True
            else:
                self._drop(worker, hand_back=False, reason=how)


def _progress_messages(pulses: list[Pulse]) -> list[Pulse]:
    """``pulses`` as few PULSE messages as fit ``_PROGRESS_BYTES`` each: the first of each part carries the rest."""
    parts: list[list[Pulse]] = [[]]
    size = 0
    for pulse in pulses:
        cost = 64 + len(pulse.job_id) + len(pulse.stage) + len(pulse.detail)
        if parts[-1] and size + cost > _PROGRESS_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(pulse)
        size += cost
    return [dataclasses.replace(first, more=tuple(rest)) if rest else first for first, *rest in parts]


def _sweep_stale_dirs() -> None:
    """Remove the socket directories of links whose supervisor is gone (a SIGKILL leaves them behind).

    Only this user's directories, and only those whose pid no process has:
    a pid taken again by another process keeps its directory, to be safe.
    """
    base = tempfile.gettempdir()
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        match = _DIR_NAME.match(name)
        if match is None:
            continue
        pid = int(match.group(1))
        path = os.path.join(base, name)
        try:
            info = os.lstat(path)
            if pid == os.getpid() or not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
                continue
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
            log.info("removed %s, left by a node link whose supervisor (pid %d) is gone", path, pid)
        except OSError:
            continue        # alive under another user, or gone meanwhile
