"""A whole cluster behind a real nginx, for end-to-end tests.

nginx (Debian's package) -> FastCGI on a UNIX socket -> sitetruth-frontend
-> broker -> sitetruth-raterd workers -> the demo sites on loopback
(:mod:`frontend.demo`, mapped with ``--resolve`` and ``--http-port``).
Every piece is a real process; the store is SQLite in the test's directory,
and a fresh MariaDB database too when ``SITETRUTH_TEST_MYSQL_URL`` is set
(each test module runs once per back end).

Needs ``nginx`` (and the browser tests ``chromium``): skipped with a reason
on a developer machine without them, a failure in CI.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from frontend.demo import DEMO_REGISTER_CSV, DEMO_SITES, DemoSites
from store import open_store
from tests.support.processes import Proc, free_port, start_broker_process

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


def require(binary: str | None, package: str) -> str:
    if binary:
        return binary
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {package} is not installed: the end-to-end tests must run in CI")
    pytest.skip(f"{package} is not installed (apt-get install {package})")


NGINX_CONF = """
daemon off;
master_process on;
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/nginx-body;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    proxy_temp_path {tmp}/nginx-proxy;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            include /etc/nginx/fastcgi_params;
            fastcgi_pass unix:{socket};
        }}
    }}
}}
"""


class Stack:
    def __init__(self, tmp, store: str | None = None) -> None:
        self.tmp = tmp
        self.procs: list[Proc] = []
        self.store = store or f"sqlite:///{tmp}/sitetruth.db"
        with open_store(self.store) as s:
            s.migrate()
        self.demo = DemoSites().start()
        register = tmp / "register.csv"
        register.write_text(DEMO_REGISTER_CSV)
        sources = str(tmp / "sources.db")
        subprocess.run([sys.executable, "-m", "raterd.sources.cli", "--sources", sources, "-q",
                        "import", "companies-house", str(register)], check=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=os.getcwd()))
        cport, rport = free_port(), free_port()
        self.broker = f"tcp://127.0.0.1:{cport}"
        self.procs.append(start_broker_process(self.store, tmp, cport, rport))
        rater = [sys.executable, "-m", "raterd.cli", "--broker", f"tcp://127.0.0.1:{rport}", "--workers", "2",
                 "--sources", sources, "--gleif-url", "", "--http-port", str(self.demo.port),
                 "--https-port", str(free_port())]
        for name in DEMO_SITES:
            rater += ["--resolve", f"{name}:127.0.0.1", "--resolve", f"www.{name}:127.0.0.1"]
        self.procs.append(Proc(rater, str(tmp / "raterd.log")))
        self.socket = str(tmp / "fcgi.sock")
        self.procs.append(Proc([sys.executable, "-m", "frontend.cli", "--fastcgi", self.socket,
                                "--fastcgi-mode", "666", "--broker", self.broker, "--store", self.store],
                               str(tmp / "frontend.log"), ready_text="frontend listening on"))
        self.port = free_port()
        user = "user root;" if os.geteuid() == 0 else ""
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, port=self.port, socket=self.socket))
        self.procs.append(Proc([NGINX, "-c", str(conf), "-e", str(tmp / "nginx-error.log")],
                               str(tmp / "nginx.log")))
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_http()

    def _wait_http(self) -> None:
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not listen: {(self.tmp / 'nginx-error.log').read_text()}")

    def get(self, path: str) -> tuple[int, dict, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=15) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def logs(self) -> str:
        return "\n".join(f"--- {p.log_path}\n{p.output()[-2000:]}" for p in self.procs)

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.stop()
        self.demo.stop()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def stack(request, tmp_path_factory):
    require(NGINX, "nginx")
    tmp = tmp_path_factory.mktemp("e2e")
    if request.param == "sqlite":
        s = Stack(tmp)
        try:
            yield s
        finally:
            s.stop()
        return
    from store.scratch import scratch_store_url
    from tests.conftest import mysql_test_url

    with scratch_store_url("mysql", mysql_url=mysql_test_url(), prefix="sitetruth_e2e") as url:
        s = Stack(tmp, url)
        try:
            yield s
        finally:
            s.stop()
