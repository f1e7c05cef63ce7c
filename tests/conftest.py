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
