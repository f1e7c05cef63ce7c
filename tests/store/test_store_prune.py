"""Error-log retention: rows older than the cut-off go, newer ones stay (both back ends)."""

from __future__ import annotations

import time

from store import ErrorRecord


def test_prune_errors_deletes_only_older_rows(migrated_store):
    now = time.time()
    old = [ErrorRecord(at=now - 40 * 86400 + n, host="h", process="p", component="rater", message=f"old {n}")
           for n in range(3)]
    new = [ErrorRecord(at=now - 86400 + n, host="h", process="p", component="rater", message=f"new {n}")
           for n in range(2)]
    migrated_store.append_errors(old + new)
    assert migrated_store.prune_errors(now - 30 * 86400) == 3
    assert sorted(e.message for e in migrated_store.recent_errors(100)) == ["new 0", "new 1"]
    assert migrated_store.prune_errors(now - 30 * 86400) == 0
