"""Bounds on what raters' error reports can cost: a rate per key, clipped text, a byte-bounded buffer, retention."""

from __future__ import annotations

import dataclasses
import time

import zmq

from broker.config import BrokerConfig
from broker.core import BrokerCore
from broker.journal import Journal
from broker.ops import AppendErrors, Remove
from broker.ratelimit import RateLimit
from protocol import ErrorReport, Failed, RateRequest, Ready
from store import ErrorRecord, open_store


def _report(n: int, tb: str = "") -> ErrorReport:
    return ErrorReport(host="n1", process="raterd", component="rater", message=f"crash {n}", traceback=tb, domain="")


def test_error_reports_are_limited_per_key_and_clipped():
    core = BrokerCore(dataclasses.replace(BrokerConfig(), error_reports_per_min=10, max_traceback=1000))
    for n in range(15):
        core.rater_message(b"n1/w0/1", _report(n, "x" * 50_000 + "ValueError: the end"), 1.0, 1000.0 + n,
                           key="node1")
    # Another key has its own allowance; the first key's returns after a minute.
    core.rater_message(b"n2/w0/1", _report(99), 1.0, 1010.0, key="node2")
    core.rater_message(b"n1/w0/1", _report(100), 1.0, 1061.0, key="node1")
    records = [r for op in core.writes if isinstance(op, AppendErrors) for r in op.records]
    assert [r.message for r in records] == [f"crash {n}" for n in range(10)] + ["crash 99", "crash 100"]
    assert core.counters["error_reports_dropped"] == 5
    assert all(len(r.traceback) <= 1000 for r in records)
    assert records[0].traceback.endswith("ValueError: the end")


def test_failed_tracebacks_are_clipped():
    core = BrokerCore(dataclasses.replace(BrokerConfig(), max_traceback=500))
    core.rate(b"c", RateRequest(req_id=1, client_ip="192.0.2.1", priority=1, domains=("clip-me.com",)), 1000.0)
    core.rater_message(b"r", Ready(capacity=1, host="h", pid=1, worker="w0", version="t"), 1.0, 1000.0)
    _, job = core.next_assignment(1.0)
    core.writes.clear()
    core.rater_message(b"r", Failed(job_id=job.job_id, error="boom", traceback="y" * 100_000), 2.0, 1001.0)
    records = [r for op in core.writes if isinstance(op, AppendErrors) for r in op.records]
    assert len(records) == 1 and len(records[0].traceback) <= 500


def test_rate_limit_forgets_the_oldest_senders():
    limit = RateLimit(2, 60.0, max_senders=100)
    for n in range(1000):
        assert limit.allow(f"peer{n}", 0.0)
    assert len(limit) == 100


def test_journal_buffer_for_a_down_store_is_bounded_in_bytes():
    journal = Journal(zmq.Context.instance(), "sqlite:///unused.db", "inproc://unused",
                      error_buffer_bytes=100_000)
    big = [AppendErrors((ErrorRecord(at=float(n), host="h", process="p", component="rater", message=f"m{n}",
                                     traceback="z" * 9_000),)) for n in range(50)]
    kept = journal._cap_errors([Remove(("a.com",)), *big])
    records = [r for op in kept if isinstance(op, AppendErrors) for r in op.records]
    assert isinstance(kept[0], Remove)
    assert 5 <= len(records) <= 11 and sum(len(r.traceback) for r in records) <= 100_000
    assert records[-1].message == "m49"          # the newest are kept


def test_journal_prunes_the_error_log_by_age(store_url, start_broker):
    now = time.time()
    with open_store(store_url) as s:
        s.migrate()
        s.append_errors([ErrorRecord(at=now - 10 * 86400, host="h", process="p", component="x", message="old"),
                         ErrorRecord(at=now - 3600, host="h", process="p", component="x", message="recent")])
    rb = start_broker(store_url, error_log_days=2.0)
    with rb.client() as c:
        # Any write wakes the journal, which prunes at its first batch.
        rb.rate(c, "192.0.2.1", ["wake-the-journal.com"])
    st = rb.wait_for(lambda s: s["journal"]["errors_pruned"] >= 1, 10, "error log pruned")
    assert st["journal"]["errors_pruned"] == 1
    with open_store(store_url) as s:
        assert [e.message for e in s.recent_errors(10)] == ["recent"]
