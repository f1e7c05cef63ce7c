"""Rating details, status, metrics and health pages through the WSGI app."""

from __future__ import annotations

import json
import time

from lxml import html as lxml_html

from protocol import Rating
from store import ErrorRecord, open_store
from tests.support.fake_rater import FakeRater
from tests.support.web import EVIL, call, wait_until

API = "/fcgi/rateapiv3.fcgi"


def page_tree(reply):
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in reply.headers["content-security-policy"]
    return lxml_html.fromstring(reply.body)


# ---------------------------------------------------------------- /rating/<domain>


def test_details_page_shows_evidence_escaped(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite)
    r = call(app, "/rating/www.example.com")
    assert r.status == 200
    assert EVIL.encode() not in r.body and b"<script>alert" not in r.body
    tree = page_tree(r)
    text = tree.text_content()
    assert "Site ownership verified" in text
    assert EVIL in text  # shown as text, exactly
    assert "Companies House 01234567" in text and "companies_house" in text
    assert "1 High Street" in text and "Springfield" in text
    links = {a.get("href"): a.get("rel") for a in tree.iter("a")}
    assert links.get("https://www.example.com/about") == "nofollow noopener noreferrer"
    assert "javascript:alert(1)" not in links  # shown, never linked
    assert "javascript:alert(1)" in text
    headings = [h.text_content() for h in tree.iter("h2")]
    assert headings.index("Who confirmed it") < headings.index("Business found on the site")


def test_popup_is_compact_and_links_to_the_full_page(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite)
    r = call(app, "/rating/example.com", "format=popup", script_name="/st")
    tree = page_tree(r)
    assert tree.find("body").get("class") == "popup"
    assert "Example Widgets Ltd" in tree.text_content()
    assert [a.get("href") for a in tree.iter("a")] == ["/st/rating/example.com"]
    assert len(r.body) < len(call(app, "/rating/example.com").body)


def test_details_json_and_expired_note(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite)
    data = json.loads(call(app, "/rating/example.com", "format=json").body)
    assert data["rating"] == "A" and data["location"]["city"] == "Springfield"
    assert data["evidence"][1]["value"] == EVIL
    assert "expired and is being refreshed" in page_tree(call(app, "/rating/oldshop.net")).text_content()


def test_not_rated_not_a_domain_and_international_names(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite)
    r = call(app, "/rating/never-rated.com")
    assert r.status == 404 and "not been rated yet" in page_tree(r).text_content()
    r = call(app, "/rating/<b>x</b>")
    assert r.status == 404 and b"<b>x</b>" not in r.body
    # PATH_INFO carries UTF-8 bytes as latin-1 (PEP 3333)
    r = call(app, "/rating/" + "bücher.de".encode().decode("latin-1"))
    assert r.status == 404 and "xn--bcher-kva.de" in page_tree(r).text_content()
    assert call(app, "/rating/example.com", "format=pdf").status == 400


def test_details_with_the_store_down_is_503(tmp_path, frontend_app):
    app = frontend_app(store=f"sqlite:///{tmp_path}/no/such/dir.db")
    r = call(app, "/rating/example.com")
    assert r.status == 503 and "retry-after" in r.headers


# ---------------------------------------------------------------- /status


def test_status_page_shows_queues_raters_progress_and_errors(store_url, frontend_app, start_broker):
    from tests.support.web import seed

    seed(store_url)
    with open_store(store_url) as s:
        s.append_errors([ErrorRecord(at=time.time(), host="rater-7", process="raterd[42]", component="raterd",
                                     message="boom <b>", traceback="Traceback ...\n  File <x>\nValueError: <boom>",
                                     domain="crashy.com")])
    broker = start_broker(store_url)
    app = frontend_app(store=store_url, broker=broker.clients)
    with FakeRater(broker.raters, "busy-1", mode="sleep:30", context=broker.context):
        wait_until(lambda: broker.stats()["totals"]["raters"] == 1, what="the rater to register")
        assert call(app, API, "url=slowsite.com&url=queued-one.com", remote="198.51.100.20").status == 200
        wait_until(lambda: broker.stats()["totals"]["in_flight"] == 1, what="a job in flight")
        wait_until(lambda: broker.stats()["raters"][0]["progress"], what="rater progress")
        r = call(app, "/status")
        assert r.status == 200 and r.headers.get("x-frame-options") == "DENY"
        tree = page_tree(r)
        text = tree.text_content()
        assert "198.51.100.20" in text, tree.get_element_by_id("queues").text_content()  # the client queue
        assert "slowsite.com" in text and "fetching 1/5" in text  # the rater's job and progress
        assert "boom <b>" in text and b"boom <b>" not in r.body
        tb = tree.get_element_by_id("errors").find(".//details/pre")
        assert tb is not None and "ValueError: <boom>" in tb.text_content()
        assert tree.get_element_by_id("ratings").text_content().count("example.com") >= 1
        assert tree.find(".//script").get("src") == "/static/status.js"

        data = json.loads(call(app, "/status.json").body)
        assert data["broker"]["totals"]["in_flight"] == 1
        assert data["broker"]["queues"][0]["ip"] == "198.51.100.20"
        assert data["recent_errors"][0]["traceback"].endswith("ValueError: <boom>")
        assert data["frontend"]["requests"] >= 2 and data["broker_error"] == ""


def test_status_with_broker_down_still_shows_the_store(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite)
    r = call(app, "/status")
    assert r.status == 200
    tree = page_tree(r)
    assert "Broker:" in tree.get_element_by_id("problems").text_content()
    assert "example.com" in tree.get_element_by_id("ratings").text_content()
    assert "not available" in tree.get_element_by_id("raters").text_content()


def test_internal_pages_only_for_the_operators_network(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite, trusted_proxies=("127.0.0.1",))
    for path in ("/status", "/status.json", "/metrics"):
        assert call(app, path, remote="203.0.113.5").status == 403
        assert call(app, path, remote="10.1.2.3").status == 200
        # a public client behind our own proxy is still public
        assert call(app, path, remote="127.0.0.1", headers={"X-Forwarded-For": "203.0.113.5"}).status == 403
    for path in ("/rating/example.com", "/healthz", "/static/frontend.css"):
        assert call(app, path, remote="203.0.113.5").status == 200
    narrow = frontend_app(store=seeded_sqlite, internal_allow=("192.0.2.0/24",))
    assert call(narrow, "/status", remote="127.0.0.1").status == 403
    assert call(narrow, "/status", remote="192.0.2.9").status == 200


def test_static_assets_and_index(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite)
    js = call(app, "/static/status.js")
    assert js.status == 200 and js.headers["content-type"].startswith("text/javascript")
    assert b"textContent" in js.body and b"innerHTML" not in js.body
    assert call(app, "/static/frontend.css").headers["content-type"].startswith("text/css")
    assert call(app, "/static/../app.py").status == 404
    assert call(app, "/").status == 200


# ---------------------------------------------------------------- /metrics and /healthz


def test_metrics_count_requests_latency_items_and_broker_errors(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite, broker_timeout=0.3)
    call(app, API, "url=example.com&url=1.2.3.4")
    call(app, API, "url=never-seen.com")  # broker down and nothing known -> 503
    call(app, API, "url=x&priority=x")
    r = call(app, "/metrics")
    assert r.status == 200 and r.headers["content-type"].startswith("text/plain; version=")
    text = r.text
    assert 'sitetruth_frontend_requests_total{endpoint="rate",status="200"} 1.0' in text
    assert 'sitetruth_frontend_requests_total{endpoint="rate",status="503"} 1.0' in text
    assert 'sitetruth_frontend_requests_total{endpoint="rate",status="400"} 1.0' in text
    assert 'sitetruth_frontend_request_seconds_count{endpoint="rate"} 3.0' in text
    assert 'sitetruth_frontend_request_seconds_bucket{endpoint="rate",le="0.005"}' in text
    assert f'sitetruth_frontend_items_total{{rating="{Rating.A}",status="200"}} 1.0' in text
    assert 'sitetruth_frontend_broker_errors_total{kind="unreachable"} 1.0' in text
    assert "sitetruth_frontend_cache_entries 1.0" in text


def test_healthz_checks_the_store_and_reports_the_broker(seeded_sqlite, tmp_path, frontend_app, start_broker):
    r = call(frontend_app(store=seeded_sqlite), "/healthz")
    assert r.status == 200 and "store: ok" in r.text and "broker: not answering" in r.text
    broker = start_broker(seeded_sqlite)
    assert "broker: ok" in call(frontend_app(store=seeded_sqlite, broker=broker.clients), "/healthz").text
    bare = f"sqlite:///{tmp_path}/unmigrated.db"
    with open_store(bare) as s:
        s.ping()
    r = call(frontend_app(store=bare), "/healthz")
    assert r.status == 503 and "migrate" in r.text
    assert call(frontend_app(store=f"sqlite:///{tmp_path}/no/dir.db"), "/healthz").status == 503
