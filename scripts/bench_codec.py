#!/usr/bin/env python3
"""Codec micro-benchmark: µs per message to build, encode and decode each hot-path message type.

    python scripts/bench_codec.py                        # table
    python scripts/bench_codec.py --save before.json     # keep the figures of this code
    python scripts/bench_codec.py --baseline before.json # table with before / after columns
    python scripts/bench_codec.py --json

For every message the broker and the raters exchange once or more per job
(RATE and its reply, READY, JOB, PULSE, RESULT, HEARTBEAT) it times:

* **build**: the constructor, i.e. the field checks a locally made message
  goes through;
* **encode**: ``to_frames()`` of an already built message;
* **decode**: ``decode(frames)``, i.e. frame checks, msgpack and the field
  checks a peer's message goes through;
* **round**: build + encode + decode, the cost one message adds to a job
  across both ends.

Each figure is the best of ``--repeat`` runs of ``--number`` calls, in
this process's CPU time (the minimum is the figure least disturbed by other
work on a shared machine).  Compare figures of one machine only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import timeit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from protocol import (  # noqa: E402
    DomainStatus,
    Heartbeat,
    Job,
    JobState,
    Pulse,
    RateReply,
    RateRequest,
    Ready,
    Result,
    decode,
)
from protocol.vocabulary import Rating, RatingInfo  # noqa: E402
from scripts._bench_common import machine  # noqa: E402


def _cases() -> dict[str, object]:
    """A constructor per message type, with the fields a real job carries."""
    return {
        "RATE (1 domain)": lambda: RateRequest(req_id=17, client_ip="198.51.100.7", priority=1,
                                               domains=("example.com",)),
        "RATE (50 domains)": lambda: RateRequest(req_id=17, client_ip="198.51.100.7", priority=1,
                                                 domains=tuple(f"site{n}.example.com" for n in range(50))),
        "RATE_REPLY (1 item)": lambda: RateReply(req_id=17, items=(
            DomainStatus(domain="example.com", state=JobState.QUEUED, position=3),)),
        "READY": lambda: Ready(capacity=1, host="rater-07", pid=4242, worker="w3", version="1.4.0", jobs_done=12),
        "JOB": lambda: Job(job_id="1732712345-000123", domain="example.com", attempt=1, lease=20.0, deadline=90.0),
        "PULSE": lambda: Pulse(job_id="1732712345-000123", stage="fetching", detail="/about", done=3, total=12),
        "RESULT": lambda: Result(job_id="1732712345-000123", domain="example.com", rating=Rating.Q,
                                 ratinginfo=RatingInfo.UNVERIFIED, location={"name": "Owner of example.com"},
                                 evidence=({"kind": "name", "value": "Owner of example.com", "page": "/"},),
                                 elapsed=0.001),
        "HEARTBEAT": lambda: Heartbeat(),
    }


def _best(fn, number: int, repeat: int) -> float:
    """µs per call: the best of *repeat* runs of *number* calls."""
    # CPU time, not wall clock: on a shared machine a preempted run would
    # otherwise count other processes' work.
    return min(timeit.repeat(fn, number=number, repeat=repeat, timer=time.process_time)) / number * 1e6


def measure(number: int, repeat: int) -> dict[str, dict[str, float]]:
    out = {}
    for name, build in _cases().items():
        msg = build()
        frames = msg.to_frames()
        if decode(frames) != msg:
            raise SystemExit(f"{name}: a decoded message differs from the one encoded")
        n = max(1000, number // 10) if "50" in name else number
        out[name] = {
            "build_us": _best(build, n, repeat),
            "encode_us": _best(msg.to_frames, n, repeat),
            "decode_us": _best(lambda: decode(frames), n, repeat),
            "round_us": _best(lambda: decode(build().to_frames()), n, repeat),
            "body_bytes": len(frames[2]),
        }
    return out



def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--number", type=int, default=20_000, help="calls per timing run (default %(default)s)")
    p.add_argument("--repeat", type=int, default=5, help="timing runs; the best counts (default %(default)s)")
    p.add_argument("--save", metavar="FILE", help="also write the figures to FILE (JSON) for a later --baseline")
    p.add_argument("--baseline", metavar="FILE", help="figures saved earlier with --save: print before/after")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = p.parse_args()

    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
               "number": args.number, "repeat": args.repeat, "messages": measure(args.number, args.repeat)}
    before = None
    if args.baseline:
        with open(args.baseline) as f:
            before = json.load(f)["messages"]
        results["baseline"] = before
    if args.save:
        with open(args.save, "w") as f:
            json.dump(results, f, indent=2)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0

    print(f"Codec micro-benchmark, {results['date']}, {results['machine']}")
    print("µs per message (best of runs); 'round' = build + encode + decode\n")
    cols = ("build_us", "encode_us", "decode_us", "round_us")
    if before is None:
        print(f"{'message':<22}" + "".join(f"{c[:-3]:>10}" for c in cols) + f"{'bytes':>8}")
        for name, r in results["messages"].items():
            print(f"{name:<22}" + "".join(f"{r[c]:>10.2f}" for c in cols) + f"{r['body_bytes']:>8}")
        return 0
    print(f"{'message':<22}" + "".join(f"{c[:-3] + ' before/after':>22}" for c in cols) + f"{'speed-up':>10}")
    for name, r in results["messages"].items():
        b = before.get(name)
        if b is None:
            continue
        cells = "".join(f"{b[c]:>12.2f} {r[c]:>9.2f}" for c in cols)
        print(f"{name:<22}{cells}{b['round_us'] / r['round_us']:>9.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
