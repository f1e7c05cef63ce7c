"""Migrations (idempotent, race-safe, version checks) and the sitetruth-db CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from store import LATEST_VERSION, ErrorRecord, QueuedJob, SchemaError, StoredRating, open_store
from store.cli import ExitCode, main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER = os.path.join(ROOT, "tests", "store", "store_worker.py")
TIMEOUT = 60


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("SITETRUTH_STORE", None)
    env.update(extra)
    return env


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "store.cli", *args], cwd=ROOT, env=child_env(**env),
                          capture_output=True, text=True, timeout=TIMEOUT)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -------------------------------------------------------------- migrations

def test_unmigrated_store_refuses_work_with_a_hint(store_url):
    with open_store(store_url) as store:
        assert store.schema_version() == 0
        status = store.status()
        assert (status.schema_version, status.latest_version, status.counts) == (0, LATEST_VERSION, {})
        calls = [lambda: store.lookup_ratings(["a.example"]),
                 lambda: store.enqueue([QueuedJob("a.example", "ip", 1, 1.0)]),
                 lambda: store.complete([StoredRating.new("a.example", "A")]),
                 lambda: store.record_attempts([("a.example", 1)]),
                 lambda: store.append_errors([ErrorRecord(1.0, "h", "p", "c", "m")]),
                 store.load_queue, store.queue_stats, store.recent_errors, store.recent_ratings,
                 lambda: store.remove_jobs(["a.example"])]
        for call in calls:
            with pytest.raises(SchemaError, match="sitetruth-db .*migrate"):
                call()
        store.ping()  # reachability does not depend on the schema


def test_migrate_is_idempotent(store_url):
    with open_store(store_url) as store:
        assert store.migrate() == list(range(1, LATEST_VERSION + 1))
        assert store.migrate() == []
        assert store.schema_version() == LATEST_VERSION
        assert store.status().counts == {"ratings": 0, "rating_queue": 0, "error_log": 0}
    with open_store(store_url) as other:
        assert other.migrate() == []


def test_schema_newer_than_the_code_is_refused(migrated_store, store_url):
    future = LATEST_VERSION + 1
    migrated_store._run("test", lambda cur: cur.execute(migrated_store._sql(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"), (future, "future", 0.0)),
        write=True, schema=False)
    with open_store(store_url) as store:
        with pytest.raises(SchemaError, match="newer than this code"):
            store.lookup_ratings(["a.example"])
        with pytest.raises(SchemaError, match="newer than this code"):
            store.migrate()
        assert store.schema_version() == future


def test_racing_migrations_apply_once(store_url):
    procs = [subprocess.Popen([sys.executable, WORKER, store_url, "migrate"], cwd=ROOT, env=child_env(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "READY"
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [json.loads(p.communicate(timeout=TIMEOUT)[0]) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0, 0, 0]
    assert sorted(results) == [[], [], list(range(1, LATEST_VERSION + 1))]
    with open_store(store_url) as store:
        assert store.schema_version() == LATEST_VERSION


# --------------------------------------------------------------------- CLI

def test_cli_migrate_then_status(store_url):
    before = cli("--store", store_url, "status")
    assert before.returncode == ExitCode.SCHEMA and "run `sitetruth-db migrate`" in before.stdout

    first = cli("--store", store_url, "migrate")
    assert first.returncode == ExitCode.OK, first.stderr
    assert f"schema version is now {LATEST_VERSION}" in first.stdout
    again = cli("migrate", "--store", store_url, "--json")  # flags after the command work too
    assert again.returncode == 0 and json.loads(again.stdout) == {"applied": [], "schema_version": LATEST_VERSION}

    with open_store(store_url) as store:
        store.enqueue([QueuedJob(f"c{i}.example", "192.0.2.1", 1, 1.0) for i in range(3)])
    status = cli("status", SITETRUTH_STORE=store_url)  # the env twin of --store
    assert status.returncode == 0, status.stderr
    assert "rating_queue rows  3" in status.stdout and ("sqlite" in status.stdout or "mysql" in status.stdout)
    as_json = json.loads(cli("--store", store_url, "status", "--json").stdout)
    assert as_json["counts"] == {"ratings": 0, "rating_queue": 3, "error_log": 0}
    assert as_json["schema_version"] == as_json["latest_version"] == LATEST_VERSION and as_json["up_to_date"]


def test_cli_exit_codes_and_one_line_errors(tmp_path):
    cases = [
        (["--store", "postgres://u@h/db", "status"], ExitCode.USAGE, "unsupported store URL scheme"),
        (["--store", f"sqlite:///{tmp_path}/missing/dir/x.db", "migrate"], ExitCode.USAGE, "does not exist"),
        (["--store", f"mysql://u:s3cret@127.0.0.1:{closed_port()}/db?connect_timeout=2", "status"],
         ExitCode.UNAVAILABLE, "unavailable"),
        (["frobnicate"], ExitCode.USAGE, "invalid choice"),
    ]
    for args, code, message in cases:
        result = cli(*args)
        assert result.returncode == code, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr
        assert "s3cret" not in result.stderr + result.stdout


def test_cli_schema_error_exit_code(migrated_store, store_url):
    migrated_store._run("test", lambda cur: cur.execute(migrated_store._sql(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"), (LATEST_VERSION + 1, "f", 0.0)),
        write=True, schema=False)
    result = cli("--store", store_url, "migrate")
    assert result.returncode == ExitCode.SCHEMA and "newer than this code" in result.stderr


def test_cli_help_has_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "sitetruth-db --store 'mysql://" in out and "exit codes" in out


def test_cli_main_function_in_process(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/inproc.db"
    assert main(["--store", url, "migrate"]) == 0
    assert main(["--store", url, "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["backend"] == "sqlite"
