"""One rater worker process: speaks the broker protocol and runs one rating at a time.

Started by the supervisor (:mod:`raterd.supervisor`) as ``python -m
raterd.worker --config-json ... --control-fd N``; it can also run alone for
debugging (without ``--control-fd`` it simply leaves when it would retire).

Conversation with the broker (DEALER, ROUTING_ID ``host/w3/pid``)::

    READY(capacity=1) ->            the broker answers with a HEARTBEAT or a JOB: registered
    <- JOB                          rating starts in the rating thread
    PULSE* ->                       one per progress callback, at most ~10/s
    RESULT | FAILED ->              frees our slot; the broker may send the next JOB
    HEARTBEAT <->                   every second both ways, busy or not
    <- DISCONNECT(reregister)       the broker does not know us (it restarted): send READY
    <- DISCONNECT("not active: ..") a standby broker: try the next endpoint of the list
    DISCONNECT ->                   leaving; the broker re-queues what we hold, no attempt counted

Threads: the main thread owns every socket and runs the ZeroMQ loop;
the rating thread only calls ``pipeline.rate()``. Progress callbacks (from
whatever thread the pipeline uses) and the outcome travel back through a
thread-safe queue plus a pipe that wakes the poller, so heartbeats and
pulses keep flowing while pages are fetched and no socket crosses a thread.

The broker can vanish (restart, crash, partition). With IMMEDIATE set a send
to no live connection fails at once instead of queueing stale messages;
READY is retried with jittered, capped exponential backoff until the
broker answers, and a broker silent for ``liveness`` seconds gets a fresh
socket and a new READY (the states and their transitions:
:mod:`raterd._registration`; the worker does the socket work).
RESULT/FAILED that cannot be sent wait in a small outbox for a while (a
restarted broker accepts a result from a rater it does not know yet). With CURVE keys every new socket is a CURVE client of
the broker (:mod:`raterd._brokerlink`); a refused key is logged with its
reason, and the worker keeps retrying, since an operator may be adding the
node's public key to the broker right now.

Several brokers on one store (hot standby, ``--broker A,B``; see
:mod:`raterd._brokerlink`): on ``DISCONNECT("not active: ...")`` from a
standby, or ``liveness`` seconds of silence, the worker moves to the next
endpoint and says READY there (at the READY backoff's pace). A job rated
meanwhile is finished; its RESULT waits until the worker is registered again
and goes to that broker (one that does not know the job drops it and
re-queues it from the store: rated once either way).

Leaving: after ``max_jobs`` ratings or past ``max_rss`` MiB the worker tells
the supervisor it is retiring and keeps working until the supervisor says
its replacement is registered, then sends DISCONNECT and exits 0, so the
broker's ready capacity never dips. SIGTERM/SIGINT (or the supervisor
vanishing) finish the current job if it ends within ``grace`` seconds,
otherwise hand it back with DISCONNECT; exit 0 either way. A rating that
overruns its deadline by ``overrun`` seconds cannot be stopped (threads
cannot be killed): the worker fails the job with the rating thread's stack
and exits ``WEDGED`` so the supervisor replaces it.
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import queue
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import zmq

from protocol import (
    MAX_IDENT_LEN,
    Disconnect,
    ErrorReport,
    Failed,
    Heartbeat,
    Job,
    ProtocolError,
    Pulse,
    Ready,
)
from protocol.security import ClientKeys, KeyFileError

from ._brokerlink import BrokerEndpoints, BrokerLink, is_not_active
from ._control import JOB_STARTED, ControlChannel, ControlClosed, rated_message
from ._mailbox import Mailbox, thread_stack
from ._outbox import Outbox
from ._outcome import outcome_frames, pulse_message
from ._proc import ExitCode, rss_mb, set_niceness
from ._registration import Registration
from ._workerconfig import PipelineLoadError, WorkerConfig, WorkerError, load_pipeline

__all__ = ["Worker", "WorkerConfig", "WorkerError", "PipelineLoadError", "run_worker", "main", "VERSION"]

# Named, not __name__: run as ``python -m raterd.worker`` this module is __main__.
log = logging.getLogger("raterd.worker")

try:
    VERSION = metadata.version("sitetruth-cluster")
except metadata.PackageNotFoundError:
    VERSION = "0.1.0"

_TICK = 0.1                  # poll timeout: timers (heartbeat, pulses, READY retries) need no finer grain
_OUTBOX_TTL = 60.0           # how long a RESULT waits for a broker before it is given up
_MAX_LOOP_ERRORS = 20        # internal errors per minute before the worker gives up (exit SOFTWARE)


@dataclass
class _Current:
    job: Job
    started: float
    deadline: float
    pulse: Pulse | None = None     # latest progress not yet sent (coalesced)
    last_pulse: float = 0.0


class Worker:
    """The loop of one worker process; build it, then call :meth:`run` in the main thread."""

    def __init__(self, config: WorkerConfig, pipeline: Any, control: ControlChannel | None = None) -> None:
        self.config = config
        self.pipeline = pipeline
        self.control = control
        # The node name (sitetruth-raterd --node-name, default the host name)
        # tells apart two nodes on one host in identities, READY and zmq-monitor.
        self.host = config.node_name or socket.gethostname()
        self.pid = os.getpid()
        self.identity = f"{self.host}/{config.name}/{self.pid}".encode()[:255]
        self.process = f"raterd-{config.name}[{self.pid}]"
        self.jobs_done = 0
        self.abandoned = False        # left with a rating still running: exit without joining threads
        self._context: zmq.Context | None = None
        self._link: BrokerLink | None = None
        self._brokers: BrokerEndpoints | None = None   # from config.broker in run()
        self._curve: ClientKeys | None = None      # read from the key files in run()
        self._poller = zmq.Poller()
        self._mailbox = Mailbox()
        self._jobs: queue.SimpleQueue[tuple[Job, float] | None] = queue.SimpleQueue()
        self._rating_thread: threading.Thread | None = None
        self._current: _Current | None = None
        self._outbox = Outbox(_OUTBOX_TTL)
        now = time.monotonic()
        # Waiting to say READY -> READY sent -> registered (the broker answered); READY retries back off.
        self._registration = Registration(now, max_delay=config.reconnect_max)
        self._last_heard = now
        self._last_sent = 0.0
        self._refused: str | None = None   # the handshake failure last logged
        # Leaving.
        self._stopping = False        # signal or supervisor gone: leave within the grace period
        self._stop_by = float("inf")
        self._leave = False           # the supervisor says our replacement is in: leave after this job
        self._retiring = False
        self._errors: collections.deque[float] = collections.deque()

    @property
    def registered(self) -> bool:
        """Whether the broker answered our READY (and has not since said it does not know us)."""
        return self._registration.registered

    # ---- life cycle ------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        """Finish or hand back the current job, then leave (safe to call from a signal handler)."""
        if not self._stopping:
            self._stopping = True
            self._stop_by = time.monotonic() + self.config.grace
            log.info("stopping (%s): current job gets %.0f s", reason, self.config.grace)

    def run(self) -> ExitCode:
        try:
            # Read again here (the CLI checked them): a key file changed
            # since start must stop this worker with a reason, not a silent refusal.
            self._curve = self.config.client_keys()
        except KeyFileError as e:
            raise WorkerError(f"CURVE keys: {e}") from e
        self._brokers = BrokerEndpoints(self.config.broker_list)
        self._context = zmq.Context()
        try:
            try:
                self._connect()
            except zmq.ZMQError as e:
                raise WorkerError(f"cannot connect to broker endpoint {self._brokers.current!r}: {e}") from e
            self._poller.register(self._mailbox.fileno(), zmq.POLLIN)
            if self.control is not None:
                self._poller.register(self.control.fileno(), zmq.POLLIN)
            self._rating_thread = threading.Thread(target=self._rate_loop, name=f"rating-{self.config.name}",
                                                   daemon=True)
            self._rating_thread.start()
            log.info("worker %s up: broker %s", self.identity.decode(errors="replace"), self.config.broker)
            while True:
                try:
                    code = self._step()
                except Exception as e:      # our own bug: report it, keep serving unless it repeats
                    code = self._loop_error(e)
                if code is not None:
                    return code
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        self._jobs.put(None)
        if self._link is not None:
            # Long enough to deliver the last RESULT and DISCONNECT, never a hang.
            self._link.close(linger=1000)
            self._link = None
        if self._context is not None:
            self._context.term()
            self._context = None
        if not self.abandoned:
            if self._rating_thread is not None:
                self._rating_thread.join(5)
            try:
                self.pipeline.close()
            except Exception:
                log.exception("pipeline.close() failed")
        self._mailbox.close()
        if self.control is not None:
            self.control.close()

    def _connect(self, next_broker: bool = False) -> None:
        """A fresh socket; ``next_broker``: to the next endpoint of the list (with one, the same)."""
        if self._link is not None:
            self._link.close()
            self._link = None
        if next_broker and self._brokers.several:
            log.info("moving to the next broker: %s", self._brokers.advance())
        self._link = BrokerLink(self._context, self.config, self.identity, self._curve, self._brokers.current,
                                self._poller)

    # ---- one turn of the loop ------------------------------------------------------
    def _step(self) -> ExitCode | None:
        events = dict(self._poller.poll(_TICK * 1000))
        ready = events.get(self._link.sock, 0)
        if ready & zmq.POLLOUT and self._link.watching_writable:
            # A connection to the broker just came up: READY now, not at the next backoff step.
            self._link.watch_writable(False)
            self._registration.connection_up(time.monotonic())
        if ready & zmq.POLLIN:
            self._read_broker()
        if self._mailbox.fileno() in events:
            self._read_mailbox()
        if self.control is not None and self.control.fileno() in events:
            self._read_control()
        now = time.monotonic()
        self._flush_outbox(now)
        self._flush_pulse(now)
        # Idle and about to send READY, a heartbeat would only earn a "who are you?".
        beat = not (self._registration.waiting and self._current is None)
        if beat and now - self._last_sent >= self.config.heartbeat:
            self._send(Heartbeat().to_frames())
            self._last_sent = now      # also when it failed: retry next interval, not every tick
        self._check_broker(now)
        code = self._watchdog(now)
        if code is not None:
            return code
        return self._maybe_leave(now)

    def _loop_error(self, error: Exception) -> ExitCode | None:
        log.exception("internal error in the worker loop")
        self.report_error("raterd.worker", f"internal error in the worker loop: {error}", traceback.format_exc())
        now = time.monotonic()
        self._errors.append(now)
        while self._errors and now - self._errors[0] > 60:
            self._errors.popleft()
        if len(self._errors) >= _MAX_LOOP_ERRORS:
            log.error("%d internal errors in a minute: giving up", len(self._errors))
            self._depart("worker failing repeatedly")
            return ExitCode.SOFTWARE
        time.sleep(0.1)    # an error that repeats every turn must not spin a core
        return None

    # ---- broker ----------------------------------------------------------------------
    def _read_broker(self) -> None:
        for msg in self._link.messages(100):
            now = time.monotonic()
            self._last_heard = now
            if msg is None:
                continue
            if is_not_active(msg):
                self._standby(now, msg.reason)
                return      # anything else queued on that socket is from the standby too
            if isinstance(msg, Disconnect):
                log.info("broker says %r: registering again", msg.reason)
                self._registration.told_to_register(now, restarted=msg.reregister)
                continue
            self._registered_now()
            if isinstance(msg, Job):
                self._start_job(msg)
            elif not isinstance(msg, Heartbeat):
                log.debug("unexpected %s from the broker ignored", type(msg).__name__)

    def _standby(self, now: float, reason: str) -> None:
        """A standby broker answered: register with the next one, after the READY backoff.

        The backoff is not reset here: with no broker active yet, the list is
        walked at the backoff's pace, not spun on.
        """
        log.info("broker %s says %r", self._brokers.current, reason)
        self._registration.standby(now)
        self._connect(next_broker=True)

    def _registered_now(self) -> None:
        """Any message but DISCONNECT means the broker knows us."""
        if not self._registration.answered():
            return
        self._refused = None
        log.info("registered with the broker at %s", self._brokers.current)
        if self._registration.registrations == 1 and self.control is not None:
            self._tell_supervisor({"event": "registered", "pid": self.pid})

    def _check_broker(self, now: float) -> None:
        silent = now - self._last_heard
        registration = self._registration
        if registration.registered and silent > self.config.liveness:
            log.warning("broker %s silent for %.1f s: reconnecting", self._brokers.current, silent)
            registration.silent(now)
            self._connect(next_broker=True)
        registration.answer_overdue(now)        # no answer to our READY: try again
        if not registration.ready_due(now) or self._current is not None or self._leaving:
            return
        if silent > self.config.liveness and now - self._link.opened > self.config.liveness:
            self._connect(next_broker=True)     # a half-open connection never recovers by itself
        sent = self._send(Ready(capacity=1, host=self.host, pid=self.pid, worker=self.config.name,
                                version=VERSION, jobs_done=self.jobs_done).to_frames())
        if sent:
            registration.ready_sent(now, answer_within=2 * self.config.heartbeat)
        else:
            delay = registration.ready_not_sent(now)
            self._link.watch_writable(True)
            why = self._link.why_down()
            if why and why != self._refused:
                # Said once per reason, at once: a key problem needs an operator, not patience.
                self._refused = why
                log.warning("broker %s refused the connection: %s", self._brokers.current, why)
            elif delay >= 1.0:
                log.info("broker %s not reachable; trying again in %.1f s or when it comes up",
                         self._brokers.current, delay)
        log.debug("READY %s; next check in %.2f s", "sent" if sent else "not sent", registration.due - now)

    def _send(self, frames: list[bytes]) -> bool:
        if self._link is None or not self._link.send(frames):
            return False
        self._last_sent = time.monotonic()
        return True

    def _send_or_keep(self, frames: list[bytes]) -> None:
        """RESULT/FAILED: worth keeping for a while if no broker will take it right now."""
        if not self._outbox and self._brokers.may_deliver(self._registration.state) and self._send(frames):
            return
        self._outbox.keep(frames, time.monotonic())

    def _flush_outbox(self, now: float) -> None:
        if self._brokers.may_deliver(self._registration.state):
            self._outbox.flush(now, self._send)

    def report_error(self, component: str, message: str, tb: str = "", process: str = "",
                     domain: str = "") -> None:
        """Send an ErrorReport to the broker's error log (raters hold no database credentials)."""
        try:
            report = ErrorReport(component=component[:MAX_IDENT_LEN] or "raterd", message=message[:60000],
                                 traceback=tb[-200_000:], host=self.host[:MAX_IDENT_LEN],
                                 process=(process or self.process)[:MAX_IDENT_LEN], domain=domain[:253])
        except ProtocolError as e:
            log.warning("error report could not be built: %s", e)
            return
        if not self._send(report.to_frames()):
            log.warning("error report not delivered (no broker): %s", message[:200])

    # ---- jobs ----------------------------------------------------------------------
    def _start_job(self, job: Job) -> None:
        if self._leaving:
            # Our DISCONNECT hands it back without counting an attempt.
            log.info("job %s for %s arrived while leaving: handing it back", job.job_id, job.domain)
            return
        if self._current is not None:
            log.error("job %s arrived while busy with %s", job.job_id, self._current.job.job_id)
            self._send_or_keep(Failed(job_id=job.job_id, error="rater busy: got a second job").to_frames())
            return
        deadline = job.deadline
        configured = self.config.settings.get("deadline")
        if isinstance(configured, (int, float)) and configured > 0:
            deadline = min(deadline, float(configured))
        self._current = _Current(job, time.monotonic(), deadline)
        log.debug("job %s: rating %s (attempt %d, deadline %.0f s)", job.job_id, job.domain, job.attempt, deadline)
        self._jobs.put((job, deadline))
        if self.control is not None:
            self._tell_supervisor(JOB_STARTED)

    def _rate_loop(self) -> None:
        """The rating thread: no sockets here, only the pipeline and the mailbox."""
        while True:
            item = self._jobs.get()
            if item is None:
                return
            job, deadline = item

            def progress(stage: str, detail: str = "", done: int = 0, total: int = 0,
                         _job_id: str = job.job_id) -> None:
                self._mailbox.put(("pulse", _job_id, stage, detail, done, total))

            try:
                outcome = self.pipeline.rate(job.domain, deadline=deadline, progress=progress)
            except BaseException as e:   # rate() raises only on bugs: fail the job, keep the worker
                self._mailbox.put(("failed", job.job_id, f"{type(e).__name__}: {e}", traceback.format_exc()))
            else:
                self._mailbox.put(("result", job.job_id, outcome))

    def _read_mailbox(self) -> None:
        for event in self._mailbox.drain():
            kind, job_id = event[0], event[1]
            current = self._current
            if current is None or current.job.job_id != job_id:
                continue            # a late event of a job we already gave up on
            if kind == "pulse":
                current.pulse = pulse_message(job_id, *event[2:]) or current.pulse
            elif kind == "result":
                self._finish(current, *outcome_frames(current.job, event[2]), event[2])
            elif kind == "failed":
                log.warning("rating %s failed: %s", current.job.domain, event[2])
                self._finish(current, Failed(job_id=job_id, error=event[2][:60000],
                                             traceback=event[3][-200_000:]).to_frames(), event[2])

    def _flush_pulse(self, now: float) -> None:
        current = self._current
        if current is None or current.pulse is None:
            return
        if now - current.last_pulse >= 1.0 / self.config.pulses_per_second:
            self._send(current.pulse.to_frames())     # progress is best effort: a lost pulse is no loss
            current.pulse, current.last_pulse = None, now

    def _finish(self, current: _Current, frames: list[bytes], error: str | None, outcome: Any = None) -> None:
        self._current = None
        self._send_or_keep(frames)
        self.jobs_done += 1
        elapsed = time.monotonic() - current.started
        if self.control is not None:
            self._tell_supervisor(rated_message(outcome, elapsed, error))
        if error is None:
            log.info("rated %s in %.1f s (%d done)", current.job.domain, elapsed, self.jobs_done)
        self._check_retire()

    def _check_retire(self) -> None:
        if self._retiring:
            return
        reason = ""
        rss = rss_mb()
        if self.config.max_jobs and self.jobs_done >= self.config.max_jobs:
            reason = "max_jobs"
        elif self.config.max_rss and rss > self.config.max_rss:
            reason = "max_rss"
        if not reason:
            return
        self._retiring = True
        log.info("retiring (%s): %d jobs done, %.0f MiB resident", reason, self.jobs_done, rss)
        if self.control is None:
            self._leave = True      # nobody to start a replacement: just go
        else:
            self._tell_supervisor({"event": "retiring", "reason": reason, "jobs_done": self.jobs_done,
                                   "rss_mb": round(rss, 1)})

    def _watchdog(self, now: float) -> ExitCode | None:
        current = self._current
        if current is None or now - current.started <= current.deadline + self.config.overrun:
            return None
        stack = thread_stack(self._rating_thread)
        message = (f"rating of {current.job.domain} overran its {current.deadline:.0f} s deadline by "
                   f"{self.config.overrun:.0f} s and cannot be stopped: worker restarting")
        log.error("%s\n%s", message, stack)
        self._send(Failed(job_id=current.job.job_id, error=message, traceback=stack[-200_000:]).to_frames())
        self._depart("worker wedged: restarting")
        return ExitCode.WEDGED

    # ---- supervisor ----------------------------------------------------------------------
    def _tell_supervisor(self, message: dict[str, Any]) -> None:
        try:
            self.control.send(message)
        except ControlClosed:
            self._supervisor_gone()

    def _read_control(self) -> None:
        try:
            messages = self.control.receive()
        except ControlClosed:
            self._supervisor_gone()
            return
        for message in messages:
            cmd = message.get("cmd")
            if cmd == "leave":
                log.info("replacement registered: leaving after the current job")
                self._leave = True
            elif cmd == "report":
                self.report_error(str(message.get("component", "raterd.supervisor")),
                                  str(message.get("message", "")), str(message.get("traceback", "")),
                                  str(message.get("process", "")))
            else:
                log.warning("unknown control message ignored: %r", message)

    def _supervisor_gone(self) -> None:
        if self.control is not None:
            self._poller.unregister(self.control.fileno())
            self.control.close()
            self.control = None
        self.request_stop("supervisor gone")

    # ---- leaving ----------------------------------------------------------------------
    @property
    def _leaving(self) -> bool:
        return self._stopping or self._leave

    def _maybe_leave(self, now: float) -> ExitCode | None:
        if not self._leaving:
            return None
        if self._current is None:
            self._depart("worker leaving")
            return ExitCode.OK
        if self._stopping and now >= self._stop_by:
            log.warning("grace period over: handing %s back to the broker", self._current.job.domain)
            self._depart("worker stopping: job handed back")
            return ExitCode.OK
        return None

    def _depart(self, reason: str) -> None:
        self._flush_outbox(time.monotonic())
        self._send(Disconnect(reason=reason).to_frames())
        self.abandoned = self._current is not None
        log.info("left the broker: %s (%d jobs done)", reason, self.jobs_done)


# ---- process entry point ------------------------------------------------------------------

def run_worker(config: WorkerConfig, control_fd: int | None = None) -> int:
    """Run one worker process to the end; returns its exit status."""
    stop_reasons: list[str] = []
    worker: Worker | None = None

    def on_signal(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        stop_reasons.append(name)
        if worker is not None:
            worker.request_stop(name)

    # First thing: a SIGTERM while the pipeline loads must not kill us mid-way.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if config.nice is not None:
        set_niceness(config.nice)
    logging.basicConfig(level=getattr(logging, str(config.log_level).upper(), logging.INFO), stream=sys.stderr,
                        format=f"%(asctime)s %(levelname)s raterd-{config.name}[%(process)d] %(name)s: %(message)s")
    control = ControlChannel.from_fd(control_fd) if control_fd is not None else None
    try:
        pipeline = load_pipeline(config.pipeline, config.settings)
    except Exception:
        log.exception("cannot build the rating pipeline")
        return ExitCode.CONFIG
    worker = Worker(config, pipeline, control)
    if stop_reasons:
        worker.request_stop(stop_reasons[0])
    try:
        code = worker.run()
    except WorkerError as e:
        log.error("%s", e)
        return ExitCode.CONFIG
    except Exception:
        # Last resort: the traceback goes to stderr, which the supervisor
        # forwards to the broker's error log with its crash report.
        log.critical("worker crashed", exc_info=True)
        return ExitCode.SOFTWARE
    if worker.abandoned:
        # A rating thread is still inside the pipeline (its thread pool would
        # hold the interpreter open at exit): our state is saved, just go.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(code))
    return int(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m raterd.worker",
        description="One SiteTruth rater worker process (normally started by sitetruth-raterd).")
    parser.add_argument("--config-json", required=True, help="WorkerConfig as JSON (see raterd/_workerconfig.py)")
    parser.add_argument("--control-fd", type=int, help="file descriptor of the supervisor's control socket")
    args = parser.parse_args(argv)
    try:
        config = WorkerConfig.from_json(args.config_json)
    except WorkerError as e:
        print(f"raterd worker: {e}", file=sys.stderr)
        return ExitCode.CONFIG
    return run_worker(config, args.control_fd)


if __name__ == "__main__":
    sys.exit(main())
