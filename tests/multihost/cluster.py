"""Cluster processes on rig hosts: store schema, broker, rater nodes, frontend, shop sites.

Each ``start_*`` runs one real program of ours inside one rig host's network
namespace, bound to that host's address, and waits until it says it is
listening. :func:`api` asks a frontend from another rig host, the way a
client on the network would.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

from tests.support.processes import ROOT, Proc

from .rig import Rig

__all__ = ["SITES_PORT", "migrate", "start_broker", "start_raterd", "start_frontend", "start_sites",
           "api", "broker_stats", "hosts_file"]

SITES_PORT = 8081
CLIENTS_PORT, RATERS_PORT, HTTP_PORT = 7710, 7711, 8080


def migrate(rig: Rig, host: str, store_url: str) -> None:
    proc = subprocess.run(rig.command(host, rig.module("store.cli", "--store", store_url, "migrate")),
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    if proc.returncode != 0:
        raise RuntimeError(f"sitetruth-db migrate on {host} failed: {proc.stderr[-2000:]}")


def broker_endpoints(rig: Rig, host: str) -> tuple[str, str]:
    addr = rig.hosts[host].addr
    return f"tcp://{addr}:{CLIENTS_PORT}", f"tcp://{addr}:{RATERS_PORT}"


def start_broker(rig: Rig, host: str, store_url: str, *extra: str) -> Proc:
    clients, raters = broker_endpoints(rig, host)
    # The rig's network is private to the test; keys are tested on their own.
    return rig.start(host, rig.module("broker.cli", "--store", store_url, "--bind-clients", clients,
                                      "--bind-raters", raters, "--insecure", *extra),
                     f"broker-{host}", ready_text="broker listening")


def hosts_file(rig: Rig, site_host: str, names: list[str]) -> str:
    """A hosts(5) file mapping every shop name to the sites' host (trusted operator mapping)."""
    path = os.path.join(rig.workdir, "shops.hosts")
    with open(path, "w") as f:
        # www. names too: a rater looks for both, and the rig has no DNS to ask.
        f.write(f"{rig.hosts[site_host].addr} {' '.join(names)} {' '.join('www.' + n for n in names)}\n")
    return path


def start_raterd(rig: Rig, host: str, broker: str, hosts: str, workers: int = 2, *extra: str) -> Proc:
    return rig.start(host, rig.module("raterd.cli", "--broker", broker, "--workers", str(workers),
                                      "--hosts", hosts, "--http-port", str(SITES_PORT),
                                      "--https-port", str(SITES_PORT + 1), "--gleif-url", "",
                                      "--node-name", host, *extra),
                     f"raterd-{host}")


def start_frontend(rig: Rig, host: str, broker: str, store_url: str, store_read: str, *extra: str) -> Proc:
    addr = rig.hosts[host].addr
    return rig.start(host, rig.module("frontend.cli", "--listen", f"{addr}:{HTTP_PORT}", "--broker", broker,
                                      "--store", store_url, "--store-read", store_read, *extra),
                     f"frontend-{host}", ready_text="frontend listening on")


def start_sites(rig: Rig, host: str, delay: float = 0.0) -> Proc:
    return rig.start(host, rig.module("tests.multihost.sites", "--bind", rig.hosts[host].addr,
                                      "--port", str(SITES_PORT), "--delay", str(delay)),
                     f"sites-{host}", ready_text="sites listening")


_CLIENT = r"""
import json, sys, urllib.error, urllib.request
out = []
for url in sys.argv[1:]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            out.append([r.status, json.loads(r.read())])
    except urllib.error.HTTPError as e:
        out.append([e.code, e.read().decode(errors="replace")])
    except OSError as e:
        out.append([0, repr(e)])
print(json.dumps(out))
"""


def api(rig: Rig, client_host: str, frontend_host: str, domains: list[str]) -> list[tuple[int, object]]:
    """One API request per domain, made from ``client_host``: [(status, parsed JSON or error text)]."""
    addr = rig.hosts[frontend_host].addr
    urls = [f"http://{addr}:{HTTP_PORT}/api/v3/rate?url={d}&format=json" for d in domains]
    return [tuple(x) for x in json.loads(rig.python(client_host, _CLIENT, *urls))]


_STATS = r"""
import json, sys
from protocol import StatsRequest
from protocol.client import BrokerClient
with BrokerClient(sys.argv[1], timeout=2.0) as c:
    print(json.dumps(c.call(lambda i: StatsRequest(req_id=i, recent=200)).stats, default=str))
"""


def broker_stats(rig: Rig, from_host: str, broker_host: str) -> dict:
    return json.loads(rig.python(from_host, _STATS, broker_endpoints(rig, broker_host)[0]))


def wait_until(predicate, timeout: float, what: str, interval: float = 0.3):
    """Poll ``predicate()`` until it returns something true; AssertionError after ``timeout``."""
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
