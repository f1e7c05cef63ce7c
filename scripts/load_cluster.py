#!/usr/bin/env python3
"""Load test of a whole cluster on loopback: many client IPs, one frontend, one broker, one rater node.

Starts real processes -- ``sitetruth-frontend`` (its built-in HTTP server),
``sitetruth-broker`` (SQLite in the run's directory, or a scratch database
on the MySQL/MariaDB server given with ``--store``), ``sitetruth-raterd``
with ``--workers`` worker processes, and one loopback web server answering
for every shop -- then sends ``--requests`` API requests from ``--ips``
distinct loopback source addresses (127.0.x.y; the frontend sees each as its
own client and the broker queues each apart). Each client owns
``--domains-per-ip`` shops, asks for all of them in every request and asks
again until they are rated, at the same rate as every other client.

Prints a table (one JSON object with ``--json``): throughput, latency
percentiles, replies by kind, the generator's own CPU, the final count from
the store (acknowledged, rated, lost, rated twice), each client IP's share of
the broker's dispatches, and the fairness spread: each client's share of the
ratings stored while it was waiting, relative to an equal share (see
tests/load/tally.py for how it is measured). Exit status 1 when anything
acknowledged was lost or rated twice, the cluster did not drain, a reply
was a 5xx other than overload/unavailable, or the spread passed
``--fairness-limit``.

    python scripts/load_cluster.py                            # 200,000 requests, 1,000 IPs, SQLite
    python scripts/load_cluster.py --requests 20000 --ips 200 --seconds 120
    python scripts/load_cluster.py --store 'mysql://root@127.0.0.1:23306/x?unix_socket=/run/mysqld.sock' --json

Bounded: the load stops at ``--seconds`` (whatever was sent by then is
counted) and the drain gets what is left of it (at least 30 s); every
process is stopped at the end. Logs stay in ``--workdir`` when given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.load.generator import MAX_IPS  # noqa: E402
from tests.load.run import LoadPlan, problems, run_load  # noqa: E402


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    d = LoadPlan()
    p = argparse.ArgumentParser(prog="load_cluster.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=_positive(int), default=d.requests, help="API requests in all (%(default)s)")
    p.add_argument("--ips", type=_positive(int), default=d.ips,
                   help=f"distinct client source addresses, at most {MAX_IPS} (%(default)s)")
    p.add_argument("--domains-per-ip", type=_positive(int), default=d.domains_per_ip,
                   help="shops each client asks for, in every request (%(default)s)")
    p.add_argument("--concurrency", type=_positive(int), default=d.concurrency,
                   help="requests in flight at once (%(default)s)")
    p.add_argument("--seconds", type=_positive(float), default=d.seconds,
                   help="ceiling of the load; the drain gets what is left, at least 30 s (%(default)s)")
    p.add_argument("--workers", type=_positive(int), default=d.workers, help="raterd worker processes (%(default)s)")
    p.add_argument("--frontend-threads", type=_positive(int), default=d.frontend_threads,
                   help="the frontend's worker threads (%(default)s)")
    p.add_argument("--store", metavar="MYSQL_URL", default=os.environ.get("SITETRUTH_LOAD_STORE") or None,
                   help="MySQL/MariaDB server to use (a scratch database is made and dropped; "
                        "env SITETRUTH_LOAD_STORE); default SQLite in the run's directory")
    p.add_argument("--workdir", help="keep logs (and the SQLite store) here")
    p.add_argument("--fairness-limit", type=_positive(float), default=d.fairness_limit,
                   help="largest spread of a client's share from the equal share (%(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    return p


def _errors(outcomes: dict[str, int]) -> str:
    """Everything but HTTP 200, by kind, with the three kinds always shown."""
    http = sum(v for k, v in outcomes.items() if k.startswith("HTTP ") and k != "HTTP 200")
    timeouts = outcomes.get("timeout", 0)
    other = sum(v for k, v in outcomes.items() if not k.startswith("HTTP ") and k != "timeout")
    return f"HTTP status other than 200: {http:,}, timeouts: {timeouts:,}, connection errors: {other:,}"


def _table(r: dict) -> str:
    q, t, f, s, b = r["requests"], r["store_tally"], r["fairness"], r["dispatch_share"], r["broker"]["counters"]
    lat = q["latency_ms"]
    p = r["plan"]
    rows = [
        ("store", r["store"]),
        ("requests", f"{q['answered']:,} answered of {q['sent']:,} sent from {p['ips']:,} client IPs "
                     f"({p['domains_per_ip']} shops each, {p['concurrency']} in flight)"),
        ("throughput", f"{q['per_s']:,.0f} requests/s over {q['elapsed_s']:.1f} s"),
        ("latency", f"p50 {lat['p50']:.1f} ms, p90 {lat['p90']:.1f} ms, p99 {lat['p99']:.1f} ms, "
                    f"max {lat['max']:.1f} ms"),
        ("replies", ", ".join(f"{k} {v:,}" for k, v in sorted(q["outcomes"].items()))),
        ("errors", _errors(q["outcomes"])),
        ("answers per shop", ", ".join(f"{k} {v:,}" for k, v in sorted(q["items"].items()))),
        ("generator CPU", f"{q['generator_cpu_s']:.1f} s ({q['generator_cpu_pct']:.0f} % of one core)"),
        ("CPU seconds", ", ".join(f"{k} {v:.0f}" for k, v in r["cpu_s"].items())),
        ("ratings", f"{r['ratings']['rated']:,} shops rated in {r['ratings']['elapsed_s']:.1f} s "
                    f"({r['ratings']['per_s']:.1f}/s, {p['workers']} raterd workers)"),
        ("acknowledged", f"{t['acknowledged']:,}"),
        ("rated", f"{t['rated']:,}"),
        ("lost", f"{t['lost']}"),
        ("rated twice", f"{t['rated_twice'] - t['reasked_twice']} for one acknowledgement; "
                        f"{t['reasked_twice']} asked for again while the first rating was being stored"),
        ("broker counters", f"dispatched {b.get('dispatched', 0):,}, completed {b.get('completed', 0):,}, "
                            f"requeued {b.get('requeued', 0)}, stale results {b.get('stale_results', 0)}, "
                            f"overloads {b.get('overloads', 0)}, unavailable {b.get('unavailable', 0)}"),
        ("dispatches per IP", f"{s['ips']:,} IPs, min {s['min']}, max {s['max']}, mean {s['mean']} "
                              f"(share {s['min_share']:.4%} .. {s['max_share']:.4%}, equal {s['equal_share']:.4%})"),
        ("fairness", f"share x N while waiting, {f['clients']:,} clients: min {f['min']:.4f}, "
                     f"max {f['max']:.4f}, stddev {f['stddev']:.4f} ({f['measured_from']})"),
        ("fairness spread", f"{f['spread']:.3%} of an equal share (limit {f['limit']:.0%}; "
                            f"{f['span_dispatches']:,.0f} dispatches per client's span)"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.ips > MAX_IPS:
        build_parser().error(f"--ips must be at most {MAX_IPS}")
    if args.requests < args.ips:
        build_parser().error("--requests must be at least --ips (one request per client)")
    if args.domains_per_ip > 100:
        build_parser().error("--domains-per-ip must be at most 100 (the API's url limit)")
    plan = LoadPlan(requests=args.requests, ips=args.ips, domains_per_ip=args.domains_per_ip,
                    concurrency=args.concurrency, seconds=args.seconds, workers=args.workers,
                    frontend_threads=args.frontend_threads, mysql_url=args.store, workdir=args.workdir,
                    fairness_limit=args.fairness_limit)
    report = run_load(plan)
    found = problems(report)
    report["problems"] = found
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        print(_table(report))
        for line in report["store_tally"]["twice_examples"]:
            print(f"rated twice: {line}")
        for line in found:
            print(f"PROBLEM: {line}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
