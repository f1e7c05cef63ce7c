"""One worker process against a real broker on loopback: the protocol as a user of the cluster sees it.

These run ``python -m raterd.worker`` on its own (no supervisor) with the
test-only fake pipeline (tests/raterd/fake_pipeline.py): what is tested is
the worker's conversation with the broker, not the rating itself.
"""

from __future__ import annotations

import time

import pytest

from raterd.worker import WorkerConfig
from tests.raterd.raterd_harness import (  # noqa: F401  (pytest fixtures)
    FAKE,
    alive,
    brokers,
    error_log,
    rated_by,
    raterd,
    store,
    stored_ratings,
    submit,
)

pytestmark = pytest.mark.timeout(60)


def _config(rb, **overrides) -> WorkerConfig:
    settings = {"broker": rb.raters, "name": "t1", "pipeline": FAKE, "nice": None, "max_jobs": 0, **overrides}
    return WorkerConfig(**settings)


def test_a_pipeline_bug_fails_the_job_with_its_traceback_and_the_worker_keeps_working(store, brokers, raterd):
    """rate() raising -> FAILED with the traceback in the broker's error log; the same worker rates the next."""
    rb = brokers(store, max_attempts=2)
    worker = raterd.worker(_config(rb))
    rb.wait_for(lambda s: s["totals"]["raters"] == 1, 15, "the worker to register")
    submit(rb, ["boom-a.com", "fine-a.com", "fine-b.com"])
    rb.wait_for(lambda s: s["totals"]["live"] == 0, 20, "every job to end")
    stats = rb.stats()
    assert stats["counters"]["failed"] == 2 and stats["counters"]["gave_up"] == 1
    ratings = stored_ratings(store, ["boom-a.com", "fine-a.com", "fine-b.com"])
    assert (ratings["boom-a.com"].rating, ratings["boom-a.com"].ratinginfo) == ("U", "error")
    assert {rated_by(ratings[d]) for d in ("fine-a.com", "fine-b.com")} == {worker.pid}
    tracebacks = [e.traceback for e in error_log(store) if e.domain == "boom-a.com" and e.traceback]
    assert tracebacks, "the FAILED traceback should be in the error log"
    assert "RuntimeError: boom" in tracebacks[0] and "fake_pipeline.py" in tracebacks[0]
    assert alive(worker.pid)
    assert [r["pid"] for r in stats["raters"]] == [worker.pid]


def test_heartbeats_and_pulses_keep_flowing_while_a_page_fetch_takes_long(store, brokers, raterd):
    """A rating longer than the broker's liveness: the worker stays alive, progress shows, result arrives."""
    rb = brokers(store, liveness=1.5, heartbeat=0.5)
    worker = raterd.worker(_config(rb))
    rb.wait_for(lambda s: s["totals"]["raters"] == 1, 15, "the worker to register")
    submit(rb, ["slow4-pulse.com"])
    progress = set()
    end = time.monotonic() + 15
    while time.monotonic() < end:
        stats = rb.stats()
        if stats["totals"]["live"] == 0:
            break
        progress.update(r["progress"] for r in stats["raters"] if r["job"])
        time.sleep(0.1)
    assert stats["totals"]["live"] == 0, "the slow job should have completed"
    assert stats["counters"].get("dead_raters", 0) == 0, "the busy worker was declared dead: heartbeats stopped"
    assert stats["counters"].get("lease_expired", 0) == 0
    assert stats["counters"]["pulses"] >= 10
    assert len({p for p in progress if p.startswith("fetched")}) >= 5, progress
    assert rated_by(stored_ratings(store, ["slow4-pulse.com"])["slow4-pulse.com"]) == worker.pid


def test_pulses_are_coalesced_to_about_ten_per_second(store, brokers, raterd):
    """A pipeline reporting progress thousands of times a second does not flood the broker."""
    rb = brokers(store)
    raterd.worker(_config(rb))
    rb.wait_for(lambda s: s["totals"]["raters"] == 1, 15, "the worker to register")
    submit(rb, ["chatty2-flood.com"])
    rb.wait_for(lambda s: s["totals"]["live"] == 0, 15, "the job to complete")
    pulses = rb.stats()["counters"]["pulses"]
    assert 5 <= pulses <= 30, f"{pulses} pulses for 2 s of tight-loop progress reports"


def test_standalone_worker_leaves_after_max_jobs(store, brokers, raterd):
    """Without a supervisor a worker that reaches --max-jobs says DISCONNECT and exits 0."""
    rb = brokers(store)
    worker = raterd.worker(_config(rb, max_jobs=2))
    rb.wait_for(lambda s: s["totals"]["raters"] == 1, 15, "the worker to register")
    submit(rb, ["one-a.com", "two-a.com", "three-a.com"])
    assert worker.wait(15) == 0
    stats = rb.wait_for(lambda s: s["totals"]["raters"] == 0, 5, "the worker to be gone")
    assert stats["counters"]["disconnects"] == 1
    assert stats["counters"].get("dead_raters", 0) == 0
    assert stats["counters"]["completed"] == 2
    assert stats["totals"]["queued"] == 1      # the third job waits for another rater, no attempt lost
    assert "left the broker" in worker.output()


def test_wedged_rating_fails_the_job_with_the_stuck_stack_and_exits_for_a_restart(store, brokers, raterd):
    """A rating that ignores its deadline: FAILED with the rating thread's stack, exit status 75 (WEDGED)."""
    rb = brokers(store, rating_deadline=1.0, max_attempts=1)
    worker = raterd.worker(_config(rb, overrun=1.0))
    rb.wait_for(lambda s: s["totals"]["raters"] == 1, 15, "the worker to register")
    submit(rb, ["hang30-stuck.com"])
    assert worker.wait(15) == 75
    rb.wait_for(lambda s: s["totals"]["live"] == 0, 10, "the job to be given up")
    errors = [e for e in error_log(store) if e.domain == "hang30-stuck.com" and e.traceback]
    assert errors and "overran its 1 s deadline" in errors[0].message
    assert "Stack of the rating thread" in errors[0].traceback and "in rate" in errors[0].traceback
    assert rb.stats()["counters"]["disconnects"] == 1
