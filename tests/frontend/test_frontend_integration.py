"""Frontend + real broker + rater (FakeRater) on both store back ends: W/202, then the letter."""

from __future__ import annotations

import time

from lxml import etree

from frontend.render import NAMESPACE
from tests.support.fake_rater import FakeRater
from tests.support.web import call, free_port, seed, wait_until

API = "/fcgi/rateapiv3.fcgi"
NS = {"st": NAMESPACE}


def items(reply) -> list[dict[str, str]]:
    assert reply.status == 200, reply.text
    return [dict(el.attrib) for el in etree.fromstring(reply.body).findall("st:rating", NS)]


def test_first_reply_pending_later_the_final_letter(store_url, frontend_app, start_broker):
    seed(store_url)
    broker = start_broker(store_url)
    app = frontend_app(store=store_url, broker=broker.clients)
    query = "url=http://www.fresh-site.com/ad?id=1&url=example.com&key=guest"
    first = items(call(app, API, query))
    assert (first[0]["rating"], first[0]["status"]) == ("W", "202")
    assert (first[1]["rating"], first[1]["status"]) == ("A", "200")
    # A second ask while queued is coalesced by the broker, still pending.
    assert items(call(app, API, query))[0]["status"] == "202"
    assert broker.stats()["totals"]["live"] == 1
    with FakeRater(broker.raters, "r1", context=broker.context) as rater:
        final = wait_until(lambda: (lambda it: it if it[0]["status"] == "200" else None)(items(call(app, API, query))),
                           what="the final rating")
        assert rater.jobs[0][0] == "fresh-site.com"
    assert final[0] == {"url": "http://www.fresh-site.com/ad?id=1", "domain": "www.fresh-site.com",
                        "rated_domain": "fresh-site.com", "rating": "Q",
                        "ratinginfo": "unverified", "status": "200", "name": "Owner of fresh-site.com"}


def test_expired_rating_refreshed_in_the_background(store_url, frontend_app, start_broker):
    seed(store_url)
    broker = start_broker(store_url)
    app = frontend_app(store=store_url, broker=broker.clients)
    with FakeRater(broker.raters, "r1", context=broker.context):
        old = items(call(app, API, "url=oldshop.net"))[0]
        assert (old["rating"], old["status"], old["name"]) == ("Q", "200", "Old Shop")
        wait_until(lambda: items(call(app, API, "url=oldshop.net"))[0].get("name") == "Owner of oldshop.net",
                   what="the refreshed rating")


def test_per_ip_cap_is_502_for_that_client_only(sqlite_url, frontend_app, start_broker):
    seed(sqlite_url)
    broker = start_broker(sqlite_url, max_per_ip=3)
    app = frontend_app(store=sqlite_url, broker=broker.clients)
    assert call(app, API, "url=a1.com&url=a2.com&url=a3.com", remote="198.51.100.1").status == 200
    r = call(app, API, "url=a4.com", remote="198.51.100.1")
    assert r.status == 502 and "limit is 3" in r.text
    # Stored ratings need no queue slot, and other clients are not affected.
    assert call(app, API, "url=example.com", remote="198.51.100.1").status == 200
    assert call(app, API, "url=a4.com", remote="198.51.100.2").status == 200


def test_broker_coming_up_later_is_used_after_the_backoff(sqlite_url, frontend_app, start_broker):
    seed(sqlite_url)
    port = free_port()
    app = frontend_app(store=sqlite_url, broker=f"tcp://127.0.0.1:{port}", broker_timeout=0.5, broker_backoff=0.5)
    assert call(app, API, "url=late.com").status == 503
    start_broker(sqlite_url, bind_clients=f"tcp://127.0.0.1:{port}")
    time.sleep(0.6)
    r = wait_until(lambda: (lambda r: r if r.status == 200 else None)(call(app, API, "url=late.com")),
                   timeout=10, what="the broker to be used")
    assert items(r)[0]["status"] == "202"


def test_pending_items_carry_their_place_in_the_clients_queue(store_url, frontend_app, start_broker):
    seed(store_url)
    broker = start_broker(store_url)  # no rater: everything stays queued
    app = frontend_app(store=store_url, broker=broker.clients)
    first = items(call(app, API, "url=q1.com&url=example.com&url=www.q2.com&url=q3.com", remote="198.51.100.61"))
    assert [(i["domain"], i["status"], i.get("position")) for i in first] == [
        ("q1.com", "202", "1"), ("example.com", "200", None), ("www.q2.com", "202", "2"), ("q3.com", "202", "3")]
    # Another client's queue is its own: its first domain is first there.
    other = items(call(app, API, "url=r1.com", remote="198.51.100.62"))
    assert other[0]["position"] == "1"
    # Asking again reports the same place; a more urgent request goes ahead within the client's own share.
    assert items(call(app, API, "url=q3.com", remote="198.51.100.61"))[0]["position"] == "3"
    urgent = items(call(app, API, "url=q0.com&priority=0", remote="198.51.100.61"))
    assert urgent[0]["position"] == "1"
    assert items(call(app, API, "url=q3.com", remote="198.51.100.61"))[0]["position"] == "4"
