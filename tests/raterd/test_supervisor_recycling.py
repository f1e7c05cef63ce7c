"""sitetruth-raterd's supervisor: niceness and recycling without losing ready capacity.

Real ``sitetruth-raterd`` processes against a real broker on loopback. The
workers use the test-only fake pipeline (tests/raterd/fake_pipeline.py)
because what is tested is process management, not rating: jobs take a
fixed short time and say which worker pid rated them.
"""

from __future__ import annotations

import os
import re
import threading
import time

import pytest

from tests.raterd.raterd_harness import (  # noqa: F401  (pytest fixtures)
    alive,
    brokers,
    niceness_of,
    rated_by,
    raterd,
    store,
    wait_stored,
    submit,
    wait_until,
)

pytestmark = pytest.mark.timeout(90)


class CapacitySampler:
    """Samples the broker's registered raters every 20 ms in a thread, as a monitor would."""

    def __init__(self, rb) -> None:
        self.rb = rb
        self.samples: list[int] = []
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        client = self.rb.client()
        while not self._stop.is_set():
            stats = self.rb.stats(client)
            # Ready capacity: registered raters (capacity 1 each) that are not draining.
            self.samples.append(sum(r["capacity"] for r in stats["raters"] if not r["draining"]))
            self.pids.update(r["pid"] for r in stats["raters"])
            time.sleep(0.02)

    def __enter__(self) -> CapacitySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


def test_workers_run_at_the_configured_niceness(store, brokers, raterd):
    """Each worker's /proc/<pid>/stat field 19 is --nice; the supervisor keeps its own."""
    rb = brokers(store)
    wanted = min(19, os.getpriority(os.PRIO_PROCESS, 0) + 7)
    node = raterd(rb.raters, "--workers", "2", "--nice", str(wanted))
    stats = rb.wait_for(lambda s: s["totals"]["raters"] == 2, 20, "two workers to register")
    pids = [r["pid"] for r in stats["raters"]]
    assert sorted(pids) == node.workers()
    assert [niceness_of(pid) for pid in pids] == [wanted, wanted]
    assert niceness_of(node.pid) == os.getpriority(os.PRIO_PROCESS, 0)


def test_max_jobs_recycling_never_drops_ready_capacity_below_n(store, brokers, raterd):
    """--max-jobs 5 over 50 jobs: replacements register before the old workers leave; every job completes."""
    rb = brokers(store)
    node = raterd(rb.raters, "--workers", "2", "--max-jobs", "5", env={"SITETRUTH_FAKE_SLEEP": "0.1"})
    rb.wait_for(lambda s: s["totals"]["raters"] == 2, 20, "two workers to register")
    domains = [f"site{i:02d}-recycle.com" for i in range(50)]
    with CapacitySampler(rb) as sampler:
        submit(rb, domains)
        rb.wait_for(lambda s: s["counters"].get("completed", 0) == 50, 60, "all 50 jobs to complete")
    assert len(sampler.samples) > 100
    assert min(sampler.samples) >= 2, f"ready capacity dropped to {min(sampler.samples)}"
    ratings = wait_stored(store, domains)
    assert len(ratings) == 50 and {r.rating for r in ratings.values()} == {"Q"}
    raters_used = {rated_by(r) for r in ratings.values()}
    assert len(raters_used) >= 4, f"only {len(raters_used)} workers rated: recycling did not happen"
    counters = rb.stats()["counters"]
    assert counters.get("failed", 0) == 0 and counters.get("gave_up", 0) == 0
    assert counters.get("dead_raters", 0) == 0, "a retiring worker vanished instead of saying DISCONNECT"
    output = node.output()
    assert output.count("retiring (max_jobs") >= 4
    assert not re.search(r"killed by signal|exited with status", output), output[-3000:]
    assert all(not alive(pid) for pid in raters_used - set(node.workers()))


def test_memory_ceiling_retires_only_the_worker_past_it(store, brokers, raterd):
    """A worker that grows past --max-rss is replaced (new pid) after its job; capacity never drops; the
    other worker, under the ceiling, keeps its pid."""
    rb = brokers(store)
    node = raterd(rb.raters, "--workers", "2", "--max-rss", "120")
    stats = rb.wait_for(lambda s: s["totals"]["raters"] == 2, 20, "two workers to register")
    first = {r["pid"] for r in stats["raters"]}
    with CapacitySampler(rb) as sampler:
        submit(rb, ["grow200-hungry.com"])
        rb.wait_for(lambda s: s["counters"].get("completed", 0) == 1, 20, "the memory-hungry job")
        hungry = rated_by(wait_stored(store, ["grow200-hungry.com"])["grow200-hungry.com"])
        wait_until(lambda: not alive(hungry), 20, "the hungry worker to leave")
        stats = rb.wait_for(lambda s: s["totals"]["raters"] == 2, 10, "capacity back to two")
    now = {r["pid"] for r in stats["raters"]}
    assert hungry in first and hungry not in now
    assert first - {hungry} <= now, "the worker under the ceiling should not have been recycled"
    assert min(sampler.samples) >= 2
    assert "retiring (max_rss" in node.output()
    submit(rb, ["after-recycle.com"])
    rb.wait_for(lambda s: s["counters"].get("completed", 0) == 2, 20, "a job after recycling")
