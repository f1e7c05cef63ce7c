"""``sitetruth-sources``: imports, status, checks and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from raterd.sources.cli import ExitCode, main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "raterd", "data")
CH = os.path.join(DATA, "BasicCompanyData-sample.csv")
GLEIF = os.path.join(DATA, "gleif-goldencopy-lei2-sample.csv")
FEED = os.path.join(DATA, "phishing-domains-sample.txt")
PHISHTANK = os.path.join(DATA, "online-valid-sample.json")


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.delenv("SITETRUTH_SOURCES", raising=False)
    monkeypatch.delenv("SITETRUTH_GLEIF_URL", raising=False)
    return str(tmp_path / "sources.db")


def run(db, *args):
    return main(["--sources", db, "-q", *args])


def test_import_each_kind_and_status_json(db, capsys):
    assert run(db, "import", "companies-house", CH) == ExitCode.OK
    assert "companies-house: imported 9 rows, skipped 3" in capsys.readouterr().out
    assert run(db, "import", "gleif", GLEIF) == ExitCode.OK
    assert run(db, "import", "blocklist", "--name", "openphish", FEED) == ExitCode.OK
    assert run(db, "import", "phishtank", PHISHTANK) == ExitCode.OK
    capsys.readouterr()
    assert run(db, "status", "--json") == ExitCode.OK
    rows = {r["name"]: (r["kind"], r["rows"], r["skipped"]) for r in json.loads(capsys.readouterr().out)}
    assert rows == {"companies-house": ("registry", 9, 3), "gleif": ("registry", 6, 3),
                    "openphish": ("blocklist", 8, 5), "phishtank": ("blocklist", 4, 4)}


def test_status_table_and_empty_index(db, capsys):
    assert run(db, "status") == ExitCode.OK
    assert "no sources imported" in capsys.readouterr().out
    assert not os.path.exists(db)              # status never creates the index
    run(db, "import", "companies-house", CH)
    capsys.readouterr()
    assert run(db, "status") == ExitCode.OK
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["NAME", "KIND", "FORMAT", "ROWS"]
    assert out[1].split()[:5] == ["companies-house", "registry", "companies-house-csv", "9", "3"]


def test_check_finds_and_misses(db, capsys):
    run(db, "import", "companies-house", CH)
    run(db, "import", "blocklist", "--name", "feed", FEED)
    capsys.readouterr()
    assert run(db, "check", "--company", "Acme Widgets Ltd", "--postcode", "SW1A 1AA") == ExitCode.OK
    assert "01234567" in capsys.readouterr().out
    assert run(db, "check", "--domain", "www.evil-bank-login-sample.com", "--json") == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["blocklist"][0]["source"] == "feed"
    assert run(db, "check", "--domain", "example.org") == ExitCode.NOT_FOUND
    assert run(db, "check", "--company", "Acme Widgets Ltd") == ExitCode.NOT_FOUND   # name alone
    assert run(db, "check") == ExitCode.USAGE


def test_missing_input_file(db, tmp_path, capsys):
    assert run(db, "import", "phishtank", str(tmp_path / "online-valid.json")) == ExitCode.NO_INPUT
    assert "cannot read" in capsys.readouterr().err


def test_bad_format_keeps_the_old_data(db, capsys):
    run(db, "import", "companies-house", CH)
    assert run(db, "import", "companies-house", GLEIF) == ExitCode.BAD_FORMAT
    assert "not a Companies House" in capsys.readouterr().err
    assert run(db, "check", "--company", "Acme Widgets Ltd", "--postcode", "SW1A 1AA") == ExitCode.OK


def test_refused_import(db, tmp_path, capsys):
    empty = tmp_path / "feed.txt"
    empty.write_text("# nothing\n")
    assert run(db, "import", "blocklist", "--name", "feed", str(empty)) == ExitCode.REFUSED
    assert "no usable rows" in capsys.readouterr().err


def test_blocklist_needs_a_name_and_names_are_checked(db, capsys):
    assert run(db, "import", "blocklist", FEED) == ExitCode.USAGE
    assert "--name" in capsys.readouterr().err
    assert run(db, "import", "blocklist", "--name", "No Spaces!", FEED) == ExitCode.USAGE


def test_unusable_index_path(tmp_path, capsys):
    db = str(tmp_path / "no-such-dir" / "sources.db")
    assert run(db, "import", "companies-house", CH) == ExitCode.INDEX_ERROR
    assert "sources index" in capsys.readouterr().err


def test_remove(db, capsys):
    run(db, "import", "blocklist", "--name", "feed", FEED)
    assert run(db, "remove", "feed") == ExitCode.OK
    assert run(db, "remove", "feed") == ExitCode.NOT_FOUND
    capsys.readouterr()
    run(db, "status", "--json")
    assert json.loads(capsys.readouterr().out) == []


def test_environment_twin_and_flag_after_the_command(tmp_path, monkeypatch, capsys):
    db = str(tmp_path / "from-env.db")
    monkeypatch.setenv("SITETRUTH_SOURCES", db)
    assert main(["-q", "import", "blocklist", "--name", "feed", FEED]) == ExitCode.OK
    assert os.path.exists(db)
    other = str(tmp_path / "from-flag.db")
    assert main(["-q", "import", "phishtank", PHISHTANK, "--sources", other]) == ExitCode.OK
    capsys.readouterr()
    assert main(["status", "--json", "--sources", other]) == ExitCode.OK
    assert [r["name"] for r in json.loads(capsys.readouterr().out)] == ["phishtank"]


def test_remote_check_disabled_by_empty_url(db, capsys):
    run(db, "import", "companies-house", CH)
    assert main(["--sources", db, "--gleif-url", "", "check", "--company", "Acme Widgets Ltd",
                 "--postcode", "SW1A 1AA", "--remote"]) == ExitCode.OK
    assert "disabled" in capsys.readouterr().err


def test_as_a_real_process(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT, SITETRUTH_SOURCES=str(tmp_path / "s.db"))
    done = subprocess.run([sys.executable, "-m", "raterd.sources.cli", "--help"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "examples:" in done.stdout and "exit codes:" in done.stdout
    done = subprocess.run([sys.executable, "-m", "raterd.sources.cli", "import", "companies-house", CH],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "imported 9 rows, skipped 3" in done.stdout
    assert "skipped" in done.stderr               # the first bad rows are named on stderr
    done = subprocess.run([sys.executable, "-m", "raterd.sources.cli", "import", "gleif", CH],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == ExitCode.BAD_FORMAT
    done = subprocess.run([sys.executable, "-m", "raterd.sources.cli", "bogus"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == ExitCode.USAGE
