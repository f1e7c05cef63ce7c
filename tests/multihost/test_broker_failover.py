"""Two broker hosts on one MariaDB store: failover when the active one dies, fencing when it loses the store.

Hosts: db (MariaDB primary), broker-a, broker-b (hot standby), rater-1 (two
workers, given both brokers), front (frontend given both brokers, and the
shop sites), client (a steady API load: five new domains a second). broker-a
starts first and is active; broker-b waits for the store's lease.

Every rating written to the store is counted by a trigger, so "rated exactly
once" is read from the database itself, not from what the brokers say.
"""

from __future__ import annotations

import datetime
import json
import re
import time

import pytest

from .cluster import HTTP_PORT, broker_endpoints, broker_stats, hosts_file, migrate, start_broker, start_frontend, start_raterd, \
    start_sites, wait_until
from .mariadb import start_server

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.timeout(500)]

LOCK_TIMEOUT = 6.0          # the brokers' --lock-timeout: a silent broker's lock is freed after this
LIVENESS = 2.0              # the raters': a silent broker is given up after this
RATE, SECONDS = 5, 24       # the client's load


def _count_rating_writes(db) -> None:
    """A trigger per kind of write to ``ratings``: every stored rating leaves one row in rating_writes."""
    db.execute("CREATE TABLE sitetruth.rating_writes (domain VARCHAR(253) NOT NULL, rated_at DOUBLE NOT NULL)")
    for when in ("INSERT", "UPDATE"):
        db.execute(f"CREATE TRIGGER sitetruth.count_{when.lower()} AFTER {when} ON sitetruth.ratings FOR EACH ROW "
                   "INSERT INTO sitetruth.rating_writes VALUES (NEW.domain, NEW.rated_at)")


def _cluster(make_rig, prefix: str):
    rig = make_rig(["db", "broker-a", "broker-b", "rater-1", "front", "client"])
    db = start_server(rig, "db", 1)
    db.execute("CREATE DATABASE sitetruth CHARACTER SET utf8mb4")
    migrate(rig, "broker-a", db.url())
    _count_rating_writes(db)
    (a_clients, a_raters), (b_clients, b_raters) = broker_endpoints(rig, "broker-a"), broker_endpoints(rig, "broker-b")
    lock = ("--lock-timeout", str(LOCK_TIMEOUT))
    brokers = {"broker-a": start_broker(rig, "broker-a", db.url(), *lock)}
    brokers["broker-b"] = start_broker(rig, "broker-b", db.url(), *lock)
    assert "as a standby" in brokers["broker-b"].output()
    shops = [f"{prefix}-{n}.com" for n in range(RATE * SECONDS)]
    start_sites(rig, "front")
    start_raterd(rig, "rater-1", f"{a_raters},{b_raters}", hosts_file(rig, "front", shops), 2,
                 "--liveness", str(LIVENESS), "--heartbeat", "0.5")
    start_frontend(rig, "front", f"{a_clients},{b_clients}", db.url(), db.url(), "--cache-ttl", "0")
    wait_until(lambda: broker_stats(rig, "client", "broker-a")["totals"]["raters"] >= 2, 30,
               "the raters to register with broker-a")
    return rig, db, brokers


def _start_load(rig, prefix: str):
    front = f"{rig.hosts['front'].addr}:{HTTP_PORT}"
    return rig.start("client", rig.module("tests.multihost.load", "--front", front, "--prefix", prefix,
                                          "--rate", str(RATE), "--seconds", str(SECONDS)), f"load-{prefix}")


def _finish_load(load) -> list[dict]:
    load.popen.wait(SECONDS + 60)
    return [json.loads(line) for line in load.output().splitlines() if line.startswith("{")]


def _log_time(proc, pattern: str) -> float | None:
    """Wall-clock time of the first log line of ``proc`` matching ``pattern`` (None if there is none)."""
    for line in proc.output().splitlines():
        if re.search(pattern, line):
            stamp = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
            return stamp.timestamp()
    return None


def _writes(db) -> dict[str, int]:
    return {d: int(n) for d, n in db.execute("SELECT domain, COUNT(*) FROM sitetruth.rating_writes GROUP BY domain")}


def _check_every_ack_rated_once(db, requests: list[dict]) -> tuple[int, int]:
    acked = [r["domain"] for r in requests if r["http"] == 200 and r["item"] == "202"]
    refused = [r for r in requests if not (r["http"] == 200 and r["item"] == "202")]
    # Clients see at most 503s: every other request was acknowledged.
    assert all(r["http"] == 503 for r in refused), refused[:5]
    wait_until(lambda: set(acked) <= set(_writes(db)), 120, "every acknowledged domain rated")
    time.sleep(2)                                   # a second write would come now, if ever
    writes = _writes(db)
    twice = {d: n for d, n in writes.items() if n != 1}
    assert twice == {}, f"rated more than once: {twice}"
    return len(acked), len(refused)


def _probe(rig, from_host: str, broker_host: str, domain: str) -> str:
    """What ``broker_host`` answers a RATE sent from ``from_host`` (its reply's repr)."""
    code = ("import sys, zmq\nfrom protocol import RateRequest, decode\n"
            "s = zmq.Context.instance().socket(zmq.DEALER); s.setsockopt(zmq.LINGER, 0); s.connect(sys.argv[1])\n"
            "s.send_multipart(RateRequest(req_id=1, client_ip='198.18.77.99', priority=1,"
            " domains=(sys.argv[2],)).to_frames())\n"
            "print(repr(decode(s.recv_multipart())) if s.poll(5000) else 'silence')\n")
    return rig.python(from_host, code, broker_endpoints(rig, broker_host)[0], domain).strip()


def test_active_broker_killed_under_load_the_standby_takes_over(make_rig):
    rig, db, brokers = _cluster(make_rig, "failover")
    load = _start_load(rig, "failover")
    time.sleep(8)
    killed_at = time.time()
    brokers["broker-a"].kill()
    requests = _finish_load(load)
    b = brokers["broker-b"]
    active_at = _log_time(b, r"active on the store \(epoch 2\)")
    first_at = _log_time(b, r"first job dispatched")
    assert active_at and first_at, b.output()[-3000:]
    acked, refused = _check_every_ack_rated_once(db, requests)
    after = [r for r in requests if r["at"] > killed_at]
    print(f"\nbroker-a SIGKILLed: broker-b active {active_at - killed_at:.2f} s later, first dispatch "
          f"{first_at - killed_at:.2f} s later; {acked} requests acknowledged, {refused} answered 503 "
          f"({len(after)} asked after the kill); every acknowledged domain rated exactly once")
    assert first_at - killed_at < 5.0, f"first dispatch {first_at - killed_at:.2f} s after the kill"
    assert acked > RATE * SECONDS * 0.6


def test_active_broker_cut_off_from_the_store_fences_itself_and_stays_standby(make_rig):
    rig, db, brokers = _cluster(make_rig, "fencing")
    a, b = brokers["broker-a"], brokers["broker-b"]
    load = _start_load(rig, "fencing")
    time.sleep(6)
    cut_at = time.time()
    rig.cut_between("broker-a", "db")              # broker-a still reaches raters and frontends
    try:
        wait_until(lambda: _log_time(b, r"active on the store \(epoch 2\)"), LOCK_TIMEOUT + 10,
                   "broker-b to become active")
        fenced_at = _log_time(a, r"dropping to standby")
        active_at = _log_time(b, r"active on the store \(epoch 2\)")
        assert fenced_at is not None, a.output()[-3000:]
        # broker-a stopped serving before broker-b could start: never two at once.
        assert fenced_at < active_at
        answer = _probe(rig, "broker-a", "broker-a", "probe-during-cut.com")
        assert "not_active" in answer, answer
        time.sleep(4)
    finally:
        rig.restore_between("broker-a", "db")
    # Its link is back, and it stays a standby: broker-b holds the lease.
    time.sleep(LOCK_TIMEOUT / 2 + 3)
    answer = _probe(rig, "client", "broker-a", "probe-after-cut.com")
    assert "not_active" in answer and "is active (epoch 2)" in answer, answer
    assert a.popen.poll() is None, "broker-a should stay up as a standby"
    requests = _finish_load(load)
    acked, refused = _check_every_ack_rated_once(db, requests)
    print(f"\nbroker-a cut from db: it dropped to standby {fenced_at - cut_at:.2f} s after the cut, broker-b "
          f"active {active_at - cut_at:.2f} s after (lock timeout {LOCK_TIMEOUT:g} s); {acked} acknowledged, "
          f"{refused} answered 503; every acknowledged domain rated exactly once; broker-a still standby")
    assert active_at - cut_at < LOCK_TIMEOUT + 3
    assert "probe-during-cut.com" not in _writes(db) and "probe-after-cut.com" not in _writes(db)
