#!/usr/bin/env python3
"""Benchmark the rating pipeline on loopback fixture sites: serial vs parallel, and ratings per minute.

Three figures (how much concurrency buys, and the capacity of one worker):

* a site whose ten identity pages each answer after DELAY seconds, rated
  with a one-thread pool (serial), with the default settings (8 threads, 6
  connections per host) and with 10 threads x 10 connections;
* a site where *every* response (robots.txt, the home page, each of the ten
  identity pages, the 404 of /sitemap.xml) takes DELAY seconds, rated with
  the default settings: robots.txt and the home page are fetched together,
  then the identity pages in as few rounds as the per-host limit allows
  (with 6 connections per host: 1 + 2 rounds, about 3 x DELAY);
* the whole fixture corpus (tests/raterd/corpus) rated ROUNDS times in a row
  by one SitePipeline, as one worker process would: ratings per minute,
  median and 95th-percentile time per rating.

It starts its own fixture server (HTTP and HTTPS on 127.0.0.1), sources
index and GLEIF-format API; nothing leaves the machine.  Prints a table, or
with --json the same figures as one JSON object.

    python scripts/bench_rater.py
    python scripts/bench_rater.py --rounds 5 --delay 0.5 --json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from raterd.pipeline import SitePipeline  # noqa: E402
from tests.raterd.corpus import CORPUS, CorpusEnv, problems, serve_corpus  # noqa: E402
from tests.raterd.corpus.slow import SlowPages  # noqa: E402
from tests.raterd.fixtures import FakeDNS, FixtureServer  # noqa: E402

SLOW_SITE = "slowpoke-supplies.co.uk"
ALL_SLOW_SITE = "sluggish-sundries.co.uk"


def _time_slow_site(env: CorpusEnv, slow: SlowPages, domain: str = SLOW_SITE,
                    **settings: object) -> tuple[float, int, int, str]:
    slow.reset()
    with SitePipeline(env.settings(deadline=60.0, **settings), system_lookup=FakeDNS()) as pipeline:
        started = time.monotonic()
        outcome = pipeline.rate(domain)
        took = time.monotonic() - started
    return took, outcome.stats.get("pages", 0), slow.max_in_flight, f"{outcome.rating}/{outcome.ratinginfo}"


def _corpus(env: CorpusEnv, rounds: int) -> dict[str, object]:
    times: list[float] = []
    wrong: set[str] = set()
    with SitePipeline(env.settings(), system_lookup=FakeDNS()) as pipeline:
        pipeline.rate("acme-widgets.co.uk")  # warm up: imports, the suffix list, TLS contexts
        started = time.monotonic()
        for _ in range(rounds):
            for domain, site in CORPUS.items():
                outcome = pipeline.rate(domain)
                times.append(outcome.elapsed)
                if problems(outcome, site.expect):
                    wrong.add(domain)
        total = time.monotonic() - started
    times.sort()
    return {
        "sites": len(CORPUS), "rounds": rounds, "ratings": len(times), "seconds": round(total, 3),
        "ratings_per_minute": round(len(times) / total * 60, 1) if total else None,
        "median_ms": round(statistics.median(times) * 1000, 1),
        "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))] * 1000, 1),
        "max_ms": round(times[-1] * 1000, 1),
        "not_as_expected": sorted(wrong),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="times the whole corpus is rated (default 3)")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds each slow identity page waits (default 1.0)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # sample-file import warnings are expected

    slow = SlowPages(delay=args.delay)
    all_slow = SlowPages(delay=args.delay, everything=True)
    with FixtureServer() as server, tempfile.TemporaryDirectory(prefix="bench-rater-") as workdir:
        env = serve_corpus(server, workdir)
        server.add_site(SLOW_SITE, slow.site())
        server.add_site(ALL_SLOW_SITE, all_slow.site())
        env.resolve += (f"{SLOW_SITE}:127.0.0.1", f"{ALL_SLOW_SITE}:127.0.0.1")
        runs = {
            "serial": _time_slow_site(env, slow, threads=1, connections_per_host=1),
            "parallel_default": _time_slow_site(env, slow),
            "parallel_10x10": _time_slow_site(env, slow, threads=10, connections_per_host=10),
        }
        all_took, all_pages, all_peak, all_rating = _time_slow_site(env, all_slow, ALL_SLOW_SITE)
        corpus = _corpus(env, args.rounds)
        slow.stop.set()
        all_slow.stop.set()

    slow_figures = {
        "identity_pages": 10, "delay_s": args.delay,
        **{f"{name}_s": round(took, 3) for name, (took, _, _, _) in runs.items()},
        **{f"{name}_pages_read": pages for name, (_, pages, _, _) in runs.items()},
        **{f"{name}_max_in_flight": peak for name, (_, _, peak, _) in runs.items()},
        "speedup_default": round(runs["serial"][0] / runs["parallel_default"][0], 1),
    }
    all_slow_figures = {
        "identity_pages": 10, "delay_s": args.delay, "default_s": round(all_took, 3),
        "in_delays": round(all_took / args.delay, 2) if args.delay else None,
        "pages_read": all_pages, "max_in_flight": all_peak, "rating": all_rating,
    }
    if args.json:
        print(json.dumps({"slow_site": slow_figures, "all_slow_site": all_slow_figures, "corpus": corpus}))
        return 0
    print(f"Slow site: 10 identity pages x {args.delay:g} s each (+ home page)")
    print(f"{'settings':<34}{'time (s)':>10}{'pages':>8}{'in flight':>11}")
    labels = {"serial": "serial (1 thread)", "parallel_default": "default (8 threads, 6 per host)",
              "parallel_10x10": "10 threads, 10 per host"}
    for name, (took, pages, peak, _) in runs.items():
        print(f"{labels[name]:<34}{took:>10.2f}{pages:>8}{peak:>11}")
    print()
    print(f"All-slow site: robots.txt, home page, 10 identity pages, 404s: {args.delay:g} s each")
    print(f"{'settings':<34}{'time (s)':>10}{'pages':>8}{'in flight':>11}  {'rating':<16}")
    print(f"{labels['parallel_default']:<34}{all_took:>10.2f}{all_pages:>8}{all_peak:>11}  {all_rating:<16}")
    print()
    print(f"Corpus: {corpus['sites']} sites x {corpus['rounds']} rounds, one SitePipeline (one worker)")
    print(f"{'measure':<34}{'value':>10}")
    print(f"{'ratings per minute per worker':<34}{corpus['ratings_per_minute']:>10}")
    print(f"{'median per rating (ms)':<34}{corpus['median_ms']:>10}")
    print(f"{'95th percentile (ms)':<34}{corpus['p95_ms']:>10}")
    print(f"{'slowest (ms)':<34}{corpus['max_ms']:>10}")
    print(f"{'sites not as expected':<34}{len(corpus['not_as_expected']):>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
