#!/usr/bin/env python3
"""Broker benchmark: this broker (SQLite, MariaDB) against gearmand + MySQL, the 2008 polling design and bare relays.

    python scripts/bench_broker.py                       # MariaDB from SITETRUTH_TEST_MYSQL_URL
    python scripts/bench_broker.py --mysql mysql://root@127.0.0.1:13306/sitetruth --json
    python scripts/bench_broker.py --jobs 2000 --queued 200000   # quicker

Everything runs in one go so the ratios are measured side by side on the same
(noisy) machine:

* **this broker** as a real process (``sitetruth-broker``) on SQLite and on
  MariaDB, with ``--raters`` no-op rater processes (``scripts/_lean_rater.py``).
  *Throughput*: ``--jobs`` domains submitted by 10 client IPs in requests of
  50, timed until the last rating is committed. *Dispatch latency*: one
  request at a time (light load), time from sending the RATE request to a
  rater (another process) receiving the JOB, timed as the chain below is
  (from the send call of the encoded request to the rater's receive
  returning, before it decodes). *CPU per job*: the broker
  process's CPU time (utime + stime of all its threads, from
  ``/proc/PID/stat``) over the throughput run, divided by the jobs, and split by
  thread (the loop, the journal, libzmq's I/O thread).
* **gearmand**, the peer a user would choose instead (Debian's
  ``gearman-job-server``, C), with its MySQL persistent queue on the same
  MariaDB, ``--raters`` workers as lean as ours (``scripts/_gearman_peer.py``)
  and the same jobs submitted as durable background jobs in batches of 50;
  timed until gearmand holds none and its queue table is empty.  Skipped,
  with a line saying so, when ``gearmand`` is not installed.
* **the latency floor**: a bare pyzmq two-hop chain (client -> relay process
  -> worker process and back, ``scripts/_zmq_chain.py``) timed like the
  broker's dispatch latency.
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
* **the per-message floor**: the same relay with pyzmq and msgpack only
  (``scripts/_raw_worker.py``), once with one job per message and once with
  ``--raters`` jobs packed into each JOB and RESULT message (one worker
  process answering for them all): what moving a job costs before any code
  of ours runs, and what packing jobs into messages could save at most.
* **the store's own cost**: the statements the journal runs for each job
  (queue row in; rating upserted, queue row out), 50 jobs per statement and
  commit, rows encoded beforehand: the database driver and engine alone.
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
import sys
import tempfile
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import zmq  # noqa: E402

from protocol import RateReply, RateRequest, StatsRequest, decode  # noqa: E402
from protocol.wire import send_frames  # noqa: E402
from protocol.client import BrokerClient  # noqa: E402
from store import QueuedJob, open_store  # noqa: E402
from store.scratch import scratch_store_url  # noqa: E402
from tests.support.processes import free_port, start_broker_process  # noqa: E402

from _bench_common import (  # noqa: E402
    Tmp,
    machine,
    cpu_seconds,
    latency_figures,
    thread_cpu_seconds,
    mysql_connect,
    start_lean_rater,
    until,
)
from _bench_peers import bench_chain, bench_gearmand, bench_raw_relay  # noqa: E402


# ---------------------------------------------------------------- this broker
def bench_broker(store_url: str, jobs: int, raters: int, samples: int, tmp: Tmp, label: str,
                 profile: str | None = None) -> dict:
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
        probe = start_lean_rater(f"tcp://127.0.0.1:{rport}", "probe", tmp, job_log=job_log)
        until(lambda: stats()["totals"]["free_slots"] == 1, 10)
        # Timed as the bare chain is: from the send call of a request
        # already encoded to the rater's receive returning (it stamps before
        # decoding), so both sides' own codec work is outside the figure.
        probe_client = ctx.socket(zmq.DEALER)
        probe_client.setsockopt(zmq.LINGER, 0)
        probe_client.connect(f"tcp://127.0.0.1:{cport}")
        lat = {}
        for mode, gap in (("hot", (0.0, 0.0)), ("idle", (0.002, 0.02))):
            rng = random.Random(1)
            lat[mode] = []
            for n in range(samples):
                domain = f"lat{n}-{mode}-{label}.com"
                frames = RateRequest(req_id=n + 1, client_ip="192.0.2.1", priority=1, domains=(domain,)).to_frames()
                time.sleep(rng.uniform(*gap))
                t0 = time.time()
                send_frames(probe_client, frames)
                if not probe_client.poll(30_000):
                    raise TimeoutError(f"the broker never answered the RATE for {domain}")
                reply = decode(probe_client.recv_multipart())
                assert isinstance(reply, RateReply), reply
                received = _wait_logged(job_log, domain, 5)
                lat[mode].append((received - t0) * 1000)
        probe_client.close(0)
        until(lambda: stats()["totals"]["live"] == 0, 10)
        probe.kill()
        until(lambda: stats()["totals"]["raters"] == 0, 15)

        procs = [start_lean_rater(f"tcp://127.0.0.1:{rport}", f"noop{i}", tmp) for i in range(raters)]
        until(lambda: stats()["totals"]["free_slots"] >= raters, 20)
        base = stats()["counters"].get("completed", 0)
        pid = broker.popen.pid
        spy = _start_profiler(pid, profile, tmp, label) if profile else None
        cpu0, threads0 = cpu_seconds(pid), thread_cpu_seconds(pid)
        raters_cpu0 = sum(cpu_seconds(p.popen.pid) for p in procs)
        t0 = time.monotonic()
        for batch in range(0, jobs, 50):
            domains = tuple(f"tp{batch + k}-{label}.com" for k in range(min(50, jobs - batch)))
            reply = client.call(lambda i: RateRequest(req_id=i, client_ip=f"198.51.100.{batch // 50 % 10}",
                                                      priority=1, domains=domains))
            assert isinstance(reply, RateReply), reply
        until(lambda: (st := stats())["counters"].get("completed", 0) - base >= jobs
               and st["journal"]["unacked_batches"] == 0, 300, poll=0.02)
        took = time.monotonic() - t0
        # Committed, not just answered: wait for the ratings to be in the table.
        until(lambda: _rated(store_url, f"tp{jobs - 1}-{label}.com"), 30, poll=0.02)
        took_durable = time.monotonic() - t0
        cpu, threads = cpu_seconds(pid) - cpu0, thread_cpu_seconds(pid)
        raters_cpu = sum(cpu_seconds(p.popen.pid) for p in procs) - raters_cpu0
        client.close()
        out = {"jobs_per_s": jobs / took_durable, **latency_figures(lat), "jobs": jobs,
               "seconds": took_durable, "answered_seconds": took, "cpu_us_per_job": cpu / jobs * 1e6,
               "cpu_share_of_core": cpu / took_durable, "rater_cpu_us_per_job": raters_cpu / jobs * 1e6,
               "cpu_us_per_job_by_thread": {name: (threads[name] - threads0[name]) / jobs * 1e6
                                            for name in threads}}
        if spy is not None:
            out["profile"] = _stop_profiler(spy)
        return out
    finally:
        for p in procs:
            p.kill()
        broker.stop()
        ctx.term()


def _start_profiler(pid: int, path: str, tmp: Tmp, label: str):
    """py-spy sampling the broker (all threads) while it works; None when py-spy is missing."""
    import shutil
    import subprocess

    exe = shutil.which("py-spy")
    if exe is None:
        print("profile skipped: py-spy not installed (pip install py-spy)", file=sys.stderr)
        return None
    out = f"{path}-{label}.txt"
    proc = subprocess.Popen([exe, "record", "--pid", str(pid), "--format", "raw", "--rate", "250",
                             "--threads", "--nonblocking", "--output", out, "--duration", "120"],
                            stdout=subprocess.DEVNULL, stderr=open(tmp / f"py-spy-{label}.log", "wb"))
    time.sleep(0.5)  # attached before the work starts
    return proc, out


def _stop_profiler(spy) -> str:
    import signal

    proc, out = spy
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(20)
    except Exception:
        proc.kill()
    return out


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


# ------------------------------------------------- the ceiling of this machine
def bench_relay(jobs: int, raters: int, tmp: Tmp) -> dict:
    """The floor under any broker written in Python on this machine.

    A bare relay speaking the real protocol to the same no-op rater
    processes: no store, no queues, no bookkeeping. What it reaches is the
    most *any* design with these raters can reach here; the broker's figure
    is best read against it.
    """
    from protocol import Job, Ready, Result, join_envelope, split_envelope

    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    port = free_port()
    sock.bind(f"tcp://127.0.0.1:{port}")
    procs = [start_lean_rater(f"tcp://127.0.0.1:{port}", f"relay{i}", tmp) for i in range(raters)]
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
        cpu0 = time.process_time()        # this process: the relay's thread and its ZMQ I/O thread
        while done < jobs:
            while free and todo:
                send_frames(sock, join_envelope(free.pop(), Job(
                    job_id=str(len(todo)), domain=todo.pop(), attempt=1, lease=20.0, deadline=30.0).to_frames()))
            if not sock.poll(10_000):
                raise TimeoutError("relay: raters stopped answering")
            # Everything that has arrived, before polling again (as the broker does).
            while True:
                try:
                    raw = sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                identity, frames = split_envelope(raw)
                if isinstance(decode(frames), Result):
                    done += 1
                    free.append(identity)
        return {"jobs_per_s": jobs / (time.monotonic() - t0), "jobs": jobs,
                "cpu_us_per_job": (time.process_time() - cpu0) / jobs * 1e6}
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


def _poll_scheduler(url: str, interval: float, stop_at: float, claimed_q) -> None:
    """One original-style rating scheduler: poll, claim, rate (no-op), store, repeat."""
    db = mysql_connect(url)
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
    db = mysql_connect(url)
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
        until(lambda: (cur.execute("SELECT COUNT(*) FROM work") or True) and cur.fetchone()[0] == 0, 120,
               poll=0.01)
        took = time.monotonic() - t0
    finally:
        for w in workers:
            w.terminate()
            w.join(5)
        cur.execute("DROP TABLE IF EXISTS work")
        cur.execute("DROP TABLE IF EXISTS poll_ratings")
        db.close()
    return {"jobs_per_s": jobs / took, **latency_figures(lat), "jobs": jobs, "seconds": took}


# ------------------------------------------------------------------- memory
def bench_store_floor(store_url: str, jobs: int, group: int = 50) -> dict:
    """What the store itself costs per job, measured in this process: the database driver and engine only.

    The statements the journal runs for each job (its queue row inserted;
    later its rating upserted and its queue row deleted), ``group`` jobs
    per statement and per commit, as under load, with every row encoded and
    every statement text built beforehand: no code of ours runs in the timed
    part. With SQLite that is all of the engine's work; with MariaDB it is
    the client library's (the server's CPU is not the broker's).
    """
    from store import QueuedJob, StoredRating, open_store
    from store import _codec as codec
    from store._statements import JOB_COLS, RATING_COLS, flat, in_marks, row_marks

    now = time.time()
    with open_store(store_url) as s:
        s.migrate()
        work = []
        for start in range(0, jobs, group):
            domains = [f"floor{n}.com" for n in range(start, min(jobs, start + group))]
            job_rows = [codec.job_row(QueuedJob(d, "198.51.100.1", 1, now)) for d in domains]
            rating_rows = [codec.rating_row(StoredRating(d, "Q", "unverified", None,
                                                         [{"kind": "name", "value": "Owner", "page": "/"}],
                                                         now, now + 86400, "bench")) for d in domains]
            n = len(domains)
            work.append((
                s._sql(f"INSERT INTO rating_queue ({JOB_COLS}) VALUES {row_marks(n, 5)} {s._ENQUEUE_TAIL}"),
                flat(job_rows),
                s._sql(f"INSERT INTO ratings ({RATING_COLS}) VALUES {row_marks(n, 8)} {s._UPSERT_TAIL}"),
                flat(rating_rows),
                s._sql(f"DELETE FROM rating_queue WHERE domain IN ({in_marks(n)})"), domains))
        s.ping()                                    # connected before the clock starts

        def enqueue(cur, sql, params):
            cur.execute(sql, params)

        def complete(cur, upsert, rows, delete, domains):
            cur.execute(upsert, rows)
            cur.execute(delete, domains)

        cpu0, t0 = time.process_time(), time.monotonic()
        for insert, job_params, upsert, rating_params, delete, domains in work:
            s._run("bench enqueue", lambda cur: enqueue(cur, insert, job_params), write=True)
            s._run("bench complete", lambda cur: complete(cur, upsert, rating_params, delete, domains), write=True)
        cpu, took = time.process_time() - cpu0, time.monotonic() - t0
    return {"cpu_us_per_job": cpu / jobs * 1e6, "jobs_per_s": jobs / took, "jobs": jobs, "group": group}


def bench_memory(queued: int, tmp: Tmp) -> dict:
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
    rss_per_job, restart_s = _broker_restart(queued, tmp)
    return {"queued": queued, "bytes_per_job_tracemalloc": used / queued,
            "bytes_per_job_process_rss": rss_per_job, "restart_serving_s": restart_s}


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _broker_restart(queued: int, tmp: Tmp) -> tuple[float, float]:
    """RSS growth per job of a real broker process that reloads ``queued`` jobs at start, and how long
    that start takes: process start to its first STATS answered with every job loaded."""
    rss: dict[int, int] = {}
    serving = 0.0
    for n in (0, queued):
        url = f"sqlite:///{tmp / f'rss{n}.db'}"
        with open_store(url) as s:
            s.migrate()
            t0 = time.time()
            for start in range(0, n, 20_000):
                s.enqueue([QueuedJob(f"queued-domain-{k:07d}.com", f"10.{k % 250}.{k // 250 % 250}.1", 1,
                                     t0 + k * 1e-6) for k in range(start, min(n, start + 20_000))])
        clients = free_port()
        started = time.monotonic()
        proc = start_broker_process(url, tmp, clients, free_port(), "--log-level", "WARNING",
                                    name=f"broker-rss{n}")
        try:
            with BrokerClient(f"tcp://127.0.0.1:{clients}", timeout=30) as client:
                stats = client.call(lambda i: StatsRequest(req_id=i, recent=0)).stats
            if n == queued:
                serving = time.monotonic() - started
                assert stats["totals"]["queued"] == queued, stats["totals"]
            time.sleep(0.5)
            rss[n] = _rss_kb(proc.popen.pid) * 1024
        finally:
            proc.stop()
    return (rss[queued] - rss[0]) / queued, serving


# -------------------------------------------------------------------- main
def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--mysql", default=os.environ.get("SITETRUTH_TEST_MYSQL_URL", ""),
                   help="MariaDB server URL (env SITETRUTH_TEST_MYSQL_URL)")
    p.add_argument("--jobs", type=int, default=5000, help="jobs for the throughput runs (default %(default)s)")
    p.add_argument("--raters", type=int, default=4, help="no-op raters (workers) in every design (default %(default)s)")
    p.add_argument("--samples", type=int, default=200, help="latency samples (default %(default)s)")
    p.add_argument("--queued", type=int, default=1_000_000, help="jobs for the memory figure (default %(default)s)")
    p.add_argument("--profile", metavar="PREFIX",
                   help="py-spy the broker during each throughput run; raw stacks to PREFIX-<s|m>.txt")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = p.parse_args()
    if not args.mysql:
        p.error("a MariaDB URL is needed (--mysql or SITETRUTH_TEST_MYSQL_URL); scripts/mariadb-private.sh start")

    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                     "machine": machine(),
                     "jobs": args.jobs, "raters": args.raters, "samples": args.samples, "runs": {}}
    with tempfile.TemporaryDirectory() as d:
        tmp = Tmp(d)
        log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
        with scratch_store_url("sqlite", directory=d, prefix="bench") as url:
            log("this broker on SQLite ...")
            results["runs"]["broker_sqlite"] = bench_broker(url, args.jobs, args.raters, args.samples, tmp, "s",
                                                            args.profile)
        with scratch_store_url("sqlite", directory=d, prefix="floor") as url:
            log("SQLite's own cost per job ...")
            results["runs"]["store_floor_sqlite"] = bench_store_floor(url, args.jobs)
        with scratch_store_url("mysql", mysql_url=args.mysql, prefix="bench_broker") as url:
            log("this broker on MariaDB ...")
            results["runs"]["broker_mariadb"] = bench_broker(url, args.jobs, args.raters, args.samples, tmp, "m",
                                                             args.profile)
            log("MariaDB client's own cost per job ...")
            results["runs"]["store_floor_mariadb"] = bench_store_floor(url, args.jobs)
            log("gearmand with its MySQL queue ...")
            results["runs"]["gearmand_mysql"] = bench_gearmand(url, args.jobs, args.raters, tmp)
            if "skipped" in results["runs"]["gearmand_mysql"]:
                log("skipped: " + results["runs"]["gearmand_mysql"]["skipped"])
            for interval in (0.5, 0.05):
                log(f"polling design, {interval} s ...")
                results["runs"][f"polling_{interval}s"] = bench_polling(
                    url, interval, args.jobs, args.raters, max(20, args.samples // (4 if interval > 0.1 else 2)))
        log("bare relay (the ceiling with these raters) ...")
        results["runs"]["relay_ceiling"] = bench_relay(args.jobs, args.raters, tmp)
        log("raw relay, pyzmq and msgpack only, 1 and 4 jobs per message (the per-message floor) ...")
        for per_message in (1, args.raters):
            results["runs"][f"raw_relay_{per_message}_per_message"] = bench_raw_relay(
                args.jobs, args.raters, per_message, tmp)
        log("bare pyzmq two-hop chain (the latency floor) ...")
        results["runs"]["zmq_two_hop"] = bench_chain(args.samples, tmp)
        log(f"memory with {args.queued:,} queued jobs ...")
        results["memory"] = bench_memory(args.queued, tmp)
    _judge(results)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    _print_table(args, results)
    return 0


def _judge(results: dict) -> None:
    runs = results["runs"]
    best_poll = max(runs["polling_0.5s"]["jobs_per_s"], runs["polling_0.05s"]["jobs_per_s"])
    results["throughput_ratio_vs_polling"] = {
        name: runs[name]["jobs_per_s"] / best_poll for name in ("broker_sqlite", "broker_mariadb")}
    gm = runs["gearmand_mysql"]
    mariadb, chain = runs["broker_mariadb"], runs["zmq_two_hop"]
    brokers = ("broker_sqlite", "broker_mariadb")
    results["targets"] = {
        "durable_2x_gearmand": None if "skipped" in gm else mariadb["jobs_per_s"] >= 2 * gm["jobs_per_s"],
        "cpu_per_job_100us": all(runs[n]["cpu_us_per_job"] <= 100 for n in brokers),
        "p50_under_0.5ms": all(runs[n]["p50_ms"] <= 0.5 for n in brokers),
        "p50_within_1.5x_two_hop": all(runs[n]["p50_ms"] <= 1.5 * chain["p50_ms"] for n in brokers),
        "p99_under_2ms": all(runs[n]["p99_ms"] <= 2.0 for n in brokers),
        "memory_500B_per_job": results["memory"]["bytes_per_job_tracemalloc"] <= 500
        and results["memory"]["bytes_per_job_process_rss"] <= 500,
        "restart_serving_10s": results["memory"]["restart_serving_s"] <= 10,
        "throughput_10x_polling": min(results["throughput_ratio_vs_polling"].values()) >= 10,
    }


def _print_table(args, results: dict) -> None:
    runs = results["runs"]
    best_poll = max(runs["polling_0.5s"]["jobs_per_s"], runs["polling_0.05s"]["jobs_per_s"])
    mariadb = runs["broker_mariadb"]["jobs_per_s"]
    print(f"\nBroker benchmark, {results['date']}, {results['machine']}")
    print(f"{args.jobs} jobs, {args.raters} no-op raters / workers, {args.samples} latency samples; one run\n")
    print(f"{'design':<44} {'jobs/s':>8} {'vs MariaDB':>10} {'x polling':>9} {'CPU µs/job':>10} "
          f"{'p50 ms':>7} {'p99 ms':>7} {'p50 hot':>7}")

    def row(label: str, r: dict, latency: bool = True) -> None:
        cpu = f"{r['cpu_us_per_job']:>10.0f}" if "cpu_us_per_job" in r else f"{'':>10}"
        lat = (f" {r['p50_ms']:>7.3f} {r['p99_ms']:>7.3f} {r['p50_hot_ms']:>7.3f}" if latency and "p50_ms" in r
               else "")
        tp = (f"{r['jobs_per_s']:>8.0f} {r['jobs_per_s'] / mariadb:>10.2f} {r['jobs_per_s'] / best_poll:>9.1f}"
              if "jobs_per_s" in r else f"{'':>8} {'':>10} {'':>9}")
        print(f"{label:<44} {tp} {cpu}{lat}")

    row("this broker, SQLite", runs["broker_sqlite"])
    row("this broker, MariaDB", runs["broker_mariadb"])
    gm = runs["gearmand_mysql"]
    if "skipped" in gm:
        print(f"{'gearmand + MySQL queue':<44} skipped: {gm['skipped']}")
    else:
        row(f"gearmand {gm['version'].split()[1] if len(gm['version'].split()) > 1 else ''} + MySQL queue, "
            f"{gm['workers']} workers", gm)
    row("2008 MEMORY table, poll 0.5 s", runs["polling_0.5s"])
    row("2008 MEMORY table, poll 0.05 s", runs["polling_0.05s"])
    row("bare relay, no store (ceiling)", runs["relay_ceiling"])
    for per_message in (1, args.raters):
        row(f"raw relay, pyzmq+msgpack, {per_message} job{'s' if per_message > 1 else ''}/message",
            runs[f"raw_relay_{per_message}_per_message"])
    chain = runs["zmq_two_hop"]
    print(f"{'bare pyzmq two-hop chain (latency floor)':<44} {'':>8} {'':>10} {'':>9} {'':>10} "
          f"{chain['p50_ms']:>7.3f} {chain['p99_ms']:>7.3f} {chain['p50_hot_ms']:>7.3f}")
    print("latency: request sent -> JOB (message) received by a rater process; p50/p99 with requests arriving at\n"
          "random moments (idle system), 'p50 hot' back to back. CPU µs/job: the server process's CPU time\n"
          "(all threads) over the throughput run / jobs. Two-hop round trip p50 "
          f"{chain['rtt_p50_ms']:.3f} ms, p99 {chain['rtt_p99_ms']:.3f} ms.")
    if "skipped" not in gm:
        print(f"this broker on MariaDB does {mariadb / gm['jobs_per_s']:.2f}x gearmand+MySQL's durable throughput")
    for name in ("broker_sqlite", "broker_mariadb"):
        split = runs[name]["cpu_us_per_job_by_thread"]
        print(f"{name.replace('broker_', 'this broker on ')}: CPU µs/job by thread: loop {split['loop']:.0f}, "
              f"journal {split['other']:.0f}, libzmq I/O {split['zmq_io']:.0f}")
    floor = {n: runs[f"store_floor_{n}"]["cpu_us_per_job"] for n in ("sqlite", "mariadb")}
    raw = {k: runs[f"raw_relay_{k}_per_message"]["cpu_us_per_job"] for k in (1, args.raters)}
    print(f"outside our code, per job: pyzmq+libzmq+kernel moving a JOB and a RESULT {raw[1]:.0f} µs "
          f"({raw[args.raters]:.0f} µs packed {args.raters} per message); the store's statements alone (driver "
          f"and engine, groups of 50) {floor['sqlite']:.0f} µs SQLite, {floor['mariadb']:.0f} µs MariaDB client")
    ceiling = runs["relay_ceiling"]["jobs_per_s"]
    print(f"no-op raters' own CPU per job (all {args.raters} processes): "
          f"{runs['broker_sqlite']['rater_cpu_us_per_job']:.0f} µs (SQLite run), "
          f"{runs['broker_mariadb']['rater_cpu_us_per_job']:.0f} µs (MariaDB run)")
    print(f"this broker reaches {runs['broker_sqlite']['jobs_per_s'] / ceiling:.0%} (SQLite) and "
          f"{mariadb / ceiling:.0%} (MariaDB) of what a bare relay reaches with the same raters on this machine")
    m = results["memory"]
    print(f"\nmemory per queued job with {m['queued']:,} queued: {m['bytes_per_job_tracemalloc']:.0f} B "
          f"(tracemalloc), {m['bytes_per_job_process_rss']:.0f} B (broker process RSS growth); a broker "
          f"restarting with them all queued serves {m['restart_serving_s']:.1f} s after it starts")
    print("targets: " + ", ".join(f"{k}={'n/a' if v is None else 'met' if v else 'MISSED'}"
                                  for k, v in results["targets"].items()))


if __name__ == "__main__":
    sys.exit(main())
