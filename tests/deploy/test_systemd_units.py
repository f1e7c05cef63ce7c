"""The systemd units in deploy/ are valid units that start our real programs.

``systemd-analyze verify`` checks each unit's syntax, its dependencies and
that every ``ExecStart`` program exists and is executable. The units name the
documented install location (/opt/sitetruth/.venv) and /etc/sitetruth/*.env;
the test points those at this checkout's virtualenv and at copies of the
example env files, so what is verified is exactly what an operator installs.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
ENVS = sorted((ROOT / "deploy" / "env").glob("*.env"))


def _systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing in CI (Debian package systemd)")
        pytest.skip("systemd-analyze not installed (Debian package systemd)")
    return path


def _installed_copy(tmp_path: pathlib.Path) -> list[pathlib.Path]:
    etc = tmp_path / "etc"
    etc.mkdir()
    for env in ENVS:
        shutil.copy(env, etc / env.name)
    bindir = pathlib.Path(sys.executable).parent
    units = []
    for unit in UNITS:
        text = unit.read_text()
        text = text.replace("/opt/sitetruth/.venv/bin", str(bindir))
        text = text.replace("/etc/sitetruth", str(etc))
        out = tmp_path / unit.name
        out.write_text(text)
        units.append(out)
    return units


def test_every_program_has_a_unit():
    names = {u.stem for u in UNITS}
    assert {"sitetruth-broker", "sitetruth-raterd", "sitetruth-frontend", "sitetruth-migrate"} <= names


def test_units_reference_existing_env_files():
    env_names = {e.name for e in ENVS}
    for unit in UNITS:
        for line in unit.read_text().splitlines():
            if line.startswith("EnvironmentFile="):
                assert pathlib.Path(line.split("=", 1)[1].lstrip("-")).name in env_names, unit.name


def test_env_files_only_set_sitetruth_variables():
    for env in ENVS:
        for line in env.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                assert line.startswith("SITETRUTH_") and "=" in line, (env.name, line)


def test_systemd_analyze_verify_accepts_every_unit(tmp_path):
    tool = _systemd_analyze()
    units = _installed_copy(tmp_path)
    proc = subprocess.run([tool, "verify", "--man=no", *map(str, units)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    # verify prints problems on stderr; a unit it cannot load fails the run.
    problems = [ln for ln in proc.stderr.splitlines()
                if ln.strip() and "sitetruth" in ln]
    assert proc.returncode == 0 and not problems, proc.stderr


def test_verify_catches_a_missing_program(tmp_path):
    """The check above can fail: a unit whose program does not exist is refused."""
    tool = _systemd_analyze()
    units = _installed_copy(tmp_path)
    broken = units[0]
    broken.write_text(broken.read_text().replace("ExecStart=", "ExecStart=/nonexistent/bin/"))
    proc = subprocess.run([tool, "verify", "--man=no", str(broken)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode != 0 and "not executable" in proc.stderr, proc.stderr
