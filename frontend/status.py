"""The internal status page (``/status``) and its data (``/status.json``).

Where it sits: an operator's view of the whole cluster from the frontend,
next to ``zmq-monitor``'s terminal view. One snapshot gathers

* the broker's STATS reply (queues per client IP, raters with their current
  job and live progress, totals, throughput, the broker's recent
  completions; shape documented in the broker's ``stats`` module),
* the store's newest ratings and error-log entries (with tracebacks),
* this frontend's own figures (cache, requests, uptime).

Either source may be down; the page then says so and shows the rest. The
HTML is rendered complete on the server from ``templates/status.html``
(readable without script) and ``/static/status.js`` refreshes it every 2 s
from ``status.json``: the tables' header cells name the fields and how to
show them (``data-field``, ``data-kind``), so the column layout is written
once, here, and the units (``2 h 14 min``, ``12 / min``) and coloured
letters look the same before and after a refresh.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from protocol import ProtocolError, StatsReply, StatsRequest
from protocol.client import BrokerUnavailable
from store import StoreError

from ._html import render

__all__ = ["snapshot", "render_status", "TABLES", "SUMMARY"]

RECENT = 20
# Tracebacks can be 256 KB each; the page refreshes every 2 s. Keep the end,
# where the exception is.
_MAX_TRACEBACK = 16 * 1024
_MAX_MESSAGE = 2000
_STATS_TIMEOUT = 1.0

# How a value is shown (the template's ``cell`` macro and status.js agree on these):
# "" as it is; "time" a UTC time; "duration" seconds as "2 h 14 min"; "rate"
# a per-minute figure as "12 / min"; "ratio" as a percentage; "letter" a
# rating letter coloured as on the rating page; "domain" a link to its
# rating page; "traceback" folded away.

# (element id, heading, where the rows are in the snapshot, [(field, header, kind)])
TABLES: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    ("queues", "Queues per client IP", "broker.queues",
     [("ip", "client IP", ""), ("queued", "queued", ""), ("outstanding", "outstanding", ""),
      ("oldest_age", "oldest waiting", "duration")]),
    ("raters", "Raters", "broker.raters",
     [("id", "rater", ""), ("host", "host", ""), ("state", "state", ""), ("job", "rating", "domain"),
      ("job_age", "for", "duration"), ("progress", "progress", ""), ("jobs_done", "jobs done", ""),
      ("last_seen_age", "last heard", "duration")]),
    ("completions", "Completed at the broker", "broker.recent",
     [("at", "at", "time"), ("domain", "domain", "domain"), ("rating", "rating", "letter"),
      ("ratinginfo", "ratinginfo", ""), ("elapsed", "took", "duration"), ("rater", "rater", "")]),
    ("ratings", "Recent ratings in the store", "recent_ratings",
     [("rated_at", "rated at", "time"), ("domain", "domain", "domain"), ("rating", "rating", "letter"),
      ("ratinginfo", "ratinginfo", ""), ("expires_at", "expires", "time")]),
    ("errors", "Recent errors (error log)", "recent_errors",
     [("at", "at", "time"), ("host", "host", ""), ("process", "process", ""), ("component", "component", ""),
      ("domain", "domain", "domain"), ("message", "message", ""), ("traceback", "traceback", "traceback")]),
]

# (path in the snapshot, label, kind)
SUMMARY: list[tuple[str, str, str]] = [
    ("broker.totals.queued", "queued", ""),
    ("broker.totals.in_flight", "being rated", ""),
    ("broker.totals.raters", "raters", ""),
    ("broker.totals.free_slots", "free rater slots", ""),
    ("broker.rates.completed_per_min", "ratings completed", "rate"),
    ("broker.counters.completed", "completed since start", ""),
    ("broker.broker.uptime", "broker up", "duration"),
    ("frontend.requests_per_min", "frontend requests", "rate"),
    ("frontend.requests", "requests since start", ""),
    ("frontend.cache_hit_ratio", "cache hit ratio", "ratio"),
    ("frontend.cache_entries", "cache entries", ""),
    ("frontend.uptime", "frontend up", "duration"),
]


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _sample(registry: Any, name: str, labels: dict[str, str] | None = None) -> float:
    value = registry.get_sample_value(name, labels or {})
    return float(value or 0.0)


def snapshot(app: Any) -> dict[str, Any]:
    """Everything the status page shows, as one JSON-able dict (``app`` is the FrontendApp)."""
    service = app.service
    out: dict[str, Any] = {"generated_at": time.time(), "broker": None, "broker_error": "",
                           "store_error": "", "recent_ratings": None, "recent_errors": None}
    try:
        reply = service.broker_call(lambda i: StatsRequest(req_id=i, recent=RECENT), _STATS_TIMEOUT)
        if isinstance(reply, StatsReply):
            out["broker"] = reply.stats
        else:
            out["broker_error"] = f"unexpected {type(reply).__name__} reply"
    except BrokerUnavailable as e:
        out["broker_error"] = str(e)
    except ProtocolError as e:
        out["broker_error"] = f"unreadable reply: {e}"
    store = service.stores.get()
    try:
        out["recent_ratings"] = [
            {"domain": r.domain, "rating": r.rating, "ratinginfo": r.ratinginfo,
             "rated_at": r.rated_at, "expires_at": r.expires_at}
            for r in store.recent_ratings(RECENT)]
        out["recent_errors"] = [
            {"at": e.at, "host": e.host, "process": e.process, "component": e.component, "domain": e.domain,
             "message": e.message[:_MAX_MESSAGE], "traceback": e.traceback[-_MAX_TRACEBACK:]}
            for e in store.recent_errors(RECENT)]
    except StoreError as e:
        app.metrics.store_errors.labels("status").inc()
        out["store_error"] = f"{type(e).__name__}: {e}"[:500]
    registry = app.metrics.registry
    hits = _sample(registry, "sitetruth_frontend_cache_lookups_total", {"result": "hit"})
    misses = _sample(registry, "sitetruth_frontend_cache_lookups_total", {"result": "miss"})
    requests = sum(s.value for m in registry.collect() if m.name == "sitetruth_frontend_requests"
                   for s in m.samples if s.name.endswith("_total"))
    now = time.time()
    out["frontend"] = {
        "host": socket.gethostname(), "pid": os.getpid(), "started_at": app.started_at,
        "uptime": round(now - app.started_at, 1), "requests": int(requests),
        "requests_per_min": app.metrics.last_minute.total(),
        "cache_entries": len(service.cache), "cache_hits": int(hits), "cache_misses": int(misses),
        "cache_hit_ratio": round(hits / (hits + misses), 3) if hits + misses else None,
    }
    return out


def _rows(data: dict[str, Any], source: str) -> list[dict[str, Any]] | None:
    rows = _get(data, source)
    if not isinstance(rows, (list, tuple)):
        return None
    return [row if isinstance(row, dict) else {} for row in rows]


def render_status(data: dict[str, Any], base: str = "") -> bytes:
    problems = []
    if data.get("broker_error"):
        problems.append(f"Broker: {data['broker_error']}")
    if data.get("store_error"):
        problems.append(f"Store: {data['store_error']}")
    summary = [(path, label, kind, _get(data, path)) for path, label, kind in SUMMARY]
    tables = [(ident, title, source, columns, _rows(data, source)) for ident, title, source, columns in TABLES]
    return render("status.html", base=base, generated_at=data.get("generated_at"),
                  problems=" — ".join(problems), summary=summary, tables=tables)
