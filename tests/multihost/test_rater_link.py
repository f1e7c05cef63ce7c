"""A rater host's link is cut mid-job: the job is finished by the other rater host, once.

Hosts: db (MariaDB primary), broker-a, rater-1, rater-2 (one worker each),
front (slow shop sites: every response takes a second, so a rating is still
running when the link goes), client. The host holding the job is found from
the broker's stats (rater pid -> network namespace) and its bridge port is
taken down; it stays alive and keeps rating into the void.
"""

from __future__ import annotations

import time

import pytest

from .cluster import api, broker_endpoints, broker_stats, hosts_file, migrate, start_broker, start_frontend, \
    start_raterd, start_sites, wait_until
from .mariadb import start_server

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.timeout(400)]

LEASE, LIVENESS = 10.0, 3.0


def _rows(db, domain):
    return db.execute("SELECT rating, ratinginfo, rated_at FROM sitetruth.ratings WHERE domain=%s", (domain,))


def _holder(rig, stats, domain):
    for r in stats["raters"]:
        if r["job"] == domain:
            return rig.host_of_pid(int(r["pid"]))
    return None


def test_a_cut_rater_host_loses_its_job_to_the_other_host_and_rejoins(make_rig):
    rig = make_rig(["db", "broker-a", "rater-1", "rater-2", "front", "client"])
    db = start_server(rig, "db", 1)
    db.execute("CREATE DATABASE sitetruth CHARACTER SET utf8mb4")
    migrate(rig, "broker-a", db.url())
    clients, raters = broker_endpoints(rig, "broker-a")
    start_broker(rig, "broker-a", db.url(), "--lease", str(LEASE), "--liveness", str(LIVENESS))
    shops = [f"rig-cut-{i}.com" for i in range(8)]
    hosts = hosts_file(rig, "front", shops)
    start_sites(rig, "front", delay=1.0)
    for h in ("rater-1", "rater-2"):
        start_raterd(rig, h, raters, hosts, 1, "--liveness", str(LIVENESS))
    start_frontend(rig, "front", clients, db.url(), db.url(), "--cache-ttl", "0")
    wait_until(lambda: broker_stats(rig, "client", "broker-a")["totals"]["raters"] >= 2, 30, "two raters")

    target = shops[0]
    assert api(rig, "client", "front", [target])[0][1][0]["status"] == "202"
    holder = wait_until(lambda: _holder(rig, broker_stats(rig, "client", "broker-a"), target), 20,
                        "the job on a rater")
    other = "rater-2" if holder == "rater-1" else "rater-1"
    cut_at = time.monotonic()
    rig.cut(holder)
    try:
        rows = wait_until(lambda: _rows(db, target), LEASE + LIVENESS + 40, "the rating by the other host")
        took = time.monotonic() - cut_at
        stats = broker_stats(rig, "client", "broker-a")
        by = [r for r in stats["recent"] if r["domain"] == target]
        print(f"cut {holder}; rated {rows[0][0]} by {other} {took:.1f} s after the cut")
        assert rows[0][0] in "AQX", rows
        assert len(by) == 1 and by[0]["rater"].split("/")[0] == other, by
    finally:
        rig.restore(holder)

    # The cut host's own late answer for that job (if any) must change nothing,
    # and the host rejoins and takes work again.
    before = _rows(db, target)
    for shop in shops[1:]:
        api(rig, "client", "front", [shop])

    def rated_by_holder():
        stats = broker_stats(rig, "client", "broker-a")
        # Raters are named node/worker, and each rig host runs its node as --node-name HOST.
        return any(r["domain"] in shops[1:] and r["rater"].split("/")[0] == holder for r in stats["recent"])

    wait_until(rated_by_holder, 90, f"{holder} rating again after its link returned")
    wait_until(lambda: all(_rows(db, s) for s in shops[1:]), 90, "every other shop rated")
    assert _rows(db, target) == before, "the cut host's late result overwrote the rating"
    stats = broker_stats(rig, "client", "broker-a")
    assert stats["totals"]["live"] == 0, stats["totals"]
