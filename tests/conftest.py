"""Test-wide set-up: make the repo importable when it is not pip-installed."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


# --------------------------------------------------------------------------
# Store fixtures (shared by the store, broker and frontend tests).
#
# `store_url` runs a test once per back end, each time on a fresh, empty
# database: SQLite in tmp_path, MySQL/MariaDB as a uniquely named database
# on the server named by SITETRUTH_TEST_MYSQL_URL, dropped afterwards.
# Without that variable the mysql run is skipped with a reason -- except in
# CI (env CI set), where it fails: the MySQL tests never silently skip there.
# Start a private server with:  scripts/mariadb-private.sh start
# --------------------------------------------------------------------------
import pytest  # noqa: E402

MYSQL_URL_ENV = "SITETRUTH_TEST_MYSQL_URL"


def mysql_test_url() -> str:
    """The MySQL server URL for tests; skip (or fail in CI) when there is none."""
    url = os.environ.get(MYSQL_URL_ENV, "").strip()
    if not url:
        reason = (f"{MYSQL_URL_ENV} is not set: no MySQL/MariaDB server for the mysql back-end tests "
                  "(start one with scripts/mariadb-private.sh start and export the URL it prints)")
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, and MySQL tests never skip in CI: {reason}")
        pytest.skip(reason)
    return url


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def store_url(request, tmp_path):
    """URL of a fresh, empty (unmigrated) store; parametrised over sqlite and mysql."""
    from store.scratch import scratch_store_url

    if request.param == "sqlite":
        with scratch_store_url("sqlite", directory=str(tmp_path), prefix="store") as url:
            yield url
    else:
        with scratch_store_url("mysql", mysql_url=mysql_test_url(), prefix="sitetruth_test") as url:
            yield url


@pytest.fixture
def migrated_store(store_url):
    """An open, migrated Store on `store_url` (closed after the test)."""
    from store import open_store

    store = open_store(store_url)
    store.migrate()
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def mysql_store_url():
    """URL of a fresh, empty MySQL database, for tests of server-only behaviour (KILL, ...)."""
    from store.scratch import scratch_store_url

    with scratch_store_url("mysql", mysql_url=mysql_test_url(), prefix="sitetruth_test") as url:
        yield url


@pytest.fixture
def private_mariadb(tmp_path):
    """A MariaDB of the test's own (``scripts/mariadb-private.sh``), for tests that stop and restart it.

    Yields ``(url, run)``: ``run("stop")`` / ``run("start")`` stop and restart
    the server on the same port and data. Needs the mariadb-server binaries:
    skipped with a reason on a developer machine without them, a failure in CI.
    """
    import shutil
    import subprocess

    from tests.support.processes import ROOT, free_port

    if not any(shutil.which(b) or os.path.exists(f"/usr/sbin/{b}") for b in ("mariadbd", "mysqld")):
        if os.environ.get("CI"):
            pytest.fail("CI is set and mariadbd is not installed: the tests that stop their own MariaDB "
                        "must run in CI")
        pytest.skip("mariadbd not installed (apt-get install mariadb-server)")
    env = dict(os.environ, SITETRUTH_TEST_MYSQL_PORT=str(free_port()))
    datadir = str(tmp_path / "mariadb")
    script = os.path.join(ROOT, "scripts", "mariadb-private.sh")

    def run(cmd: str) -> str:
        return subprocess.run([script, cmd, datadir], env=env, check=True, capture_output=True,
                              text=True, timeout=60).stdout.strip()

    url = run("start")
    yield url, run
    run("stop")
