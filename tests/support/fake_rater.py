"""A rater that speaks the real protocol but rates nothing: for broker tests and benchmarks.

In-process (a thread with its own DEALER socket)::

    with FakeRater(endpoint, "r1") as r: ...

or as a real process, so tests can SIGKILL it::

    python tests/support/fake_rater.py --broker tcp://127.0.0.1:7711 --name r1 --mode noop

Modes: ``noop`` (answer RESULT at once, rating Q), ``sleep:S`` (pulse, then
answer after S seconds), ``hang`` (take the job, heartbeat, never answer),
``silent`` (take the job and stop heartbeating too), ``fail`` (answer FAILED
with a traceback), ``crash`` (send FAILED with a traceback, then exit the process with status 70),
``crash-on:DOMAIN`` (crash only for that domain, noop otherwise).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time

import zmq

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from protocol import (  # noqa: E402
    Disconnect,
    Failed,
    Heartbeat,
    Job,
    ProtocolError,
    Pulse,
    Ready,
    Result,
    decode,
)
from protocol.vocabulary import Rating, RatingInfo  # noqa: E402


def dispatch_order(raters) -> list[str]:
    """Domains in the order the broker dispatched them, across raters.

    Job ids end in the broker's dispatch sequence number, so this order is the
    broker's own, not the order in which rater threads happened to run.
    """
    jobs = [(int(job_id.rsplit("-", 1)[1]), domain) for r in raters for domain, job_id in r.job_ids]
    return [domain for _, domain in sorted(jobs)]


class FakeRater:
    def __init__(self, endpoint: str, name: str, mode: str = "noop", heartbeat: float = 0.5,
                 context: zmq.Context | None = None, exit_on_crash: bool = False,
                 job_log: str | None = None) -> None:
        self.endpoint = endpoint
        self.name = name
        self.mode = mode
        self.heartbeat = heartbeat
        self.context = context or zmq.Context.instance()
        self.exit_on_crash = exit_on_crash
        # "domain wall-clock-time" per JOB received, for latency measured from another process.
        self.job_log = open(job_log, "a", buffering=1) if job_log else None
        self.jobs: list[tuple[str, float]] = []      # (domain, received at)
        self.job_ids: list[tuple[str, str]] = []     # (domain, job id) in the order received
        self.results = 0
        self.registrations = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"fake-rater-{name}", daemon=True)

    def start(self) -> "FakeRater":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def __enter__(self) -> "FakeRater":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _ready(self, sock) -> None:
        self.registrations += 1
        sock.send_multipart(Ready(capacity=1, host=socket.gethostname(), pid=os.getpid(), worker=self.name,
                                  version="fake", jobs_done=self.results).to_frames())

    def _run(self) -> None:
        sock = self.context.socket(zmq.DEALER)
        sock.setsockopt(zmq.ROUTING_ID, f"fake/{self.name}/{os.getpid()}".encode())
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.endpoint)
        self._ready(sock)
        last_beat = time.monotonic()
        pending: tuple[Job, float] | None = None       # (job, answer at) for sleep/hang modes
        beating = True
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if beating and now - last_beat >= self.heartbeat:
                    sock.send_multipart(Heartbeat().to_frames())
                    last_beat = now
                if pending and now >= pending[1]:
                    self._answer(sock, pending[0])
                    pending = None
                # Sleep until a message, the next heartbeat or a pending answer
                # (capped so stop() is noticed): a no-op rater must cost little
                # CPU, or benchmarks measure the fake instead of the broker.
                wake = last_beat + self.heartbeat
                if pending:
                    wake = min(wake, pending[1])
                if not sock.poll(max(0.0, min(wake - now, 0.2)) * 1000):
                    continue
                try:
                    msg = decode(sock.recv_multipart())
                except ProtocolError:
                    continue
                if isinstance(msg, Disconnect) and msg.reregister:
                    self._ready(sock)
                elif isinstance(msg, Disconnect) and msg.reason.startswith("not active"):
                    # A standby (or a broker that just dropped to standby):
                    # with one endpoint, a real rater asks again a moment later.
                    time.sleep(0.3)
                    self._ready(sock)
                elif isinstance(msg, Job):
                    self.jobs.append((msg.domain, time.monotonic()))
                    self.job_ids.append((msg.domain, msg.job_id))
                    if self.job_log:
                        self.job_log.write(f"{msg.domain} {time.time():.6f}\n")
                    mode = self._mode_for(msg.domain)
                    if mode == "noop":
                        self._answer(sock, msg)
                    elif mode.startswith("sleep:"):
                        sock.send_multipart(Pulse(job_id=msg.job_id, stage="fetching", done=1, total=5).to_frames())
                        pending = (msg, time.monotonic() + float(mode[6:]))
                    elif mode == "hang":
                        pending = (msg, float("inf"))
                    elif mode == "silent":
                        beating = False
                        pending = (msg, float("inf"))
                    elif mode == "fail":
                        sock.send_multipart(Failed(job_id=msg.job_id, error="RuntimeError: boom",
                                                   traceback="Traceback (most recent call last):\n  ...\n"
                                                             "RuntimeError: boom\n").to_frames())
                    elif mode == "crash":
                        # Like a real worker's last-resort handler: report, then die.
                        sock.send_multipart(Failed(job_id=msg.job_id, error="worker crashed",
                                                   traceback="Traceback (most recent call last):\n"
                                                             f"  rating {msg.domain}\nMemoryError\n").to_frames())
                        time.sleep(0.3)     # let the I/O thread deliver it
                        if self.exit_on_crash:
                            os._exit(70)
                        return
        finally:
            sock.close(linger=0)

    def _mode_for(self, domain: str) -> str:
        if self.mode.startswith("crash-on:"):
            return "crash" if domain == self.mode[9:] else "noop"
        return self.mode

    def _answer(self, sock, job: Job) -> None:
        sock.send_multipart(Result(job_id=job.job_id, domain=job.domain, rating=Rating.Q,
                                   ratinginfo=RatingInfo.UNVERIFIED, location={"name": f"Owner of {job.domain}"},
                                   evidence=({"kind": "name", "value": f"Owner of {job.domain}", "page": "/"},),
                                   elapsed=0.001).to_frames())
        self.results += 1


def main() -> int:
    p = argparse.ArgumentParser(description="fake rater process for broker tests")
    p.add_argument("--broker", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--mode", default="noop")
    p.add_argument("--seconds", type=float, default=600, help="exit after this long (bounded)")
    p.add_argument("--job-log", help="append 'domain time' for every JOB received")
    args = p.parse_args()
    rater = FakeRater(args.broker, args.name, args.mode, context=zmq.Context(), exit_on_crash=True,
                      job_log=args.job_log)
    rater.start()
    rater._thread.join(args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
