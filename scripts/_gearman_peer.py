#!/usr/bin/env python3
"""The gearmand peer of the broker benchmark: its binary protocol, a lean worker, a durable submitter.

    python scripts/_gearman_peer.py worker --port 4730 --function rate --seconds 300

gearmand (Debian's ``gearman-job-server``) is what a user would pick instead
of this broker: a C job server with a MySQL persistent queue.  The benchmark
drives it with workers as lean as its own no-op raters.  They speak the
Gearman binary protocol (http://gearman.org/protocol/) over a plain socket
instead of using a client library: the Python ones are unmaintained (the
``gearman`` package is Python 2 era, ``python3-gearman`` a 2018 port of it)
or heavier than the job (``gear`` runs its own threads and poll loop), and
the protocol a worker needs is six packet types.

A packet is ``magic (\\0REQ or \\0RES) | type (u32 BE) | size (u32 BE) | data``
with the arguments in ``data`` separated by NUL bytes.

* **worker**: CAN_DO(function), then GRAB_JOB; on JOB_ASSIGN it does the no-op
  rater's work (build the same checked RESULT message our raters send, as its
  result payload) and sends WORK_COMPLETE and the next GRAB_JOB in one write;
  on NO_JOB it sends PRE_SLEEP and waits for NOOP, as the protocol asks.
* **submitter**: SUBMIT_JOB_BG, background jobs with a unique key, which
  gearmand writes to its persistent queue before answering JOB_CREATED
  (that is what makes them durable); sent in batches like our clients'
  requests of 50 domains.
* **status**: the text admin command, to see when the queue has drained.
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

CAN_DO, PRE_SLEEP, NOOP, JOB_CREATED, GRAB_JOB, NO_JOB, JOB_ASSIGN = 1, 4, 6, 8, 9, 10, 11
WORK_COMPLETE, SUBMIT_JOB_BG, ERROR = 13, 18, 19
_REQ, _RES = b"\0REQ", b"\0RES"
_HEADER = struct.Struct(">4sII")


class GearmanError(Exception):
    pass


def packet(kind: int, *args: bytes) -> bytes:
    data = b"\0".join(args)
    return _HEADER.pack(_REQ, kind, len(data)) + data


class Connection:
    """A buffered Gearman connection: send packets, read whole response packets."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 30.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self) -> tuple[int, bytes]:
        while True:
            if len(self.buf) >= 12:
                magic, kind, size = _HEADER.unpack_from(self.buf)
                if magic != _RES:
                    raise GearmanError(f"bad magic {bytes(magic)!r}")
                if len(self.buf) >= 12 + size:
                    data = bytes(self.buf[12:12 + size])
                    del self.buf[:12 + size]
                    if kind == ERROR:
                        raise GearmanError(data.replace(b"\0", b": ").decode(errors="replace"))
                    return kind, data
            chunk = self.sock.recv(65536)
            if not chunk:
                raise GearmanError("gearmand closed the connection")
            self.buf += chunk

    def close(self) -> None:
        self.sock.close()


def submit_background(conn: Connection, function: bytes, jobs: list[tuple[bytes, bytes]]) -> None:
    """Submit (unique, payload) background jobs in one write; return when every one is queued."""
    conn.send(b"".join(packet(SUBMIT_JOB_BG, function, unique, payload) for unique, payload in jobs))
    for _ in jobs:
        kind, _ = conn.read()
        if kind != JOB_CREATED:
            raise GearmanError(f"expected JOB_CREATED, got packet type {kind}")


def queued(port: int, function: str) -> int:
    """Jobs of *function* that gearmand still holds (queued or running), from the admin 'status'."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"status\n")
        data = b""
        while not data.endswith(b".\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    for line in data.decode().splitlines():
        parts = line.split("\t")
        if parts[0] == function and len(parts) >= 2:
            return int(parts[1])
    return 0


def _rate(domain: bytes) -> bytes:
    """The no-op rater's work: the same checked RESULT body our lean raters send."""
    from protocol import Result
    from protocol.vocabulary import Rating, RatingInfo

    text = domain.decode()
    return Result(job_id=text, domain=text, rating=Rating.Q, ratinginfo=RatingInfo.UNVERIFIED, location=None,
                  evidence=({"kind": "name", "value": "Owner", "page": "/"},), elapsed=0.0).to_frames()[2]


def run_worker(port: int, function: str, seconds: float) -> int:
    conn = Connection(port, timeout=seconds)
    fn = function.encode()
    conn.send(packet(CAN_DO, fn) + packet(GRAB_JOB))
    grab, sleep = packet(GRAB_JOB), packet(PRE_SLEEP)
    end = time.monotonic() + seconds
    done = 0
    try:
        while time.monotonic() < end:
            kind, data = conn.read()
            if kind == JOB_ASSIGN:
                handle, _, arg = data.split(b"\0", 2)
                conn.send(packet(WORK_COMPLETE, handle, _rate(arg)) + grab)
                done += 1
            elif kind == NO_JOB:
                conn.send(sleep)
            elif kind == NOOP:
                conn.send(grab)
    except (TimeoutError, GearmanError, OSError):
        pass
    finally:
        conn.close()
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("role", choices=["worker"])
    p.add_argument("--port", type=int, required=True, help="gearmand's port on 127.0.0.1")
    p.add_argument("--function", default="rate")
    p.add_argument("--seconds", type=float, default=300, help="exit after this long (bounded)")
    args = p.parse_args()
    return run_worker(args.port, args.function, args.seconds)


if __name__ == "__main__":
    sys.exit(main())
