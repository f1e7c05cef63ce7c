"""Helpers shared by the benchmarks (scripts/bench_broker.py and its parts, bench_codec.py, sim_scale.py)."""

from __future__ import annotations

import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "scripts")
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from store import parse_store_url  # noqa: E402
from tests.support.processes import Proc  # noqa: E402


class Tmp:
    """A temp directory path that joins with ``/`` (as pytest's tmp_path does)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __truediv__(self, name: str):
        return os.path.join(self.path, name)


def start_lean_rater(endpoint: str, name: str, tmp, job_log: str | None = None, seconds: float = 600) -> Proc:
    """One no-op rater process (one connection), as lean as a rater can be."""
    args = [sys.executable, os.path.join(SCRIPTS, "_lean_rater.py"), "--broker", endpoint, "--name", name,
            "--seconds", str(seconds)]
    if job_log:
        args += ["--job-log", job_log]
    return Proc(args, str(tmp / f"rater-{name}.log"))


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) a process and its children have used so far.

    Children count (those still running, and those that ended and were
    waited for): a design that moves work into a child process, as the
    journal-in-a-process trial did, must not look cheaper for it.
    """
    ticks = sum(int(x) for x in _stat_fields(f"/proc/{pid}/stat")[11:15])     # utime, stime, cutime, cstime
    seconds = ticks / os.sysconf("SC_CLK_TCK")
    for child in _children(pid):
        try:
            seconds += cpu_seconds(child)
        except FileNotFoundError:
            pass                    # ended just now
    return seconds


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU time a process has used so far, split by thread: its main thread
    (the broker's loop), libzmq's background threads (``ZMQbg/...``: the I/O
    thread that moves bytes between sockets and the kernel) and every other
    thread (the broker's journal). Threads that ended are not counted, so take
    both readings while the same threads run."""
    split = {"loop": 0.0, "zmq_io": 0.0, "other": 0.0}
    tick = os.sysconf("SC_CLK_TCK")
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = _stat_fields(f"/proc/{pid}/task/{task}/stat")
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                name = f.read().strip()
        except FileNotFoundError:
            continue                # ended just now
        part = "loop" if int(task) == pid else "zmq_io" if name.startswith("ZMQbg") else "other"
        split[part] += (int(fields[11]) + int(fields[12])) / tick     # utime, stime
    return split


def _stat_fields(path: str) -> list[str]:
    """The fields of a /proc stat file after the command name: state first, utime at index 11."""
    with open(path) as f:
        return f.read().rsplit(")", 1)[1].split()


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(x) for x in f.read().split()]
    except FileNotFoundError:
        pass
    return kids


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def until(predicate, timeout: float, poll: float = 0.05) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(poll)
    raise TimeoutError("benchmark condition not reached")


def latency_figures(lat: dict[str, list[float]]) -> dict[str, float]:
    """p50/p99 of the "idle" series (random arrivals) plus the p50 of back-to-back requests."""
    return {"p50_ms": statistics.median(lat["idle"]), "p99_ms": percentile(lat["idle"], 0.99),
            "p50_hot_ms": statistics.median(lat["hot"])}


def mysql_connect(url: str):
    import MySQLdb

    u = parse_store_url(url)
    kw = {"user": u.user or "root", "passwd": u.password or "", "db": u.database, "autocommit": True}
    if u.unix_socket:
        kw["unix_socket"] = u.unix_socket
    else:
        kw["host"] = u.host or "127.0.0.1"
        kw["port"] = u.port or 3306
    return MySQLdb.connect(**kw)


def machine() -> str:
    """The line every benchmark prints under its date: CPU model, cores, Python."""
    import platform

    return f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.machine()
