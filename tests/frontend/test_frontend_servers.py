"""The frontend served for real over sockets: sitetruth-frontend (HTTP and FastCGI) and gunicorn.

Each test starts real processes (tests/support/processes.py) against a real
broker (in this process, on loopback) and store, and talks to them over
TCP or a UNIX socket, as a client, a web server or an operator would.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import sys
import threading
import time

import pytest
from lxml import etree

from frontend.render import NAMESPACE
from tests.support.fcgi_client import FastCGIClient, nginx_params
from tests.support.processes import Proc, free_port
from tests.support.web import wait_until

NS = {"st": NAMESPACE}
API = "/fcgi/rateapiv3.fcgi"


def get(port: int, path: str, host: str = "127.0.0.1", timeout: float = 10.0) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def ratings(body: bytes) -> list[dict[str, str]]:
    return [dict(e.attrib) for e in etree.fromstring(body).findall("st:rating", NS)]


def start(args: list[str], log_path: str, ready_text: str | None = None, env: dict | None = None) -> Proc:
    """A Proc whose environment also has ``env`` (Proc copies os.environ when it starts the child)."""
    saved = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    try:
        return Proc(args, log_path, ready_text=ready_text)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def frontend(tmp_path, *args: str, name: str = "frontend", env: dict | None = None) -> tuple[Proc, str]:
    proc = start([sys.executable, "-m", "frontend.cli", *args], str(tmp_path / f"{name}.log"),
                 ready_text="frontend listening on", env=env)
    url = re.search(r"frontend listening on (\S+)", proc.output()).group(1)
    return proc, url


def test_builtin_server_serves_concurrent_clients_and_stops_on_sigterm(seeded_sqlite, start_broker, tmp_path):
    broker = start_broker(seeded_sqlite)
    proc, url = frontend(tmp_path, "--listen", "127.0.0.1:0", "--store", seeded_sqlite, "--broker", broker.clients,
                         "--threads", "4")
    try:
        port = int(url.rsplit(":", 1)[1])
        status, headers, body = get(port, f"{API}?url=example.com&url=brand-new.com")
        assert status == 200 and headers["content-type"] == "text/xml; charset=utf-8"
        assert [(i["rating"], i["status"]) for i in ratings(body)] == [("A", "200"), ("W", "202")]
        results: list[int] = []

        def client() -> None:
            for _ in range(10):
                results.append(get(port, f"{API}?url=www.example.com&format=json")[0])

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert results == [200] * 80
        # A request line over 64 KiB is refused by the server itself.
        assert get(port, API + "?url=" + "a" * 70_000)[0] == 414
    finally:
        assert proc.stop() == 0


def test_cli_fastcgi_on_a_unix_socket(seeded_sqlite, tmp_path):
    sock = str(tmp_path / "fe.sock")
    proc, url = frontend(tmp_path, "--fastcgi", sock, "--store", seeded_sqlite, "--fastcgi-mode", "666")
    try:
        assert url == f"unix:{sock}"
        with FastCGIClient(sock) as c:
            r = c.request(nginx_params(f"{API}?url=example.com"))
        assert r.status == 200 and ratings(r.body)[0]["rating"] == "A"
    finally:
        assert proc.stop() == 0
    assert not (tmp_path / "fe.sock").exists()


def test_cli_settings_from_environment_and_keys_file(seeded_sqlite, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# application keys\nadrater\n\nfirefox-addon  # the old one\n")
    port = free_port()
    env = {"SITETRUTH_LISTEN": f"127.0.0.1:{port}", "SITETRUTH_STORE": seeded_sqlite,
           "SITETRUTH_KEYS_FILE": str(keys), "SITETRUTH_KEY": "extra-key"}
    proc, _ = frontend(tmp_path, env=env)
    try:
        for key, status in (("adrater", 200), ("firefox-addon", 200), ("extra-key", 200), ("guest", 403)):
            assert get(port, f"{API}?url=example.com&key={key}")[0] == status, key
    finally:
        assert proc.stop() == 0


@pytest.mark.parametrize("args,message", [
    (["--trusted-proxy", "10.0.0.0/99"], "--trusted-proxy"),
    (["--max-urls", "5"], "--max-urls"),
    (["--store", "postgres://x/y"], "--store"),
    (["--keys-file", "/nonexistent/keys"], "keys file"),
])
def test_cli_configuration_errors_exit_2(tmp_path, args, message):
    proc = Proc([sys.executable, "-m", "frontend.cli", "--listen", "127.0.0.1:0", *args],
                str(tmp_path / "bad.log"))
    assert proc.popen.wait(30) == 2
    assert message in proc.output()


def test_cli_address_in_use_exits_2(tmp_path, seeded_sqlite):
    proc, url = frontend(tmp_path, "--listen", "127.0.0.1:0", "--store", seeded_sqlite)
    try:
        other = Proc([sys.executable, "-m", "frontend.cli", "--listen", url.removeprefix("http://")],
                     str(tmp_path / "second.log"))
        assert other.popen.wait(30) == 2 and "cannot listen" in other.output()
    finally:
        proc.stop()


def _gunicorn(tmp_path, store: str, broker: str, *extra: str, env: dict | None = None,
             threads: int = 4) -> tuple[Proc, int]:
    pytest.importorskip("gunicorn", reason="gunicorn is in the test extras: pip install -e '.[test]'")
    port = free_port()
    environ = {"SITETRUTH_STORE": store, "SITETRUTH_BROKER": broker, **(env or {})}
    proc = start([sys.executable, "-m", "gunicorn", "-w", "2", "--threads", str(threads), "-b", f"127.0.0.1:{port}",
                  "--graceful-timeout", "5", *extra, "frontend.wsgi:application"],
                 str(tmp_path / "gunicorn.log"), ready_text="Booting worker", env=environ)
    wait_until(lambda: _answers(port), timeout=20, what="gunicorn to answer")
    return proc, port


def _answers(port: int) -> bool:
    try:
        return get(port, "/static/frontend.css", timeout=2)[0] == 200
    except OSError:
        return False


@pytest.mark.parametrize("preload", [False, True], ids=["lazy", "preload"])
def test_gunicorn_workers_reach_store_and_broker(seeded_sqlite, start_broker, tmp_path, preload):
    broker = start_broker(seeded_sqlite)
    proc, port = _gunicorn(tmp_path, seeded_sqlite, broker.clients, *(["--preload"] if preload else []))
    try:
        results: list[tuple[int, list]] = []

        def client(n: int) -> None:
            for i in range(6):
                status, _, body = get(port, f"{API}?url=example.com&url=gunicorn-{n}-{i}.com")
                results.append((status, [(x["rating"], x["status"]) for x in ratings(body)]))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert results == [(200, [("A", "200"), ("W", "202")])] * 36
        # Every request reached the broker from whichever worker thread served it.
        assert broker.stats()["counters"]["accepted"] == 36
    finally:
        assert proc.stop() == 0


def test_gunicorn_multiprocess_metrics_add_up_workers(seeded_sqlite, tmp_path):
    mp = tmp_path / "prom"
    mp.mkdir()
    # Sync workers (one request at a time each) and requests that each wait 0.5 s for a broker that
    # is not there: while one worker waits, the other must take the next connection.
    env = {"PROMETHEUS_MULTIPROC_DIR": str(mp), "SITETRUTH_BROKER_TIMEOUT": "0.5", "SITETRUTH_BROKER_BACKOFF": "0"}
    proc, port = _gunicorn(tmp_path, seeded_sqlite, f"tcp://127.0.0.1:{free_port()}", env=env, threads=1)
    try:
        slow = [threading.Thread(target=lambda n=n: get(port, f"{API}?url=unknown{n}.com")) for n in range(4)]
        for t in slow:
            t.start()
            time.sleep(0.05)
        for t in slow:
            t.join(30)
        for _ in range(30):
            assert get(port, f"{API}?url=example.com")[0] == 200
        text = get(port, "/metrics")[2].decode()
        assert 'sitetruth_frontend_requests_total{endpoint="rate",status="200"} 30.0' in text
        assert 'sitetruth_frontend_requests_total{endpoint="rate",status="503"} 4.0' in text
        assert len({p.name for p in mp.glob("counter_*.db")}) == 2  # both workers counted
    finally:
        proc.stop()


def test_status_json_over_http_is_internal_only(seeded_sqlite, tmp_path):
    proc, url = frontend(tmp_path, "--listen", "127.0.0.1:0", "--store", seeded_sqlite,
                         "--internal-allow", "192.0.2.0/24")
    try:
        port = int(url.rsplit(":", 1)[1])
        assert get(port, "/status.json")[0] == 403
        assert get(port, "/rating/example.com")[0] == 200
    finally:
        proc.stop()
    proc, url = frontend(tmp_path, "--listen", "127.0.0.1:0", "--store", seeded_sqlite, name="fe2")
    try:
        status, _, body = get(int(url.rsplit(":", 1)[1]), "/status.json")
        assert status == 200 and json.loads(body)["recent_ratings"][0]["domain"]
    finally:
        proc.stop()
