"""sitetruth-raterd under faults: killed workers, signals, a restarting or absent broker, crash loops.

Real ``sitetruth-raterd`` processes and a real broker on loopback. Workers
use the test-only fake pipeline (tests/raterd/fake_pipeline.py): the
domain's first label says how long a job takes (``slow3-...`` = 3 s), and
every stored rating names the worker pid that produced it.
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from tests.raterd.raterd_harness import (  # noqa: F401  (pytest fixtures)
    alive,
    brokers,
    error_log,
    rated_by,
    raterd,
    store,
    stored_ratings,
    wait_stored,
    submit,
    wait_until,
)
from tests.support.processes import free_port

pytestmark = pytest.mark.timeout(90)


def _busy_with(rb, domain: str, timeout: float = 15) -> int:
    """Wait until some rater is rating *domain*; its pid."""
    stats = rb.wait_for(lambda s: any(r["job"] == domain for r in s["raters"]), timeout, f"a rater on {domain}")
    return next(r["pid"] for r in stats["raters"] if r["job"] == domain)


def test_sigkilled_worker_is_replaced_and_its_job_requeued_and_completed(store, brokers, raterd):
    """SIGKILL a worker mid-job: the supervisor starts a new one and reports the death to the error log;
    the broker re-queues the job and it completes on a live worker."""
    # Liveness short enough to notice the death quickly, long enough that a
    # loaded machine's late heartbeats are not taken for another death.
    rb = brokers(store, liveness=3.0)
    node = raterd(rb.raters, "--workers", "2")
    stats = rb.wait_for(lambda s: s["totals"]["raters"] == 2, 20, "two workers to register")
    first = {r["pid"] for r in stats["raters"]}
    submit(rb, ["slow2-victim.com"])
    victim = _busy_with(rb, "slow2-victim.com")
    time.sleep(0.3)
    node_workers_before = set(node.workers())
    os.kill(victim, signal.SIGKILL)
    rb.wait_for(lambda s: s["counters"].get("completed", 0) == 1, 30, "the re-queued job to complete")
    stats = rb.wait_for(lambda s: s["totals"]["raters"] == 2 and victim not in {r["pid"] for r in s["raters"]},
                        20, "two live workers again")
    replacement = {r["pid"] for r in stats["raters"]} - first
    assert len(replacement) == 1 and victim not in replacement
    assert set(node.workers()) == (node_workers_before - {victim}) | replacement
    assert stats["counters"]["dead_raters"] == 1 and stats["counters"]["requeued"] == 1
    assert rated_by(wait_stored(store, ["slow2-victim.com"])["slow2-victim.com"]) != victim
    wait_until(lambda: any("SIGKILL" in e.message and e.component == "raterd.supervisor" for e in error_log(store)),
               10, "the supervisor's report of the killed worker in the error log")
    report = next(e for e in error_log(store) if "SIGKILL" in e.message)
    assert f"pid {victim}" in report.message and "restarting in" in report.message
    assert "last stderr lines" in report.traceback and "registered with the broker" in report.traceback


def test_sigterm_lets_the_current_job_finish_then_everything_exits_0(store, brokers, raterd):
    """SIGTERM to the supervisor while a 2 s job runs: the job's rating is stored, all processes exit 0."""
    rb = brokers(store)
    node = raterd(rb.raters, "--workers", "2")
    rb.wait_for(lambda s: s["totals"]["raters"] == 2, 20, "two workers to register")
    workers = node.workers()
    submit(rb, ["slow2-finish.com"])
    _busy_with(rb, "slow2-finish.com")
    node.signal(signal.SIGTERM)
    assert node.wait(20) == 0
    assert not any(alive(pid) for pid in workers)
    assert "slow2-finish.com" in wait_stored(store, ["slow2-finish.com"])
    stats = rb.wait_for(lambda s: s["totals"]["raters"] == 0, 5, "the workers to have said goodbye")
    assert stats["counters"].get("handed_back", 0) == 0 and stats["counters"].get("dead_raters", 0) == 0
    assert not re.search(r"killed by signal|exited with status", node.output())


def test_sigterm_hands_back_a_job_that_outlasts_the_grace_period(store, brokers, raterd):
    """SIGTERM with --grace 1 while a 20 s job runs: the job goes back to the queue (no attempt counted),
    and the node still exits 0, promptly."""
    rb = brokers(store)
    node = raterd(rb.raters, "--workers", "1", "--grace", "1")
    rb.wait_for(lambda s: s["totals"]["raters"] == 1, 20, "the worker to register")
    submit(rb, ["slow20-long.com"])
    _busy_with(rb, "slow20-long.com")
    started = time.monotonic()
    node.signal(signal.SIGTERM)
    assert node.wait(15) == 0
    assert time.monotonic() - started < 8
    stats = rb.wait_for(lambda s: s["totals"]["queued"] == 1, 5, "the job to be back in the queue")
    assert stats["counters"]["handed_back"] == 1
    assert stats["counters"].get("failed", 0) == 0 and stats["counters"].get("requeued", 0) == 0
    assert stored_ratings(store, ["slow20-long.com"]) == {}
    assert "handing slow20-long.com back" in node.output()


def test_broker_restart_workers_register_again_and_keep_working(store, brokers, raterd):
    """The broker goes away and comes back on the same address: the same workers (no restarts) register
    with the new broker and rate its jobs."""
    port = free_port()
    rb = brokers(store, port=port)
    node = raterd(rb.raters, "--workers", "2")
    rb.wait_for(lambda s: s["totals"]["raters"] == 2, 20, "two workers to register")
    workers = node.workers()
    submit(rb, [f"before{i}-restart.com" for i in range(4)])
    rb.wait_for(lambda s: s["counters"].get("completed", 0) == 4, 20, "jobs before the restart")
    brokers.stop(rb)
    time.sleep(1.0)
    rb2 = brokers(store, port=port)
    rb2.wait_for(lambda s: s["totals"]["raters"] == 2, 20, "both workers to register with the new broker")
    submit(rb2, [f"after{i}-restart.com" for i in range(4)])
    stats = rb2.wait_for(lambda s: s["counters"].get("completed", 0) == 4, 20, "jobs after the restart")
    assert {r["pid"] for r in stats["raters"]} == set(workers) == set(node.workers())
    assert "started worker" not in node.output().split("registered with the broker")[-1]


def test_broker_unreachable_at_start_workers_retry_with_backoff_then_work(store, brokers, raterd):
    """No broker yet: workers keep retrying (backing off, not crashing, not spinning); when the broker
    appears they register and rate."""
    port = free_port()
    node = raterd(f"tcp://127.0.0.1:{port}", "--workers", "2")
    wait_until(lambda: len(node.workers()) == 2, 10, "two worker processes")
    workers = node.workers()
    time.sleep(4.0)
    assert node.workers() == workers, "workers were restarted while the broker was away"
    output = node.output()
    assert not re.search(r"killed by signal|exited with status|Traceback", output), output[-3000:]
    retries = re.findall(r"not reachable; trying again in ([0-9.]+) s", output)
    assert retries, "workers should say they are retrying"
    assert len(retries) <= 20, f"{len(retries)} retry messages in 4 s: no backoff"
    rb = brokers(store, port=port)
    stats = rb.wait_for(lambda s: s["totals"]["raters"] == 2, 20, "the workers to register once it is up")
    assert {r["pid"] for r in stats["raters"]} == set(workers)
    submit(rb, ["late1-broker.com", "late2-broker.com"])
    rb.wait_for(lambda s: s["counters"].get("completed", 0) == 2, 20, "jobs on the late broker")


def test_crashing_workers_are_restarted_with_growing_delays(store, brokers, raterd):
    """A worker that dies at start is restarted after 0.5, 1, 2... s, not in a tight loop; SIGTERM still
    stops the node with exit 0."""
    rb = brokers(store)
    node = raterd(rb.raters, "--workers", "1", env={"SITETRUTH_FAKE_INIT": "exit:3"})
    restart = r"exited with status 3 after [0-9.]+ s; restarting in ([0-9.]+) s"
    wait_until(lambda: len(re.findall(restart, node.output())) >= 3, 30, "three restarts of the crashing worker")
    delays = [float(d) for d in re.findall(restart, node.output())]
    # Growing delays from half a second up: a backoff, not a tight loop, however slow the machine.
    assert delays[0] >= 0.4 and all(b > a for a, b in zip(delays, delays[1:])), delays
    node.signal(signal.SIGTERM)
    assert node.wait(15) == 0


def test_a_pipeline_that_cannot_be_built_stops_the_node_with_exit_78(store, brokers, raterd):
    """Configuration error (the pipeline's constructor raises before any worker ever registered):
    the node exits 78 (CONFIG) with the reason, instead of restarting forever."""
    rb = brokers(store)
    node = raterd(rb.raters, "--workers", "2", env={"SITETRUTH_FAKE_INIT": "fail"})
    assert node.wait(20) == 78
    output = node.output()
    assert "cannot build the rating pipeline" in output and "cannot open the sources index" in output


def test_workers_leave_cleanly_when_their_supervisor_is_killed(store, brokers, raterd):
    """SIGKILL the supervisor: its workers notice (their control line closes), finish their jobs, say
    DISCONNECT and exit instead of lingering as orphans."""
    rb = brokers(store)
    node = raterd(rb.raters, "--workers", "2")
    rb.wait_for(lambda s: s["totals"]["raters"] == 2, 20, "two workers to register")
    workers = node.workers()
    submit(rb, ["slow1-orphan.com"])
    _busy_with(rb, "slow1-orphan.com")
    node.signal(signal.SIGKILL)
    wait_until(lambda: not any(alive(pid) for pid in workers), 15, "the orphaned workers to exit")
    stats = rb.wait_for(lambda s: s["totals"]["raters"] == 0, 5, "the workers to have said goodbye")
    assert stats["counters"]["disconnects"] == 2 and stats["counters"].get("dead_raters", 0) == 0
    assert "slow1-orphan.com" in wait_stored(store, ["slow1-orphan.com"])
