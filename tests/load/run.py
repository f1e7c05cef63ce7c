"""One load run, start to finish: cluster up, load, drain, count, report (a plain dict).

Used by ``scripts/load_cluster.py`` (the full run, a table) and by
``tests/load/test_load_cluster.py`` (a short run in CI). The steps:

1. start the cluster (:mod:`tests.load.rig`) and pause dispatching;
2. send the load (:mod:`tests.load.generator`); once every client's first
   request has been answered (all shops queued, every client backlogged),
   resume dispatching, so the raters' time is shared among N clients that
   all wait, which is what fairness is about;
3. when the load ends, wait for the broker to drain (nothing live, every
   write committed), bounded by the run's ceiling;
4. count from the store and measure fairness (:mod:`tests.load.tally`);
   read the broker's counters and its dispatches per client IP.

Every wait is bounded by ``seconds`` (plus a request timeout and a short
grace for the drain); processes are stopped whatever happens.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from protocol import AdminRequest
from protocol.client import BrokerClient

from .generator import Demand, LoadGenerator, LoadResult
from .rig import ClusterRig, RigSettings, store_for_run
from .tally import completion_order, count_store, dispatch_log, fairness, percentiles

__all__ = ["LoadPlan", "run_load", "problems", "ALLOWED_5XX"]

# 5xx replies the frontend documents for a busy cluster: 502 is the broker's
# per-IP overload, 503 is "unavailable" (broker or store refusing, no answer
# in time, every worker busy). Anything else is a fault.
ALLOWED_5XX = {"HTTP 502", "HTTP 503"}
# Time the drain may take past the ceiling when the load itself used it all.
_DRAIN_GRACE = 30.0


@dataclass(frozen=True)
class LoadPlan:
    requests: int = 200_000
    ips: int = 1000
    domains_per_ip: int = 3
    concurrency: int = 48
    seconds: float = 600.0
    workers: int = 4
    frontend_threads: int = 16
    request_timeout: float = 10.0
    mysql_url: str | None = None
    workdir: str | None = None       # keep logs and the SQLite store here (default: a temporary directory)
    fairness_limit: float = 0.05


def _admin(endpoint: str, action: str, args: dict | None = None) -> dict:
    with BrokerClient(endpoint, timeout=10) as client:
        reply = client.call(lambda i: AdminRequest(req_id=i, action=action, args=args or {}))
    if not reply.ok:
        raise RuntimeError(f"broker refused admin {action}: {reply.detail}")
    return reply.data


def _progress_loop(rig: ClusterRig, gen_thread: threading.Thread, result_box: dict, t0: float,
                   say: Callable[[str], None], every: float = 15.0) -> None:
    """A line every ``every`` seconds while the load runs (long work shows progress)."""
    next_at = time.monotonic() + every
    while gen_thread.is_alive():
        gen_thread.join(0.5)
        if time.monotonic() >= next_at:
            next_at += every
            try:
                s = rig.stats()
                say(f"  {time.monotonic() - t0:6.0f} s  sent {result_box['gen'].started:>7}  "
                    f"rated {s['counters'].get('completed', 0):>6}  live {s['totals']['live']:>6}")
            except Exception as e:  # noqa: BLE001 - progress is best effort; the end report has the truth
                say(f"  {time.monotonic() - t0:6.0f} s  broker stats unavailable: {e}")


def run_load(plan: LoadPlan, say: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> dict:
    """Run ``plan`` in ``plan.workdir`` (kept) or a temporary directory (removed); the report."""
    if plan.workdir:
        os.makedirs(plan.workdir, exist_ok=True)
        return _run_in(plan, plan.workdir, say)
    with tempfile.TemporaryDirectory(prefix="sitetruth-load-") as workdir:
        return _run_in(plan, workdir, say)


def _run_in(plan: LoadPlan, workdir: str, say: Callable[[str], None]) -> dict:
    demand = Demand(ips=plan.ips, domains_per_ip=plan.domains_per_ip, requests=plan.requests)
    t0 = time.monotonic()
    deadline = t0 + plan.seconds
    settings = RigSettings(workers=plan.workers, frontend_threads=plan.frontend_threads,
                           max_per_ip=max(100, plan.domains_per_ip))
    with store_for_run(plan.mysql_url, workdir) as store_url:
        rig = ClusterRig(store_url, workdir, demand.all_domains(), settings)
        try:
            rig.start()
            _admin(rig.clients, "pause")
            say(f"cluster up in {time.monotonic() - t0:.1f} s (logs in {workdir}); "
                f"{plan.requests} requests from {plan.ips} client IPs, {plan.domains_per_ip} shops each")
            gen = LoadGenerator(rig.http_port, demand, plan.concurrency, deadline, timeout=plan.request_timeout)
            box: dict = {"gen": gen}
            runner = threading.Thread(target=lambda: box.update(result=gen.run()), name="load", daemon=True)
            runner.start()
            gen.first_round_done.wait(max(0.0, deadline - time.monotonic()))
            _admin(rig.clients, "resume")
            resumed, resumed_wall = time.monotonic(), time.time()
            say(f"every client's shops queued after {resumed - t0:.1f} s; dispatching resumed")
            _progress_loop(rig, runner, box, t0, say)
            runner.join(plan.request_timeout + 10)
            load: LoadResult = box.get("result") or LoadResult()
            say(f"load done: {load.sent} requests in {load.elapsed:.1f} s; waiting for the cluster to drain")
            drained, last = rig.wait_drained(max(_DRAIN_GRACE, deadline - time.monotonic()))
            dispatches = _admin(rig.clients, "dispatches").get("by_ip", {})
            jobs = dispatch_log(os.path.join(workdir, "raterd.log"))
            tally, rated_at = count_store(store_url, demand.all_domains(), load.acked, load.last_ack, jobs)
            order = [job.domain for job in jobs]
            order_source = "dispatch order (job ids)"
            if not order:
                order, order_source = completion_order(rated_at), "completion order (rated_at)"
            fair = fairness(demand, order)
            # From resuming dispatch to the last first rating stored: the raters' time.
            rated_s = max(rated_at.values(), default=resumed_wall) - resumed_wall
            failed = rig.failed_procs()
            cpu = rig.cpu_seconds()
        finally:
            rig.close()
    answered = len(load.latencies)
    lat = {k: round(v * 1000, 2) for k, v in percentiles(load.latencies).items()}
    counts = [dispatches.get(demand.ip(i), 0) for i in range(demand.ips)]
    total_dispatches = sum(counts)
    return {
        "plan": {**dataclasses.asdict(plan), "mysql_url": bool(plan.mysql_url), "workdir": workdir},
        "store": "mysql" if plan.mysql_url else "sqlite",
        "requests": {
            "sent": load.sent, "answered": answered, "elapsed_s": round(load.elapsed, 2),
            "per_s": round(answered / load.elapsed, 1) if load.elapsed else 0.0,
            "latency_ms": lat, "outcomes": dict(load.outcomes), "items": dict(load.items),
            "generator_cpu_s": round(load.cpu, 2),
            "generator_cpu_pct": round(100 * load.cpu / load.elapsed, 1) if load.elapsed else 0.0,
        },
        "ratings": {"rated": tally.rated_total, "elapsed_s": round(rated_s, 2),
                    "per_s": round(tally.rated_total / rated_s, 1) if rated_s else 0.0},
        "store_tally": dataclasses.asdict(tally),
        "broker": {"drained": drained, "counters": (last or {}).get("counters", {})},
        "dispatch_share": {
            "ips": sum(1 for c in counts if c), "total": total_dispatches,
            "min": min(counts), "max": max(counts), "mean": round(statistics.fmean(counts), 3),
            "min_share": round(min(counts) / total_dispatches, 6) if total_dispatches else 0.0,
            "max_share": round(max(counts) / total_dispatches, 6) if total_dispatches else 0.0,
            "equal_share": round(1 / demand.ips, 6),
        },
        "fairness": {"clients": fair.clients, "min": round(fair.min, 4), "max": round(fair.max, 4),
                     "stddev": round(fair.stddev, 4), "spread": round(fair.spread, 4),
                     "span_dispatches": round(fair.span_dispatches, 1), "limit": plan.fairness_limit,
                     "measured_from": order_source},
        "failed_processes": failed,
        "cpu_s": {**cpu, "load generator": round(load.cpu, 1)},
    }


def problems(report: dict) -> list[str]:
    """What the run shows to be wrong (empty: every promise held)."""
    out = []
    t = report["store_tally"]
    if t["acknowledged"] == 0:
        out.append("nothing was acknowledged: the run measured nothing")
    if t["lost"]:
        out.append(f"{t['lost']} acknowledged shop(s) lost")
    if t["still_queued"] or not report["broker"]["drained"]:
        out.append(f"the cluster did not drain in time ({t['still_queued']} acknowledged shop(s) still queued)")
    if t["rated_twice"] > t["reasked_twice"]:
        out.append(f"{t['rated_twice'] - t['reasked_twice']} shop(s) rated twice for one acknowledgement; "
                   f"e.g. {t['twice_examples']}")
    bad = {k: v for k, v in report["requests"]["outcomes"].items()
           if k.startswith("HTTP 5") and k not in ALLOWED_5XX or k.startswith("HTTP 4")}
    if bad:
        out.append(f"unexpected replies: {bad}")
    f = report["fairness"]
    if f["clients"] == 0:
        out.append("no client had all its shops rated: fairness not measured")
    elif f["spread"] > f["limit"]:
        out.append(f"fairness spread {f['spread']:.1%} over the limit {f['limit']:.0%}")
    if report["failed_processes"]:
        out.append(f"processes died: {report['failed_processes']}")
    return out
