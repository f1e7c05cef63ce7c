"""Persistence shared by the broker and the frontend: ratings, the durable queue, the error log.

One schema with versioned migrations (``store.migrations``) and two back
ends behind one API (``store._base.Store``): MySQL/MariaDB through
``mysqlclient`` for production, and SQLite (stdlib) as the embedded default.
``store`` imports only ``protocol.vocabulary`` from our code.

    import time
    from store import open_store, QueuedJob
    with open_store("sqlite:///./sitetruth.db") as s:
        s.migrate()
        s.enqueue([QueuedJob("example.com", "192.0.2.1", 1, time.time())])

A Store holds one connection and is used by one thread: open one per thread
(or process). Times are UNIX epoch seconds (float) everywhere.
"""

from __future__ import annotations

from ._base import Store
from .errors import InvalidRecord, LeaseLost, SchemaError, StoreConfigError, StoreError, StoreUnavailable
from .migrations import LATEST_VERSION
from .records import BrokerLease, ErrorRecord, QueuedJob, QueueStats, StoredRating, StoreStatus
from .url import DEFAULT_STORE_URL, STORE_ENV, StoreURL, parse_store_url

__all__ = [
    "open_store",
    "Store",
    "StoredRating",
    "QueuedJob",
    "ErrorRecord",
    "QueueStats",
    "StoreStatus",
    "StoreError",
    "StoreUnavailable",
    "StoreConfigError",
    "SchemaError",
    "InvalidRecord",
    "LeaseLost",
    "BrokerLease",
    "StoreURL",
    "parse_store_url",
    "DEFAULT_STORE_URL",
    "STORE_ENV",
    "LATEST_VERSION",
]


def open_store(url: str | StoreURL) -> Store:
    """A Store for ``url`` (``mysql://...`` or ``sqlite:///...``); connects on first use.

    Raises StoreConfigError for a bad URL or a missing driver; nothing else
    happens until the first call (so a frontend can start while the
    database is still coming up).
    """
    parsed = url if isinstance(url, StoreURL) else parse_store_url(url)
    if parsed.backend == "sqlite":
        from ._sqlite import SQLiteStore
        return SQLiteStore(parsed)
    from ._mysql import MySQLStore
    return MySQLStore(parsed)
