"""Hostile and broken sites through the whole pipeline: each gets a defined rating within the deadline.

Covered: redirect loops, redirects to private addresses
and IP literals, names a hostile DNS points at 10.x, 127.x, 169.254.x,
100.64.x and ::ffff:127.0.0.1, a server that trickles one byte a second, one
that never answers, a 50 MB page, a 10 GiB gzip bomb, malformed HTML, an
unknown charset, non-HTML content.  One :class:`SitePipeline` rates them all in turn, as a
worker would, and still rates a normal site correctly afterwards.

Site names are real-looking (``.com``/``.co.uk``) and mapped by operator
overrides (trusted) to the fixture server; the "evil" names are answered by
a fake DNS (untrusted), so the SSRF guard applies to them.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator

import pytest

from protocol.vocabulary import Rating, RatingInfo
from raterd.pipeline import RaterSettings, RatingOutcome, SitePipeline
from tests.raterd.corpus import matches
from tests.raterd.corpus._html import page
from tests.raterd.fixtures import FakeDNS, FixtureServer, Response, Site, hostile

DEADLINE = 2.5
SLACK = 0.5  # rate() returns within the deadline plus this (building the outcome, a loaded machine)

GOOD_HOME = page("Fine Goods", "<h1>Fine goods</h1><p class='price'>£10.00</p><button>Add to basket</button>"
                 "<h2>Registered office</h2><p>Fine Goods Ltd<br>4 Market Square<br>Oxford<br>OX1 3AA</p>",
                 links=(("/contact", "Contact"),), footer="<p>&copy; 2024 Fine Goods Ltd</p>")

# Untrusted answers of a hostile DNS: every one of these must be refused.
EVIL_DNS = {
    "ten-net-shop.com": ["10.1.2.3"],
    "loopback-shop.com": ["127.0.0.1"],
    "metadata-shop.com": ["169.254.169.254"],
    "cgnat-shop.com": ["100.64.0.1"],
    "mapped-shop.com": ["::ffff:127.0.0.1"],
    "intranet.hostile-corp.com": ["10.0.0.7"],
}


def _sites(server: FixtureServer) -> dict[str, Site]:
    port = server.http_port
    return {
        "redirect-loop-shop.com": Site({"/": hostile.redirect("/loop/a"), **hostile.redirect_loop()}),
        "long-redirects-shop.com": Site(hostile.redirect_chain(10, "/end", prefix="/r") | {"/": hostile.redirect("/r/0")}),
        "to-intranet-shop.com": Site({"/": hostile.redirect(f"http://intranet.hostile-corp.com:{port}/admin")}),
        "to-literal-shop.com": Site({"/": hostile.redirect(f"http://127.0.0.1:{port}/")}),
        "to-metadata-shop.com": Site({"/": hostile.redirect(f"http://169.254.169.254:{port}/latest/meta-data/")}),
        "trickle-shop.com": Site({"/": hostile.trickle(b"<html><body>" + b"x" * 100 + b"</body></html>", rate=1.0)}),
        "trickle-robots-shop.com": Site({"/robots.txt": hostile.trickle(b"User-agent: *\nAllow: /\n", rate=1.0),
                                         "/": GOOD_HOME}),
        "stall-shop.com": Site({"/robots.txt": Response(body=b"", delay=60.0), "/": GOOD_HOME}),
        "huge-page-shop.com": Site({"/": hostile.huge_page(50 * hostile.MIB)}),
        "gzip-bomb-shop.com": Site({"/": hostile.gzip_bomb()}),
        "malformed-shop.com": Site({"/": hostile.malformed_html()}),
        "nul-page-shop.com": Site({"/": Response(body=b"<html>" + bytes(5000) + b"</html>")}),
        "pdf-shop.com": Site({"/": hostile.non_html("pdf")}),
        "png-undeclared-shop.com": Site({"/": hostile.non_html("png", declared=False)}),
        "json-shop.com": Site({"/": hostile.non_html("json")}),
        "server-error-shop.com": Site({"/robots.txt": Response(503, b"busy"), "/": GOOD_HOME}),
        # Hostile identity pages on an otherwise good site: they cost themselves, not the rating.
        "slow-contact-shop.co.uk": Site({"/": GOOD_HOME, "/contact": hostile.trickle(b"<p>" + b"y" * 100, rate=1.0)}),
        "bad-contact-shop.co.uk": Site({"/": GOOD_HOME, "/contact": hostile.redirect(
            f"http://intranet.hostile-corp.com:{port}/contact")}),
        "bomb-contact-shop.co.uk": Site({"/": GOOD_HOME, "/contact": hostile.gzip_bomb()}),
        "bogus-charset-shop.co.uk": Site({"/": Response(body=GOOD_HOME.replace("Fine Goods Ltd", "Brötchen Goods Ltd")
                                                        .encode("utf-8"), content_type="text/html; charset=x-bogus-42")}),
        "fine-goods.co.uk": Site({"/": GOOD_HOME}),
    }


@pytest.fixture(scope="module")
def pipeline(fixture_server: FixtureServer) -> Iterator[SitePipeline]:
    for name, site in _sites(fixture_server).items():
        fixture_server.add_site(name, site)
    resolve = tuple(f"{name}:127.0.0.1" for name in _sites(fixture_server))
    settings = RaterSettings(resolve=resolve, ca_bundle=fixture_server.ca_bundle, gleif_url="",
                             sources="/nonexistent/sitetruth-sources.db", deadline=DEADLINE,
                             http_port=fixture_server.http_port, https_port=fixture_server.https_port)
    with SitePipeline(settings, system_lookup=FakeDNS(EVIL_DNS)) as rater:
        yield rater


def rate(pipeline: SitePipeline, domain: str) -> RatingOutcome:
    started = time.monotonic()
    outcome = pipeline.rate(domain)
    took = time.monotonic() - started
    assert took < DEADLINE + SLACK, f"{domain} took {took:.2f} s"
    return outcome


def has(outcome: RatingOutcome, **pattern: str) -> bool:
    return any(matches(pattern, item) for item in outcome.evidence)


CASES = [
    # domain, rating, ratinginfo, an evidence item that says why
    ("redirect-loop-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~redirect loop"}),
    ("long-redirects-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~more than 5 redirects"}),
    ("to-intranet-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~non-public address 10.0.0.7"}),
    ("to-literal-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~IP address literal"}),
    ("to-metadata-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~IP address literal"}),
    ("ten-net-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~non-public address 10.1.2.3"}),
    ("loopback-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~non-public address 127.0.0.1"}),
    ("metadata-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~non-public address 169.254.169.254"}),
    ("cgnat-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~non-public address 100.64.0.1"}),
    ("mapped-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~non-public address ::ffff:127.0.0.1"}),
    ("trickle-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~deadline"}),
    ("trickle-robots-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~deadline"}),
    ("stall-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~deadline"}),
    ("huge-page-shop.com", "U", "non_commercial", {"kind": "page", "value": "~1000000 bytes, truncated"}),
    # A page that cannot be read is no web site, not a site without commerce.
    ("gzip-bomb-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~a decompression bomb"}),
    ("nul-page-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~binary data, not text"}),
    ("malformed-shop.com", "U", "non_commercial", {"kind": "page", "method": "home"}),
    ("bogus-charset-shop.co.uk", "Q", "unverified", {"kind": "name", "value": "Brötchen Goods Ltd"}),
    ("pdf-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~home page is application/pdf, not HTML"}),
    ("png-undeclared-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~application/octet-stream, not HTML"}),
    ("json-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~application/json, not HTML"}),
    ("server-error-shop.com", "U", "no_website", {"kind": "fetch_error", "value": "~HTTP 503"}),
    # Cut at the deadline: reported as a page error, or as unfinished if the cut lands after rate() returned.
    ("slow-contact-shop.co.uk", "Q", "unverified", {"value": "~deadline"}),
    ("bad-contact-shop.co.uk", "Q", "unverified", {"kind": "page_error", "page": "/contact", "value": "~10.0.0.7"}),
    ("bomb-contact-shop.co.uk", "Q", "unverified", {"kind": "page_error", "page": "/contact",
                                                     "value": "~a decompression bomb"}),
]


@pytest.mark.parametrize(("domain", "rating", "info", "why"), CASES, ids=[c[0] for c in CASES])
def test_hostile_site_gets_a_defined_rating_within_the_deadline(pipeline: SitePipeline, domain: str, rating: str,
                                                                info: str, why: dict[str, str]) -> None:
    outcome = rate(pipeline, domain)
    assert (str(outcome.rating), str(outcome.ratinginfo)) == (rating, info), outcome.evidence
    assert has(outcome, **why), outcome.evidence


def test_no_hostile_page_costs_more_than_the_page_cap_in_memory(pipeline: SitePipeline) -> None:
    tracemalloc.start()
    try:
        for domain in ("huge-page-shop.com", "gzip-bomb-shop.com", "bomb-contact-shop.co.uk"):
            rate(pipeline, domain)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A 1 MB page, its text and its parse tree; not 50 MB, never 10 GiB.
    assert peak < 60 * 1024 * 1024


def test_the_same_pipeline_still_rates_a_normal_site_afterwards(pipeline: SitePipeline) -> None:
    for domain, *_ in CASES:
        pipeline.rate(domain, deadline=1.0)
    outcome = rate(pipeline, "fine-goods.co.uk")
    assert (outcome.rating, outcome.ratinginfo) == (Rating.Q, RatingInfo.UNVERIFIED)
    assert outcome.location is not None and outcome.location["postcode"] == "OX1 3AA"
    assert outcome.elapsed < 1.0
