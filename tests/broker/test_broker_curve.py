"""A broker serving CURVE: each socket admits only its roles' keys, each message only its sender's commands."""

from __future__ import annotations

import pytest
import zmq

from protocol import AdminRequest, RateReply, RateRequest, Ready, StatsRequest, decode
from protocol import Job as JobMessage
from protocol.client import BrokerClient, BrokerUnavailable


def test_roles_are_enforced_per_socket_and_per_message(tmp_path, keys, start_broker):
    keyset, client_keys = keys
    rb = start_broker(f"sqlite:///{tmp_path}/curve.db", broker_kwargs={"keyset": keyset})
    with BrokerClient(rb.clients, timeout=5, connect_grace=3.0, curve=client_keys("fe1"), context=rb.context) as fe:
        assert isinstance(fe.call(lambda i: RateRequest(req_id=i, client_ip="192.0.2.1", priority=1,
                                                        domains=("curve-site.com",))), RateReply)
        # A frontend may not act as an operator: dropped without a reply.
        with pytest.raises(BrokerUnavailable):
            fe.call(lambda i: AdminRequest(req_id=i, action="pause", args={}), timeout=1.0)
    with BrokerClient(rb.clients, timeout=5, connect_grace=3.0, curve=client_keys("ops"), context=rb.context) as ops:
        assert ops.call(lambda i: AdminRequest(req_id=i, action="pause", args={})).ok
        assert ops.call(lambda i: AdminRequest(req_id=i, action="resume", args={})).ok
        st = ops.call(lambda i: StatsRequest(req_id=i, recent=0)).stats
    assert st["security"]["curve"] is True and st["counters"]["refused"] == 1
    # No key at all: the handshake never completes.
    with BrokerClient(rb.clients, timeout=1, connect_grace=0.5, context=rb.context) as nobody:
        with pytest.raises(BrokerUnavailable):
            nobody.call(lambda i: StatsRequest(req_id=i, recent=0))
    # The rater key works on the rater socket and gets the job.
    rater = rb.context.socket(zmq.DEALER)
    rater.linger = 0
    client_keys("node1").apply(rater)
    rater.connect(rb.raters)
    try:
        rater.send_multipart(Ready(capacity=1, host="n", pid=1, worker="w0", version="t").to_frames())
        job = None
        for _ in range(20):
            assert rater.poll(5000)
            msg = decode(rater.recv_multipart())
            if isinstance(msg, JobMessage):
                job = msg
                break
        assert job is not None and job.domain == "curve-site.com"
    finally:
        rater.close()
