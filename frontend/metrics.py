"""Prometheus metrics of one frontend application (``GET /metrics``).

Each :class:`FrontendMetrics` has its own registry, so several applications
in one process (tests, embedding) never collide. What is counted:

===========================================  ====================================================
``sitetruth_frontend_requests_total``        HTTP requests by ``endpoint`` and ``status``
``sitetruth_frontend_request_seconds``       latency histogram by ``endpoint``
``sitetruth_frontend_items_total``           answered url items by ``rating`` and item ``status``
``sitetruth_frontend_cache_lookups_total``   domain lookups in the in-process cache by ``result``
``sitetruth_frontend_cache_entries``         entries in the cache
``sitetruth_frontend_broker_errors_total``   broker trouble by ``kind`` (see :mod:`frontend.ratings`)
``sitetruth_frontend_store_errors_total``    store calls that failed, by ``operation``
===========================================  ====================================================

Multi-process servers (gunicorn with several workers): every worker process
counts on its own, so a scrape shows whichever worker answered it. For
totals across workers, start the server with ``PROMETHEUS_MULTIPROC_DIR``
set to an empty directory (prometheus_client's multi-process mode): the
counters are then kept in files there and ``/metrics`` adds up every
worker's. Clear the directory when the server restarts.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

__all__ = ["FrontendMetrics", "LastMinute", "CONTENT_TYPE", "ENDPOINTS"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Fixed label values, so a client cannot grow the metric set with odd paths.
ENDPOINTS = ("rate", "rating", "status", "status_json", "metrics", "healthz", "other")
# The *_created series double the page and nobody here graphs them.
disable_created_metrics()
_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class LastMinute:
    """Events counted in one-second slots over the last 60 s: the status page's "requests / min".

    Prometheus computes rates from counters at scrape time; the status page
    has no Prometheus behind it, so it keeps this small window itself.
    """

    SLOTS = 60

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._counts = [0] * self.SLOTS
        self._stamps = [-1] * self.SLOTS  # which second each slot counts
        self._lock = threading.Lock()

    def add(self, n: int = 1) -> None:
        second = int(self._clock())
        slot = second % self.SLOTS
        with self._lock:
            if self._stamps[slot] != second:
                self._stamps[slot], self._counts[slot] = second, 0
            self._counts[slot] += n

    def total(self) -> int:
        """Events in the 60 seconds up to now (the current, partial second included)."""
        now = int(self._clock())
        with self._lock:
            return sum(c for c, s in zip(self._counts, self._stamps) if now - self.SLOTS < s <= now)


class FrontendMetrics:
    def __init__(self) -> None:
        self.last_minute = LastMinute()
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("sitetruth_frontend_requests", "HTTP requests served",
                                ["endpoint", "status"], registry=r)
        self.latency = Histogram("sitetruth_frontend_request_seconds", "Time to answer an HTTP request",
                                 ["endpoint"], buckets=_BUCKETS, registry=r)
        self.items = Counter("sitetruth_frontend_items", "Rating items answered",
                             ["rating", "status"], registry=r)
        self.cache = Counter("sitetruth_frontend_cache_lookups", "Domain lookups in the in-process cache",
                             ["result"], registry=r)
        self.cache_entries = Gauge("sitetruth_frontend_cache_entries", "Entries in the in-process cache",
                                   registry=r, multiprocess_mode="livesum")
        self.broker_errors = Counter("sitetruth_frontend_broker_errors", "Broker requests that failed",
                                     ["kind"], registry=r)
        self.store_errors = Counter("sitetruth_frontend_store_errors", "Store calls that failed",
                                    ["operation"], registry=r)

    def observe(self, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, str(status)).inc()
        self.last_minute.add()
        self.latency.labels(endpoint).observe(seconds)

    def render(self) -> bytes:
        """The text exposition format; adds up all workers in multi-process mode."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
