"""The broker's promise under the faults that used to break it.

"Acknowledged means it will be rated, exactly once": each test here stages
one way that promise can fail (writes reordered in the journal, an operator
cancel racing an enqueue, an enqueue failing while a rater holds the job, a
rating the store refuses, the journal thread dying, a bug in one phase of the
event loop, weights set by an operator, a rater whose queue is full) and
checks what a client or an operator would see, over real sockets and stores.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
import time

import pytest
import zmq

from broker import Broker, BrokerConfig
from broker.fairqueue import FairQueue
from broker.journal import Journal, Promoted
from broker.ops import Complete, Enqueue, Remove
from protocol import (
    AdminRequest,
    JobState,
    RateReply,
    RateRequest,
    Ready,
    Result,
    StatsRequest,
    Unavailable,
    decode,
)
from protocol import Job as JobMessage
from protocol.client import BrokerClient
from protocol.vocabulary import Rating, RatingInfo
from store import QueuedJob, StoredRating, open_store
from tests.support.fake_rater import FakeRater
from tests.support.waiting import wait_until


def _migrated(store_url: str) -> None:
    with open_store(store_url) as s:
        s.migrate()


def _queued(store_url: str) -> set[str]:
    with open_store(store_url) as s:
        return {j.domain for j in s.load_queue()}


def _execute(store_url: str, *statements: str) -> None:
    """Raw SQL on the store (test set-up only: triggers and control tables)."""
    with open_store(store_url) as s:
        def body(cur):
            for sql in statements:
                cur.execute(sql)
        s._run("test set-up", body, write=True)


def _wake_endpoint() -> tuple[zmq.Context, zmq.Socket, str]:
    ctx = zmq.Context()
    endpoint = f"inproc://wake-{time.monotonic_ns()}"
    pull = ctx.socket(zmq.PULL)
    pull.bind(endpoint)
    return ctx, pull, endpoint


def _outcomes(journal: Journal, n: int, timeout: float = 10.0) -> list:
    """The first ``n`` write outcomes (the journal first reports that it holds the store's lease)."""
    def writes() -> list:
        return [o for o in list(journal.outcomes) if not isinstance(o, Promoted)]
    wait_until(lambda: len(writes()) >= n, timeout, f"{n} journal outcomes")
    return writes()


# ---- journal order -----------------------------------------------------------

def test_retire_then_enqueue_of_one_domain_in_one_drain_keeps_the_new_row(store_url):
    """A cancel and a new request for the same domain, written in one drain: the new row stays."""
    _migrated(store_url)
    with open_store(store_url) as s:
        s.enqueue([QueuedJob("again.com", "192.0.2.1", 1, time.time())])
    ctx, pull, endpoint = _wake_endpoint()
    journal = Journal(ctx, store_url, endpoint)
    now = time.time()
    # Submitted before the thread starts, so its first drain takes all of them.
    journal.submit(Remove(("again.com",)))
    journal.submit(Enqueue(1, (QueuedJob("again.com", "192.0.2.2", 1, now),
                               QueuedJob("other.com", "192.0.2.2", 1, now))))
    journal.submit(Complete(StoredRating("other.com", "Q", "unverified", None, [], now, now + 60)))
    journal.submit(Enqueue(2, (QueuedJob("other.com", "192.0.2.3", 1, now),)))
    journal.start()
    try:
        outcomes = _outcomes(journal, 4)
        assert all(o.ok for o in outcomes), outcomes
        assert _queued(store_url) == {"again.com", "other.com"}
    finally:
        journal.stop()
        pull.close()
        ctx.term()


def test_one_drain_is_one_commit_and_a_refused_record_stays_with_its_own_group(store_url):
    """The groups of one drain share a transaction; a record the store refuses fails only its own group."""
    _migrated(store_url)
    ctx, pull, endpoint = _wake_endpoint()
    journal = Journal(ctx, store_url, endpoint)
    now = time.time()
    # Handed over before the thread starts, so its first drain takes them all.
    journal.submit_all([Enqueue(1, (QueuedJob("one.com", "192.0.2.1", 1, now),
                                    QueuedJob("two.com", "192.0.2.1", 1, now))),
                        Complete(StoredRating("two.com", "Q", "unverified", None, [], now, now + 60))])
    journal.start()
    try:
        assert all(o.ok for o in _outcomes(journal, 2))
        assert journal.commits == 1 and journal.rows == 3
        assert _queued(store_url) == {"one.com"}
        refused = StoredRating("bad.com", "W", "", None, [], now, now + 60)     # no such rating letter
        journal.submit_all([Enqueue(2, (QueuedJob("three.com", "192.0.2.1", 1, now),)), Complete(refused)])
        outcomes = _outcomes(journal, 4)[2:]
        assert [(type(o.op).__name__, o.ok) for o in outcomes] == [("Enqueue", True), ("Complete", False)]
        assert _queued(store_url) == {"one.com", "three.com"}
        assert journal.commits == 2
    finally:
        journal.stop()
        pull.close()
        ctx.term()


def test_admin_cancel_read_in_the_same_turn_as_the_request_leaves_no_row(store_url):
    """RATE then cancel of the same domain, both read in one loop turn: no orphan queue row."""
    _migrated(store_url)
    ctx = zmq.Context()
    config = dataclasses.replace(BrokerConfig(), store=store_url, bind_clients="tcp://127.0.0.1:*",
                                 bind_raters="tcp://127.0.0.1:*")
    broker = Broker(config, context=ctx)
    broker.start()
    dealer = ctx.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.connect(broker.client_endpoint)
    dealer.send_multipart(RateRequest(req_id=1, client_ip="192.0.2.1", priority=1,
                                      domains=("cancel-me.com", "keep-me.com")).to_frames())
    dealer.send_multipart(AdminRequest(req_id=2, action="cancel", args={"domains": ["cancel-me.com"]}).to_frames())
    # More work in the same turn after the cancel: the journal thread gets
    # time to run between the cancel and the end of the turn, as it may on a
    # busy broker.
    for n in range(300):
        dealer.send_multipart(StatsRequest(req_id=3 + n, recent=50).to_frames())
    assert broker.clients.poll(5000)
    time.sleep(0.3)                       # every frame is waiting before the loop's first turn
    thread = threading.Thread(target=broker.run, daemon=True)
    thread.start()
    try:
        replies = {}
        for _ in range(302):
            assert dealer.poll(5000)
            msg = decode(dealer.recv_multipart())
            replies[msg.req_id] = msg
        assert isinstance(replies[1], RateReply) and replies[2].ok
        assert list(replies[2].data["cancelled"]) == ["cancel-me.com"]
    finally:
        broker.stop()
        thread.join(10)
        broker.close()
        dealer.close()
        ctx.term()
    assert _queued(store_url) == {"keep-me.com"}


# ---- requests always answered ------------------------------------------------------

def test_request_for_in_flight_job_whose_enqueue_failed_is_answered(tmp_path, start_broker):
    path = tmp_path / "locked.db"
    url = f"sqlite:///{path}?busy_timeout=0.3"
    _migrated(url)
    rb = start_broker(url)
    client = rb.client(timeout=5)
    with FakeRater(rb.raters, "holder", mode="hang", context=rb.context):
        rb.wait_for(lambda s: s["totals"]["raters"] == 1, what="rater registered")
        lock = sqlite3.connect(str(path), isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        try:
            first = rb.rate(client, "192.0.2.1", ["held.com"])
            assert isinstance(first, Unavailable), first
            rb.wait_for(lambda s: s["totals"]["in_flight"] == 1, what="job held by the rater")
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        rb.wait_for(lambda s: s["broker"]["store_ok"], what="store back")
        # The job is live but its row was never written: this request must
        # write it and be answered, not wait for a batch that never comes.
        again = rb.rate(client, "192.0.2.1", ["held.com"])
        assert isinstance(again, RateReply), again
        assert again.items[0].state == JobState.RATING
        assert _queued(url) == {"held.com"}
        st = rb.stats(client)
        assert st["journal"]["pending_requests"] == 0 and st["journal"]["unacked_batches"] == 0


def test_rating_refused_by_the_store_is_retried_not_dropped(store_url, start_broker):
    _migrated(store_url)
    if store_url.startswith("sqlite"):
        _execute(store_url, "CREATE TABLE refuse (n INTEGER)", "INSERT INTO refuse VALUES (1)",
                 "CREATE TRIGGER refuse_rating BEFORE INSERT ON ratings WHEN (SELECT count(*) FROM refuse) > 0 "
                 "BEGIN SELECT RAISE(ABORT, 'rating refused by test trigger'); END")
    else:
        _execute(store_url, "CREATE TABLE refuse (n INTEGER)", "INSERT INTO refuse VALUES (1)",
                 "CREATE TRIGGER refuse_rating BEFORE INSERT ON ratings FOR EACH ROW BEGIN "
                 "IF (SELECT count(*) FROM refuse) > 0 THEN "
                 "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'rating refused by test trigger'; END IF; END")
    rb = start_broker(store_url, max_attempts=5)
    client = rb.client()
    assert isinstance(rb.rate(client, "192.0.2.1", ["refused.com"]), RateReply)
    with FakeRater(rb.raters, "r1", mode="sleep:0.2", context=rb.context):
        rb.wait_for(lambda s: s["counters"].get("ratings_refused", 0) >= 1, what="a rating refused")
        _execute(store_url, "DELETE FROM refuse")
        st = rb.wait_for(lambda s: s["totals"]["live"] == 0, what="job rated and committed")
    assert st["counters"]["requeued"] >= 1
    with open_store(store_url) as s:
        assert s.lookup_ratings(["refused.com"])["refused.com"].rating == "Q"
        assert s.load_queue() == []


# ---- the loop survives its own bugs; the journal's death is not silent --------------

def test_journal_that_cannot_open_its_store_is_reported_dead():
    ctx, pull, endpoint = _wake_endpoint()
    journal = Journal(ctx, "postgres://nowhere/x", endpoint)
    try:
        journal.start()
        wait_until(lambda: not journal.alive, 5, "journal reported dead")
        assert "postgres" in journal.death or "scheme" in journal.death.lower(), journal.death
        assert pull.poll(2000)            # the event loop is woken to notice
    finally:
        journal.stop()
        pull.close()
        ctx.term()


def test_journal_death_answers_waiters_and_ends_the_loop(store_url, monkeypatch):
    _migrated(store_url)
    monkeypatch.setenv("SITETRUTH_TEST_JOURNAL_FAULT", "die-after:1")
    ctx = zmq.Context()
    config = dataclasses.replace(BrokerConfig(), store=store_url, bind_clients="tcp://127.0.0.1:*",
                                 bind_raters="tcp://127.0.0.1:*")
    broker = Broker(config, context=ctx)
    broker.start()
    ended: list[BaseException] = []

    def run() -> None:
        try:
            broker.run()
        except BaseException as e:  # noqa: BLE001 - recorded for the assertion
            ended.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    client = BrokerClient(broker.client_endpoint, timeout=5, context=ctx)
    try:
        ok = client.call(lambda i: RateRequest(req_id=i, client_ip="192.0.2.1", priority=1, domains=("one.com",)))
        assert isinstance(ok, RateReply)
        refused = client.call(lambda i: RateRequest(req_id=i, client_ip="192.0.2.1", priority=1,
                                                    domains=("two.com",)))
        assert isinstance(refused, Unavailable) and "journal" in refused.reason, refused
        thread.join(5)
        assert not thread.is_alive()
        assert ended and type(ended[0]).__name__ == "JournalStopped"
    finally:
        client.close()
        broker.stop()
        thread.join(5)
        broker.close()
        ctx.term()


@pytest.mark.parametrize("phase", ["timers", "next_assignment", "journal_outcome"])
def test_a_bug_in_one_loop_phase_is_logged_not_fatal(store_url, start_broker, phase):
    _migrated(store_url)
    rb = start_broker(store_url)
    core = rb.broker.core
    real = getattr(core, phase)
    failures = []

    def broken(*args, **kwargs):
        if not failures:
            failures.append(phase)
            raise RuntimeError(f"injected bug in {phase}")
        return real(*args, **kwargs)

    setattr(core, phase, broken)
    client = rb.client()
    with FakeRater(rb.raters, "r1", context=rb.context):
        # Answered either way (a bug while handling its commit says "ask again").
        first = rb.rate(client, "192.0.2.1", ["survivor.com"])
        assert isinstance(first, (RateReply, Unavailable)), first
        if isinstance(first, Unavailable):       # as a client does: ask again
            assert isinstance(rb.rate(client, "192.0.2.1", ["survivor.com"]), RateReply)
        # (Asked again after an "ask again", it may be rated a second time,
        # as any domain asked again after its rating was stored.)
        st = rb.wait_for(lambda s: s["counters"].get("completed", 0) >= 1 and s["totals"]["live"] == 0
                         and s["counters"].get("loop_errors", 0) >= 1, what="rated despite the bug")
    assert failures == [phase]
    assert st["counters"]["loop_errors"] == 1
    assert st["journal"]["pending_requests"] == 0 and st["journal"]["unacked_batches"] == 0
    if phase == "journal_outcome":
        assert isinstance(first, Unavailable)
    with open_store(store_url) as s:
        assert s.lookup_ratings(["survivor.com"])["survivor.com"].rating == "Q"
        assert s.load_queue() == []


# ---- operator weights ---------------------------------------------------------------

def test_weight_outlives_the_ips_last_job_and_reset_frees_it():
    fq = FairQueue()
    fq.set_weight("10.0.0.1", 3)
    assert fq.tracked_ips() == 0                 # an idle IP's weight costs no queue
    job, _ = fq.add("first.com", "10.0.0.1", 1, 0.0)
    assert fq.pop() is job
    fq.finish(job)
    assert fq.tracked_ips() == 0
    for n in range(6):
        fq.add(f"a{n}.com", "10.0.0.1", 1, 1.0)
        fq.add(f"b{n}.com", "10.0.0.2", 1, 1.0)
    order = [fq.pop().client_ip for _ in range(4)]
    assert order == ["10.0.0.1"] * 3 + ["10.0.0.2"]
    assert fq.weights() == {"10.0.0.1": 3}
    fq.set_weight("10.0.0.1", 1)
    fq.set_weight("10.9.9.9", 1)
    assert fq.weights() == {}


def test_admin_weight_for_idle_ip_is_kept_and_shown(store_url, start_broker):
    rb = start_broker(store_url)
    client = rb.client()
    reply = client.call(lambda i: AdminRequest(req_id=i, action="weight", args={"ip": "198.18.0.1", "weight": 4}))
    assert reply.ok
    with FakeRater(rb.raters, "r1", context=rb.context):
        rb.rate(client, "198.18.0.1", ["w1.com"])
        rb.wait_for(lambda s: s["totals"]["live"] == 0 and s["counters"].get("completed", 0) == 1,
                    what="the IP's only job done")
    assert rb.stats(client)["weights"] == {"198.18.0.1": 4}


# ---- a rater whose queue is full is busy, not dead ----------------------------------

def test_full_rater_queue_is_back_pressure_not_death(tmp_path):
    url = f"sqlite:///{tmp_path / 'bp.db'}"
    _migrated(url)
    ctx = zmq.Context()
    config = dataclasses.replace(BrokerConfig(), store=url, bind_clients="tcp://127.0.0.1:*",
                                 bind_raters=f"inproc://raters-{time.monotonic_ns()}", liveness=30, heartbeat=5)
    broker = Broker(config, context=ctx, rater_hwm=2)
    broker.start()
    thread = threading.Thread(target=broker.run, daemon=True)
    thread.start()
    rater = ctx.socket(zmq.DEALER)
    rater.setsockopt(zmq.RCVHWM, 1)
    rater.setsockopt(zmq.LINGER, 0)
    rater.setsockopt(zmq.ROUTING_ID, b"slow-reader")
    rater.connect(broker.rater_endpoint)
    client = BrokerClient(broker.client_endpoint, timeout=5, context=ctx)
    domains = tuple(f"bp{n}.com" for n in range(30))
    try:
        rater.send_multipart(Ready(capacity=30, host="h", pid=1, worker="w", version="t").to_frames())

        def stats() -> dict:
            return client.call(lambda i: StatsRequest(req_id=i, recent=0)).stats

        wait_until(lambda: stats()["totals"]["raters"] == 1, 5, "rater registered")
        assert isinstance(client.call(lambda i: RateRequest(req_id=i, client_ip="192.0.2.1", priority=1,
                                                            domains=domains)), RateReply)
        wait_until(lambda: stats()["counters"].get("rater_send_failures", 0) >= 1, 5, "a send refused: queue full")
        st = stats()
        assert st["totals"]["raters"] == 1, st["counters"]       # still there, not presumed dead
        assert st["totals"]["live"] == 30
        # Now it reads: every job reaches it and is rated.
        got: set[str] = set()
        end = time.monotonic() + 20
        while len(got) < 30 and time.monotonic() < end:
            if rater.poll(200):
                msg = decode(rater.recv_multipart())
                if isinstance(msg, JobMessage):
                    got.add(msg.domain)
                    rater.send_multipart(Result(job_id=msg.job_id, domain=msg.domain, rating=Rating.Q,
                                                ratinginfo=RatingInfo.UNVERIFIED, location=None, evidence=(),
                                                elapsed=0.0).to_frames())
        assert got == set(domains)
        wait_until(lambda: stats()["totals"]["live"] == 0, 10, "all rated")
        assert stats()["counters"].get("attempts", 0) == 0
    finally:
        client.close()
        rater.close()
        broker.stop()
        thread.join(10)
        broker.close()
        ctx.term()


# ---- what /healthz and zmq-monitor read: the journal's state -------------------------

def test_stalled_journal_stops_acknowledgements_and_says_so(tmp_path, start_broker):
    path = tmp_path / "stall.db"
    url = f"sqlite:///{path}?busy_timeout=30"
    _migrated(url)
    rb = start_broker(url, broker_kwargs={"stall_after": 1.0})
    client = rb.client(timeout=10)
    st = rb.stats(client)
    assert st["journal"]["alive"] and st["broker"]["accepting"] and st["journal"]["backlog"] == 0
    lock = sqlite3.connect(str(path), isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")         # the journal's next write hangs on this lock
    try:
        stuck = BrokerClient(rb.clients, timeout=0.5, context=rb.context)
        try:
            with pytest.raises(Exception):  # not answered: its enqueue cannot commit
                rb.rate(stuck, "192.0.2.1", ["stuck.com"])
        finally:
            stuck.close()
        st = rb.wait_for(lambda s: not s["broker"]["accepting"], timeout=10, what="refusing while stalled")
        assert "journal stalled" in st["broker"]["refusal"]
        assert st["journal"]["backlog"] >= 1 and st["journal"]["stalled_for"] >= 1.0
        refused = rb.rate(client, "192.0.2.1", ["later.com"])
        assert isinstance(refused, Unavailable) and "journal stalled" in refused.reason
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    st = rb.wait_for(lambda s: s["broker"]["accepting"] and s["journal"]["backlog"] == 0, what="commits again")
    assert isinstance(rb.rate(client, "192.0.2.1", ["later.com"]), RateReply)
    assert _queued(url) == {"stuck.com", "later.com"}


def test_first_write_after_a_long_idle_spell_is_not_a_stall(store_url, start_broker):
    _migrated(store_url)
    rb = start_broker(store_url, broker_kwargs={"stall_after": 0.3})
    client = rb.client()
    for n in range(3):
        # Idle for longer than the stall limit, every time.
        rb.wait_for(lambda s: s["journal"]["last_commit_age"] > 0.5 and s["journal"]["backlog"] == 0,
                    what="an idle spell")
        assert isinstance(rb.rate(client, "192.0.2.1", [f"after-idle{n}.com"]), RateReply)
    assert rb.stats(client)["broker"]["accepting"]


def test_broker_process_exits_nonzero_when_its_journal_dies(store_url, tmp_path):
    from tests.support.processes import free_port, start_broker_process

    _migrated(store_url)
    cport, rport = free_port(), free_port()
    proc = start_broker_process(store_url, tmp_path, cport, rport,
                                env={"SITETRUTH_TEST_JOURNAL_FAULT": "die-after:1"})
    try:
        with BrokerClient(f"tcp://127.0.0.1:{cport}", timeout=5) as client:
            first = client.call(lambda i: RateRequest(req_id=i, client_ip="192.0.2.1", priority=1,
                                                      domains=("first.com",)))
            assert isinstance(first, RateReply)
            second = client.call(lambda i: RateRequest(req_id=i, client_ip="192.0.2.1", priority=1,
                                                       domains=("second.com",)))
            assert isinstance(second, Unavailable) and "journal" in second.reason
        assert proc.popen.wait(10) != 0
        assert "journal thread died" in proc.output()
    finally:
        proc.kill()
    assert _queued(store_url) == {"first.com"}
