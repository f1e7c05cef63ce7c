#!/usr/bin/env python3
"""Benchmark the rater's fetcher on loopback fixture sites: serial vs thread-pool fetching.

Serves N identity pages that each answer after DELAY seconds (the slow
back-end of a real shop) and fetches them one after another, then from a
thread pool sharing one Fetcher and one Deadline, as a rating does; also
times a burst of fast pages over kept-alive connections.  Prints a table,
or with --json the same figures as one JSON object.

    python scripts/bench_fetch.py
    python scripts/bench_fetch.py --pages 20 --delay 0.5 --workers 10 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from raterd.fetch import Deadline, Fetcher, Resolver  # noqa: E402
from tests.raterd.fixtures import FakeDNS, FixtureServer, Response, Site  # noqa: E402

HOST = "bench.example.com"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=10, help="identity pages per run (default 10)")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds each slow page waits (default 1.0)")
    parser.add_argument("--workers", type=int, default=10, help="thread-pool size (default 10)")
    parser.add_argument("--fast", type=int, default=200, help="fast pages for the keep-alive burst (default 200)")
    parser.add_argument("--https", action="store_true", help="fetch over HTTPS")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)

    pages = {f"/slow/{i}": Response(body=f"<p>page {i}</p>".encode(), delay=args.delay) for i in range(args.pages)}
    pages["/fast"] = "<p>fast</p>"
    results: dict[str, float] = {}
    with FixtureServer({HOST: Site(pages)}) as server:
        resolver = Resolver(server.resolver_overrides(), default_ports=server.ports, system_lookup=FakeDNS())
        urls = [server.url(HOST, f"/slow/{i}", https=args.https) for i in range(args.pages)]
        with Fetcher(resolver, ca_bundle=server.ca_bundle, connections_per_host=args.workers) as fetcher:
            deadline = Deadline(args.pages * args.delay + 60)
            started = time.monotonic()
            for url in urls:
                fetcher.get(url, deadline)
            results["serial_s"] = time.monotonic() - started

            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=args.workers) as pool:
                list(pool.map(lambda url: fetcher.get(url, deadline), urls))
            results["parallel_s"] = time.monotonic() - started

            fast = server.url(HOST, "/fast", https=args.https)
            started = time.monotonic()
            for _ in range(args.fast):
                fetcher.get(fast, deadline)
            burst = time.monotonic() - started
            results["fast_pages_per_s"] = args.fast / burst if burst > 0 else float("inf")
    results["speedup"] = results["serial_s"] / results["parallel_s"] if results["parallel_s"] else float("inf")

    config = {"pages": args.pages, "delay_s": args.delay, "workers": args.workers, "https": args.https}
    if args.json:
        print(json.dumps({**config, **{k: round(v, 3) for k, v in results.items()}}))
        return 0
    print(f"{args.pages} pages x {args.delay:g} s delay, {args.workers} threads, {'https' if args.https else 'http'}")
    print(f"{'measure':<24}{'value':>12}")
    print(f"{'serial (s)':<24}{results['serial_s']:>12.2f}")
    print(f"{'thread pool (s)':<24}{results['parallel_s']:>12.2f}")
    print(f"{'speed-up':<24}{results['speedup']:>12.1f}")
    print(f"{'keep-alive pages/s':<24}{results['fast_pages_per_s']:>12.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
