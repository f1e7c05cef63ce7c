"""A worker with the real rating pipeline, end to end: broker -> worker -> SitePipeline -> fixture site -> store.

The one raterd process test that uses the real :class:`raterd.pipeline.SitePipeline`:
``sitetruth-raterd`` is pointed at a loopback fixture site with ``--resolve``
(both the bare and the ``www.`` name, so nothing reaches the real DNS),
``--http-port``/``--https-port`` and the fixture CA (``--ca-bundle``); the
remote GLEIF lookup is off and the sources index is empty.
"""

from __future__ import annotations

import os

import pytest

from tests.raterd.fixtures import Site
from tests.raterd.raterd_harness import brokers, raterd, store, stored_ratings, submit  # noqa: F401

pytestmark = pytest.mark.timeout(90)

HTML = os.path.join(os.path.dirname(os.path.abspath(__file__)), "html")
DOMAIN = "oakleaf-e2e.co.uk"


def _page(name: str) -> bytes:
    with open(os.path.join(HTML, name), "rb") as f:
        return f.read()


def test_real_pipeline_rates_a_fixture_site_through_the_broker(store, brokers, raterd, fixture_server, tmp_path):
    """A shop naming its business and street address, unconfirmed: Q/unverified with its location and the
    page the address was found on, PULSEs on the way."""
    pages = {"/": _page("uk_shop_home.html"), "/contact-us/": _page("uk_shop_contact.html")}
    for host in (DOMAIN, f"www.{DOMAIN}"):
        fixture_server.add_site(host, Site(dict(pages)))
    rb = brokers(store)
    node = raterd(rb.raters, "--workers", "1", "--resolve", f"{DOMAIN}:127.0.0.1",
                  "--resolve", f"www.{DOMAIN}:127.0.0.1", "--ca-bundle", fixture_server.ca_bundle,
                  "--http-port", str(fixture_server.http_port), "--https-port", str(fixture_server.https_port),
                  "--gleif-url", "", "--sources", str(tmp_path / "no-sources.db"), "--deadline", "20",
                  pipeline=None)
    rb.wait_for(lambda s: s["totals"]["raters"] == 1, 30, "the worker to register")
    submit(rb, [DOMAIN])
    stats = rb.wait_for(lambda s: s["totals"]["live"] == 0, 40, "the rating")
    rating = stored_ratings(store, [DOMAIN]).get(DOMAIN)
    assert rating is not None, node.output()[-3000:]
    assert (rating.rating, rating.ratinginfo) == ("Q", "unverified"), (rating, node.output()[-3000:])
    assert rating.location and rating.location.get("postcode") == "HX7 8AB"
    assert any(item.get("page", "").endswith("/contact-us/") for item in rating.evidence), rating.evidence
    assert stats["counters"]["pulses"] >= 1       # coalesced to <= 10/s: a fast rating sends few
    assert stats["counters"].get("failed", 0) == 0
