"""10,000 malformed messages on both sockets, interleaved with real traffic."""

from __future__ import annotations

import random
import threading

import msgpack
import zmq

from protocol import HEADER, Heartbeat, RateReply, RateRequest
from tests.support.fake_rater import FakeRater


def garbage(rng: random.Random, n: int) -> list[bytes]:
    kind = n % 8
    body = msgpack.packb({"req_id": 1, "client_ip": "1.2.3.4", "priority": 1, "domains": ["x.com"]})
    if kind == 0:
        return [rng.randbytes(rng.randint(0, 64)) for _ in range(rng.randint(1, 5))]
    if kind == 1:
        return [b"ST\x02", b"\x01", body]                       # unknown version
    if kind == 2:
        return [HEADER, bytes([rng.choice([0, 0x10, 0x7F, 0xFF])]), body]   # unknown command
    if kind == 3:
        return [HEADER, b"\x01"]                                # truncated frame list
    if kind == 4:
        return [HEADER, b"\x01", body[: rng.randint(0, len(body) - 1)]]      # truncated msgpack
    if kind == 5:
        return [HEADER, b"\x01", msgpack.packb({"req_id": True, "client_ip": 5, "priority": -1, "domains": "x"})]
    if kind == 6:
        return [HEADER, b"\x20", msgpack.packb([1, 2, 3])]       # READY whose body is not a map
    return Heartbeat().to_frames() + [b"extra"]                 # one frame too many


def oversized(endpoint: str, context: zmq.Context, count: int) -> None:
    """Frames over MAXMSGSIZE: libzmq drops the message and that peer's connection.

    Sent from sockets of their own, since a dropped connection also loses
    whatever else was queued on it.
    """
    for _ in range(count):
        sock = context.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 1000)
        sock.connect(endpoint)
        sock.send_multipart([HEADER, b"\x01", b"\x00" * (3 * 1024 * 1024)])
        sock.close()


def blast(endpoint: str, context: zmq.Context, count: int, seed: int, errors: list) -> None:
    try:
        rng = random.Random(seed)
        sock = context.socket(zmq.DEALER)
        # Closing right after the last send: let queued messages go out
        # (LINGER 0 would drop them and the counts below would come up short).
        sock.setsockopt(zmq.LINGER, 10_000)
        sock.setsockopt(zmq.SNDHWM, 100_000)
        sock.connect(endpoint)
        for n in range(count):
            sock.send_multipart(garbage(rng, n))
            if n % 500 == 0:
                # Drain replies (ERROR for clients, DISCONNECT for raters) so HWMs never fill.
                while sock.poll(0):
                    sock.recv_multipart()
        sock.close()
    except Exception as e:  # reported by the test, not swallowed
        errors.append(e)


def test_broker_survives_garbage_and_completes_real_work(store_url, start_broker):
    rb = start_broker(store_url, max_per_ip=10_000)
    raters = [FakeRater(rb.raters, f"r{i}", context=rb.context).start() for i in range(2)]
    errors: list = []
    blasters = [threading.Thread(target=blast, args=(rb.clients, rb.context, 5000, 1, errors)),
                threading.Thread(target=blast, args=(rb.raters, rb.context, 5000, 2, errors))]
    try:
        for t in blasters:
            t.start()
        client = rb.client(timeout=10)
        real = []
        for batch in range(50):
            domains = [f"real{batch}-{k}.com" for k in range(20)]
            reply = client.call(lambda i: RateRequest(req_id=i, client_ip=f"192.0.2.{batch % 5}", priority=1,
                                                      domains=tuple(domains)))
            assert isinstance(reply, RateReply)
            real += domains
        for endpoint in (rb.clients, rb.raters):
            oversized(endpoint, rb.context, 5)
        for t in blasters:
            t.join(120)
        assert errors == []
        # Completed, and committed: a rated job stays live until its rating is in the store.
        st = rb.wait_for(lambda s: s["counters"].get("completed", 0) == len(real) and s["totals"]["live"] == 0,
                         timeout=60, what="all real jobs completed and committed")
    finally:
        for r in raters:
            r.stop()
    c = st["counters"]
    assert c["malformed_client"] == 5000
    assert c.get("malformed_rater", 0) + c.get("unknown_rater", 0) == 5000
    assert st["totals"]["live"] == 0
    # A stray READY from a garbage peer would have registered it; garbage never does.
    assert {r["worker"] for r in st["raters"]} == {"r0", "r1"}
