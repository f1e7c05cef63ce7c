"""The writes the broker's journal makes: the durable queue, ratings and the error log.

A mixin of :class:`store._base.Store`, which supplies the transaction
machinery (``_run``: one transaction per call, retried on a lost
connection, see that module), the dialect (``_sql``, ``_ENQUEUE_TAIL``,
``_UPSERT_TAIL``) and the chunk sizes. Each public method is one
transaction; ``write_together`` puts several in one.

Each write is built in two steps: its rows are encoded (and refused, if
bad) before any transaction starts, into a *body* that runs the statements
on a cursor. The statements themselves are separate methods so each step
of a transaction is visible, and the fault tests can break a transaction
between two of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from . import _codec as codec
from ._statements import ERROR_COLS, JOB_COLS, RATING_COLS, flat, in_marks, row_marks, sized
from .records import ErrorRecord, QueuedJob, StoredRating

__all__ = ["Writes"]


class Writes:
    """The journal's writes (mixed into :class:`store._base.Store`)."""

    # Supplied by Store and its back ends.
    _ENQUEUE_TAIL: ClassVar[str]
    _UPSERT_TAIL: ClassVar[str]
    _JOB_CHUNK: ClassVar[int]
    _LOOKUP_CHUNK: ClassVar[int]
    _ROW_CHUNK_BYTES: ClassVar[int]
    _run: Callable[..., Any]
    _sql: Callable[[str], str]

    def write_together(self, writes: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several writes in one transaction: one commit where there would be one each.

        ``writes`` are ``(kind, items)`` pairs, each done as the method of
        that kind would do it alone: ``"enqueue"`` (jobs), ``"complete"``
        (ratings), ``"attempts"`` ((domain, attempts) pairs), ``"remove"``
        (domains), ``"errors"`` (error records); in order, so a later write
        of a domain sees the earlier ones. Returns each write's result (as
        its method returns it, 0 or None when it had nothing to write).
        Either all of them are committed or none: a record the store refuses
        fails them all, and the caller writes them one by one to find it.
        """
        builders = {"enqueue": self._enqueue_body, "complete": self._complete_body,
                    "attempts": self._attempts_body, "remove": self._remove_body, "errors": self._errors_body}
        for kind, _ in writes:
            if kind not in builders:
                raise ValueError(f"write_together: no write of kind {kind!r}")
        bodies = [builders[kind](items) for kind, items in writes]
        if all(body is None for body in bodies):
            return [None] * len(bodies)
        return self._run("write_together", lambda cur: [None if b is None else b(cur) for b in bodies], write=True)

    def complete(self, ratings: Sequence[StoredRating]) -> int:
        """Store each rating and retire its domain's queue row, all in one transaction.

        Returns the number of queue rows retired. Either every rating is
        stored and every matching queue row deleted, or nothing changes.
        """
        body = self._complete_body(ratings)
        return 0 if body is None else self._run("complete", body, write=True)

    def enqueue(self, jobs: Sequence[QueuedJob]) -> int:
        """Durably queue ``jobs`` in one transaction; return how many were new.

        The queue is keyed by domain: a domain already queued (or repeated in
        ``jobs``) keeps its existing row untouched.
        """
        body = self._enqueue_body(jobs)
        return 0 if body is None else self._run("enqueue", body, write=True)

    def record_attempts(self, updates: Sequence[tuple[str, int]]) -> None:
        """Set ``attempts`` of queued domains (unknown domains are ignored)."""
        body = self._attempts_body(updates)
        if body is not None:
            self._run("record_attempts", body, write=True)

    def remove_jobs(self, domains: Sequence[str]) -> int:
        """Delete the queue rows of ``domains`` (operator cancel); return how many existed."""
        body = self._remove_body(domains)
        return 0 if body is None else self._run("remove_jobs", body, write=True)

    def append_errors(self, records: Sequence[ErrorRecord]) -> None:
        """Append to the error log (one transaction). Over-long text is clipped, not refused."""
        body = self._errors_body(records)
        if body is not None:
            self._run("append_errors", body, write=True)

    def _complete_body(self, ratings: Sequence[StoredRating]) -> Callable[[Any], int] | None:
        rows = [codec.rating_row(r) for r in ratings]
        if not rows:
            return None
        domains = codec.unique(row[0] for row in rows)

        def body(cur: Any) -> int:
            self._upsert_ratings(cur, rows)
            return self._retire_jobs(cur, domains)
        return body

    def _enqueue_body(self, jobs: Sequence[QueuedJob]) -> Callable[[Any], int] | None:
        rows = [codec.job_row(j) for j in jobs]
        if not rows:
            return None
        return lambda cur: sum(self._insert_jobs(cur, part) for part in codec.chunks(rows, self._JOB_CHUNK))

    def _attempts_body(self, updates: Sequence[tuple[str, int]]) -> Callable[[Any], None] | None:
        rows = [(codec.int32(n, f"attempts for {d!r}"), codec.domain(d)) for d, n in updates]
        if not rows:
            return None
        sql = self._sql("UPDATE rating_queue SET attempts = ? WHERE domain = ?")

        def body(cur: Any) -> None:
            cur.executemany(sql, rows)
        return body

    def _remove_body(self, domains: Sequence[str]) -> Callable[[Any], int] | None:
        if isinstance(domains, str):
            raise TypeError("remove_jobs() takes a sequence of domains, not one string")
        wanted = codec.unique(d for d in domains if codec.usable_domain(d))
        if not wanted:
            return None
        return lambda cur: self._retire_jobs(cur, wanted)

    def _errors_body(self, records: Sequence[ErrorRecord]) -> Callable[[Any], None] | None:
        rows = [codec.error_row(e) for e in records]
        if not rows:
            return None

        def body(cur: Any) -> None:
            for part in sized(rows, 200, self._ROW_CHUNK_BYTES):
                sql = f"INSERT INTO error_log ({ERROR_COLS}) VALUES {row_marks(len(part), 7)}"
                cur.execute(self._sql(sql), flat(part))
        return body

    def _insert_jobs(self, cur: Any, rows: Sequence[tuple[Any, ...]]) -> int:
        sql = f"INSERT INTO rating_queue ({JOB_COLS}) VALUES {row_marks(len(rows), 5)} {self._ENQUEUE_TAIL}"
        cur.execute(self._sql(sql), flat(rows))
        return int(cur.rowcount)

    def _upsert_ratings(self, cur: Any, rows: Sequence[tuple[Any, ...]]) -> None:
        for part in sized(rows, 200, self._ROW_CHUNK_BYTES):
            sql = f"INSERT INTO ratings ({RATING_COLS}) VALUES {row_marks(len(part), 8)} {self._UPSERT_TAIL}"
            cur.execute(self._sql(sql), flat(part))

    def _retire_jobs(self, cur: Any, domains: Sequence[str]) -> int:
        retired = 0
        for part in codec.chunks(domains, self._LOOKUP_CHUNK):
            cur.execute(self._sql(f"DELETE FROM rating_queue WHERE domain IN ({in_marks(len(part))})"), list(part))
            retired += int(cur.rowcount)
        return retired
