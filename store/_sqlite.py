"""The embedded SQLite back end (stdlib ``sqlite3``): the zero-install default.

Settings are chosen for durability first, because the broker acknowledges a
job only after ``enqueue`` returns: WAL journal with ``synchronous=FULL``
(every commit is fsync'ed, so an acknowledged job survives a crash or power
loss), ``BEGIN IMMEDIATE`` for writes (take the write lock up front, so two
writers never deadlock upgrading a read lock), and a busy timeout (default
10 s, ``?busy_timeout=``) for waiting on another process's write.

``sqlite:///:memory:`` gives each Store its own private database that
vanishes when its connection closes; it is for tests only.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import time
from typing import Any

from ._base import Fault, Store
from .errors import StoreConfigError, StoreError, StoreUnavailable
from .url import StoreURL

log = logging.getLogger(__name__)

__all__ = ["SQLiteStore"]

# Primary result codes (https://sqlite.org/rescode.html); extended codes
# carry them in the low byte.
_BUSY_CODES = {5, 6}                     # SQLITE_BUSY, SQLITE_LOCKED
_DOWN_CODES = {3, 7, 8, 10, 13, 14, 15}  # PERM, NOMEM, READONLY, IOERR, FULL, CANTOPEN, PROTOCOL
_NOTADB = 26


class SQLiteStore(Store):
    backend = "sqlite"
    _ENQUEUE_TAIL = "ON CONFLICT (domain) DO NOTHING"
    _UPSERT_TAIL = (
        "ON CONFLICT (domain) DO UPDATE SET rating = excluded.rating, ratinginfo = excluded.ratinginfo, "
        "location = excluded.location, evidence = excluded.evidence, "
        "rated_at = excluded.rated_at, expires_at = excluded.expires_at, rated_by = excluded.rated_by"
    )

    def __init__(self, url: StoreURL) -> None:
        super().__init__(url)
        self._path = url.path
        self._lock_fd: int | None = None
        self._locked = False

    # The active-broker lock: an exclusive flock on "<file>-broker.lock".
    # It belongs to the open file, so it lasts while this Store keeps the
    # file open and ends with the process, however that ends. Standby on
    # SQLite only means something on one host (the file is local).
    def _lock_broker(self, cur: Any, wait: float, timeout: float) -> bool:
        if self._path == ":memory:":
            return True                 # a private database: nobody else can use it
        if self._lock_fd is None:
            self._lock_fd = os.open(self._path + "-broker.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._locked = True
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.05)

    def _holds_broker_lock(self, cur: Any) -> bool:
        return self._path == ":memory:" or self._locked

    def _unlock_broker(self) -> None:
        fd, self._lock_fd, self._locked = self._lock_fd, None, False
        if fd is not None:
            os.close(fd)

    def _connect(self) -> Any:
        if self._path != ":memory:":
            parent = os.path.dirname(os.path.abspath(self._path))
            if not os.path.isdir(parent):
                raise StoreConfigError(
                    f"cannot open SQLite store {self._path!r}: directory {parent!r} does not exist "
                    "(create it, or pass another --store sqlite:///path)")
        # isolation_level=None: we issue BEGIN ourselves, so the module never
        # opens a transaction behind our back (and DDL is transactional).
        conn = sqlite3.connect(self._path, timeout=self._url.busy_timeout,
                               isolation_level=None, check_same_thread=True)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._url.busy_timeout * 1000)}")
            self._use_wal(conn)
            conn.execute("PRAGMA synchronous = FULL")
        except BaseException:
            conn.close()
            raise
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        # WAL is a property of the file: set once, it stays. Switching needs
        # an exclusive lock and SQLite does not call the busy handler for it,
        # so when several processes open a new store at once, retry here.
        deadline = time.monotonic() + self._url.busy_timeout
        while True:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() in ("wal", "memory"):
                    return
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":  # e.g. a file system without shared memory
                    log.warning("SQLite store %r: WAL refused, journal mode is %s (still durable, slower)",
                                self._path, mode)
                return
            except sqlite3.OperationalError as e:
                if (getattr(e, "sqlite_errorcode", 0) or 0) & 0xFF not in _BUSY_CODES or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _begin(self, cur: Any, write: bool) -> None:
        cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def _has_table(self, cur: Any, name: str) -> bool:
        cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return cur.fetchone() is not None

    def _classify(self, exc: BaseException, what: str) -> tuple[Fault, StoreError] | None:
        if not isinstance(exc, sqlite3.Error):
            return None
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        where = f"SQLite store {self._path!r}"
        if code in _BUSY_CODES:
            return Fault.BUSY, StoreUnavailable(
                f"{what}: {where} is locked by another writer for more than "
                f"{self._url.busy_timeout:g} s ({exc})")
        if code in _DOWN_CODES or "unable to open" in str(exc):
            return Fault.DOWN, StoreUnavailable(f"{what}: cannot use {where}: {exc}")
        if code == _NOTADB:
            return Fault.FATAL, StoreConfigError(f"{where} is not a SQLite database ({exc})")
        return Fault.FATAL, StoreError(f"{what} failed on {where}: {exc}")
