#!/usr/bin/env python3
"""Benchmark the store on SQLite and MySQL/MariaDB in one run; print a table.

Measures what the broker and the frontend do most:

- enqueue rows/s at batch sizes 1, 100 and 1000 (one transaction per batch,
  so batch 1 is the cost of a durable commit);
- complete() ratings/s in batches of 1000 (upsert + queue delete);
- single-domain lookups/s (``lookup_ratings([d])`` of random stored domains,
  one call each: the frontend's cache-miss path) and lookups of 50 at once.

Each back end gets its own scratch database (a temporary SQLite file; a
uniquely named MySQL database, dropped afterwards), so it is safe to run
against a shared server. Figures are wall-clock on this machine, one
thread, so compare them with each other rather than with another host.

    scripts/bench_store.py                          # SQLite, plus MySQL from $SITETRUTH_TEST_MYSQL_URL
    scripts/bench_store.py --mysql 'mysql://root@127.0.0.1:13306/x' --rows 50000 --json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from store import QueuedJob, StoredRating, open_store  # noqa: E402
from store.scratch import scratch_store_url  # noqa: E402

MIN_ROWS, MAX_ROWS = 1_000, 1_000_000
SINGLE_ROW_BATCHES = 300     # batch size 1 = one fsync'ed commit each; keep it short
LOOKUP_CALLS = 3_000
BATCH_LOOKUP_CALLS = 300


def _rows(text: str) -> int:
    value = int(text)
    if not MIN_ROWS <= value <= MAX_ROWS:
        raise argparse.ArgumentTypeError(f"--rows must be between {MIN_ROWS:,} and {MAX_ROWS:,}")
    return value


def _timed(work: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    count = work()
    return count, max(time.perf_counter() - started, 1e-9)


def _progress(message: str) -> None:
    print(f"bench_store: {message}", file=sys.stderr, flush=True)


def bench_backend(url: str, rows: int) -> dict[str, float | str]:
    rng = random.Random(1)
    result: dict[str, float | str] = {}
    with open_store(url) as store:
        store.migrate()
        if store.backend == "mysql":
            result["version"] = store._run("version", lambda cur: (cur.execute("SELECT VERSION()"),
                                                                    cur.fetchone()[0])[1], write=False, schema=False)
        else:
            result["version"] = f"SQLite {sqlite3.sqlite_version}"
        now = time.time()
        for size in (1, 100, 1000):
            total = min(rows, SINGLE_ROW_BATCHES) if size == 1 else rows
            jobs = [QueuedJob(f"q{size}-{i}.example", f"10.0.{i % 200}.1", 1, now) for i in range(total)]
            batches = [jobs[i:i + size] for i in range(0, total, size)]
            _progress(f"{store.backend}: enqueue {total:,} rows in batches of {size}")
            count, secs = _timed(lambda: sum(store.enqueue(b) for b in batches))
            assert count == total, (count, total)  # noqa: S101 - a benchmark's own sanity check
            result[f"enqueue_batch_{size}_rows_per_s"] = count / secs

        domains = [f"r{i}.example" for i in range(rows)]
        ratings = [StoredRating(d, "Q", "unverified", {"name": f"Shop {i}", "city": "Köln", "country": "DE"},
                                [{"what": "address", "where": f"https://{d}/contact"}], now, now + 86400)
                   for i, d in enumerate(domains)]
        _progress(f"{store.backend}: complete {rows:,} ratings in batches of 1000")

        def complete_all() -> int:
            for i in range(0, rows, 1000):
                store.complete(ratings[i:i + 1000])
            return rows
        count, secs = _timed(complete_all)
        result["complete_batch_1000_ratings_per_s"] = count / secs

        singles = [rng.choice(domains) for _ in range(LOOKUP_CALLS)]
        _progress(f"{store.backend}: {LOOKUP_CALLS:,} single-domain lookups")
        count, secs = _timed(lambda: sum(len(store.lookup_ratings([d])) for d in singles))
        assert count == LOOKUP_CALLS, count  # noqa: S101
        result["lookup_1_per_s"] = LOOKUP_CALLS / secs

        groups = [rng.sample(domains, 50) for _ in range(BATCH_LOOKUP_CALLS)]
        _progress(f"{store.backend}: {BATCH_LOOKUP_CALLS:,} lookups of 50 domains")
        count, secs = _timed(lambda: sum(len(store.lookup_ratings(g)) for g in groups))
        assert count == 50 * BATCH_LOOKUP_CALLS, count  # noqa: S101
        result["lookup_50_calls_per_s"] = BATCH_LOOKUP_CALLS / secs
        result["lookup_50_domains_per_s"] = count / secs
    return result


ROWS = [
    ("enqueue, batch 1 (rows/s)", "enqueue_batch_1_rows_per_s"),
    ("enqueue, batch 100 (rows/s)", "enqueue_batch_100_rows_per_s"),
    ("enqueue, batch 1000 (rows/s)", "enqueue_batch_1000_rows_per_s"),
    ("complete, batch 1000 (ratings/s)", "complete_batch_1000_ratings_per_s"),
    ("lookup 1 domain (calls/s)", "lookup_1_per_s"),
    ("lookup 50 domains (calls/s)", "lookup_50_calls_per_s"),
    ("lookup 50 domains (domains/s)", "lookup_50_domains_per_s"),
]


def print_table(report: dict) -> None:
    names = list(report["backends"])
    print(f"store benchmark: {report['rows']:,} rows per measurement (batch 1: {SINGLE_ROW_BATCHES}), one thread")
    header = f"{'measure':<34}" + "".join(f"{n:>14}" for n in names)
    print(header)
    print("-" * len(header))
    for label, key in ROWS:
        print(f"{label:<34}" + "".join(f"{report['backends'][n][key]:>14,.0f}" for n in names))
    for n in names:
        print(f"{n}: {report['backends'][n]['version']}")
    for n, why in report["skipped"].items():
        print(f"{n}: skipped ({why})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=_rows, default=20_000, help="rows per measurement (default 20,000)")
    parser.add_argument("--mysql", metavar="URL", default=os.environ.get("SITETRUTH_TEST_MYSQL_URL", ""),
                        help="a MySQL/MariaDB server to make a scratch database on "
                             "(default $SITETRUTH_TEST_MYSQL_URL)")
    parser.add_argument("--no-sqlite", action="store_true", help="measure MySQL only")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)

    report: dict = {"rows": args.rows, "backends": {}, "skipped": {}}
    if not args.no_sqlite:
        with scratch_store_url("sqlite", prefix="sitetruth_bench") as url:
            report["backends"]["sqlite"] = bench_backend(url, args.rows)
    if args.mysql:
        with scratch_store_url("mysql", mysql_url=args.mysql, prefix="sitetruth_bench") as url:
            report["backends"]["mysql"] = bench_backend(url, args.rows)
    else:
        report["skipped"]["mysql"] = "no --mysql URL and SITETRUTH_TEST_MYSQL_URL unset"
    if args.json:
        print(json.dumps(report))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
