"""Hostile input: whatever a peer sends, decoding raises ProtocolError and nothing else.

The main test runs exactly FUZZ_CASES seeded cases spread over every kind of
damage a frame list can have; any exception other than ProtocolError fails
it with the case number, the kind of damage and the frames.  A message that
does decode must re-encode to an equal message (nothing half-valid gets in).
"""

from __future__ import annotations

import collections
import math
import random
import struct

import msgpack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import protocol as p
from protocol_strategies import any_message

FUZZ_CASES = 10_000
SEED = 20_241_126

# A fixed corpus of valid messages, the material most mutations start from.
CORPUS: list[p.Message] = [
    p.RateRequest(7, "203.0.113.5", 1, ("example.com", "xn--bcher-kva.de", "foo.blogspot.com")),
    p.RateRequest(2**53 - 1, "2001:db8::1", 0, tuple(f"d{i}.example.org" for i in range(50))),
    p.RateReply(7, (p.DomainStatus("example.com", p.JobState.QUEUED, 4), p.DomainStatus("b.de", "rating", 0, "3/20"))),
    p.RateReply(8, ()),
    p.Overload(9, "198.51.100.1", 101, 100),
    p.Unavailable(10, "store unreachable", 5.0),
    p.StatsRequest(11, 50),
    p.StatsReply(12, {"queues": {"1.2.3.4": 3}, "raters": ({"id": "w1", "busy": True, "load": 0.5},), "n": None}),
    p.AdminRequest(13, "requeue", {"job_ids": ("a", "b"), "force": False, "depth": {"x": {"y": [1.5]}}}),
    p.AdminReply(14, False, "no such rater", {"known": ["w1", "w2"]}),
    p.ErrorReply(0, "bad_request", "body is not valid msgpack"),
    p.Ready(1, "node-1.internal", 4242, "w-3", "0.1.0", 17),
    p.Job("job-123", "example.com", 2, 45.0, 30),
    p.Pulse("job-123", "fetch", "https://example.com/contact", 3, 20),
    p.Result(
        "job-123", "example.com", p.Rating.Q, p.RatingInfo.UNVERIFIED,
        {"name": "Example GmbH", "street": "Hauptstraße 1", "city": "Köln", "country": "DE"},
        ({"kind": "address", "page": "/impressum", "score": 0.9, "ok": True, "n": 3, "x": None},) * 3,
        7.25,
    ),
    p.Result("j2", "a.co.uk", "U", "no_website", None, (), 0),
    p.Failed("job-9", "TimeoutError: deadline", "Traceback (most recent call last):\n  ...\n" * 20),
    p.Heartbeat(),
    p.Disconnect("shutting down"),
    p.Disconnect("unknown worker", reregister=True),
    p.ErrorReport("raterd.worker", "crash", "Traceback...", "node-1", "pid 4242", "example.com"),
]  # fmt: skip

# Values of the wrong kind for any field; a few are right by accident, which is fine.
ODD_VALUES = [
    True, False, None, 0, -1, 1, 2**53, 2**63, -(2**63), 2**64 - 1, 0.0, -0.0, 1.5, math.nan, math.inf, -math.inf,
    "", "x", "W", "queued", "a" * 300, "\u00e9\u4e2d", "\x00\x1b[31m", b"", b"bytes", (), (1, "a"),
    ("example.com",) * 1001, {}, {"k": "v"}, {"name": "n"}, {"1": {"2": {"3": {"4": {"5": {"6": {"7": {"8": {}}}}}}}}},
    [[[[[[[[[[1]]]]]]]]]], [{"domain": "a.com", "state": "queued"}], [{"k": [1]}],
]  # fmt: skip


def random_plain(rng: random.Random, depth: int = 0) -> object:
    """Any msgpack-able value, including kinds the protocol refuses."""
    roll = rng.random()
    if depth > 4 or roll < 0.55:
        return rng.choice(ODD_VALUES[:26] + [rng.randint(-(2**63), 2**64 - 1), rng.random() * 1e6])
    if roll < 0.75:
        return [random_plain(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys: list = [rng.choice(["req_id", "domain", "job_id", "x", "", "state"]) for _ in range(rng.randint(0, 4))]
    return {k: random_plain(rng, depth + 1) for k in keys}


def pack(value: object) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def body_of(msg: p.Message) -> dict:
    return msgpack.unpackb(msg.to_frames()[2], raw=False)


def valid(rng: random.Random) -> list[bytes]:
    return rng.choice(CORPUS).to_frames()


# ---- kinds of damage; each returns a frame list (or something posing as one)


def random_frames(rng):
    return [rng.randbytes(rng.choice([0, 1, 2, 3, 8, 64, 300])) for _ in range(rng.randint(0, 6))]


def flip_bytes(rng):
    frames = valid(rng)
    i = rng.randrange(3)
    data = bytearray(frames[i])
    for _ in range(rng.randint(1, 4)):
        if data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    frames[i] = bytes(data)
    return frames


def truncate(rng):
    frames = valid(rng)
    i = rng.choice([0, 1, 2, 2, 2])
    frames[i] = frames[i][: rng.randrange(len(frames[i]) + 1)]
    return frames


def extend(rng):
    frames = valid(rng)
    i = rng.choice([0, 1, 2, 2, 2])
    frames[i] = frames[i] + rng.randbytes(rng.randint(1, 16))
    return frames


def bad_header(rng):
    frames = valid(rng)
    frames[0] = rng.choice(
        [b"ST" + bytes([rng.choice([0, 2, 3, 255])]), b"st\x01", b"ST", b"ST\x01\x01", b"", b"\x00\x00\x00", b"XT\x01"]
    )
    return frames


def unknown_command(rng):
    frames = valid(rng)
    known = {int(c) for c in p.Command}
    frames[1] = rng.choice([bytes([rng.choice([b for b in range(256) if b not in known])]), b"", b"\x01\x00", b"\x00"])
    return frames


def wrong_frame_count(rng):
    frames = valid(rng)
    choice = rng.randrange(4)
    if choice == 0:
        return frames[: rng.randrange(3)]
    if choice == 1:
        return frames + [rng.randbytes(rng.randint(0, 8)) for _ in range(rng.randint(1, 3))]
    if choice == 2:
        return [b""] + frames  # a REQ socket's delimiter
    return [b"identity"] + frames  # forgot split_envelope


def oversized_body(rng):
    frames = valid(rng)
    size = p.MAX_BODY_BYTES + rng.choice([1, 100, 4096])
    if rng.random() < 0.5:
        frames[2] = b"\x00" * size
    else:  # a well-formed map that is simply too big
        frames[2] = pack({"reason": "x" * size, "req_id": 1, "retry_after": 1.0})
    return frames


def wrong_shape_body(rng):
    command = rng.choice(list(p.Command))
    body = random_plain(rng) if rng.random() < 0.5 else rng.choice(ODD_VALUES)
    return [p.HEADER, bytes([command]), pack(body)]


def spoiled_field(rng):
    msg = rng.choice(CORPUS)
    body = body_of(msg)
    if not body:
        body = {"x": 1}
    else:
        key = rng.choice(sorted(body))
        body[key] = rng.choice(ODD_VALUES) if rng.random() < 0.7 else random_plain(rng)
    return [p.HEADER, bytes([msg.COMMAND]), pack(body)]


def bool_for_int(rng):
    msg = rng.choice(CORPUS)
    body = body_of(msg)
    ints = [k for k, v in body.items() if type(v) in (int, float)]
    if ints:
        body[rng.choice(ints)] = rng.choice([True, False])
    else:
        body["req_id"] = True
    return [p.HEADER, bytes([msg.COMMAND]), pack(body)]


def extra_or_missing_key(rng):
    msg = rng.choice(CORPUS)
    body = body_of(msg)
    if body and rng.random() < 0.5:
        del body[rng.choice(sorted(body))]
    else:
        body[rng.choice(["extra", "REQ_ID", "req_id ", "\u00e9", ""])] = random_plain(rng)
    return [p.HEADER, bytes([msg.COMMAND]), pack(body)]


def deep_nesting(rng):
    depth = rng.choice([9, 20, 100, 1000, 5000])
    nested: object = 1
    for _ in range(min(depth, 500)):
        nested = [nested] if rng.random() < 0.5 else {"k": nested}
    msg = rng.choice(CORPUS)
    body = body_of(msg)
    body[rng.choice(sorted(body) or ["x"])] = nested
    packed = pack(body)
    if depth > 500:
        packed = b"\x81\xa5stats" + b"\x91" * depth + b"\x01"  # {"stats": [[[...1...]]]}, past msgpack's stack
    return [p.HEADER, bytes([msg.COMMAND]), packed]


def msgpack_oddities(rng):
    command = bytes([rng.choice(list(p.Command))])
    bodies = [
        pack({1: "int key"}),
        b"\x81\xc4\x01k\x01",  # map with a bin key
        b"\x81\x91\x01\x01",  # map with an array key
        pack({"t": msgpack.Timestamp(1, 0)}),
        pack({"e": msgpack.ExtType(5, b"data")}),
        pack({"e": msgpack.ExtType(5, b"")}),
        b"\x81\xa3req\xd9\x05\xff\xfe\xfd\xfc\xfb",  # str value with invalid UTF-8
        b"\xc1",  # the never-used byte
        b"\xdf\xff\xff\xff\xff",  # map claiming 4 billion entries
        b"\xdd\xff\xff\xff\xff",  # array claiming 4 billion items
        b"\xdb\xff\xff\xff\xff" + b"x" * 10,  # str claiming 4 GB
        pack({"req_id": 1}) + pack({"req_id": 2}),  # two objects
        b"",
        pack({"req_id": struct.unpack(">d", rng.randbytes(8))[0]}),  # any float bit pattern
    ]
    return [p.HEADER, command, rng.choice(bodies)]


def not_bytes(rng):
    frames: list = list(valid(rng))
    i = rng.randrange(3)
    frames[i] = rng.choice(["ST\x01", 1, None, 1.5, ["x"], object(), frames[i].decode("latin-1")])
    if rng.random() < 0.2:
        return rng.choice(["ST\x01", b"ST\x01\x01", None, 42, {"a": 1}, iter(frames)])
    return frames


def bytes_like(rng):
    frames = valid(rng)
    kind = rng.choice([bytearray, memoryview, bytes])
    return [kind(f) for f in frames]


def through_envelope(rng):
    frames = rng.choice([valid, flip_bytes, truncate, wrong_frame_count, not_bytes])(rng)
    if isinstance(frames, list):
        frames = [rng.choice([b"", b"id", rng.randbytes(5), b"x" * 300]), *frames]
    _, app = p.split_envelope(frames)  # raises ProtocolError for a bad shape
    return app


DAMAGE = [
    random_frames, flip_bytes, truncate, extend, bad_header, unknown_command, wrong_frame_count,
    wrong_shape_body, spoiled_field, bool_for_int, extra_or_missing_key, deep_nesting, msgpack_oddities,
    not_bytes, bytes_like, through_envelope,
]  # fmt: skip


def test_fuzz_decode_raises_only_protocol_error():
    rng = random.Random(SEED)
    outcomes: collections.Counter[str] = collections.Counter()
    per_kind: collections.Counter[str] = collections.Counter()
    for case in range(FUZZ_CASES):
        # One case in a hundred is an oversized body: they cost a megabyte each.
        damage = oversized_body if case % 100 == 99 else rng.choice(DAMAGE)
        per_kind[damage.__name__] += 1
        frames = None
        try:
            frames = damage(rng)
            msg = p.decode(frames)
        except p.ProtocolError as e:
            outcomes["ProtocolError"] += 1
            assert str(e) and len(str(e)) < 1000, f"case {case}: unhelpful or huge error {str(e)[:200]!r}"
            continue
        except Exception as e:  # the failure this test exists to find
            raise AssertionError(
                f"case {case} ({damage.__name__}): {type(e).__name__}: {e}; frames={str(frames)[:300]}"
            ) from e
        outcomes["decoded"] += 1
        assert p.decode(msg.to_frames()) == msg, f"case {case}: decoded message does not re-encode"

    assert sum(outcomes.values()) == FUZZ_CASES
    assert sum(per_kind.values()) == FUZZ_CASES
    assert set(per_kind) == {d.__name__ for d in DAMAGE} | {"oversized_body"}
    # Most damage must be caught; some (a flipped bit inside a string) is still valid.
    assert outcomes["ProtocolError"] > FUZZ_CASES * 0.6, outcomes
    assert outcomes["decoded"] > 0, outcomes


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=40), max_size=5))
def test_arbitrary_frames_raise_only_protocol_error(frames):
    try:
        p.decode(frames)
    except p.ProtocolError:
        pass


msgpack_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text(max_size=10)
    | st.binary(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(command=st.sampled_from(list(p.Command)), body=msgpack_values)
def test_arbitrary_msgpack_bodies_raise_only_protocol_error(command, body):
    try:
        msg = p.decode([p.HEADER, bytes([command]), pack(body)])
    except p.ProtocolError:
        return
    assert p.decode(msg.to_frames()) == msg


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(msg=any_message, data=st.data())
def test_valid_body_with_one_field_replaced(msg, data):
    body = body_of(msg)
    if body:
        key = data.draw(st.sampled_from(sorted(body)))
        body[key] = data.draw(msgpack_values)
    try:
        decoded = p.decode([p.HEADER, bytes([msg.COMMAND]), pack(body)])
    except p.ProtocolError:
        return
    assert p.decode(decoded.to_frames()) == decoded
