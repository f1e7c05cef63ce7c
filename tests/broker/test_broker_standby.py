"""Hot standby: brokers on one store, exactly one active; the others say "not active" and take over when it goes.

Two real brokers on loopback share one store (both back ends). The
multi-host rig (tests/multihost) shows the same across machines, with a
SIGKILL and a cut network link; these show the protocol and the fencing
rules one at a time.
"""

from __future__ import annotations

import time

import pytest
import zmq

from protocol import Disconnect, ErrorReply, RateReply, Ready, StatsRequest, decode
from protocol.client import NOT_ACTIVE, BrokerClient, BrokerUnavailable
from store import open_store
from tests.support.fake_rater import FakeRater
from tests.support.waiting import wait_until


def _call(endpoint: str, make, timeout: float = 5.0):
    """One request to one broker, its raw answer (a not-active ErrorReply included)."""
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    try:
        sock.send_multipart(make(7).to_frames())
        assert sock.poll(timeout * 1000), f"no answer from {endpoint}"
        return decode(sock.recv_multipart())
    finally:
        sock.close()


def _rate(rb, domains, ip="192.0.2.1"):
    from protocol import RateRequest
    return _call(rb.clients, lambda i: RateRequest(req_id=i, client_ip=ip, priority=1, domains=tuple(domains)))


def _role(rb) -> str:
    reply = _call(rb.clients, lambda i: StatsRequest(req_id=i, recent=0))
    if isinstance(reply, ErrorReply) and reply.code == NOT_ACTIVE:
        return "standby"
    return reply.stats["broker"]["role"]


def test_a_second_broker_on_the_store_stands_by_and_says_who_is_active(store_url, start_broker):
    active = start_broker(store_url)
    standby = start_broker(store_url)
    assert active.broker.role == "active" and standby.broker.role == "standby"
    assert active.stats()["broker"]["epoch"] == 1
    reply = _rate(standby, ["ask-the-standby.com"])
    assert isinstance(reply, ErrorReply) and reply.code == NOT_ACTIVE
    assert "standby" in reply.message and "broker[" in reply.message and "is active (epoch 1)" in reply.message
    assert _role(standby) == "standby"
    # A rater saying READY to the standby is sent on its way, not kept.
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(standby.raters)
    try:
        sock.send_multipart(Ready(capacity=1, host="h", pid=1, worker="w0", version="t", jobs_done=0).to_frames())
        assert sock.poll(5000)
        goodbye = decode(sock.recv_multipart())
        assert isinstance(goodbye, Disconnect) and goodbye.reason.startswith("not active") and not goodbye.reregister
    finally:
        sock.close()
    # Nothing the standby was asked for reached the store.
    with open_store(store_url) as s:
        assert s.load_queue() == []


def test_the_standby_takes_over_the_durable_queue_when_the_active_broker_stops(store_url, start_broker):
    a = start_broker(store_url)
    b = start_broker(store_url)
    with BrokerClient(f"{a.clients},{b.clients}", timeout=3) as client:
        from protocol import RateRequest
        acked = [f"queued{i}.com" for i in range(20)]
        reply = client.call(lambda i: RateRequest(req_id=i, client_ip="192.0.2.9", priority=1, domains=tuple(acked)))
        assert isinstance(reply, RateReply)
        a.stop()                                   # no rater ever came: all 20 wait in the durable queue
        started = time.monotonic()
        wait_until(lambda: b.broker.role == "active", 10, "the standby to take over")
        took = time.monotonic() - started
        assert took < 5, took
        assert b.stats()["totals"]["queued"] == 20 and b.stats()["broker"]["epoch"] == 2
        # The same client (both endpoints) carries on against the new active broker.
        later = client.call(lambda i: RateRequest(req_id=i, client_ip="192.0.2.9", priority=1,
                                                  domains=("after-failover.com",)))
        assert isinstance(later, RateReply)
    with FakeRater(b.raters, "r0", context=b.context):
        b.wait_for(lambda s: s["counters"].get("completed", 0) == 21 and s["totals"]["live"] == 0, 20, "all rated")
    with open_store(store_url) as s:
        assert set(s.lookup_ratings(acked + ["after-failover.com"])) == set(acked + ["after-failover.com"])


def _kill_lock_holder(store_url: str) -> None:
    with open_store(store_url) as admin:
        def body(cur):
            cur.execute("SELECT IS_USED_LOCK(%s)", (f"sitetruth.broker.{admin.url.database}"[:64],))
            owner = cur.fetchone()[0]
            cur.execute(f"KILL {int(owner)}")
        admin._run("kill the lock holder", body, write=False, schema=False)


@pytest.mark.mysql
def test_an_active_broker_whose_lease_is_taken_stops_serving_and_writes_nothing(mysql_store_url, start_broker):
    """Its lock's session ends and another broker takes the lease: the first drops to standby at its
    next round trip; the result of the job it had out is not written by it, and the job is rated once,
    by whoever is active next."""
    rb = start_broker(mysql_store_url, lock_timeout=4)
    rater = FakeRater(rb.raters, "slow", mode="sleep:2", context=rb.context).start()
    try:
        assert isinstance(_rate(rb, ["in-flight.com"]), RateReply)
        rb.wait_for(lambda s: any(r["job"] == "in-flight.com" for r in s["raters"]), 10, "the job out")
        _kill_lock_holder(mysql_store_url)
        intruder = open_store(mysql_store_url)
        assert intruder.take_broker_lease("another broker", wait=1, timeout=4).epoch == 2
        wait_until(lambda: rb.broker.role == "standby", 5, "the broker to drop to standby")
        reply = _rate(rb, ["after-the-fence.com"])
        assert isinstance(reply, ErrorReply) and reply.code == NOT_ACTIVE and "another broker" in reply.message
        wait_until(lambda: rater.registrations >= 2, 5, "its rater to be told to go")
        wait_until(lambda: rater.results >= 1, 10, "the rater's RESULT for the job it had out")
        time.sleep(0.2)                            # ...and the broker's turn that read it
        with open_store(mysql_store_url) as s:
            assert s.lookup_ratings(["in-flight.com"]) == {}
            assert [j.domain for j in s.load_queue()] == ["in-flight.com"]
        # The other broker goes: this one is active again (a new epoch) and rates the job once.
        intruder.close()
        wait_until(lambda: rb.broker.role == "active", 10, "the broker to take the lease back")
        assert rb.stats()["broker"]["epoch"] == 3
        rb.wait_for(lambda s: s["totals"]["live"] == 0 and s["counters"].get("rated_Q", 0) == 1, 20, "rated once")
    finally:
        rater.stop()
    with open_store(mysql_store_url) as s:
        assert "in-flight.com" in s.lookup_ratings(["in-flight.com"]) and s.load_queue() == []


def test_a_standby_that_is_stopped_leaves_the_active_broker_alone(store_url, start_broker):
    a = start_broker(store_url)
    b = start_broker(store_url)
    b.stop()
    assert isinstance(_rate(a, ["still-served.com"]), RateReply)
    assert a.stats()["broker"]["role"] == "active"
    with pytest.raises(BrokerUnavailable):
        with BrokerClient(b.clients, timeout=0.5) as gone:
            gone.call(lambda i: StatsRequest(req_id=i, recent=0))
