"""Every Store API call, on both back ends (the `store_url` fixture runs each test twice)."""

from __future__ import annotations

import threading
import time

import pytest

from protocol.vocabulary import RATING_TTL_SECONDS
from store import (
    ErrorRecord,
    InvalidRecord,
    QueuedJob,
    QueueStats,
    StoredRating,
    StoreError,
    open_store,
)

NOW = 1_732_600_000.123456


def rating(domain: str, letter: str = "A", info: str = "", at: float = NOW, **kw) -> StoredRating:
    return StoredRating(domain, letter, info, kw.get("location"), kw.get("evidence", []), at,
                        kw.get("expires_at", at + RATING_TTL_SECONDS))


def job(domain: str, ip: str = "192.0.2.1", priority: int = 1, at: float = NOW, attempts: int = 0) -> QueuedJob:
    return QueuedJob(domain, ip, priority, at, attempts)


# ----------------------------------------------------------------- ratings

def test_unknown_domains_are_absent(migrated_store):
    assert migrated_store.lookup_ratings(["nothing.example", "nope.example"]) == {}
    assert migrated_store.lookup_ratings([]) == {}


def test_rating_round_trips_with_unicode_json(migrated_store):
    location = {"name": "Bäckerei Müller & Söhne 🥨", "street": "Hauptstraße 1", "city": "Köln",
                "region": "NRW", "postcode": "50667", "country": "DE"}
    evidence = [{"what": "address", "where": "https://bäckerei.example/impressum", "text": "Straße «1» — 東京"},
                {"what": "registry", "score": 0.93, "ok": True, "none": None, "nested": [1, [2, {"x": "ÿ"}]]}]
    stored = rating("xn--bckerei-q2a.example", "A", "", location=location, evidence=evidence)
    migrated_store.complete([stored])
    got = migrated_store.lookup_ratings(["xn--bckerei-q2a.example"])["xn--bckerei-q2a.example"]
    assert got == stored
    assert got.rated_at == NOW  # times are exact floats on both back ends


def test_complete_replaces_an_earlier_rating(migrated_store):
    migrated_store.complete([rating("shop.example", "X", "no_location", at=NOW)])
    newer = rating("shop.example", "Q", "unverified", at=NOW + 60, location={"name": "Shop"})
    migrated_store.complete([newer])
    assert migrated_store.lookup_ratings(["shop.example"]) == {"shop.example": newer}


def test_expired_ratings_are_returned_and_flagged(migrated_store):
    old = rating("old.example", "Q", "unverified", at=NOW - 100, expires_at=NOW - 1)
    fresh = rating("fresh.example", "A", at=NOW)
    migrated_store.complete([old, fresh])
    got = migrated_store.lookup_ratings(["old.example", "fresh.example"])
    assert got["old.example"].expired(now=NOW) and not got["fresh.example"].expired(now=NOW)
    assert got["old.example"].expired()  # against the real clock too


def test_stored_rating_new_sets_expiry():
    r = StoredRating.new("a.example", "U", "non_commercial", rated_at=100.0)
    assert (r.rated_at, r.expires_at, r.location, r.evidence) == (100.0, 100.0 + RATING_TTL_SECONDS, None, [])
    assert not r.expired(now=100.0 + RATING_TTL_SECONDS - 1) and r.expired(now=100.0 + RATING_TTL_SECONDS)


def test_lookup_of_many_domains_in_one_call(migrated_store):
    ratings = [rating(f"d{i}.example", "X", "no_location") for i in range(1200)]  # > one IN() chunk
    migrated_store.complete(ratings)
    asked = [f"d{i}.example" for i in range(0, 1300, 1)] + ["d5.example", "ünicode.example", "x" * 300]
    got = migrated_store.lookup_ratings(iter(asked))
    assert set(got) == {f"d{i}.example" for i in range(1200)}
    with pytest.raises(TypeError):
        migrated_store.lookup_ratings("d1.example")


def test_recent_ratings_newest_first(migrated_store):
    migrated_store.complete([rating(f"r{i}.example", at=NOW + i) for i in range(30)])
    recent = migrated_store.recent_ratings()
    assert [r.domain for r in recent] == [f"r{i}.example" for i in range(29, 9, -1)]  # default limit 20
    assert [r.domain for r in migrated_store.recent_ratings(limit=2)] == ["r29.example", "r28.example"]
    assert migrated_store.recent_ratings(limit=0) == []


# ------------------------------------------------------------------- queue

def test_enqueue_is_idempotent_per_domain_and_keeps_order(migrated_store):
    first = [job("c.example", "192.0.2.1", 3, NOW), job("a.example", "192.0.2.2", 1, NOW + 1),
             job("b.example", "192.0.2.1", 0, NOW + 2), job("a.example", "198.51.100.9", 9, NOW + 3)]
    assert migrated_store.enqueue(first) == 3
    assert migrated_store.enqueue([job("b.example", "203.0.113.5"), job("d.example", "2001:db8::1")]) == 1
    assert migrated_store.enqueue([]) == 0
    queue = migrated_store.load_queue()
    assert [j.domain for j in queue] == ["c.example", "a.example", "b.example", "d.example"]
    # the first request for a domain owns its entry
    assert queue[1] == QueuedJob("a.example", "192.0.2.2", 1, NOW + 1, 0)
    assert queue[2].client_ip == "192.0.2.1"


def test_complete_retires_queued_domains(migrated_store):
    migrated_store.enqueue([job("q1.example"), job("q2.example"), job("q3.example")])
    retired = migrated_store.complete([rating("q1.example"), rating("q3.example"), rating("never-queued.example")])
    assert retired == 2
    assert [j.domain for j in migrated_store.load_queue()] == ["q2.example"]
    assert set(migrated_store.lookup_ratings(["q1.example", "q3.example", "never-queued.example"])) == {
        "q1.example", "q3.example", "never-queued.example"}
    assert migrated_store.complete([]) == 0


def test_record_attempts(migrated_store):
    migrated_store.enqueue([job("a1.example"), job("a2.example")])
    migrated_store.record_attempts([("a1.example", 2), ("a2.example", 1), ("unknown.example", 5)])
    migrated_store.record_attempts([("a1.example", 3)])
    assert {j.domain: j.attempts for j in migrated_store.load_queue()} == {"a1.example": 3, "a2.example": 1}


def test_remove_jobs(migrated_store):
    migrated_store.enqueue([job(f"rm{i}.example") for i in range(5)])
    assert migrated_store.remove_jobs(["rm1.example", "rm3.example", "absent.example", "rm1.example"]) == 2
    assert [j.domain for j in migrated_store.load_queue()] == ["rm0.example", "rm2.example", "rm4.example"]
    assert migrated_store.remove_jobs([]) == 0


def test_writes_together_in_order_in_one_transaction(migrated_store):
    migrated_store.enqueue([job("old.example")])
    results = migrated_store.write_together([
        ("enqueue", [job("t1.example"), job("t2.example"), job("old.example")]),
        ("complete", [rating("t1.example"), rating("old.example")]),
        ("attempts", [("t2.example", 2)]),
        ("errors", [ErrorRecord(at=NOW, host="h", process="broker", component="journal", message="m",
                                domain="t2.example")]),
        ("remove", []),
        ("enqueue", [job("t1.example")]),         # a later enqueue sees the rating's retire before it
    ])
    assert results == [2, 2, None, None, None, 1]
    assert {j.domain: j.attempts for j in migrated_store.load_queue()} == {"t2.example": 2, "t1.example": 0}
    assert set(migrated_store.lookup_ratings(["t1.example", "old.example"])) == {"t1.example", "old.example"}
    assert [e.domain for e in migrated_store.recent_errors()] == ["t2.example"]
    assert migrated_store.write_together([("complete", []), ("enqueue", [])]) == [None, None]


def test_writes_together_refused_record_writes_none_of_them(migrated_store):
    with pytest.raises(InvalidRecord):
        migrated_store.write_together([("enqueue", [job("n1.example")]),
                                       ("complete", [rating("n2.example"), rating("bad.example", "W")])])
    assert migrated_store.load_queue() == []
    assert migrated_store.lookup_ratings(["n2.example"]) == {}
    with pytest.raises(ValueError, match="no write of kind"):
        migrated_store.write_together([("enqueue", [job("n3.example")]), ("truncate", [])])
    assert migrated_store.load_queue() == []


def test_queue_stats_per_ip(migrated_store):
    assert migrated_store.queue_stats() == QueueStats(0, {})
    migrated_store.enqueue([job("s1.example", "192.0.2.1", at=NOW + 5), job("s2.example", "192.0.2.1", at=NOW + 2),
                            job("s3.example", "2001:db8::7", at=NOW + 9)])
    assert migrated_store.queue_stats() == QueueStats(3, {"192.0.2.1": (2, NOW + 2), "2001:db8::7": (1, NOW + 9)})


def test_queue_is_read_in_pages_in_order(migrated_store):
    migrated_store.enqueue([job(f"p{i:03d}.example", at=NOW + i) for i in range(53)])
    migrated_store.remove_jobs([f"p{i:03d}.example" for i in range(0, 53, 10)])
    paged = list(migrated_store.iter_queue(page=7))
    expected = [f"p{i:03d}.example" for i in range(53) if i % 10]
    assert [j.domain for j in paged] == expected
    assert [j.domain for j in migrated_store.load_queue()] == expected


# --------------------------------------------------------------- error log

def test_error_log_newest_first(migrated_store):
    records = [ErrorRecord(NOW + i, "node-1", "broker", "lease", f"job failed {i}", f"Traceback {i}",
                           domain=f"e{i}.example") for i in range(60)]
    migrated_store.append_errors(records[:30])
    migrated_store.append_errors(records[30:])
    recent = migrated_store.recent_errors()
    assert len(recent) == 50 and [e.message for e in recent[:3]] == ["job failed 59", "job failed 58", "job failed 57"]
    newest = recent[0]
    assert (newest.at, newest.host, newest.process, newest.component, newest.traceback, newest.domain) == (
        NOW + 59, "node-1", "broker", "lease", "Traceback 59", "e59.example")
    assert isinstance(newest.id, int)
    assert [e.message for e in migrated_store.recent_errors(limit=1)] == ["job failed 59"]


def test_error_log_keeps_what_it_can_of_awkward_text(migrated_store):
    huge = "é" * 100_000  # 200 kB of UTF-8: more than a TEXT column holds
    migrated_store.append_errors([ErrorRecord(NOW, "h" * 400, "p", "c", huge, "tb \udcff end ✓", domain="ü" * 300),
                                  ErrorRecord(NOW + 1, "host", "raterd", "fetch", "boom 💥")])
    second, first = migrated_store.recent_errors()
    assert second.message == "boom 💥"
    assert first.message == "é" * len(first.message) and 30_000 <= len(first.message) < 100_000
    assert first.traceback == "tb ? end ✓" and len(first.host) == 255 and len(first.domain) == 255
    migrated_store.append_errors([])


# -------------------------------------------------------- bad input, misuse

@pytest.mark.parametrize("bad", [
    rating("w.example", "W"),
    rating("lower.example", "a"),
    rating("info.example", "X", "not-a-code"),
    rating("x" * 254, "A"),
    rating("ünicode.example", "A"),
    rating("", "A"),
    rating("loc.example", "A", location=["not", "a", "dict"]),
    rating("ev.example", "A", evidence={"not": "a list"}),
    rating("ev2.example", "A", evidence=[{1, 2}]),
    rating("nan.example", "A", at=float("nan")),
], ids=["W", "lowercase", "ratinginfo", "long-domain", "non-ascii", "empty", "location", "evidence",
        "evidence-json", "nan-time"])
def test_invalid_rating_refused_and_batch_not_written(migrated_store, bad):
    migrated_store.enqueue([job("good.example")])
    with pytest.raises(InvalidRecord):
        migrated_store.complete([rating("good.example"), bad])
    assert migrated_store.lookup_ratings(["good.example"]) == {}
    assert len(migrated_store.load_queue()) == 1


@pytest.mark.parametrize("bad", [
    job("ok.example", ip="x" * 65), job("ok.example", priority=2**31), job("ok.example", priority="1"),
    job("ok.example", at=float("inf")), job("é.example"), job("ok.example", attempts=True),
], ids=["ip", "priority-range", "priority-type", "inf-time", "domain", "attempts-bool"])
def test_invalid_job_refused_and_batch_not_written(migrated_store, bad):
    with pytest.raises(InvalidRecord):
        migrated_store.enqueue([job("first.example"), bad])
    assert migrated_store.load_queue() == []


def test_store_reconnects_after_close_and_works_as_context_manager(store_url):
    with open_store(store_url) as store:
        store.migrate()
        store.ping()
        store.enqueue([job("cm.example")])
        store.close()
        assert [j.domain for j in store.load_queue()] == ["cm.example"]  # reopened lazily
    with open_store(store_url) as again:
        assert [j.domain for j in again.load_queue()] == ["cm.example"]


def test_one_store_per_thread(migrated_store):
    migrated_store.ping()
    errors: list[BaseException] = []

    def other_thread():
        try:
            migrated_store.lookup_ratings(["a.example"])
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            errors.append(e)
    t = threading.Thread(target=other_thread)
    t.start()
    t.join(timeout=10)
    assert len(errors) == 1 and isinstance(errors[0], StoreError) and "one Store per thread" in str(errors[0])
    migrated_store.ping()  # still fine in its own thread


def test_data_is_shared_between_stores(store_url):
    with open_store(store_url) as writer, open_store(store_url) as reader:
        writer.migrate()
        assert reader.lookup_ratings(["shared.example"]) == {}  # reader holds a connection now
        writer.complete([rating("shared.example", at=time.time())])
        assert "shared.example" in reader.lookup_ratings(["shared.example"])  # no stale snapshot
