"""Pieces of SQL text the store's reads and writes share: column lists and placeholders.

Placeholders are ``?`` here; each back end's ``_sql`` turns them into its
driver's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

RATING_COLS = "domain, rating, ratinginfo, location, evidence, rated_at, expires_at, rated_by"
JOB_COLS = "domain, client_ip, priority, enqueued_at, attempts"
ERROR_COLS = "at, host, process, component, domain, message, traceback"


def row_marks(rows: int, cols: int) -> str:
    """The VALUES placeholders of a multi-row INSERT: ``(?, ?), (?, ?)`` for 2 rows of 2."""
    one = "(" + ", ".join("?" * cols) + ")"
    return ", ".join([one] * rows)


def in_marks(n: int) -> str:
    """The placeholders of an IN list of ``n`` values: ``?, ?, ?``."""
    return ", ".join("?" * n)


def flat(rows: Sequence[Sequence[Any]]) -> list[Any]:
    """The parameters of a multi-row statement, row after row."""
    return [value for row in rows for value in row]


def sized(rows: Sequence[tuple[Any, ...]], max_rows: int, max_bytes: int) -> Iterator[Sequence[tuple[Any, ...]]]:
    """Split rows so one multi-row statement stays well under max_allowed_packet."""
    start, size = 0, 0
    for i, row in enumerate(rows):
        weight = 64 + sum(len(v) for v in row if isinstance(v, str))
        if i > start and (i - start >= max_rows or size + weight > max_bytes):
            yield rows[start:i]
            start, size = i, 0
        size += weight
    if start < len(rows):
        yield rows[start:]
