#!/usr/bin/env python3
"""Frontend benchmark: cached lookups with the raters idle, then with every rater busy.

    python scripts/bench_frontend.py                  # SQLite store, about 30 s in all
    python scripts/bench_frontend.py --seconds 10 --clients 4 --json
    python scripts/bench_frontend.py --store mysql://root@127.0.0.1:13306/bench   # a scratch MySQL db

What runs, all on loopback, each a real process: a broker
(``sitetruth-broker``), ``--raters`` fake raters (tests/support/fake_rater.py,
mode ``sleep:S``: they take a job, pulse, and hold it for S seconds), and
``sitetruth-frontend`` (built-in threaded server). ``--domains`` rated
domains are put in the store first and every one is asked for once, so the
measured requests are all served from the frontend's in-process cache.

Load: ``--clients`` client processes, each sending one request at a time
(closed loop, a new connection per request, as the built-in server closes
it) of ``--urls-per-request`` random known domains, for ``--seconds``.

1. **raters idle**: raters connected, nothing queued.
2. **raters busy**: first ``--queue-depth`` unknown domains are queued
   through the broker (from 50 client IPs) so every rater holds a job and a
   deep queue waits; the same load is run again while the broker dispatches,
   receives pulses and stores results. The table says how many raters were
   busy and how deep the queue was at the end of the phase. The queue is
   then cancelled (admin ``cancel``) and the raters go idle again.

The two phases alternate for ``--rounds`` rounds, so whichever runs first
(on a cold or a busier machine) does not decide the comparison; the "all"
rows add up every round of a phase.

Prints a table; ``--json`` prints the same figures as one JSON object. No
figure is asserted: this is a measurement, not a test. The machine is shared
and small; the load generator competes with the server for the same cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from protocol import AdminRequest, RateReply, RateRequest, StatsRequest  # noqa: E402
from protocol.client import BrokerClient  # noqa: E402
from store import StoredRating, open_store  # noqa: E402
from tests.support.processes import Proc, free_port, start_broker_process, start_fake_rater  # noqa: E402

API = "/fcgi/rateapiv3.fcgi"


def _worker(port: int, domains: list[str], per_request: int, seconds: float, seed: int,
            max_requests: int) -> dict[str, Any]:
    """One closed-loop client: latencies (s) of successful requests, error count."""
    rng = random.Random(seed)
    latencies: list[float] = []
    errors = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end and len(latencies) + errors < max_requests:
        query = "&".join("url=" + d for d in rng.sample(domains, per_request)) + "&key=guest"
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", f"{API}?{query}")
            resp = conn.getresponse()
            resp.read()
            conn.close()
            ok = resp.status == 200
        except OSError:
            ok = False
        if ok:
            latencies.append(time.perf_counter() - start)
        else:
            errors += 1
    return {"latencies": latencies, "errors": errors}


def run_load(port: int, domains: list[str], args: argparse.Namespace) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    started = time.perf_counter()
    with ctx.Pool(args.clients) as pool:
        jobs = [pool.apply_async(_worker, (port, domains, args.urls_per_request, args.seconds, n, 1_000_000))
                for n in range(args.clients)]
        parts = [j.get(timeout=args.seconds + 60) for j in jobs]
    elapsed = time.perf_counter() - started
    lat = sorted(x for p in parts for x in p["latencies"])
    wall = max(args.seconds, 1e-9)
    n = len(lat)
    return {
        "_latencies": lat,
        "requests": n,
        "errors": sum(p["errors"] for p in parts),
        "requests_per_s": round(n / wall, 1),
        "lookups_per_s": round(n * args.urls_per_request / wall, 1),
        "p50_ms": round(1000 * lat[n // 2], 2) if n else None,
        "p99_ms": round(1000 * lat[min(n - 1, int(n * 0.99))], 2) if n else None,
        "mean_ms": round(1000 * statistics.fmean(lat), 2) if n else None,
        "elapsed_s": round(elapsed, 2),
    }


def broker_stats(client: BrokerClient) -> dict[str, Any]:
    return client.call(lambda i: StatsRequest(req_id=i, recent=0)).stats


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--store", default="", help="store URL (default: SQLite in a temporary directory)")
    p.add_argument("--seconds", type=float, default=5.0, help="load per phase (default %(default)s)")
    p.add_argument("--rounds", type=int, default=2,
                   help="idle/busy rounds, alternating, so neither phase always runs first (default %(default)s)")
    p.add_argument("--clients", type=int, default=4, help="client processes (default %(default)s)")
    p.add_argument("--urls-per-request", type=int, default=10, help="default %(default)s")
    p.add_argument("--domains", type=int, default=1000, help="rated domains in the store (default %(default)s)")
    p.add_argument("--raters", type=int, default=4, help="fake rater processes (default %(default)s)")
    p.add_argument("--rater-sleep", type=float, default=2.0, help="seconds each rating takes (default %(default)s)")
    p.add_argument("--queue-depth", type=int, default=2000, help="unknown domains queued (default %(default)s)")
    p.add_argument("--threads", type=int, default=8, help="frontend server threads (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = p.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-frontend-")
    store_url = args.store or f"sqlite:///{tmp}/bench.db"
    domains = [f"bench{i}.com" for i in range(args.domains)]
    with open_store(store_url) as s:
        s.migrate()
        s.complete([StoredRating.new(d, "A", "", {"name": f"Owner {d}", "country": "US"}) for d in domains])

    procs: list[Proc] = []
    try:
        cport, rport, fport = free_port(), free_port(), free_port()
        procs.append(start_broker_process(store_url, _Dir(tmp), cport, rport, "--max-per-ip", "1000000",
                                          "--log-level", "WARNING"))
        clients_ep, raters_ep = f"tcp://127.0.0.1:{cport}", f"tcp://127.0.0.1:{rport}"
        procs.append(Proc([sys.executable, "-m", "frontend.cli", "--listen", f"127.0.0.1:{fport}",
                           "--store", store_url, "--broker", clients_ep, "--threads", str(args.threads),
                           "--log-level", "WARNING"], f"{tmp}/frontend.log", ready_text="frontend listening"))
        for n in range(args.raters):
            procs.append(start_fake_rater(raters_ep, f"bench{n}", _Dir(tmp), mode=f"sleep:{args.rater_sleep}",
                                          seconds=args.seconds * 4 + 120))
        client = BrokerClient(clients_ep, timeout=10)
        wait_for(client, lambda t: t["raters"] >= args.raters, 20)

        # Warm the frontend's cache: every domain once.
        for i in range(0, len(domains), 50):
            conn = http.client.HTTPConnection("127.0.0.1", fport, timeout=10)
            conn.request("GET", API + "?" + "&".join("url=" + d for d in domains[i:i + 50]))
            conn.getresponse().read()
            conn.close()

        # A short unmeasured run first, so the first phase does not pay for cold starts.
        warm = argparse.Namespace(**{**vars(args), "seconds": 1.0})
        run_load(fport, domains, warm)

        phases: dict[str, list[dict[str, Any]]] = {"idle": [], "busy": []}
        for rnd in range(args.rounds):
            # Raters idle: nothing queued, nothing in flight.
            wait_for(client, lambda t: t["live"] == 0 and t["free_slots"] >= args.raters, 30)
            r = run_load(fport, domains, args)
            stats = broker_stats(client)
            r.update(raters_busy=stats["totals"]["in_flight"], queued=stats["totals"]["queued"])
            phases["idle"].append(r)

            # Every rater busy, a deep queue behind them.
            unknown = [f"queued{rnd}-{i}.org" for i in range(args.queue_depth)]
            for i in range(0, len(unknown), 500):
                chunk, ip = tuple(unknown[i:i + 500]), f"198.51.100.{(i // 500) % 50 + 1}"
                reply = client.call(lambda q, c=chunk, a=ip: RateRequest(req_id=q, client_ip=a, priority=1,
                                                                         domains=c))
                if not isinstance(reply, RateReply):
                    raise SystemExit(f"broker refused the queue fill: {reply}")
            wait_for(client, lambda t: t["in_flight"] >= args.raters, 30)
            r = run_load(fport, domains, args)
            stats = broker_stats(client)
            r.update(raters_busy=stats["totals"]["in_flight"], queued=stats["totals"]["queued"])
            phases["busy"].append(r)
            # Back to idle for the next round: drop what is left of the queue.
            client.call(lambda q, u=unknown: AdminRequest(req_id=q, action="cancel", args={"domains": u}))
        client.close()
    finally:
        for proc in reversed(procs):
            proc.stop()

    idle, busy = combine(phases["idle"], args), combine(phases["busy"], args)
    ratio = round(busy["requests_per_s"] / idle["requests_per_s"], 3) if idle["requests_per_s"] else None
    out = {"config": {"seconds": args.seconds, "rounds": args.rounds, "clients": args.clients,
                      "urls_per_request": args.urls_per_request, "domains": args.domains, "raters": args.raters,
                      "rater_sleep": args.rater_sleep, "queue_depth": args.queue_depth, "threads": args.threads,
                      "store": "sqlite" if not args.store else args.store.split(":", 1)[0], "cpus": os.cpu_count()},
           "idle": idle, "busy": busy, "busy_vs_idle_throughput": ratio,
           "rounds": {name: [{k: v for k, v in r.items() if not k.startswith("_")} for r in rs]
                      for name, rs in phases.items()}}
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"frontend, cached lookups: {args.clients} clients x {args.urls_per_request} urls/request, "
          f"{args.rounds} rounds x {args.seconds:g} s per phase, {args.raters} raters, {os.cpu_count()} CPUs")
    print(f"{'phase':<20}{'requests/s':>11}{'lookups/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'raters busy':>13}{'queued':>8}")
    rows = [(f"raters {name} #{i + 1}", r) for i in range(args.rounds) for name, r in
            (("idle", phases["idle"][i]), ("busy", phases["busy"][i]))]
    rows += [("raters idle, all", idle), ("raters busy, all", busy)]
    for name, r in rows:
        print(f"{name:<20}{r['requests_per_s']:>11}{r['lookups_per_s']:>11}{r['p50_ms']:>9}{r['p99_ms']:>9}"
              f"{r['errors']:>8}{r['raters_busy']:>13}{r['queued']:>8}")
    print(f"throughput held under rating load: {100 * ratio:.0f}% of idle" if ratio else "no throughput measured")
    return 0


def combine(runs: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    """Figures over every round of one phase (latency percentiles over all requests)."""
    lat = sorted(x for r in runs for x in r["_latencies"])
    n, wall = len(lat), args.seconds * len(runs)
    return {
        "requests": n, "errors": sum(r["errors"] for r in runs),
        "requests_per_s": round(n / wall, 1), "lookups_per_s": round(n * args.urls_per_request / wall, 1),
        "p50_ms": round(1000 * lat[n // 2], 2) if n else None,
        "p99_ms": round(1000 * lat[min(n - 1, int(n * 0.99))], 2) if n else None,
        "raters_busy": min(r["raters_busy"] for r in runs), "queued": min(r["queued"] for r in runs),
    }


def wait_for(client: BrokerClient, predicate: Any, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate(broker_stats(client)["totals"]):
            return
        time.sleep(0.1)
    raise SystemExit(f"broker did not reach the expected state in {timeout} s: {broker_stats(client)['totals']}")


class _Dir:
    """What tests.support.processes expects of pytest's tmp_path: ``/`` joins a file name."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __truediv__(self, name: str) -> str:
        return os.path.join(self.path, name)


if __name__ == "__main__":
    sys.exit(main())
