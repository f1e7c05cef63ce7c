"""The scale simulation runs end to end on a small scale: real broker, real rater processes, real clients.

A smoke test of ``scripts/sim_scale.py --quick`` (shortened and scaled down
to stay well under a minute on a shared machine): it checks that the
simulation does what it reports on (raters register and heartbeat both
ways, every RATE is answered, jobs reach raters, simulated ratings come
back and are counted), never how fast (timing is the benchmark's business).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.timeout(90)
@pytest.mark.parametrize("slots,extra", [(1, []), (10, ["--commit-delay", "0.01"])],
                         ids=["a connection per worker", "node connections with a commit delay"])
def test_small_scale_simulation_dispatches_rates_and_heartbeats(slots, extra):
    raters, rate, seconds = 60, 8.0, 12
    connections = raters // slots
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "sim_scale.py"), "--quick", "--seconds", str(seconds),
         "--raters", str(raters), "--processes", "2", "--rate", str(rate), "--work", "2", "--pulses", "1",
         "--clients", "500", "--sample", "3", "--slots", str(slots), *extra, "--json"],
        capture_output=True, text=True, timeout=80, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(proc.stdout)

    assert r["raters"] == raters and r["processes"] == 2
    sent = r["requests_sent"]
    assert sent > 0
    # Every RATE got a RateReply (nothing refused, nothing malformed).
    assert r["replies"] == {"RateReply": sent}, r["replies"]
    # Every dispatched job reached a rater and carried its send time.
    assert r["rater_messages"]["received"]["JOB"] == r["dispatch_ms"]["n"] > 0
    # Ratings of 2 s finished and the broker counted them.
    assert r["rater_messages"]["sent"]["RESULT"] > 0 and r["completed"] > 0
    assert r["rater_messages"]["sent"]["READY"] == connections
    assert r["rater_messages"]["received"]["DISCONNECT"] == 0
    # Heartbeats flow both ways.
    assert r["heartbeats_per_s"]["raters_to_broker"] > 0 and r["heartbeats_per_s"]["broker_to_raters"] > 0
    # The broker's view over time: every rater stayed registered.
    assert r["samples"] and all(s["raters"] == connections for s in r["samples"])
    assert all(0 <= s["free_slots"] <= raters for s in r["samples"])
    assert 0 <= r["dispatch_ms"]["p50"] <= r["dispatch_ms"]["p99"] <= r["dispatch_ms"]["max"]
    # The machine's floor was measured alongside (pings through the bare two-hop chain came back).
    assert r["two_hop_floor_ms"]["n"] > 0
    assert r["broker_load"]["rss_mb"] > 0 and r["broker_idle"]["cpu_pct"] >= 0
