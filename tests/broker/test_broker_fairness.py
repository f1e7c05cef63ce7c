"""Fairness over real sockets: a flood from one IP cannot starve another."""

from __future__ import annotations

import collections
import threading

from protocol import AdminRequest, RateReply
from tests.support.fake_rater import FakeRater


def test_late_single_request_is_dispatched_within_two_dispatches(store_url, start_broker):
    rb = start_broker(store_url, max_per_ip=5000)
    client = rb.client()
    raters = [FakeRater(rb.raters, f"r{i}", mode="sleep:0.05", context=rb.context).start() for i in range(2)]
    try:
        reply = rb.rate(client, "10.1.1.1", [f"flood{n}.com" for n in range(1000)])
        assert isinstance(reply, RateReply)
        rb.wait_for(lambda s: s["counters"].get("dispatched", 0) >= 6, what="flood being served")
        before = rb.stats(client)["counters"]["dispatched"]
        assert isinstance(rb.rate(client, "10.2.2.2", ["late-small.com"]), RateReply)
        rb.wait_for(lambda s: any(d == "late-small.com" for r in raters for d, _ in r.jobs), what="B dispatched")
        order = [d for d, _ in sorted((j for r in raters for j in r.jobs), key=lambda j: j[1])]
        position = order.index("late-small.com")
        # `before` was read after B's request: B may not come later than 2 dispatches after it.
        assert position < before + 2, (position, before)
    finally:
        for r in raters:
            r.stop()


def test_twenty_flooding_ips_share_dispatches_equally(store_url, start_broker):
    rb = start_broker(store_url, max_per_ip=1000)
    control = rb.client()
    control.call(lambda i: AdminRequest(req_id=i, action="pause", args={}))

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
        control.call(lambda i: AdminRequest(req_id=i, action="resume", args={}))
        rb.wait_for(lambda s: s["counters"].get("completed", 0) >= 2000, timeout=60, what="2000 completions")
    finally:
        for r in raters:
            r.stop()
    first = [d for d, _ in sorted((j for r in raters for j in r.jobs), key=lambda j: j[1])][:2000]
    share = collections.Counter(d.split("-")[0] for d in first)
    assert len(share) == 20
    assert all(abs(n - 100) <= 5 for n in share.values()), share
