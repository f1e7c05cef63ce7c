#!/usr/bin/env python3
"""Rating capacity by address: one rater host against two, on the multi-host rig.

Builds the rig (network namespaces joined by a bridge; needs root and
iproute2): db (MariaDB), broker-a, front (shop sites whose every response
takes ``--delay`` seconds, and the frontend), client, and one or two rater
hosts with ``--workers`` workers each. The client asks for ``--sites``
distinct shops and the run ends when every one is rated. Each layout gets
fresh sites, a fresh database and a fresh broker, in the same run.

    sudo .venv/bin/python scripts/bench_multihost.py               # 24 sites, 1 s per response
    sudo .venv/bin/python scripts/bench_multihost.py --sites 8 --json

Prints a table: rater hosts, sites, seconds to rate them all, ratings per
minute, and the ratio to one host. Adding a host needs no change anywhere
else: the second raterd is pointed at the same broker.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.multihost.cluster import api, broker_endpoints, broker_stats, hosts_file, migrate, \
    start_broker, start_frontend, start_raterd, start_sites, wait_until  # noqa: E402
from tests.multihost.mariadb import start_server  # noqa: E402
from tests.multihost.rig import Rig, rig_available  # noqa: E402


def run_layout(rater_hosts: int, sites: int, workers: int, delay: float, workdir: str) -> dict:
    names = ["db", "broker-a", "front", "client"] + [f"rater-{i + 1}" for i in range(rater_hosts)]
    with Rig(names, workdir) as rig:
        db = start_server(rig, "db", 1)
        db.execute("CREATE DATABASE sitetruth CHARACTER SET utf8mb4")
        migrate(rig, "broker-a", db.url())
        clients, raters = broker_endpoints(rig, "broker-a")
        start_broker(rig, "broker-a", db.url())
        shops = [f"bench-{rater_hosts}h-shop-{i}.com" for i in range(sites)]
        hosts = hosts_file(rig, "front", shops)
        start_sites(rig, "front", delay=delay)
        for i in range(rater_hosts):
            start_raterd(rig, f"rater-{i + 1}", raters, hosts, workers)
        start_frontend(rig, "front", clients, db.url(), db.url())
        wait_until(lambda: broker_stats(rig, "client", "broker-a")["totals"]["raters"] >= rater_hosts * workers,
                   60, "every worker registered")
        start = time.monotonic()
        for status, body in api(rig, "client", "front", shops):
            if status != 200 or body[0]["status"] != "202":
                raise RuntimeError(f"unexpected first reply {status}: {body}")
        wait_until(lambda: db.execute("SELECT COUNT(*) FROM sitetruth.ratings")[0][0] >= sites,
                   sites * delay * 20 + 120, "every site rated", interval=0.2)
        took = time.monotonic() - start
        letters = dict(db.execute("SELECT rating, COUNT(*) FROM sitetruth.ratings GROUP BY rating"))
    return {"rater_hosts": rater_hosts, "workers_per_host": workers, "sites": sites,
            "seconds": round(took, 2), "ratings_per_min": round(sites / took * 60, 1), "letters": letters}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sites", type=int, default=24, help="distinct shops per layout (default 24)")
    p.add_argument("--workers", type=int, default=2, help="workers per rater host (default 2)")
    p.add_argument("--delay", type=float, default=1.0, help="seconds every site response takes (default 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = p.parse_args(argv)
    reason = rig_available()
    if reason:
        print(f"bench_multihost: {reason}", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-multihost-") as tmp:
        for hosts in (1, 2):
            workdir = os.path.join(tmp, f"{hosts}h")
            os.makedirs(workdir)
            rows.append(run_layout(hosts, args.sites, args.workers, args.delay, workdir))
    base = rows[0]["ratings_per_min"]
    for r in rows:
        r["vs_one_host"] = round(r["ratings_per_min"] / base, 2)
    if args.json:
        print(json.dumps({"delay_s": args.delay, "layouts": rows}))
        return 0
    print(f"rating capacity by rater hosts ({args.workers} workers each, every response {args.delay} s)\n")
    print(f"{'rater hosts':>11} {'sites':>6} {'seconds':>8} {'ratings/min':>12} {'x one host':>11}  letters")
    for r in rows:
        print(f"{r['rater_hosts']:>11} {r['sites']:>6} {r['seconds']:>8} {r['ratings_per_min']:>12} "
              f"{r['vs_one_host']:>11}  {r['letters']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
