"""The README's run command, tried as a new user would: ``sitetruth-cluster --demo``.

It starts the whole cluster (store, broker, raterd, frontend, demo sites);
an API request for a demo site first answers W/202 and later its final
letter; SIGTERM stops every process cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.support.processes import ROOT, free_port

pytestmark = pytest.mark.slow


def _command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "sitetruth-cluster")
    if os.path.exists(script):               # installed, as the README has it
        return [script]
    return [sys.executable, "-m", "frontend.cluster"]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, json.loads(r.read())


def test_readme_run_command_rates_a_demo_site(tmp_path):
    http, clients, raters = free_port(), free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=ROOT)
    log = open(tmp_path / "cluster.log", "wb")
    proc = subprocess.Popen(_command() + ["--demo", "--listen", f"127.0.0.1:{http}",
                                          "--bind-clients", f"tcp://127.0.0.1:{clients}",
                                          "--bind-raters", f"tcp://127.0.0.1:{raters}"],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        api = f"http://127.0.0.1:{http}/api/v3/rate?url=acme-widgets.co.uk&url=quiet-notes.org&format=json"
        first = None
        end = time.monotonic() + 60
        while time.monotonic() < end and first is None:
            try:
                first = _get(api)
            except OSError:
                time.sleep(0.2)                  # still starting
        assert first is not None, (tmp_path / "cluster.log").read_text()
        status, items = first
        assert status == 200
        assert [(i["rating"], i["status"]) for i in items] == [("W", "202"), ("W", "202")]
        final = None
        while time.monotonic() < end:
            _, items = _get(api)
            if all(i["status"] == "200" for i in items):
                final = items
                break
            time.sleep(0.5)
        assert final is not None, (tmp_path / "cluster.log").read_text()[-3000:]
        acme, blog = final
        assert (acme["rating"], acme["ratinginfo"], acme["postcode"]) == ("A", "", "HX7 8AB")
        assert (blog["rating"], blog["ratinginfo"]) == ("U", "non_commercial")
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(60)
        log.close()
    out = (tmp_path / "cluster.log").read_text()
    assert rc == 0, out[-3000:]
    for name in ("frontend", "raterd", "broker"):
        assert f"[cluster] {name} stopped (0)" in out, out[-3000:]
    assert (tmp_path / "sitetruth.db").exists()      # the embedded SQLite default, in the working directory
