"""STATS stays small at scale: thousands of raters are counted, the first 500 (by node, then worker) listed."""

from __future__ import annotations

import dataclasses

from broker import Broker, BrokerConfig
from broker.stats import MAX_RATERS, snapshot


def test_stats_lists_at_most_500_raters_in_name_order_and_counts_them_all(tmp_path):
    config = dataclasses.replace(BrokerConfig(), store=f"sqlite:///{tmp_path}/s.db")
    broker = Broker(config)
    for n in range(MAX_RATERS + 100):
        broker.core.raters.register(f"id{n}".encode(), host=f"node{n % 7}", pid=n, worker=f"w{n:04d}",
                                    version="t", capacity=1, jobs_done=0, now=0)
    stats = snapshot(broker, 0)
    assert stats["totals"]["raters"] == MAX_RATERS + 100
    listed = [(r["host"], r["worker"]) for r in stats["raters"]]
    assert len(listed) == MAX_RATERS and listed == sorted(listed)
    assert listed[0] == ("node0", "w0000")
