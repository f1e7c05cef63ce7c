#!/usr/bin/env python3
"""The latency floor of the broker benchmark: a bare pyzmq two-hop chain, client -> relay -> worker and back.

    python scripts/_zmq_chain.py relay --front tcp://127.0.0.1:7001 --back tcp://127.0.0.1:7002
    python scripts/_zmq_chain.py worker --connect tcp://127.0.0.1:7002

The broker's dispatch latency is the time from a client sending RATE to a
rater receiving the JOB: two hops through one Python process in between.
This is the same path with nothing on it: the relay (its own process, like
the broker) is a Python loop that moves frames between a ROUTER facing
clients and a ROUTER facing the worker, and the worker (a DEALER, like a
rater) answers each message at once with the wall-clock time it received it.
So one run gives the one-way time (client send -> worker receive, the
figure comparable with dispatch latency) and the round trip.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from protocol.wire import send_frames  # noqa: E402

_STAMP = struct.Struct(">d")


def run_relay(front: str, back: str, seconds: float) -> int:
    ctx = zmq.Context()
    clients, workers = ctx.socket(zmq.ROUTER), ctx.socket(zmq.ROUTER)
    for s in (clients, workers):
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.ROUTER_MANDATORY, 1)
    clients.bind(front)
    workers.bind(back)
    poller = zmq.Poller()
    poller.register(clients, zmq.POLLIN)
    poller.register(workers, zmq.POLLIN)
    worker = None
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            for sock, _ in poller.poll(200):
                frames = sock.recv_multipart()
                if sock is workers:
                    worker = frames[0]
                    if len(frames) == 3:  # [worker, client, payload]: an answer
                        send_frames(clients, frames[1:])
                elif worker is not None:  # [client, payload]
                    send_frames(workers, [worker, *frames])
    finally:
        clients.close(0)
        workers.close(0)
        ctx.term()
    return 0


def run_worker(connect: str, seconds: float) -> int:
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(connect)
    sock.send(b"hello")
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            if not sock.poll(200):
                continue
            client, payload = sock.recv_multipart()
            send_frames(sock, [client, payload + _STAMP.pack(time.time())])
    finally:
        sock.close(0)
        ctx.term()
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("role", choices=["relay", "worker"])
    p.add_argument("--front", help="relay: the clients' endpoint to bind")
    p.add_argument("--back", help="relay: the worker's endpoint to bind")
    p.add_argument("--connect", help="worker: the relay's worker endpoint")
    p.add_argument("--seconds", type=float, default=120, help="exit after this long (bounded)")
    args = p.parse_args()
    if args.role == "relay":
        return run_relay(args.front, args.back, args.seconds)
    return run_worker(args.connect, args.seconds)


if __name__ == "__main__":
    sys.exit(main())
