#!/usr/bin/env python3
"""The worker of the benchmark's raw relay floor: pyzmq and msgpack, nothing of ours.

    python scripts/_raw_worker.py --connect tcp://127.0.0.1:7002 --seconds 120

A DEALER that says READY once and then answers every JOB message at once
with one RESULT message: a JOB carries a list of jobs (one or several, as
the relay packs them) and the RESULT the same number of results, each with
the fields a real one has. It measures what moving jobs costs a Python relay
on this machine when no codec, store or bookkeeping of ours is involved,
and how much of that cost packing several jobs per message saves.
"""

from __future__ import annotations

import argparse
import sys
import time

import msgpack
import zmq


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--connect", required=True, help="the relay's endpoint")
    p.add_argument("--seconds", type=float, default=300, help="exit after this long (bounded)")
    args = p.parse_args()
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(args.connect)
    sock.send_multipart([b"READY", b""])
    end = time.monotonic() + args.seconds
    evidence = [{"kind": "name", "value": "Owner", "page": "/"}]
    while time.monotonic() < end:
        if not sock.poll(200):
            continue
        command, body = sock.recv_multipart()
        if command == b"STOP":
            break
        results = [{"job_id": job["job_id"], "domain": job["domain"], "rating": "Q", "ratinginfo": "unverified",
                    "location": None, "evidence": evidence, "elapsed": 0.0} for job in msgpack.unpackb(body)]
        sock.send_multipart([b"RESULT", msgpack.packb(results)])
    sock.close(0)
    ctx.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
