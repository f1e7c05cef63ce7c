"""send_frames: a multipart message over real sockets, as send_multipart would send it."""

from __future__ import annotations

import pytest
import zmq

import protocol as p
from protocol.wire import send_frames


@pytest.fixture
def pair():
    ctx = zmq.Context()
    router, dealer = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
    router.setsockopt(zmq.ROUTER_MANDATORY, 1)
    for s in (router, dealer):
        s.setsockopt(zmq.LINGER, 0)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer.setsockopt(zmq.ROUTING_ID, b"rater-1")
    dealer.connect(f"tcp://127.0.0.1:{port}")
    yield router, dealer
    router.close(0)
    dealer.close(0)
    ctx.term()


def test_frames_arrive_whole_and_in_order_both_ways(pair):
    router, dealer = pair
    ready = p.Ready(capacity=1, host="h", pid=1, worker="w", version="v").to_frames()
    send_frames(dealer, ready, zmq.NOBLOCK)
    assert router.poll(5000)
    identity, frames = p.split_envelope(router.recv_multipart())
    assert identity == b"rater-1" and p.decode(frames) == p.decode(ready)

    job = p.Job(job_id="j-1", domain="example.com", attempt=1, lease=20.0, deadline=90.0)
    send_frames(router, p.join_envelope(identity, job.to_frames()), zmq.NOBLOCK)
    assert dealer.poll(5000)
    got = dealer.recv_multipart()
    assert got == job.to_frames() and p.decode(got) == job
    assert not dealer.poll(100)  # one message, nothing left over


def test_unroutable_message_raises_and_sends_nothing(pair):
    router, dealer = pair
    with pytest.raises(zmq.ZMQError) as e:
        send_frames(router, p.join_envelope(b"nobody", p.Heartbeat().to_frames()), zmq.NOBLOCK)
    assert e.value.errno == zmq.EHOSTUNREACH
    # The socket is still usable: nothing half-sent is stuck in front of the next message.
    send_frames(dealer, p.Heartbeat().to_frames())
    assert router.poll(5000)
    identity, frames = p.split_envelope(router.recv_multipart())
    send_frames(router, p.join_envelope(identity, p.Heartbeat().to_frames()))
    assert dealer.poll(5000)
    assert p.decode(dealer.recv_multipart()) == p.Heartbeat()
