"""Faults a production store meets: concurrent writers, killed writers, lost links.

What a user would notice if these failed: a job acknowledged by the broker
missing after a crash, a domain queued twice, a rating stored while its job
stays queued (or the reverse), a caller hanging on a dead server, a raw
driver exception instead of StoreUnavailable.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pytest

from store import (
    QueuedJob,
    StoreConfigError,
    StoredRating,
    StoreUnavailable,
    open_store,
    parse_store_url,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER = os.path.join(ROOT, "tests", "store", "store_worker.py")
WAIT = 60  # seconds: upper bound for any child step


def spawn(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.Popen([sys.executable, WORKER, *args], cwd=ROOT, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def read_until(proc: subprocess.Popen[str], wanted: str) -> list[str]:
    """Lines from the child up to and including one starting with ``wanted`` (bounded)."""
    import selectors

    lines: list[str] = []
    deadline = time.monotonic() + WAIT
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
            if line.startswith(wanted):
                return lines
    raise AssertionError(f"child never said {wanted!r}; said {lines[-5:]}, exit {proc.poll()}")


def kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=WAIT)


def job(domain: str) -> QueuedJob:
    return QueuedJob(domain, "192.0.2.1", 1, time.time())


# -------------------------------------------------------------- concurrency

def test_two_processes_enqueue_concurrently(migrated_store, store_url):
    """2 x 10,000 jobs in batches of 200, 5,000 domains requested by both."""
    a = spawn(store_url, "enqueue", "dom", "0", "10000", "200", "--wait")
    b = spawn(store_url, "enqueue", "dom", "5000", "10000", "200", "--wait")
    try:
        for p in (a, b):
            read_until(p, "READY")
        for p in (a, b):
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [json.loads(read_until(p, "{")[-1]) for p in (a, b)]
        for p in (a, b):
            assert p.wait(timeout=WAIT) == 0
    finally:
        kill(a)
        kill(b)
    queue = migrated_store.load_queue()
    counts = Counter(j.domain for j in queue)
    assert len(queue) == 15_000 and set(counts.values()) == {1}
    assert set(counts) == {f"dom{i:06d}.example" for i in range(15_000)}
    assert results[0]["inserted"] + results[1]["inserted"] == 15_000
    assert migrated_store.queue_stats().total == 15_000


def test_contending_writers_all_succeed(migrated_store, store_url):
    """3 processes enqueue random overlapping batches (InnoDB deadlocks are retried)."""
    procs = [spawn(store_url, "enqueue-random", str(seed), "30", "200", "3000") for seed in (1, 2, 3)]
    try:
        for p in procs:
            read_until(p, "READY")
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        asked = set().union(*(json.loads(read_until(p, "[")[-1]) for p in procs))
        assert [p.wait(timeout=WAIT) for p in procs] == [0, 0, 0]
    finally:
        for p in procs:
            kill(p)
    queue = [j.domain for j in migrated_store.load_queue()]
    assert len(queue) == len(set(queue)) and set(queue) == asked


# ------------------------------------------------------------------- crash

def batches_in(store, prefix: str) -> Counter[int]:
    return Counter(int(j.domain.split("-")[1]) for j in store.load_queue() if j.domain.startswith(prefix + "-"))


def test_kill_inside_an_enqueue_transaction_leaves_no_trace(migrated_store, store_url):
    """SIGKILL after batch 2's first rows were written, before its COMMIT."""
    batch = 1500  # three statements' worth of rows, so "mid-batch" is real
    proc = spawn(store_url, "crash-enqueue", "mid", str(batch), "--pause-mid")
    try:
        read_until(proc, "MID")
    finally:
        kill(proc)
    assert batches_in(migrated_store, "mid") == {0: batch, 1: batch}


def test_killed_enqueuer_leaves_only_whole_batches(migrated_store, store_url):
    """SIGKILL at random moments while big batches stream in: all-or-nothing each time."""
    batch = 4000
    rng = random.Random(7)
    inside = 0  # kills that landed between "BEGIN k" and "DONE k" (for the message only)
    for run in range(4):
        prefix = f"run{run}"
        proc = spawn(store_url, "crash-enqueue", prefix, str(batch))
        try:
            lines = read_until(proc, "BEGIN 1")
            time.sleep(rng.uniform(0.0, 0.3))
        finally:
            kill(proc)
        lines += proc.stdout.read().splitlines()
        inside += lines[-1].startswith("BEGIN")
        seen = batches_in(migrated_store, prefix)
        assert set(seen.values()) <= {batch}, f"run {run}: partial batch {seen} ({inside} kills inside a batch)"
        assert sum(seen.values()) % batch == 0
    print(f"{inside} of 4 kills landed inside a batch")
    with open_store(store_url) as fresh:  # and the store is healthy afterwards
        assert fresh.enqueue([job("after-crash.example")]) == 1


# ---------------------------------------------------------- complete() atomicity

def test_complete_stores_rating_and_retires_job_together(migrated_store):
    migrated_store.enqueue([job("both.example")])
    assert migrated_store.complete([StoredRating.new("both.example", "A")]) == 1
    assert "both.example" in migrated_store.lookup_ratings(["both.example"])
    assert migrated_store.load_queue() == []


def test_complete_failing_halfway_changes_nothing(migrated_store, monkeypatch):
    migrated_store.enqueue([job("half.example"), job("other.example")])

    def broken_retire(cur, domains):
        raise RuntimeError("disk caught fire between the two statements")
    monkeypatch.setattr(migrated_store, "_retire_jobs", broken_retire)
    with pytest.raises(RuntimeError):
        migrated_store.complete([StoredRating.new("half.example", "Q", "unverified"),
                                 StoredRating.new("other.example", "X", "no_location")])
    monkeypatch.undo()
    assert migrated_store.lookup_ratings(["half.example", "other.example"]) == {}
    assert [j.domain for j in migrated_store.load_queue()] == ["half.example", "other.example"]
    assert migrated_store.complete([StoredRating.new("half.example", "Q", "unverified")]) == 1  # still usable


def test_writes_together_failing_halfway_change_nothing(migrated_store, monkeypatch):
    migrated_store.enqueue([job("kept.example")])

    def broken_retire(cur, domains):
        raise RuntimeError("disk caught fire after the enqueue and the upsert")
    monkeypatch.setattr(migrated_store, "_retire_jobs", broken_retire)
    with pytest.raises(RuntimeError):
        migrated_store.write_together([("enqueue", [job("new1.example"), job("new2.example")]),
                                       ("complete", [StoredRating.new("kept.example", "A")])])
    monkeypatch.undo()
    assert [j.domain for j in migrated_store.load_queue()] == ["kept.example"]
    assert migrated_store.lookup_ratings(["kept.example"]) == {}
    assert migrated_store.write_together([("enqueue", [job("new1.example")]),
                                          ("complete", [StoredRating.new("kept.example", "A")])]) == [1, 1]


def test_complete_killed_halfway_changes_nothing(migrated_store, store_url):
    migrated_store.enqueue([job("killed.example")])
    proc = spawn(store_url, "crash-complete", "killed.example")
    try:
        read_until(proc, "MID")  # the child has upserted the rating, not yet deleted the job
    finally:
        kill(proc)
    assert migrated_store.lookup_ratings(["killed.example"]) == {}
    assert [j.domain for j in migrated_store.load_queue()] == ["killed.example"]


# -------------------------------------------------------------- unavailable

def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_mysql_on_a_closed_port_is_unavailable_at_once():
    pytest.importorskip("MySQLdb", reason="mysqlclient is not installed")
    store = open_store(f"mysql://sitetruth:pw@127.0.0.1:{closed_port()}/sitetruth")  # lazy: no error yet
    started = time.monotonic()
    for call in (store.ping, lambda: store.lookup_ratings(["a.example"]), lambda: store.enqueue([job("a.example")])):
        with pytest.raises(StoreUnavailable, match="unavailable") as info:
            call()
        assert "pw@" not in str(info.value)
    assert time.monotonic() - started < 10, "a refused connection must fail fast, not hang"


def test_missing_mysql_driver_is_a_config_error(monkeypatch):
    import store._mysql
    monkeypatch.setattr(store._mysql, "MySQLdb", None)
    with pytest.raises(StoreConfigError, match=r"pip install '\.\[mysql\]'"):
        open_store("mysql://u@127.0.0.1/db")


def test_sqlite_in_a_missing_directory(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/no/such/dir/x.db")
    with pytest.raises(StoreConfigError, match="does not exist"):
        store.migrate()
    (tmp_path / "afile").write_text("not a directory")
    with pytest.raises(StoreConfigError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path}/afile/x.db").ping()


def test_sqlite_path_that_cannot_be_opened(tmp_path):
    (tmp_path / "adir.db").mkdir()
    with pytest.raises(StoreUnavailable, match="adir.db"):
        open_store(f"sqlite:///{tmp_path}/adir.db").migrate()
    (tmp_path / "junk.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreConfigError, match="not a SQLite database"):
        open_store(f"sqlite:///{tmp_path}/junk.db").migrate()


def test_sqlite_locked_by_another_writer(tmp_path):
    url = f"sqlite:///{tmp_path}/locked.db?busy_timeout=0.3"
    with open_store(url) as store:
        store.migrate()
        store.enqueue([job("before.example")])
        holder = sqlite3.connect(f"{tmp_path}/locked.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match="locked"):
                store.enqueue([job("during.example")])
            assert time.monotonic() - started < 5
            assert [j.domain for j in store.load_queue()] == ["before.example"]  # WAL: readers go on
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert store.enqueue([job("after.example")]) == 1


# ------------------------------------------------- MySQL connection killed

def admin_kill(store_url: str, connection_id: int) -> None:
    import MySQLdb

    from store._mysql import _connect_args
    conn = MySQLdb.connect(**_connect_args(parse_store_url(store_url), with_database=False))
    try:
        conn.cursor().execute(f"KILL {int(connection_id)}")
    finally:
        conn.close()


@pytest.fixture
def mysql_store(mysql_store_url):
    """A migrated MySQL store with its connection open (KILL is a server feature)."""
    with open_store(mysql_store_url) as store:
        store.migrate()
        store.ping()
        yield store


@pytest.mark.mysql
def test_killed_connection_is_replaced_transparently(mysql_store, mysql_store_url):
    """Documented behaviour: a connection lost while idle is reopened by the next call, read or write."""
    first = mysql_store.connection_id()
    admin_kill(mysql_store_url, first)
    assert mysql_store.lookup_ratings(["x.example"]) == {}
    second = mysql_store.connection_id()
    assert second != first
    admin_kill(mysql_store_url, second)
    assert mysql_store.enqueue([job("after-kill.example")]) == 1
    assert [j.domain for j in mysql_store.load_queue()] == ["after-kill.example"]


@pytest.mark.mysql
def test_connection_killed_inside_complete(mysql_store, mysql_store_url, monkeypatch):
    """Killed between the upsert and the delete: re-run once on a new connection, never half-done."""
    mysql_store.enqueue([job("k1.example")])
    original = mysql_store._retire_jobs
    kills = []

    def retire_after_kill(cur, domains):
        kills.append(mysql_store.connection_id())
        admin_kill(mysql_store_url, mysql_store.connection_id())
        return original(cur, domains)
    monkeypatch.setattr(mysql_store, "_retire_jobs", retire_after_kill)
    # killed on every attempt: gives up with StoreUnavailable, nothing written
    with pytest.raises(StoreUnavailable, match="lost the connection"):
        mysql_store.complete([StoredRating.new("k1.example", "A")])
    assert len(kills) == 2
    monkeypatch.undo()
    assert mysql_store.lookup_ratings(["k1.example"]) == {}
    assert [j.domain for j in mysql_store.load_queue()] == ["k1.example"]

    # killed once: the call is re-run on a fresh connection and both halves land
    kills.clear()

    def retire_after_one_kill(cur, domains):
        if not kills:
            kills.append(mysql_store.connection_id())
            admin_kill(mysql_store_url, mysql_store.connection_id())
        return original(cur, domains)
    monkeypatch.setattr(mysql_store, "_retire_jobs", retire_after_one_kill)
    assert mysql_store.complete([StoredRating.new("k1.example", "A")]) == 1
    monkeypatch.undo()
    assert "k1.example" in mysql_store.lookup_ratings(["k1.example"])
    assert mysql_store.load_queue() == []
