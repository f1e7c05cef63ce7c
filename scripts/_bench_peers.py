"""The broker benchmark's peers: gearmand with its MySQL queue, and the bare pyzmq two-hop chain.

Each is timed as this broker is in scripts/bench_broker.py (same jobs, same
worker count, same latency sampling), in the same run.  The processes they
start live in scripts/_gearman_peer.py and scripts/_zmq_chain.py.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import time

import zmq

from _bench_common import (
    SCRIPTS,
    Tmp,
    cpu_seconds,
    latency_figures,
    mysql_connect,
    percentile,
    until,
)
from store import parse_store_url
from tests.support.processes import Proc, free_port


def bench_gearmand(mysql_url: str, jobs: int, raters: int, tmp: Tmp) -> dict:
    """gearmand with its MySQL queue on the same MariaDB, ``raters`` lean workers, durable background jobs."""
    from _gearman_peer import Connection, queued, submit_background

    exe = shutil.which("gearmand") or ("/usr/sbin/gearmand" if os.path.exists("/usr/sbin/gearmand") else None)
    if exe is None:
        return {"skipped": "gearmand not installed (Debian: apt-get install gearman-job-server)"}
    u = parse_store_url(mysql_url)
    port = free_port()
    # gearmand's MySQL module speaks TCP only (no socket option).
    gearmand = Proc([exe, "--listen", "127.0.0.1", "--port", str(port), "--queue-type", "mysql",
                     "--mysql-host", u.host or "127.0.0.1", "--mysql-port", str(u.port or 3306),
                     "--mysql-user", u.user or "root", "--mysql-password", u.password or "",
                     "--mysql-db", u.database, "--mysql-table", "gearman_queue",
                     "--log-file", "stderr", "--verbose", "WARNING"],
                    str(tmp / "gearmand.log"))
    workers: list[Proc] = []
    try:
        until(lambda: _port_open(port), 20)
        workers = [Proc([sys.executable, os.path.join(SCRIPTS, "_gearman_peer.py"), "worker", "--port", str(port),
                         "--function", "rate", "--seconds", "300"], str(tmp / f"gearman-worker{i}.log"))
                   for i in range(raters)]
        time.sleep(1.0)  # workers connected and asleep (PRE_SLEEP) before the clock starts
        conn = Connection(port)
        db = mysql_connect(mysql_url)
        cur = db.cursor()
        pid = gearmand.popen.pid
        cpu0 = cpu_seconds(pid)
        t0 = time.monotonic()
        for batch in range(0, jobs, 50):
            submit_background(conn, b"rate", [(f"tp{n}".encode(), f"tp{n}-g.com".encode())
                                              for n in range(batch, min(jobs, batch + 50))])
        until(lambda: queued(port, "rate") == 0, 300, poll=0.02)
        # Durable done: gearmand deletes each finished job's row from its queue table.
        until(lambda: (cur.execute("SELECT COUNT(*) FROM gearman_queue") or True) and cur.fetchone()[0] == 0,
               60, poll=0.02)
        took = time.monotonic() - t0
        cpu = cpu_seconds(pid) - cpu0
        conn.close()
        cur.execute("DROP TABLE IF EXISTS gearman_queue")
        db.close()
        return {"jobs_per_s": jobs / took, "jobs": jobs, "seconds": took, "cpu_us_per_job": cpu / jobs * 1e6,
                "cpu_share_of_core": cpu / took, "workers": raters, "version": _gearmand_version(exe)}
    finally:
        for w in workers:
            w.kill()
        gearmand.kill()


def _gearmand_version(exe: str) -> str:
    try:
        return subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


# ------------------------------------------------------- the latency floor
def bench_chain(samples: int, tmp: Tmp) -> dict:
    """Bare pyzmq client -> relay -> worker and back, timed like the broker's dispatch latency."""
    front, back = free_port(), free_port()
    chain = os.path.join(SCRIPTS, "_zmq_chain.py")
    relay = Proc([sys.executable, chain, "relay", "--front", f"tcp://127.0.0.1:{front}",
                  "--back", f"tcp://127.0.0.1:{back}", "--seconds", "300"], str(tmp / "chain-relay.log"))
    worker = Proc([sys.executable, chain, "worker", "--connect", f"tcp://127.0.0.1:{back}", "--seconds", "300"],
                  str(tmp / "chain-worker.log"))
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://127.0.0.1:{front}")
    stamp = struct.Struct(">d")
    try:
        for _ in range(100):  # until the worker has said hello to the relay
            sock.send(b"warm")
            if sock.poll(100):
                sock.recv()
                break
        while sock.poll(100):
            sock.recv()
        lat: dict[str, list[float]] = {}
        rtt: list[float] = []
        for mode, gap in (("hot", (0.0, 0.0)), ("idle", (0.002, 0.02))):
            rng = random.Random(1)
            lat[mode] = []
            for _ in range(samples):
                time.sleep(rng.uniform(*gap))
                t0, m0 = time.time(), time.perf_counter()
                sock.send(b"x")
                if not sock.poll(5000):
                    raise TimeoutError("the two-hop chain stopped answering")
                reply = sock.recv()
                if mode == "idle":
                    rtt.append((time.perf_counter() - m0) * 1000)
                lat[mode].append((stamp.unpack(reply[-8:])[0] - t0) * 1000)
        return {**latency_figures(lat), "rtt_p50_ms": statistics.median(rtt), "rtt_p99_ms": percentile(rtt, 0.99)}
    finally:
        sock.close(0)
        ctx.term()
        relay.kill()
        worker.kill()


def bench_raw_relay(jobs: int, raters: int, per_message: int, tmp: Tmp) -> dict:
    """The per-message floor under any Python broker here: a relay of pyzmq and msgpack only.

    ``raters // per_message`` worker processes (``scripts/_raw_worker.py``),
    each sent ``per_message`` jobs in one JOB message and answering with one
    RESULT for them all: with ``per_message`` 1 that is what the bare relay
    above does without our codec; with 4 (the bench's four workers behind
    one connection) it is the most that packing jobs into messages could
    save when four jobs are out at once. The relay's CPU (its thread and
    libzmq's I/O thread) per job is what no store, queue or codec is in.
    """
    import msgpack

    workers = max(1, raters // per_message)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    port = free_port()
    sock.bind(f"tcp://127.0.0.1:{port}")
    procs = [Proc([sys.executable, os.path.join(SCRIPTS, "_raw_worker.py"), "--connect", f"tcp://127.0.0.1:{port}"],
                  str(tmp / f"raw-worker-{per_message}-{i}.log")) for i in range(workers)]
    free: list[bytes] = []
    try:
        end = time.monotonic() + 30
        while len(free) < workers and time.monotonic() < end:
            if sock.poll(1000):
                free.append(sock.recv_multipart()[0])
        if len(free) < workers:
            raise TimeoutError("raw relay: workers never said READY")
        sent = done = 0
        t0, cpu0 = time.monotonic(), time.process_time()
        while done < jobs:
            while free and sent < jobs:
                batch = [{"job_id": str(sent + k), "domain": f"raw{sent + k}.com", "attempt": 1, "lease": 20.0,
                          "deadline": 30.0} for k in range(min(per_message, jobs - sent))]
                sent += len(batch)
                sock.send_multipart([free.pop(), b"JOB", msgpack.packb(batch)])
            if not sock.poll(10_000):
                raise TimeoutError("raw relay: workers stopped answering")
            while sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                identity, _, body = sock.recv_multipart(zmq.NOBLOCK)
                done += len(msgpack.unpackb(body))
                free.append(identity)
        took, cpu = time.monotonic() - t0, time.process_time() - cpu0
        return {"jobs_per_s": jobs / took, "jobs": jobs, "per_message": per_message, "workers": workers,
                "cpu_us_per_job": cpu / jobs * 1e6}
    finally:
        for identity in free:
            try:
                sock.send_multipart([identity, b"STOP", b""], zmq.NOBLOCK)
            except zmq.ZMQError:
                pass
        for p in procs:
            p.kill()
        sock.close(0)
        ctx.term()
