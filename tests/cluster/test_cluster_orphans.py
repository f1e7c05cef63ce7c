"""A launcher killed outright (SIGKILL) leaves no orphans: broker, raterd and its workers, frontend all exit.

The children run in sessions of their own (Ctrl-C reaches only the
launcher), so nothing but their guard (frontend/_childguard.py) can stop
them when the launcher cannot.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support.processes import ROOT, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def cluster_command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "sitetruth-cluster")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "frontend.cluster"]


def _descendants(root: int) -> set[int]:
    """Every live process below *root*, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: fields after it.
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            parents[int(entry)] = int(fields[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_children_exit_when_the_launcher_is_sigkilled(tmp_path):
    http, clients, raters = free_port(), free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=ROOT)
    log_path = tmp_path / "cluster.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(cluster_command() + ["--workers", "2", "--store", f"sqlite:///{tmp_path / 'st.db'}",
                                                 "--listen", f"127.0.0.1:{http}",
                                                 "--bind-clients", f"tcp://127.0.0.1:{clients}",
                                                 "--bind-raters", f"tcp://127.0.0.1:{raters}"],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    family: set[int] = set()
    try:
        end = time.monotonic() + 90
        while time.monotonic() < end and "SiteTruth cluster is up" not in log_path.read_text():
            assert proc.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.1)
        family = _descendants(proc.pid)
        # broker, raterd supervisor, its two workers, frontend (and nothing is left of the import step)
        assert len(family) >= 5, (family, log_path.read_text()[-2000:])
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        killed = time.monotonic()
        while time.monotonic() < killed + 20 and any(_alive(pid) for pid in family):
            time.sleep(0.1)
        survivors = [pid for pid in family if _alive(pid)]
        assert not survivors, survivors
        print(f"{len(family)} children gone {time.monotonic() - killed:.1f} s after the launcher's SIGKILL")
    finally:
        log.close()
        for pid in family:                      # ours: never leave them running whatever failed
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
