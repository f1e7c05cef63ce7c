"""A whole cluster of real processes on loopback, for the load test.

One fixture web server answers for every shop name (it keys its pages by the
Host header, :mod:`tests.load.sites`); ``sitetruth-raterd`` reaches it
through a hosts file mapping every shop name of the run to 127.0.0.1 and
``--http-port``, so each rating is a real rating of a distinct site that
answers at once. The broker, the rater node and the frontend are the real
entry points (``python -m broker.cli`` and so on) with their own logs in the
run's directory; the store is SQLite in that directory unless a MySQL
server is named, in which case the run gets a scratch database of its own.

The store records every rating write (the fault suite's triggers), so the
final count can tell a rating written twice from one written once.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from protocol.client import BrokerClient
from store.scratch import scratch_store_url
from tests.faults.harness import prepare_store
from tests.support.processes import Proc, free_port, start_broker_process
from tests.support.waiting import stats_of, wait_for_stats

__all__ = ["ClusterRig", "RigSettings", "store_for_run"]

# Names per hosts-file line: hosts(5) allows many aliases, but short lines
# keep the file readable when a run fails and someone looks at it.
_NAMES_PER_LINE = 50


@dataclass(frozen=True)
class RigSettings:
    workers: int = 2                 # raterd worker processes
    frontend_threads: int = 16       # the frontend's worker threads (its default)
    max_per_ip: int = 100            # the broker's per-IP cap (its default)
    broker_timeout: float = 2.0      # the frontend's wait for a broker reply (its default)
    extra_broker: tuple[str, ...] = ()


@contextlib.contextmanager
def store_for_run(mysql_url: str | None, directory: str) -> Iterator[str]:
    """A fresh store for one run: a scratch database on the MySQL server (dropped after the run),
    or ``directory``/load.db (left there, with the logs, for a look after the run)."""
    if mysql_url:
        with scratch_store_url("mysql", mysql_url=mysql_url, prefix="sitetruth_load") as url:
            yield url
        return
    path = os.path.join(os.path.abspath(directory), "load.db")
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path + suffix)
    yield f"sqlite:///{path}"


@dataclass
class ClusterRig:
    """Sites, broker, raterd and frontend processes; ``close()`` kills every one."""

    store_url: str
    workdir: str
    names: Sequence[str]
    settings: RigSettings = field(default_factory=RigSettings)
    procs: list[Proc] = field(default_factory=list)
    http_port: int = 0
    client_port: int = 0
    rater_port: int = 0
    sites_port: int = 0

    @property
    def clients(self) -> str:
        return f"tcp://127.0.0.1:{self.client_port}"

    def _path(self, name: str) -> str:
        return os.path.join(self.workdir, name)

    def _proc(self, args: list[str], log: str, ready: str | None, timeout: float = 30.0) -> Proc:
        proc = Proc(args, self._path(log), ready_text=ready, timeout=timeout)
        self.procs.append(proc)
        return proc

    def start(self) -> None:
        """Start everything and wait until each worker has registered with the broker (bounded)."""
        prepare_store(self.store_url)
        self.sites_port, self.client_port, self.rater_port, self.http_port = (free_port() for _ in range(4))
        hosts = self._path("shops.hosts")
        # The www. names too: raters look at www.<shop> as well, and a name the
        # hosts file lacks goes to the system resolver, which on a machine
        # without DNS answers only after its timeout.
        names = [n for name in self.names for n in (name, "www." + name)]
        with open(hosts, "w", encoding="ascii") as f:
            for i in range(0, len(names), _NAMES_PER_LINE):
                f.write("127.0.0.1 " + " ".join(names[i:i + _NAMES_PER_LINE]) + "\n")
        py = sys.executable
        self._proc([py, "-m", "tests.load.sites", "--port", str(self.sites_port)],
                   "sites.log", "sites listening")
        broker = start_broker_process(self.store_url, pathlib.Path(self.workdir), self.client_port, self.rater_port,
                                      "--max-per-ip", str(self.settings.max_per_ip), *self.settings.extra_broker)
        self.procs.append(broker)
        # DEBUG: each worker logs "job <id>: rating <domain>" as it takes a JOB;
        # those lines are the broker's dispatch order (tests.load.tally.dispatch_log).
        self._proc([py, "-m", "raterd.cli", "--broker", f"tcp://127.0.0.1:{self.rater_port}",
                    "--workers", str(self.settings.workers), "--hosts", hosts,
                    "--http-port", str(self.sites_port), "--https-port", str(free_port()),
                    "--gleif-url", "", "--sources", self._path("no-sources.db"),
                    "--max-jobs", "0", "--node-name", "load", "--log-level", "DEBUG"],
                   "raterd.log", None)
        self._proc([py, "-m", "frontend.cli", "--listen", f"127.0.0.1:{self.http_port}",
                    "--broker", self.clients, "--store", self.store_url,
                    "--threads", str(self.settings.frontend_threads),
                    "--broker-timeout", str(self.settings.broker_timeout), "--log-level", "WARNING"],
                   "frontend.log", "frontend listening on")
        self.stats_wait(lambda s: s["totals"]["raters"] >= self.settings.workers, 60, "every worker registered")

    def stats(self) -> dict:
        with BrokerClient(self.clients, timeout=5) as client:
            return stats_of(client, recent=0)

    def stats_wait(self, predicate, timeout: float, what: str) -> dict:
        with BrokerClient(self.clients, timeout=5) as client:
            return wait_for_stats(client, predicate, timeout, what, interval=0.2)

    def wait_drained(self, timeout: float) -> tuple[bool, dict]:
        """Until no job is live and every write is committed; (drained, last stats) after at most ``timeout``."""
        end = time.monotonic() + timeout
        last: dict = {}
        while True:
            try:
                last = self.stats()
                t, j = last["totals"], last["journal"]
                if t["live"] == 0 and j["backlog"] == 0 and j["unacked_batches"] == 0:
                    return True, last
            except Exception:  # noqa: BLE001 - a broker that does not answer is reported by the caller
                pass
            if time.monotonic() >= end:
                return False, last
            time.sleep(0.25)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds each process (with its live children: raterd's workers) has used so far (Linux)."""
        tick = os.sysconf("SC_CLK_TCK")
        out = {}
        for p in self.procs:
            name = os.path.basename(p.log_path).rsplit(".", 1)[0]
            out[name] = round(sum(_proc_ticks(pid) for pid in _family(p.popen.pid)) / tick, 1)
        return out

    def failed_procs(self) -> list[str]:
        """Processes that exited while they should be running, with the tail of their log."""
        return [f"{p.args[1:3]} exited {p.popen.returncode}: {p.output()[-800:]}"
                for p in self.procs if p.popen.poll() is not None]

    def close(self) -> None:
        for p in reversed(self.procs):
            with contextlib.suppress(Exception):
                p.stop(timeout=10)


def _proc_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])          # utime + stime


def _family(pid: int, depth: int = 3) -> list[int]:
    """``pid`` and its descendants, a few generations deep."""
    out = [pid]
    if depth:
        try:
            with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            kids = []
        for kid in kids:
            out += _family(kid, depth - 1)
    return out
