"""The audit trail over real CURVE sockets: each rating names its rater's key; an operator re-rates one key's work."""

from __future__ import annotations

import json
import time

import zmq

from frontend import pages
from protocol import AdminRequest, Disconnect, RateReply, Ready, Result, decode
from protocol import Job as JobMessage
from protocol.client import BrokerClient
from protocol.vocabulary import Rating, RatingInfo
from store import StoredRating, open_store
from tests.support.keys import broker_keyset, lay_out_keys, peer_keys
from tests.support.waiting import wait_for_stats


def _keys(tmp_path):
    lay_out_keys(tmp_path, (("raters", "node1"), ("raters", "node7"), ("clients", "fe1"), ("admins", "ops")))
    return broker_keyset(tmp_path), lambda n: peer_keys(tmp_path, n)


def _rater(ctx, endpoint, curve, name: str) -> zmq.Socket:
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    sock.setsockopt(zmq.ROUTING_ID, f"{name}/w0/1".encode())
    curve.apply(sock)
    sock.connect(endpoint)
    sock.send_multipart(Ready(capacity=1, host=f"host-{name}", pid=1, worker="w0", version="t").to_frames())
    return sock


def _answer_jobs(sock: zmq.Socket, n: int, rating: Rating) -> list[str]:
    done = []
    deadline = time.monotonic() + 15
    while len(done) < n and time.monotonic() < deadline:
        if sock.poll(200):
            msg = decode(sock.recv_multipart())
            if isinstance(msg, JobMessage):
                sock.send_multipart(Result(job_id=msg.job_id, domain=msg.domain, rating=rating,
                                           ratinginfo=RatingInfo.UNVERIFIED, location=None, evidence=(),
                                           elapsed=0.1).to_frames())
                done.append(msg.domain)
    assert len(done) == n, f"only {done} rated"
    return done


def _ratings(store_url, domains):
    with open_store(store_url) as s:
        return s.lookup_ratings(domains)


def test_ratings_name_their_rater_key_and_one_key_can_be_rerated(store_url, tmp_path, start_broker):
    keyset, own = _keys(tmp_path)
    rb = start_broker(store_url, broker_kwargs={"keyset": keyset}, recently_rated=300.0)
    ctx = rb.context
    fe = BrokerClient(rb.clients, timeout=5, connect_grace=3.0, curve=own("fe1"), context=ctx)
    ops = BrokerClient(rb.clients, timeout=5, connect_grace=3.0, curve=own("ops"), context=ctx)
    node7 = _rater(ctx, rb.raters, own("node7"), "node7")
    node1 = None
    try:
        wait_for_stats(ops, lambda s: len(s["raters"]) == 1, 10, "node7 registered")
        stolen = ["stolen-a.com", "stolen-b.com"]
        assert isinstance(rb.rate(fe, "192.0.2.1", stolen), RateReply)
        _answer_jobs(node7, 2, Rating.A)
        node7.send_multipart(Disconnect(reason="leaving", reregister=False).to_frames())
        wait_for_stats(ops, lambda s: not s["raters"], 10, "node7 gone")
        node7.close()
        node7 = None
        node1 = _rater(ctx, rb.raters, own("node1"), "node1")
        assert isinstance(rb.rate(fe, "192.0.2.1", ["honest.com"]), RateReply)
        _answer_jobs(node1, 1, Rating.Q)
        wait_for_stats(ops, lambda s: s["counters"].get("rated_Q", 0) == 1 and s["counters"].get("rated_A", 0) == 2,
                       10, "three ratings committed")
        got = _ratings(store_url, stolen + ["honest.com"])
        assert {d: r.rated_by for d, r in got.items()} == {"stolen-a.com": "node7", "stolen-b.com": "node7",
                                                            "honest.com": "node1"}
        # Shown to people and programs.
        assert b"by rater node7" in pages.render_details(got["stolen-a.com"], time.time())
        assert json.loads(pages.details_json(got["honest.com"]))["rated_by"] == "node1"
        # Asked again at once: no second job (just rated) ...
        assert isinstance(rb.rate(fe, "192.0.2.1", stolen), RateReply)
        # ... but the operator's re-rating of node7's work goes ahead, to node1.
        reply = ops.call(lambda i: AdminRequest(req_id=i, action="rerate", args={"rater": "node7"}))
        assert reply.ok and reply.data == {"queued": 2, "found": 2}, reply
        assert sorted(_answer_jobs(node1, 2, Rating.X)) == stolen
        st = wait_for_stats(ops, lambda s: s["counters"].get("rated_X", 0) == 2, 10, "re-ratings committed")
        assert st["counters"]["just_rated"] == 2 and st["counters"]["rerated"] == 2
        again = _ratings(store_url, stolen)
        assert {(r.rating, r.rated_by) for r in again.values()} == {("X", "node1")}
        bad = ops.call(lambda i: AdminRequest(req_id=i, action="rerate", args={}))
        assert not bad.ok and "rerate needs" in bad.detail
    finally:
        for sock in (node7, node1):
            if sock is not None:
                sock.close()
        fe.close()
        ops.close()


def test_a_restarted_broker_keeps_the_recently_rated_guard(tmp_path, start_broker):
    store_url = f"sqlite:///{tmp_path}/guard.db"
    with open_store(store_url) as s:
        s.migrate()
        s.complete([StoredRating.new("just-rated.com", "A", rated_at=time.time() - 5, rated_by="node1"),
                    StoredRating.new("long-ago.com", "A", rated_at=time.time() - 3600, rated_by="node1")])
    rb = start_broker(store_url, recently_rated=60.0)
    with rb.client() as c:
        reply = rb.rate(c, "192.0.2.1", ["just-rated.com", "long-ago.com"])
        st = rb.stats(c)
    assert [(i.domain, i.state.value, i.progress) for i in reply.items][0] == ("just-rated.com", "rating", "rated")
    assert st["counters"]["just_rated"] == 1 and st["counters"]["accepted"] == 1 and st["totals"]["live"] == 1
