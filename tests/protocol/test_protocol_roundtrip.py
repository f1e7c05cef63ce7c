"""Every message survives encode -> decode unchanged, on paper and over real sockets."""

from __future__ import annotations

import msgpack
import pytest
import zmq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import protocol as p
from protocol_strategies import STRATEGIES, any_message

ALL_TYPES = sorted(STRATEGIES, key=lambda cls: cls.COMMAND)


def test_every_command_has_a_message_type_and_a_strategy():
    assert set(p.MESSAGE_TYPES) == set(p.Command)
    assert set(STRATEGIES) == set(p.MESSAGE_TYPES.values())


def test_command_values_are_the_contract():
    expected = {
        "RATE": 0x01, "RATE_REPLY": 0x02, "OVERLOAD": 0x03, "UNAVAILABLE": 0x04, "STATS": 0x05,
        "STATS_REPLY": 0x06, "ADMIN": 0x07, "ADMIN_REPLY": 0x08, "ERROR": 0x09,
        "READY": 0x20, "JOB": 0x21, "PULSE": 0x22, "RESULT": 0x23, "FAILED": 0x24,
        "HEARTBEAT": 0x25, "DISCONNECT": 0x26, "ERROR_REPORT": 0x27,
    }  # fmt: skip
    assert {c.name: c.value for c in p.Command} == expected
    assert p.HEADER == b"ST\x01" and p.VERSION == 1 and p.MAX_BODY_BYTES == 1 << 20


@pytest.mark.parametrize("cls", ALL_TYPES, ids=lambda cls: cls.__name__)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip(cls, data):
    msg = data.draw(STRATEGIES[cls])
    frames = msg.to_frames()
    assert len(frames) == 3 and all(type(f) is bytes for f in frames)
    assert frames[0] == p.HEADER and frames[1] == bytes([cls.COMMAND])
    decoded = p.decode(frames)
    assert type(decoded) is cls
    assert decoded == msg
    assert cls.from_frames(frames) == msg
    assert p.Message.from_frames(frames) == msg
    # Re-encoding a decoded message gives the same bytes: one canonical form.
    assert decoded.to_frames() == frames


@settings(max_examples=200, deadline=None)
@given(any_message)
def test_round_trip_through_router_envelope(msg):
    identity = b"\x00k\x8bEg"
    wire = p.join_envelope(identity, msg.to_frames())
    assert wire[0] == identity and len(wire) == 4
    got_identity, frames = p.split_envelope(wire)
    assert got_identity == identity
    assert p.decode(frames) == msg


def test_body_is_a_plain_msgpack_map_with_every_field():
    msg = p.Pulse("job-1", "fetch")
    body = msgpack.unpackb(msg.to_frames()[2], raw=False)
    assert body == {"job_id": "job-1", "stage": "fetch", "detail": "", "done": 0, "total": 0}   # no "more": as ever
    both = p.Pulse("job-1", "fetch", more=(p.Pulse("job-2", "check", done=2, total=9),))
    assert msgpack.unpackb(both.to_frames()[2], raw=False)["more"] == [
        {"job_id": "job-2", "stage": "check", "detail": "", "done": 2, "total": 9}]
    result = p.Result("j", "example.com", p.Rating.Q, p.RatingInfo.UNVERIFIED, None, (), 1.5)
    body = msgpack.unpackb(result.to_frames()[2], raw=False)
    assert body["rating"] == "Q" and type(body["rating"]) is str
    assert body["ratinginfo"] == "unverified"


def test_fields_with_defaults_may_be_absent_on_the_wire():
    body = msgpack.packb({"job_id": "j", "stage": "fetch"}, use_bin_type=True)
    assert p.decode([p.HEADER, bytes([p.Command.PULSE]), body]) == p.Pulse("j", "fetch")
    body = msgpack.packb({"req_id": 4}, use_bin_type=True)
    assert p.decode([p.HEADER, bytes([p.Command.STATS]), body]) == p.StatsRequest(4, recent=20)


def test_decoded_containers_are_immutable_tuples():
    msg = p.decode(p.RateRequest(1, "10.0.0.1", 0, ["a.com", "b.com"]).to_frames())
    assert msg.domains == ("a.com", "b.com")
    stats = p.decode(p.StatsReply(1, {"raters": [{"id": "w1", "jobs": [1, 2]}]}).to_frames()).stats
    assert stats == {"raters": ({"id": "w1", "jobs": (1, 2)},)}


def test_enum_fields_decode_to_enums():
    msg = p.decode(p.RateReply(2, (p.DomainStatus("a.com", "rating", 0, "home page"),)).to_frames())
    assert msg.items[0].state is p.JobState.RATING
    result = p.decode(p.Result("j", "a.com", "X", "blocked", {"country": "DE"}, (), 0).to_frames())
    assert result.rating is p.Rating.X and result.ratinginfo is p.RatingInfo.BLOCKED
    assert result.elapsed == 0.0 and type(result.elapsed) is float


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview, "zmq.Frame"])
def test_frames_may_be_any_bytes_like_pyzmq_hands_out(kind):
    msg = p.Job("j-7", "example.com", 2, 60, 30.5)
    convert = zmq.Frame if kind == "zmq.Frame" else kind
    frames = [convert(f) for f in msg.to_frames()]
    assert p.decode(frames) == msg
    identity, app = p.split_envelope([convert(b"peer"), *frames])
    assert identity == b"peer" and p.decode(app) == msg


def test_messages_cross_real_router_dealer_sockets():
    """The broker's shape: DEALER peers, a ROUTER that answers by identity."""
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    dealer = ctx.socket(zmq.DEALER)
    try:
        for sock in (router, dealer):
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.RCVTIMEO, 5000)
            sock.setsockopt(zmq.SNDTIMEO, 5000)
        port = router.bind_to_random_port("tcp://127.0.0.1")
        dealer.connect(f"tcp://127.0.0.1:{port}")
        request = p.RateRequest(42, "192.0.2.7", 1, ("example.com", "xn--bcher-kva.de"))
        dealer.send_multipart(request.to_frames())
        identity, frames = p.split_envelope(router.recv_multipart(copy=False))
        got = p.decode(frames)
        assert got == request
        reply = p.RateReply(42, tuple(p.DomainStatus(d, p.JobState.QUEUED, i) for i, d in enumerate(got.domains)))
        router.send_multipart(p.join_envelope(identity, reply.to_frames()))
        assert p.decode(dealer.recv_multipart()) == reply
    finally:
        dealer.close()
        router.close()
        ctx.term()
