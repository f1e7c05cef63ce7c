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


def test_a_pulse_moves_the_lease_and_the_ceiling_still_holds():
    fq = FairQueue()
    table = RaterTable(liveness_timeout=5, max_job_seconds=10)
    r, _ = table.register(b"r", host="h", pid=1, worker="w0", version="t", capacity=1, jobs_done=0, now=0)
    job, _ = fq.add("long.com", "ip", 1, 0)
    fq.pop()
    table.assign(r, job, "j1", now=0, lease=2)
    for t in (1.5, 3, 4.5, 6, 7.5, 9):                  # a pulse every 1.5 s keeps it going...
        assert table.expired_leases(t, max_job_seconds=10) == []
        job.lease_until = t + 2
    assert table.expired_leases(10.5, max_job_seconds=10) == [(r, job)]   # ...until the ceiling
    assert table.expired_leases(11, max_job_seconds=10) == []


def test_heartbeats_are_owed_to_those_sent_nothing_for_an_interval_oldest_first():
    table = RaterTable(liveness_timeout=5)
    raters = [table.register(n, host="h", pid=i, worker=n.decode(), version="t", capacity=1, jobs_done=0, now=0)[0]
              for i, n in enumerate((b"a", b"b", b"c"))]
    assert {r.identity for r in table.heartbeats_owed(1, 1)} == {b"a", b"b", b"c"}     # never sent anything
    for t, r in zip((0.2, 0.4, 0.6), raters):
        table.sent(r, t)
    assert table.heartbeats_owed(1.3, 1) == raters[:1]
    table.sent(raters[0], 1.3)
    assert table.heartbeats_owed(1.7, 1) == [raters[1], raters[2]]
    table.remove(b"b")
    assert table.heartbeats_owed(1.7, 1) == [raters[2]]


def test_the_dead_are_found_without_looking_at_the_living():
    table = RaterTable(liveness_timeout=5)
    quiet = [table.register(f"q{i}".encode(), host="h", pid=i, worker=f"q{i}", version="t", capacity=1,
                            jobs_done=0, now=0)[0] for i in range(3)]
    lively = table.register(b"l", host="h", pid=9, worker="l", version="t", capacity=1, jobs_done=0, now=0)[0]
    table.seen(quiet[1], 3)
    table.seen(lively, 8)
    assert table.dead(7) == [quiet[0], quiet[2]]
    table.register(b"q0", host="h", pid=0, worker="q0", version="t", capacity=1, jobs_done=0, now=7)  # READY again
    assert table.dead(9) == [quiet[2], quiet[1]]


def test_lease_entries_of_answered_jobs_do_not_pile_up():
    fq = FairQueue()
    table = RaterTable(liveness_timeout=5)
    r, _ = table.register(b"r", host="h", pid=1, worker="w0", version="t", capacity=1, jobs_done=0, now=0)
    for n in range(10_000):                          # each answered at once, its lease far in the future
        job, _ = fq.add(f"quick{n}.com", "ip", 1, n)
        fq.pop()
        table.assign(r, job, f"j{n}", now=n * 0.001, lease=3600)
        table.release(r, f"j{n}")
        fq.finish(job)
        assert table.expired_leases(n * 0.001, max_job_seconds=7200) == []
    assert len(table._leases) < 1024


def test_a_capacity_update_keeps_the_node_s_jobs_except_those_it_releases():
    """READY(update) from a node connection: new capacity, jobs kept, the released ones handed back."""
    fq = FairQueue()
    table = RaterTable(liveness_timeout=5)
    node, _ = table.register(b"n", host="h", pid=1, worker="node", version="t", capacity=3, jobs_done=0, now=0)
    jobs = []
    for n in range(3):
        job, _ = fq.add(f"held{n}.com", "ip", 1, 0)
        fq.pop()
        table.assign(node, job, f"j{n}", now=0, lease=60)
        jobs.append(job)
    assert node.free_slots == 0
    same, released = table.register(b"n", host="h", pid=1, worker="node", version="t", capacity=4, jobs_done=0,
                                    now=1, update=True, released=("j1", "j1", "unknown"))
    assert same is node and released == [jobs[1]]
    assert set(node.jobs) == {"j0", "j2"} and node.free_slots == 2
    assert table.next_free() is node
    # A plain READY (the node re-registering after the broker lost track) gives up everything.
    _, orphaned = table.register(b"n", host="h", pid=1, worker="node", version="t", capacity=4, jobs_done=0, now=2)
    assert orphaned == [jobs[0], jobs[2]] and not node.jobs
