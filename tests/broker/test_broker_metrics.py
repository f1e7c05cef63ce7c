"""The broker's Prometheus metrics: scraped over HTTP from a real broker and parsed as Prometheus would.

The in-process tests run a real broker (SQLite, loopback ZeroMQ), feed a
:class:`BrokerMetrics` from its client socket with a
:class:`StatsPoller` (tests/support), and scrape ``/metrics`` with HTTP;
the process tests run ``sitetruth-broker`` itself, whose loop feeds its
metrics.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
import zmq
from prometheus_client.parser import text_string_to_metric_families

from tests.support.stats_poller import StatsPoller, connect_endpoint
from broker.metrics import (
    DISPATCH_BUCKETS,
    RATER_STATES,
    RATINGS,
    REFUSALS,
    BrokerMetrics,
    LatencyBuckets,
    MetricsError,
    metrics_listen,
    parse_listen,
)
from protocol import Overload, RateReply
from tests.support.fake_rater import FakeRater
from tests.support.processes import free_port, start_broker_process
from tests.support.waiting import stats_of, wait_until

pytestmark = pytest.mark.timeout(90)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def scrape(address: str) -> dict:
    """``/metrics`` fetched over HTTP and parsed: name -> family (type, samples)."""
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as reply:
        assert reply.status == 200
        text = reply.read().decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def value(families: dict, family: str, sample: str | None = None, **labels) -> float:
    matches = [s.value for s in families[family].samples
               if s.name == (sample or family) and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(matches) == 1, (family, sample, labels, families[family].samples)
    return matches[0]


@pytest.fixture
def served():
    """A BrokerMetrics serving on a free loopback port; closed after the test."""
    made: list[BrokerMetrics] = []

    def make(**kwargs) -> BrokerMetrics:
        metrics = BrokerMetrics(**kwargs)
        metrics.serve("127.0.0.1:0")
        made.append(metrics)
        return metrics

    yield make
    for m in made:
        m.close()


# ---- the pure parts ------------------------------------------------------------------------


def test_latency_buckets_count_each_value_under_the_first_bound_it_does_not_exceed():
    b = LatencyBuckets((0.1, 1.0, 10.0))
    for seconds in (0.05, 0.1, 0.5, 1.0, 3.0, 10.0, 11.0, 5000.0):
        b.observe(seconds)
    snap = b.snapshot()
    assert snap["le"] == [0.1, 1.0, 10.0]
    assert snap["counts"] == [2, 2, 2, 2]          # 0.1 is "<= 0.1": Prometheus' le
    assert snap["count"] == 8
    assert snap["sum"] == pytest.approx(5025.65)


def test_latency_buckets_clamp_what_a_stepped_clock_gives():
    b = LatencyBuckets((1.0,))
    for seconds in (-3.0, math.nan, math.inf):
        b.observe(seconds)
    assert b.snapshot()["counts"] == [3, 0]
    assert b.snapshot()["sum"] == 0.0


def test_latency_buckets_lose_nothing_under_concurrent_observers():
    b = LatencyBuckets()
    threads = [threading.Thread(target=lambda: [b.observe(0.3) for _ in range(20_000)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    snap = b.snapshot()
    assert snap["count"] == 80_000
    assert snap["counts"][DISPATCH_BUCKETS.index(0.5)] == 80_000


@pytest.mark.parametrize("bounds", [(), (1.0, 0.5), (1.0, 1.0), (0.5, math.inf)])
def test_latency_bucket_bounds_must_be_finite_and_ascending(bounds):
    with pytest.raises(ValueError):
        LatencyBuckets(bounds)


@pytest.mark.parametrize("text", ["nonsense", "127.0.0.1", ":9102", "host:99999", "host:port"])
def test_a_malformed_listen_address_is_a_typed_error(text):
    with pytest.raises(MetricsError, match="expected HOST:PORT"):
        metrics_listen(text)


def test_listen_addresses_with_ipv6_and_off():
    assert parse_listen("[::1]:9102") == ("::1", 9102)
    assert parse_listen("0.0.0.0:0") == ("0.0.0.0", 0)
    assert metrics_listen("  ") == ""


def test_wildcard_bind_is_reached_over_loopback():
    assert connect_endpoint("tcp://0.0.0.0:7710") == "tcp://127.0.0.1:7710"
    assert connect_endpoint("tcp://10.1.2.3:7710") == "tcp://10.1.2.3:7710"
    assert connect_endpoint("ipc:///run/broker.sock") == "ipc:///run/broker.sock"


# ---- a real broker, scraped ---------------------------------------------------------------


@pytest.fixture
def broker(start_broker, store_url):
    """A real broker on each store back end (the journal's figures come from the store's commits)."""
    return start_broker(store_url, max_per_ip=3)


@pytest.fixture
def poller_for():
    started: list[StatsPoller] = []

    def start(metrics: BrokerMetrics, endpoint: str) -> StatsPoller:
        poller = StatsPoller(metrics, endpoint).start()
        started.append(poller)
        return poller

    yield start
    for p in started:
        p.stop()


def test_every_family_has_its_type_and_labels(broker, served, poller_for):
    metrics = served()
    poller_for(metrics, broker.clients)
    families = scrape(metrics.address)
    gauges = ["queue_depth", "queue_outstanding", "queue_oldest_age_seconds", "queued_jobs", "live_jobs",
              "in_flight_jobs", "raters", "rater_free_slots", "journal_backlog", "journal_unacked_batches",
              "journal_last_commit_age_seconds", "journal_stalled_seconds", "journal_alive", "accepting",
              "paused", "store_ok", "uptime_seconds", "info", "stats_age_seconds"]
    counters = ["completions", "refused", "events", "journal_commits", "journal_rows"]
    for name in gauges:
        assert families["sitetruth_broker_" + name].type == "gauge", name
    for name in counters:
        assert families["sitetruth_broker_" + name].type == "counter", name
    assert {s.labels["state"] for s in families["sitetruth_broker_raters"].samples} == set(RATER_STATES)
    assert {s.labels["rating"] for s in families["sitetruth_broker_completions"].samples} == set(RATINGS)
    assert {s.labels["reason"] for s in families["sitetruth_broker_refused"].samples} == set(REFUSALS)
    assert value(families, "sitetruth_broker_accepting") == 1
    assert value(families, "sitetruth_broker_journal_alive") == 1
    assert value(families, "sitetruth_broker_info", host=broker.broker.host) == 1
    # The scrape asked for this snapshot: it is fresh, and the broker counted the STATS request.
    assert value(families, "sitetruth_broker_stats_age_seconds") < 2.0
    assert value(families, "sitetruth_broker_events", "sitetruth_broker_events_total", event="stats_requests") >= 1
    # The dispatch latency histogram is there when the broker's STATS carry it (see the tests below).
    assert set(families) - {"sitetruth_broker_dispatch_latency_seconds"} == {
        "sitetruth_broker_" + n for n in gauges + counters}


def test_queues_raters_completions_and_refusals_follow_the_broker(broker, served, poller_for):
    metrics = served()
    poller_for(metrics, broker.clients)
    client = broker.client()
    # No rater yet: the work waits in two IP buckets.
    assert isinstance(broker.rate(client, "10.0.0.1", ["a1-shop.com", "a2-shop.com", "a3-shop.com"]), RateReply)
    assert isinstance(broker.rate(client, "10.0.0.2", ["b1-shop.com"]), RateReply)
    families = scrape(metrics.address)
    assert value(families, "sitetruth_broker_queue_depth", ip="10.0.0.1") == 3
    assert value(families, "sitetruth_broker_queue_depth", ip="10.0.0.2") == 1
    assert value(families, "sitetruth_broker_queue_outstanding", ip="10.0.0.1") == 3
    assert value(families, "sitetruth_broker_queued_jobs") == 4
    assert value(families, "sitetruth_broker_live_jobs") == 4
    assert value(families, "sitetruth_broker_journal_commits", "sitetruth_broker_journal_commits_total") >= 1
    # Over --max-per-ip: refused as overload, and counted.
    assert isinstance(broker.rate(client, "10.0.0.1", ["a4-shop.com"]), Overload)
    # A message that is not the protocol at all, on the client socket.
    junk = broker.context.socket(zmq.DEALER)
    junk.setsockopt(zmq.LINGER, 0)
    junk.connect(broker.clients)
    junk.send_multipart([b"not", b"a message"])
    wait_until(lambda: stats_of(client)["counters"].get("malformed_client"), 10, "the junk to be counted")
    junk.close()
    families = scrape(metrics.address)
    assert value(families, "sitetruth_broker_refused", "sitetruth_broker_refused_total", reason="overload") == 1
    assert value(families, "sitetruth_broker_refused", "sitetruth_broker_refused_total",
                 reason="malformed_client") == 1

    # A rater that takes a job and never answers: one busy rater, one job in flight.
    with FakeRater(broker.raters, "hang", mode="hang", context=broker.context):
        def busy():
            f = scrape(metrics.address)
            return f if value(f, "sitetruth_broker_raters", state="busy") == 1 else None
        families = wait_until(busy, 20, "a busy rater in the metrics", interval=0.1)
        assert value(families, "sitetruth_broker_in_flight_jobs") == 1
        assert value(families, "sitetruth_broker_queued_jobs") == 3
        assert value(families, "sitetruth_broker_raters", state="free") == 0
    # A rater that answers everything at once: the queues drain, completions count.
    with FakeRater(broker.raters, "quick", mode="noop", context=broker.context):
        def drained():
            f = scrape(metrics.address)
            return f if value(f, "sitetruth_broker_live_jobs") == 0 and value(
                f, "sitetruth_broker_events", "sitetruth_broker_events_total", event="completed") >= 3 else None
        families = wait_until(drained, 30, "the queues to drain", interval=0.1)
    assert not [s for s in families["sitetruth_broker_queue_depth"].samples]


def test_completions_are_counted_per_letter(start_broker, tmp_path, served, poller_for):
    broker = start_broker(f"sqlite:///{tmp_path}/letters.db", max_attempts=1)
    metrics = served()
    poller_for(metrics, broker.clients)
    client = broker.client()
    # One failure with --max-attempts 1 is a U/error rating; a rater that answers gives Q.
    with FakeRater(broker.raters, "failing", mode="fail", context=broker.context):
        broker.rate(client, "10.0.0.1", ["broken-shop.com"])
        wait_until(lambda: stats_of(client)["counters"].get("gave_up"), 20, "the job to be given up")
    # The loop counts stored ratings per letter (counters rated_A...).
    assert any(k.startswith("rated_") for k in stats_of(client)["counters"])
    with FakeRater(broker.raters, "quick", mode="noop", context=broker.context):
        broker.rate(client, "10.0.0.1", ["good-shop.com", "fine-shop.com"])

        def rated():
            f = scrape(metrics.address)
            return f if value(f, "sitetruth_broker_completions", "sitetruth_broker_completions_total",
                              rating="Q") == 2 else None
        families = wait_until(rated, 30, "two Q completions", interval=0.1)
    assert value(families, "sitetruth_broker_completions", "sitetruth_broker_completions_total", rating="U") == 1
    assert value(families, "sitetruth_broker_completions", "sitetruth_broker_completions_total", rating="A") == 0


def test_dispatch_latency_from_a_real_broker(broker, served, poller_for):
    metrics = served()
    poller_for(metrics, broker.clients)
    client = broker.client()
    assert "dispatch_latency" in stats_of(client)
    with FakeRater(broker.raters, "quick", mode="noop", context=broker.context):
        broker.rate(client, "10.0.0.1", ["one-shop.com", "two-shop.com"])

        def dispatched():
            f = scrape(metrics.address)
            return f if value(f, "sitetruth_broker_dispatch_latency_seconds",
                              "sitetruth_broker_dispatch_latency_seconds_count") >= 2 else None
        families = wait_until(dispatched, 30, "two dispatches in the histogram", interval=0.1)
    assert families["sitetruth_broker_dispatch_latency_seconds"].type == "histogram"
    assert value(families, "sitetruth_broker_dispatch_latency_seconds",
                 "sitetruth_broker_dispatch_latency_seconds_bucket", le="+Inf") >= 2


def test_dispatch_latency_buckets_in_stats_become_a_histogram(broker, served):
    """The loop's LatencyBuckets arrives in STATS as ``dispatch_latency``; the scrape shows a histogram."""
    metrics = served(fresh_wait=0.1)
    stats = {k: v for k, v in stats_of(broker.client()).items() if k != "dispatch_latency"}
    assert "sitetruth_broker_dispatch_latency_seconds" not in _fed(metrics, stats)
    latency = LatencyBuckets()
    for seconds in (0.0005, 0.02, 0.02, 3.0, 7200.0):
        latency.observe(seconds)
    families = _fed(metrics, {**stats, "dispatch_latency": latency.snapshot()})
    family = families["sitetruth_broker_dispatch_latency_seconds"]
    assert family.type == "histogram"
    buckets = {s.labels["le"]: s.value for s in family.samples if s.name.endswith("_bucket")}
    assert len(buckets) == len(DISPATCH_BUCKETS) + 1
    assert (buckets["0.001"], buckets["0.025"], buckets["5.0"], buckets["3600.0"], buckets["+Inf"]) == (1, 3, 4, 4, 5)
    assert value(families, "sitetruth_broker_dispatch_latency_seconds",
                 "sitetruth_broker_dispatch_latency_seconds_sum") == pytest.approx(7203.0405)
    assert value(families, "sitetruth_broker_dispatch_latency_seconds",
                 "sitetruth_broker_dispatch_latency_seconds_count") == 5
    # Something that is not a LatencyBuckets snapshot is left out, not guessed at.
    assert "sitetruth_broker_dispatch_latency_seconds" not in _fed(
        metrics, {**stats, "dispatch_latency": {"le": [1.0], "counts": [1]}})


def _fed(metrics: BrokerMetrics, stats: dict) -> dict:
    metrics.update(stats)
    return scrape(metrics.address)


def test_counters_never_step_back_and_a_dead_feed_shows_its_age(broker, served):
    metrics = served(fresh_wait=0.2)
    stats = stats_of(broker.client())
    families = _fed(metrics, {**stats, "counters": {**stats["counters"], "dispatched": 5, "rated_U": 2}})
    assert value(families, "sitetruth_broker_events", "sitetruth_broker_events_total", event="dispatched") == 5
    assert value(families, "sitetruth_broker_completions", "sitetruth_broker_completions_total", rating="U") == 2
    # A dispatch undone (its send failed) makes the broker's counter go down by one: not a reset.
    families = _fed(metrics, {**stats, "counters": {**stats["counters"], "dispatched": 4, "rated_U": 2}})
    assert value(families, "sitetruth_broker_events", "sitetruth_broker_events_total", event="dispatched") == 5
    # Nobody feeds it any more: the scrape waits briefly, then shows the last snapshot and its age.
    time.sleep(0.5)
    started = time.monotonic()
    families = scrape(metrics.address)
    assert time.monotonic() - started >= 0.2
    assert metrics.wanted()
    assert value(families, "sitetruth_broker_stats_age_seconds") >= 0.5
    assert value(families, "sitetruth_broker_live_jobs") == 0


def test_a_never_fed_endpoint_shows_no_numbers_that_look_real(served):
    metrics = served(fresh_wait=0.1)
    families = scrape(metrics.address)
    assert set(families) == {"sitetruth_broker_stats_age_seconds"}
    assert value(families, "sitetruth_broker_stats_age_seconds") == math.inf


def test_update_takes_only_a_snapshot_mapping():
    with pytest.raises(TypeError):
        BrokerMetrics().update(["not", "stats"])


def test_a_busy_metrics_port_is_a_typed_error(served):
    first = served()
    with pytest.raises(MetricsError, match="cannot listen"):
        BrokerMetrics().serve(first.address)


# ---- sitetruth-broker --metrics -------------------------------------------------------------


def test_the_broker_process_serves_its_metrics(tmp_path):
    port = free_port()
    proc = start_broker_process(f"sqlite:///{tmp_path}/p.db", tmp_path, free_port(), free_port(),
                                "--metrics", f"127.0.0.1:{port}")
    try:
        assert f"metrics listening on http://127.0.0.1:{port}/metrics" in proc.output()
        families = scrape(f"127.0.0.1:{port}")
        assert value(families, "sitetruth_broker_store_ok") == 1
        assert value(families, "sitetruth_broker_stats_age_seconds") < 2.0
        assert families["sitetruth_broker_queue_depth"].type == "gauge"
    finally:
        assert proc.stop() == 0


def test_a_busy_metrics_port_stops_the_broker_before_it_touches_the_store(tmp_path, served):
    taken = served()
    db = tmp_path / "never.db"
    done = subprocess.run([sys.executable, "-m", "broker.cli", "--store", f"sqlite:///{db}",
                           "--bind-clients", f"tcp://127.0.0.1:{free_port()}",
                           "--bind-raters", f"tcp://127.0.0.1:{free_port()}", "--metrics", taken.address],
                          capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert done.returncode == 2, done.stderr
    assert f"--metrics {taken.address}: cannot listen: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr
    assert not db.exists()



def test_the_broker_is_asked_for_stats_only_when_scraped(broker, served, poller_for):
    metrics = served()
    poller_for(metrics, broker.clients)
    client = broker.client()
    asked = lambda: stats_of(client, recent=0)["counters"]["stats_requests"]  # noqa: E731  (counts itself)
    before = asked()
    time.sleep(0.5)
    assert asked() == before + 1
    scrape(metrics.address)
    scrape(metrics.address)
    assert asked() == before + 4
