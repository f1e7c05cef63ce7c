"""Test harness for the raterd process tests: a real broker on loopback, real raterd processes.

Fixtures (import them into a test module to use them)::

    store     a fresh SQLite store URL (MySQL adds nothing to these tests)
    brokers   brokers(store, port=None, **BrokerConfig overrides) -> RunningBroker (in a thread);
              brokers.stop(rb) stops one early (e.g. to restart it on the same port)
    raterd    raterd(endpoint, *flags, env={...}, pipeline=FAKE) -> Raterd (a real
              ``python -m raterd.cli`` process in its own process group; killed with
              its workers at the end of the test if still running);
              raterd.worker(WorkerConfig(...)) -> Raterd (one worker, no supervisor)

Helpers read what a user would look at: the broker's stats (raters, counters,
recent results), /proc (nice values, who is alive) and the store's error log.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from broker import BrokerConfig
from raterd.worker import WorkerConfig
from store import open_store
from store.scratch import scratch_store_url
from tests.support.running_broker import RunningBroker
from tests.support.processes import ROOT

FAKE = "tests.raterd.fake_pipeline:factory"


@pytest.fixture
def store(tmp_path) -> Iterator[str]:
    with scratch_store_url("sqlite", directory=str(tmp_path), prefix="store") as url:
        yield url


class _Brokers:
    def __init__(self) -> None:
        self.running: list[RunningBroker] = []

    def __call__(self, store_url: str, port: int | None = None, **overrides) -> RunningBroker:
        raters = f"tcp://127.0.0.1:{port}" if port else "tcp://127.0.0.1:*"
        config = dataclasses.replace(BrokerConfig(), store=store_url, bind_clients="tcp://127.0.0.1:*",
                                     bind_raters=raters, **overrides)
        rb = RunningBroker(config)
        self.running.append(rb)
        return rb

    def stop(self, rb: RunningBroker) -> None:
        self.running.remove(rb)
        rb.stop()


@pytest.fixture
def brokers() -> Iterator[_Brokers]:
    b = _Brokers()
    yield b
    for rb in list(b.running):
        b.stop(rb)


class Raterd:
    """A running ``sitetruth-raterd`` (supervisor) process; its output goes to a log file."""

    def __init__(self, args: list[str], log_path: str, env: dict[str, str]) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.popen = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                                      start_new_session=True)
        self.pid = self.popen.pid

    def output(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def signal(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout)

    def workers(self) -> list[int]:
        """Pids of the supervisor's live child processes (its workers)."""
        return children_of(self.pid)

    def cleanup(self) -> None:
        """End this process and its workers (its own process group), whatever state they are in."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.pid, signal.SIGKILL)     # stragglers of our own group only
        except (ProcessLookupError, PermissionError):
            pass
        if self.popen.poll() is None:
            self.popen.wait(5)
        self._log.close()


class _Starter:
    def __init__(self, tmp_path) -> None:
        self.tmp_path = tmp_path
        self.started: list[Raterd] = []

    def __call__(self, endpoint: str, *flags: str, env: dict[str, str] | None = None, pipeline: str | None = FAKE,
                 name: str = "raterd") -> Raterd:
        """``sitetruth-raterd --broker endpoint *flags`` (with the fake pipeline unless pipeline=None)."""
        args = [sys.executable, "-m", "raterd.cli", "--broker", endpoint, *flags]
        if pipeline:
            args += ["--pipeline", pipeline]
        return self._start(args, env, name)

    def worker(self, config: WorkerConfig, env: dict[str, str] | None = None, name: str = "worker") -> Raterd:
        """One worker process on its own, without a supervisor (``python -m raterd.worker``)."""
        return self._start([sys.executable, "-m", "raterd.worker", "--config-json", config.to_json()], env, name)

    def _start(self, args: list[str], env: dict[str, str] | None, name: str) -> Raterd:
        # The developer's own SITETRUTH_* settings must not leak into these runs.
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("SITETRUTH_")}
        full_env["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
        full_env["PYTHONUNBUFFERED"] = "1"
        full_env.update(env or {})
        proc = Raterd(args, str(self.tmp_path / f"{name}.log"), full_env)
        self.started.append(proc)
        return proc


@pytest.fixture
def raterd(tmp_path) -> Iterator[_Starter]:
    starter = _Starter(tmp_path)
    yield starter
    for proc in starter.started:
        proc.cleanup()


# ---- looking at things ------------------------------------------------------------------

def children_of(ppid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = proc_stat(int(entry))
        if stat is not None and int(stat[1]) == ppid and stat[0] != "Z":
            out.append(int(entry))
    return sorted(out)


def proc_stat(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (state, ppid, ...), or None if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2:].split()


def niceness_of(pid: int) -> int:
    """Field 19 of /proc/<pid>/stat: the nice value."""
    stat = proc_stat(pid)
    assert stat is not None, f"process {pid} is gone"
    return int(stat[19 - 3])


def alive(pid: int) -> bool:
    stat = proc_stat(pid)
    return stat is not None and stat[0] != "Z"


def raters(stats: dict) -> list[dict]:
    return stats["raters"]


def rater_pids(stats: dict) -> set[int]:
    return {r["pid"] for r in stats["raters"]}


def submit(rb: RunningBroker, domains: list[str], ip: str = "192.0.2.1") -> None:
    client = rb.client()
    for i in range(0, len(domains), 50):
        reply = rb.rate(client, ip, domains[i:i + 50])
        assert type(reply).__name__ == "RateReply", reply


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stored_ratings(store_url: str, domains: list[str]) -> dict:
    s = open_store(store_url)
    try:
        return s.lookup_ratings(domains)
    finally:
        s.close()


def wait_stored(store_url: str, domains: list[str], timeout: float = 10.0) -> dict:
    """The stored ratings of ``domains`` once all are committed.

    The broker counts a RESULT as completed when it arrives; the rating
    reaches the store at the journal's next commit, a moment later.
    """
    wait_until(lambda: len(stored_ratings(store_url, domains)) == len(set(domains)), timeout,
               f"{len(domains)} rating(s) to be committed")
    return stored_ratings(store_url, domains)


def error_log(store_url: str, limit: int = 200) -> list:
    s = open_store(store_url)
    try:
        return s.recent_errors(limit)
    finally:
        s.close()


def rated_by(rating) -> int:
    """The worker pid the fake pipeline wrote into a stored rating's evidence."""
    for item in rating.evidence:
        if item.get("kind") == "rater":
            return int(item["value"])
    raise AssertionError(f"no rater evidence in {rating}")
