"""The journal's write plan: grouped for group commit, never reordered within a domain."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from broker.ops import AppendErrors, Complete, Enqueue, OpKind, RecordAttempts, Remove, domain_sequences, plan
from store import ErrorRecord, QueuedJob, StoredRating

DOMAINS = ["a.com", "b.com", "c.com", "d.com"]


def _op(kind: str, domains: list[str], n: int):
    if kind == "enqueue":
        return Enqueue(n, tuple(QueuedJob(d, "192.0.2.1", 1, float(n)) for d in domains))
    if kind == "complete":
        return Complete(StoredRating(domains[0], "Q", "unverified", None, [], float(n), float(n) + 1))
    if kind == "attempts":
        return RecordAttempts(domains[0], n)
    if kind == "remove":
        return Remove(tuple(domains))
    return AppendErrors((ErrorRecord(at=float(n), host="h", process="p", component="c", message=str(n)),))


ops_strategy = st.lists(
    st.tuples(st.sampled_from(["enqueue", "complete", "attempts", "remove", "errors"]),
              st.lists(st.sampled_from(DOMAINS), min_size=1, max_size=3, unique=True)),
    max_size=40).map(lambda specs: [_op(k, ds, n) for n, (k, ds) in enumerate(specs)])


@settings(max_examples=500)
@given(ops_strategy)
def test_plan_keeps_every_domains_order_and_every_op_once(ops):
    groups = plan(ops)
    executed = [op for g in groups for op in g.ops]
    assert sorted(map(id, executed)) == sorted(map(id, ops))
    assert all(op.kind is g.kind for g in groups for op in g.ops)
    assert domain_sequences(executed) == domain_sequences(ops)


def test_plan_merges_independent_writes_of_a_kind():
    ops = [_op("enqueue", ["a.com"], 1), _op("complete", ["b.com"], 2), _op("enqueue", ["c.com"], 3),
           _op("complete", ["d.com"], 4), _op("errors", [], 5), _op("errors", [], 6)]
    assert [(g.kind, len(g.ops)) for g in plan(ops)] == [(OpKind.ENQUEUE, 2), (OpKind.COMPLETE, 2),
                                                        (OpKind.ERRORS, 2)]


def test_plan_never_moves_an_enqueue_before_the_removal_of_its_domain():
    ops = [_op("enqueue", ["a.com", "b.com"], 1), _op("remove", ["a.com"], 2), _op("enqueue", ["a.com"], 3)]
    groups = plan(ops)
    assert [(g.kind, [o.domains for o in g.ops]) for g in groups] == [
        (OpKind.ENQUEUE, [("a.com", "b.com")]), (OpKind.REMOVE, [("a.com",)]), (OpKind.ENQUEUE, [("a.com",)])]
