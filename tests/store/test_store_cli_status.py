"""``sitetruth-db status`` never creates a store, and reads its options like every other program."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from store import LATEST_VERSION, open_store
from store.cli import ExitCode

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cli(*args: str, cwd: str = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("SITETRUTH_")}
    full["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    full.update(env)
    return subprocess.run([sys.executable, "-m", "store.cli", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=60)


def test_status_of_a_missing_sqlite_file_says_so_and_creates_nothing(tmp_path):
    path = tmp_path / "typo.db"
    result = cli("--store", f"sqlite:///{path}", "status")
    assert result.returncode == ExitCode.SCHEMA
    assert "no such file" in result.stdout and "sitetruth-db migrate" in result.stdout
    errors = result.stderr.strip().splitlines()
    assert errors == [f"sitetruth-db: error: no SQLite store at {path} (nothing was created)"]
    assert list(tmp_path.iterdir()) == []        # no file, no -wal or -shm either


def test_status_json_of_a_missing_file(tmp_path):
    result = cli("status", "--json", SITETRUTH_STORE=f"sqlite:///{tmp_path}/gone.db")
    assert result.returncode == ExitCode.SCHEMA
    report = json.loads(result.stdout)
    assert report["exists"] is False and report["up_to_date"] is False
    assert (report["schema_version"], report["latest_version"]) == (0, LATEST_VERSION)
    assert list(tmp_path.iterdir()) == []


def test_the_default_store_is_not_created_by_status(tmp_path):
    # No --store: the default ./sitetruth.db of the current directory.
    result = cli("status", cwd=str(tmp_path))
    assert result.returncode == ExitCode.SCHEMA and "no SQLite store at ./sitetruth.db" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_migrate_still_creates_the_file_and_status_then_reports_it(tmp_path):
    url = f"sqlite:///{tmp_path}/new.db"
    assert cli("--store", url, "migrate").returncode == ExitCode.OK
    result = cli("--store", url, "status", "--json")
    assert result.returncode == ExitCode.OK and json.loads(result.stdout)["up_to_date"] is True


def test_an_existing_unmigrated_file_is_reported_as_such(tmp_path):
    url = f"sqlite:///{tmp_path}/empty.db"
    with open_store(url) as store:
        store.ping()
    result = cli("--store", url, "status")
    assert result.returncode == ExitCode.SCHEMA and "0 (latest" in result.stdout


def test_the_store_comes_from_the_config_file_too(tmp_path):
    url = f"sqlite:///{tmp_path}/conf.db"
    assert cli("--store", url, "migrate").returncode == 0
    conf = tmp_path / "db.toml"
    conf.write_text(f'[sitetruth-db]\nstore = "{url}"\njson = true\n')
    result = cli("--config", str(conf), "status")
    assert result.returncode == 0 and json.loads(result.stdout)["schema_version"] == LATEST_VERSION
    # The command line beats the file.
    other = cli("--config", str(conf), "status", "--store", f"sqlite:///{tmp_path}/other.db")
    assert other.returncode == ExitCode.SCHEMA and "other.db" in other.stderr


def test_a_typo_in_the_config_file_is_a_usage_error(tmp_path):
    conf = tmp_path / "db.toml"
    conf.write_text('stroe = "sqlite:///x.db"\n')
    result = cli("--config", str(conf), "status")
    assert result.returncode == ExitCode.USAGE and "unknown option(s) stroe" in result.stderr


def test_status_names_the_broker_that_last_became_active(tmp_path):
    url = f"sqlite:///{tmp_path}/leased.db"
    before = json.loads(cli("--store", url, "migrate", "--json").stdout)
    assert before["schema_version"] == LATEST_VERSION
    assert re.search(r"^active broker +none yet$", cli("--store", url, "status").stdout, re.M)
    with open_store(url) as s:
        lease = s.take_broker_lease("broker-a broker[42] tcp://10.0.0.1:7710", wait=1)
        text = cli("--store", url, "status").stdout
        report = json.loads(cli("--store", url, "status", "--json").stdout)
    assert re.search(r"^active broker +broker-a broker\[42\] tcp://10\.0\.0\.1:7710 \(epoch 1, since 20", text, re.M)
    assert report["broker_lease"] == {"epoch": 1, "holder": lease.holder, "since": lease.since}
