"""Fairness over real sockets: a flood from one IP cannot starve another.

Dispatch order is read from the job ids (they end in the broker's dispatch
sequence number), never from when rater threads happened to receive them.
"""

from __future__ import annotations

import collections
import threading

from protocol import AdminRequest, RateReply
from tests.support.fake_rater import FakeRater, dispatch_order


def _admin(client, action: str) -> None:
    assert client.call(lambda i: AdminRequest(req_id=i, action=action, args={})).ok


def test_late_single_request_is_dispatched_within_two_dispatches(store_url, start_broker):
    rb = start_broker(store_url, max_per_ip=5000)
    client = rb.client()
    raters = [FakeRater(rb.raters, f"r{i}", mode="sleep:0.05", context=rb.context).start() for i in range(2)]
    try:
        reply = rb.rate(client, "10.1.1.1", [f"flood{n}.com" for n in range(1000)])
        assert isinstance(reply, RateReply)
        rb.wait_for(lambda s: s["counters"].get("dispatched", 0) >= 6, what="flood being served")
        # Hold dispatching while B asks, so "before" is exact: the dispatches
        # made before B's request was acknowledged.
        _admin(client, "pause")
        assert isinstance(rb.rate(client, "10.2.2.2", ["late-small.com"]), RateReply)
        st = rb.wait_for(lambda s: s["totals"]["in_flight"] == 0, what="raters idle while paused")
        before = st["counters"]["dispatched"]
        _admin(client, "resume")
        rb.wait_for(lambda s: s["counters"].get("dispatched", 0) >= before + 4, what="dispatching again")
        position = dispatch_order(raters).index("late-small.com")
        assert position < before + 2, (position, before)
    finally:
        for r in raters:
            r.stop()


def test_twenty_flooding_ips_share_dispatches_equally(store_url, start_broker):
    rb = start_broker(store_url, max_per_ip=1000)
    control = rb.client()
    _admin(control, "pause")

    def flood(ip_n: int) -> None:
        c = rb.client()
        for batch in range(4):
            domains = [f"ip{ip_n}-b{batch}-{k}.com" for k in range(50)]
            assert isinstance(rb.rate(c, f"198.18.0.{ip_n}", domains), RateReply)

    threads = [threading.Thread(target=flood, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert rb.stats(control)["totals"]["queued"] == 20 * 200
    raters = [FakeRater(rb.raters, f"r{i}", context=rb.context).start() for i in range(2)]
    try:
        rb.wait_for(lambda s: s["totals"]["raters"] == 2, what="raters registered")
        _admin(control, "resume")
        rb.wait_for(lambda s: s["counters"].get("completed", 0) >= 2000, timeout=60, what="2000 completions")
    finally:
        for r in raters:
            r.stop()
    first = dispatch_order(raters)[:2000]
    share = collections.Counter(d.split("-")[0] for d in first)
    assert len(share) == 20
    assert all(abs(n - 100) <= 5 for n in share.values()), share
