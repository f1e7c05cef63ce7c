"""Rating details, status, metrics and health pages through the WSGI app."""

from __future__ import annotations

import json
import re
import sqlite3
import time

from lxml import html as lxml_html

from protocol import DomainStatus, JobState, Rating, RateReply
from store import ErrorRecord, StoredRating, open_store
from tests.support.fake_rater import FakeRater
from tests.support.web import EVIL, call, seed, wait_until

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


def test_not_a_domain_and_international_names(seeded_sqlite, frontend_app, scripted_broker):
    broker = scripted_broker(queued_reply)
    app = frontend_app(store=seeded_sqlite, broker=broker.endpoint)
    r = call(app, "/rating/<b>x</b>")
    assert r.status == 404 and b"<b>x</b>" not in r.body
    assert "not a domain name" in page_tree(r).text_content()
    # PATH_INFO carries UTF-8 bytes as latin-1 (PEP 3333)
    r = call(app, "/rating/" + "bücher.de".encode().decode("latin-1"))
    assert r.status == 202 and "xn--bcher-kva.de" in page_tree(r).text_content()
    assert [m.domains for m in broker.requests] == [("xn--bcher-kva.de",)]
    assert call(app, "/rating/example.com", "format=pdf").status == 400


def queued_reply(msg):
    return RateReply(req_id=msg.req_id, items=tuple(DomainStatus(d, JobState.QUEUED, position=3)
                                                    for d in msg.domains))


def test_unrated_domain_page_queues_it_and_reloads_until_rated(store_url, frontend_app, start_broker):
    seed(store_url)
    broker = start_broker(store_url)
    app = frontend_app(store=store_url, broker=broker.clients, trusted_proxies=("127.0.0.1",))
    # Queued under the same client address as the API would use: the proxied client's.
    r = call(app, "/rating/www.never-rated.com", remote="127.0.0.1", headers={"X-Forwarded-For": "198.51.100.44"})
    assert r.status == 202 and r.headers["cache-control"] == "no-store"
    tree = page_tree(r)
    assert tree.get_element_by_id("pending").get("data-state") == "queued"
    assert "Queued for rating; position 1 in the queue." in tree.text_content()
    assert "never-rated.com" in tree.text_content()
    refresh = tree.find(".//meta[@http-equiv='refresh']")
    assert refresh is not None and int(refresh.get("content")) > 0
    stats = broker.stats()
    assert [(q["ip"], q["queued"]) for q in stats["queues"]] == [("198.51.100.44", 1)]
    # Visiting again while it waits queues nothing more (the broker coalesces).
    assert call(app, "/rating/never-rated.com", remote="198.51.100.44").status == 202
    assert broker.stats()["totals"]["live"] == 1
    data = json.loads(call(app, "/rating/never-rated.com", "format=json").body)
    assert (data["rating"], data["status"], data["state"]) == ("W", "202", "queued")
    with FakeRater(broker.raters, "r1", context=broker.context):
        r = wait_until(lambda: (lambda r: r if r.status == 200 else None)(call(app, "/rating/never-rated.com")),
                       what="the rating to be stored")
    tree = page_tree(r)
    assert tree.find(".//meta[@http-equiv='refresh']") is None
    assert "Owner of never-rated.com" in tree.text_content()


def test_unrated_domain_page_with_the_broker_down_says_so_and_reloads(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite, broker_timeout=0.3, retry_after=9)
    r = call(app, "/rating/never-rated.com")
    assert r.status == 503 and r.headers["retry-after"] == "9"
    tree = page_tree(r)
    assert tree.get_element_by_id("pending").get("data-state") == "unavailable"
    assert "cannot be reached" in tree.text_content()
    assert tree.find(".//meta[@http-equiv='refresh']") is not None
    r = call(app, "/rating/never-rated.com", "format=json")
    assert r.status == 503 and json.loads(r.body)["state"] == "unavailable"


def test_domain_the_broker_refuses_gets_no_reloading_page(seeded_sqlite, frontend_app, scripted_broker):
    broker = scripted_broker(lambda m: RateReply(req_id=m.req_id, items=tuple(
        DomainStatus(d, JobState.INVALID) for d in m.domains)))
    app = frontend_app(store=seeded_sqlite, broker=broker.endpoint)
    r = call(app, "/rating/odd.com")
    assert r.status == 404 and page_tree(r).find(".//meta[@http-equiv='refresh']") is None
    assert call(app, "/rating/odd.com", "format=json").status == 404


def test_expired_rating_page_asks_for_the_refresh_it_announces(seeded_sqlite, frontend_app, scripted_broker):
    broker = scripted_broker(queued_reply)
    app = frontend_app(store=seeded_sqlite, broker=broker.endpoint)
    r = call(app, "/rating/oldshop.net", remote="198.51.100.8")
    assert r.status == 200 and "being refreshed" in page_tree(r).text_content()
    call(app, "/rating/example.com")  # fresh: nothing to ask
    assert [(m.domains, m.client_ip) for m in broker.requests] == [(("oldshop.net",), "198.51.100.8")]


def test_a_is_explained_and_two_checks_of_one_entry_are_one_row(sqlite_url, frontend_app):
    entry = "companies-house: company 01234567 'ACME WIDGETS LIMITED' (active), 1 Mill Lane, Halifax HX7 8AB"
    with open_store(sqlite_url) as s:
        s.migrate()
        s.complete([StoredRating.new("acme.co.uk", "A", "", {"name": "Acme Widgets Ltd"}, [
            {"kind": "rule", "value": "identified and confirmed", "source": "rules"},
            {"kind": "confirmation", "value": f"{entry}: name and postcode match", "method": "strong",
             "source": "companies-house"},
            {"kind": "confirmation", "value": f"{entry}: name and registration number match", "method": "strong",
             "source": "companies-house"},
            {"kind": "confirmation", "value": "OV certificate issued by Test CA to 'Acme Widgets Ltd': the "
                                              "organisation the site names", "method": "strong", "source": "tls"},
        ])])
    app = frontend_app(store=sqlite_url)
    tree = page_tree(call(app, "/rating/acme.co.uk"))
    text = tree.text_content()
    assert "Site ownership verified \u2014 The business behind the site was identified on the site and " \
           "confirmed by an independent source: companies-house, tls." in " ".join(text.split())
    confirmed = tree.xpath("//h2[.='Who confirmed it']/following-sibling::table[1]/tbody/tr")
    rows = [[td.text_content() for td in tr.findall("td")] for tr in confirmed]
    assert rows == [
        ["confirmation", entry.removeprefix("companies-house: "), "",
         "name and postcode match; name and registration number match", "companies-house"],
        ["confirmation", "OV certificate issued by Test CA to 'Acme Widgets Ltd': the organisation the site names",
         "", "strong", "tls"]]
    popup = page_tree(call(app, "/rating/acme.co.uk", "format=popup")).text_content()
    assert popup.count("ACME WIDGETS LIMITED") == 1 and "independent source" in popup
    # Q keeps the explanation of its ratinginfo.
    seed(sqlite_url)
    q = page_tree(call(app, "/rating/oldshop.net")).text_content()
    assert "no independent source confirmed it" in q and "confirmed by an independent source" not in q


def test_pages_link_to_each_other_for_operators_only(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite)
    inside = {a.get("href") for a in page_tree(call(app, "/rating/example.com", remote="10.0.0.5")).iter("a")}
    assert {"/status", "/metrics"} <= inside
    outside = {a.get("href") for a in page_tree(call(app, "/rating/example.com", remote="203.0.113.9")).iter("a")}
    assert "/status" not in outside and "/metrics" not in outside
    status_links = {a.get("href") for a in page_tree(call(app, "/status")).iter("a")}
    assert {"/metrics", "/status.json", "/rating/example.com"} <= status_links


def test_details_with_the_store_down_is_503(tmp_path, frontend_app):
    app = frontend_app(store=f"sqlite:///{tmp_path}/no/such/dir.db")
    r = call(app, "/rating/example.com")
    assert r.status == 503 and "retry-after" in r.headers


# ---------------------------------------------------------------- /status


def test_status_page_shows_queues_raters_progress_and_errors(store_url, frontend_app, start_broker):
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
        # Units a person reads at a glance, and letters coloured as on the rating page.
        summary = {dd.get("data-path"): dd.text_content() for dd in tree.iter("dd")}
        assert re.fullmatch(r"[0-9.]+ s|[0-9]+ min( [0-9]+ s)?", summary["frontend.uptime"]), summary
        assert re.fullmatch(r"[0-9.]+ s|[0-9]+ min( [0-9]+ s)?", summary["broker.broker.uptime"]), summary
        assert re.fullmatch(r"[0-9.]+ / min", summary["frontend.requests_per_min"]), summary
        assert summary["frontend.requests_per_min"] != "0 / min"
        assert re.fullmatch(r"[0-9.]+ / min", summary["broker.rates.completed_per_min"]), summary
        letters = tree.get_element_by_id("ratings").find_class("letter")
        assert {el.get("class") for el in letters} >= {"letter letter-A", "letter letter-X"}
        waited = tree.get_element_by_id("queues").findall(".//tbody/tr/td")[3].text_content()
        assert re.fullmatch(r"[0-9.]+ s", waited), waited

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


def test_healthz_says_when_the_broker_cannot_commit(seeded_sqlite, tmp_path, frontend_app, start_broker):
    """A broker whose journal is stuck (its store locked) takes no new work: /healthz says so, and why."""
    broker_store = f"sqlite:///{tmp_path}/broker.db?busy_timeout=30"
    with open_store(broker_store) as s:
        s.migrate()
    broker = start_broker(broker_store, broker_kwargs={"stall_after": 1.0})
    app = frontend_app(store=seeded_sqlite, broker=broker.clients)
    healthy = call(app, "/healthz").text
    assert "broker: ok" in healthy and "journal: ok" in healthy and "backlog 0" in healthy
    lock = sqlite3.connect(f"{tmp_path}/broker.db", isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")             # the journal's next write waits on this lock
    try:
        call(app, "/api/v3/rate", "url=stuck-shop.com")   # its enqueue cannot commit
        text = wait_until(lambda: (t := call(app, "/healthz").text) and "not taking new work" in t and t, 15,
                          "/healthz to report the stalled journal")
        assert "journal stalled" in text and "journal: stalled for" in text, text
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    wait_until(lambda: "broker: ok" in call(app, "/healthz").text, 15, "the broker to commit again")
