"""Prometheus metrics of the broker (``sitetruth-broker --metrics HOST:PORT``).

Everything here is read from the broker's STATS snapshot (the dict
:func:`broker.stats.snapshot` builds; its shape is documented there), so the
metrics, ``zmq-monitor`` and the frontend's ``/status`` page can never
disagree, and the event loop owns no Prometheus object. A scrape asks for a
fresh snapshot (:meth:`BrokerMetrics.wanted` turns true) and waits briefly
for whoever feeds this object to answer with :meth:`BrokerMetrics.update`:
the broker's event loop (``Broker(metrics=...)``).
Nothing is computed while nobody scrapes.

==================================================  ==========================================================
``sitetruth_broker_queue_depth``                    queued jobs per client IP bucket, label ``ip`` (deepest 200)
``sitetruth_broker_queue_outstanding``              queued + in-flight jobs per client IP bucket, label ``ip``
``sitetruth_broker_queue_oldest_age_seconds``       age of the oldest queued job per client IP bucket
``sitetruth_broker_queued_jobs``                    queued jobs, all IPs
``sitetruth_broker_live_jobs``                      jobs the broker holds (queued, in flight, rated awaiting commit)
``sitetruth_broker_in_flight_jobs``                 jobs a rater holds
``sitetruth_broker_raters``                         registered raters by ``state`` (free, busy, draining)
``sitetruth_broker_rater_free_slots``               jobs the raters could take right now
``sitetruth_broker_dispatch_latency_seconds``       histogram: a job's enqueue to its JOB sent to a rater
``sitetruth_broker_completions_total``              ratings stored, by letter ``rating`` (A, Q, X, U)
``sitetruth_broker_refused_total``                  messages refused, by ``reason`` (see :data:`REFUSALS`)
``sitetruth_broker_events_total``                   every counter of the STATS ``counters`` table, by ``event``
``sitetruth_broker_journal_backlog``                writes not yet resolved (held or handed to the journal)
``sitetruth_broker_journal_unacked_batches``        enqueue batches waiting for their commit
``sitetruth_broker_journal_last_commit_age_seconds``  seconds since the journal's last commit
``sitetruth_broker_journal_stalled_seconds``        seconds writes have waited with no commit (0 when flowing)
``sitetruth_broker_journal_alive``                  1 while the journal thread runs
``sitetruth_broker_journal_commits_total``          store transactions committed
``sitetruth_broker_journal_rows_total``             rows written by those transactions
``sitetruth_broker_accepting``                      1 when new work is accepted, 0 when refused (store, journal)
``sitetruth_broker_paused``                         1 while an operator paused dispatching
``sitetruth_broker_store_ok``                       1 while the store answers
``sitetruth_broker_uptime_seconds``                 seconds since the broker started
``sitetruth_broker_info``                           always 1; labels ``host``, ``version``
``sitetruth_broker_stats_age_seconds``              age of the snapshot this scrape shows (stale feed: it grows)
==================================================  ==========================================================

Counters are taken from the broker's own monotonic counters rather than
incremented here, so a restart of the metrics endpoint loses nothing. Label
values come from fixed lists, except ``ip``, which the broker caps at the 200
deepest buckets.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from protocol.metrics_endpoint import MetricsEndpoint, MetricsError, metrics_listen, parse_listen

__all__ = ["BrokerMetrics", "LatencyBuckets", "MetricsError", "DISPATCH_BUCKETS", "RATER_STATES", "RATINGS",
           "REFUSALS", "parse_listen", "metrics_listen"]

# A job waits in its IP's queue for a free rater: milliseconds when raters
# are idle, minutes when a burst meets a full cluster (a rating takes up to
# 30 s, so a queue ten deep per rater is about five minutes).
DISPATCH_BUCKETS = (0.001, 0.005, 0.025, 0.1, 0.5, 1.0, 2.5, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)
RATER_STATES = ("free", "busy", "draining")
RATINGS = ("A", "Q", "X", "U")
# reason label -> the STATS counter that counts it.
REFUSALS = {
    "overload": "overloads",                 # a client IP over --max-per-ip
    "unavailable": "unavailable",            # store or journal trouble: "ask again later"
    "malformed_client": "malformed_client",  # undecodable or unexpected message on the client socket
    "malformed_rater": "malformed_rater",    # the same on the rater socket
    "unknown_rater": "unknown_rater",        # a rater that never sent READY (told to re-register)
    "mismatched_result": "mismatched_results",  # a RESULT for another domain than the job's
}
# STATS counters per stored letter: counters["rated_A"] and so on.
RATED_PREFIX = "rated_"
# How long a scrape waits for a fresh snapshot before showing the last one.
FRESH_WAIT = 2.0





class LatencyBuckets:
    """A histogram's counts, kept by the event loop and shipped in STATS (``dispatch_latency``).

    Pure and thread-safe: :meth:`observe` from the loop, :meth:`snapshot`
    from anywhere. ``counts[i]`` are observations ``<= bounds[i]`` and above
    the bound before (not cumulative); the last count is above every bound.
    """

    def __init__(self, bounds: Sequence[float] = DISPATCH_BUCKETS) -> None:
        bounds = tuple(float(b) for b in bounds)
        if not bounds or any(not math.isfinite(b) for b in bounds) or list(bounds) != sorted(set(bounds)):
            raise ValueError("bucket bounds must be finite, distinct and ascending")
        self.bounds = bounds
        self._counts = [0] * (len(bounds) + 1)
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe(self, seconds: float) -> None:
        # Clocks step (NTP) and reloaded jobs carry old enqueue times: clamp, never raise in the loop.
        seconds = max(0.0, float(seconds)) if math.isfinite(seconds) else 0.0
        i = bisect.bisect_left(self.bounds, seconds)
        with self._lock:
            self._counts[i] += 1
            self._sum += seconds

    def snapshot(self) -> dict:
        """``{"le": [bounds], "counts": [per bucket, last is +Inf], "sum": s, "count": n}`` (msgpack-able)."""
        with self._lock:
            counts, total = list(self._counts), self._sum
        return {"le": list(self.bounds), "counts": counts, "sum": round(total, 6), "count": sum(counts)}


def _num(value: Any) -> float:
    """A number from the snapshot, 0 for anything else (the shape is the broker's; never raise in a scrape)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return 0.0


def _histogram(name: str, doc: str, data: Any) -> HistogramMetricFamily | None:
    """A histogram family from a :meth:`LatencyBuckets.snapshot` dict; None if it is not one."""
    if not isinstance(data, Mapping):
        return None
    bounds, counts = data.get("le"), data.get("counts")
    if (not isinstance(bounds, Sequence) or not isinstance(counts, Sequence)
            or len(counts) != len(bounds) + 1 or not all(isinstance(c, int) and c >= 0 for c in counts)):
        return None
    buckets, running = [], 0
    for bound, count in zip([*bounds, math.inf], counts):
        running += count
        buckets.append(("+Inf" if bound == math.inf else repr(float(bound)), running))
    return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=_num(data.get("sum")))


class _Families:
    """The metric families of one STATS snapshot (the mapping, free of threads and HTTP)."""

    def __init__(self, stats: Mapping[str, Any], counters: Mapping[str, float], age: float) -> None:
        self.stats, self.counters, self.age = stats, counters, age

    def _section(self, key: str) -> Mapping[str, Any]:
        value = self.stats.get(key)
        return value if isinstance(value, Mapping) else {}

    def _rows(self, key: str) -> list[Mapping[str, Any]]:
        value = self.stats.get(key)
        # Lists arrive as tuples when the snapshot came over the wire (msgpack).
        return [r for r in value if isinstance(r, Mapping)] if isinstance(value, (list, tuple)) else []

    def __iter__(self) -> Iterator[Metric]:
        p = "sitetruth_broker_"
        yield GaugeMetricFamily(p + "stats_age_seconds", "Age of the broker snapshot these metrics show",
                                value=round(self.age, 3))
        broker, totals, journal = self._section("broker"), self._section("totals"), self._section("journal")
        info = GaugeMetricFamily(p + "info", "This broker", labels=["host", "version"])
        info.add_metric([str(broker.get("host", "")), str(broker.get("version", ""))], 1)
        yield info
        for name, doc, value in (
            ("uptime_seconds", "Seconds since the broker started", broker.get("uptime")),
            ("accepting", "1 when new work is accepted, 0 when it is refused", broker.get("accepting")),
            ("paused", "1 while dispatching is paused by an operator", broker.get("paused")),
            ("store_ok", "1 while the store answers", broker.get("store_ok")),
            ("queued_jobs", "Jobs waiting for a rater, all client IPs", totals.get("queued")),
            ("live_jobs", "Jobs the broker holds: queued, in flight, or rated and awaiting commit",
             totals.get("live")),
            ("in_flight_jobs", "Jobs a rater holds", totals.get("in_flight")),
            ("rater_free_slots", "Jobs the raters could take right now", totals.get("free_slots")),
            ("journal_backlog", "Writes not yet resolved (held in the loop or handed to the journal)",
             journal.get("backlog")),
            ("journal_unacked_batches", "Enqueue batches waiting for their commit", journal.get("unacked_batches")),
            ("journal_last_commit_age_seconds", "Seconds since the journal's last commit",
             journal.get("last_commit_age")),
            ("journal_stalled_seconds", "Seconds writes have waited with no commit", journal.get("stalled_for")),
            ("journal_alive", "1 while the journal thread runs", journal.get("alive")),
        ):
            yield GaugeMetricFamily(p + name, doc, value=_num(value))

        queues = self._rows("queues")
        for name, doc, key in (
            ("queue_depth", "Queued jobs of one client IP bucket (the 200 deepest)", "queued"),
            ("queue_outstanding", "Queued and in-flight jobs of one client IP bucket", "outstanding"),
            ("queue_oldest_age_seconds", "Age of the oldest queued job of one client IP bucket", "oldest_age"),
        ):
            family = GaugeMetricFamily(p + name, doc, labels=["ip"])
            for q in queues:
                family.add_metric([str(q.get("ip", ""))], _num(q.get(key)))
            yield family

        by_state = dict.fromkeys(RATER_STATES, 0)
        for r in self._rows("raters"):
            if r.get("state") in by_state:
                by_state[r["state"]] += 1
        raters = GaugeMetricFamily(p + "raters", "Registered raters by state", labels=["state"])
        for state, n in by_state.items():
            raters.add_metric([state], n)
        yield raters

        latency = _histogram(p + "dispatch_latency_seconds", "Time from a job's enqueue to its JOB sent to a rater",
                             self.stats.get("dispatch_latency"))
        if latency is not None:
            yield latency

        c = self.counters
        completions = CounterMetricFamily(p + "completions", "Ratings stored, by letter", labels=["rating"])
        for letter in RATINGS:
            completions.add_metric([letter], c.get(RATED_PREFIX + letter, 0))
        yield completions
        refused = CounterMetricFamily(p + "refused", "Messages the broker refused, by reason", labels=["reason"])
        for reason, key in REFUSALS.items():
            refused.add_metric([reason], c.get(key, 0))
        yield refused
        events = CounterMetricFamily(p + "events", "The broker's event counters (the STATS counters table)",
                                     labels=["event"])
        for key in sorted(c):
            events.add_metric([key], c[key])
        yield events
        yield CounterMetricFamily(p + "journal_commits", "Store transactions the journal committed",
                                  value=_num(journal.get("commits")))
        yield CounterMetricFamily(p + "journal_rows", "Rows the journal's transactions wrote",
                                  value=_num(journal.get("rows")))


class BrokerMetrics:
    """The broker's metrics on a registry of their own; :meth:`serve` puts them on HTTP.

    Fed with :meth:`update` (any thread); a scrape sets :meth:`wanted` and
    waits up to ``fresh_wait`` seconds for the next update.
    """

    def __init__(self, fresh_wait: float = FRESH_WAIT, clock=time.monotonic) -> None:
        self.fresh_wait = fresh_wait
        self._clock = clock
        self._lock = threading.Lock()
        self._fresh = threading.Condition(self._lock)
        self._want = threading.Event()
        self._stats: Mapping[str, Any] = {}
        self._updated_at: float | None = None
        self._generation = 0
        # Highest value seen per counter: a STATS counter may step back by one
        # (a dispatch undone when its send fails); Prometheus would read a reset.
        self._counters: dict[str, float] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(self)
        self._endpoint = MetricsEndpoint(self.registry)

    # ---- feeding -------------------------------------------------------------------------
    def wanted(self) -> bool:
        """True while a scrape waits for a snapshot: the feeder should call :meth:`update` soon."""
        return self._want.is_set()

    def update(self, stats: Mapping[str, Any]) -> None:
        """Take a STATS snapshot (the dict :func:`broker.stats.snapshot` returns)."""
        if not isinstance(stats, Mapping):
            raise TypeError(f"a STATS snapshot is a mapping, not {type(stats).__name__}")
        counters = stats.get("counters")
        counters = counters if isinstance(counters, Mapping) else {}
        with self._lock:
            for key, value in counters.items():
                if isinstance(key, str) and key.isidentifier():
                    self._counters[key] = max(self._counters.get(key, 0.0), _num(value))
            self._stats = stats
            self._updated_at = self._clock()
            self._generation += 1
            self._want.clear()
            self._fresh.notify_all()

    # ---- prometheus_client collector ----------------------------------------------------
    def describe(self) -> list:
        # Names are dynamic only in labels; registering must not trigger a scrape.
        return []

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            seen = self._generation
            self._want.set()
            # Nobody answering (broker busy, feed down) shows the last snapshot; its age says how old.
            self._fresh.wait_for(lambda: self._generation != seen, timeout=self.fresh_wait)
            stats, counters, updated = self._stats, dict(self._counters), self._updated_at
        if updated is None:
            # Never fed: no numbers to show rather than zeros that look real.
            yield GaugeMetricFamily("sitetruth_broker_stats_age_seconds",
                                    "Age of the broker snapshot these metrics show", value=math.inf)
            return
        yield from _Families(stats, counters, self._clock() - updated)

    # ---- serving ---------------------------------------------------------------------------
    def serve(self, listen: str) -> str:
        """Serve ``/metrics`` on *listen* (HOST:PORT) from a daemon thread; returns the address bound."""
        return self._endpoint.serve(listen)

    @property
    def address(self) -> str:
        """Where ``/metrics`` is served ("" before :meth:`serve`)."""
        return self._endpoint.address

    def close(self) -> None:
        self._endpoint.close()
