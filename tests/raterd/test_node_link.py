"""sitetruth-raterd --node-link: one broker connection for the whole node.

Real ``sitetruth-raterd`` processes against a real broker on loopback, with
the test-only fake pipeline (tests/raterd/fake_pipeline.py): what is tested
is how jobs, capacity and faults travel through the node's one connection.
The broker must see exactly what it would see from the same workers each on
their own connection: every job rated once, capacity that never dips while
workers are recycled, a dead worker's job failed (one attempt) and rated by
another, a leaving worker's job handed back.
"""

from __future__ import annotations

import os
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
    submit,
    wait_stored,
    wait_until,
)
from tests.raterd.test_supervisor_recycling import CapacitySampler

pytestmark = pytest.mark.timeout(90)


def _node(stats: dict) -> dict:
    assert len(stats["raters"]) == 1, stats["raters"]
    return stats["raters"][0]


def _rating_on_one_worker(rb, raterd, domain: str, *flags: str):  # noqa: F811
    """A one-worker node with --node-link rating ``domain``: (the node, its worker's pid)."""
    node = raterd(rb.raters, "--workers", "1", "--node-link", *flags)
    rb.wait_for(lambda s: s["totals"]["free_slots"] == 1, 20, "the node's slot")
    [worker] = node.workers()
    submit(rb, [domain])
    rb.wait_for(lambda s: s["totals"]["in_flight"] == 1, 10, "the job to start")
    return node, worker


def test_the_node_registers_once_with_its_workers_capacity_and_rates_on_all_of_them(store, brokers, raterd):
    rb = brokers(store)
    node = raterd(rb.raters, "--workers", "3", "--node-link", env={"SITETRUTH_FAKE_SLEEP": "0.2"})
    stats = rb.wait_for(lambda s: s["totals"]["free_slots"] == 3, 20, "the node's three slots")
    rater = _node(stats)
    assert rater["capacity"] == 3 and rater["worker"] == "node" and rater["pid"] == node.pid
    domains = [f"site{i:02d}-node.com" for i in range(30)]
    submit(rb, domains)
    rb.wait_for(lambda s: s["counters"].get("completed", 0) == 30, 30, "all 30 jobs")
    ratings = wait_stored(store, domains)
    assert {r.rating for r in ratings.values()} == {"Q"}
    assert {rated_by(r) for r in ratings.values()} == set(node.workers()), "every worker should have rated"
    stats = rb.stats()
    assert stats["totals"]["raters"] == 1 and _node(stats)["jobs"] == 0
    counters = stats["counters"]
    assert counters.get("failed", 0) == 0 and counters.get("handed_back", 0) == 0
    assert counters.get("not_holder", 0) == 0 and counters.get("dead_raters", 0) == 0


def test_recycled_workers_keep_the_node_capacity(store, brokers, raterd):
    """--max-jobs 5 over 40 jobs through the link: the node's capacity never drops below its two workers."""
    rb = brokers(store)
    node = raterd(rb.raters, "--workers", "2", "--max-jobs", "5", "--node-link", env={"SITETRUTH_FAKE_SLEEP": "0.1"})
    rb.wait_for(lambda s: s["totals"]["free_slots"] == 2, 20, "the node's two slots")
    domains = [f"site{i:02d}-recycle-node.com" for i in range(40)]
    with CapacitySampler(rb) as sampler:
        submit(rb, domains)
        rb.wait_for(lambda s: s["counters"].get("completed", 0) == 40, 60, "all 40 jobs")
    assert len(sampler.samples) > 50
    assert min(sampler.samples) >= 2, f"ready capacity dropped to {min(sampler.samples)}"
    ratings = wait_stored(store, domains)
    assert len({rated_by(r) for r in ratings.values()}) >= 4, "recycling did not happen"
    counters = rb.stats()["counters"]
    # A JOB sent while the capacity drops back from N+1 to N finds no free
    # worker and is handed back: re-queued at once, never an attempt.
    assert counters.get("failed", 0) == 0 and counters.get("gave_up", 0) == 0
    recycled = node.output().count("retiring (max_jobs")
    assert recycled >= 4
    assert counters.get("handed_back", 0) <= recycled


def test_a_worker_killed_mid_job_costs_one_attempt_and_another_worker_rates_it(store, brokers, raterd):
    rb = brokers(store)
    node, victim = _rating_on_one_worker(rb, raterd, "slow20-killed.com", "--restart-base", "0.2")
    os.kill(victim, signal.SIGKILL)
    # The supervisor sees the exit at once and the link fails the job: no wait for a lease.
    rb.wait_for(lambda s: s["counters"].get("failed", 0) == 1, 5, "the job to be failed by the link")
    wait_until(lambda: node.workers() and node.workers() != [victim], 10, "the replacement worker")
    stats = rb.wait_for(lambda s: s["totals"]["raters"] == 1, 10, "the node still registered")
    assert _node(stats)["capacity"] == 1
    errors = [e.message for e in error_log(store)]
    assert any("slow20-killed.com: attempt 1/" in m and "killed by signal" in m for m in errors), errors
    # The retry (slow20 again) is rated by the replacement.
    rb.wait_for(lambda s: s["totals"]["in_flight"] == 1, 10, "the retry to start")
    os.kill(node.pid, signal.SIGTERM)
    assert node.wait(40) == 0


def test_a_leaving_node_hands_its_jobs_back_without_an_attempt(store, brokers, raterd):
    rb = brokers(store)
    node = raterd(rb.raters, "--workers", "2", "--node-link", "--grace", "0.5")
    rb.wait_for(lambda s: s["totals"]["free_slots"] == 2, 20, "the node's two slots")
    submit(rb, ["slow30-one.com", "slow30-two.com"])
    rb.wait_for(lambda s: s["totals"]["in_flight"] == 2, 10, "both jobs to start")
    os.kill(node.pid, signal.SIGTERM)
    assert node.wait(30) == 0
    stats = rb.wait_for(lambda s: s["totals"]["raters"] == 0 and s["totals"]["queued"] == 2, 10,
                        "the node gone and both jobs queued again")
    assert stats["counters"].get("handed_back", 0) == 2
    assert stats["counters"].get("failed", 0) == 0
    assert not [e for e in error_log(store) if "attempt" in e.message]


def test_the_node_registers_again_with_a_restarted_broker(store, brokers, raterd):
    rb = brokers(store)
    port = int(rb.raters.rsplit(":", 1)[1])
    node = raterd(rb.raters, "--workers", "2", "--node-link", "--liveness", "2")
    rb.wait_for(lambda s: s["totals"]["free_slots"] == 2, 20, "the node's two slots")
    brokers.stop(rb)
    time.sleep(0.5)
    rb = brokers(store, port=port)
    rb.wait_for(lambda s: s["totals"]["free_slots"] == 2, 20, "the node back on the restarted broker")
    domains = [f"after{i}-restart-node.com" for i in range(6)]
    submit(rb, domains)
    rb.wait_for(lambda s: s["counters"].get("completed", 0) == 6, 20, "jobs on the restarted broker")
    assert len(wait_stored(store, domains)) == 6
    assert alive(node.pid)


def test_a_worker_stopped_past_its_liveness_is_failed_and_its_late_result_is_dropped(store, brokers, raterd):
    """SIGSTOP mid-job: the link fails the job (one attempt) and, with no worker left, leaves the broker;
    after SIGCONT the late RESULT goes nowhere, the worker joins again and rates the retry: stored once."""
    rb = brokers(store)
    node, worker = _rating_on_one_worker(rb, raterd, "slow4-stopped.com", "--liveness", "2")
    os.kill(worker, signal.SIGSTOP)
    try:
        stats = rb.wait_for(lambda s: s["counters"].get("failed", 0) == 1 and s["totals"]["raters"] == 0, 10,
                            "the link to fail the job and leave")
        assert stats["totals"]["queued"] == 1
    finally:
        os.kill(worker, signal.SIGCONT)
    rb.wait_for(lambda s: s["counters"].get("completed", 0) == 1, 30, "the retry to be rated")
    assert rated_by(wait_stored(store, ["slow4-stopped.com"])["slow4-stopped.com"]) == worker
    stats = rb.stats()
    assert stats["counters"].get("completed", 0) == 1 and stats["totals"]["live"] == 0
    assert any("slow4-stopped.com: attempt 1/" in e.message and "stopped answering" in e.message
               for e in error_log(store))
    assert "silent for" in node.output()


def test_a_chatty_rating_reaches_the_broker_as_a_few_pulses(store, brokers, raterd):
    """A worker reporting progress in a tight loop for 6 s: the broker sees the latest every 5 s at most."""
    rb = brokers(store)
    raterd(rb.raters, "--workers", "1", "--node-link")
    rb.wait_for(lambda s: s["totals"]["free_slots"] == 1, 20, "the node's slot")
    submit(rb, ["chatty6-progress.com"])
    stats = rb.wait_for(lambda s: s["counters"].get("completed", 0) == 1, 30, "the chatty rating")
    assert 1 <= stats["counters"].get("pulses", 0) <= 3, stats["counters"]
    assert wait_stored(store, ["chatty6-progress.com"])["chatty6-progress.com"].rating == "Q"


def test_garbage_on_the_workers_socket_is_dropped_and_the_node_rates_on(store, brokers, raterd):
    """Whatever reaches the link's own socket (it is the node user's alone, but a bug or a stray tool may
    write to it): malformed frames are logged and dropped, a stranger's RESULT gets "send READY", a
    stranger's READY does not take the real worker's place, and the broker sees none of it."""
    import re

    import zmq

    from protocol import Disconnect, Result, decode
    from protocol.vocabulary import Rating, RatingInfo

    rb = brokers(store)
    node = raterd(rb.raters, "--workers", "1", "--node-link")
    rb.wait_for(lambda s: s["totals"]["free_slots"] == 1, 20, "the node's slot")
    wait_until(lambda: re.search(r"workers at (ipc://\S+),", node.output()), 10, "the link's endpoint in its log")
    endpoint = re.search(r"workers at (ipc://\S+),", node.output()).group(1)
    ctx = zmq.Context()
    stray = ctx.socket(zmq.DEALER)
    stray.setsockopt(zmq.LINGER, 0)
    stray.connect(endpoint)
    try:
        for frames in ([b"\xff\xfe"], [b"RESULT", b"\xc1"], [b"RESULT", b"x" * (2 << 20)], [b"PULSE"] * 40, [b""]):
            stray.send_multipart(frames)
        stray.send_multipart(Result(job_id="j-none", domain="stray.com", rating=Rating.A,
                                    ratinginfo=RatingInfo.UNVERIFIED, location=None, evidence=(),
                                    elapsed=0.1).to_frames())
        assert stray.poll(5000), "the link should answer a stranger's RESULT"
        answer = decode(stray.recv_multipart())
        assert isinstance(answer, Disconnect) and answer.reregister
        wait_until(lambda: node.output().count("malformed message from a worker dropped") >= 5, 10,
                   "each malformed message logged")
        submit(rb, ["after-garbage.com"])
        rb.wait_for(lambda s: s["counters"].get("completed", 0) == 1, 20, "a rating after the garbage")
        assert "after-garbage.com" in wait_stored(store, ["after-garbage.com"])
        counters = rb.stats()["counters"]
        assert counters.get("not_holder", 0) == 0 and counters.get("malformed_rater", 0) == 0, counters
        assert counters.get("failed", 0) == 0
    finally:
        stray.close(0)
        ctx.term()


def test_the_progress_of_the_nodes_jobs_travels_together(store, brokers, raterd):
    """Three chatty ratings at once: the broker hears each job's progress, in fewer PULSE messages than jobs
    reported on, and every one of them stays rated once."""
    rb = brokers(store)
    raterd(rb.raters, "--workers", "3", "--node-link")
    rb.wait_for(lambda s: s["totals"]["free_slots"] == 3, 20, "the node's slots")
    domains = [f"chatty6-together{i}.com" for i in range(3)]
    submit(rb, domains)
    stats = rb.wait_for(lambda s: s["counters"].get("completed", 0) == 3, 30, "the chatty ratings")
    counters = stats["counters"]
    assert counters.get("pulses", 0) >= 3, counters                 # every job's progress got through
    assert counters["pulse_messages"] < counters["pulses"], counters
    assert counters.get("not_holder", 0) == 0 and counters.get("failed", 0) == 0
    assert len(wait_stored(store, domains)) == 3


def test_the_socket_directory_a_killed_supervisor_left_is_removed_by_the_next_node(store, brokers, raterd):
    """SIGKILL gives a supervisor no time to clean up: the next node link on the machine removes what it left,
    and leaves alone the directory of a link that is still running."""
    import re

    rb = brokers(store)
    first = raterd(rb.raters, "--workers", "1", "--node-link", name="first")
    running = raterd(rb.raters, "--workers", "1", "--node-link", name="running")
    rb.wait_for(lambda s: s["totals"]["free_slots"] == 2, 20, "both nodes' slots")

    def socket_dir(node) -> str:
        wait_until(lambda: re.search(r"workers at ipc://(\S+)/workers,", node.output()), 10, "the link's endpoint")
        return re.search(r"workers at ipc://(\S+)/workers,", node.output()).group(1)

    left, kept = socket_dir(first), socket_dir(running)
    workers = first.workers()
    first.signal(signal.SIGKILL)
    first.wait(10)
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    assert os.path.isdir(left), "SIGKILL leaves the directory behind"
    later = raterd(rb.raters, "--workers", "1", "--node-link", name="later")
    wait_until(lambda: "workers at ipc://" in later.output(), 20, "the next node's link")
    assert not os.path.exists(left)
    assert os.path.isdir(kept)
    assert f"removed {left}" in later.output()
