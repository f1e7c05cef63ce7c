"""sitetruth-frontend at start and in the log: stores it refuses, outages it rides out, the access log.

Real processes (``python -m frontend.cli`` and gunicorn) on loopback, real
SQLite files and MariaDB databases. No broker runs: ratings already in the
store are served without one, which is all these tests need.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from frontend.cli import build_parser, config_from_args
from protocol.config import parse_args
from store import open_store, parse_store_url
from tests.support.processes import free_port
from tests.support.web import dead_endpoint, seed

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
API = "/fcgi/rateapiv3.fcgi"
CLF = re.compile(r'^(\S+) - - \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "([^"]*)" (\d{3}) (\d+|-)$')


class Frontend:
    """A frontend process with a clean environment (no SITETRUTH_* of the developer's)."""

    def __init__(self, tmp_path, args: list[str], env: dict[str, str] | None = None, name: str = "frontend",
                 command: list[str] | None = None) -> None:
        self.log_path = tmp_path / f"{name}.log"
        full = {k: v for k, v in os.environ.items() if not k.startswith("SITETRUTH_")}
        full["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
        full["PYTHONUNBUFFERED"] = "1"
        full.update(env or {})
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(command or [sys.executable, "-m", "frontend.cli", *args], stdout=log,
                                          stderr=subprocess.STDOUT, env=full, cwd=str(tmp_path),
                                          start_new_session=True)

    def output(self) -> str:
        return self.log_path.read_bytes().decode(errors="replace")

    def exit_code(self, timeout: float = 30) -> int:
        return self.popen.wait(timeout)

    def wait_ready(self, text: str = "frontend listening on", timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if text in self.output():
                return
            if self.popen.poll() is not None:
                raise AssertionError(f"exited {self.popen.returncode}: {self.output()[-2000:]}")
            time.sleep(0.05)
        raise AssertionError(f"not ready after {timeout} s: {self.output()[-2000:]}")

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode


@pytest.fixture
def frontends(tmp_path):
    started: list[Frontend] = []

    def start(*args: str, env: dict[str, str] | None = None, name: str = "frontend",
              command: list[str] | None = None) -> Frontend:
        proc = Frontend(tmp_path, list(args), env, name, command)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def raw_request(port: int, request_line: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(request_line + b"\r\nHost: 127.0.0.1\r\n\r\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def wait_for_lines(read, count: int, timeout: float = 15) -> list[str]:
    end = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < end:
        lines = read()
        if len(lines) >= count:
            return lines
        time.sleep(0.05)
    raise AssertionError(f"expected {count} access log lines, got {lines!r}")


# ------------------------------------------------------------ stores refused at start


def test_a_missing_sqlite_file_is_refused_with_exit_2_and_not_created(frontends, tmp_path):
    missing = tmp_path / "typo.db"
    proc = frontends("--listen", "127.0.0.1:0", "--store", f"sqlite:///{missing}", "--broker", dead_endpoint())
    assert proc.exit_code() == 2, proc.output()
    lines = [line for line in proc.output().splitlines() if line.startswith("sitetruth-frontend:")]
    assert len(lines) == 1 and "no such SQLite file" in lines[0] and "sitetruth-db" in lines[0]
    assert "Traceback" not in proc.output()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("typo.db")]


def test_a_store_without_the_schema_is_refused_with_exit_2(frontends, store_url):
    with open_store(store_url) as store:
        store.ping()            # the database (or SQLite file) exists, empty
    proc = frontends("--listen", "127.0.0.1:0", "--store", store_url, "--broker", dead_endpoint())
    assert proc.exit_code() == 2, proc.output()
    assert "--store" in proc.output() and "has no schema" in proc.output() and "migrate" in proc.output()
    assert "Traceback" not in proc.output()


@pytest.mark.mysql
def test_a_mysql_database_that_does_not_exist_is_refused_with_exit_2(frontends):
    from tests.conftest import mysql_test_url

    base = parse_store_url(mysql_test_url())
    url = base.with_database("sitetruth_no_such_database").geturl()
    proc = frontends("--listen", "127.0.0.1:0", "--store", url, "--broker", dead_endpoint())
    assert proc.exit_code() == 2, proc.output()
    assert "Unknown database" in proc.output() and "Traceback" not in proc.output()


def test_a_read_replica_without_the_schema_is_refused_too(frontends, tmp_path):
    good, empty = f"sqlite:///{tmp_path}/good.db", f"sqlite:///{tmp_path}/empty.db"
    seed(good)
    with open_store(empty) as store:
        store.ping()
    proc = frontends("--listen", "127.0.0.1:0", "--store", good, "--store-read", empty, "--broker", dead_endpoint())
    assert proc.exit_code() == 2, proc.output()
    assert "--store-read" in proc.output() and "has no schema" in proc.output()


def test_a_database_that_is_down_at_start_is_an_outage_not_a_refusal(frontends):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    port = free_port()
    proc = frontends("--listen", f"127.0.0.1:{port}", "--broker", dead_endpoint(), "--broker-timeout", "0.5",
                     "--store", f"mysql://st:pw@127.0.0.1:{closed}/sitetruth?connect_timeout=1")
    proc.wait_ready()
    assert "unavailable at start" in proc.output()
    status, headers, _ = get(port, f"{API}?url=example.com")
    # Neither store nor broker: the documented outage reply, the client comes back later.
    assert status == 503 and int(headers["retry-after"]) >= 1
    assert proc.stop() == 0


def test_a_migrated_store_is_served(frontends, tmp_path):
    url = f"sqlite:///{tmp_path}/ok.db"
    seed(url)
    port = free_port()
    proc = frontends("--listen", f"127.0.0.1:{port}", "--store", url, "--broker", dead_endpoint())
    proc.wait_ready()
    status, _, body = get(port, f"{API}?url=example.com")
    assert status == 200 and b'rating="A"' in body
    assert proc.stop() == 0


def test_gunicorn_workers_refuse_a_missing_store_and_gunicorn_exits(frontends, tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout", "20",
               "frontend.wsgi:application"]
    proc = frontends(env={"SITETRUTH_STORE": f"sqlite:///{tmp_path}/absent.db",
                          "SITETRUTH_BROKER": dead_endpoint()}, command=command, name="gunicorn")
    assert proc.exit_code(60) != 0
    assert "no such SQLite file" in proc.output()
    assert not (tmp_path / "absent.db").exists()


# ------------------------------------------------------------ access log


def test_access_log_file_has_one_common_log_format_line_per_request(frontends, tmp_path):
    url = f"sqlite:///{tmp_path}/st.db"
    seed(url)
    log = tmp_path / "access.log"
    port = free_port()
    proc = frontends("--listen", f"127.0.0.1:{port}", "--store", url, "--broker", dead_endpoint(),
                     "--access-log", str(log))
    proc.wait_ready()
    status, headers, body = get(port, f"{API}?url=example.com")
    assert status == 200
    assert get(port, "/no/such/page")[0] == 404
    # A hostile request line: a quote and a terminal escape must not reach the log raw.
    raw_request(port, b'GET /fcgi/rateapiv3.fcgi?url=a"b\x1b[31m HTTP/1.0')
    lines = wait_for_lines(lambda: log.read_text().splitlines() if log.exists() else [], 3)
    assert len(lines) == 3
    parsed = [CLF.match(line) for line in lines]
    assert all(parsed), lines
    first, second, third = parsed
    assert first.group(1) == "127.0.0.1"
    assert first.group(3) == f"GET {API}?url=example.com HTTP/1.1"
    assert (first.group(4), first.group(5)) == ("200", str(len(body)))
    assert second.group(3) == "GET /no/such/page HTTP/1.1" and second.group(4) == "404"
    assert "\\x22" in third.group(3) and "\\x1b" in third.group(3) and "\x1b" not in lines[2]
    assert proc.stop() == 0


def test_access_log_under_gunicorn_from_the_environment(frontends, tmp_path):
    url = f"sqlite:///{tmp_path}/st.db"
    seed(url)
    log = tmp_path / "gunicorn-access.log"
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "2", "-b", f"127.0.0.1:{port}",
               "--timeout", "20", "frontend.wsgi:application"]
    proc = frontends(env={"SITETRUTH_STORE": url, "SITETRUTH_BROKER": dead_endpoint(),
                          "SITETRUTH_ACCESS_LOG": str(log)}, command=command, name="gunicorn")
    proc.wait_ready("Booting worker")
    end = time.monotonic() + 30
    status = None
    while status is None and time.monotonic() < end:
        try:
            status, _, body = get(port, f"{API}?url=example.com&key=guest")
        except OSError:
            time.sleep(0.1)
    assert status == 200, proc.output()
    (line,) = wait_for_lines(lambda: log.read_text().splitlines() if log.exists() else [], 1)
    match = CLF.match(line)
    assert match and match.group(3) == f"GET {API}?url=example.com&key=guest HTTP/1.1"
    assert (match.group(4), match.group(5)) == ("200", str(len(body)))


def test_access_log_to_standard_output(frontends, tmp_path):
    url = f"sqlite:///{tmp_path}/st.db"
    seed(url)
    port = free_port()
    proc = frontends("--listen", f"127.0.0.1:{port}", "--store", url, "--broker", dead_endpoint(),
                     env={"SITETRUTH_ACCESS_LOG": "-"})
    proc.wait_ready()
    assert get(port, f"{API}?url=shadyshop.org")[0] == 200
    lines = wait_for_lines(lambda: [ln for ln in proc.output().splitlines() if CLF.match(ln)], 1)
    assert f'"GET {API}?url=shadyshop.org HTTP/1.1" 200' in lines[0]
    assert proc.stop() == 0


def test_without_access_log_nothing_is_logged_per_request(frontends, tmp_path):
    url = f"sqlite:///{tmp_path}/st.db"
    seed(url)
    port = free_port()
    proc = frontends("--listen", f"127.0.0.1:{port}", "--store", url, "--broker", dead_endpoint())
    proc.wait_ready()
    assert get(port, f"{API}?url=example.com")[0] == 200
    assert proc.stop() == 0
    assert not [ln for ln in proc.output().splitlines() if CLF.match(ln)]


def test_an_unwritable_access_log_is_a_configuration_error(frontends, tmp_path):
    url = f"sqlite:///{tmp_path}/st.db"
    seed(url)
    proc = frontends("--listen", "127.0.0.1:0", "--store", url, "--access-log", str(tmp_path / "no" / "dir.log"))
    assert proc.exit_code() == 2 and "--access-log" in proc.output()


# ------------------------------------------------------------ options


def test_frontend_options_from_file_env_and_flags(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("from-file\n")
    conf = tmp_path / "frontend.toml"
    conf.write_text(f'[sitetruth-frontend]\nkeys-file = "{keys}"\ninternal-allow = ["10.1.0.0/16"]\n'
                    'cache-ttl = 3\nthreads = 4\n')
    parser = build_parser()
    args = parse_args(parser, ["--config", str(conf), "--threads", "8", "--key", "flag-key"],
                      environ={"SITETRUTH_CACHE_TTL": "5", "SITETRUTH_ACCESS_LOG": "-"})
    config = config_from_args(args)
    assert config.keys == frozenset({"from-file", "flag-key"})
    assert config.internal_allow == ("10.1.0.0/16",)     # given: replaces the default ranges
    assert (config.cache_ttl, config.threads, config.access_log) == (5.0, 8, "-")
