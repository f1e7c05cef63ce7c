"""The node-local source index: one SQLite file that raters read and
``sitetruth-sources`` writes.

Raters hold no credentials for the cluster store, so the outside sources
they check (registers, blocklists) live in a file on the rater's own machine.
Workers open it read-only (:func:`open_readonly`, after fork); the importer
opens it read-write.

Layout. ``sources`` has one row per imported source (name, kind, format,
files, row counts, when) naming the table that holds its current data. Each
import loads a brand-new table (``data_<n>``) in committed batches, indexes
it, and then in one short transaction points the source's row at the new
table and drops the old one. Lookups read ``sources`` and the data tables in
one read transaction; the file is in WAL mode, so a lookup sees either the
old generation or the new one, never half of each, and never waits for an
import. A failed import drops its half-built table and leaves the old data
serving; a crashed one leaves an orphan table that the next import removes.
Imports on one index are serialised by an advisory lock file next to it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote

from ._errors import ImportRefused, SourceError, SourceFormatError, SourceIndexError, warning_level
from ._names import key_version

__all__ = [
    "SourceIndex",
    "open_readonly",
    "default_path",
    "status",
    "remove_source",
    "ImportReport",
    "ImportProgress",
    "DEFAULT_PATH",
    "ENV_PATH",
]

log = logging.getLogger(__name__)

DEFAULT_PATH = "./sitetruth-sources.db"
ENV_PATH = "SITETRUTH_SOURCES"
SCHEMA_VERSION = 1

# Rows per executemany/commit while loading. Commits are cheap here (WAL,
# synchronous=NORMAL) and keep the WAL file from growing to the import's size.
BATCH_ROWS = 20_000
# An import whose bad rows pass both limits is treated as a corrupt file.
BAD_ROWS_MIN = 1_000
BAD_ROWS_RATIO = 0.05
# A register that shrinks below this fraction of its last import is refused
# unless forced: that is what a truncated download looks like.
SHRINK_RATIO = 0.5
# How long a reader that found no usable index waits before looking again.
REOPEN_SECONDS = 30.0

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")

# The data table of each kind of source, and the column lookups use.
_KINDS: dict[str, tuple[str, str]] = {
    "registry": (
        "name_key TEXT NOT NULL, name TEXT NOT NULL, ident TEXT NOT NULL, numbers TEXT NOT NULL,"
        " postcodes TEXT NOT NULL, country TEXT NOT NULL, status TEXT NOT NULL,"
        " active INTEGER NOT NULL, address TEXT NOT NULL",
        "name_key",
    ),
    "blocklist": ("domain TEXT NOT NULL, entry TEXT NOT NULL, note TEXT NOT NULL", "domain"),
}

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sources ("
    " name TEXT PRIMARY KEY, kind TEXT NOT NULL, format TEXT NOT NULL, data_table TEXT NOT NULL,"
    " files TEXT NOT NULL, rows INTEGER NOT NULL, skipped INTEGER NOT NULL,"
    " imported_at REAL NOT NULL, seconds REAL NOT NULL, key_version TEXT NOT NULL)",
)


@dataclass(frozen=True)
class ImportReport:
    """What one import did: rows stored, rows skipped as bad, time taken."""

    source: str
    rows: int
    skipped: int
    seconds: float


@dataclass(frozen=True)
class ImportProgress:
    """Handed to an import's *progress* callback after every batch and at the end."""

    source: str
    rows: int
    skipped: int
    bytes_done: int
    bytes_total: int
    seconds: float
    done: bool = False

    @property
    def fraction(self) -> float | None:
        if self.bytes_total <= 0:
            return None
        return min(1.0, self.bytes_done / self.bytes_total)


ProgressCallback = Callable[[ImportProgress], None]


def default_path() -> str:
    """``$SITETRUTH_SOURCES`` if set, else ``./sitetruth-sources.db``."""
    return os.environ.get(ENV_PATH) or DEFAULT_PATH


class SourceIndex:
    """The node-local SQLite index of outside sources.

    ``SourceIndex(path)`` opens the file read-write, creating it if needed
    (the importer's view). ``SourceIndex(path, readonly=True)`` (or
    :func:`open_readonly`) is the workers' view: a missing or unreadable file
    gives an index that matches nothing, with a logged warning, and the file
    is looked for again every ``REOPEN_SECONDS``, so a node whose sources are
    imported after its workers started picks them up.

    One connection per index, guarded by a lock, so an index may be shared by
    a worker's fetch threads. Open it after ``fork``: SQLite connections must
    not cross a fork.

    Replace the file only through imports: a worker keeps the file it
    opened, so a file deleted and re-created behind its back is not seen
    until the worker is recycled.

    Lookups never raise for a broken index: they record a
    :class:`SourceIndexError` in ``last_error`` / ``errors``, log it and match
    nothing.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, readonly: bool = False) -> None:
        self.path = os.fspath(path) if path is not None else default_path()
        self.readonly = readonly
        self.last_error: SourceError | None = None
        self.errors: deque[SourceError] = deque(maxlen=20)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._retry_at = 0.0
        self._closed = False
        self._pid = os.getpid()
        self._warned_missing = False
        self._warned_versions: set[str] = set()
        if readonly:
            self._open_readonly()
        else:
            self._conn = self._open_readwrite()

    # -- opening -----------------------------------------------------------

    def _open_readwrite(self) -> sqlite3.Connection:
        conn = None
        try:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA journal_size_limit=67108864")
            for statement in _SCHEMA:
                conn.execute(statement)
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', ?)",
                             (str(SCHEMA_VERSION),))
            elif row[0] != str(SCHEMA_VERSION):
                raise SourceIndexError(f"index has schema version {row[0]}, this program knows "
                                       f"{SCHEMA_VERSION}", where=self.path)
        except (sqlite3.Error, SourceIndexError) as e:
            if conn is not None:
                conn.close()
            if isinstance(e, SourceIndexError):
                raise
            raise SourceIndexError(f"cannot open the sources index: {e}", where=self.path) from e
        return conn

    def _open_readonly(self) -> sqlite3.Connection | None:
        """Try to (re)open the file read-only; None (and a warning) if unusable."""
        self._retry_at = time.monotonic() + REOPEN_SECONDS
        if not os.path.exists(self.path):
            level = logging.DEBUG if self._warned_missing else logging.WARNING
            log.log(level, "sources index %s does not exist: no registry or blocklist will match "
                    "(import with sitetruth-sources)", self.path)
            self._warned_missing = True
            return None
        conn = None
        try:
            conn = sqlite3.connect(f"file:{quote(os.path.abspath(self.path))}?mode=ro", uri=True,
                                   timeout=5.0, isolation_level=None, check_same_thread=False)
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.Error as e:
            if conn is not None:
                conn.close()
            self._record(SourceIndexError(f"sources index unusable, matching nothing: {e}", where=self.path))
            return None
        if row is None or row[0] != str(SCHEMA_VERSION):
            conn.close()
            self._record(SourceIndexError(f"sources index has schema version {row and row[0]}, expected "
                                          f"{SCHEMA_VERSION}; matching nothing", where=self.path))
            return None
        self._conn = conn
        return conn

    def _connection(self) -> sqlite3.Connection | None:
        if self._pid != os.getpid():
            # Opened before a fork: SQLite connections must not be used across
            # one, so the child abandons the inherited handle (closing it could
            # disturb the parent's locks) and opens its own.
            self._pid = os.getpid()
            self._conn = None
            if not self.readonly:
                self._conn = self._open_readwrite()
            elif not self._closed:
                self._open_readonly()
        if self._conn is None and self.readonly and not self._closed and time.monotonic() >= self._retry_at:
            self._open_readonly()
        return self._conn

    def close(self) -> None:
        """Close the file; a closed index matches nothing."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SourceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SourceIndex({self.path!r}, readonly={self.readonly})"

    def _record(self, error: SourceError) -> None:
        self.last_error = error
        self.errors.append(error)
        log.log(warning_level(error), "%s", error)

    # -- reading -----------------------------------------------------------

    def _lookup(self, kind: str, value: str, columns: str, limit: int) -> list[tuple[str, str, tuple]]:
        """Rows of every *kind* source whose key column equals *value*.

        Returns ``(source_name, source_format, row)`` triples, *columns*
        selected, at most *limit* rows per source. For the module functions
        (:func:`registry_match`, :func:`blocklist_hits`), not for callers.
        """
        key_column = _KINDS[kind][1]
        with self._lock:
            conn = self._connection()
            if conn is None:
                return []
            try:
                conn.execute("BEGIN")
                try:
                    sources = conn.execute(
                        "SELECT name, format, data_table, key_version FROM sources WHERE kind=? ORDER BY name",
                        (kind,)).fetchall()
                    found = []
                    for name, fmt, table, version in sources:
                        self._check_version(name, version)
                        for row in conn.execute(
                                f'SELECT {columns} FROM "{table}" WHERE {key_column}=? LIMIT ?', (value, limit)):
                            found.append((name, fmt, tuple(row)))
                finally:
                    conn.execute("COMMIT")
            except sqlite3.Error as e:
                self._record(SourceIndexError(f"{kind} lookup failed, matching nothing: {e}", where=self.path))
                return []
        return found

    def _check_version(self, name: str, version: str) -> None:
        if version != key_version() and name not in self._warned_versions:
            self._warned_versions.add(name)
            log.warning("source %s was imported with a different name normaliser; its names may not "
                        "match until it is re-imported", name)

    def sources(self) -> list[dict[str, object]]:
        """The imported sources, with counts and import times (see :func:`status`)."""
        with self._lock:
            conn = self._connection()
            if conn is None:
                return []
            try:
                rows = conn.execute(
                    "SELECT name, kind, format, files, rows, skipped, imported_at, seconds FROM sources"
                    " ORDER BY kind, name").fetchall()
            except sqlite3.Error as e:
                raise SourceIndexError(f"cannot read the sources table: {e}", where=self.path) from e
        return [
            {
                "name": name, "kind": kind, "format": fmt, "files": files, "rows": n, "skipped": skipped,
                "imported_at": datetime.fromtimestamp(at, timezone.utc).isoformat(timespec="seconds"),
                "seconds": round(seconds, 3),
            }
            for name, kind, fmt, files, n, skipped, at, seconds in rows
        ]

    # -- writing -----------------------------------------------------------

    def _writer(self) -> sqlite3.Connection:
        conn = None if self.readonly else self._connection()
        if conn is None:
            raise SourceIndexError("the sources index is open read-only or closed", where=self.path)
        return conn

    @contextlib.contextmanager
    def _import_lock(self) -> Iterator[None]:
        lock_path = self.path + ".import-lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise SourceIndexError(f"cannot create the import lock {lock_path}: {e.strerror}",
                                   where=self.path) from e
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("another import is running on %s; waiting for it", self.path)
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    @contextlib.contextmanager
    def _loading(self, name: str, kind: str, fmt: str, files: Sequence[str],
                progress: ProgressCallback | None = None, force: bool = False) -> Iterator[Load]:
        """Load a new generation of source *name*; swap it in when the block ends.

        Any exception inside the block drops the new table and leaves the old
        data serving; sqlite errors come out as :class:`SourceIndexError`.
        """
        if not _NAME_RE.fullmatch(name):
            raise ValueError(f"source name {name!r}: use 1-64 of a-z 0-9 . _ - (starting with a letter or digit)")
        conn = self._writer()
        with self._lock, self._import_lock():
            try:
                self._drop_orphans(conn)
                table = self._new_table(conn, kind)
            except sqlite3.Error as e:
                raise SourceIndexError(f"cannot start the import: {e}", source=name, where=self.path) from e
            load = Load(conn, name, kind, fmt, table, files, progress, force)
            try:
                yield load
                load._finish()
            except BaseException as e:
                with contextlib.suppress(sqlite3.Error):
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    conn.execute(f'DROP TABLE IF EXISTS "{table}"')
                log.warning("import of %s failed; its previous data (if any) still serves: %s", name, e)
                if isinstance(e, sqlite3.Error):
                    raise SourceIndexError(f"import failed: {e}", source=name, where=self.path) from e
                raise

    def _new_table(self, conn: sqlite3.Connection, kind: str) -> str:
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='next_table'").fetchone()
            number = int(row[0]) if row else 1
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('next_table', ?)", (str(number + 1),))
            table = f"data_{number}"
            conn.execute(f'CREATE TABLE "{table}" ({_KINDS[kind][0]})')
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return table

    def _drop_orphans(self, conn: sqlite3.Connection) -> None:
        """Drop data tables no source points at (left by a crashed import)."""
        live = {row[0] for row in conn.execute("SELECT data_table FROM sources")}
        for (table,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'data\\_%' ESCAPE '\\'").fetchall():
            if table not in live:
                log.info("dropping %s, left over from an interrupted import", table)
                conn.execute(f'DROP TABLE "{table}"')

    def remove(self, name: str) -> bool:
        """Forget source *name* and its data; False if there was none."""
        conn = self._writer()
        with self._lock, self._import_lock():
            try:
                conn.execute("BEGIN IMMEDIATE")
                row = conn.execute("SELECT data_table FROM sources WHERE name=?", (name,)).fetchone()
                if row is not None:
                    conn.execute("DELETE FROM sources WHERE name=?", (name,))
                    conn.execute(f'DROP TABLE IF EXISTS "{row[0]}"')
                conn.execute("COMMIT")
            except sqlite3.Error as e:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise SourceIndexError(f"cannot remove source: {e}", source=name, where=self.path) from e
        return row is not None


class Load:
    """One import in progress: rows go into a fresh table in committed batches.

    Made by :meth:`SourceIndex._loading`; importers call :meth:`add` for each
    good row, :meth:`bad` for each skipped one and :meth:`begin_file` as
    they move from file to file (for the progress figures).
    """

    def __init__(self, conn: sqlite3.Connection, name: str, kind: str, fmt: str,
                 table: str, files: Sequence[str], progress: ProgressCallback | None, force: bool) -> None:
        self.name = name
        self.kind = kind
        self.format = fmt
        self.rows = 0
        self.skipped = 0
        self._conn = conn
        self._table = table
        self._files = [os.fspath(f) for f in files]
        self._sizes = [_size(f) for f in self._files]
        self._base = 0
        self._position: Callable[[], int] = lambda: 0
        self._progress = progress
        self._force = force
        self._batch: list[tuple] = []
        self._started = time.monotonic()
        self.seconds = 0.0
        ncols = _KINDS[kind][0].count(",") + 1
        self._insert = f'INSERT INTO "{table}" VALUES ({", ".join("?" * ncols)})'

    def begin_file(self, number: int, position: Callable[[], int]) -> None:
        """Importing the *number*-th file now; *position* reports bytes read of it."""
        self._base = sum(self._sizes[:number])
        self._position = position

    def add(self, row: tuple, new_record: bool = True) -> None:
        """Store *row*; *new_record* False for a further row of the same record
        (a GLEIF entity's trading name), which the row count does not count."""
        self._batch.append(row)
        if new_record:
            self.rows += 1
        if len(self._batch) >= BATCH_ROWS:
            self._flush()

    def bad(self, where: str, why: str) -> None:
        """Count a skipped row; the first few are logged, a flood is a corrupt file."""
        self.skipped += 1
        log.log(logging.WARNING if self.skipped <= 10 else logging.DEBUG,
                "%s: skipped %s: %s", self.name, where, why)
        if self.skipped > BAD_ROWS_MIN and self.skipped > BAD_ROWS_RATIO * (self.rows + self.skipped):
            raise SourceFormatError(
                f"{self.skipped} bad rows of {self.rows + self.skipped}: the file looks corrupt or is "
                f"not in the {self.format} format", source=self.name, where=where)

    def _flush(self) -> None:
        if self._batch:
            self._conn.execute("BEGIN")
            self._conn.executemany(self._insert, self._batch)
            self._conn.execute("COMMIT")
            self._batch.clear()
        self._report(done=False)

    def _report(self, done: bool) -> None:
        if self._progress is None:
            return
        total = sum(self._sizes)
        done_bytes = total if done else min(total, self._base + self._position())
        self._progress(ImportProgress(self.name, self.rows, self.skipped, done_bytes, total,
                                      time.monotonic() - self._started, done))

    def _finish(self) -> None:
        self._flush()
        conn = self._conn
        if self.rows == 0:
            raise ImportRefused(f"no usable rows ({self.skipped} skipped); the old data is kept",
                                source=self.name, where=", ".join(self._files))
        key_column = _KINDS[self.kind][1]
        conn.execute(f'CREATE INDEX "{self._table}_{key_column}" ON "{self._table}"({key_column})')
        seconds = time.monotonic() - self._started
        conn.execute("BEGIN IMMEDIATE")
        try:
            old = conn.execute("SELECT kind, data_table, rows FROM sources WHERE name=?", (self.name,)).fetchone()
            if old is not None and old[0] != self.kind:
                raise ImportRefused(f"source {self.name} is a {old[0]}, not a {self.kind}; remove it first",
                                    source=self.name)
            if (old is not None and self.kind == "registry" and not self._force
                    and self.rows < SHRINK_RATIO * old[2]):
                raise ImportRefused(
                    f"{self.rows} rows where the last import had {old[2]}: a truncated download? "
                    "(use force to import anyway)", source=self.name, where=", ".join(self._files))
            conn.execute(
                "INSERT INTO sources(name, kind, format, data_table, files, rows, skipped, imported_at,"
                " seconds, key_version) VALUES(?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(name) DO UPDATE SET kind=excluded.kind, format=excluded.format,"
                " data_table=excluded.data_table, files=excluded.files, rows=excluded.rows,"
                " skipped=excluded.skipped, imported_at=excluded.imported_at, seconds=excluded.seconds,"
                " key_version=excluded.key_version",
                (self.name, self.kind, self.format, self._table, ", ".join(self._files), self.rows,
                 self.skipped, time.time(), seconds, key_version()))
            if old is not None:
                conn.execute(f'DROP TABLE IF EXISTS "{old[1]}"')
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.seconds = seconds
        self._report(done=True)
        log.info("imported %s: %d rows, %d skipped, %.1f s", self.name, self.rows, self.skipped, seconds)

    def report(self) -> ImportReport:
        return ImportReport(self.name, self.rows, self.skipped, round(self.seconds, 3))


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def open_readonly(path: str | os.PathLike[str] | None = None) -> SourceIndex:
    """The workers' view of the index: read-only, and empty (never an error)
    when the file is missing or unusable. See :class:`SourceIndex`."""
    return SourceIndex(path, readonly=True)


def status(index: SourceIndex) -> list[dict[str, object]]:
    """One dict per imported source: ``name``, ``kind`` (``registry`` or
    ``blocklist``), ``format``, ``files``, ``rows``, ``skipped``,
    ``imported_at`` (ISO 8601, UTC) and ``seconds`` (import duration)."""
    return index.sources()


def remove_source(index: SourceIndex, name: str) -> bool:
    """Remove source *name* and its data from *index*; False if it was not there."""
    return index.remove(name)
