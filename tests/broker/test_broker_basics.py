"""Broker behaviour over real sockets: rating flow, coalescing, per-IP cap, stats, admin."""

from __future__ import annotations

import time

import pytest

from protocol import AdminRequest, ErrorReply, JobState, Overload, RateReply, RateRequest
from store import open_store
from tests.support.fake_rater import FakeRater


def test_request_is_acknowledged_dispatched_and_stored(store_url, start_broker):
    rb = start_broker(store_url)
    client = rb.client()
    reply = rb.rate(client, "192.0.2.1", ["example.com", "example.org"])
    assert isinstance(reply, RateReply)
    assert [(i.domain, i.state) for i in reply.items] == [("example.com", JobState.QUEUED),
                                                          ("example.org", JobState.QUEUED)]
    # Acknowledged means durable: the queue rows exist before any rater came.
    with open_store(store_url) as s:
        assert {j.domain for j in s.load_queue()} == {"example.com", "example.org"}
    with FakeRater(rb.raters, "r1", context=rb.context):
        rb.wait_for(lambda st: st["counters"].get("completed", 0) == 2, what="two completions")
    rb.wait_for(lambda st: st["journal"]["rows"] >= 4, what="journal flush")
    with open_store(store_url) as s:
        ratings = s.lookup_ratings(["example.com", "example.org"])
        assert {d: r.rating for d, r in ratings.items()} == {"example.com": "Q", "example.org": "Q"}
        assert ratings["example.com"].location == {"name": "Owner of example.com"}
        assert s.load_queue() == []


def test_invalid_domains_are_marked_not_queued(store_url, start_broker):
    rb = start_broker(store_url)
    reply = rb.rate(rb.client(), "192.0.2.1", ["example.com", "co.uk", "127.0.0.1", "localhost"])
    assert [i.state for i in reply.items] == [JobState.QUEUED, JobState.INVALID, JobState.INVALID,
                                              JobState.INVALID]
    st = rb.stats()
    assert st["totals"]["live"] == 1


def test_coalescing_fifty_requests_from_ten_ips_make_one_job(store_url, start_broker):
    rb = start_broker(store_url)
    clients = [rb.client() for _ in range(10)]
    for n in range(50):
        reply = rb.rate(clients[n % 10], f"198.51.100.{n % 10}", ["coalesce-me.com"])
        assert isinstance(reply, RateReply) and reply.items[0].state == JobState.QUEUED
    st = rb.stats()
    assert st["totals"]["live"] == 1
    assert st["counters"]["accepted"] == 1 and st["counters"]["coalesced"] == 49
    with FakeRater(rb.raters, "r1", context=rb.context) as rater:
        # Rated and committed, nothing left queued: no second job can come.
        rb.wait_for(lambda s: s["counters"].get("completed", 0) == 1 and s["totals"]["live"] == 0,
                    what="completion committed")
        assert [d for d, _ in rater.jobs] == ["coalesce-me.com"]
    # Every requester sees the one result: it is the stored rating of the domain.
    rb.wait_for(lambda s: s["journal"]["rows"] >= 2, what="journal flush")
    with open_store(store_url) as s:
        assert s.lookup_ratings(["coalesce-me.com"])["coalesce-me.com"].rating == "Q"


def test_per_ip_cap_answers_overload_and_spares_other_ips(store_url, start_broker):
    rb = start_broker(store_url)
    client = rb.client()
    for n in range(100):
        assert isinstance(rb.rate(client, "203.0.113.7", [f"site{n}.com"]), RateReply)
    over = rb.rate(client, "203.0.113.7", ["site100.com"])
    assert isinstance(over, Overload) and over.limit == 100 and over.outstanding == 100
    # Coalescing onto an existing job costs nothing and is still accepted.
    assert isinstance(rb.rate(client, "203.0.113.7", ["site5.com"]), RateReply)
    assert isinstance(rb.rate(client, "203.0.113.8", ["other.com"]), RateReply)


def test_stats_show_queues_raters_and_progress(store_url, start_broker):
    rb = start_broker(store_url)
    client = rb.client()
    rb.rate(client, "192.0.2.9", ["slow-site.net", "next-site.net"])
    with FakeRater(rb.raters, "slow", mode="sleep:30", context=rb.context):
        st = rb.wait_for(lambda s: any(r["job"] for r in s["raters"]) and
                         any(r["progress"] for r in s["raters"]), what="rater busy with progress")
        (rater,) = st["raters"]
        assert rater["state"] == "busy" and rater["job"] == "slow-site.net"
        assert rater["progress"].startswith("fetching 1/5")
        (queue,) = st["queues"]
        assert queue["ip"] == "192.0.2.9" and queue["queued"] == 1 and queue["outstanding"] == 2


def test_admin_cancel_pause_and_bad_action(store_url, start_broker):
    rb = start_broker(store_url)
    client = rb.client()
    rb.rate(client, "192.0.2.1", ["a-cancel.com", "b-keep.com"])
    reply = client.call(lambda i: AdminRequest(req_id=i, action="cancel", args={"domains": ["a-cancel.com"]}))
    assert reply.ok and list(reply.data["cancelled"]) == ["a-cancel.com"]
    reply = client.call(lambda i: AdminRequest(req_id=i, action="pause", args={}))
    assert reply.ok
    with FakeRater(rb.raters, "r1", context=rb.context) as rater:
        # A stats reply leaves after the dispatch of the turn that read it:
        # once it shows the rater registered, a dispatch would have happened.
        st = rb.wait_for(lambda s: s["totals"]["raters"] == 1 and s["totals"]["free_slots"] == 1,
                         what="rater registered")
        assert st["counters"].get("dispatched", 0) == 0 and st["totals"]["queued"] == 1
        assert rater.jobs == []          # paused: nothing dispatched
        client.call(lambda i: AdminRequest(req_id=i, action="resume", args={}))
        rb.wait_for(lambda s: s["counters"].get("completed", 0) == 1, what="completion after resume")
        assert [d for d, _ in rater.jobs] == ["b-keep.com"]
    bad = client.call(lambda i: AdminRequest(req_id=i, action="explode", args={}))
    assert not bad.ok and "unknown action" in bad.detail
    rb.wait_for(lambda s: s["journal"]["rows"] >= 3, what="journal flush")
    with open_store(store_url) as s:
        assert s.load_queue() == []


def test_rating_request_on_rater_socket_is_ignored_not_fatal(store_url, start_broker):
    import zmq

    from protocol import RateRequest

    rb = start_broker(store_url)
    sock = rb.context.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(rb.raters)
    sock.send_multipart(RateRequest(req_id=1, client_ip="x", priority=1, domains=("a.com",)).to_frames())
    sock.send_multipart([b"garbage"])
    st = rb.wait_for(lambda s: s["counters"].get("malformed_rater", 0) + s["counters"].get("unknown_rater", 0) >= 2,
                     what="garbage counted")
    assert st["totals"]["live"] == 0
    sock.close()


def test_client_garbage_gets_error_reply(store_url, start_broker):
    import zmq

    rb = start_broker(store_url)
    sock = rb.context.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(rb.clients)
    sock.send_multipart([b"ST\x01", b"\x01", b"\xc1"])
    assert sock.poll(5000)
    from protocol import decode

    reply = decode(sock.recv_multipart())
    assert isinstance(reply, ErrorReply) and reply.code == "protocol"
    sock.close()


def test_error_report_from_unregistered_peer_lands_in_error_log(store_url, start_broker):
    import zmq

    from protocol import ErrorReport

    rb = start_broker(store_url)
    sock = rb.context.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 1000)
    sock.connect(rb.raters)
    sock.send_multipart(ErrorReport(component="raterd.supervisor", message="worker 3 killed by SIGKILL",
                                    traceback="last stderr lines...", host="node7", process="raterd[42]").to_frames())
    rb.wait_for(lambda s: s["counters"].get("error_reports", 0) == 1 and s["journal"]["backlog"] == 0,
                what="report counted and committed")
    sock.close()
    with open_store(store_url) as s:
        errors = s.recent_errors(10)
    assert [(e.host, e.component, e.message) for e in errors] == [
        ("node7", "raterd.supervisor", "worker 3 killed by SIGKILL")]


def test_queued_items_carry_their_place_in_the_ips_queue(store_url, start_broker):
    rb = start_broker(store_url)
    client = rb.client()
    assert client.call(lambda i: AdminRequest(req_id=i, action="pause", args={})).ok
    first = rb.rate(client, "192.0.2.1", ["p1.com", "p2.com", "p3.com"])
    assert [(i.domain, i.position) for i in first.items] == [("p1.com", 1), ("p2.com", 2), ("p3.com", 3)]
    # Another IP has a queue of its own; a coalesced domain shows its place in its owner's queue.
    other = rb.rate(client, "192.0.2.2", ["q1.com", "p2.com"])
    assert [(i.domain, i.position) for i in other.items] == [("q1.com", 1), ("p2.com", 2)]
    # A more urgent request from the owner moves its domain forward.
    urgent = rb.rate(client, "192.0.2.1", ["p3.com"], priority=0)
    assert urgent.items[0].position == 1
    assert client.call(lambda i: AdminRequest(req_id=i, action="resume", args={})).ok
    with FakeRater(rb.raters, "slow", mode="hang", context=rb.context):
        rb.wait_for(lambda s: s["totals"]["in_flight"] == 1, what="one job in flight")
        held = rb.rate(client, "192.0.2.1", ["p3.com", "p1.com"])
        assert [(i.state, i.position) for i in held.items] == [(JobState.RATING, 0), (JobState.QUEUED, 1)]


def test_busy_port_leaves_no_store_file_behind(tmp_path):
    import subprocess
    import sys

    import zmq

    from broker import Broker, BrokerConfig
    from tests.support.processes import ROOT

    ctx = zmq.Context()
    squatter = ctx.socket(zmq.ROUTER)
    port = squatter.bind_to_random_port("tcp://127.0.0.1")
    path = tmp_path / "never-made.db"
    try:
        broker = Broker(BrokerConfig(store=f"sqlite:///{path}", bind_clients=f"tcp://127.0.0.1:{port}",
                                     bind_raters="tcp://127.0.0.1:*"), context=ctx)
        try:
            broker.start()
        except zmq.ZMQError:
            pass
        else:
            broker.close()
            raise AssertionError("the broker bound a port already in use")
        assert not path.exists()
        done = subprocess.run([sys.executable, "-m", "broker.cli", "--store", f"sqlite:///{path}",
                               "--bind-clients", f"tcp://127.0.0.1:{port}", "--bind-raters", "tcp://127.0.0.1:0"],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0, done.stdout + done.stderr
        assert not path.exists()
        assert not any(tmp_path.iterdir())
    finally:
        squatter.close(linger=0)
        ctx.term()


def test_dispatches_per_ip_for_operators(store_url, start_broker):
    rb = start_broker(store_url)
    client = rb.client()
    rb.rate(client, "192.0.2.1", ["d1.com", "d2.com"])
    rb.rate(client, "192.0.2.2", ["d3.com"])
    with FakeRater(rb.raters, "r1", context=rb.context):
        rb.wait_for(lambda s: s["counters"].get("completed", 0) == 3, what="three completions")
    reply = client.call(lambda i: AdminRequest(req_id=i, action="dispatches", args={"reset": True}))
    assert reply.ok and reply.data["by_ip"] == {"192.0.2.1": 2, "192.0.2.2": 1}
    again = client.call(lambda i: AdminRequest(req_id=i, action="dispatches", args={}))
    assert again.data["by_ip"] == {}


@pytest.mark.parametrize("delay,most", [(0.3, 1), (0.0, 5)])
def test_a_commit_delay_lets_requests_arriving_apart_share_one_commit(store_url, start_broker, delay, most):
    """Five RATEs 20 ms apart: with --commit-delay 0.3 one commit acknowledges all; without, each its own."""
    import zmq

    from protocol import decode

    rb = start_broker(store_url, commit_delay=delay)
    before = rb.stats()["journal"]["commits"]
    sock = rb.context.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(rb.clients)
    try:
        for i in range(5):
            sock.send_multipart(RateRequest(req_id=i + 1, client_ip="192.0.2.1", priority=1,
                                            domains=(f"apart{i}-delay.com",)).to_frames())
            time.sleep(0.02)
        replies = []
        while len(replies) < 5 and sock.poll(5000):
            replies.append(decode(sock.recv_multipart()))
    finally:
        sock.close()
    assert [type(r).__name__ for r in replies] == ["RateReply"] * 5
    commits = rb.stats()["journal"]["commits"] - before
    assert (commits == 1) if most == 1 else (commits >= 4), commits
