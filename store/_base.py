"""The Store API, written once; the SQLite and MySQL back ends fill in the dialect.

Where it sits: the broker (durable queue, results, error log) and the
frontend (rating lookups, status pages) each hold Store objects; nothing
else talks to the database. A Store owns ONE DB-API connection and belongs
to ONE thread: open one Store per thread (a frontend opens one per worker
thread) and never share one across ``fork``.

Transactions. Every write method is exactly one transaction, committed at
the end or rolled back on any error, so nothing is ever half-written. Reads
run in a (read-only) transaction too, ended at once, so a long-lived
connection never sits on an old snapshot or a metadata lock.

Lost connections. The connection is opened lazily on the first call and
again on the first call after it was lost. If the connection turns out to be
dead *before* COMMIT was sent (a server restart, ``wait_timeout``, ``KILL``),
nothing of the call was committed, so the call is re-run once on a fresh
connection, for reads and writes alike: callers just see it succeed. If it
is lost *during* COMMIT the outcome is unknown and StoreUnavailable says so;
every write except ``append_errors`` is idempotent, so repeating is safe.
Deadlocks and lock waits (MySQL) are retried a few times with jittered
backoff before StoreUnavailable.

The broker lease. A Store through which :meth:`Store.take_broker_lease`
succeeded holds the store's one "active broker" lock (MariaDB: ``GET_LOCK``
on this connection, so it ends with the connection; SQLite: an exclusive
``flock`` on a file beside the database). The silent reconnect above would
otherwise write on a connection without the lock, so once a lease is held
every new connection first takes the lock again (without waiting) and
checks that the lease's epoch is still this Store's; if another broker was
active in between, the call raises :class:`LeaseLost` and writes nothing.
"""

from __future__ import annotations

import abc
import enum
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, TypeVar

from . import _codec as codec
from .errors import InvalidRecord, LeaseLost, SchemaError, StoreError, StoreUnavailable
from .migrations import BOOTSTRAP, LATEST_VERSION, MIGRATIONS, TABLES
from .records import BrokerLease, ErrorRecord, QueuedJob, QueueStats, StoredRating, StoreStatus
from ._statements import ERROR_COLS, JOB_COLS, RATING_COLS, in_marks
from ._writes import Writes
from .url import StoreURL

__all__ = ["Store"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class Fault(enum.Enum):
    """How a driver error should be handled (back ends classify, _run acts)."""

    LOST = "lost"      # the connection is dead; nothing uncommitted survived
    DOWN = "down"      # cannot connect / server refuses work right now
    BUSY = "busy"      # deadlock or lock wait: the transaction may succeed if re-run
    FATAL = "fatal"    # anything else: report, keep the connection


class Store(Writes, abc.ABC):
    """A connection to the system of record. See the module docstring for the rules.

    The reads, the schema, the broker lease and the transaction machinery are
    here; the journal's writes (queue, ratings, error log) are in
    :mod:`store._writes`.
    """

    backend: ClassVar[str]
    _MAX_BUSY_RETRIES: ClassVar[int] = 0
    _ENQUEUE_TAIL: ClassVar[str]   # "do nothing if the domain is already queued"
    _UPSERT_TAIL: ClassVar[str]    # "replace the rating if the domain has one"
    # Statement sizes: SQLite allows 32766 parameters, MySQL 65535 and one
    # packet; these keep both comfortably inside with few round trips.
    _LOOKUP_CHUNK = 500
    _JOB_CHUNK = 500
    _ROW_CHUNK_BYTES = 1024 * 1024
    _QUEUE_PAGE = 10_000
    _MAX_LIMIT = 10_000

    def __init__(self, url: StoreURL) -> None:
        self._url = url
        self._conn: Any = None
        self._owner: int | None = None
        self._schema_ok = False
        self._lease: BrokerLease | None = None
        self._lease_timeout = 0.0

    # ----------------------------------------------------------- dialect hooks
    @abc.abstractmethod
    def _connect(self) -> Any:
        """Open and configure a DB-API connection (driver errors propagate)."""

    @abc.abstractmethod
    def _classify(self, exc: BaseException, what: str) -> tuple[Fault, StoreError] | None:
        """Translate a driver error; None if ``exc`` is not one."""

    @abc.abstractmethod
    def _begin(self, cur: Any, write: bool) -> None:
        """Start the call's transaction."""

    @abc.abstractmethod
    def _has_table(self, cur: Any, name: str) -> bool: ...

    def _lock_migrations(self, cur: Any) -> None:
        """Serialise concurrent ``migrate`` calls (SQLite: BEGIN IMMEDIATE already does)."""

    def _unlock_migrations(self, cur: Any, commit: bool) -> None:
        """Release what ``_lock_migrations`` took, committing first if asked."""

    def _sql(self, text: str) -> str:
        """Statements are written with ``?`` placeholders; MySQL wants ``%s``."""
        return text

    @abc.abstractmethod
    def _lock_broker(self, cur: Any, wait: float, timeout: float) -> bool:
        """Take the active-broker lock within ``wait`` s; False if another process holds it."""

    @abc.abstractmethod
    def _holds_broker_lock(self, cur: Any) -> bool:
        """Whether this Store (its current connection, on MariaDB) holds the lock."""

    def _unlock_broker(self) -> None:
        """Let the lock go (MariaDB: it goes with the connection, which the caller drops)."""

    # -------------------------------------------------------------- lifecycle
    @property
    def url(self) -> StoreURL:
        return self._url

    def close(self) -> None:
        """Close the connection (and give up a broker lease); a later call opens a new one."""
        self._lease = None
        self._unlock_broker()
        self._drop()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._url.redacted()}>"

    def ping(self) -> None:
        """Check the database answers (reconnecting if needed); StoreUnavailable if not."""
        self._run("ping", lambda cur: cur.execute("SELECT 1"), write=False, schema=False)

    # -------------------------------------------------------------- schema
    def schema_version(self) -> int:
        """The highest migration applied to this database (0: none)."""
        return self._run("schema_version", self._read_version, write=False, schema=False)

    def migrate(self) -> list[int]:
        """Apply pending migrations; return the versions applied by this call.

        Idempotent, and safe when several processes race: the loser waits for
        the winner's lock, then finds nothing left to do and returns ``[]``.
        """
        applied = self._run("migrate", self._migrate_body, write=True, schema=False)
        self._schema_ok = False  # re-verify on the next call
        return applied

    def status(self) -> StoreStatus:
        """Back end, redacted URL, schema version and row counts (works unmigrated)."""
        def body(cur: Any) -> StoreStatus:
            version = self._read_version(cur)
            counts = {}
            for table in TABLES:
                if self._has_table(cur, table):
                    cur.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - fixed names
                    counts[table] = int(cur.fetchone()[0])
            return StoreStatus(self.backend, self._url.redacted(), version, LATEST_VERSION, counts)
        return self._run("status", body, write=False, schema=False)

    # --------------------------------------------------------- broker lease
    _LEASE = "broker"

    def take_broker_lease(self, holder: str, wait: float, timeout: float = 10.0) -> BrokerLease | None:
        """Become the store's one active broker; None if another holds the lock after ``wait`` s.

        On success the schema is migrated and the lease row gets the next
        epoch, naming ``holder``. ``timeout`` (MariaDB) is how long the
        server keeps the lock for a connection that fell silent: the
        session's ``wait_timeout``, so a broker whose host vanished frees
        the store after that long. The holder must use this Store at least
        that often (:meth:`ping` will do) or it loses the lease.
        """
        if self._lease is not None:
            return self._lease
        if not self._run("take the broker lock", lambda cur: self._lock_broker(cur, wait, timeout),
                         write=False, schema=False):
            return None
        self._lease_timeout = timeout
        try:
            self.migrate()

            def body(cur: Any) -> BrokerLease:
                if not self._holds_broker_lock(cur):
                    # The connection was replaced after the lock was taken.
                    raise StoreUnavailable(f"take_broker_lease: lost the broker lock on {self._url} while taking it")
                previous = self._read_lease(cur)
                lease = BrokerLease((previous.epoch if previous else 0) + 1, holder[:255], time.time())
                cur.execute(self._sql("DELETE FROM broker_lease WHERE name = ?"), (self._LEASE,))
                cur.execute(self._sql("INSERT INTO broker_lease (name, epoch, holder, since) VALUES (?, ?, ?, ?)"),
                            (self._LEASE, lease.epoch, lease.holder, lease.since))
                return lease
            self._lease = self._run("take_broker_lease", body, write=True)
        except BaseException:
            self._unlock_broker()
            self._drop()
            raise
        return self._lease

    def broker_lease(self) -> BrokerLease | None:
        """The lease row: the broker that last became active (None before the first one)."""
        def body(cur: Any) -> BrokerLease | None:
            if not self._has_table(cur, "broker_lease"):
                return None
            return self._read_lease(cur)
        return self._run("broker_lease", body, write=False, schema=False)

    @property
    def holds_broker_lease(self) -> BrokerLease | None:
        """The lease this Store holds, if it does."""
        return self._lease

    def release_broker_lease(self) -> None:
        """Give the lease up (closing the Store does it too); the row stays, for the record."""
        if self._lease is None:
            return
        self._lease = None
        self._unlock_broker()
        self._drop()

    def _read_lease(self, cur: Any) -> BrokerLease | None:
        cur.execute(self._sql("SELECT epoch, holder, since FROM broker_lease WHERE name = ?"), (self._LEASE,))
        row = cur.fetchone()
        return None if row is None else BrokerLease(int(row[0]), str(row[1]), float(row[2]))

    def _retake_lease(self, cur: Any) -> None:
        """On a new connection of a lease holder: the lock again, and the same epoch, or LeaseLost."""
        lease = self._lease
        why = ""
        if not self._lock_broker(cur, 0.0, self._lease_timeout):
            why = "another broker holds the store's lock"
        else:
            now = self._read_lease(cur)
            self._end_read(self._conn)
            if now is None or now.epoch != lease.epoch:
                why = (f"another broker was active meanwhile ({now.holder}, epoch {now.epoch})"
                       if now else "the lease row is gone")
        if why:
            self._lease = None
            self._unlock_broker()
            self._drop()
            raise LeaseLost(f"lost the broker lease (epoch {lease.epoch}) on {self._url}: {why}")

    # -------------------------------------------------------------- ratings
    def lookup_ratings(self, domains: Iterable[str]) -> dict[str, StoredRating]:
        """The stored ratings of ``domains`` (expired ones included), keyed by domain.

        Domains that cannot be stored (non-ASCII, too long) are simply absent.
        """
        if isinstance(domains, str):
            raise TypeError("lookup_ratings() takes an iterable of domains, not one string")
        wanted = codec.unique(d for d in domains if codec.usable_domain(d))
        if not wanted:
            return {}

        def body(cur: Any) -> dict[str, StoredRating]:
            found: dict[str, StoredRating] = {}
            for part in codec.chunks(wanted, self._LOOKUP_CHUNK):
                cur.execute(self._sql(f"SELECT {RATING_COLS} FROM ratings WHERE domain IN ({in_marks(len(part))})"),
                            list(part))
                for row in cur.fetchall():
                    rating = codec.rating_from_row(row)
                    found[rating.domain] = rating
            return found
        return self._run("lookup_ratings", body, write=False)

    def recent_ratings(self, limit: int = 20) -> list[StoredRating]:
        """The most recently rated domains, newest first."""
        n = self._limit(limit)

        def body(cur: Any) -> list[StoredRating]:
            cur.execute(self._sql(f"SELECT {RATING_COLS} FROM ratings ORDER BY rated_at DESC, domain LIMIT ?"), (n,))
            return [codec.rating_from_row(row) for row in cur.fetchall()]
        return self._run("recent_ratings", body, write=False)

    # ----------------------------------------------------------------- queue
    def load_queue(self) -> list[QueuedJob]:
        """The whole durable queue in enqueue order (read in pages; see iter_queue)."""
        return list(self.iter_queue())

    def iter_queue(self, page: int | None = None) -> Iterator[QueuedJob]:
        """Stream the durable queue in enqueue order, ``page`` rows per query.

        Pages are keyed on ``seq``, so rows retired meanwhile are skipped and
        rows queued meanwhile come last; no row is seen twice.
        """
        size = self._QUEUE_PAGE if page is None else max(1, int(page))
        last = 0
        while True:
            def body(cur: Any, after: int = last) -> list[Any]:
                cur.execute(self._sql(f"SELECT seq, {JOB_COLS} FROM rating_queue WHERE seq > ? ORDER BY seq LIMIT ?"),
                            (after, size))
                return list(cur.fetchall())
            rows = self._run("load_queue", body, write=False)
            for row in rows:
                yield codec.job_from_row(row[1:])
            if len(rows) < size:
                return
            last = int(rows[-1][0])

    def queue_stats(self) -> QueueStats:
        """How many jobs each client IP has queued, and since when."""
        def body(cur: Any) -> QueueStats:
            cur.execute("SELECT client_ip, COUNT(*), MIN(enqueued_at) FROM rating_queue GROUP BY client_ip")
            per_ip = {ip: (int(n), float(oldest)) for ip, n, oldest in cur.fetchall()}
            return QueueStats(sum(n for n, _ in per_ip.values()), per_ip)
        return self._run("queue_stats", body, write=False)

    # ------------------------------------------------------------- error log
    def domains_rated_by(self, rater: str, limit: int = 100_000) -> list[str]:
        """Domains whose stored rating ``rater`` produced (at most ``limit``, oldest rating first)."""
        if not isinstance(rater, str) or not rater:
            raise InvalidRecord("rater must be a non-empty key or node/worker name")

        def body(cur: Any) -> list[str]:
            cur.execute(self._sql("SELECT domain FROM ratings WHERE rated_by = ? ORDER BY rated_at, domain LIMIT ?"),
                        (rater, int(limit)))
            return [row[0] for row in cur.fetchall()]
        return self._run("domains_rated_by", body, write=False)

    def prune_errors(self, before: float) -> int:
        """Delete error-log entries older than ``before`` (epoch seconds); returns how many went."""
        cutoff = float(before)

        def body(cur: Any) -> int:
            cur.execute(self._sql("DELETE FROM error_log WHERE at < ?"), (cutoff,))
            return max(0, cur.rowcount or 0)
        return self._run("prune_errors", body, write=True)

    def recent_errors(self, limit: int = 50) -> list[ErrorRecord]:
        """The newest error-log entries, newest first."""
        n = self._limit(limit)

        def body(cur: Any) -> list[ErrorRecord]:
            sql = f"SELECT id, {ERROR_COLS} FROM error_log ORDER BY at DESC, id DESC LIMIT ?"
            cur.execute(self._sql(sql), (n,))
            return [codec.error_from_row(row) for row in cur.fetchall()]
        return self._run("recent_errors", body, write=False)

    def _read_version(self, cur: Any) -> int:
        if not self._has_table(cur, "schema_migrations"):
            return 0
        cur.execute("SELECT MAX(version) FROM schema_migrations")
        value = cur.fetchone()[0]
        return 0 if value is None else int(value)

    def _migrate_body(self, cur: Any) -> list[int]:
        self._lock_migrations(cur)
        ok = False
        try:
            cur.execute(BOOTSTRAP[self.backend])
            cur.execute("SELECT version FROM schema_migrations")
            done = {int(v) for (v,) in cur.fetchall()}
            if done and max(done) > LATEST_VERSION:
                raise SchemaError(self._schema_hint(max(done)))
            applied = []
            for migration in MIGRATIONS:
                if migration.version in done:
                    continue
                for statement in getattr(migration, self.backend):
                    cur.execute(statement)
                cur.execute(self._sql("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
                            (migration.version, migration.name, time.time()))
                applied.append(migration.version)
                log.info("store %s: applied migration %d (%s)", self._url, migration.version, migration.name)
            ok = True
            return applied
        finally:
            self._unlock_migrations(cur, commit=ok)

    def _schema_hint(self, version: int) -> str:
        where = self._url.redacted()
        if version > LATEST_VERSION:
            return (f"the store at {where} has schema version {version}, newer than this code's "
                    f"{LATEST_VERSION}: upgrade sitetruth, or point --store at another database")
        state = "is not migrated (schema version 0" if version == 0 else f"is at schema version {version}, older ("
        return (f"the store at {where} {state}; this code needs {LATEST_VERSION}): "
                f"run `sitetruth-db --store URL migrate`")

    def _limit(self, limit: int) -> int:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit must be a non-negative int, got {limit!r}")
        return min(limit, self._MAX_LIMIT)

    # ------------------------------------------------------------- machinery
    def _run(self, what: str, body: Callable[[Any], T], *, write: bool, schema: bool = True) -> T:
        """Run ``body(cursor)`` as one transaction with the retry rules above."""
        me = threading.get_ident()
        if self._conn is not None and self._owner != me:
            raise StoreError(f"{what}: this Store is used by thread {self._owner}; open one Store per thread")
        lost_retries, busy_retries = 1, 0
        while True:
            committing = False
            try:
                if self._conn is None:
                    self._conn = self._connect()
                    self._owner, self._schema_ok = me, False
                    if self._lease is not None:
                        self._retake_lease(self._conn.cursor())
                conn = self._conn
                cur = conn.cursor()
                if schema and not self._schema_ok:
                    version = self._read_version(cur)
                    if version != LATEST_VERSION:
                        raise SchemaError(self._schema_hint(version))
                    self._schema_ok = True
                self._begin(cur, write)
                result = body(cur)
                committing = True
                if write:
                    conn.commit()
                else:
                    self._end_read(conn)
                return result
            except BaseException as exc:
                fault = self._classify(exc, what)
                self._abandon(drop=fault is not None and fault[0] in (Fault.LOST, Fault.DOWN))
                if fault is None:
                    raise
                kind, error = fault
                if kind is Fault.LOST and not committing and lost_retries:
                    lost_retries -= 1
                    log.warning("store %s: connection lost during %s (%s); reconnecting", self._url, what, exc)
                    continue
                if kind is Fault.BUSY and busy_retries < self._MAX_BUSY_RETRIES:
                    busy_retries += 1
                    log.info("store %s: %s hit %s; retry %d", self._url, what, exc, busy_retries)
                    time.sleep(min(1.0, 0.02 * 2 ** busy_retries) * random.uniform(0.5, 1.5))
                    continue
                if kind is Fault.LOST and committing:
                    error = StoreUnavailable(f"{what}: connection to {self._url} lost during COMMIT; "
                                             "the outcome is unknown (every write but append_errors is safe to repeat)")
                raise error from exc

    def _end_read(self, conn: Any) -> None:
        # A read's transaction only pins a snapshot; if ending it fails the
        # rows are still good, so drop the connection instead of failing.
        try:
            conn.rollback()
        except Exception as exc:  # noqa: BLE001 - any driver error means "connection unusable"
            log.debug("store %s: ending a read failed (%s); dropping the connection", self._url, exc)
            self._drop()

    def _abandon(self, drop: bool) -> None:
        if self._conn is None:
            return
        if not drop:
            try:
                self._conn.rollback()
                return
            except Exception as exc:  # noqa: BLE001
                log.debug("store %s: rollback failed (%s); dropping the connection", self._url, exc)
        self._drop()

    def _drop(self) -> None:
        conn, self._conn, self._owner, self._schema_ok = self._conn, None, None, False
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a dead connection may fail; it is gone either way
                pass
