"""The raterd supervisor: keeps N worker processes running, recycles them without losing capacity.

``sitetruth-raterd`` runs one :class:`Supervisor` per machine. It holds no
socket to the broker; each worker (:mod:`raterd.worker`) has its own. The
supervisor's job is the processes:

* **Start** ``workers`` children (``python -m raterd.worker``, a fresh
  interpreter each, so no ZeroMQ context ever crosses a ``fork``), each at
  the configured nice value, which the worker sets on itself first thing.
  Every child gets a private control socketpair (:mod:`raterd._control`)
  and its stderr is read here: passed on to our stderr line by line and the
  last lines kept for crash reports.
* **Recycle** (slots never go empty): a worker that reached ``max_jobs`` or
  its memory ceiling says ``retiring`` and keeps working; we start its
  replacement in the same slot, and only when the replacement says
  ``registered`` (the broker answered its READY) do we tell the old one to
  ``leave``. Ready capacity at the broker goes N -> N+1 -> N, never N-1.
* **Restart** a worker that died unexpectedly, after an exponential backoff
  (``restart_base`` doubling to ``restart_cap``; forgotten after a worker
  stayed up ``healthy_after`` seconds), and **report** the death (exit
  status or signal, and its last stderr lines) to the broker's error log.
  Raters hold no database credentials and the broker only logs reports from
  raters it knows, so the report travels through a registered worker's
  control channel; reports wait (bounded) while no worker is registered.
* **Stop** on SIGTERM/SIGINT: forward SIGTERM to every worker (each finishes
  or hands back its job within its grace period), wait, SIGKILL stragglers
  after ``stop_timeout``, exit 0. A second signal kills at once.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import os
import random
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ._control import ControlChannel, ControlClosed
from .nodelink import NodeLink
from .metrics import MetricsError, NodeMetrics
from ._proc import ExitCode, describe_exit
from ._workerconfig import WorkerConfig

__all__ = ["Supervisor", "SupervisorConfig", "RestartPolicy"]

log = logging.getLogger(__name__)

_TICK = 0.2                # seconds between checks of children and timers
_STDERR_TAIL = 30          # stderr lines kept per worker for its crash report
_PENDING_REPORTS = 50

# The directory holding the raterd package: children import the same code as we do.
_CODE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class SupervisorConfig:
    workers: int
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    restart_base: float = 0.5       # first restart delay after a crash; doubles per consecutive crash
    restart_cap: float = 30.0
    healthy_after: float = 60.0     # a worker up this long resets the backoff
    stop_timeout: float | None = None   # SIGKILL after this (default: worker grace + 5 s)
    python: str = sys.executable
    metrics: str = ""               # HOST:PORT of the Prometheus endpoint (raterd.metrics); "" = none
    node_link: bool = False         # one broker connection for the node (raterd.nodelink)


class RestartPolicy:
    """Backoff for one slot's restarts: base, 2*base, 4*base ... cap; reset by a healthy run."""

    def __init__(self, base: float, cap: float, healthy_after: float) -> None:
        self.base, self.cap, self.healthy_after = base, cap, healthy_after
        self.failures = 0

    def next_delay(self, lifetime: float) -> float:
        """Delay before restarting a worker that crashed after *lifetime* seconds."""
        if lifetime >= self.healthy_after:
            self.failures = 0
        self.failures += 1
        return min(self.cap, self.base * 2 ** (self.failures - 1))


@dataclass(eq=False)
class _Child:
    slot: int
    name: str
    popen: subprocess.Popen
    control: ControlChannel
    started: float
    tail: collections.deque = field(default_factory=lambda: collections.deque(maxlen=_STDERR_TAIL))
    partial: bytes = b""
    registered: bool = False
    retiring: bool = False
    told_to_leave: bool = False
    busy: bool = False              # between its "job" and "rated" messages

    @property
    def pid(self) -> int:
        return self.popen.pid


@dataclass(eq=False)
class _Slot:
    index: int
    policy: RestartPolicy
    current: _Child | None = None
    successor: _Child | None = None     # a replacement warming up while `current` keeps working
    restart_at: float | None = None     # a (re)start is due at this time

    @property
    def name(self) -> str:
        return f"w{self.index}"


class Supervisor:
    """Run with :meth:`run` in the main thread (it installs the signal handlers)."""

    def __init__(self, config: SupervisorConfig) -> None:
        if config.workers < 1:
            raise ValueError("a supervisor needs at least one worker")
        self.config = config
        self.process = f"raterd-supervisor[{os.getpid()}]"
        self._selector = selectors.DefaultSelector()
        self._children: list[_Child] = []
        self._slots = [_Slot(i, RestartPolicy(config.restart_base, config.restart_cap, config.healthy_after))
                       for i in range(config.workers)]
        self._reports: collections.deque[dict[str, Any]] = collections.deque(maxlen=_PENDING_REPORTS)
        self._stop_reason = ""
        self._signals = 0
        self._stop_deadline: float | None = None
        self._env = dict(os.environ)
        path = self._env.get("PYTHONPATH", "")
        self._env["PYTHONPATH"] = _CODE_ROOT + (os.pathsep + path if path else "")
        self.restarts = 0
        self._ever_registered = False
        self._exit_code = ExitCode.OK
        self.metrics = NodeMetrics(node=config.worker.node_name, link=config.node_link)
        # With --node-link the workers talk to this process's NodeLink, not to the broker.
        self.link: NodeLink | None = None
        self._worker_config = config.worker

    # ---- public --------------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        """Stop all workers gracefully (safe from a signal handler); asked twice, kill them."""
        self._signals += 1
        self._stop(reason)

    def _stop(self, reason: str) -> None:
        if not self._stop_reason:
            self._stop_reason = reason

    def run(self) -> ExitCode:
        wake_r, wake_w = socket.socketpair()
        wake_r.setblocking(False)
        wake_w.setblocking(False)
        self._selector.register(wake_r, selectors.EVENT_READ, ("wake", None))
        restore = self._install_signals(wake_w)
        try:
            if self.config.metrics:
                try:
                    log.info("metrics listening on http://%s/metrics", self.metrics.serve(self.config.metrics))
                except MetricsError as e:
                    log.error("%s", e)
                    return ExitCode.CONFIG
            worker = self.config.worker
            log.info("raterd supervisor up: %d workers -> broker %s (nice %s, max %d jobs, max %s MiB)",
                     self.config.workers, worker.broker, worker.nice, worker.max_jobs, worker.max_rss or "-")
            if self.config.node_link:
                self.link = NodeLink(worker)
                self.link.start()
                # Workers reach the broker through the link: no keys, no endpoint list of their own.
                self._worker_config = dataclasses.replace(worker, broker=self.link.endpoint, curve_secret=None,
                                                          broker_public_key=None)
            for slot in self._slots:
                slot.current = self._spawn(slot)
            while True:
                for key, _ in self._selector.select(_TICK):
                    kind, child = key.data
                    if kind == "wake":
                        _drain(wake_r)
                    elif kind == "control":
                        self._on_control(child)
                    elif kind == "stderr":
                        self._on_stderr(child)
                code = self._tick(time.monotonic())
                if code is not None:
                    return code
        finally:
            restore()
            for child in list(self._children):
                self._kill(child)
            if self.link is not None:
                self.link.stop()
            self._selector.close()
            self.metrics.close()
            wake_r.close()
            wake_w.close()

    # ---- signals -------------------------------------------------------------------
    def _install_signals(self, wake_w: socket.socket):
        if threading.current_thread() is not threading.main_thread():
            return lambda: None         # embedded (tests): stop with request_stop()

        def on_signal(signum: int, _frame: Any) -> None:
            self.request_stop(signal.Signals(signum).name)

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        old_fd = signal.set_wakeup_fd(wake_w.fileno())

        def restore() -> None:
            signal.set_wakeup_fd(old_fd)
            for s, handler in previous.items():
                signal.signal(s, handler)
        return restore

    # ---- children ------------------------------------------------------------------
    def _spawn(self, slot: _Slot) -> _Child:
        ours, theirs = socket.socketpair()
        config = self._worker_config.with_name(slot.name)
        args = [self.config.python, "-m", "raterd.worker", "--config-json", config.to_json(),
                "--control-fd", str(theirs.fileno())]
        try:
            popen = subprocess.Popen(args, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     pass_fds=(theirs.fileno(),), env=self._env, close_fds=True)
        finally:
            theirs.close()
        child = _Child(slot.index, slot.name, popen, ControlChannel(ours), time.monotonic())
        os.set_blocking(popen.stderr.fileno(), False)
        self._selector.register(child.control.sock, selectors.EVENT_READ, ("control", child))
        self._selector.register(popen.stderr, selectors.EVENT_READ, ("stderr", child))
        self._children.append(child)
        log.info("started worker %s (pid %d)", slot.name, popen.pid)
        return child

    def _on_control(self, child: _Child) -> None:
        try:
            messages = child.control.receive()
        except ControlClosed:
            self._unregister(child.control.sock)
            return
        for message in messages:
            event = message.get("event")
            if event == "registered":
                self._on_registered(child)
            elif event == "retiring":
                self._on_retiring(child, message)
            elif event == "job":
                child.busy = True
            elif event == "rated":
                child.busy = False
                self.metrics.rated(message)
            else:
                log.warning("unknown message from worker %s ignored: %r", child.name, message)

    def _on_registered(self, child: _Child) -> None:
        child.registered = True
        self._ever_registered = True
        slot = self._slots[child.slot]
        log.info("worker %s (pid %d) registered with the broker", child.name, child.pid)
        if child is slot.successor:
            old, slot.current, slot.successor = slot.current, child, None
            if old is not None:
                self._tell_leave(old)
        self._flush_reports()

    def _on_retiring(self, child: _Child, message: dict[str, Any]) -> None:
        child.retiring = True
        self.metrics.recycled(message.get("reason"))
        slot = self._slots[child.slot]
        log.info("worker %s (pid %d) retiring (%s, %s jobs, %s MiB): starting its replacement",
                 child.name, child.pid, message.get("reason"), message.get("jobs_done"), message.get("rss_mb"))
        if self._stop_reason or child is not slot.current or slot.successor is not None or slot.restart_at:
            return              # stopping anyway, or a replacement is already on its way
        slot.successor = self._spawn(slot)

    def _tell_leave(self, child: _Child) -> None:
        child.told_to_leave = True
        if self.link is not None:
            self.link.worker_leaving(child.pid)
        try:
            child.control.send({"cmd": "leave"})
        except ControlClosed:
            pass                # it is exiting already; its exit is handled as usual

    def _on_stderr(self, child: _Child, final: bool = False) -> None:
        stream = child.popen.stderr
        while True:
            try:
                chunk = os.read(stream.fileno(), 65536)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:
                self._unregister(stream)
                final = True
                break
            child.partial += chunk
            *lines, child.partial = child.partial.split(b"\n")
            for line in lines:
                self._pass_on(child, line)
        if final and child.partial:
            self._pass_on(child, child.partial)
            child.partial = b""

    def _pass_on(self, child: _Child, line: bytes) -> None:
        text = line.decode("utf-8", errors="replace").rstrip("\r")
        child.tail.append(text)
        try:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass                # our own stderr is gone; the tail still goes into crash reports

    def _unregister(self, fileobj: Any) -> None:
        try:
            self._selector.unregister(fileobj)
        except (KeyError, ValueError):
            pass

    # ---- timers and exits ------------------------------------------------------------
    def worker_states(self) -> dict[str, int]:
        """Workers by state (the names of :data:`raterd.metrics.WORKER_STATES`)."""
        counts: dict[str, int] = {}
        for child in self._children:
            state = ("retiring" if child.retiring or child.told_to_leave else "busy" if child.busy
                     else "idle" if child.registered else "starting")
            counts[state] = counts.get(state, 0) + 1
        waiting = sum(1 for slot in self._slots if slot.current is None and slot.restart_at is not None)
        if waiting:
            counts["restarting"] = waiting
        return counts

    def _tick(self, now: float) -> ExitCode | None:
        for child in list(self._children):
            if child.popen.poll() is not None:
                self._on_exit(child, now)
        self.metrics.set_workers(self.worker_states())
        if self.link is not None:
            self.metrics.set_link(self.link.registered, dict(self.link.counters))
        if self._stop_reason:
            return self._stopping(now)
        for slot in self._slots:
            if slot.restart_at is not None and now >= slot.restart_at:
                slot.restart_at = None
                child = self._spawn(slot)
                self.restarts += 1
                self.metrics.restarted()
                if slot.current is None:
                    slot.current = child
                else:
                    slot.successor = child
        return None

    def _on_exit(self, child: _Child, now: float) -> None:
        self._on_stderr(child, final=True)
        self._unregister(child.control.sock)
        self._unregister(child.popen.stderr)
        child.control.close()
        child.popen.stderr.close()
        self._children.remove(child)
        code = child.popen.returncode
        lifetime = now - child.started
        if self.link is not None:
            self.link.worker_died(child.pid, describe_exit(code))
        slot = self._slots[child.slot]
        asked = child.told_to_leave or bool(self._stop_reason)
        was_current, was_successor = child is slot.current, child is slot.successor
        if was_current:
            slot.current, slot.successor = slot.successor, None
        elif was_successor:
            slot.successor = None
        # While we stop, a worker still importing when SIGTERM came had no handler yet: fine too.
        if asked and (code == ExitCode.OK or (self._stop_reason and code == -signal.SIGTERM)):
            log.info("worker %s (pid %d) left after %.0f s", child.name, child.pid, lifetime)
            return
        if code == ExitCode.CONFIG and not self._ever_registered and not self._stop_reason:
            # Nothing has ever worked: a configuration error, not a crash to retry forever.
            self._exit_code = ExitCode.CONFIG
            self._stop(f"configuration error: worker {child.name} {describe_exit(code)}")
        # A dead current worker leaves its slot empty unless a successor took over; a dead
        # successor is needed still (its predecessor wants to retire). Never while stopping.
        restart = not self._stop_reason and ((was_current and slot.current is None) or was_successor)
        what = f"worker {child.name} (pid {child.pid}) {describe_exit(code)} after {lifetime:.1f} s"
        if code == ExitCode.OK:
            what += " without being asked to"
        if restart and slot.restart_at is None:
            delay = slot.policy.next_delay(lifetime) * random.uniform(0.8, 1.2)
            slot.restart_at = now + delay
            what += f"; restarting in {delay:.1f} s"
        tail = "\n".join(child.tail)
        self._report(what, f"last stderr lines of {child.name} (pid {child.pid}):\n{tail}" if tail else "")

    def _stopping(self, now: float) -> ExitCode | None:
        if self._stop_deadline is None:
            timeout = self.config.stop_timeout
            if timeout is None:
                timeout = self.config.worker.grace + 5.0
            self._stop_deadline = now + timeout
            log.info("stopping (%s): asking %d worker(s) to finish or hand back their jobs",
                     self._stop_reason, len(self._children))
            for child in self._children:
                _signal(child, signal.SIGTERM)
        if not self._children:
            log.info("all workers stopped")
            return self._exit_code
        if now >= self._stop_deadline or self._signals > 1:
            log.error("killing %d worker(s) that did not stop in time", len(self._children))
            for child in list(self._children):
                self._kill(child)
                self._on_exit(child, now)
            return self._exit_code
        return None

    def _kill(self, child: _Child) -> None:
        _signal(child, signal.SIGKILL)
        try:
            child.popen.wait(5)
        except subprocess.TimeoutExpired:
            log.error("worker %s (pid %d) survives SIGKILL", child.name, child.pid)

    # ---- error reports -----------------------------------------------------------------
    def _report(self, message: str, tb: str) -> None:
        log.error("%s", message)
        self._reports.append({"cmd": "report", "component": "raterd.supervisor", "message": message,
                              "traceback": tb, "process": self.process})
        self._flush_reports()

    def _flush_reports(self) -> None:
        while self._reports:
            messengers = [c for c in self._children if c.registered and not c.told_to_leave
                          and not c.control.closed and c.popen.poll() is None]
            if not messengers:
                return
            try:
                messengers[0].control.send(self._reports[0])
            except ControlClosed:
                continue
            self._reports.popleft()


def _signal(child: _Child, signum: int) -> None:
    try:
        child.popen.send_signal(signum)
    except (ProcessLookupError, OSError):
        pass


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(4096):
            pass
    except (BlockingIOError, InterruptedError):
        pass
