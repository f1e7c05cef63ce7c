"""A child process for the store's multi-process and crash tests (not a test module).

    python tests/store/store_worker.py URL migrate
    python tests/store/store_worker.py URL enqueue PREFIX START COUNT BATCH [--wait]
    python tests/store/store_worker.py URL enqueue-random SEED BATCHES BATCH POOL
    python tests/store/store_worker.py URL crash-enqueue PREFIX BATCH [--pause-mid]
    python tests/store/store_worker.py URL crash-complete DOMAIN

Lines on stdout tell the parent where the child is, so it can SIGKILL it at
a chosen moment: "READY", "BEGIN k", "DONE k", "MID".
"""

from __future__ import annotations

import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from store import QueuedJob, StoredRating, open_store  # noqa: E402

PAUSE_SECONDS = 60  # the parent kills us long before this; bounded anyway


def say(line: str) -> None:
    print(line, flush=True)


def domain(prefix: str, i: int) -> str:
    return f"{prefix}{i:06d}.example"


def main(argv: list[str]) -> int:
    url, mode, *rest = argv
    store = open_store(url)
    if mode == "migrate":
        say("READY")
        sys.stdin.readline()  # "go": both racers start together
        say(json.dumps(store.migrate()))
        return 0

    if mode == "enqueue":
        prefix, start, count, batch = rest[0], int(rest[1]), int(rest[2]), int(rest[3])
        store.ping()
        if "--wait" in rest:
            say("READY")
            sys.stdin.readline()
        inserted = 0
        now = time.time()
        for lo in range(start, start + count, batch):
            jobs = [QueuedJob(domain(prefix, i), f"10.0.0.{os.getpid() % 250}", 1, now)
                    for i in range(lo, min(lo + batch, start + count))]
            inserted += store.enqueue(jobs)
        say(json.dumps({"inserted": inserted}))
        return 0

    if mode == "enqueue-random":
        # Random domains from a shared pool, in random order: the pattern
        # that makes InnoDB deadlock, so the retry path gets exercised.
        seed, batches, batch, pool = (int(x) for x in rest[:4])
        rng = random.Random(seed)
        store.ping()
        say("READY")
        sys.stdin.readline()
        asked: set[str] = set()
        for _ in range(batches):
            names = [domain("pool", i) for i in rng.sample(range(pool), batch)]
            asked.update(names)
            store.enqueue([QueuedJob(n, "10.2.2.2", 1, time.time()) for n in names])
        say(json.dumps(sorted(asked)))
        return 0

    if mode == "crash-enqueue":
        prefix, batch = rest[0], int(rest[1])
        pause = "--pause-mid" in rest
        current = {"k": 0, "chunks": 0}
        if pause:
            # Stop inside batch 2's transaction, after its first chunk of
            # rows was written but before COMMIT, so the kill lands there.
            original = store._insert_jobs

            def slow_insert(cur, rows):
                n = original(cur, rows)
                current["chunks"] += 1
                if current["k"] == 2 and current["chunks"] == 1:
                    say("MID")
                    time.sleep(PAUSE_SECONDS)
                return n
            store._insert_jobs = slow_insert
        store.migrate()
        for k in range(10_000):
            current.update(k=k, chunks=0)
            jobs = [QueuedJob(f"{prefix}-{k}-{i}.example", "10.1.1.1", 1, time.time()) for i in range(batch)]
            say(f"BEGIN {k}")
            store.enqueue(jobs)
            say(f"DONE {k}")
        return 0

    if mode == "crash-complete":
        (name,) = rest
        original = store._retire_jobs

        def slow_retire(cur, domains):
            say("MID")  # the rating row is written, the queue row not yet deleted
            time.sleep(PAUSE_SECONDS)
            return original(cur, domains)
        store._retire_jobs = slow_retire
        store.complete([StoredRating.new(name, "Q", "unverified")])
        say("DONE")
        return 0

    print(f"unknown mode {mode!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
