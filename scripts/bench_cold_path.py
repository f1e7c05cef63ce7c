#!/usr/bin/env python3
"""What one RATE's path through the broker costs hot and after an idle moment, in one process.

    python scripts/bench_cold_path.py            # 300 samples per row
    python scripts/bench_cold_path.py --json

At light load every request finds the broker idle: its last message came
2-20 ms earlier. This times the Python the broker runs between receiving a
RATE and sending its JOB (decode the request, ``BrokerCore.rate``, pick a
rater, build and encode the JOB), without sockets or other processes:

* back to back (caches warm, as under load);
* after a random 2-20 ms sleep (the bench's light-load gaps);
* after the same sleep and then 0.3 ms of spinning (the CPU awake again,
  its caches not refilled): if this is no faster than the plain sleep, the
  slowdown is the caches and TLBs the machine refilled with other work, not
  the CPU waking up;
* the same three for a plain msgpack round trip of a small map, code that is
  not ours, for scale.

The ratio of the idle rows to the hot ones is what an idle gap costs on this
machine, whatever the code; the broker's light-load dispatch latency pays it
once per request.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import msgpack  # noqa: E402

from _bench_common import machine, percentile  # noqa: E402
from broker.config import BrokerConfig  # noqa: E402
from broker.core import BrokerCore  # noqa: E402
from protocol import RateRequest, Ready, decode  # noqa: E402
from protocol.domains import is_registrable_domain  # noqa: E402


def _broker_path(samples: int):
    """A callable that runs one RATE's path (a fresh domain each time) against a core with free raters."""
    core = BrokerCore(dataclasses.replace(BrokerConfig(), max_per_ip=samples))
    core.rater_message(b"rater", Ready(capacity=min(10_000, samples), host="h", pid=1, worker="node", version="b"),
                       time.monotonic(), time.time())
    is_registrable_domain("warm.com")       # the suffix list is parsed once, at first use
    counter = iter(range(1_000_000_000))

    def once() -> float:
        n = next(counter)
        frames = RateRequest(req_id=n, client_ip="192.0.2.1", priority=1, domains=(f"cold{n}-path.com",)).to_frames()
        t = time.perf_counter()
        request = decode(frames)
        core.rate(b"client", request, time.time())
        core.begin_dispatch()
        _, job = core.next_assignment(time.monotonic())
        job.to_frames()
        return time.perf_counter() - t
    return once


def _msgpack_path():
    body = {"job_id": "12345", "domain": "example.com", "attempt": 1, "lease": 20.0, "deadline": 30.0}

    def once() -> float:
        t = time.perf_counter()
        msgpack.unpackb(msgpack.packb(body))
        return time.perf_counter() - t
    return once


def _series(once, mode: str, samples: int, rng: random.Random) -> list[float]:
    out = []
    for _ in range(samples):
        if mode != "hot":
            time.sleep(rng.uniform(0.002, 0.02))
            if mode == "idle, then spin":
                end = time.perf_counter() + 0.0003
                while time.perf_counter() < end:
                    pass
        out.append(once() * 1e6)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--samples", type=int, default=300, help="samples per row (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = p.parse_args()
    rng = random.Random(1)
    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(), "rows": []}
    paths = {"broker: RATE frames -> JOB frames": _broker_path(args.samples * 3 + 100),
             "msgpack round trip of a small map": _msgpack_path()}
    for name, once in paths.items():
        for _ in range(50):
            once()                          # warm
        for mode in ("hot", "after 2-20 ms idle", "idle, then spin"):
            us = _series(once, mode, args.samples, rng)
            results["rows"].append({"path": name, "mode": mode, "p50_us": statistics.median(us),
                                    "p99_us": percentile(us, 0.99)})
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"\nCold path, {results['date']}, {results['machine']}; {args.samples} samples per row\n")
    print(f"{'path':<38} {'mode':<20} {'p50 µs':>8} {'p99 µs':>8} {'vs hot':>7}")
    hot = {}
    for r in results["rows"]:
        hot.setdefault(r["path"], r["p50_us"])
        print(f"{r['path']:<38} {r['mode']:<20} {r['p50_us']:>8.1f} {r['p99_us']:>8.1f} "
              f"{r['p50_us'] / hot[r['path']]:>6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
