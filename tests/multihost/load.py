"""Steady API load from a rig host: one new domain per request, at a fixed pace, for a fixed time.

Run on a rig host (``python -m tests.multihost.load --front ADDR:PORT
--prefix P --rate R --seconds S``): it asks the frontend to rate
``P-0.com``, ``P-1.com``, ... (R per second, one request each, never more
than R x S requests) and prints one JSON line per request: the domain, when
it was asked (wall clock), the HTTP status and the item's status ("202":
queued, so acknowledged by the broker). A request that fails at the HTTP
level counts as not acknowledged.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request


def ask(front: str, domain: str) -> tuple[int, str]:
    url = f"http://{front}/api/v3/rate?url={domain}&format=json"
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, str(json.loads(r.read())[0].get("status", ""))
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError:
        return 0, ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--front", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    interval = 1.0 / args.rate
    start = time.monotonic()
    for n in range(int(args.rate * args.seconds)):       # bounded
        due = start + n * interval
        time.sleep(max(0.0, due - time.monotonic()))
        domain = f"{args.prefix}-{n}.com"
        at = time.time()
        status, item = ask(args.front, domain)
        print(json.dumps({"domain": domain, "at": at, "http": status, "item": item}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
