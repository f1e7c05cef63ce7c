"""Who may change what, over real CURVE sockets: intruders change nothing, a rater answers only its own jobs.

Each intruder tries everything a peer could do (register, take a job, store
or overwrite a rating, fail a job, file an error report, ask for ratings,
pause or cancel) while a legitimate rater and frontend keep working; the
store is read before and after.
"""

from __future__ import annotations

import time

import pytest
import zmq

from protocol import (AdminRequest, Disconnect, ErrorReport, Failed, Pulse, RateReply, RateRequest, Ready, Result,
                      StatsRequest, decode)
from protocol import Job as JobMessage
from protocol.client import BrokerClient, BrokerUnavailable
from protocol.vocabulary import Rating, RatingInfo
from store import open_store
from tests.support.waiting import wait_for_stats


def _dealer(ctx, endpoint: str, curve=None, identity: bytes | None = None) -> zmq.Socket:
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    if identity is not None:
        sock.setsockopt(zmq.ROUTING_ID, identity)
    if curve is not None:
        curve.apply(sock)
    sock.connect(endpoint)
    return sock


def _result(job_id: str, domain: str, rating: Rating = Rating.X) -> Result:
    return Result(job_id=job_id, domain=domain, rating=rating, ratinginfo=RatingInfo.UNVERIFIED,
                  location=None, evidence=(), elapsed=0.1)


def _next_job(sock: zmq.Socket, timeout: float = 10.0) -> JobMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sock.poll(200):
            msg = decode(sock.recv_multipart())
            if isinstance(msg, JobMessage):
                return msg
    raise AssertionError("no JOB within %.0f s" % timeout)


def _everything_a_rater_could_send(sock: zmq.Socket, job_id: str, domain: str) -> None:
    for msg in (Ready(capacity=5, host="evil", pid=66, worker="w0", version="x"),
                _result(job_id, domain), _result("forged-1", domain),
                Failed(job_id=job_id, error="forged", traceback=""),
                Pulse(job_id=job_id, stage="forged", done=1, total=1),
                ErrorReport(host="evil", process="x", component="rater", message="forged report " * 100,
                            traceback="", domain=domain)):
        sock.send_multipart(msg.to_frames(), zmq.NOBLOCK)


def _everything_a_client_could_send(sock: zmq.Socket, domain: str) -> None:
    for i, msg in enumerate((RateRequest(req_id=1, client_ip="203.0.113.9", priority=0, domains=("intruder.com",)),
                             AdminRequest(req_id=2, action="pause", args={}),
                             AdminRequest(req_id=3, action="cancel", args={"domains": domain}),
                             StatsRequest(req_id=4, recent=0))):
        sock.send_multipart(msg.to_frames(), zmq.NOBLOCK)


def _snapshot(store_url: str, domains) -> tuple:
    s = open_store(store_url)
    try:
        ratings = {d: (r.rating, r.rated_at) for d, r in s.lookup_ratings(domains).items()}
        errors = s.recent_errors(1000)
        return ratings, sorted(q.domain for q in s.iter_queue()), len(errors), [(e.component, e.message[:200]) for e in errors]
    finally:
        s.close()


def test_intruders_change_nothing_while_the_cluster_keeps_working(store_url, keys, start_broker):
    keyset, own = keys
    rb = start_broker(store_url, broker_kwargs={"keyset": keyset})
    ctx = rb.context
    fe = BrokerClient(rb.clients, timeout=5, connect_grace=3.0, curve=own("fe1"), context=ctx)
    ops = BrokerClient(rb.clients, timeout=5, connect_grace=3.0, curve=own("ops"), context=ctx)
    node1 = _dealer(ctx, rb.raters, own("node1"), identity=b"node1/w0/1")
    intruders: list[zmq.Socket] = []
    try:
        # A legitimate rating first: victim.com is rated A by node1.
        assert isinstance(rb.rate(fe, "192.0.2.1", ["victim.com", "held.com"]), RateReply)
        node1.send_multipart(Ready(capacity=1, host="n1", pid=1, worker="w0", version="t").to_frames())
        first = _next_job(node1)
        node1.send_multipart(_result(first.job_id, first.domain, Rating.A).to_frames())
        second = _next_job(node1)          # node1 now holds the other domain's job
        rated, held = first.domain, second.domain
        deadline = time.monotonic() + 10
        while _snapshot(store_url, [rated])[0].get(rated, ("", 0))[0] != "A" and time.monotonic() < deadline:
            time.sleep(0.05)
        before = _snapshot(store_url, [rated, held, "intruder.com"])
        assert before[0][rated][0] == "A" and before[1] == [held]
        refused_before = sum(n for k, n in rb.stats(ops)["security"]["refused"].items())

        # Peers that never complete a handshake: no key, an unknown key, a
        # client key on the rater socket, a rater key on the client socket.
        for endpoint, curve, send in ((rb.raters, None, "rater"), (rb.raters, own("stranger"), "rater"),
                                      (rb.raters, own("fe1"), "rater"), (rb.clients, own("node2"), "client"),
                                      (rb.clients, None, "client"), (rb.clients, own("stranger"), "client")):
            sock = _dealer(ctx, endpoint, curve, identity=b"node1/w0/1" if send == "rater" else None)
            intruders.append(sock)
            if send == "rater":
                _everything_a_rater_could_send(sock, second.job_id, rated)
            else:
                _everything_a_client_could_send(sock, rated)
        # An admitted frontend key trying the operator's commands: refused per message.
        with pytest.raises(BrokerUnavailable):
            fe.call(lambda i: AdminRequest(req_id=i, action="pause", args={}), timeout=1.0)
        with pytest.raises(BrokerUnavailable):
            fe.call(lambda i: AdminRequest(req_id=i, action="cancel", args={"domains": held}), timeout=1.0)
        # An operator key declaring a client IP: only a frontend key speaks for end users.
        with pytest.raises(BrokerUnavailable):
            ops.call(lambda i: RateRequest(req_id=i, client_ip="203.0.113.5", priority=0,
                                           domains=("intruder.com",)), timeout=1.0)
        # An authenticated rater answering a job it does not hold (node1's),
        # and one a made-up id names, under its own identity...
        node2 = _dealer(ctx, rb.raters, own("node2"), identity=b"node2/w0/2")
        intruders.append(node2)
        node2.send_multipart(Ready(capacity=1, host="n2", pid=2, worker="w0", version="t").to_frames())
        for msg in (_result(second.job_id, held), _result(first.job_id, rated),
                    _result("forged-7", rated), Failed(job_id=second.job_id, error="forged", traceback=""),
                    Failed(job_id="forged-8", error="forged", traceback=""),
                    Pulse(job_id=second.job_id, stage="forged", done=1, total=1)):
            node2.send_multipart(msg.to_frames())
        # ...and under node1's identity (a takeover attempt with another key).
        thief = _dealer(ctx, rb.raters, own("node2"), identity=b"node1/w0/1")
        intruders.append(thief)
        for msg in (Ready(capacity=3, host="n1", pid=1, worker="w0", version="t"), _result(second.job_id, held),
                    Failed(job_id=second.job_id, error="forged", traceback="")):
            thief.send_multipart(msg.to_frames(), zmq.NOBLOCK)

        st = wait_for_stats(ops, lambda s: s["counters"].get("not_holder", 0) >= 6
                         and s["counters"].get("refused", 0) >= 3
                         and sum(n for k, n in s["security"]["refused"].items() if k.startswith("handshake:"))
                         >= 6, 15, "every forgery refused and counted")
        counters = st["counters"]
        refused_handshakes = sum(n for k, n in st["security"]["refused"].items() if k.startswith("handshake:"))
        print(f"\nrefused handshakes: {refused_handshakes}, refused commands: {counters['refused']}, "
              f"not_holder: {counters['not_holder']}, wrong_key: {counters.get('wrong_key', 0)}; "
              f"refusals by reason: {st['security']['refused']} (before: {refused_before})")
        assert counters.get("error_reports", 0) == 0
        assert st["broker"]["paused"] is False
        # Only node1 and node2 registered, each under its own key; node1
        # still holds its job (the thief never took over its identity).
        assert sorted((r["id"], r["key"]) for r in st["raters"]) == [("node1/w0/1", "node1"), ("node2/w0/2", "node2")]
        assert [r["job"] for r in st["raters"] if r["key"] == "node1"] == [held]
        time.sleep(0.5)
        assert _snapshot(store_url, [rated, held, "intruder.com"]) == before

        # The legitimate peers kept working: node1 finishes its job, fe1 gets
        # answers (node2 leaves, so the next job is node1's).
        node2.send_multipart(Disconnect(reason="done", reregister=False).to_frames())
        wait_for_stats(ops, lambda s: len(s["raters"]) == 1, 10, "node2 gone")
        node1.send_multipart(_result(second.job_id, held, Rating.Q).to_frames())
        assert isinstance(rb.rate(fe, "192.0.2.1", ["after-intrusion.com"]), RateReply)
        after = _next_job(node1)
        assert after.domain == "after-intrusion.com"
        node1.send_multipart(_result(after.job_id, after.domain, Rating.Q).to_frames())
        wait_for_stats(ops, lambda s: s["counters"].get("completed", 0) == 3, 10, "legitimate work done")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            final = _snapshot(store_url, [rated, held, "after-intrusion.com"])
            if len(final[0]) == 3:
                break
            time.sleep(0.05)
        assert final[0][rated] == before[0][rated]
        assert final[0][held][0] == "Q" and final[0]["after-intrusion.com"][0] == "Q"
        assert final[2] == before[2], f"an intruder's error report or failure was stored: {final[3]}"
    finally:
        for sock in intruders:
            sock.close()
        node1.close()
        fe.close()
        ops.close()
