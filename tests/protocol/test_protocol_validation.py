"""Bad messages fail the same way whether built locally or received, with useful errors."""

from __future__ import annotations

import dataclasses
import math
import pickle

import msgpack
import pytest

import protocol as p
from protocol import messages as m


def frames_for(command: p.Command, body: object) -> list[bytes]:
    return [p.HEADER, bytes([command]), msgpack.packb(body, use_bin_type=True)]


def good_bodies() -> dict[p.Command, dict]:
    """One valid wire body per command, to spoil one field at a time."""
    samples = [
        p.RateRequest(1, "203.0.113.9", 1, ("example.com",)),
        p.RateReply(1, (p.DomainStatus("example.com", p.JobState.QUEUED, 3),)),
        p.Overload(1, "203.0.113.9", 100, 100),
        p.Unavailable(1, "store down", 5.0),
        p.StatsRequest(1),
        p.StatsReply(1, {"queued": 3}),
        p.AdminRequest(1, "drain", {"rater": "w1"}),
        p.AdminReply(1, True, "done", {}),
        p.ErrorReply(0, "bad_request", "unreadable"),
        p.Ready(1, "node1", 1234, "w1", "0.1.0"),
        p.Ready(4, "node1", 1234, "node", "0.1.0", 9, True, ("j1", "j2")),
        p.Job("j1", "example.com", 1, 60.0, 30.0),
        p.Pulse("j1", "fetch", "home page", 1, 20),
        p.Result("j1", "example.com", p.Rating.A, p.RatingInfo.NONE, {"name": "Example Ltd"}, ({"k": "v"},), 2.5),
        p.Failed("j1", "timeout"),
        p.Heartbeat(),
        p.Disconnect("bye"),
        p.ErrorReport("raterd", "boom"),
    ]
    return {msg.COMMAND: msgpack.unpackb(msg.to_frames()[2], raw=False) for msg in samples}


GOOD = good_bodies()

# (command, field, bad value, words the error must contain)
BAD_FIELDS = [
    (p.Command.RATE, "req_id", True, "expected int, got bool"),
    (p.Command.RATE, "req_id", -1, "out of range"),
    (p.Command.RATE, "req_id", 2**53, "out of range"),
    (p.Command.RATE, "req_id", 1.0, "expected int, got float"),
    (p.Command.RATE, "priority", 2**31, "out of range"),
    (p.Command.RATE, "client_ip", "", "must not be empty"),
    (p.Command.RATE, "client_ip", "x" * 65, "over the limit of 64"),
    (p.Command.RATE, "domains", [], "at least 1"),
    (p.Command.RATE, "domains", ["a.com"] * 1001, "1001 items"),
    (p.Command.RATE, "domains", ["a" * 254], "over the limit of 253"),
    (p.Command.RATE, "domains", [7], "expected str, got int"),
    (p.Command.RATE, "domains", "example.com", "expected a list"),
    (p.Command.RATE_REPLY, "items", [{"domain": "a.com", "state": "done"}], "not a JobState"),
    (p.Command.RATE_REPLY, "items", [{"domain": "a.com"}], "missing key(s) state"),
    (p.Command.RATE_REPLY, "items", [{"domain": "a.com", "state": "queued", "eta": 3}], "unknown key(s) 'eta'"),
    (p.Command.RATE_REPLY, "items", ["a.com"], "expected a map"),
    (p.Command.UNAVAILABLE, "retry_after", math.nan, "not a finite number"),
    (p.Command.UNAVAILABLE, "retry_after", math.inf, "not a finite number"),
    (p.Command.UNAVAILABLE, "retry_after", -1.0, "out of range"),
    (p.Command.UNAVAILABLE, "retry_after", False, "expected a number, got bool"),
    (p.Command.UNAVAILABLE, "reason", "x" * (64 * 1024 + 1), "over the limit"),
    (p.Command.STATS, "recent", 10_001, "out of range"),
    (p.Command.STATS_REPLY, "stats", [1, 2], "expected a map"),
    (p.Command.STATS_REPLY, "stats", {"blob": b"\x00"}, "unsupported value type bytes"),
    (p.Command.STATS_REPLY, "stats", {"rate": math.nan}, "not a finite number"),
    (p.Command.ADMIN, "action", "", "must not be empty"),
    (p.Command.ADMIN, "action", "a" * 65, "over the limit of 64"),
    (p.Command.ADMIN_REPLY, "ok", 1, "expected bool, got int"),
    (p.Command.ERROR, "code", "", "must not be empty"),
    (p.Command.READY, "capacity", 0, "out of range"),
    (p.Command.READY, "host", "h" * 257, "over the limit of 256"),
    (p.Command.READY, "update", 1, "expected bool, got int"),
    (p.Command.READY, "released", ["j1", ""], "must not be empty"),
    (p.Command.READY, "released", ["j"] * 10_001, "10001 items"),
    (p.Command.JOB, "attempt", 0, "out of range"),
    (p.Command.JOB, "lease", 0, "must be > 0"),
    (p.Command.JOB, "deadline", -5.0, "must be > 0"),
    (p.Command.JOB, "job_id", None, "expected str, got NoneType"),
    (p.Command.PULSE, "done", -1, "out of range"),
    (p.Command.RESULT, "rating", "W", "'W' is not allowed here"),
    (p.Command.RESULT, "rating", "a", "not a Rating value"),
    (p.Command.RESULT, "ratinginfo", "great", "not a RatingInfo value"),
    (p.Command.RESULT, "location", {"phone": "123"}, "unknown field 'phone'"),
    (p.Command.RESULT, "location", {"name": 5}, "expected str, got int"),
    (p.Command.RESULT, "location", ["name"], "expected a map"),
    (p.Command.RESULT, "evidence", [{"k": [1]}], "expected str, int, float, bool or None"),
    (p.Command.RESULT, "evidence", [{"k": {"x": 1}}], "expected str, int, float, bool or None"),
    (p.Command.RESULT, "evidence", [{}] * 501, "501 items"),
    (p.Command.RESULT, "evidence", ["text"], "expected a map"),
    (p.Command.RESULT, "elapsed", math.inf, "not a finite number"),
    (p.Command.FAILED, "traceback", "t" * (256 * 1024 + 1), "over the limit"),
    (p.Command.DISCONNECT, "reregister", "yes", "expected bool, got str"),
    (p.Command.ERROR_REPORT, "domain", "d" * 254, "over the limit of 253"),
]


@pytest.mark.parametrize(("command", "field", "value", "words"), BAD_FIELDS)
def test_bad_field_is_refused_on_the_wire_and_at_construction(command, field, value, words):
    body = dict(GOOD[command], **{field: value})
    with pytest.raises(p.ProtocolError) as wire_error:
        p.decode(frames_for(command, body))
    assert words in str(wire_error.value)
    assert field in str(wire_error.value)
    assert wire_error.value.command == command and wire_error.value.frame_index == 2

    if command is p.Command.RATE_REPLY:
        return  # items are DomainStatus objects when built locally; see the next test
    good = p.decode(frames_for(command, GOOD[command]))
    kwargs = {f.name: getattr(good, f.name) for f in dataclasses.fields(good)}
    kwargs[field] = value
    with pytest.raises(p.ProtocolError) as built_error:
        type(good)(**kwargs)
    # Same check, same words (a list built locally arrives as a tuple, hence "in").
    assert words in str(built_error.value) and field in str(built_error.value)
    assert built_error.value.command == command and built_error.value.frame_index is None


@pytest.mark.parametrize(("more", "words"), [
    ([{"job_id": "j2", "stage": "fetch", "more": []}], "Pulse.more[0]: a nested PULSE carries no more of its own"),
    ([{"job_id": "", "stage": "fetch"}], "Pulse.more[0]: Pulse.job_id: must not be empty"),
    ([{"job_id": "j2"}], "Pulse.more[0]: Pulse: missing key(s) stage"),
    (["j2"], "Pulse.more[0]: Pulse: expected a map"),
    ([{"job_id": "j2", "stage": "fetch", "eta": 3}], "Pulse.more[0]: Pulse: unknown key(s) 'eta'"),
    ([{"job_id": "j2", "stage": "fetch"}] * 10_001, "10001 items"),
    ("j2", "expected a list"),
])
def test_a_pulse_carrying_other_jobs_progress_checks_each_of_them(more, words):
    with pytest.raises(p.ProtocolError) as error:
        p.decode(frames_for(p.Command.PULSE, dict(GOOD[p.Command.PULSE], more=more)))
    assert words in str(error.value)
    assert error.value.command == p.Command.PULSE and error.value.frame_index == 2


def test_a_pulse_built_locally_carries_pulses_without_more_of_their_own():
    nested = p.Pulse("j2", "fetch", more=(p.Pulse("j3", "fetch"),))
    with pytest.raises(p.ProtocolError, match=r"Pulse.more\[0\]: a nested PULSE carries no more"):
        p.Pulse("j1", "fetch", more=(nested,))
    with pytest.raises(p.ProtocolError, match=r"Pulse.more\[0\]: expected Pulse, got str"):
        p.Pulse("j1", "fetch", more=("j2",))
    both = p.Pulse("j1", "fetch", "home page", 1, 20, more=(p.Pulse("j2", "check", "registry", 2, 20),))
    assert p.decode(both.to_frames()) == both


def test_rate_reply_items_must_be_domain_status_objects():
    with pytest.raises(p.ProtocolError, match=r"items\[0\]: expected DomainStatus, got dict"):
        p.RateReply(1, ({"domain": "a.com", "state": "queued"},))
    with pytest.raises(p.ProtocolError, match="not a JobState"):
        p.DomainStatus("a.com", "finished")


@pytest.mark.parametrize("command", list(p.Command), ids=lambda c: c.name)
def test_unknown_and_missing_keys_are_refused(command):
    body = dict(GOOD[command], surprise=1)
    with pytest.raises(p.ProtocolError, match="unknown key"):
        p.decode(frames_for(command, body))
    for key in GOOD[command]:
        spoiled = {k: v for k, v in GOOD[command].items() if k != key}
        field = p.MESSAGE_TYPES[command].__dataclass_fields__[key]
        if field.default is not dataclasses.MISSING:
            assert getattr(p.decode(frames_for(command, spoiled)), key) == field.default
        else:
            with pytest.raises(p.ProtocolError, match=f"missing key.*{key}"):
                p.decode(frames_for(command, spoiled))


def test_numbers_are_normalised_and_strings_plain():
    job = p.Job("j", "a.com", 1, 60, 30)
    assert type(job.lease) is float and job.lease == 60.0
    req = p.RateRequest(p.Command.RATE, "ip", 0, ["a.com"])  # an IntEnum is still an int
    assert type(req.req_id) is int and req.domains == ("a.com",)
    status = p.DomainStatus(p.Rating.A, "queued")  # a StrEnum is still a str
    assert type(status.domain) is str and status.state is p.JobState.QUEUED


def test_free_form_data_is_copied_and_depth_limited():
    stats = {"a": [1, {"b": [2]}]}
    reply = p.StatsReply(1, stats)
    stats["a"].append(3)
    assert reply.stats == {"a": (1, {"b": (2,)})}

    deep: object = 1
    for _ in range(p.MAX_DEPTH - 1):
        deep = [deep]
    assert p.StatsReply(1, {"x": deep}).stats["x"]  # outer map + 7 lists = 8 levels
    with pytest.raises(p.ProtocolError, match="nested deeper than 8"):
        p.StatsReply(1, {"x": [deep]})
    with pytest.raises(p.ProtocolError, match="key 1 is not a string"):
        p.AdminRequest(1, "drain", {"ok": {1: "x"}})


def test_oversized_messages_fail_when_encoding():
    with pytest.raises(p.ProtocolError, match="body limit"):
        p.StatsReply(1, {"blob": "x" * (p.MAX_BODY_BYTES + 1)})
    # Each field within its cap, but together over the body limit.
    huge = tuple(p.DomainStatus("a.com", "rating", 0, "x" * 60_000) for _ in range(20))
    reply = p.RateReply(1, huge)
    with pytest.raises(p.ProtocolError, match="over the 1048576-byte limit") as err:
        reply.to_frames()
    assert err.value.command == p.Command.RATE_REPLY


def test_lone_surrogates_are_refused():
    with pytest.raises(p.ProtocolError, match="not valid Unicode"):
        p.Failed("j", "bad \ud800 text")


def test_wrong_message_type_for_from_frames():
    frames = p.Heartbeat().to_frames()
    with pytest.raises(p.ProtocolError, match="expected a READY message, got HEARTBEAT") as err:
        p.Ready.from_frames(frames)
    assert err.value.command == p.Command.HEARTBEAT and err.value.frame_index == 1


def test_messages_are_frozen():
    msg = p.Heartbeat()
    # CPython's frozen+slots dataclasses raise TypeError for an unknown name.
    with pytest.raises((AttributeError, TypeError)):
        msg.x = 1  # type: ignore[attr-defined]
    job = p.Job("j", "a.com", 1, 1.0, 1.0)
    with pytest.raises(AttributeError):
        job.attempt = 2  # type: ignore[misc]


def test_protocol_error_is_informative_and_truncates_peer_data():
    evil = b"\x1b[31m" + b"A" * 500
    with pytest.raises(p.ProtocolError) as err:
        p.decode([evil, b"\x01", b"\x80"])
    text = str(err.value)
    assert "bad header" in text and "frame 0" in text
    assert "\x1b" not in text and "\\x1b" in text  # escaped, not raw
    assert len(text) < 250 and "505 bytes" in text

    with pytest.raises(p.ProtocolError) as err:
        p.decode(frames_for(p.Command.RATE, dict(GOOD[p.Command.RATE], client_ip="\x00" + "z" * 100)))
    assert "\\x00" in str(err.value) and len(str(err.value)) < 300

    copy = pickle.loads(pickle.dumps(err.value))
    assert str(copy) == str(err.value) and copy.command == p.Command.RATE and copy.frame_index == 2


def test_domain_error_attributes():
    with pytest.raises(p.DomainError) as err:
        p.registrable_domain("http://[::1]/" + "x" * 500)
    assert isinstance(err.value, ValueError)
    assert err.value.ratinginfo is p.RatingInfo.BAD_URL
    assert err.value.text.startswith("http://[::1]/") and len(err.value.text) <= 80
    assert "bad_url" in str(err.value) and "IPv6" in str(err.value)
    copy = pickle.loads(pickle.dumps(err.value))
    assert copy.ratinginfo is p.RatingInfo.BAD_URL and copy.text == err.value.text


def test_limits_are_exported():
    assert m.MAX_DOMAINS_PER_REQUEST == p.MAX_DOMAINS_PER_REQUEST == 1000
    assert p.MAX_DOMAIN_LEN == 253 and p.MAX_IDENT_LEN == 256
    assert p.MAX_TEXT_LEN == 64 * 1024 and p.MAX_TRACEBACK_LEN == 256 * 1024
    assert set(p.__all__) <= set(dir(p))
