"""Frontends read from a MariaDB replica; the broker writes to the primary.

Hosts: db (primary), db2 (replica, real MariaDB replication), broker-a,
rater-1, front (the frontend, reading only from db2, and the shop sites).
A client on another host asks for ratings through the frontend.
"""

from __future__ import annotations

import time

import pytest

from .cluster import api, broker_endpoints, hosts_file, migrate, start_broker, start_frontend, \
    start_raterd, start_sites, wait_until
from .mariadb import pause, replicate, resume, start_server

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.timeout(300)]

SHOPS = [f"rig-shop-{i}.com" for i in range(6)]


def _letter(reply) -> str | None:
    """The one item's letter, or None when the reply is an error (HTTP status or item status)."""
    status, body = reply
    if status != 200 or not isinstance(body, list) or not body:
        return None
    return body[0]["rating"] if body[0]["status"] in ("200", "202") else None


def test_ratings_reach_clients_through_the_replica(make_rig):
    rig = make_rig(["db", "db2", "broker-a", "rater-1", "front", "client"])
    primary, replica = start_server(rig, "db", 1), start_server(rig, "db2", 2)
    replicate(primary, replica)
    primary.execute("CREATE DATABASE sitetruth CHARACTER SET utf8mb4")
    migrate(rig, "broker-a", primary.url())
    wait_until(lambda: replica.execute("SHOW TABLES FROM sitetruth"), 20, "the schema on the replica")

    clients, raters = broker_endpoints(rig, "broker-a")
    start_broker(rig, "broker-a", primary.url())
    start_sites(rig, "front")
    start_raterd(rig, "rater-1", raters, hosts_file(rig, "front", SHOPS), 2)
    # The frontend is given only the replica: it can read nothing else.
    start_frontend(rig, "front", clients, replica.url(), replica.url(), "--cache-ttl", "0")

    # A new site: W/202 first, then its letter, read from db2.
    first = api(rig, "client", "front", [SHOPS[0]])[0]
    assert _letter(first) == "W" and first[1][0]["status"] == "202", first
    letter = wait_until(lambda: (_letter(api(rig, "client", "front", [SHOPS[0]])[0]) or "W") != "W"
                        and _letter(api(rig, "client", "front", [SHOPS[0]])[0]), 60, "the first rating")
    assert letter in "AQX", letter
    assert replica.execute("SELECT rating FROM sitetruth.ratings WHERE domain=%s", (SHOPS[0],))

    # Replication paused: known ratings answered as before, new ones stay W/202, no error.
    pause(replica)
    try:
        new = SHOPS[1]
        end = time.monotonic() + 10
        seen = []
        while time.monotonic() < end:
            known, fresh = api(rig, "client", "front", [SHOPS[0], new])
            seen.append((known[1][0]["status"], _letter(known), fresh[1][0]["status"], _letter(fresh)))
            time.sleep(0.5)
        assert all(s[:2] == ("200", letter) for s in seen), seen
        assert all(s[2:] == ("202", "W") for s in seen), seen
        # Meanwhile the broker rated it on the primary, exactly once.
        rows = primary.execute("SELECT rating, rated_at FROM sitetruth.ratings WHERE domain=%s", (new,))
        assert len(rows) == 1, rows
        rated_at = rows[0][1]
    finally:
        resume(replica)
    letter_new = wait_until(lambda: (_letter(api(rig, "client", "front", [new])[0]) or "W") != "W"
                            and _letter(api(rig, "client", "front", [new])[0]), 30, "the new rating via db2")
    assert letter_new in "AQX"
    # Asking again while the replica lagged did not start a second rating.
    assert primary.execute("SELECT rated_at FROM sitetruth.ratings WHERE domain=%s", (new,))[0][0] == rated_at
