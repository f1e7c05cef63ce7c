"""API v3 contract through the WSGI app: fields, order, statuses, errors, broker outcomes.

The broker side is a scripted ROUTER peer here (what the frontend sent is
recorded; replies are chosen per test); test_frontend_integration.py runs
the same paths against a real broker and rater.
"""

from __future__ import annotations

import json
import time

import pytest
from lxml import etree

from frontend.render import NAMESPACE
from protocol import DomainStatus, ErrorReply, JobState, Overload, RateReply, RateRequest, Unavailable
from store import StoredRating, open_store
from tests.support.web import LOCATION, call, seed

API = "/fcgi/rateapiv3.fcgi"
NS = {"st": NAMESPACE}


def queued(msg):
    """Scripted broker: every domain queued, the first one being rated."""
    if isinstance(msg, RateRequest):
        items = [DomainStatus(d, JobState.RATING if i == 0 else JobState.QUEUED, position=i,
                              progress="fetching 1/5" if i == 0 else "") for i, d in enumerate(msg.domains)]
        return RateReply(req_id=msg.req_id, items=tuple(items))
    return None


def xml_items(reply):
    assert reply.status == 200, reply.text
    assert reply.headers["content-type"] == "text/xml; charset=utf-8"
    root = etree.fromstring(reply.body)
    assert root.nsmap == {"sitetruth": NAMESPACE}
    return [dict(el.attrib) for el in root.findall("st:rating", NS)]


def json_items(reply):
    assert reply.status == 200, reply.text
    assert reply.headers["content-type"] == "application/json"
    return json.loads(reply.body)


def assert_text_error(reply, status, *words):
    assert reply.status == status, reply.text
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    assert 0 < len(reply.body) < 400
    for w in words:
        assert w in reply.text


# ---------------------------------------------------------------- stored ratings


def test_stored_ratings_on_both_back_ends(store_url, frontend_app):
    seed(store_url)
    app = frontend_app(store=store_url)
    items = xml_items(call(app, API, "url=https://www.example.com/shop?x=1&url=shadyshop.org&key=guest"))
    assert items == [
        {"url": "https://www.example.com/shop?x=1", "domain": "www.example.com", "rated_domain": "example.com",
         "rating": "A", "ratinginfo": "", "status": "200", **LOCATION},
        {"url": "shadyshop.org", "domain": "shadyshop.org", "rated_domain": "shadyshop.org", "rating": "X",
         "ratinginfo": "no_location", "status": "200"},
    ]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_each_item_is_filed_under_the_host_the_client_sent(store_url, frontend_app, fmt):
    # The Ad Limiter add-on keeps three labels under two-letter country TLDs
    # and looks each reply item up by its "domain": it must find the string it sent.
    seed(store_url)
    with open_store(store_url) as s:
        s.complete([StoredRating.new("example.de", "Q", "unverified")])
    app = frontend_app(store=store_url)
    reply = call(app, API, f"url=shop.example.de&url=www.example.com&url=HTTPS://User@Shop.Example.DE.:8443/x"
                           f"&url=b%C3%BCcher.example.com&format={fmt}")
    items = xml_items(reply) if fmt == "xml" else json_items(reply)
    by_domain = {item["domain"]: item for item in items}
    assert by_domain["shop.example.de"]["rated_domain"] == "example.de"
    assert by_domain["shop.example.de"]["rating"] == "Q"
    assert by_domain["www.example.com"]["rated_domain"] == "example.com"
    assert by_domain["www.example.com"]["rating"] == "A"
    # lower case, no userinfo, port, path or trailing dot; punycode for an IDN
    assert [i["domain"] for i in items[2:]] == ["shop.example.de", "xn--bcher-kva.example.com"]
    assert [i["rated_domain"] for i in items[2:]] == ["example.de", "example.com"]


def test_json_format_has_the_same_fields(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite)
    items = json_items(call(app, "/api/v3/rate", "url=example.com&format=json"))
    assert items == [{"url": "example.com", "domain": "example.com", "rated_domain": "example.com", "rating": "A",
                      "ratinginfo": "", "status": "200", **LOCATION}]


def test_final_replies_may_be_cached_and_called_from_any_page(seeded_sqlite, frontend_app):
    r = call(frontend_app(store=seeded_sqlite), API, "url=example.com")
    assert r.headers["cache-control"].startswith("public, max-age=")
    assert r.headers["access-control-allow-origin"] == "*"
    assert int(r.headers["content-length"]) == len(r.body)


def test_unreadable_urls_are_items_not_errors(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite)
    items = xml_items(call(app, API, "url=http://192.0.2.1/x&url=co.uk&url=mailto:a@b.c&url=localhost&url="))
    assert [(i["rating"], i["ratinginfo"], i["status"], i["domain"], i["rated_domain"]) for i in items] == [
        ("U", "bad_url", "200", "", ""), ("U", "no_domain", "200", "", ""), ("U", "bad_url", "200", "", ""),
        ("U", "no_domain", "200", "", ""), ("U", "bad_url", "200", "", "")]


# ---------------------------------------------------------------- misses and the broker


def test_fifty_urls_answered_in_order_with_one_broker_request(seeded_sqlite, frontend_app, scripted_broker):
    broker = scripted_broker(queued)
    app = frontend_app(store=seeded_sqlite, broker=broker.endpoint)
    # Every fifth url repeats the unknown domain of three urls before, as www.*: asked for once.
    urls = [["example.com", f"new{i}.com", "10.0.0.1", "shadyshop.org", f"www.new{i - 3}.com"][i % 5]
            for i in range(50)]
    r = call(app, API, "&".join(f"url={u}" for u in urls) + "&priority=4", remote="198.51.100.7")
    items = xml_items(r)
    assert [i["url"] for i in items] == urls
    for url, item in zip(urls, items, strict=True):
        if url == "example.com":
            assert (item["rating"], item["status"]) == ("A", "200")
        elif url == "10.0.0.1":
            assert (item["rating"], item["ratinginfo"], item["status"]) == ("U", "bad_url", "200")
        elif url == "shadyshop.org":
            assert (item["rating"], item["status"]) == ("X", "200")
        else:
            assert (item["rating"], item["ratinginfo"], item["status"]) == ("W", "", "202")
            assert (item["domain"], item["rated_domain"]) == (url, url.removeprefix("www."))
    assert r.headers["cache-control"] == "no-store"
    assert len(broker.requests) == 1
    req = broker.requests[0]
    # Each unknown domain once, in the order of its first url.
    assert list(req.domains) == [f"new{i}.com" for i in range(1, 50, 5)]
    assert (req.client_ip, req.priority) == ("198.51.100.7", 4)


def test_pending_items_carry_the_brokers_progress(seeded_sqlite, frontend_app, scripted_broker):
    # What the frontend passes on; the positions a real broker gives are
    # asserted in test_frontend_integration.py.
    broker = scripted_broker(queued)
    app = frontend_app(store=seeded_sqlite, broker=broker.endpoint)
    items = json_items(call(app, API, "url=a-new.com&url=b-new.com&format=json"))
    assert items[0] == {"url": "a-new.com", "domain": "a-new.com", "rated_domain": "a-new.com", "rating": "W",
                        "ratinginfo": "", "status": "202", "progress": "fetching 1/5"}
    assert items[1]["position"] == 1


def test_domain_the_broker_refuses_is_no_domain(seeded_sqlite, frontend_app, scripted_broker):
    broker = scripted_broker(lambda m: RateReply(req_id=m.req_id, items=tuple(
        DomainStatus(d, JobState.INVALID) for d in m.domains)))
    items = xml_items(call(frontend_app(store=seeded_sqlite, broker=broker.endpoint), API, "url=odd.com"))
    assert (items[0]["rating"], items[0]["ratinginfo"], items[0]["status"]) == ("U", "no_domain", "200")


def test_broker_down_and_nothing_known_is_503_with_retry_after(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite, retry_after=7, broker_timeout=0.3)
    r = call(app, API, "url=never-seen.com&url=www.never-seen.com&url=other-unknown.org&url=1.2.3.4")
    assert_text_error(r, 503, "unavailable")
    assert r.headers["retry-after"] == "7"
    assert r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_broker_down_with_known_and_unknown_gives_letters_and_w(seeded_sqlite, frontend_app, fmt):
    app = frontend_app(store=seeded_sqlite, broker_timeout=0.3, broker_backoff=30)
    query = f"url=example.com&url=never-seen.com&url=oldshop.net&url=1.2.3.4&format={fmt}"
    for _ in range(2):  # the first waits for the broker's timeout, the second is inside the back-off
        r = call(app, API, query)
        items = xml_items(r) if fmt == "xml" else json_items(r)
        assert [(i["domain"], i["rating"], i["status"]) for i in items] == [
            ("example.com", "A", "200"), ("never-seen.com", "W", "202"), ("oldshop.net", "Q", "200"),
            ("", "U", "200")]
        assert r.headers["cache-control"] == "no-store"  # the client must ask again for the W
    assert call(app, API, "url=never-seen.com").status == 503


def test_broker_down_but_everything_stored_is_200(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite, broker_timeout=0.3)
    urls = ["example.com", "www.example.com", "shadyshop.org", "oldshop.net", "1.2.3.4"] * 4
    items = xml_items(call(app, API, "&".join(f"url={u}" for u in urls)))
    assert len(items) == 20 and all(i["status"] == "200" for i in items)
    # The expired one is served with its old letter although its refresh could not be queued.
    assert [i["rating"] for i in items[:5]] == ["A", "A", "X", "Q", "U"]


def test_expired_rating_served_with_old_letter_and_refresh_requested(seeded_sqlite, frontend_app, scripted_broker):
    broker = scripted_broker(queued)
    app = frontend_app(store=seeded_sqlite, broker=broker.endpoint)
    items = xml_items(call(app, API, "url=oldshop.net&url=example.com"))
    assert items[0] == {"url": "oldshop.net", "domain": "oldshop.net", "rated_domain": "oldshop.net", "rating": "Q",
                        "ratinginfo": "unverified", "status": "200", "name": "Old Shop"}
    assert [r.domains for r in broker.requests] == [("oldshop.net",)]


def test_overload_is_502(seeded_sqlite, frontend_app, scripted_broker):
    broker = scripted_broker(lambda m: Overload(req_id=m.req_id, client_ip=m.client_ip, outstanding=100, limit=100))
    app = frontend_app(store=seeded_sqlite, broker=broker.endpoint)
    assert_text_error(call(app, API, "url=new.com"), 502, "100")
    # Only a refresh was refused: the old letter is still the answer.
    assert xml_items(call(app, API, "url=oldshop.net"))[0]["rating"] == "Q"


def test_broker_unavailable_reply_is_503_with_its_retry_after(seeded_sqlite, frontend_app, scripted_broker):
    broker = scripted_broker(lambda m: Unavailable(req_id=m.req_id, reason="store down", retry_after=16.2))
    r = call(frontend_app(store=seeded_sqlite, broker=broker.endpoint), API, "url=new.com")
    assert_text_error(r, 503)
    assert r.headers["retry-after"] == "17"
    assert "store down" not in r.text  # internal detail stays internal


@pytest.mark.parametrize("answer", [
    lambda m: ErrorReply(req_id=m.req_id, code="bad_request", message="nope"),
    lambda m: [b"garbage", b"\x00", b"\xff"],
    lambda m: None,  # silence: the frontend's timeout
])
def test_broken_broker_answers_are_503_then_back_off(seeded_sqlite, frontend_app, scripted_broker, answer):
    broker = scripted_broker(answer)
    app = frontend_app(store=seeded_sqlite, broker=broker.endpoint, broker_timeout=0.5, broker_backoff=30)
    assert_text_error(call(app, API, "url=new.com"), 503)
    asked = len(broker.requests)
    assert asked == 1
    started = time.monotonic()
    assert_text_error(call(app, API, "url=new2.com"), 503)
    # Silence backs off (no broker connected is the same); a bad answer does not.
    if answer(RateRequest(1, "x", 1, ("a.com",))) is None:
        assert len(broker.requests) == asked and time.monotonic() - started < 0.2
    else:
        assert len(broker.requests) == asked + 1


def test_store_failure_makes_misses_not_errors_until_it_is_back(tmp_path, frontend_app, scripted_broker):
    broker = scripted_broker(queued)
    url = f"sqlite:///{tmp_path}/later/store.db"
    app = frontend_app(store=url, broker=broker.endpoint)
    items = xml_items(call(app, API, "url=example.com"))
    assert (items[0]["rating"], items[0]["status"]) == ("W", "202")
    metrics = call(app, "/metrics").text
    assert 'sitetruth_frontend_store_errors_total{operation="lookup_ratings"} 1.0' in metrics
    (tmp_path / "later").mkdir()
    seed(url)
    time.sleep(1.1)  # the store is left alone for a second after a failure
    assert xml_items(call(app, API, "url=example.com"))[0]["rating"] == "A"


# ---------------------------------------------------------------- request errors


def test_priority_and_format_errors_are_400(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite)
    assert_text_error(call(app, API, "url=example.com&priority=-1"), 400, "priority")
    assert_text_error(call(app, API, "url=example.com&format=yaml"), 400, "format")
    assert_text_error(call(app, API, "key=guest"), 400, "url")


def test_too_many_urls_or_too_long_is_414(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite, max_urls=30)
    assert xml_items(call(app, API, "&".join(["url=example.com"] * 30)))
    assert_text_error(call(app, API, "&".join(["url=example.com"] * 31)), 414, "30")
    assert_text_error(call(app, API, "url=" + "a" * 100_000 + ".com"), 414, "too long")


def test_keys_open_by_default(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite)
    for qs in ("url=example.com", "url=example.com&key=guest", "url=example.com&key=adrater"):
        assert call(app, API, qs).status == 200


def test_configured_keys_refuse_others_with_403(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite, keys=frozenset({"adrater", "guest"}))
    assert call(app, API, "url=example.com&key=adrater").status == 200
    assert call(app, API, "url=example.com").status == 200  # no key is "guest"
    assert_text_error(call(app, API, "url=example.com&key=stolen"), 403, "key")
    strict = frontend_app(store=seeded_sqlite, keys=frozenset({"adrater"}))
    assert_text_error(call(strict, API, "url=example.com"), 403)
    assert_text_error(call(strict, API, "url=example.com&key=guest"), 403)


def test_other_methods_paths_and_head(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite)
    r = call(app, API, "url=example.com", method="POST")
    assert_text_error(r, 405)
    assert r.headers["allow"] == "GET, HEAD"
    assert_text_error(call(app, "/fcgi/rateapiv2.fcgi", "url=example.com"), 404)
    head = call(app, API, "url=example.com", method="HEAD")
    assert head.status == 200 and head.body == b"" and int(head.headers["content-length"]) > 100


# ---------------------------------------------------------------- hostile input


HOSTILE = [
    b"url=%00%01%02%1F%7F.com",                      # control characters
    b"url=\x01\x02raw.com",                          # raw control bytes in the query
    b"url=%FF%FE%FDbad.com&url=\xc3\x28.com",        # invalid UTF-8, escaped and raw
    b"url=%3C%2Fsitetruth%3Aratings%3E%26amp%3B%22%27.com",  # XML metacharacters
    b"url=%ED%A0%80.com",                            # a UTF-8 encoded surrogate
    b"url=%EF%BF%BE%EF%BF%BF.com",                   # U+FFFE U+FFFF
    b"url=" + b"x" * 10_000 + b".com",               # long, but under the query limit
    b"url=example.com%00.evil.com&url=exa%0Ample.com",
]


@pytest.mark.parametrize("query", HOSTILE)
@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_hostile_bytes_give_well_formed_replies(seeded_sqlite, frontend_app, query, fmt):
    app = frontend_app(store=seeded_sqlite, broker_timeout=0.3)
    r = call(app, API, query + b"&format=" + fmt.encode())
    items = xml_items(r) if fmt == "xml" else json_items(r)
    assert len(items) == query.count(b"url=")
    for item in items:
        assert (item["rating"], item["status"]) == ("U", "200")
        assert item["ratinginfo"] in ("bad_url", "no_domain")


def test_hostile_url_echo_is_escaped_and_readable(seeded_sqlite, frontend_app):
    app = frontend_app(store=seeded_sqlite)
    r = call(app, API, b"url=%3C%2Fsitetruth%3Aratings%3E%26%22%27%00x")
    assert b"</sitetruth:ratings>&" not in r.body.split(b"\n", 2)[2][:60]
    assert xml_items(r)[0]["url"] == "</sitetruth:ratings>&\"'\ufffdx"


# ---------------------------------------------------------------- client address


def test_x_forwarded_for_only_from_trusted_proxies(seeded_sqlite, frontend_app, scripted_broker):
    broker = scripted_broker(queued)
    plain = frontend_app(store=seeded_sqlite, broker=broker.endpoint)
    proxied = frontend_app(store=seeded_sqlite, broker=broker.endpoint, trusted_proxies=("127.0.0.0/8",))
    xff = {"X-Forwarded-For": "203.0.113.66, 198.51.100.9"}
    call(plain, API, "url=a-new.com", remote="127.0.0.1", headers=xff)
    call(proxied, API, "url=a-new.com", remote="127.0.0.1", headers=xff)
    call(proxied, API, "url=a-new.com", remote="192.0.2.50", headers=xff)
    call(proxied, API, "url=a-new.com", remote="2001:db8:5:6:7::1")
    assert [r.client_ip for r in broker.requests] == ["127.0.0.1", "198.51.100.9", "192.0.2.50", "2001:db8:5:6::/64"]


# ---------------------------------------------------------------- the cache


def test_cache_serves_within_ttl_then_rereads(sqlite_url, frontend_app):
    seed(sqlite_url)
    app = frontend_app(store=sqlite_url, cache_ttl=0.5)
    assert xml_items(call(app, API, "url=shadyshop.org"))[0]["rating"] == "X"
    with open_store(sqlite_url) as s:
        s.complete([StoredRating.new("shadyshop.org", "Q", "unverified")])
    assert xml_items(call(app, API, "url=shadyshop.org"))[0]["rating"] == "X"  # cached
    time.sleep(0.6)
    assert xml_items(call(app, API, "url=shadyshop.org"))[0]["rating"] == "Q"
    metrics = call(app, "/metrics").text
    assert 'sitetruth_frontend_cache_lookups_total{result="hit"} 1.0' in metrics
    assert 'sitetruth_frontend_cache_lookups_total{result="miss"} 2.0' in metrics


def test_a_cached_rating_is_never_served_past_its_expiry(sqlite_url, frontend_app, scripted_broker):
    with open_store(sqlite_url) as s:
        s.migrate()
        s.complete([StoredRating.new("shortlived.com", "A", ttl=1.0)])
    broker = scripted_broker(queued)
    app = frontend_app(store=sqlite_url, broker=broker.endpoint, cache_ttl=60)
    call(app, API, "url=shortlived.com")
    assert broker.requests == []
    time.sleep(1.1)
    assert xml_items(call(app, API, "url=shortlived.com"))[0]["rating"] == "A"
    assert [r.domains for r in broker.requests] == [("shortlived.com",)]
