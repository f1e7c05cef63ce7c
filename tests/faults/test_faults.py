"""Faults under load, with real processes: nothing acknowledged is lost, nothing is rated twice.

Each scenario puts steady RATE load on a broker from several client IPs,
breaks one thing mid-run, lets the run drain and prints

    acknowledged N, rated N, lost 0, rated twice 0

SQLite and MariaDB (the ``store_url`` fixture); the MariaDB outage runs on
a private server of its own, which it stops and starts.
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.faults.harness import Cluster, HttpLoad, ZmqLoad, count, prepare_store
from tests.support.processes import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

LOAD_S = 3.0          # load before the fault, and again after it


@pytest.fixture
def cluster(store_url, tmp_path):
    made: list[Cluster] = []

    def make(*broker_args: str, url: str | None = None) -> Cluster:
        c = Cluster(url or store_url, tmp_path, broker_args=broker_args)
        prepare_store(c.store_url)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def _settle(c: Cluster, load, scenario: str) -> dict[str, int]:
    load.stop()
    c.drain()
    tally = count(c.store_url, load.acked, scenario)
    print(f"[{scenario}] requests: {load.outcomes}")
    assert tally["acknowledged"] > 50, (tally, load.outcomes)
    assert tally["lost"] == 0 and tally["still_queued"] == 0, tally
    assert tally["rated"] == tally["acknowledged"], tally
    assert tally["rated_twice"] == 0, tally
    return tally


def test_broker_sigkill_and_restart(cluster):
    c = cluster("--liveness", "2")
    c.start_broker()
    for i in range(2):
        c.start_rater(f"r{i}", mode="sleep:0.02")
    load = ZmqLoad(c.clients)
    load.start()
    time.sleep(LOAD_S)
    c.broker.kill()
    time.sleep(0.5)
    c.start_broker()
    time.sleep(LOAD_S)
    _settle(c, load, "broker SIGKILL")


def test_rater_sigkilled_mid_job(cluster):
    c = cluster("--liveness", "2", "--heartbeat", "0.5")
    c.start_broker()
    c.start_rater("steady")
    victim = c.start_rater("victim", mode="sleep:0.3")
    load = ZmqLoad(c.clients)
    load.start()
    c.stats_wait(lambda s: any(r["worker"] == "victim" and r["job"] for r in s["raters"]), 20, "victim busy")
    victim.kill()
    time.sleep(LOAD_S)
    _settle(c, load, "rater SIGKILL")
    st = c.stats_wait(lambda s: True, 5, "stats")
    assert st["counters"]["dead_raters"] >= 1


def test_rater_stopped_past_its_lease_answers_late_without_double_store(cluster):
    c = cluster("--lease", "1.5", "--liveness", "60")
    c.start_broker()
    c.start_rater("steady")
    sleeper = c.start_rater("sleeper", mode="sleep:0.3")
    load = ZmqLoad(c.clients)
    load.start()
    c.stats_wait(lambda s: any(r["worker"] == "sleeper" and r["job"] for r in s["raters"]), 20, "sleeper busy")
    sleeper.popen.send_signal(signal.SIGSTOP)
    try:
        c.stats_wait(lambda s: s["counters"].get("lease_expired", 0) >= 1, 20, "its lease expired")
        time.sleep(1.0)
    finally:
        sleeper.popen.send_signal(signal.SIGCONT)     # its RESULT for the taken-back job arrives now
    time.sleep(LOAD_S)
    _settle(c, load, "rater SIGSTOP past lease")
    # Its late RESULT came and was not stored a second time (counted as stale,
    # or taken as the one rating when it beat the job's second rater).
    st = c.stats_wait(lambda s: True, 5, "stats")
    assert st["counters"]["lease_expired"] >= 1 and st["counters"].get("stale_results", 0) >= 1, st["counters"]


def test_frontend_killed_and_restarted(cluster):
    c = cluster()
    c.start_broker()
    for i in range(2):
        c.start_rater(f"r{i}")
    port = free_port()
    frontend = c.start_frontend(port)
    load = HttpLoad(port)
    load.start()
    time.sleep(LOAD_S)
    frontend.kill()
    time.sleep(0.5)
    c.start_frontend(port, name="frontend2")
    time.sleep(LOAD_S)
    _settle(c, load, "frontend SIGKILL")


def test_journal_failure_ends_the_broker_and_a_restart_loses_nothing(cluster):
    c = cluster()
    broker = c.start_broker(env={"SITETRUTH_TEST_JOURNAL_FAULT": "die-after:40"})
    for i in range(2):
        c.start_rater(f"r{i}", mode="sleep:0.02")
    load = ZmqLoad(c.clients)
    load.start()
    end = time.monotonic() + 60
    while broker.popen.poll() is None and time.monotonic() < end:
        time.sleep(0.1)
    assert broker.popen.returncode not in (None, 0), "the broker kept running without its journal"
    assert "journal thread died" in broker.output()
    c.start_broker()                                  # what its supervisor does
    time.sleep(LOAD_S)
    _settle(c, load, "journal thread failure")



@pytest.mark.mysql
def test_mariadb_stopped_for_ten_seconds(private_mariadb, tmp_path):
    url, mariadb = private_mariadb
    c = Cluster(url, tmp_path)
    prepare_store(url)
    try:
        c.start_broker()
        for i in range(2):
            c.start_rater(f"r{i}", mode="sleep:0.02")
        load = ZmqLoad(c.clients)
        load.start()
        time.sleep(LOAD_S)
        mariadb("stop")
        time.sleep(10)
        mariadb("start")
        time.sleep(LOAD_S)
        _settle(c, load, "MariaDB stopped 10 s")
        assert load.outcomes.get("Unavailable", 0) > 0, load.outcomes
    finally:
        c.close()
