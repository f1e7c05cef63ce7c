"""Home pages that send the browser on: a meta refresh or a one-line script to the real shop page.

Each fixture site is a real HTTP(S) site on loopback, rated by a whole
:class:`SitePipeline`.  The rating must be made on the page the visitor ends
up on, within the same site; a redirect to another site, a loop, or a chain
longer than the cap leaves the rating on the page itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from protocol.vocabulary import Rating, RatingInfo
from raterd.fetch.client_redirect import client_redirect
from raterd.pipeline import RaterSettings, RatingOutcome, SitePipeline
from tests.raterd.corpus import matches
from tests.raterd.corpus._html import page
from tests.raterd.fixtures import FakeDNS, FixtureServer, Response, Site

SHOP = page("Harbour Kites", "<h1>Harbour Kites</h1><p class='price'>£24.00</p><button>Add to basket</button>",
            links=(("/shop/contact", "Contact us"),))
CONTACT = page("Contact", "<h2>Contact</h2><p>Harbour Kites Ltd<br>7 Quay Street<br>Whitby<br>YO21 1DH</p>")


def _refresh(url: str, delay: str = "0") -> str:
    return f'<html><head><meta http-equiv="refresh" content="{delay}; url={url}"></head><body></body></html>'


def _script(line: str) -> str:
    return f"<html><head><script>{line}</script></head><body><p>Redirecting…</p></body></html>"


def _shop_pages(home: str) -> dict:
    return {"/": home, "/shop/": SHOP, "/shop/contact": CONTACT}


SITES: dict[str, dict] = {
    "refresh-kites.co.uk": _shop_pages(_refresh("/shop/")),
    "refresh-quoted-kites.co.uk": _shop_pages(
        "<html><head><META HTTP-EQUIV='Refresh' CONTENT=\"0;URL='/shop/'\"></head></html>"),
    "window-kites.co.uk": _shop_pages(_script('window.location = "/shop/";')),
    "href-kites.co.uk": _shop_pages(_script("location.href='/shop/'")),
    "replace-kites.co.uk": _shop_pages(_script('window.location.replace("/shop/")')),
    # Two hops: a script to a page that refreshes to the shop.
    "two-hop-kites.co.uk": {**_shop_pages(_script('location.href="/enter"')), "/enter": _refresh("/shop/")},
    # The shop on www. of the same site, absolute URL.
    "www-kites.co.uk": {"/": "WWW_REFRESH"},
    # Not followed: another site, a loop, a long delay (a slide show), a page with content.
    "elsewhere-kites.co.uk": {"/": "ELSEWHERE_REFRESH"},
    "loop-kites.co.uk": {"/": _refresh("/a"), "/a": _refresh("/b"), "/b": _refresh("/a")},
    "long-chain-kites.co.uk": {"/": _refresh("/1"), "/1": _refresh("/2"), "/2": _refresh("/3"),
                               "/3": _refresh("/4"), "/4": _refresh("/shop/"), "/shop/": SHOP,
                               "/shop/contact": CONTACT},
    "slow-refresh-kites.co.uk": _shop_pages(_refresh("/shop/", delay="600")),
    "content-kites.co.uk": _shop_pages(SHOP.replace("<h1>", "<script>function go(){location.href='/x'}</script><h1>")),
    "broken-target-kites.co.uk": {"/": _refresh("/missing")},
    "robots-target-kites.co.uk": {**_shop_pages(_refresh("/shop/")),
                                  "/robots.txt": Response(body=b"User-agent: *\nDisallow: /shop/\n",
                                                          content_type="text/plain")},
}


@pytest.fixture(scope="module")
def rater(fixture_server: FixtureServer) -> Iterator[SitePipeline]:
    port = fixture_server.https_port
    names = []
    for name, pages in SITES.items():
        if pages.get("/") == "WWW_REFRESH":
            pages = {"/": _refresh(f"https://www.{name}:{port}/shop/")}
            fixture_server.add_site(f"www.{name}", Site(_shop_pages(SHOP)))
            names.append(f"www.{name}")
        elif pages.get("/") == "ELSEWHERE_REFRESH":
            pages = {"/": _refresh(f"https://refresh-kites.co.uk:{port}/shop/")}
        fixture_server.add_site(name, Site(pages))
        names.append(name)
    settings = RaterSettings(resolve=tuple(f"{n}:127.0.0.1" for n in names), ca_bundle=fixture_server.ca_bundle,
                             gleif_url="", sources="/nonexistent/sources.db", deadline=10.0,
                             http_port=fixture_server.http_port, https_port=fixture_server.https_port)
    with SitePipeline(settings, system_lookup=FakeDNS()) as pipeline:
        yield pipeline


def _has(outcome: RatingOutcome, **pattern: str) -> bool:
    return any(matches(pattern, item) for item in outcome.evidence)


@pytest.mark.parametrize("domain", ["refresh-kites.co.uk", "refresh-quoted-kites.co.uk", "window-kites.co.uk",
                                    "href-kites.co.uk", "replace-kites.co.uk", "two-hop-kites.co.uk",
                                    "www-kites.co.uk"])
def test_a_home_page_that_sends_the_browser_on_is_rated_on_the_real_page(rater: SitePipeline, domain: str) -> None:
    outcome = rater.rate(domain)
    assert (outcome.rating, outcome.ratinginfo) == (Rating.Q, RatingInfo.UNVERIFIED), outcome.evidence
    assert outcome.location is not None and outcome.location["postcode"] == "YO21 1DH"
    assert _has(outcome, kind="redirect", value="~/shop/")
    assert _has(outcome, kind="page", method="home", page="~/shop/")


@pytest.mark.parametrize(("domain", "why"), [
    ("elsewhere-kites.co.uk", "~to another site"),
    ("loop-kites.co.uk", "~a loop or more than 3 hops"),
    ("long-chain-kites.co.uk", "~a loop or more than 3 hops"),
])
def test_redirects_the_rater_does_not_follow_leave_the_rating_on_the_page(rater: SitePipeline, domain: str,
                                                                          why: str) -> None:
    outcome = rater.rate(domain)
    assert (outcome.rating, outcome.ratinginfo) == (Rating.U, RatingInfo.NON_COMMERCIAL), outcome.evidence
    assert _has(outcome, kind="redirect", value=why)


@pytest.mark.parametrize(("domain", "rating"), [("slow-refresh-kites.co.uk", Rating.U),
                                                ("content-kites.co.uk", Rating.Q)])
def test_a_long_refresh_delay_or_a_script_on_a_real_page_is_not_a_redirect(rater: SitePipeline, domain: str,
                                                                           rating: Rating) -> None:
    outcome = rater.rate(domain)
    assert outcome.rating == rating, outcome.evidence
    assert not _has(outcome, kind="redirect")
    home = [item["page"] for item in outcome.evidence if item["kind"] == "page" and item["method"] == "home"]
    assert len(home) == 1 and home[0].endswith("/") and "/shop/" not in home[0]


def test_a_redirect_to_a_missing_page_is_no_home_page(rater: SitePipeline) -> None:
    outcome = rater.rate("broken-target-kites.co.uk")
    assert (outcome.rating, outcome.ratinginfo) == (Rating.U, RatingInfo.NO_WEBSITE)
    assert _has(outcome, kind="fetch_error", value="~HTTP 404")


def test_robots_txt_is_obeyed_for_the_page_a_refresh_leads_to(rater: SitePipeline) -> None:
    outcome = rater.rate("robots-target-kites.co.uk")
    assert (outcome.rating, outcome.ratinginfo) == (Rating.X, RatingInfo.BLOCKED)


@pytest.mark.parametrize(("text", "expected"), [
    ('<meta http-equiv="refresh" content="0; url=/shop/">', "https://a.example.com/shop/"),
    ('<meta content="3;URL=https://www.a.example.com/s?x=1&amp;y=2" http-equiv="Refresh">',
     "https://www.a.example.com/s?x=1&y=2"),
    ('<meta http-equiv="refresh" content="30">', None),  # reloads itself
    ('<meta http-equiv="refresh" content="0; url=javascript:alert(1)">', None),
    ('<!-- <meta http-equiv="refresh" content="0; url=/old"> -->', None),
    ('<script>top.location = "/in"</script>', "https://a.example.com/in"),
    ('<script>if (location == "/x") {}</script>', None),
    ('<script>function go() { location.href = "/x"; }</script>', None),  # a function, not run on load
    ('<script>var seen = {a: 1}; window.location.href = "/in";</script>', "https://a.example.com/in"),
    ('<script src="/app.js">location.href="/x"</script>', None),
    ('<script type="application/ld+json">{"location": "x"}</script>', None),
])
def test_client_redirects_found_in_page_text(text: str, expected: str | None) -> None:
    found = client_redirect(f"<html><head>{text}</head><body></body></html>", "https://a.example.com/")
    assert (found.url if found else None) == expected
