"""Load test of a whole cluster on loopback: many client addresses, nothing acknowledged lost.

Starts a broker, a rater node (real raterd workers) and a frontend on a fresh
store, plus a fixture web server that answers every site at once (each pool
domain is mapped to it for the raters). Then it sends ``--requests`` API
requests from ``--ips`` client source addresses (127.0.x.y), every address
asking equally often for its own ``--domains-per-ip`` domains, ``--concurrency``
at a time. At the end it waits for the broker to drain and checks in the store
that every domain the API acknowledged (``W`` with status 202) was rated.

Prints requests/s, latency percentiles, errors by kind, and the per-IP share
of dispatches with its fairness spread, measured while every address still
had work waiting (halfway through the load) and over the whole run.
Exits 1 if anything acknowledged was lost, 0 otherwise. Bounded: every wait
has a timeout and the load stops after ``--max-seconds``.

    python scripts/load_cluster.py                           # 200,000 requests, 1,000 addresses
    python scripts/load_cluster.py --requests 3000 --ips 100 # a short run (what CI runs)
    python scripts/load_cluster.py --store mysql://root@127.0.0.1/loadtest --json
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from protocol import AdminRequest, StatsRequest  # noqa: E402
from protocol.client import BrokerClient, BrokerUnavailable  # noqa: E402
from store import open_store  # noqa: E402

_PAGE = """<!doctype html><html><head><title>{name} - hardware since 1990</title>
<meta property="og:site_name" content="{name}"></head><body>
<nav><a href="/">Home</a> <a href="/products">Products</a> <a href="/cart">Cart</a>
<a href="/contact">Contact us</a></nav><h1>{name}</h1>
<div class="product"><h2>Hammer</h2><span class="price">$19.99</span>
<form action="/cart/add" method="post"><button>Add to cart</button></form></div>
<address>{name} Inc., 120 Main Street, Springfield, IL 62701, USA</address>
<footer>&copy; 2026 {name} Inc.</footer></body></html>"""


class _Site(http.server.BaseHTTPRequestHandler):
    """Every site, every page, at once: the raters' fetches cost nothing."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        host = (self.headers.get("Host") or "site").split(":")[0]
        name = host.removeprefix("www.").split(".")[0].capitalize()
        body = _PAGE.format(name=name).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ip(n: int) -> str:
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


def _domain(ip_n: int, k: int) -> str:
    return f"lc{ip_n}x{k}.com"


class _Proc:
    def __init__(self, name: str, args: list[str], logdir: str, ready: str, timeout: float = 60) -> None:
        self.name = name
        self.log_path = os.path.join(logdir, f"{name}.log")
        self._log = open(self.log_path, "ab")
        env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), PYTHONUNBUFFERED="1")
        self.popen = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                                      start_new_session=True)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if ready.encode() in open(self.log_path, "rb").read():
                return
            if self.popen.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not start: {open(self.log_path, 'rb').read()[-2000:].decode(errors='replace')}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self._log.close()


class Cluster:
    def __init__(self, store: str, workers: int, pool: list[str], workdir: str, max_per_ip: int) -> None:
        self.procs: list[_Proc] = []
        self.site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
        self.site.daemon_threads = True
        threading.Thread(target=self.site.serve_forever, daemon=True).start()
        hosts = os.path.join(workdir, "hosts")
        with open(hosts, "w") as f:
            for d in pool:
                f.write(f"127.0.0.1 {d} www.{d}\n")
        cport, rport, self.http_port = _free_port(), _free_port(), _free_port()
        self.clients = f"tcp://127.0.0.1:{cport}"
        py = sys.executable
        try:
            self.procs.append(_Proc("broker", [py, "-m", "broker.cli", "--store", store, "--bind-clients", self.clients,
                                               "--bind-raters", f"tcp://127.0.0.1:{rport}",
                                               "--max-per-ip", str(max_per_ip), "--log-level", "WARNING"],
                                    workdir, "broker listening"))
            self.procs.append(_Proc("raterd", [py, "-m", "raterd.cli", "--broker", f"tcp://127.0.0.1:{rport}",
                                               "--workers", str(workers), "--max-jobs", "0", "--nice", "0",
                                               "--hosts", hosts, "--http-port", str(self.site.server_port),
                                               "--https-port", str(_free_port()), "--gleif-url", "",
                                               "--deadline", "20"],
                                    workdir, "registered with the broker"))
            self.procs.append(_Proc("frontend", [py, "-m", "frontend.cli", "--listen", f"127.0.0.1:{self.http_port}",
                                                 "--broker", self.clients, "--store", store,
                                                 "--log-level", "WARNING"],
                                    workdir, "frontend listening on"))
        except BaseException:
            self.stop()
            raise

    def admin(self, action: str, args: dict) -> dict:
        with BrokerClient(self.clients, timeout=10) as c:
            return c.call(lambda i: AdminRequest(req_id=i, action=action, args=args)).data

    def stats(self) -> dict:
        with BrokerClient(self.clients, timeout=10) as c:
            return c.call(lambda i: StatsRequest(req_id=i, recent=0)).stats

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.stop()
        self.site.shutdown()


def _spread(counts: dict[str, int], ips: list[str]) -> dict:
    """Per-IP dispatch counts against an equal share (every address has equal demand here).

    DRR serves one job per waiting IP per round, so counts differ by at most
    about one job: ``max_dev_jobs`` shows that; the percentages depend on how
    many jobs each IP had.
    """
    values = [counts.get(ip, 0) for ip in ips]
    mean = statistics.fmean(values) if values else 0.0
    if not mean:
        return {"mean": 0.0, "min": 0, "max": 0, "max_dev_jobs": 0.0, "spread_pct": 0.0, "within_5pct": 0.0}
    within = sum(abs(v - mean) <= 0.05 * mean for v in values) / len(values)
    return {"mean": round(mean, 2), "min": min(values), "max": max(values),
            "max_dev_jobs": round(max(abs(v - mean) for v in values), 2),
            "spread_pct": round(100 * (max(values) - min(values)) / mean, 1),
            "within_5pct": round(100 * within, 1)}


def run(args: argparse.Namespace) -> dict:
    ips = [_ip(n) for n in range(args.ips)]
    pool = [_domain(n, k) for n in range(args.ips) for k in range(args.domains_per_ip)]
    with tempfile.TemporaryDirectory(prefix="load-cluster-") as workdir:
        store = args.store or f"sqlite:///{os.path.join(workdir, 'load.db')}"
        with open_store(store) as s:
            s.migrate()
        cluster = Cluster(store, args.workers, pool, workdir, args.max_per_ip)
        try:
            return _drive(args, cluster, ips, store)
        finally:
            cluster.stop()


def _drive(args: argparse.Namespace, cluster: Cluster, ips: list[str], store: str) -> dict:
    work: queue.SimpleQueue = queue.SimpleQueue()
    # Round-robin over the addresses, each asking for its own domains in turn.
    for n in range(args.requests):
        work.put(n)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    acked: set[str] = set()
    lock = threading.Lock()
    done = [0]
    deadline = time.monotonic() + args.max_seconds

    def worker() -> None:
        while time.monotonic() < deadline:
            try:
                n = work.get_nowait()
            except queue.Empty:
                return
            ip_n = n % len(ips)
            k = (n // len(ips)) % args.domains_per_ip
            domain = _domain(ip_n, k)
            query = urllib.parse.urlencode({"url": domain, "format": "json"})
            start = time.perf_counter()
            kind = None
            try:
                conn = http.client.HTTPConnection("127.0.0.1", cluster.http_port, timeout=30,
                                                  source_address=(ips[ip_n], 0))
                try:
                    conn.request("GET", f"/api/v3/rate?{query}")
                    resp = conn.getresponse()
                    body = resp.read()
                finally:
                    conn.close()
                if resp.status != 200:
                    kind = f"HTTP {resp.status}"
                else:
                    item = json.loads(body)[0]
                    if item.get("rating") == "W" and str(item.get("status")) == "202":
                        with lock:
                            acked.add(domain)
            except OSError as e:
                kind = type(e).__name__
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if kind:
                    errors[kind] = errors.get(kind, 0) + 1
                done[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    # The halfway snapshot: per-IP dispatches when half of all the domains
    # have been dispatched, i.e. while most addresses still have work waiting.
    half = len(ips) * args.domains_per_ip // 2
    snapshot_mid: dict[str, int] = {}

    def poll_halfway() -> None:
        nonlocal snapshot_mid
        if snapshot_mid:
            return
        try:
            counts = cluster.admin("dispatches", {})["by_ip"]
        except BrokerUnavailable:
            return
        if sum(counts.values()) >= half:
            snapshot_mid = counts

    while any(t.is_alive() for t in threads):
        poll_halfway()
        time.sleep(0.2)
    for t in threads:
        t.join(1)
    wall = time.perf_counter() - started
    # Drain: every acknowledged job rated and committed (bounded).
    drain_end = time.monotonic() + args.drain_seconds
    st = {}
    while time.monotonic() < drain_end:
        poll_halfway()
        st = cluster.stats()
        if st["totals"]["live"] == 0 and st["journal"]["backlog"] == 0 and st["journal"]["unacked_batches"] == 0:
            break
        time.sleep(0.5)
    whole = cluster.admin("dispatches", {})["by_ip"]
    with open_store(store) as s:
        rated = set(s.lookup_ratings(sorted(acked))) if acked else set()
    lost = sorted(acked - rated)
    lat = sorted(latencies)

    def pct(p: float) -> float:
        return round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else 0.0

    return {
        "requests": len(latencies), "ips": len(ips), "seconds": round(wall, 1),
        "requests_per_s": round(len(latencies) / wall, 1) if wall else 0.0,
        "latency_ms": {"p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": pct(1.0)},
        "errors": errors, "acknowledged": len(acked), "rated": len(rated), "lost": len(lost),
        "lost_examples": lost[:5], "drained": bool(st) and st["totals"]["live"] == 0,
        "dispatch_share_halfway": _spread(snapshot_mid, ips),
        "dispatch_share_whole_run": _spread(whole, ips),
        "completed": st.get("counters", {}).get("completed", 0) if st else 0,
    }


def _table(r: dict) -> str:
    rows = [("requests", f"{r['requests']} from {r['ips']} addresses in {r['seconds']} s"),
            ("throughput", f"{r['requests_per_s']} requests/s"),
            ("latency ms", "  ".join(f"{k} {v}" for k, v in r["latency_ms"].items())),
            ("errors", ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items())) or "none"),
            ("acknowledged", str(r["acknowledged"])), ("rated", str(r["rated"])), ("lost", str(r["lost"]))]
    for label, key in (("dispatch share, halfway", "dispatch_share_halfway"),
                       ("dispatch share, whole run", "dispatch_share_whole_run")):
        d = r[key]
        rows.append((label, f"mean {d['mean']}/IP, min {d['min']}, max {d['max']} (at most {d['max_dev_jobs']} "
                            f"jobs from the mean), spread {d['spread_pct']} %, "
                            f"{d['within_5pct']} % of IPs within 5 % of the mean"))
    width = max(len(a) for a, _ in rows)
    return "\n".join(f"{a.ljust(width)}  {b}" for a, b in rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=200_000, help="API requests in all (default %(default)s)")
    p.add_argument("--ips", type=int, default=1000, help="client source addresses, 127.0.x.y (default %(default)s)")
    p.add_argument("--domains-per-ip", type=int, default=3, help="distinct domains each address asks for")
    p.add_argument("--concurrency", type=int, default=32, help="requests in flight at once (default %(default)s)")
    p.add_argument("--workers", type=int, default=2, help="rater worker processes (default %(default)s)")
    p.add_argument("--max-per-ip", type=int, default=100, help="the broker's per-IP cap (default %(default)s)")
    p.add_argument("--store", default="", help="store URL (default: SQLite in a temporary directory)")
    p.add_argument("--max-seconds", type=float, default=900, help="stop sending after this long")
    p.add_argument("--drain-seconds", type=float, default=300, help="longest wait for the broker to drain")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = p.parse_args(argv)
    if not 1 <= args.ips <= 250 * 250:
        p.error("--ips must be between 1 and 62500")
    result = run(args)
    print(json.dumps(result) if args.json else _table(result), flush=True)
    return 1 if result["lost"] or not result["drained"] else 0


if __name__ == "__main__":
    sys.exit(main())
