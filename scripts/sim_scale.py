#!/usr/bin/env python3
"""Scale simulation: one broker, thousands of heartbeating rater connections, many client IPs.

    python scripts/sim_scale.py                      # 2,500 raters, 135 jobs/s, 120 s
    python scripts/sim_scale.py --quick              # the same scale for ~30 s
    python scripts/sim_scale.py --raters 2000 --rate 120 --json

The service re-rates ~350 M registered domains a month: 135 jobs/s.  A real
rating takes ~15 s, so by Little's law ~2,025 raters are busy at any moment;
2,500 leave headroom.  This runs that shape on one machine, without fetching
anything:

* **the broker**: a real ``sitetruth-broker`` process on SQLite in a temp
  directory (or, with ``--mysql URL``, on a scratch database of that server,
  the production back end), exactly as deployed apart from the store;
* **the raters**: ``--raters`` worker slots spread over ``--processes``
  processes of ``scripts/_lean_rater.py``.  With ``--slots 1`` (the default)
  each is its own connection, as raterd workers are by default (READY,
  HEARTBEAT every second both ways, JOB, PULSEs, RESULT after ``--work``
  seconds); with ``--slots N`` the slots are grouped into connections of N,
  as ``sitetruth-raterd --node-link`` registers a node of N workers, and
  each such connection passes its jobs' progress on as the link does (the
  latest of every job, in one PULSE, at most every 5 s);
* **the clients**: this process sends RATE requests of one domain each on
  the broker's client socket, Poisson arrivals at ``--rate`` jobs/s, each
  from one of ``--clients`` client IPs (``client_ip`` set as the frontend
  sets it).

First an idle phase (raters registered and heartbeating, no work), then the
load phase.  Printed: dispatch latency p50/p99 (RATE sent -> JOB received by
a rater, carried in the domain name so no clock but the machine's is
needed), broker CPU (% of one core, all threads, from ``/proc``) and RSS in
each phase, heartbeat traffic (messages/s each way), queue depth and busy
raters over time (the broker's STATS, every ``--sample`` seconds; each such
call lists every rater, and its cost is part of the broker's CPU), and the
simulator's own CPU, so the broker's share of any delay is clear: all of
it shares the same cores.  For the same reason a bare pyzmq two-hop chain
(client -> relay process -> worker process, ``scripts/_zmq_chain.py``) is
pinged alongside every 4th request: its latency is the machine's floor at
the same moments, and whatever the broker adds is the difference.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import resource
import statistics
import struct
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import zmq  # noqa: E402
from _bench_common import machine  # noqa: E402
from _lean_rater import raise_fd_limit  # noqa: E402

_STAMP = struct.Struct(">d")

from protocol import RateRequest, StatsRequest, decode  # noqa: E402
from protocol.client import BrokerClient  # noqa: E402
from protocol.wire import send_frames  # noqa: E402
from store import open_store  # noqa: E402
from store.scratch import scratch_store_url  # noqa: E402
from tests.support.processes import Proc, free_port, start_broker_process  # noqa: E402


class _Tmp:
    def __init__(self, path: str) -> None:
        self.path = path

    def __truediv__(self, name: str) -> str:
        return os.path.join(self.path, name)


def _proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def _self_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


class Feeder:
    """RATE requests at a steady Poisson rate from many client IPs, replies drained as they come."""

    def __init__(self, ctx: zmq.Context, endpoint: str, rate: float, clients: int, seed: int = 1,
                 floor_endpoint: str | None = None) -> None:
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.rate = rate
        self.rng = random.Random(seed)
        self.ips = [f"10.{n // 62500 % 250}.{n // 250 % 250}.{n % 250 + 1}" for n in range(clients)]
        self.sent = 0
        self.replies: dict[str, int] = {}
        # The machine's floor, measured at the same moments: every 4th RATE is
        # accompanied by a ping through a bare pyzmq two-hop chain
        # (scripts/_zmq_chain.py), so a delay that shows up there too is the
        # machine's (CPU contention), not the broker's.
        self.floor = None
        self.floor_ms: list[float] = []
        if floor_endpoint:
            self.floor = ctx.socket(zmq.DEALER)
            self.floor.setsockopt(zmq.LINGER, 0)
            self.floor.connect(floor_endpoint)

    def run(self, seconds: float, on_tick, tick: float) -> None:
        """Send for *seconds*; call ``on_tick(now)`` every *tick* seconds (sampling)."""
        start = time.monotonic()
        end = start + seconds
        due = start
        next_tick = start
        while True:
            now = time.monotonic()
            if now >= end:
                return
            if now >= next_tick:
                on_tick(now)
                next_tick += tick
            while due <= now:
                self._send()
                due += self.rng.expovariate(self.rate)
            self._drain()
            wait = min(due, next_tick, end) - time.monotonic()
            if wait > 0 and self.sock.poll(math.ceil(wait * 1000)):      # pyzmq truncates: round up, never spin
                self._drain()

    def settle(self, timeout: float) -> None:
        """Wait (bounded) for the answers to requests still in flight."""
        end = time.monotonic() + timeout
        while sum(self.replies.values()) - self.replies.get("send_blocked", 0) < self.sent:
            left = end - time.monotonic()
            if left <= 0:
                return
            if self.sock.poll(min(left, 0.1) * 1000):
                self._drain()

    def _send(self) -> None:
        self.sent += 1
        if self.floor is not None and self.sent % 4 == 0:
            try:
                self.floor.send(_STAMP.pack(time.time()), zmq.NOBLOCK)
            except zmq.Again:
                pass
        domain = f"j{self.sent}-{int(time.time() * 1e6)}.com"
        msg = RateRequest(req_id=self.sent, client_ip=self.rng.choice(self.ips), priority=1, domains=(domain,))
        try:
            send_frames(self.sock, msg.to_frames(), zmq.NOBLOCK)
        except zmq.Again:
            self.replies["send_blocked"] = self.replies.get("send_blocked", 0) + 1

    def _drain(self) -> None:
        while self.floor is not None:
            try:
                reply = self.floor.recv(zmq.NOBLOCK)
            except zmq.Again:
                break
            if len(reply) == 16:
                sent, got = _STAMP.unpack(reply[:8])[0], _STAMP.unpack(reply[8:])[0]
                self.floor_ms.append((got - sent) * 1000)
        while True:
            try:
                frames = self.sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                kind = type(decode(frames)).__name__
            except Exception:
                kind = "malformed"
            self.replies[kind] = self.replies.get(kind, 0) + 1


def simulate(args) -> dict:
    limit = raise_fd_limit(args.raters * 2 + 2048)  # the broker inherits it: one TCP socket per rater
    if limit < args.raters + 256:
        raise SystemExit(f"open-files limit {limit} is too low for {args.raters} rater connections")
    total = args.seconds
    idle_s = min(10.0, max(3.0, 0.15 * total))
    load_s = total - idle_s
    out: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
                 "raters": args.raters, "slots_per_connection": args.slots, "commit_delay": args.commit_delay,
                 "progress_every": (args.progress_every if args.progress_every is not None
                                    else 5.0 if args.slots > 1 else 0.0),
                 "progress_separate": args.progress_separate,
                 "processes": args.processes, "rate": args.rate, "clients": args.clients,
                 "work_s": args.work, "idle_s": idle_s, "load_s": load_s, "fd_limit": limit}
    with tempfile.TemporaryDirectory() as d, contextlib.ExitStack() as scratch:
        tmp = _Tmp(d)
        if args.mysql:
            url = scratch.enter_context(scratch_store_url("mysql", mysql_url=args.mysql, prefix="sim_scale"))
        else:
            url = f"sqlite:///{tmp / 'sim.db'}"
        out["store"] = "MariaDB" if args.mysql else "SQLite"
        with open_store(url) as s:
            s.migrate()
        cport, rport = free_port(), free_port()
        broker = start_broker_process(url, tmp, cport, rport, "--log-level", "WARNING", "--max-per-ip", "1000",
                                      "--commit-delay", str(args.commit_delay), name="broker")
        pid = broker.popen.pid
        raters: list[Proc] = []
        front, back = free_port(), free_port()
        chain = os.path.join(ROOT, "scripts", "_zmq_chain.py")
        floor_procs = [
            Proc([sys.executable, chain, "relay", "--front", f"tcp://127.0.0.1:{front}",
                  "--back", f"tcp://127.0.0.1:{back}", "--seconds", str(total + 120)], tmp / "chain-relay.log"),
            Proc([sys.executable, chain, "worker", "--connect", f"tcp://127.0.0.1:{back}",
                  "--seconds", str(total + 120)], tmp / "chain-worker.log")]
        ctx = zmq.Context()
        client = BrokerClient(f"tcp://127.0.0.1:{cport}", timeout=30, context=ctx)
        feeder = None
        try:
            conns = -(-args.raters // args.slots)
            progress_every = out["progress_every"]
            per = [conns // args.processes + (1 if i < conns % args.processes else 0)
                   for i in range(args.processes)]
            bound = total + 60  # every rater process ends on its own even if this one dies
            for i, n in enumerate(per):
                raters.append(Proc([sys.executable, os.path.join(ROOT, "scripts", "_lean_rater.py"),
                                    "--broker", f"tcp://127.0.0.1:{rport}", "--name", f"sim{i}",
                                    "--connections", str(n), "--work", str(args.work), "--pulses", str(args.pulses),
                                    "--heartbeat", str(args.heartbeat), "--seconds", str(bound),
                                    "--capacity", str(args.slots), "--progress-every", str(progress_every),
                                    *(["--progress-separate"] if args.progress_separate else []),
                                    "--stats", tmp / f"sim{i}.json"], tmp / f"sim{i}.log"))

            def stats() -> dict:
                return client.call(lambda i: StatsRequest(req_id=i, recent=0)).stats

            t_reg = time.monotonic()
            end = t_reg + 60
            while stats()["totals"]["raters"] < conns:
                if time.monotonic() > end:
                    raise SystemExit(f"only {stats()['totals']['raters']} of {conns} rater connections registered in 60 s")
                time.sleep(0.5)
            out["registration_s"] = time.monotonic() - t_reg
            log = args.log

            log(f"{args.raters} raters registered in {out['registration_s']:.1f} s; idle {idle_s:.0f} s ...")
            time.sleep(1.0)
            cpu0, t0 = _proc_cpu(pid), time.monotonic()
            time.sleep(idle_s)
            cpu1, t1 = _proc_cpu(pid), time.monotonic()
            out["broker_idle"] = {"cpu_pct": 100 * (cpu1 - cpu0) / (t1 - t0), "rss_mb": _rss_mb(pid)}

            log(f"load: {args.rate} jobs/s from {args.clients:,} client IPs for {load_s:.0f} s ...")
            samples: list[dict] = []
            last = {"t": t1, "cpu": cpu1}

            stalls: list[tuple[float, float]] = []  # wall-clock spans of the sampling STATS calls

            def sample(now: float) -> None:
                m0, w0 = time.monotonic(), time.time()
                st = stats()
                stalls.append((w0, time.time()))
                cpu = _proc_cpu(pid)
                t = time.monotonic()
                samples.append({"t": round(t - t1, 1), "queued": st["totals"]["queued"],
                                "in_flight": st["totals"]["in_flight"], "free_slots": st["totals"]["free_slots"],
                                "raters": st["totals"]["raters"],
                                "broker_cpu_pct": round(100 * (cpu - last["cpu"]) / max(1e-9, t - last["t"]), 1),
                                "rss_mb": round(_rss_mb(pid), 1), "stats_ms": round((t - m0) * 1000, 1)})
                last.update(t=t, cpu=cpu)

            feeder = Feeder(ctx, f"tcp://127.0.0.1:{cport}", args.rate, args.clients,
                            floor_endpoint=f"tcp://127.0.0.1:{front}")
            sim_cpu0 = _self_cpu()
            cpu_l0 = _proc_cpu(pid)
            feeder.run(load_s, sample, args.sample)
            cpu_l1, t2 = _proc_cpu(pid), time.monotonic()
            sim_cpu = _self_cpu() - sim_cpu0
            feeder.settle(5.0)
            out["broker_load"] = {"cpu_pct": 100 * (cpu_l1 - cpu_l0) / (t2 - t1), "rss_mb": _rss_mb(pid),
                                  "rss_peak_mb": max([s["rss_mb"] for s in samples] + [_rss_mb(pid)])}
            out["samples"] = samples
            out["stats_spans"] = stalls
            out["requests_sent"] = feeder.sent
            out["replies"] = feeder.replies
            fl = feeder.floor_ms
            out["two_hop_floor_ms"] = {"n": len(fl), "p50": _percentile(fl, 0.5), "p99": _percentile(fl, 0.99),
                                       "max": max(fl) if fl else float("nan")}
            out["offered_rate"] = feeder.sent / load_s
            final = stats()
            out["completed"] = final["counters"].get("completed", 0)
        finally:
            client.close()
            if feeder is not None:
                feeder.sock.close(0)
                if feeder.floor is not None:
                    feeder.floor.close(0)
            for fp in floor_procs:
                fp.kill()
            for p in raters:
                if p.popen.poll() is None:
                    p.popen.terminate()
            for p in raters:
                try:
                    p.popen.wait(20)
                except Exception:
                    p.kill()
            broker.stop()
            ctx.term()
        rater_stats = []
        for i in range(len(raters)):
            try:
                with open(tmp / f"sim{i}.json") as f:
                    rater_stats.append(json.load(f))
            except (OSError, ValueError):
                pass
    wall = total
    lat = [x for r in rater_stats for x in r["latencies_ms"]]
    # The same latencies without the requests sent while a sampling STATS call
    # was on its way or being answered (the broker's loop is busy with it):
    # what a deployment that polls STATS rarely would see.
    spans = out.pop("stats_spans", [])
    quiet = [x for r in rater_stats for x, t in zip(r["latencies_ms"], r["sent_at"])
             if not any(a - 0.01 <= t <= b for a, b in spans)]
    sent = {k: sum(r["sent"].get(k, 0) for r in rater_stats) for k in ("HEARTBEAT", "PULSE", "RESULT", "READY")}
    got = {k: sum(r["received"].get(k, 0) for r in rater_stats) for k in ("HEARTBEAT", "JOB", "DISCONNECT")}
    run_s = max((r["wall_s"] for r in rater_stats), default=wall)
    out["dispatch_ms"] = {"n": len(lat), "p50": _percentile(lat, 0.5), "p99": _percentile(lat, 0.99),
                          "max": max(lat) if lat else float("nan"),
                          "mean": statistics.fmean(lat) if lat else float("nan"),
                          "p50_outside_stats": _percentile(quiet, 0.5), "p99_outside_stats": _percentile(quiet, 0.99),
                          "n_outside_stats": len(quiet)}
    out["heartbeats_per_s"] = {"raters_to_broker": sent["HEARTBEAT"] / run_s,
                               "broker_to_raters": got["HEARTBEAT"] / run_s}
    out["messages_per_s"] = {"to_broker": sum(sent.values()) / run_s, "from_broker": sum(got.values()) / run_s}
    out["rater_messages"] = {"sent": sent, "received": got}
    sim_cpu_raters = sum(r["cpu_s"] for r in rater_stats)
    out["simulator_cpu_pct"] = {"raters": 100 * sim_cpu_raters / run_s, "clients_and_sampling": 100 * sim_cpu / load_s}
    out["targets"] = {"p99_dispatch_5ms": out["dispatch_ms"]["p99"] <= 5.0,
                      "broker_cpu_25pct_under_load": out["broker_load"]["cpu_pct"] <= 25.0}
    return out



def print_report(r: dict) -> None:
    print(f"\nScale simulation, {r['date']}, {r['machine']}")
    slots = r.get("slots_per_connection", 1)
    conns = -(-r["raters"] // slots)
    shape = (f"{r['raters']:,} rater connections" if slots == 1 else
             f"{r['raters']:,} rater slots over {conns:,} node connections of {slots}")
    if r.get("progress_every"):
        how = "a PULSE per job, each on its own timer" if r.get("progress_separate") else "all jobs in one PULSE"
        shape += f", progress every {r['progress_every']:g} s ({how})"
    print(f"{shape} in {r['processes']} processes, store {r.get('store', 'SQLite')}, {r['work_s']:g} s per rating, "
          f"{r['rate']:g} jobs/s offered ({r['offered_rate']:.1f} sent) from {r['clients']:,} client IPs; "
          f"idle {r['idle_s']:.0f} s, load {r['load_s']:.0f} s; registration took {r['registration_s']:.1f} s\n")
    d = r["dispatch_ms"]
    print(f"{'dispatch latency (RATE sent -> JOB at rater)':<48} p50 {d['p50']:.2f} ms   p99 {d['p99']:.2f} ms   "
          f"max {d['max']:.1f} ms   ({d['n']:,} jobs)")
    print(f"{'  the same, requests sent outside STATS calls':<48} p50 {d['p50_outside_stats']:.2f} ms   "
          f"p99 {d['p99_outside_stats']:.2f} ms   ({d['n_outside_stats']:,} jobs)")
    f = r["two_hop_floor_ms"]
    print(f"{'  bare two-hop chain at the same moments':<48} p50 {f['p50']:.2f} ms   p99 {f['p99']:.2f} ms   "
          f"max {f['max']:.1f} ms   ({f['n']:,} pings; the machine's floor)")
    print(f"{'broker CPU, idle (heartbeats only)':<48} {r['broker_idle']['cpu_pct']:5.1f} % of one core   "
          f"RSS {r['broker_idle']['rss_mb']:.0f} MB")
    print(f"{'broker CPU, under load':<48} {r['broker_load']['cpu_pct']:5.1f} % of one core   "
          f"RSS {r['broker_load']['rss_mb']:.0f} MB (peak {r['broker_load']['rss_peak_mb']:.0f} MB)")
    hb, m = r["heartbeats_per_s"], r["messages_per_s"]
    print(f"{'heartbeat traffic':<48} {hb['raters_to_broker']:,.0f}/s raters -> broker, "
          f"{hb['broker_to_raters']:,.0f}/s broker -> raters")
    print(f"{'all rater traffic':<48} {m['to_broker']:,.0f} msg/s to the broker, {m['from_broker']:,.0f} msg/s from it")
    s = r["simulator_cpu_pct"]
    print(f"{'simulator CPU (same cores)':<48} raters {s['raters']:.0f} %, clients + sampling "
          f"{s['clients_and_sampling']:.0f} % of one core")
    print(f"completed ratings: {r['completed']:,}; replies: "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(r["replies"].items())))
    print("\nqueue over time (broker STATS):")
    print(f"{'t s':>6} {'queued':>7} {'rating':>7} {'free':>6} {'raters':>7} {'CPU %':>6} {'RSS MB':>7} "
          f"{'STATS ms':>9}")
    for x in r["samples"]:
        print(f"{x['t']:>6.0f} {x['queued']:>7} {x['in_flight']:>7} {x['free_slots']:>6} {x['raters']:>7} "
              f"{x['broker_cpu_pct']:>6.1f} {x['rss_mb']:>7.1f} {x['stats_ms']:>9.1f}")
    print("(STATS ms: round trip of the sampling STATS call, which lists every rater and holds the broker's loop)")
    print("targets: " + ", ".join(f"{k}={'met' if v else 'MISSED'}" for k, v in r["targets"].items()))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--raters", type=int, default=2500, help="rater connections (default %(default)s)")
    p.add_argument("--slots", type=int, default=1,
                   help="jobs per connection: 1 is a connection per raterd worker; N is one connection per "
                        "node of N workers (default %(default)s)")
    p.add_argument("--progress-every", type=float, metavar="S",
                   help="a connection sends its jobs' progress at most every S s, all in one PULSE (default: 5 "
                        "with --slots > 1, as --node-link does; 0 otherwise, as a lone worker sends each)")
    p.add_argument("--progress-separate", action="store_true",
                   help="with --progress-every: a PULSE of its own per job, at most every S s per job (the node "
                        "link before it sent them together), for comparison")
    p.add_argument("--processes", type=int, default=4, help="processes the connections are spread over")
    p.add_argument("--rate", type=float, default=135.0, help="jobs per second offered (default %(default)s)")
    p.add_argument("--clients", type=int, default=10_000, help="distinct client IPs (default %(default)s)")
    p.add_argument("--work", type=float, default=15.0, help="seconds per simulated rating (default %(default)s)")
    p.add_argument("--pulses", type=int, default=3, help="PULSEs per rating (default %(default)s)")
    p.add_argument("--heartbeat", type=float, default=1.0, help="rater heartbeat interval, as raterd's")
    p.add_argument("--seconds", type=float, help="idle + load phases, bounded (default 120, 30 with --quick)")
    p.add_argument("--quick", action="store_true", help="a ~30 s run at the same scale")
    p.add_argument("--sample", type=float, default=5.0, help="seconds between STATS samples (default %(default)s)")
    p.add_argument("--mysql", metavar="URL", default="",
                   help="run the broker on a scratch database of this MySQL/MariaDB server (the production "
                        "back end: the server, not the broker, then pays for each commit's fsync); "
                        "default a SQLite file")
    p.add_argument("--commit-delay", type=float, default=0.0, metavar="S",
                   help="the broker's --commit-delay (default %(default)s: commit at once)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    args = p.parse_args()
    if args.seconds is None:
        args.seconds = 30.0 if args.quick else 120.0
    if args.raters < args.processes or args.seconds < 10:
        p.error("need at least one rater per process and --seconds >= 10")
    args.log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
    result = simulate(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
