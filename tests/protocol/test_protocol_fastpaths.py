"""The codec's fast paths give exactly what the careful checks give: same values, same types, same errors."""

from __future__ import annotations

from enum import IntEnum, StrEnum

import pytest
from hypothesis import given, settings
from protocol_strategies import free_form

import protocol as p
from protocol import _checks


class Code(StrEnum):
    A = "a-code"


class Count(IntEnum):
    ONE = 1


@settings(max_examples=200, deadline=None)
@given(free_form)
def test_free_form_fast_copy_equals_the_careful_walk(data):
    fast = _checks.free_form(data, "w")
    careful = _checks._plain(data, "w", 1, _checks._Budget())
    assert fast == careful
    assert repr(fast) == repr(careful)  # same container types (tuples for lists) all the way down


def test_values_needing_conversion_are_converted_not_passed_through():
    job = p.Job(job_id=Code.A, domain="example.com", attempt=Count.ONE, lease=20, deadline=90)
    assert type(job.job_id) is str and type(job.attempt) is int
    assert type(job.lease) is float and type(job.deadline) is float
    stats = p.StatsReply(1, {"k": Code.A, "n": Count.ONE, "ü": ["ß"]}).stats
    assert type(stats["k"]) is str and type(stats["n"]) is int and stats["ü"] == ("ß",)
    rate = p.RateRequest(1, "10.0.0.1", 0, ["a.com", Code.A])
    assert rate.domains == ("a.com", "a-code") and all(type(d) is str for d in rate.domains)


def test_decoded_enum_fields_are_members():
    result = p.Result("j", "example.com", "Q", "unverified", None, (), 1)
    assert result.rating is p.Rating.Q and result.ratinginfo is p.RatingInfo.UNVERIFIED
    assert p.decode(result.to_frames()) == result


@pytest.mark.parametrize("make, match", [
    (lambda: p.Job("j", "example.com", 1, float("nan"), 1.0), "Job.lease: nan is not a finite number"),
    (lambda: p.Job("j", "example.com", 1, float("inf"), 1.0), "Job.lease: inf is not a finite number"),
    (lambda: p.Job("j", "example.com", 1, 0.0, 1.0), "Job.lease: 0.0 must be > 0"),
    (lambda: p.Job("j", "example.com", True, 1.0, 1.0), "Job.attempt: expected int, got bool"),
    (lambda: p.Job("j", "\ud800.com", 1, 1.0, 1.0), "Job.domain: not valid Unicode text"),
    (lambda: p.Result("j", "d.com", "?", "unverified", None, (), 1), "Result.rating: "),
    (lambda: p.Result("j", "d.com", "Q", "unverified", {"town": "x"}, (), 1), "Result.location: unknown field"),
    (lambda: p.Result("j", "d.com", "Q", "unverified", None, ({"k": b"x"},), 1), r"Result.evidence\[0\]\['k'\]"),
    (lambda: p.RateRequest(1, "ip", 0, ("a.com", 3)), r"RateRequest.domains\[1\]: expected str"),
    (lambda: p.RateRequest(1, "ip", 0, ()), "RateRequest.domains: needs at least 1"),
], ids=["nan", "inf", "zero", "bool-int", "surrogate", "rating", "location", "evidence", "domains", "empty"])
def test_bad_values_still_get_the_careful_error(make, match):
    with pytest.raises(p.ProtocolError, match=match):
        make()
