"""MariaDB stopped under load: clients get "unavailable", nothing acknowledged is lost.

Runs its own private MariaDB (it stops and restarts it), so it needs the
mariadb-server binaries: skipped with a reason on a developer machine
without them, a failure in CI.
"""

from __future__ import annotations

import time

import pytest

from protocol import ErrorReply, RateReply, RateRequest, Unavailable
from protocol.client import NOT_ACTIVE
from store import open_store
from tests.support.fake_rater import FakeRater

pytestmark = [pytest.mark.mysql, pytest.mark.slow]



def test_store_outage_refuses_new_work_then_resumes_without_loss(private_mariadb, start_broker):
    url, mariadb = private_mariadb
    with open_store(url) as s:
        s.migrate()
    rb = start_broker(url, max_per_ip=100_000)
    raters = [FakeRater(rb.raters, f"r{i}", mode="sleep:0.01", context=rb.context).start() for i in range(2)]
    client = rb.client(timeout=15)
    acked: list[str] = []
    unavailable = 0
    phase = "before"
    counts = {"before": 0, "during": 0, "after": 0}
    try:
        for n in range(3000):                      # bounded load loop
            domains = tuple(f"outage{n}-{k}.com" for k in range(5))
            reply = client.call(lambda i: RateRequest(req_id=i, client_ip=f"192.0.2.{n % 7}", priority=1,
                                                      domains=domains))
            if isinstance(reply, RateReply):
                acked.extend(domains)
                counts[phase] += 1
            else:
                # A long outage makes the broker drop to standby (it may no
                # longer hold the store's lock): "not active" until it is back.
                if isinstance(reply, ErrorReply):
                    assert reply.code == NOT_ACTIVE, reply
                else:
                    assert isinstance(reply, Unavailable), reply
                    assert reply.retry_after > 0 and ("store unavailable" in reply.reason
                                                      or "no longer active" in reply.reason)
                unavailable += 1
            if phase == "before" and counts["before"] >= 100:
                mariadb("stop")
                phase = "during"
                stopped_at = n
            elif phase == "during" and unavailable >= 20 and n - stopped_at >= 50:
                mariadb("start")
                phase = "after"
            elif phase == "after" and counts["after"] >= 100:
                break
            time.sleep(0.005)
        assert phase == "after" and counts["after"] >= 100, (phase, counts, unavailable)
        # Drained, and every write the journal kept through the outage committed.
        st = rb.wait_for(lambda s: s["totals"]["live"] == 0 and s["broker"]["store_ok"]
                         and s["journal"]["unacked_batches"] == 0 and s["journal"]["backlog"] == 0,
                         timeout=60, what="queue drained and journal empty")
    finally:
        for r in raters:
            r.stop()
    assert unavailable >= 20
    # The server was fully stopped before "during" began: no acknowledgement
    # may have been given without a commit.
    assert counts["during"] == 0, counts
    with open_store(url) as s:
        rated = s.lookup_ratings(acked)
        missing = sorted(set(acked) - set(rated))
        assert missing == [], f"{len(missing)} acknowledged jobs lost, e.g. {missing[:5]}"
        assert s.load_queue() == []
    assert st["counters"].get("unavailable", 0) + st["counters"].get("not_active_replies", 0) == unavailable
