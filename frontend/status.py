"""The internal status page (``/status``) and its data (``/status.json``).

Where it sits: an operator's view of the whole cluster from the frontend,
next to ``zmq-monitor``'s terminal view. One snapshot gathers

* the broker's STATS reply (queues per client IP, raters with their current
  job and live progress, totals, throughput, the broker's recent
  completions; shape documented in the broker's ``stats`` module),
* the store's newest ratings and error-log entries (with tracebacks),
* this frontend's own figures (cache, requests, uptime).

Either source may be down; the page then says so and shows the rest. The
HTML is rendered complete on the server (readable without script) and
``/static/status.js`` refreshes it every 2 s from ``status.json``: the
tables' header cells name the fields (``data-field``), so the column layout
is written once, here.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from protocol import ProtocolError, StatsReply, StatsRequest
from protocol.client import BrokerUnavailable
from store import StoreError

from ._html import esc, fmt_time, page

__all__ = ["snapshot", "render_status"]

RECENT = 20
# Tracebacks can be 256 KB each; the page refreshes every 2 s. Keep the end,
# where the exception is.
_MAX_TRACEBACK = 16 * 1024
_MAX_MESSAGE = 2000
_STATS_TIMEOUT = 1.0

# (element id, heading, where the rows are in the snapshot, [(field, header, kind)])
TABLES: list[tuple[str, str, str, list[tuple[str, str, str]]]] = [
    ("queues", "Queues per client IP", "broker.queues",
     [("ip", "client IP", ""), ("queued", "queued", ""), ("outstanding", "outstanding", ""),
      ("oldest_age", "oldest waiting (s)", "")]),
    ("raters", "Raters", "broker.raters",
     [("id", "rater", ""), ("host", "host", ""), ("state", "state", ""), ("job", "rating", "domain"),
      ("job_age", "for (s)", ""), ("progress", "progress", ""), ("jobs_done", "jobs done", ""),
      ("last_seen_age", "last heard (s ago)", "")]),
    ("completions", "Completed at the broker", "broker.recent",
     [("at", "at", "time"), ("domain", "domain", "domain"), ("rating", "rating", ""),
      ("ratinginfo", "ratinginfo", ""), ("elapsed", "took (s)", ""), ("rater", "rater", "")]),
    ("ratings", "Recent ratings in the store", "recent_ratings",
     [("rated_at", "rated at", "time"), ("domain", "domain", "domain"), ("rating", "rating", ""),
      ("ratinginfo", "ratinginfo", ""), ("expires_at", "expires", "time")]),
    ("errors", "Recent errors (error log)", "recent_errors",
     [("at", "at", "time"), ("host", "host", ""), ("process", "process", ""), ("component", "component", ""),
      ("domain", "domain", ""), ("message", "message", ""), ("traceback", "traceback", "traceback")]),
]

# (path in the snapshot, label, kind)
SUMMARY: list[tuple[str, str, str]] = [
    ("broker.totals.queued", "queued", ""),
    ("broker.totals.in_flight", "being rated", ""),
    ("broker.totals.raters", "raters", ""),
    ("broker.totals.free_slots", "free rater slots", ""),
    ("broker.rates.completed_per_min", "completed / min", ""),
    ("broker.counters.completed", "completed since start", ""),
    ("broker.broker.uptime", "broker up (s)", ""),
    ("frontend.requests", "frontend requests", ""),
    ("frontend.cache_hit_ratio", "cache hit ratio", ""),
    ("frontend.cache_entries", "cache entries", ""),
    ("frontend.uptime", "frontend up (s)", ""),
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
        "cache_entries": len(service.cache), "cache_hits": int(hits), "cache_misses": int(misses),
        "cache_hit_ratio": round(hits / (hits + misses), 3) if hits + misses else None,
    }
    return out


def _cell(value: Any, kind: str, base: str) -> str:
    if kind == "time":
        return f"<td>{esc(fmt_time(value))}</td>"
    if value is None:
        return "<td></td>"
    if isinstance(value, bool):
        value = "yes" if value else "no"
    text = str(value)
    if kind == "traceback":
        if not text:
            return "<td></td>"
        return f"<td><details><summary>traceback</summary><pre>{esc(text)}</pre></details></td>"
    if kind == "domain" and text:
        return f'<td><a href="{esc(base)}/rating/{esc(text)}">{esc(text)}</a></td>'
    return f"<td>{esc(text)}</td>"


def _table(data: dict[str, Any], ident: str, title: str, source: str,
           columns: list[tuple[str, str, str]], base: str) -> str:
    heads = "".join(f'<th data-field="{esc(f)}" data-kind="{esc(k)}">{esc(h)}</th>' for f, h, k in columns)
    rows = _get(data, source)
    if isinstance(rows, (list, tuple)) and rows:
        body = "".join("<tr>" + "".join(_cell(row.get(f) if isinstance(row, dict) else None, k, base)
                                        for f, _, k in columns) + "</tr>" for row in rows)
    else:
        note = "none" if isinstance(rows, (list, tuple)) else "not available"
        body = f'<tr><td colspan="{len(columns)}" class="muted">{note}</td></tr>'
    return (f'<h2>{esc(title)}</h2><table id="{esc(ident)}" data-source="{esc(source)}">'
            f"<thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table>")


def render_status(data: dict[str, Any], base: str = "") -> bytes:
    problems = []
    if data.get("broker_error"):
        problems.append(f"Broker: {data['broker_error']}")
    if data.get("store_error"):
        problems.append(f"Store: {data['store_error']}")
    summary = "".join(
        f'<div><dt>{esc(label)}</dt><dd data-path="{esc(path)}" data-kind="{esc(kind)}">'
        f'{esc("-" if _get(data, path) is None else _get(data, path))}</dd></div>'
        for path, label, kind in SUMMARY)
    tables = "".join(_table(data, *spec, base) for spec in TABLES)
    body = (
        "<h1>SiteTruth cluster status</h1>"
        f'<p class="muted" id="updated">updated {esc(fmt_time(data.get("generated_at")))}</p>'
        f'<div class="banner" id="problems">{esc(" — ".join(problems))}</div>'
        f'<dl class="summary">{summary}</dl>{tables}'
    )
    return page("SiteTruth status", body, base=base, script="status.js")
