"""Hypothesis strategies that build valid instances of every protocol message.

Shared by the round-trip property tests and the fuzz tests (which mutate
valid messages).  Sizes are kept small: the point is variety of shape and
content, not bulk; bulk limits have their own example tests.
"""

from __future__ import annotations

from hypothesis import strategies as st

import protocol as p
from protocol import messages as m

MAX_SAFE = 2**53 - 1

# Text of any Unicode except surrogates (which can't be UTF-8 encoded and
# which the protocol refuses).
any_text = st.text(max_size=40)
short_text = st.text(max_size=20)
nonempty_short = st.text(min_size=1, max_size=20)
domain_text = st.text(min_size=1, max_size=60)  # the wire only bounds length
long_text = st.text(max_size=300)

non_negative = st.integers(min_value=0, max_value=MAX_SAFE)
small_non_negative = st.integers(min_value=0, max_value=10_000)
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
non_negative_number = st.one_of(
    st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=10**9),
)
positive_number = st.one_of(
    st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False),
    st.integers(min_value=1, max_value=10**9),
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-MAX_SAFE, max_value=MAX_SAFE),
    finite,
    short_text,
)


def plain_values(depth: int) -> st.SearchStrategy:
    """Free-form values nested at most *depth* containers deep."""
    if depth <= 0:
        return scalars
    inner = plain_values(depth - 1)
    return st.one_of(
        scalars,
        st.lists(inner, max_size=4),
        st.dictionaries(short_text, inner, max_size=4),
    )


free_form = st.dictionaries(short_text, plain_values(3), max_size=6)

client_ip = st.one_of(
    st.ip_addresses().map(str),
    st.text(min_size=1, max_size=64),
)

domain_status = st.builds(
    p.DomainStatus,
    domain=domain_text,
    state=st.sampled_from(list(p.JobState)),
    position=non_negative,
    progress=any_text,
)

location = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(p.LOCATION_FIELDS), any_text, max_size=len(p.LOCATION_FIELDS)),
)

evidence_record = st.dictionaries(st.text(min_size=1, max_size=20), scalars, max_size=6)

STRATEGIES: dict[type[p.Message], st.SearchStrategy] = {
    p.RateRequest: st.builds(
        p.RateRequest,
        req_id=non_negative,
        client_ip=client_ip,
        priority=st.integers(min_value=0, max_value=p.MAX_PRIORITY),
        domains=st.lists(domain_text, min_size=1, max_size=10).map(tuple),
    ),
    p.RateReply: st.builds(
        p.RateReply, req_id=non_negative, items=st.lists(domain_status, max_size=8).map(tuple)
    ),
    p.Overload: st.builds(
        p.Overload, req_id=non_negative, client_ip=client_ip, outstanding=non_negative, limit=non_negative
    ),
    p.Unavailable: st.builds(p.Unavailable, req_id=non_negative, reason=any_text, retry_after=non_negative_number),
    p.StatsRequest: st.builds(p.StatsRequest, req_id=non_negative, recent=st.integers(0, m.MAX_RECENT)),
    p.StatsReply: st.builds(p.StatsReply, req_id=non_negative, stats=free_form),
    p.AdminRequest: st.builds(
        p.AdminRequest, req_id=non_negative, action=st.text(min_size=1, max_size=64), args=free_form
    ),
    p.AdminReply: st.builds(p.AdminReply, req_id=non_negative, ok=st.booleans(), detail=any_text, data=free_form),
    p.ErrorReply: st.builds(p.ErrorReply, req_id=non_negative, code=nonempty_short, message=any_text),
    p.Ready: st.builds(
        p.Ready,
        capacity=st.integers(1, m.MAX_CAPACITY),
        host=short_text,
        pid=st.integers(0, 2**22),
        worker=short_text,
        version=short_text,
        jobs_done=non_negative,
    ),
    p.Job: st.builds(
        p.Job,
        job_id=nonempty_short,
        domain=domain_text,
        attempt=st.integers(1, 1000),
        lease=positive_number,
        deadline=positive_number,
    ),
    p.Pulse: st.builds(
        p.Pulse, job_id=nonempty_short, stage=nonempty_short, detail=any_text, done=non_negative, total=non_negative
    ),
    p.Result: st.builds(
        p.Result,
        job_id=nonempty_short,
        domain=domain_text,
        rating=st.sampled_from(sorted(p.FINAL_RATINGS)),
        ratinginfo=st.sampled_from(list(p.RatingInfo)),
        location=location,
        evidence=st.lists(evidence_record, max_size=5).map(tuple),
        elapsed=non_negative_number,
    ),
    p.Failed: st.builds(p.Failed, job_id=nonempty_short, error=any_text, traceback=long_text),
    p.Heartbeat: st.builds(p.Heartbeat),
    p.Disconnect: st.builds(p.Disconnect, reason=any_text, reregister=st.booleans()),
    p.ErrorReport: st.builds(
        p.ErrorReport,
        component=nonempty_short,
        message=any_text,
        traceback=long_text,
        host=short_text,
        process=short_text,
        domain=st.text(max_size=60),
    ),
}

any_message = st.one_of(*STRATEGIES.values())
