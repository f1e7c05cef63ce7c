"""The README's commands, read out of the README and run as printed.

A newcomer copies the run command, then the curl example, then opens the
rating page. This test takes those commands from README.md itself (so the
README cannot drift from what works), runs the demo as the run command does,
runs the curl line against it and compares the reply with the one the README
shows, and opens the page the README names. The only change made to a
command is the port: the test gives the demo free ports, and checks that the
README's port is the launcher's real default.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import time
import urllib.request

import pytest

from frontend.cluster import build_parser
from tests.cluster.test_cluster_demo import _wait_for_line, cluster_command
from tests.support.processes import ROOT, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

README = pathlib.Path(ROOT, "README.md").read_text(encoding="utf-8")


def _code_blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def _run_command() -> str:
    return _code_blocks("sh")[0].strip()


def _curl_example() -> tuple[str, list[dict]]:
    """The curl line of 'What the letters mean' and the JSON reply printed under it."""
    section = README.split("## What the letters mean", 1)[1].split("\n## ", 1)[0]
    curl = re.search(r"```sh\n(curl .*?)\n```", section, flags=re.S).group(1).strip()
    reply = json.loads(re.search(r"```json\n(.*?)```", section, flags=re.S).group(1))
    return curl, reply


def test_the_readme_starts_with_the_run_and_test_commands():
    blocks = _code_blocks("sh")
    assert blocks[0].strip().endswith("sitetruth-cluster --demo"), blocks[0]
    assert blocks[1].strip() == "bash .ci/run"
    assert README.index(blocks[0]) < README.index("## ")  # before any section: the first thing read


def test_the_readmes_port_is_the_launchers_default():
    curl, _ = _curl_example()
    default = build_parser().get_default("listen")
    assert f"http://{default}/" in curl, (default, curl)


def test_readme_curl_and_pages_work_against_the_demo(tmp_path):
    curl_bin = shutil.which("curl")
    if curl_bin is None:
        if os.environ.get("CI"):
            pytest.fail("curl is not installed in CI (Debian package curl)")
        pytest.skip("curl is not installed")
    curl, reply = _curl_example()
    default = build_parser().get_default("listen")
    run = _run_command()
    assert run.split("&&")[-1].split() == [".venv/bin/sitetruth-cluster", "--demo"]

    http, clients, raters = free_port(), free_port(), free_port()
    here = f"127.0.0.1:{http}"
    env = dict(os.environ, PYTHONPATH=ROOT, XDG_STATE_HOME=str(tmp_path / "state"))
    env.pop("SITETRUTH_STORE", None)
    log_path = tmp_path / "cluster.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cluster_command() + ["--demo", "--listen", here,
                                                     "--bind-clients", f"tcp://127.0.0.1:{clients}",
                                                     "--bind-raters", f"tcp://127.0.0.1:{raters}"],
                                cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_line(log_path, "SiteTruth cluster is up", proc)
        argv = shlex.split(curl.replace(default, here))
        assert argv[0] == "curl"
        wanted = {item["url"]: item for item in reply}
        final = {"www.acme-widgets.co.uk", "quiet-notes.org"}   # demo sites: they reach their letters
        end = time.monotonic() + 90
        while True:
            done = subprocess.run([curl_bin, "-s", "--max-time", "10", *argv[1:]],
                                  capture_output=True, text=True, timeout=30)
            assert done.returncode == 0, done.stderr
            got = {item["url"]: item for item in json.loads(done.stdout)}
            if all(got[u]["status"] == "200" for u in final) or time.monotonic() > end:
                break
            time.sleep(0.5)
        assert set(got) == set(wanted)
        for url, item in wanted.items():
            # Each item is filed under what was asked, with the domain that was rated.
            assert (got[url]["domain"], got[url]["rated_domain"]) == (item["domain"], item["rated_domain"])
        for url in final:
            shown = {k: v for k, v in wanted[url].items() if k not in ("position",)}
            assert {k: got[url].get(k) for k in shown} == shown, got[url]
        # A site outside the demo is being rated (or already rated, for real): never an error.
        assert got["shop.example.de"]["status"] in ("200", "202")

        # The page the README tells people to open.
        page = re.search(r"Open `(http://[^`]+/rating/[^`]+)`", README).group(1).replace(default, here)
        with urllib.request.urlopen(page, timeout=10) as r:
            body = r.read().decode()
        assert r.status == 200 and "Acme Widgets" in body and "HX7 8AB" in body
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(60)
    assert rc == 0, log_path.read_text()[-3000:]
