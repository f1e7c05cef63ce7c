#!/usr/bin/env python3
"""Lean simulated raters for the benchmarks: the rater side of the protocol and nothing else.

    python scripts/_lean_rater.py --broker tcp://127.0.0.1:7711 --name r1
    python scripts/_lean_rater.py --broker tcp://127.0.0.1:7711 --name sim0 \\
        --connections 625 --work 15 --stats /tmp/sim0.json --seconds 120

Each *connection* is one DEALER socket that behaves as one raterd worker
does on the wire (see :mod:`raterd.worker`): READY(capacity=1) at start and
whenever the broker answers DISCONNECT(reregister); a HEARTBEAT whenever
nothing was sent for ``--heartbeat`` seconds, busy or not; on a JOB, PULSEs
while "rating" and then a RESULT.  With ``--work 0`` the RESULT goes out at
once (the benchmark's no-op rater); with ``--work S`` the rating takes S
seconds and ``--pulses`` PULSEs are spread over it.  With ``--progress-every
S`` a connection holds its jobs' latest progress and sends it at most every
S seconds, all of it in one PULSE, as ``sitetruth-raterd --node-link`` does
with S = 5 (``--progress-separate``: each job's progress in a PULSE of its
own, at most every S seconds per job, as the link did before, for
comparison).

It is lean so that a benchmark measures the broker, not its raters: one
process drives any number of connections from one poll loop, the HEARTBEAT
frames are encoded once, and nothing is logged per message.  The messages
themselves are the real typed ones of :mod:`protocol` (decoded and checked
on the way in, built and checked on the way out), as a real rater's are.

Domains named ``j<N>-<µs>.<tld>`` carry the wall-clock time (µs since the
epoch) their RATE request was sent, so the receiving connection records the
dispatch latency without a second channel.  ``--stats FILE`` writes, at exit,
the counts of messages sent and received by command, those latencies (with
the send times) and this process's CPU time as JSON.  ``--job-log FILE`` appends one
``domain wall-time`` line per JOB received (for latency probes with other
domain names).
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import json
import math
import os
import resource
import selectors
import signal
import sys
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import zmq  # noqa: E402

from protocol import Disconnect, Heartbeat, Job, ProtocolError, Pulse, Ready, Result, decode  # noqa: E402
from protocol.wire import send_frames  # noqa: E402
from protocol.vocabulary import Rating, RatingInfo  # noqa: E402

_HEARTBEAT = Heartbeat().to_frames()
_TICK = 0.05  # timer granularity: heartbeats and simulated ratings need no finer grain


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's soft open-files limit towards *wanted* (capped by the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def submitted_at(domain: str) -> float | None:
    """The send time a ``j<N>-<µs>.<tld>`` domain carries, else None."""
    if not domain.startswith("j"):
        return None
    label = domain.split(".", 1)[0]
    _, _, micros = label.partition("-")
    return int(micros) / 1e6 if micros.isdigit() else None


class LeanRaters:
    """``connections`` simulated raterd workers on one poll loop."""

    def __init__(self, endpoint: str, name: str, connections: int = 1, work: float = 0.0, pulses: int = 0,
                 heartbeat: float = 1.0, job_log: str | None = None, capacity: int = 1,
                 progress_every: float = 0.0, progress_separate: bool = False) -> None:
        self.work, self.pulses, self.heartbeat, self.capacity = work, pulses, heartbeat, capacity
        self.progress_every, self.progress_separate = progress_every, progress_separate
        self.held: list[dict[str, Pulse]] = []        # per connection: job_id -> latest progress not yet sent
        self.progress_sent: list[float] = []
        self.job_progress_sent: list[dict[str, float]] = []   # --progress-separate: job_id -> last sent
        self.ctx = zmq.Context()
        self.ctx.set(zmq.MAX_SOCKETS, connections + 64)
        self.socks: list[zmq.Socket] = []
        self.last_sent: list[float] = []
        self.done: list[int] = []
        # zmq.Poller walks every socket on every call (over a millisecond
        # for 600 sockets), so many connections are watched through their
        # notification fds with epoll instead.  Those fds are edge-triggered:
        # a connection is drained until it has nothing, and re-checked after
        # each send (a send can consume the notification of an arrival).
        self.selector = selectors.DefaultSelector()
        self.pending: set[int] = set()
        for i in range(connections):
            s = self.ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.ROUTING_ID, f"lean/{name}/{i}/{os.getpid()}".encode())
            s.setsockopt(zmq.LINGER, 0)
            s.connect(endpoint)
            self.socks.append(s)
            self.last_sent.append(0.0)
            self.done.append(0)
            self.held.append({})
            self.progress_sent.append(0.0)
            self.job_progress_sent.append({})
            self.selector.register(s.getsockopt(zmq.FD), selectors.EVENT_READ, i)
            self.pending.add(i)
        self.timers: list[tuple[float, int, int, Job, int]] = []  # (due, seq, conn, job, pulses left)
        self._seq = 0
        self.sent: Counter[str] = Counter()
        self.received: Counter[str] = Counter()
        self.latencies_ms: list[float] = []
        self.sent_at: list[float] = []  # the wall-clock send time of each latency's request
        self.job_log = open(job_log, "a", buffering=1) if job_log else None
        self.stop = False
        self.started = time.monotonic()

    def _send(self, i: int, frames: list[bytes], kind: str, now: float) -> None:
        try:
            send_frames(self.socks[i], frames, zmq.NOBLOCK)
        except zmq.Again:
            self.sent["dropped"] += 1
            return
        self.last_sent[i] = now
        self.sent[kind] += 1
        self.pending.add(i)

    def _ready(self, i: int, now: float) -> None:
        self._send(i, Ready(capacity=self.capacity, host="lean", pid=os.getpid(), worker=f"c{i}", version="lean",
                            jobs_done=self.done[i]).to_frames(), "READY", now)

    def _progress(self, i: int, pulse: Pulse, now: float) -> None:
        if self.progress_every <= 0:
            self._send(i, pulse.to_frames(), "PULSE", now)
            return
        self.held[i][pulse.job_id] = pulse
        self._pass_progress(i, now)

    def _pass_progress(self, i: int, now: float) -> None:
        held = self.held[i]
        if self.progress_separate:
            sent = self.job_progress_sent[i]
            for job_id, pulse in list(held.items()):
                if now - sent.get(job_id, 0.0) >= self.progress_every:
                    self._send(i, pulse.to_frames(), "PULSE", now)
                    sent[job_id] = now
                    del held[job_id]
                    self.sent["progress_items"] += 1
            return
        if not held or now - self.progress_sent[i] < self.progress_every:
            return
        pulses = list(held.values())
        held.clear()
        self.progress_sent[i] = now
        self._send(i, dataclasses.replace(pulses[0], more=tuple(pulses[1:])).to_frames(), "PULSE", now)
        self.sent["progress_items"] += len(pulses)

    def _result(self, i: int, job: Job, now: float) -> None:
        self.held[i].pop(job.job_id, None)         # the result says more than its progress
        self.job_progress_sent[i].pop(job.job_id, None)
        self._send(i, Result(job_id=job.job_id, domain=job.domain, rating=Rating.Q,
                             ratinginfo=RatingInfo.UNVERIFIED, location=None,
                             evidence=({"kind": "name", "value": "Owner", "page": "/"},),
                             elapsed=self.work).to_frames(), "RESULT", now)
        self.done[i] += 1

    def _on_message(self, i: int, frames: list[bytes], now: float, wall: float) -> None:
        """One message from the broker; ``wall`` is when its receive returned (before decoding it)."""
        try:
            msg = decode(frames)
        except ProtocolError:
            self.received["malformed"] += 1
            return
        self.received[type(msg).__name__.upper()] += 1
        if isinstance(msg, Job):
            sent = submitted_at(msg.domain)
            if sent is not None:
                self.latencies_ms.append((wall - sent) * 1000)
                self.sent_at.append(sent)
            if self.job_log:
                self.job_log.write(f"{msg.domain} {wall:.6f}\n")
            if self.work <= 0:
                self._result(i, msg, now)
                return
            if self.pulses:
                self._progress(i, Pulse(job_id=msg.job_id, stage="fetching", done=0, total=self.pulses), now)
            step = self.work / (self.pulses + 1)
            self._seq += 1
            heapq.heappush(self.timers, (now + step, self._seq, i, msg, self.pulses))
        elif isinstance(msg, Disconnect) and msg.reregister:
            self._ready(i, now)

    def _fire_timers(self, now: float) -> None:
        while self.timers and self.timers[0][0] <= now:
            _, _, i, job, left = heapq.heappop(self.timers)
            if left <= 0:
                self._result(i, job, now)
                continue
            done = self.pulses - left + 1
            self._progress(i, Pulse(job_id=job.job_id, stage="fetching", done=done, total=self.pulses), now)
            self._seq += 1
            heapq.heappush(self.timers, (now + self.work / (self.pulses + 1), self._seq, i, job, left - 1))

    def _beat(self, now: float) -> None:
        due = now - self.heartbeat
        last = self.last_sent
        for i in range(len(self.socks)):
            if self.held[i]:
                self._pass_progress(i, now)
            if last[i] <= due:
                self._send(i, _HEARTBEAT, "HEARTBEAT", now)

    def run(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        now = time.monotonic()
        for i in range(len(self.socks)):
            self._ready(i, now)
        next_beat = now + _TICK
        single = self.socks[0] if len(self.socks) == 1 else None
        while not self.stop:
            now = time.monotonic()
            if now >= end:
                break
            if now >= next_beat:
                self._beat(now)
                next_beat = now + _TICK
            if self.timers:
                self._fire_timers(now)
            wait = max(0.0, min(next_beat, self.timers[0][0] if self.timers else next_beat, end) - now)
            if single is not None:
                # One connection: poll the socket itself (cheaper than a Poller).
                # Whole milliseconds rounded up: pyzmq truncates, and a
                # truncated wait would spin through the last one before every timer.
                if single.poll(math.ceil(wait * 1000)):
                    self._drain(0, single)
                continue
            for key, _ in self.selector.select(0 if self.pending else wait):
                self.pending.add(key.data)
            while self.pending:
                i = self.pending.pop()
                self._drain(i, self.socks[i])

    def _drain(self, i: int, sock: zmq.Socket) -> None:
        while sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            frames = sock.recv_multipart(zmq.NOBLOCK)
            # Stamped as received, before decoding: the latency is the
            # message's, as the bare chain's worker stamps its own.
            self._on_message(i, frames, time.monotonic(), time.time())

    def close(self) -> None:
        self.selector.close()
        for s in self.socks:
            s.close(0)
        self.ctx.term()

    def stats(self) -> dict:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return {"connections": len(self.socks), "sent": dict(self.sent), "received": dict(self.received),
                "latencies_ms": self.latencies_ms, "sent_at": self.sent_at, "cpu_s": ru.ru_utime + ru.ru_stime,
                "wall_s": time.monotonic() - self.started, "results": sum(self.done)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--broker", required=True, help="the broker's rater endpoint")
    p.add_argument("--name", required=True, help="names this process's connections (routing ids)")
    p.add_argument("--connections", type=int, default=1, help="simulated workers in this process")
    p.add_argument("--work", type=float, default=0.0, help="seconds per simulated rating (0: answer at once)")
    p.add_argument("--pulses", type=int, default=0, help="PULSEs per rating when --work > 0")
    p.add_argument("--heartbeat", type=float, default=1.0, help="heartbeat interval, as raterd's (seconds)")
    p.add_argument("--capacity", type=int, default=1,
                   help="jobs each connection takes at once (a node's one connection for all its workers)")
    p.add_argument("--progress-every", type=float, default=0.0, metavar="S",
                   help="hold progress and send it at most every S s, a connection's jobs in one PULSE "
                        "(as raterd --node-link does with 5); 0: every PULSE at once")
    p.add_argument("--progress-separate", action="store_true",
                   help="with --progress-every: a PULSE of its own for each job, at most every S s per job "
                        "(the node link before it sent them together)")
    p.add_argument("--seconds", type=float, default=600, help="exit after this long (bounded)")
    p.add_argument("--stats", help="write counters, latencies and CPU time here (JSON) at exit")
    p.add_argument("--job-log", help="append 'domain wall-time' for every JOB received")
    args = p.parse_args()
    raise_fd_limit(2 * args.connections + 256)  # a DEALER takes a TCP socket and a mailbox fd
    raters = LeanRaters(args.broker, args.name, args.connections, args.work, args.pulses, args.heartbeat,
                        args.job_log, args.capacity, args.progress_every, args.progress_separate)

    def stop(signum, frame) -> None:
        raters.stop = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        raters.run(args.seconds)
    finally:
        if args.stats:
            tmp = args.stats + ".tmp"
            with open(tmp, "w") as f:
                json.dump(raters.stats(), f)
            os.replace(tmp, args.stats)
        raters.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
