"""Prometheus metrics of one raterd node (``sitetruth-raterd --metrics HOST:PORT``).

The supervisor owns them and serves them over HTTP from a thread of its own
(prometheus_client's server, on its own registry). Workers hold no metrics:
after every rating a worker sends the facts of it over its control line
(:func:`raterd._control.rated_message`: letter, seconds, fetch errors by
kind), and the supervisor, which knows every worker's state, counts them
here. So one scrape shows the whole node, whichever workers came and went.

===========================================  ================================================================
``sitetruth_raterd_workers``                 worker processes by ``state`` (see :data:`WORKER_STATES`)
``sitetruth_raterd_ratings_total``           finished ratings by ``rating`` (A, Q, X, U) and ``ratinginfo``
``sitetruth_raterd_rating_failures_total``   ratings the pipeline could not finish (sent as FAILED)
``sitetruth_raterd_rating_seconds``          histogram of one rating's duration, JOB to RESULT/FAILED
``sitetruth_raterd_fetch_errors_total``      failed fetches by ``kind`` (see :data:`FETCH_ERROR_KINDS`)
``sitetruth_raterd_recycles_total``          workers replaced by a fresh one, by ``reason`` (max_jobs, max_rss)
``sitetruth_raterd_worker_restarts_total``   workers restarted after dying unasked (crash, kill, wedged)
``sitetruth_raterd_node_info``               always 1; labels ``node``, ``host``, ``version``
``sitetruth_raterd_link_registered``         with ``--node-link``: 1 while the node is registered with a broker
``sitetruth_raterd_link_events_total``       with ``--node-link``: jobs given to workers, results passed on,
                                             jobs handed back, workers found dead, by ``event``
===========================================  ================================================================

Label values come from fixed lists, so nothing a site says can grow the
number of series.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable, Mapping
from importlib import metadata
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

from protocol.metrics_endpoint import MetricsEndpoint, MetricsError, metrics_listen, parse_listen

__all__ = ["NodeMetrics", "MetricsError", "WORKER_STATES", "FETCH_ERROR_KINDS", "fetch_error_kind",
           "fetch_error_counts", "parse_listen", "metrics_listen"]

# The *_created series double the page and nobody graphs them (as in frontend.metrics).
disable_created_metrics()

WORKER_STATES = ("starting", "idle", "busy", "retiring", "restarting")
"""``starting``: started, not yet registered with the broker; ``idle``/``busy``: registered, without or
with a job; ``retiring``: its replacement is on the way, it works on meanwhile; ``restarting``: a slot
whose worker died and waits out its restart backoff."""

FETCH_ERROR_KINDS = ("dns", "connect", "tls", "read_timeout", "deadline", "broken_response", "redirects",
                     "decoding", "blocked_address", "bad_url", "http_status", "not_html", "source", "other")
"""How a fetch failed, read from the evidence the pipeline keeps (``fetch_error``, ``page_error`` and
``source_error`` items); ``source`` is an outside source (the GLEIF API) failing."""

RATINGS = ("A", "Q", "X", "U")
RATINGINFOS = ("", "error", "no_domain", "no_website", "blocked", "no_location", "negative_info",
               "non_commercial", "unverified", "bad_url")
RECYCLE_REASONS = ("max_jobs", "max_rss")
LINK_EVENTS = ("jobs", "results", "handed_back", "worker_deaths")
"""What :class:`raterd.nodelink.NodeLink` counts (its ``counters``)."""
_BUCKETS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 45.0, 60.0, 120.0)

# Phrases of the fetch layer's errors (raterd.fetch) and the pipeline's page failures, first match wins.
_KIND_PATTERNS = tuple((kind, re.compile(pattern)) for kind, pattern in (
    ("dns", r"\bdns\b|cannot resolve|has no addresses|no answer from the resolver"),
    ("blocked_address", r"non-public address|ip address literal|^blocked\b|: blocked\b"),
    ("bad_url", r"unusable host name|unreadable url|not an absolute url|url has no host|not a rateable domain"),
    ("connect", r"connection refused|cannot connect|no address to connect to|connection reset"),
    ("tls", r"\btls\b|\bssl\b|certificate|handshake"),
    ("read_timeout", r"sent nothing for the read timeout|read timeout"),
    ("deadline", r"deadline"),
    ("broken_response", r"broken response"),
    ("redirects", r"redirect"),
    ("decoding", r"content-coding|corrupt .* data|decod"),
    ("http_status", r"\bhttp [1-5]\d\d\b"),
    ("not_html", r"not html|not text"),
))
_ERROR_EVIDENCE = ("fetch_error", "page_error")


def _version() -> str:
    try:
        return metadata.version("sitetruth-cluster")
    except metadata.PackageNotFoundError:
        return "0.1.0"



def fetch_error_kind(text: str) -> str:
    """The kind (one of :data:`FETCH_ERROR_KINDS`) of one fetch failure as the evidence words it."""
    low = str(text).lower()
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(low):
            return kind
    return "other"


def fetch_error_counts(evidence: Iterable[Any]) -> dict[str, int]:
    """Failed fetches in a rating's evidence, by kind."""
    counts: dict[str, int] = {}
    for item in evidence:
        if not isinstance(item, Mapping):
            continue
        what = item.get("kind")
        if what in _ERROR_EVIDENCE:
            kind = fetch_error_kind(item.get("value", ""))
        elif what == "source_error":
            kind = "source"
        else:
            continue
        counts[kind] = counts.get(kind, 0) + 1
    return counts




class NodeMetrics:
    """The metrics of one node on a registry of their own; :meth:`serve` puts them on HTTP."""

    def __init__(self, node: str = "", version: str = "", link: bool = False) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.workers = Gauge("sitetruth_raterd_workers", "Worker processes by state", ["state"], registry=r)
        self.ratings = Counter("sitetruth_raterd_ratings", "Ratings finished by this node",
                               ["rating", "ratinginfo"], registry=r)
        self.failures = Counter("sitetruth_raterd_rating_failures",
                                "Ratings the pipeline could not finish (sent to the broker as FAILED)", registry=r)
        self.seconds = Histogram("sitetruth_raterd_rating_seconds", "Duration of one rating, job to outcome",
                                 buckets=_BUCKETS, registry=r)
        self.fetch_errors = Counter("sitetruth_raterd_fetch_errors", "Failed fetches by kind", ["kind"],
                                    registry=r)
        self.recycles = Counter("sitetruth_raterd_recycles", "Workers replaced by a fresh one, by reason",
                                ["reason"], registry=r)
        self.restarts = Counter("sitetruth_raterd_worker_restarts",
                                "Workers restarted after dying without being asked to", registry=r)
        info = Gauge("sitetruth_raterd_node_info", "This raterd node", ["node", "host", "version"], registry=r)
        info.labels(node=node or socket.gethostname(), host=socket.gethostname(),
                    version=version or _version()).set(1)
        # Every fixed label value from the start, so rate() sees a series begin at 0.
        for state in WORKER_STATES:
            self.workers.labels(state=state)
        for kind in FETCH_ERROR_KINDS:
            self.fetch_errors.labels(kind=kind)
        for reason in RECYCLE_REASONS:
            self.recycles.labels(reason=reason)
        if link:        # only a node with --node-link has these
            self.link_registered = Gauge("sitetruth_raterd_link_registered",
                                         "1 while the node link is registered with a broker", registry=r)
            self.link_events = Counter("sitetruth_raterd_link_events",
                                       "What the node link passed between broker and workers, by event",
                                       ["event"], registry=r)
            for event in LINK_EVENTS:
                self.link_events.labels(event=event)
        self._link_seen: dict[str, int] = {}
        self._endpoint = MetricsEndpoint(self.registry)

    # ---- counting (supervisor's thread) ------------------------------------------------
    def set_workers(self, counts: Mapping[str, int]) -> None:
        for state in WORKER_STATES:
            self.workers.labels(state=state).set(counts.get(state, 0))

    def rated(self, message: Mapping[str, Any]) -> None:
        """Count one ``rated`` control message; odd values are dropped, never raised."""
        seconds = message.get("seconds")
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and 0 <= seconds < 86400:
            self.seconds.observe(seconds)
        if message.get("failed"):
            self.failures.inc()
        else:
            rating, info = message.get("rating"), message.get("ratinginfo", "")
            if rating in RATINGS and info in RATINGINFOS:
                self.ratings.labels(rating=rating, ratinginfo=info).inc()
        errors = message.get("fetch_errors")
        if isinstance(errors, Mapping):
            for kind, count in errors.items():
                if kind in FETCH_ERROR_KINDS and isinstance(count, int) and 0 < count <= 10_000:
                    self.fetch_errors.labels(kind=kind).inc(count)

    def set_link(self, registered: bool, counters: Mapping[str, int]) -> None:
        """The node link's state and its running counts (totals since start; the increase is counted)."""
        self.link_registered.set(1 if registered else 0)
        for event in LINK_EVENTS:
            total = counters.get(event, 0)
            grew = total - self._link_seen.get(event, 0)
            if grew > 0:
                self.link_events.labels(event=event).inc(grew)
                self._link_seen[event] = total

    def recycled(self, reason: Any) -> None:
        if reason in RECYCLE_REASONS:
            self.recycles.labels(reason=reason).inc()

    def restarted(self) -> None:
        self.restarts.inc()

    # ---- serving ---------------------------------------------------------------------
    def serve(self, listen: str) -> str:
        """Serve ``/metrics`` on *listen* (HOST:PORT) from a daemon thread; returns the address bound."""
        return self._endpoint.serve(listen)

    @property
    def address(self) -> str:
        """Where ``/metrics`` is served ("" before :meth:`serve`)."""
        return self._endpoint.address

    def close(self) -> None:
        self._endpoint.close()
