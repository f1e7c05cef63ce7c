"""The README's run command, tried as a new user would: ``sitetruth-cluster --demo``.

It starts the whole cluster (store, broker, raterd, frontend, demo sites);
an API request for a demo site first answers W/202 and later its final
letter; the log names the process of every line; the commands the launcher
prints work as printed; the demo keeps its store in its state directory;
SIGTERM stops every process cleanly and leaves nothing in the temporary
directory.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import shutil
import socket
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from tests.support.processes import ROOT, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

PREFIX = re.compile(r"^(cluster|demo|broker|raterd|frontend) +\| ")


def cluster_command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "sitetruth-cluster")
    if os.path.exists(script):               # installed, as the README has it
        return [script]
    return [sys.executable, "-m", "frontend.cluster"]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, json.loads(r.read())


def _wait_for_line(log_path, text: str, proc: subprocess.Popen, timeout: float = 90) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if text in line:
                    return line
        assert proc.poll() is None, open(log_path).read()[-3000:]
        time.sleep(0.1)
    raise AssertionError(f"no {text!r} line after {timeout} s: " + open(log_path).read()[-3000:])


def _banner_value(log_path, label: str) -> str:
    with open(log_path, encoding="utf-8") as f:
        for line in f:
            m = re.match(rf"^cluster +\|   {label} +(.*)$", line.rstrip("\n"))
            if m:
                return m.group(1)
    raise AssertionError(f"no {label} line in the banner")


class _RealSite:
    """A blog on port 80 of a loopback address: where a real site is looked for (needs port 80)."""

    ADDRESS = "127.83.1.1"

    def __init__(self) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = (b"User-agent: *\nAllow: /\n" if self.path == "/robots.txt" else
                        b"<html><head><title>Field notes</title></head><body><h1>Field notes</h1>"
                        b"<article><p>Notes on birds seen this spring.</p></article></body></html>")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((self.ADDRESS, 80), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_readme_run_command_rates_demo_sites_and_real_ones(tmp_path):
    try:
        real = _RealSite()
    except OSError:
        real = None                            # no port 80 here: the demo uses a high port too
    work, state, tmp = tmp_path / "work", tmp_path / "state", tmp_path / "tmp"
    for d in (work, state, tmp):
        d.mkdir()
    http, clients, raters = free_port(), free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=ROOT, XDG_STATE_HOME=str(state), TMPDIR=str(tmp))
    env.pop("SITETRUTH_STORE", None)
    log_path = tmp_path / "cluster.log"
    log = open(log_path, "wb")
    extra = ["--resolve", f"field-notes.org:{_RealSite.ADDRESS}"] if real else []
    proc = subprocess.Popen(cluster_command() + ["--demo", "--workers", "2", "--listen", f"127.0.0.1:{http}",
                                                 "--bind-clients", f"tcp://127.0.0.1:{clients}",
                                                 "--bind-raters", f"tcp://127.0.0.1:{raters}", *extra],
                            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_line(log_path, "SiteTruth cluster is up", proc)
        domains = ["acme-widgets.co.uk", "quiet-notes.org"] + (["field-notes.org"] if real else [])
        api = f"http://127.0.0.1:{http}/api/v3/rate?" + "&".join(f"url={d}" for d in domains) + "&format=json"
        status, items = _get(api)
        assert status == 200
        assert {(i["rating"], i["status"]) for i in items} == {("W", "202")}
        final = None
        end = time.monotonic() + 60
        while time.monotonic() < end:
            _, items = _get(api)
            if all(i["status"] == "200" for i in items):
                final = items
                break
            time.sleep(0.5)
        assert final is not None, open(log_path).read()[-3000:]
        assert (final[0]["rating"], final[0]["ratinginfo"], final[0]["postcode"]) == ("A", "", "HX7 8AB")
        assert (final[1]["rating"], final[1]["ratinginfo"]) == ("U", "non_commercial")
        if real:
            # Not a demo name: looked for on the standard ports, where a real site is.
            assert (final[2]["rating"], final[2]["ratinginfo"]) == ("U", "non_commercial"), final[2]

        # The printed commands work as printed.
        monitor = shlex.split(_banner_value(log_path, "monitor"))
        done = subprocess.run(monitor + ["--once"], capture_output=True, text=True, timeout=30, cwd=tmp_path,
                              env={k: v for k, v in env.items() if k != "PYTHONPATH"})
        assert done.returncode == 0 and "RATER" in done.stdout, done.stderr
        curl = shlex.split(_banner_value(log_path, "try"))
        assert curl[0] == "curl"
        if shutil.which("curl"):
            done = subprocess.run(curl + ["-s"], capture_output=True, text=True, timeout=30)
            assert done.returncode == 0 and json.loads(done.stdout)[0]["rating"] == "A"
        # A second rater node, as printed: it registers under its own name.
        node2 = subprocess.Popen(shlex.split(_banner_value(log_path, "add node")), cwd=tmp_path,
                                 env={k: v for k, v in env.items() if k != "PYTHONPATH"},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            seen = ""
            end = time.monotonic() + 60
            while "node2/w0" not in seen and time.monotonic() < end and node2.poll() is None:
                time.sleep(0.5)
                seen = subprocess.run(monitor + ["--once"], capture_output=True, text=True, timeout=30).stdout
            assert "node2/w0" in seen, (node2.poll(), seen)
        finally:
            node2.send_signal(signal.SIGTERM)
            assert node2.wait(30) == 0
        metrics = _banner_value(log_path, "metrics")
        for url in re.findall(r"(http://\S+/metrics)", metrics):
            with urllib.request.urlopen(url, timeout=10) as reply:
                assert reply.status == 200
        assert "(raterd)" in metrics
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(60)
        log.close()
        if real:
            real.close()
    out = open(log_path, encoding="utf-8").read()
    assert rc == 0, out[-3000:]
    lines = out.splitlines()
    unprefixed = [line for line in lines if not PREFIX.match(line)]
    assert not unprefixed, unprefixed[:5]
    for name in ("frontend", "raterd", "broker"):
        assert f"cluster  | {name} stopped (0)" in lines, out[-3000:]
    for name in ("demo", "broker", "raterd", "frontend"):
        listening = [line for line in lines if line.startswith(f"{name} ") and "listening" in line]
        assert len(listening) == 1, (name, listening)
    # The demo's own store, in its state directory; nothing in the working or temporary directory.
    assert (state / "sitetruth-cluster" / "demo.db").exists()
    assert not (work / "sitetruth.db").exists()
    assert os.listdir(work) == [] and os.listdir(tmp) == []


def test_demo_with_a_store_given_uses_that_store(tmp_path):
    store = tmp_path / "given.db"
    env = dict(os.environ, PYTHONPATH=ROOT, XDG_STATE_HOME=str(tmp_path / "state"))
    http, clients, raters = free_port(), free_port(), free_port()
    log_path = tmp_path / "cluster.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cluster_command() + ["--demo", "--workers", "1", "--store", f"sqlite:///{store}",
                                                     "--listen", f"127.0.0.1:{http}",
                                                     "--bind-clients", f"tcp://127.0.0.1:{clients}",
                                                     "--bind-raters", f"tcp://127.0.0.1:{raters}",
                                                     "--raterd-metrics", ""],
                                cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for_line(log_path, "SiteTruth cluster is up", proc)
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(60)
    assert rc == 0
    assert _banner_value(log_path, "store") == f"sqlite:///{store}"
    assert store.exists() and not (tmp_path / "state" / "sitetruth-cluster" / "demo.db").exists()
    assert "(raterd)" not in _banner_value(log_path, "metrics")


def test_help_is_plain_text():
    done = subprocess.run(cluster_command() + ["--help"], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 0
    for markup in ("``", ":mod:", "::"):
        assert markup not in done.stdout, markup
    assert "--state-dir" in done.stdout and "--demo" in done.stdout


def test_demo_without_port_80_still_rates_its_sites_and_says_where_they_are(tmp_path):
    """Where port 80 cannot be had (a normal user; here: every demo address taken), the demo sites use a
    high port mapped name by name: their ratings still come, and the launcher says so."""
    taken = []
    try:
        for i in range(1, 9):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)    # past the last run's TIME-WAITs
            sock.bind((f"127.83.0.{i}", 80))
            sock.listen()
            taken.append(sock)
    except OSError:
        for sock in taken:
            sock.close()
        pytest.skip("port 80 is not ours to take here: the main demo test already runs without it")
    http, clients, raters = free_port(), free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=ROOT, XDG_STATE_HOME=str(tmp_path / "state"))
    log_path = tmp_path / "cluster.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(cluster_command() + ["--demo", "--workers", "1", "--listen", f"127.0.0.1:{http}",
                                                 "--bind-clients", f"tcp://127.0.0.1:{clients}",
                                                 "--bind-raters", f"tcp://127.0.0.1:{raters}",
                                                 "--raterd-metrics", ""],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_line(log_path, "SiteTruth cluster is up", proc)
        api = f"http://127.0.0.1:{http}/api/v3/rate?url=cheap-gadgets-online.com&format=json"
        end = time.monotonic() + 60
        item = _get(api)[1][0]
        while item["status"] != "200" and time.monotonic() < end:
            time.sleep(0.5)
            item = _get(api)[1][0]
        assert (item["rating"], item["ratinginfo"]) == ("X", "no_location"), item
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(60)
        log.close()
        for sock in taken:
            sock.close()
    out = log_path.read_text()
    assert rc == 0, out[-3000:]
    listening = [line for line in out.splitlines() if line.startswith("demo ") and "listening" in line]
    assert len(listening) == 1 and "http://127.0.0.1:" in listening[0]
    assert "the demo's names are mapped to port" in out
