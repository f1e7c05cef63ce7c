#!/usr/bin/env python3
"""Broker benchmark: this broker (SQLite, MariaDB) against the 2008 polling design.

    python scripts/bench_broker.py                       # MariaDB from SITETRUTH_TEST_MYSQL_URL
    python scripts/bench_broker.py --mysql mysql://root@127.0.0.1:13306/sitetruth --json
    python scripts/bench_broker.py --jobs 2000 --queued 200000   # quicker

Everything runs in one go so the ratios are measured side by side on the same
(noisy) machine:

* **this broker** as a real process (``sitetruth-broker``) on SQLite and on
  MariaDB, with ``--raters`` no-op rater processes. *Throughput*: ``--jobs``
  domains submitted by 10 client IPs in requests of 50, timed until the last
  rating is committed. *Dispatch latency*: one request at a time (light load),
  time from sending the RATE request to a rater (in this process) receiving
  the JOB.
* **the original design**, re-implemented faithfully: the frontend INSERTs
  into a MySQL ``ENGINE=MEMORY`` work table; each of ``--raters`` rating
  schedulers polls it under ``GET_LOCK`` (fair order across client IPs via
  the per-IP sequence in the SELECT), marks the row "in process", rates (no-op),
  stores the rating in InnoDB and deletes the row, and polls again at once
  while there is work, sleeping 0.5 s (and, second run, 0.05 s) when idle.
* **the ceiling**: a bare relay speaking the same protocol to the same
  no-op raters, with no store and no bookkeeping: no broker design in
  Python can beat it on this machine, so it says how much of the gap to a
  target is the design and how much is the machine.
* **memory per queued job**: ``--queued`` jobs loaded into the broker's
  in-memory queue (tracemalloc, plus the RSS growth of a real broker process
  reloading them from SQLite).

Prints a table; ``--json`` prints the same figures as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import zmq  # noqa: E402

from protocol import RateReply, RateRequest, StatsRequest  # noqa: E402
from protocol.client import BrokerClient  # noqa: E402
from store import QueuedJob, open_store, parse_store_url  # noqa: E402
from store.scratch import scratch_store_url  # noqa: E402
from tests.support.processes import free_port, start_broker_process, start_fake_rater  # noqa: E402


class _Tmp:
    def __init__(self, path: str) -> None:
        self.path = path

    def __truediv__(self, name: str):
        return os.path.join(self.path, name)


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


# ---------------------------------------------------------------- this broker
def bench_broker(store_url: str, jobs: int, raters: int, samples: int, tmp: _Tmp, label: str) -> dict:
    with open_store(store_url) as s:
        s.migrate()
    cport, rport = free_port(), free_port()
    broker = start_broker_process(store_url, tmp, cport, rport, "--max-per-ip", str(jobs + 10),
                                  "--liveness", "2", "--log-level", "WARNING", name=f"broker-{label}")
    procs = []
    ctx = zmq.Context()
    try:
        client = BrokerClient(f"tcp://127.0.0.1:{cport}", timeout=30, context=ctx)

        def stats() -> dict:
            return client.call(lambda i: StatsRequest(req_id=i, recent=0)).stats

        # Latency first, at light load: one rater process, one request at a time,
        # arriving at random moments. The rater logs when each JOB arrived
        # (wall clock, comparable across processes on one machine).
        job_log = tmp / f"jobs-{label}.log"
        probe = start_fake_rater(f"tcp://127.0.0.1:{rport}", "probe", tmp, job_log=job_log)
        _until(lambda: stats()["totals"]["free_slots"] == 1, 10)
        lat = {}
        for mode, gap in (("hot", (0.0, 0.0)), ("idle", (0.002, 0.02))):
            rng = random.Random(1)
            lat[mode] = []
            for n in range(samples):
                time.sleep(rng.uniform(*gap))
                domain = f"lat{n}-{mode}-{label}.com"
                t0 = time.time()
                reply = client.call(lambda i: RateRequest(req_id=i, client_ip="192.0.2.1", priority=1,
                                                          domains=(domain,)))
                assert isinstance(reply, RateReply), reply
                received = _wait_logged(job_log, domain, 5)
                lat[mode].append((received - t0) * 1000)
        _until(lambda: stats()["totals"]["live"] == 0, 10)
        probe.kill()
        _until(lambda: stats()["totals"]["raters"] == 0, 15)

        procs = [start_fake_rater(f"tcp://127.0.0.1:{rport}", f"noop{i}", tmp) for i in range(raters)]
        _until(lambda: stats()["totals"]["free_slots"] >= raters, 20)
        base = stats()["counters"].get("completed", 0)
        t0 = time.monotonic()
        for batch in range(0, jobs, 50):
            domains = tuple(f"tp{batch + k}-{label}.com" for k in range(min(50, jobs - batch)))
            reply = client.call(lambda i: RateRequest(req_id=i, client_ip=f"198.51.100.{batch // 50 % 10}",
                                                      priority=1, domains=domains))
            assert isinstance(reply, RateReply), reply
        _until(lambda: (st := stats())["counters"].get("completed", 0) - base >= jobs
               and st["journal"]["unacked_batches"] == 0, 300, poll=0.02)
        took = time.monotonic() - t0
        # Committed, not just answered: wait for the ratings to be in the table.
        _until(lambda: _rated(store_url, f"tp{jobs - 1}-{label}.com"), 30, poll=0.02)
        took_durable = time.monotonic() - t0
        client.close()
        return {"jobs_per_s": jobs / took_durable, **_latency_figures(lat), "jobs": jobs,
                "seconds": took_durable, "answered_seconds": took}
    finally:
        for p in procs:
            p.kill()
        broker.stop()
        ctx.term()


def _wait_logged(path: str, domain: str, timeout: float) -> float:
    """When the probe rater logged receiving ``domain``'s JOB."""
    end = time.monotonic() + timeout
    key = domain + " "
    while time.monotonic() < end:
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key):
                        return float(line.split()[1])
        except FileNotFoundError:
            pass
        time.sleep(0.0002)
    raise TimeoutError(f"the probe rater never received {domain}")


def _rated(store_url: str, domain: str) -> bool:
    with open_store(store_url) as s:
        return bool(s.lookup_ratings([domain]))


def _until(predicate, timeout: float, poll: float = 0.05) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(poll)
    raise TimeoutError("benchmark condition not reached")


# ------------------------------------------------- the ceiling of this machine
def bench_relay(jobs: int, raters: int, tmp: _Tmp) -> dict:
    """The floor under any broker written in Python on this machine.

    A bare relay speaking the real protocol to the same no-op rater
    processes: no store, no queues, no bookkeeping. What it reaches is the
    most *any* design with these raters can reach here; the broker's figure
    is best read against it.
    """
    from protocol import Job, Ready, Result, decode, join_envelope, split_envelope

    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    port = free_port()
    sock.bind(f"tcp://127.0.0.1:{port}")
    procs = [start_fake_rater(f"tcp://127.0.0.1:{port}", f"relay{i}", tmp) for i in range(raters)]
    try:
        free: list[bytes] = []
        end = time.monotonic() + 30
        while len(free) < raters and time.monotonic() < end:
            if sock.poll(1000):
                identity, frames = split_envelope(sock.recv_multipart())
                if isinstance(decode(frames), Ready):
                    free.append(identity)
        todo = [f"relay{n}.com" for n in range(jobs)]
        done = 0
        t0 = time.monotonic()
        while done < jobs:
            while free and todo:
                sock.send_multipart(join_envelope(free.pop(), Job(
                    job_id=str(len(todo)), domain=todo.pop(), attempt=1, lease=20.0, deadline=30.0).to_frames()))
            if not sock.poll(10_000):
                raise TimeoutError("relay: raters stopped answering")
            identity, frames = split_envelope(sock.recv_multipart())
            if isinstance(decode(frames), Result):
                done += 1
                free.append(identity)
        return {"jobs_per_s": jobs / (time.monotonic() - t0), "jobs": jobs}
    finally:
        for p in procs:
            p.kill()
        sock.close(0)
        ctx.term()


# ---------------------------------------------------------- the 2008 design
POLL_DDL = [
    "DROP TABLE IF EXISTS work",
    # The original queue: an in-memory table, polled by every rating scheduler.
    """CREATE TABLE work (
        id INT AUTO_INCREMENT PRIMARY KEY,
        domain VARCHAR(253) NOT NULL,
        client_ip VARCHAR(64) NOT NULL,
        ip_seq INT NOT NULL,
        state ENUM('queued','inprocess') NOT NULL DEFAULT 'queued',
        queued_at DOUBLE NOT NULL,
        claimed_at DOUBLE NULL,
        INDEX fair USING BTREE (state, ip_seq, id)
    ) ENGINE=MEMORY""",
    "DROP TABLE IF EXISTS poll_ratings",
    """CREATE TABLE poll_ratings (
        domain VARCHAR(253) PRIMARY KEY, rating CHAR(1), ratinginfo VARCHAR(32),
        rated_at DOUBLE, expires_at DOUBLE
    ) ENGINE=InnoDB""",
]


def _mysql_connect(url: str):
    import MySQLdb

    u = parse_store_url(url)
    kw = {"user": u.user or "root", "passwd": u.password or "", "db": u.database, "autocommit": True}
    if u.unix_socket:
        kw["unix_socket"] = u.unix_socket
    else:
        kw["host"] = u.host or "127.0.0.1"
        kw["port"] = u.port or 3306
    return MySQLdb.connect(**kw)


def _poll_scheduler(url: str, interval: float, stop_at: float, claimed_q) -> None:
    """One original-style rating scheduler: poll, claim, rate (no-op), store, repeat."""
    db = _mysql_connect(url)
    cur = db.cursor()
    while time.time() < stop_at:
        cur.execute("SELECT GET_LOCK('sitetruth_work', 10)")
        cur.execute("SELECT id, domain, queued_at FROM work WHERE state='queued' ORDER BY ip_seq, id LIMIT 1")
        row = cur.fetchone()
        if row:
            cur.execute("UPDATE work SET state='inprocess', claimed_at=%s WHERE id=%s", (time.time(), row[0]))
        cur.execute("SELECT RELEASE_LOCK('sitetruth_work')")
        if not row:
            time.sleep(interval)       # idle: the polling delay
            continue
        claimed_q.put(time.time() - row[2])
        now = time.time()
        cur.execute("START TRANSACTION")
        cur.execute("INSERT INTO poll_ratings VALUES (%s,'Q','unverified',%s,%s) ON DUPLICATE KEY UPDATE "
                    "rating=VALUES(rating), rated_at=VALUES(rated_at)", (row[1], now, now + 2592000))
        cur.execute("COMMIT")
        cur.execute("DELETE FROM work WHERE id=%s", (row[0],))
    db.close()


def bench_polling(url: str, interval: float, jobs: int, raters: int, samples: int) -> dict:
    db = _mysql_connect(url)
    cur = db.cursor()
    for stmt in POLL_DDL:
        cur.execute(stmt)
    ctx = mp.get_context("spawn")
    claimed = ctx.Queue()
    stop_at = time.time() + 600
    workers = [ctx.Process(target=_poll_scheduler, args=(url, interval, stop_at, claimed), daemon=True)
               for _ in range(raters)]
    for w in workers:
        w.start()
    time.sleep(1.0 + interval)
    seq: dict[str, int] = {}

    def insert(domains: list[str], ip: str) -> None:
        # The frontend's side: put the request in the MEMORY table.
        rows = []
        for d in domains:
            seq[ip] = seq.get(ip, 0) + 1
            rows.append((d, ip, seq[ip], time.time()))
        cur.executemany("INSERT INTO work (domain, client_ip, ip_seq, queued_at) VALUES (%s,%s,%s,%s)", rows)

    try:
        lat = {}
        for mode in ("hot", "idle"):
            rng = random.Random(1)
            lat[mode] = []
            for n in range(samples):
                # "idle": requests arrive at random moments, as they do at light
                # load, so the pollers are at random points of their sleep.
                time.sleep(rng.uniform(0, 1.2 * interval) if mode == "idle" else 0.0)
                insert([f"lat{n}-{mode}.com"], "192.0.2.1")
                lat[mode].append(claimed.get(timeout=30) * 1000)
        t0 = time.monotonic()
        for batch in range(0, jobs, 50):
            insert([f"tp{batch + k}.com" for k in range(min(50, jobs - batch))], f"198.51.100.{batch // 50 % 10}")
        for _ in range(jobs):
            claimed.get(timeout=300)
        _until(lambda: (cur.execute("SELECT COUNT(*) FROM work") or True) and cur.fetchone()[0] == 0, 120,
               poll=0.01)
        took = time.monotonic() - t0
    finally:
        for w in workers:
            w.terminate()
            w.join(5)
        cur.execute("DROP TABLE IF EXISTS work")
        cur.execute("DROP TABLE IF EXISTS poll_ratings")
        db.close()
    return {"jobs_per_s": jobs / took, **_latency_figures(lat), "jobs": jobs, "seconds": took}


def _latency_figures(lat: dict[str, list[float]]) -> dict[str, float]:
    """p50/p99 of the "idle" series (random arrivals) plus the p50 of back-to-back requests."""
    return {"p50_ms": statistics.median(lat["idle"]), "p99_ms": _percentile(lat["idle"], 0.99),
            "p50_hot_ms": statistics.median(lat["hot"])}


# ------------------------------------------------------------------- memory
def bench_memory(queued: int, tmp: _Tmp) -> dict:
    from broker.fairqueue import FairQueue

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    fq = FairQueue()
    t0 = time.time()
    for n in range(queued):
        fq.add(f"queued-domain-{n:07d}.com", f"10.{n % 250}.{n // 250 % 250}.1", 1, t0 + n * 1e-6)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del fq
    return {"queued": queued, "bytes_per_job_tracemalloc": used / queued,
            "bytes_per_job_process_rss": _broker_rss_per_job(queued, tmp)}


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _broker_rss_per_job(queued: int, tmp: _Tmp) -> float:
    """RSS growth of a real broker process that reloads ``queued`` jobs at start."""
    rss = {}
    for n in (0, queued):
        url = f"sqlite:///{tmp / f'rss{n}.db'}"
        with open_store(url) as s:
            s.migrate()
            t0 = time.time()
            for start in range(0, n, 20_000):
                s.enqueue([QueuedJob(f"queued-domain-{k:07d}.com", f"10.{k % 250}.{k // 250 % 250}.1", 1,
                                     t0 + k * 1e-6) for k in range(start, min(n, start + 20_000))])
        proc = start_broker_process(url, tmp, free_port(), free_port(), "--log-level", "WARNING",
                                    name=f"broker-rss{n}")
        try:
            time.sleep(0.5)
            rss[n] = _rss_kb(proc.popen.pid) * 1024
        finally:
            proc.stop()
    return (rss[queued] - rss[0]) / queued


# -------------------------------------------------------------------- main
def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--mysql", default=os.environ.get("SITETRUTH_TEST_MYSQL_URL", ""),
                   help="MariaDB server URL (env SITETRUTH_TEST_MYSQL_URL)")
    p.add_argument("--jobs", type=int, default=5000, help="jobs for the throughput runs (default %(default)s)")
    p.add_argument("--raters", type=int, default=4, help="no-op raters in every design (default %(default)s)")
    p.add_argument("--samples", type=int, default=200, help="latency samples (default %(default)s)")
    p.add_argument("--queued", type=int, default=1_000_000, help="jobs for the memory figure (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = p.parse_args()
    if not args.mysql:
        p.error("a MariaDB URL is needed (--mysql or SITETRUTH_TEST_MYSQL_URL); scripts/mariadb-private.sh start")

    results: dict = {"jobs": args.jobs, "raters": args.raters, "samples": args.samples, "runs": {}}
    with tempfile.TemporaryDirectory() as d:
        tmp = _Tmp(d)
        log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
        with scratch_store_url("sqlite", directory=d, prefix="bench") as url:
            log("this broker on SQLite ...")
            results["runs"]["broker_sqlite"] = bench_broker(url, args.jobs, args.raters, args.samples, tmp, "s")
        with scratch_store_url("mysql", mysql_url=args.mysql, prefix="bench_broker") as url:
            log("this broker on MariaDB ...")
            results["runs"]["broker_mariadb"] = bench_broker(url, args.jobs, args.raters, args.samples, tmp, "m")
            for interval in (0.5, 0.05):
                log(f"polling design, {interval} s ...")
                results["runs"][f"polling_{interval}s"] = bench_polling(
                    url, interval, args.jobs, args.raters, max(20, args.samples // (4 if interval > 0.1 else 2)))
        log("bare relay (the ceiling with these raters) ...")
        results["runs"]["relay_ceiling"] = bench_relay(args.jobs, args.raters, tmp)
        log(f"memory with {args.queued:,} queued jobs ...")
        results["memory"] = bench_memory(args.queued, tmp)
    runs = results["runs"]
    best_poll = max(runs["polling_0.5s"]["jobs_per_s"], runs["polling_0.05s"]["jobs_per_s"])
    results["throughput_ratio_vs_polling"] = {
        name: runs[name]["jobs_per_s"] / best_poll for name in ("broker_sqlite", "broker_mariadb")}
    results["targets"] = {
        "p50_under_1ms": all(runs[n]["p50_ms"] < 1.0 for n in ("broker_sqlite", "broker_mariadb")),
        "p50_hot_under_1ms": all(runs[n]["p50_hot_ms"] < 1.0 for n in ("broker_sqlite", "broker_mariadb")),
        "throughput_10x_polling": min(results["throughput_ratio_vs_polling"].values()) >= 10,
        "memory_under_1KB_per_job": results["memory"]["bytes_per_job_tracemalloc"] < 1024
        and results["memory"]["bytes_per_job_process_rss"] < 1024,
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"\nBroker benchmark: {args.jobs} jobs, {args.raters} no-op raters, {args.samples} latency samples\n")
    print(f"{'design':<34} {'jobs/s':>10} {'x polling':>10} {'p50 ms':>9} {'p99 ms':>9} {'p50 hot':>9}")
    names = {"broker_sqlite": "this broker, SQLite", "broker_mariadb": "this broker, MariaDB",
             "polling_0.5s": "2008 MEMORY table, poll 0.5 s", "polling_0.05s": "2008 MEMORY table, poll 0.05 s"}
    for key, label in names.items():
        r = runs[key]
        print(f"{label:<34} {r['jobs_per_s']:>10.0f} {r['jobs_per_s'] / best_poll:>10.1f} "
              f"{r['p50_ms']:>9.3f} {r['p99_ms']:>9.3f} {r['p50_hot_ms']:>9.3f}")
    print("latency: request sent -> JOB received by a rater; p50/p99 with requests arriving at random\n"
          "moments (idle system), 'p50 hot' with requests sent back to back.")
    ceiling = runs["relay_ceiling"]["jobs_per_s"]
    print(f"{'bare relay, no store (ceiling)':<34} {ceiling:>10.0f} {ceiling / best_poll:>10.1f}")
    print(f"this broker reaches {runs['broker_sqlite']['jobs_per_s'] / ceiling:.0%} (SQLite) and "
          f"{runs['broker_mariadb']['jobs_per_s'] / ceiling:.0%} (MariaDB) of what a bare relay reaches "
          f"with the same raters on this machine")
    m = results["memory"]
    print(f"\nmemory per queued job with {m['queued']:,} queued: {m['bytes_per_job_tracemalloc']:.0f} B "
          f"(tracemalloc), {m['bytes_per_job_process_rss']:.0f} B (broker process RSS growth)")
    print("targets: " + ", ".join(f"{k}={'met' if v else 'MISSED'}" for k, v in results["targets"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
