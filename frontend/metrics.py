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

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

__all__ = ["FrontendMetrics", "CONTENT_TYPE", "ENDPOINTS"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Fixed label values, so a client cannot grow the metric set with odd paths.
ENDPOINTS = ("rate", "rating", "status", "status_json", "metrics", "healthz", "other")
# The *_created series double the page and nobody here graphs them.
disable_created_metrics()
_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class FrontendMetrics:
    def __init__(self) -> None:
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
        self.latency.labels(endpoint).observe(seconds)

    def render(self) -> bytes:
        """The text exposition format; adds up all workers in multi-process mode."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
