"""RaterTable (pure logic): liveness, free slots, and leases of jobs taken back."""

from __future__ import annotations

from broker.fairqueue import FairQueue
from broker.raters import RaterTable


def test_expired_lease_is_reported_once_and_the_rater_stays_busy():
    fq = FairQueue()
    table = RaterTable(liveness_timeout=5)
    hung, _ = table.register(b"hung", host="h", pid=1, worker="w0", version="t", capacity=1, jobs_done=0, now=0)
    job, _ = fq.add("slow.com", "ip", 1, 0)
    fq.pop()
    table.assign(hung, job, "j1", now=0, lease=1)
    assert table.expired_leases(2, max_job_seconds=100) == [(hung, job)]
    fq.requeue(job)                                   # what the broker does with it
    assert table.expired_leases(3, max_job_seconds=100) == []
    assert hung.state == "busy" and hung.held_jobs() == [] and table.next_free() is None
    # The job runs again elsewhere; the hung rater's stale entry never expires it.
    other, _ = table.register(b"ok", host="h", pid=2, worker="w1", version="t", capacity=1, jobs_done=0, now=3)
    fq.pop()
    table.assign(other, job, "j2", now=3, lease=1)
    assert table.expired_leases(5, max_job_seconds=100) == [(other, job)]
    table.release(other, "j2")
    fq.finish(job)
    assert table.expired_leases(50, max_job_seconds=100) == []


def test_silent_rater_is_dead_and_free_list_is_least_recently_used():
    table = RaterTable(liveness_timeout=5)
    a, _ = table.register(b"a", host="h", pid=1, worker="a", version="t", capacity=1, jobs_done=0, now=0)
    b, _ = table.register(b"b", host="h", pid=2, worker="b", version="t", capacity=1, jobs_done=0, now=0)
    assert table.next_free() is a
    table.mark_used(a)
    assert table.next_free() is b and table.next_free(avoid=b"b") is a
    table.seen(b, 4)
    assert table.dead(6) == [a]
