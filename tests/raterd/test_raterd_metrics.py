"""Prometheus metrics of a raterd node: a real node rating a fixture site, scraped as Prometheus would.

``sitetruth-raterd --metrics 127.0.0.1:PORT`` serves the node's metrics; the
scrape is parsed with prometheus_client's own parser, so names, types and
labels are checked as a Prometheus server would read them. The fixture site
gives the real pipeline failures of two kinds to count: its https port has
nothing listening (``connect``) and most pages its home page links to do not
exist (``http_status``).
"""

from __future__ import annotations

import os
import socket
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from raterd.metrics import (
    FETCH_ERROR_KINDS,
    WORKER_STATES,
    MetricsError,
    NodeMetrics,
    fetch_error_counts,
    fetch_error_kind,
    parse_listen,
)
from tests.raterd.fixtures import Site
from tests.raterd.raterd_harness import brokers, raterd, store, stored_ratings, submit, wait_until  # noqa: F401
from tests.support.processes import free_port

pytestmark = pytest.mark.timeout(120)

HTML = os.path.join(os.path.dirname(os.path.abspath(__file__)), "html")
DOMAIN = "metered-shop.co.uk"


def _page(name: str) -> bytes:
    with open(os.path.join(HTML, name), "rb") as f:
        return f.read()


def _scrape(address: str) -> dict:
    """{family name: family} of one scrape of http://address/metrics."""
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("text/plain")
        text = reply.read().decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def _value(families: dict, family: str, sample: str, **labels: str) -> float | None:
    for s in families[family].samples:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def _try_scrape(address: str) -> dict | None:
    try:
        return _scrape(address)
    except OSError:
        return None


def test_a_node_rating_a_fixture_site_is_scraped_with_names_types_and_labels(store, brokers, raterd,
                                                                             fixture_server, tmp_path):
    pages = {"/": _page("uk_shop_home.html"), "/contact-us/": _page("uk_shop_contact.html")}
    for host in (DOMAIN, f"www.{DOMAIN}"):
        fixture_server.add_site(host, Site(dict(pages)))
    with socket.socket() as closed:          # an https port with nothing listening: connect errors
        closed.bind(("127.0.0.1", 0))
        https_port = closed.getsockname()[1]
    address = f"127.0.0.1:{free_port()}"
    rb = brokers(store)
    node = raterd(rb.raters, "--workers", "1", "--metrics", address, "--node-name", "metered-node",
                  "--resolve", f"{DOMAIN}:127.0.0.1",
                  "--resolve", f"www.{DOMAIN}:127.0.0.1", "--http-port", str(fixture_server.http_port),
                  "--https-port", str(https_port), "--gleif-url", "", "--sources", str(tmp_path / "none.db"),
                  "--deadline", "20", pipeline=None)
    rb.wait_for(lambda s: s["totals"]["raters"] == 1, 30, "the worker to register")
    families: dict = {}

    def idle() -> bool:
        nonlocal families
        families = _try_scrape(address) or families
        return bool(families) and _value(families, "sitetruth_raterd_workers", "sitetruth_raterd_workers",
                                         state="idle") == 1
    wait_until(idle, 10, "the supervisor to see its worker registered")
    submit(rb, [DOMAIN])
    rb.wait_for(lambda s: s["totals"]["live"] == 0, 40, "the rating")
    rating = stored_ratings(store, [DOMAIN])[DOMAIN]
    assert (rating.rating, rating.ratinginfo) == ("Q", "unverified"), node.output()[-3000:]

    # The supervisor counts the rating when its worker reports it: poll the scrape (bounded).
    def counted() -> bool:
        nonlocal families
        families = _try_scrape(address) or families
        return _value(families, "sitetruth_raterd_rating_seconds", "sitetruth_raterd_rating_seconds_count") == 1
    wait_until(counted, 10, "the rating in the metrics")

    types = {name: family.type for name, family in families.items() if name.startswith("sitetruth_raterd_")}
    assert types == {
        "sitetruth_raterd_workers": "gauge",
        "sitetruth_raterd_ratings": "counter",
        "sitetruth_raterd_rating_failures": "counter",
        "sitetruth_raterd_rating_seconds": "histogram",
        "sitetruth_raterd_fetch_errors": "counter",
        "sitetruth_raterd_recycles": "counter",
        "sitetruth_raterd_worker_restarts": "counter",
        "sitetruth_raterd_node_info": "gauge",
    }
    workers = {s.labels["state"]: s.value for s in families["sitetruth_raterd_workers"].samples}
    assert workers == {"starting": 0, "idle": 1, "busy": 0, "retiring": 0, "restarting": 0}
    ratings = {(s.labels["rating"], s.labels["ratinginfo"]): s.value
               for s in families["sitetruth_raterd_ratings"].samples}
    assert ratings == {("Q", "unverified"): 1}
    assert _value(families, "sitetruth_raterd_rating_failures", "sitetruth_raterd_rating_failures_total") == 0
    seconds = _value(families, "sitetruth_raterd_rating_seconds", "sitetruth_raterd_rating_seconds_sum")
    assert 0 < seconds < 25
    buckets = [s for s in families["sitetruth_raterd_rating_seconds"].samples if s.name.endswith("_bucket")]
    assert buckets[-1].labels["le"] == "+Inf" and buckets[-1].value == 1
    errors = {s.labels["kind"]: s.value for s in families["sitetruth_raterd_fetch_errors"].samples}
    assert set(errors) == set(FETCH_ERROR_KINDS)
    assert errors["connect"] >= 1, node.output()[-3000:]          # https on the closed port
    assert errors["http_status"] >= 1, rating.evidence             # linked pages the site does not have
    recycles = {s.labels["reason"]: s.value for s in families["sitetruth_raterd_recycles"].samples}
    assert recycles == {"max_jobs": 0, "max_rss": 0}
    info = families["sitetruth_raterd_node_info"].samples[0]
    assert info.value == 1 and set(info.labels) == {"node", "host", "version"}
    assert info.labels["node"] == "metered-node" and info.labels["host"] == socket.gethostname()
    assert "metrics listening on http://" + address in node.output()


def test_recycles_failures_and_busy_workers_are_counted(store, brokers, raterd):
    address = f"127.0.0.1:{free_port()}"
    rb = brokers(store)
    raterd(rb.raters, "--workers", "1", "--max-jobs", "1", "--metrics", address)
    rb.wait_for(lambda s: s["totals"]["raters"] == 1, 30, "the worker to register")
    submit(rb, ["slow3-busy.com"])
    families: dict = {}

    def scraped(predicate) -> bool:
        nonlocal families
        families = _try_scrape(address) or families
        return bool(families) and predicate(families)

    wait_until(lambda: scraped(lambda f: _value(f, "sitetruth_raterd_workers", "sitetruth_raterd_workers",
                                                state="busy") == 1), 15, "a busy worker")
    # After one job the worker retires and a fresh one takes its slot.
    wait_until(lambda: scraped(lambda f: _value(f, "sitetruth_raterd_recycles", "sitetruth_raterd_recycles_total",
                                                reason="max_jobs") == 1), 20, "a recycle")
    submit(rb, ["boom-bug.com"])             # the fake pipeline raises: every attempt fails
    stats = rb.wait_for(lambda s: s["totals"]["live"] == 0, 30, "the failing job to be given up")
    failed = stats["counters"]["failed"]
    assert failed >= 1
    wait_until(lambda: scraped(lambda f: _value(f, "sitetruth_raterd_rating_failures",
                                                "sitetruth_raterd_rating_failures_total") == failed),
               10, "every failed attempt counted")
    assert _value(families, "sitetruth_raterd_ratings", "sitetruth_raterd_ratings_total", rating="Q") == 1
    assert _value(families, "sitetruth_raterd_rating_seconds", "sitetruth_raterd_rating_seconds_count") == 1 + failed


def test_a_node_link_reports_its_registration_and_what_it_passed_on(store, brokers, raterd):
    address = f"127.0.0.1:{free_port()}"
    rb = brokers(store)
    raterd(rb.raters, "--workers", "2", "--node-link", "--metrics", address)
    rb.wait_for(lambda s: s["totals"]["free_slots"] == 2, 30, "the node to register")
    submit(rb, ["one-linked.com", "two-linked.com", "three-linked.com"])
    rb.wait_for(lambda s: s["counters"].get("completed", 0) == 3, 30, "three ratings")
    families: dict = {}

    def scraped() -> bool:
        nonlocal families
        families = _try_scrape(address) or families
        return bool(families) and _value(families, "sitetruth_raterd_link_events",
                                         "sitetruth_raterd_link_events_total", event="results") == 3

    wait_until(scraped, 10, "three results counted")
    assert _value(families, "sitetruth_raterd_link_registered", "sitetruth_raterd_link_registered") == 1
    assert _value(families, "sitetruth_raterd_link_events", "sitetruth_raterd_link_events_total", event="jobs") == 3
    for event in ("handed_back", "worker_deaths"):
        assert _value(families, "sitetruth_raterd_link_events", "sitetruth_raterd_link_events_total",
                      event=event) == 0


def test_a_metrics_port_in_use_stops_the_node_with_a_clear_line(store, brokers, raterd):
    rb = brokers(store)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        address = f"127.0.0.1:{busy.getsockname()[1]}"
        node = raterd(rb.raters, "--workers", "1", "--metrics", address)
        assert node.wait(30) == 78
    assert f"--metrics {address}: cannot listen" in node.output()
    assert "Traceback" not in node.output()


@pytest.mark.parametrize("text, kind", [
    # The fetch layer's wording (raterd.fetch), as the pipeline keeps it in the evidence.
    ("https://shop.example/robots.txt: HTTPS: connection refused", "connect"),
    ("HTTP: cannot connect to the server: network unreachable", "connect"),
    ("HTTPS: connection reset", "connect"),
    ("TLS failure: certificate not trusted (certificate verify failed)", "tls"),
    ("TLS failure: handshake failed", "tls"),
    ("DNS: cannot resolve nowhere.example (name not found)", "dns"),
    ("DNS: nowhere.example has no addresses", "dns"),
    ("blocked: IP address literal '10.0.0.1' as host", "blocked_address"),
    ("internal.example resolves to non-public address 10.0.0.1 (private)", "blocked_address"),
    ("unusable host name: bad label", "bad_url"),
    ("HTTP: timed out after 10 s (the server sent nothing for the read timeout)", "read_timeout"),
    ("HTTPS: stopped at the rating's deadline of 20 s", "deadline"),
    ("HTTP: broken response (IncompleteRead)", "broken_response"),
    ("HTTP: more than 10 redirects", "redirects"),
    ("HTTP: redirect loop", "redirects"),
    ("unsupported content-coding 'br'", "decoding"),
    ("corrupt gzip data: bad header", "decoding"),
    ("HTTP 404", "http_status"),
    ("https://shop.example/: home page answered HTTP 503", "http_status"),
    ("not HTML (application/pdf)", "not_html"),
    ("something nobody foresaw", "other"),
])
def test_fetch_errors_are_classified_from_the_evidence_wording(text, kind):
    assert fetch_error_kind(text) == kind


def test_fetch_error_counts_read_only_error_evidence():
    evidence = [{"kind": "page_error", "value": "HTTP 404"}, {"kind": "page_error", "value": "HTTP 410"},
                {"kind": "fetch_error", "value": "cannot connect to x (127.0.0.1:1): refused"},
                {"kind": "source_error", "value": "GLEIF answered HTTP 500"},
                {"kind": "page", "value": "HTTP 200, 500 bytes"}, "not a dict"]
    assert fetch_error_counts(evidence) == {"http_status": 2, "connect": 1, "source": 1}


def test_rated_messages_with_odd_values_are_dropped_not_raised():
    metrics = NodeMetrics(node="n1")
    for message in ({"rating": "Z", "seconds": 1.0}, {"rating": "A", "ratinginfo": "made-up"},
                    {"rating": "A", "seconds": "slow", "fetch_errors": {"nonsense": 3, "dns": -1}},
                    {"failed": True, "seconds": -5, "fetch_errors": "x"}):
        metrics.rated(message)
    assert metrics.registry.get_sample_value("sitetruth_raterd_ratings_total", {"rating": "A", "ratinginfo": ""}) == 1
    assert metrics.registry.get_sample_value("sitetruth_raterd_rating_failures_total") == 1
    assert metrics.registry.get_sample_value("sitetruth_raterd_rating_seconds_count") == 1
    assert metrics.registry.get_sample_value("sitetruth_raterd_fetch_errors_total", {"kind": "dns"}) == 0
    metrics.set_workers({"busy": 2, "nonsense": 9})
    assert metrics.registry.get_sample_value("sitetruth_raterd_workers", {"state": "busy"}) == 2
    assert sorted(WORKER_STATES) == sorted(
        s.labels["state"] for s in metrics.workers.collect()[0].samples)


@pytest.mark.parametrize("listen", ["9101", ":9101", "host:", "host:http", "host:70000", ""])
def test_malformed_listen_addresses_are_refused(listen):
    with pytest.raises(MetricsError, match="expected HOST:PORT"):
        parse_listen(listen)


def test_listen_addresses():
    assert parse_listen("127.0.0.1:9101") == ("127.0.0.1", 9101)
    assert parse_listen("[::1]:0") == ("::1", 0)
    assert parse_listen("0.0.0.0:9101") == ("0.0.0.0", 9101)
