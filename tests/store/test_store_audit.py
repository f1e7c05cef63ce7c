"""The audit column: each rating names its rater; the ratings of one rater can be listed (both back ends)."""

from __future__ import annotations

import sqlite3
import time

import pytest

import store._base as base
from store import StoredRating, open_store
from store.errors import InvalidRecord
from store.migrations import MIGRATIONS


def test_rated_by_round_trips_and_lists_one_raters_domains(migrated_store):
    now = time.time()
    migrated_store.complete([
        StoredRating.new("good-one.com", "A", rated_at=now - 3, rated_by="node1"),
        StoredRating.new("stolen-1.com", "A", rated_at=now - 2, rated_by="node7"),
        StoredRating.new("stolen-2.com", "Q", rated_at=now - 1, rated_by="node7"),
        StoredRating.new("unknown.com", "X", rated_at=now)])
    got = migrated_store.lookup_ratings(["good-one.com", "stolen-1.com", "unknown.com"])
    assert {d: r.rated_by for d, r in got.items()} == {"good-one.com": "node1", "stolen-1.com": "node7",
                                                        "unknown.com": ""}
    assert migrated_store.domains_rated_by("node7") == ["stolen-1.com", "stolen-2.com"]
    assert migrated_store.domains_rated_by("node7", limit=1) == ["stolen-1.com"]
    # A rating made afresh by another rater leaves the old rater's list.
    migrated_store.complete([StoredRating.new("stolen-1.com", "Q", rated_at=now + 1, rated_by="node1")])
    assert migrated_store.domains_rated_by("node7") == ["stolen-2.com"]
    with pytest.raises(InvalidRecord):
        migrated_store.domains_rated_by("")


def test_a_version_1_database_is_upgraded_with_its_ratings_kept(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/old.db"
    monkeypatch.setattr(base, "MIGRATIONS", MIGRATIONS[:1])
    monkeypatch.setattr(base, "LATEST_VERSION", 1)
    with open_store(url) as s:
        assert s.migrate() == [1]
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("INSERT INTO ratings (domain, rating, ratinginfo, location, evidence, rated_at, expires_at) "
                   "VALUES ('old-site.com', 'A', '', NULL, '[]', 1.0, 9e9)")
    monkeypatch.undo()
    with open_store(url) as s:
        assert s.migrate() == [2, 3]
        old = s.lookup_ratings(["old-site.com"])["old-site.com"]
        assert (old.rating, old.rated_by) == ("A", "")
