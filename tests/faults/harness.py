"""Fault-suite harness: a real broker, real rater processes, steady load, and the final count.

Every scenario runs the same way: start a broker process and fake rater
processes on a fresh store, put a steady load of RATE requests on it from
several client IPs (over ZeroMQ, or over HTTP through a frontend), break
something mid-run, let the run drain, then count from the store:

    acknowledged N, rated N, lost 0, rated twice 0

"Rated twice" is measured by triggers on the ratings table that record every
rating written (domain and rated_at): the same rating written again (a
commit retried after a lost connection) counts once, a second rating counts
twice.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

from protocol import JobState, RateReply, RateRequest
from protocol.client import BrokerClient, BrokerUnavailable
from store import open_store
from tests.support.processes import Proc, free_port, start_broker_process, start_fake_rater
from tests.support.waiting import wait_for_stats

__all__ = ["Cluster", "ZmqLoad", "HttpLoad", "prepare_store", "count"]


def _execute(store_url: str, *statements: str) -> None:
    with open_store(store_url) as s:
        def body(cur):
            for sql in statements:
                cur.execute(sql)
        s._run("fault-suite set-up", body, write=True)


def prepare_store(store_url: str) -> None:
    """Migrate, and record every rating write (for the "rated twice" count)."""
    with open_store(store_url) as s:
        s.migrate()
    if store_url.startswith("sqlite"):
        _execute(store_url, "CREATE TABLE rating_writes (domain TEXT, rated_at REAL)",
                 "CREATE TRIGGER rw_ins AFTER INSERT ON ratings BEGIN "
                 "INSERT INTO rating_writes VALUES (NEW.domain, NEW.rated_at); END",
                 "CREATE TRIGGER rw_upd AFTER UPDATE ON ratings BEGIN "
                 "INSERT INTO rating_writes VALUES (NEW.domain, NEW.rated_at); END")
    else:
        _execute(store_url, "CREATE TABLE rating_writes (domain VARCHAR(255), rated_at DOUBLE)",
                 "CREATE TRIGGER rw_ins AFTER INSERT ON ratings FOR EACH ROW "
                 "INSERT INTO rating_writes VALUES (NEW.domain, NEW.rated_at)",
                 "CREATE TRIGGER rw_upd AFTER UPDATE ON ratings FOR EACH ROW "
                 "INSERT INTO rating_writes VALUES (NEW.domain, NEW.rated_at)")


def count(store_url: str, acked: set[str], scenario: str) -> dict[str, int]:
    """The final tally; printed, and returned for the assertions."""
    with open_store(store_url) as s:
        rated = set(s.lookup_ratings(sorted(acked))) if acked else set()
        def body(cur):
            cur.execute("SELECT domain, COUNT(DISTINCT rated_at) FROM rating_writes GROUP BY domain")
            return list(cur.fetchall())
        rows = s._run("count rating writes", body, write=False)
        queued = {j.domain for j in s.load_queue()}
    twice = sorted(d for d, n in rows if n > 1)
    tally = {"acknowledged": len(acked), "rated": len(rated & acked), "lost": len(acked - rated - queued),
             "still_queued": len(acked & queued - rated), "rated_twice": len(twice)}
    print(f"\n[{scenario}] acknowledged {tally['acknowledged']}, rated {tally['rated']}, "
          f"lost {tally['lost']}, rated twice {tally['rated_twice']}"
          + (f"; e.g. twice: {twice[:3]}" if twice else ""), file=sys.stderr)
    return tally


@dataclass
class Cluster:
    """A broker process and its fake rater processes, restartable."""

    store_url: str
    tmp_path: object
    broker_args: tuple[str, ...] = ()
    cport: int = field(default_factory=free_port)
    rport: int = field(default_factory=free_port)
    procs: list[Proc] = field(default_factory=list)
    broker: Proc | None = None
    _n: int = 0

    @property
    def clients(self) -> str:
        return f"tcp://127.0.0.1:{self.cport}"

    @property
    def raters(self) -> str:
        return f"tcp://127.0.0.1:{self.rport}"

    def start_broker(self, env: dict[str, str] | None = None) -> Proc:
        self._n += 1
        self.broker = start_broker_process(self.store_url, self.tmp_path, self.cport, self.rport,
                                           "--max-per-ip", "100000", *self.broker_args,
                                           name=f"broker{self._n}", env=env)
        self.procs.append(self.broker)
        return self.broker

    def start_rater(self, name: str, mode: str = "noop") -> Proc:
        proc = start_fake_rater(self.raters, name, self.tmp_path, mode=mode)
        self.procs.append(proc)
        return proc

    def start_frontend(self, port: int, name: str = "frontend") -> Proc:
        args = [sys.executable, "-m", "frontend.cli", "--listen", f"127.0.0.1:{port}", "--broker", self.clients,
                "--store", self.store_url]
        proc = Proc(args, str(self.tmp_path / f"{name}.log"), ready_text="frontend listening on")
        self.procs.append(proc)
        return proc

    def stats_wait(self, predicate, timeout: float, what: str) -> dict:
        with BrokerClient(self.clients, timeout=5) as client:
            return wait_for_stats(client, predicate, timeout, what, interval=0.1)

    def drain(self, timeout: float = 90) -> dict:
        """Wait until every job is rated and every write committed."""
        return self.stats_wait(lambda s: s["totals"]["live"] == 0 and s["journal"]["backlog"] == 0
                               and s["journal"]["unacked_batches"] == 0, timeout, "the run drained")

    def close(self) -> None:
        for p in self.procs:
            p.kill()


class _Load(threading.Thread):
    """Steady requests from several client IPs, each for domains never asked before."""

    def __init__(self, name: str, ips: int, per_request: int, pace: float, limit_s: float) -> None:
        super().__init__(name=name, daemon=True)
        self.prefix = name
        self.ips = ips
        self.per_request = per_request
        self.pace = pace
        self.limit_s = limit_s
        self.acked: set[str] = set()
        self.outcomes: dict[str, int] = {}
        self._halt = threading.Event()
        self._seq = 0

    def domains(self) -> tuple[str, ...]:
        self._seq += 1
        return tuple(f"{self.prefix}{self._seq}-{k}.com" for k in range(self.per_request))

    def stop(self) -> None:
        self._halt.set()
        self.join(30)

    def _note(self, what: str) -> None:
        self.outcomes[what] = self.outcomes.get(what, 0) + 1

    def run(self) -> None:
        end = time.monotonic() + self.limit_s          # bounded even if nobody stops it
        n = 0
        while not self._halt.is_set() and time.monotonic() < end:
            n += 1
            try:
                self.one(n % self.ips)
            except Exception as e:  # noqa: BLE001 - a refused request is part of the run
                self._note(type(e).__name__)
            time.sleep(self.pace)


class ZmqLoad(_Load):
    """RATE requests straight to the broker's client socket."""

    def __init__(self, endpoint: str, ips: int = 5, per_request: int = 4, pace: float = 0.02,
                 limit_s: float = 120, name: str = "z") -> None:
        super().__init__(name, ips, per_request, pace, limit_s)
        self.endpoint = endpoint
        self._client: BrokerClient | None = None

    def one(self, ip_n: int) -> None:
        if self._client is None:
            self._client = BrokerClient(self.endpoint, timeout=2)
        domains = self.domains()
        try:
            reply = self._client.call(lambda i: RateRequest(req_id=i, client_ip=f"192.0.2.{ip_n + 1}",
                                                            priority=1, domains=domains))
        except BrokerUnavailable:
            self._note("no answer")
            return
        if isinstance(reply, RateReply):
            self.acked.update(i.domain for i in reply.items if i.state in (JobState.QUEUED, JobState.RATING))
            self._note("acknowledged")
        else:
            self._note(type(reply).__name__)

    def run(self) -> None:
        try:
            super().run()
        finally:
            if self._client is not None:
                self._client.close()


class HttpLoad(_Load):
    """API requests through a frontend, each IP a loopback source address of its own."""

    def __init__(self, port: int, ips: int = 5, per_request: int = 4, pace: float = 0.02,
                 limit_s: float = 120, name: str = "h") -> None:
        super().__init__(name, ips, per_request, pace, limit_s)
        self.port = port

    def one(self, ip_n: int) -> None:
        domains = self.domains()
        query = urllib.parse.urlencode([("url", d) for d in domains] + [("format", "json")])
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5,
                                          source_address=(f"127.0.3.{ip_n + 1}", 0))
        try:
            conn.request("GET", f"/api/v3/rate?{query}")
            resp = conn.getresponse()
            body = resp.read()
        except OSError:
            self._note("no answer")
            return
        finally:
            conn.close()
        self._note(str(resp.status))
        if resp.status == 200:
            items = json.loads(body)
            items = items.get("ratings", items) if isinstance(items, dict) else items
            # W with status 202: the broker acknowledged it (the domains are new, so
            # no stored letter can stand in for an acknowledgement).
            self.acked.update(i.get("rated_domain") or i["domain"] for i in items
                              if i.get("rating") == "W" and str(i.get("status")) == "202")

