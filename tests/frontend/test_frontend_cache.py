"""The in-process TTL cache: expiry, per-entry lifetimes, size bound, threads."""

from __future__ import annotations

import threading

from frontend.cache import TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_ttl():
    clock = Clock()
    c = TTLCache(10, 100, clock)
    c.put("a", 1)
    clock.now += 9.9
    assert c.get_many(["a", "b"]) == {"a": 1}
    clock.now += 0.2
    assert c.get_many(["a"]) == {}
    assert len(c) == 0


def test_shorter_max_age_wins_and_non_positive_is_not_cached():
    clock = Clock()
    c = TTLCache(10, 100, clock)
    c.put("soon", 1, max_age=2)
    c.put("gone", 2, max_age=0)
    clock.now += 3
    assert c.get_many(["soon", "gone"]) == {}


def test_least_recently_used_goes_first():
    c = TTLCache(100, 3, Clock())
    for k in "abc":
        c.put(k, k)
    c.get_many(["a"])
    c.put("d", "d")
    assert set(c.get_many("abcd")) == {"a", "c", "d"}
    assert len(c) == 3


def test_disabled_cache_holds_nothing():
    for c in (TTLCache(0, 100), TTLCache(10, 0)):
        c.put("a", 1)
        assert c.get_many(["a"]) == {} and len(c) == 0


def test_many_threads_never_exceed_the_bound():
    c = TTLCache(100, 50)
    errors = []

    def work(n: int) -> None:
        try:
            for i in range(2000):
                c.put(f"{n}-{i % 80}", i)
                c.get_many([f"{n}-{i % 70}", f"{(n + 1) % 4}-{i % 60}"])
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(c) <= 50
