"""Records <-> rows: validation on the way in, decoding on the way out.

Both back ends share this, so a value that one back end would refuse (or,
worse, silently truncate) is refused identically by both before any SQL
runs. Free text in the error log is clipped instead of refused: the error
log is the last-resort handler and must not fail because a traceback is long.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from protocol.vocabulary import FINAL_RATINGS, RatingInfo

from . import migrations as m
from .errors import InvalidRecord, StoreError
from .records import ErrorRecord, QueuedJob, StoredRating

T = TypeVar("T")

# The evidence column is MEDIUMTEXT (16 MiB), but one statement must also
# fit the server's max_allowed_packet (16 MiB on MariaDB 10.11, 4 MiB on old
# servers); 4 MiB of JSON is far more than any rating's evidence should be.
MAX_EVIDENCE_BYTES = 4 * 1024 * 1024
MAX_TRACEBACK_BYTES = 1024 * 1024
_INT32 = (-(2**31), 2**31 - 1)
_LETTERS = frozenset(str(r) for r in FINAL_RATINGS)
_INFOS = frozenset(str(i) for i in RatingInfo)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def usable_domain(value: object) -> bool:
    """Could ``value`` be a stored domain at all? (Lookups skip ones that can't.)"""
    return isinstance(value, str) and 0 < len(value) <= m.MAX_DOMAIN and value.isascii()


def domain(value: object, what: str = "domain") -> str:
    if not usable_domain(value):
        raise InvalidRecord(
            f"{what} {value!r} is not a stored domain: need an ASCII (IDNA) string of 1-{m.MAX_DOMAIN} chars")
    return value  # type: ignore[return-value]


def _time(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidRecord(f"{what} must be finite epoch seconds, got {value!r}")
    return float(value)


def int32(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not _INT32[0] <= value <= _INT32[1]:
        raise InvalidRecord(f"{what} must be a 32-bit integer, got {value!r}")
    return value


def _json(value: object, what: str, limit: int) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        size = len(text.encode("utf-8"))
    except (TypeError, ValueError) as e:
        raise InvalidRecord(f"{what} is not JSON-serialisable: {e}") from e
    if size > limit:
        raise InvalidRecord(f"{what} is {size} bytes of JSON; the limit is {limit}")
    return text


def rating_row(r: StoredRating) -> tuple[Any, ...]:
    """(domain, rating, ratinginfo, location, evidence, rated_at, expires_at, rated_by)"""
    d = domain(r.domain)
    if r.rating not in _LETTERS:
        raise InvalidRecord(f"rating {r.rating!r} for {d} is not one of {sorted(_LETTERS)}")
    if r.ratinginfo not in _INFOS:
        raise InvalidRecord(f"ratinginfo {r.ratinginfo!r} for {d} is not an API v3 code")
    if r.location is not None and not isinstance(r.location, dict):
        raise InvalidRecord(f"location for {d} must be a dict or None, got {type(r.location).__name__}")
    if not isinstance(r.evidence, (list, tuple)):
        raise InvalidRecord(f"evidence for {d} must be a list, got {type(r.evidence).__name__}")
    location = None if r.location is None else _json(r.location, f"location for {d}", m.TEXT_BYTES)
    evidence = _json(list(r.evidence), f"evidence for {d}", MAX_EVIDENCE_BYTES)
    return (d, r.rating, r.ratinginfo, location, evidence,
            _time(r.rated_at, f"rated_at for {d}"), _time(r.expires_at, f"expires_at for {d}"),
            clip(r.rated_by or "", m.MAX_RATED_BY))


def rating_from_row(row: Sequence[Any]) -> StoredRating:
    d, rating, info, location, evidence, rated_at, expires_at, rated_by = row
    try:
        loc = None if location is None else json.loads(location)
        ev = json.loads(evidence) if evidence else []
    except ValueError as e:
        raise StoreError(f"stored rating for {d} has corrupt JSON: {e}") from e
    return StoredRating(d, rating, info, loc, ev, float(rated_at), float(expires_at), rated_by or "")


def job_row(j: QueuedJob) -> tuple[Any, ...]:
    """(domain, client_ip, priority, enqueued_at, attempts)"""
    d = domain(j.domain)
    ip = j.client_ip
    if not isinstance(ip, str) or len(ip) > m.MAX_CLIENT_IP or not ip.isascii():
        raise InvalidRecord(f"client_ip {ip!r} for {d}: need an ASCII string of at most {m.MAX_CLIENT_IP} chars")
    return (d, ip, int32(j.priority, f"priority for {d}"), _time(j.enqueued_at, f"enqueued_at for {d}"),
            int32(j.attempts, f"attempts for {d}"))


def job_from_row(row: Sequence[Any]) -> QueuedJob:
    d, ip, priority, enqueued_at, attempts = row
    return QueuedJob(d, ip, int(priority), float(enqueued_at), int(attempts))


def clip(value: object, max_chars: int, max_bytes: int | None = None) -> str:
    """``value`` as valid UTF-8 text that fits a column: never fails, may cut."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    # Lone surrogates (from undecodable file names in tracebacks) cannot be
    # stored by either driver; replace them rather than lose the record.
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = text[:max_chars]
    if max_bytes is not None:
        raw = text.encode("utf-8")
        if len(raw) > max_bytes:
            text = raw[:max_bytes].decode("utf-8", "ignore")
    return text


def error_row(e: ErrorRecord) -> tuple[Any, ...]:
    """(at, host, process, component, domain, message, traceback)"""
    return (
        _time(e.at, "error record time"),
        clip(e.host, m.MAX_HOST),
        clip(e.process, m.MAX_PROCESS),
        clip(e.component, m.MAX_COMPONENT),
        clip(e.domain, m.MAX_ERROR_DOMAIN),
        clip(e.message, m.TEXT_BYTES, m.TEXT_BYTES),
        clip(e.traceback, MAX_TRACEBACK_BYTES, MAX_TRACEBACK_BYTES),
    )


def error_from_row(row: Sequence[Any]) -> ErrorRecord:
    id_, at, host, process, component, d, message, tb = row
    return ErrorRecord(at=float(at), host=host, process=process, component=component,
                       message=message, traceback=tb, domain=d, id=int(id_))


def unique(items: Iterable[T]) -> list[T]:
    """Items in first-seen order without repeats."""
    return list(dict.fromkeys(items))
