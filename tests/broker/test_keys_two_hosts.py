"""Keys made with sitetruth-keygen and placed as docs/security.md says, on a two-host-style loopback set-up.

"Hosts" are directories: the broker's (its pair and the three role
directories, bound on 127.0.0.2), a rater node's and a frontend's (each its
own pair, made there, plus a copy of the broker's public file). A demo site
is rated end to end (W, then its letter); a key in no role directory is
refused at the handshake and counted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from frontend.cluster import _prepare_demo
from protocol import StatsRequest
from protocol.client import BrokerClient, BrokerUnavailable
from protocol.security import load_client_keys
from tests.support.processes import Proc, free_port

BROKER_ADDR = "127.0.0.2"


def _keygen(*args: str) -> None:
    script = shutil.which("sitetruth-keygen", path=os.path.dirname(sys.executable))
    cmd = [script] if script else [sys.executable, "-m", "protocol.keygen"]
    done = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


@pytest.fixture
def procs():
    running: list[Proc] = []
    yield running
    for p in reversed(running):
        p.stop()


def test_two_host_setup_with_keygen_keys_rates_and_refuses_unknown_keys(tmp_path, procs):
    broker_host, node_host, fe_host = tmp_path / "broker-host", tmp_path / "node7-host", tmp_path / "fe1-host"
    # On the broker host: the broker's pair and the three role directories.
    _keygen(str(broker_host / "keys"), "broker")
    for role in ("raters", "clients", "admins"):
        (broker_host / role).mkdir(parents=True)
    # On each peer: its own pair, made there; its public file to its role, the broker's public file back.
    for host, name, role in ((node_host, "node7", "raters"), (fe_host, "fe1", "clients")):
        _keygen(str(host / "keys"), name)
        shutil.copy(host / "keys" / f"{name}.key", broker_host / role)
        shutil.copy(broker_host / "keys" / "broker.key", host / "keys")
    assert oct((node_host / "keys" / "node7.key_secret").stat().st_mode & 0o777) == "0o600"

    cport, rport = free_port(), free_port()
    store = f"sqlite:///{tmp_path}/broker-host/ratings.db"
    procs.append(Proc([sys.executable, "-m", "broker.cli", "--store", store,
                       "--bind-clients", f"tcp://{BROKER_ADDR}:{cport}", "--bind-raters", f"tcp://{BROKER_ADDR}:{rport}",
                       "--curve-secret", str(broker_host / "keys" / "broker.key_secret"),
                       "--rater-keys", str(broker_host / "raters"), "--client-keys", str(broker_host / "clients"),
                       "--admin-keys", str(broker_host / "admins")],
                      str(tmp_path / "broker.log"), ready_text="broker listening"))
    demo, demo_flags = _prepare_demo(str(node_host / "demo"), hosts_file=False)
    try:
        procs.append(Proc([sys.executable, "-m", "raterd.cli", "--broker", f"tcp://{BROKER_ADDR}:{rport}",
                           "--node-name", "node7", "--workers", "1", *demo_flags,
                           "--curve-secret", str(node_host / "keys" / "node7.key_secret"),
                           "--broker-public-key", str(node_host / "keys" / "broker.key")],
                          str(tmp_path / "raterd.log"), ready_text="registered with the broker", timeout=60))
        http = free_port()
        procs.append(Proc([sys.executable, "-m", "frontend.cli", "--listen", f"127.0.0.1:{http}",
                           "--broker", f"tcp://{BROKER_ADDR}:{cport}", "--store", store,
                           "--curve-secret", str(fe_host / "keys" / "fe1.key_secret"),
                           "--broker-public-key", str(fe_host / "keys" / "broker.key")],
                          str(tmp_path / "frontend.log"), ready_text="frontend listening on", timeout=30))
        api = f"http://127.0.0.1:{http}/api/v3/rate?url=acme-widgets.co.uk&format=json"
        first = _get(api)[0]
        assert (first["rating"], first["status"]) == ("W", "202")
        final = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            item = _get(api)[0]
            if item["status"] == "200":
                final = item
                break
            time.sleep(0.5)
        assert final is not None and final["rating"] == "A", (final, procs[1].output()[-2000:])

        # A key in no role directory: its handshake is refused, counted, and nothing is answered.
        _keygen(str(tmp_path / "stranger-host" / "keys"), "stranger")
        shutil.copy(broker_host / "keys" / "broker.key", tmp_path / "stranger-host" / "keys")
        stranger = load_client_keys(tmp_path / "stranger-host" / "keys" / "stranger.key_secret",
                                    tmp_path / "stranger-host" / "keys" / "broker.key")
        with BrokerClient(f"tcp://{BROKER_ADDR}:{cport}", timeout=1.5, connect_grace=0.5, curve=stranger) as c:
            with pytest.raises(BrokerUnavailable):
                c.call(lambda i: StatsRequest(req_id=i, recent=0))
        fe1 = load_client_keys(fe_host / "keys" / "fe1.key_secret", fe_host / "keys" / "broker.key")
        with BrokerClient(f"tcp://{BROKER_ADDR}:{cport}", timeout=5, connect_grace=3.0, curve=fe1) as c:
            st = c.call(lambda i: StatsRequest(req_id=i, recent=5)).stats
        assert st["security"]["curve"] is True
        assert st["security"]["refused"].get("handshake:unknown key", 0) >= 1, st["security"]
        assert [r["key"] for r in st["raters"]] == ["node7"]
        assert st["recent"][0]["rater"] == "node7"
    finally:
        demo.stop()
