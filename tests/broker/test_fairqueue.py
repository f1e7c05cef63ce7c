"""FairQueue (pure logic): DRR fairness, priorities within an IP, coalescing, outstanding counts."""

from __future__ import annotations

import collections
import random

from broker.fairqueue import FairQueue


def drain(fq: FairQueue, n: int | None = None) -> list:
    out = []
    while n is None or len(out) < n:
        job = fq.pop()
        if job is None:
            break
        out.append(job)
    return out


def test_late_small_ip_is_served_within_one_turn():
    fq = FairQueue()
    for i in range(1000):
        fq.add(f"a{i}.com", "10.0.0.1", 1, i)
    drain(fq, 7)                          # the raters are busy with A's flood
    fq.add("b.com", "10.0.0.2", 1, 2000)
    nxt = [j.domain for j in drain(fq, 2)]
    assert "b.com" in nxt


def test_twenty_flooding_ips_get_equal_shares():
    fq = FairQueue()
    rng = random.Random(7)
    ips = [f"198.51.100.{i}" for i in range(20)]
    arrivals = [(ip, n) for ip in ips for n in range(500)]
    rng.shuffle(arrivals)                 # interleaved arrival, as a real flood
    for t, (ip, n) in enumerate(arrivals):
        fq.add(f"{ip.replace('.', '-')}-{n}.com", ip, 1, t)
    served = collections.Counter(j.client_ip for j in drain(fq, 4000))
    share = 4000 / 20
    assert all(abs(c - share) <= 0.05 * share for c in served.values()), served
    assert len(served) == 20


def test_priority_orders_jobs_within_an_ip_only():
    fq = FairQueue()
    fq.add("low1.com", "a", 5, 0)
    fq.add("low2.com", "a", 5, 1)
    fq.add("high.com", "a", 0, 2)
    fq.add("other.com", "b", 9, 3)
    order = [j.domain for j in drain(fq)]
    # A's urgent job jumps A's own queue, not B's turn.
    assert order == ["high.com", "other.com", "low1.com", "low2.com"]


def test_coalescing_returns_the_existing_job_and_counts_once():
    fq = FairQueue()
    job, created = fq.add("x.com", "a", 1, 0)
    again, created2 = fq.add("x.com", "b", 1, 1)
    assert created and not created2 and again is job
    assert fq.outstanding("a") == 1 and fq.outstanding("b") == 0
    popped = fq.pop()
    popped.rater = b"r"                    # in flight
    assert fq.add("x.com", "c", 1, 2) == (job, False)
    fq.finish(job)
    assert fq.outstanding("a") == 0 and len(fq) == 0
    assert fq.add("x.com", "c", 1, 3)[1] is True   # finished: a new request makes a new job


def test_requeue_puts_job_at_front_of_its_ip_and_finish_cancels_queued():
    fq = FairQueue()
    for i in range(3):
        fq.add(f"j{i}.com", "a", 1, i)
    first = fq.pop()
    first.rater = b"dead"
    fq.requeue(first)
    assert fq.pop() is first
    fq.finish(fq.get("j2.com"))
    assert [j.domain for j in drain(fq)] == ["j1.com"]
    assert fq.queued == 0


def test_weights_give_proportional_service():
    fq = FairQueue()
    fq.set_weight("heavy", 3)
    for i in range(300):
        fq.add(f"h{i}.com", "heavy", 1, i)
        fq.add(f"l{i}.com", "light", 1, i)
    served = collections.Counter(j.client_ip for j in drain(fq, 400))
    assert served["heavy"] == 300 and served["light"] == 100


def test_owner_can_raise_priority_of_queued_job():
    fq = FairQueue()
    fq.add("a.com", "ip", 5, 0)
    fq.add("b.com", "ip", 5, 1)
    fq.add("b.com", "ip", 0, 2)
    assert [j.domain for j in drain(fq)] == ["b.com", "a.com"]


def test_retired_job_coalesces_until_finished_and_is_never_dispatched():
    fq = FairQueue()
    job, _ = fq.add("rated.com", "a", 1, 0)
    fq.add("other.com", "a", 1, 1)
    popped = fq.pop()
    popped.rater = b"r1"
    fq.retire(popped)                        # RESULT arrived; commit pending
    assert fq.add("rated.com", "b", 1, 2) == (job, False)   # no second job in the gap
    assert [j.domain for j in drain(fq)] == ["other.com"]
    assert fq.outstanding("a") == 2
    fq.finish(job)                           # commit acknowledged
    assert fq.add("rated.com", "b", 1, 3)[1] is True


def test_retire_removes_a_requeued_job_from_its_queue():
    fq = FairQueue()
    job, _ = fq.add("x.com", "a", 1, 0)
    fq.retire(job)                           # a stale RESULT for a queued job
    assert fq.queued == 0 and fq.pop() is None and len(fq) == 1
