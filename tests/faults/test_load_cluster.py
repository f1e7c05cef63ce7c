"""The load test's short run: a whole cluster, 100 client addresses, nothing acknowledged lost."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.processes import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def test_short_load_run_loses_nothing_and_serves_every_address():
    done = subprocess.run([sys.executable, "scripts/load_cluster.py", "--requests", "2000", "--ips", "100",
                           "--domains-per-ip", "2", "--concurrency", "16", "--max-seconds", "150",
                           "--drain-seconds", "150", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=360)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(result, indent=1))
    assert result["requests"] == 2000
    assert result["acknowledged"] == 200 and result["rated"] == 200 and result["lost"] == 0
    assert result["drained"]
    whole = result["dispatch_share_whole_run"]
    assert whole["min"] >= 2          # every address served (a retried job counts again)
    assert result["dispatch_share_halfway"]["max_dev_jobs"] <= 1.0
