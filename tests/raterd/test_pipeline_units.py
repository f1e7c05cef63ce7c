"""The rating pipeline's small parts: settings, outcomes, lookup planning, certificate judgement, page budget."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from protocol import Result, decode
from protocol.vocabulary import LOCATION_FIELDS, Rating, RatingInfo
from raterd._confirm import Query, judge_certificate, plan_queries
from raterd.fetch import CertInfo
from raterd.findings import OrganisationName, PostalAddress, Registration, SiteFindings
from raterd.pipeline import RaterSettings, RatingOutcome, SitePipeline
from tests.raterd.corpus._html import page
from tests.raterd.corpus.slow import SLOW_LINKS, SlowPages
from tests.raterd.fixtures import FakeDNS, FixtureServer, Response, Site, closed_port

GOOD_HOME = page("Fine Goods", "<h1>Fine goods</h1><p class='price'>£10.00</p><button>Add to basket</button>"
                 "<h2>Registered office</h2><p>Fine Goods Ltd<br>4 Market Square<br>Oxford<br>OX1 3AA</p>",
                 links=(("/contact", "Contact"),))

# -- RaterSettings ------------------------------------------------------------------------------------------


def test_settings_defaults_are_the_documented_ones() -> None:
    s = RaterSettings()
    assert (s.deadline, s.max_pages, s.max_bytes, s.threads) == (30.0, 20, 1_000_000, 8)
    assert (s.http_port, s.https_port, s.gleif_url, s.sources) == (80, 443, None, None)


def test_settings_accept_a_list_of_resolve_options_as_a_cli_builds_it() -> None:
    assert RaterSettings(resolve=["a.example.com:127.0.0.1"]).resolve == ("a.example.com:127.0.0.1",)
    with pytest.raises(TypeError):
        RaterSettings(resolve="a.example.com:127.0.0.1")


@pytest.mark.parametrize("bad", [{"deadline": 0}, {"deadline": float("nan")}, {"deadline": float("inf")},
                                 {"max_pages": 0}, {"threads": 0}, {"connections_per_host": 0}, {"max_bytes": 0},
                                 {"https_port": 0}, {"http_port": 70000}, {"gleif_timeout": 0}])
def test_settings_refuse_nonsense(bad: dict) -> None:
    with pytest.raises(ValueError):
        RaterSettings(**bad)


def test_a_bad_resolve_option_fails_when_the_pipeline_is_built() -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        SitePipeline(RaterSettings(resolve=("shop.example.com:not-an-address",), gleif_url=""))


# -- RatingOutcome -------------------------------------------------------------------------------------------

def test_outcome_becomes_a_result_message() -> None:
    location = dict.fromkeys(LOCATION_FIELDS, "x")
    outcome = RatingOutcome("example.com", Rating.Q, RatingInfo.UNVERIFIED, location,
                            ({"kind": "rule", "value": "6", "page": "", "method": "", "source": "rules"},), 1.23456)
    message = decode(outcome.to_result("job-7").to_frames())
    assert isinstance(message, Result)
    assert (message.job_id, message.domain, message.rating, message.elapsed) == ("job-7", "example.com", Rating.Q, 1.235)
    assert message.location == location


# -- which register lookups ---------------------------------------------------------------------------------------

def _findings(*names: tuple[str, float], postcodes: tuple[str, ...] = (), numbers: tuple[tuple[str, str], ...] = ()):
    found = SiteFindings("acme.co.uk", reachable=True)
    for name, confidence in names:
        found.names.append(OrganisationName(name, "https://acme.co.uk/", "copyright", confidence))
    for postcode in postcodes:
        found.addresses.append(PostalAddress("1 High Street", "London", postcode, country="GB",
                                             page="https://acme.co.uk/contact", method="labelled"))
    for scheme, value in numbers:
        found.registrations.append(Registration(scheme, value, "https://acme.co.uk/"))
    return found


def test_lookups_pair_each_identified_name_with_each_postcode_and_number_once() -> None:
    found = _findings(("Acme Widgets Ltd", 0.75), ("Acme Holdings plc", 0.6), ("Widgets", 0.25),
                      postcodes=("SW1A 1AA",), numbers=(("uk_company", "01234567"), ("vat", "GB123456789")))
    asked: set = set()
    queries = plan_queries(found, asked)
    assert queries == [Query("Acme Widgets Ltd", "SW1A 1AA", "", "GB"), Query("Acme Widgets Ltd", "", "01234567", ""),
                       Query("Acme Holdings plc", "SW1A 1AA", "", "GB"), Query("Acme Holdings plc", "", "01234567", "")]
    # Nothing new: nothing asked twice, even under another spelling of the same name and postcode.
    found.names.append(OrganisationName("ACME WIDGETS LIMITED", "https://acme.co.uk/contact", "jsonld", 0.9))
    found.addresses.append(PostalAddress("1 High St", "London", "sw1a1aa", country="GB", page="x", method="text"))
    assert plan_queries(found, asked) == []


def test_no_lookup_without_an_identified_name_or_a_place() -> None:
    assert plan_queries(_findings(("Acme", 0.25), postcodes=("SW1A 1AA",)), set()) == []
    assert plan_queries(_findings(("Acme Widgets Ltd", 0.75)), set()) == []


# -- what a certificate is worth --------------------------------------------------------------------------------

def _cert(validation: str, organisation: str | None) -> CertInfo:
    return CertInfo(validation, organisation, "GB", "London", "acme.co.uk", "Some CA", (), ("acme.co.uk",), 0.0)


def test_an_ov_certificate_naming_the_sites_organisation_confirms_it_whatever_its_legal_form() -> None:
    found = _findings(("Acme Widgets Ltd", 0.75))
    confirmation, evidence = judge_certificate(found, _cert("OV", "ACME WIDGETS LIMITED"))
    assert evidence is None and confirmation is not None
    assert (confirmation.source, confirmation.strength) == ("tls-certificate", "strong")
    assert found.certificate_org == "ACME WIDGETS LIMITED"


@pytest.mark.parametrize(("validation", "organisation", "says"), [
    ("OV", "Cloudflare, Inc.", "CDN or hosting company"),
    ("EV", "Amazon.com, Inc.", "CDN or hosting company"),
    ("DV", None, "names no organisation"),
    ("OV", "Other Company Ltd", "not the organisation the site names (Acme Widgets Ltd)"),
])
def test_other_certificates_are_evidence_only(validation: str, organisation: str | None, says: str) -> None:
    found = _findings(("Acme Widgets Ltd", 0.75))
    confirmation, evidence = judge_certificate(found, _cert(validation, organisation))
    assert confirmation is None and evidence is not None and says in evidence.value


# -- the page budget and the rating's contract ------------------------------------------------------------------

NAMES = ("many-links-shop.com", "old-brand-shop.com", "new-brand-shop.com")


@pytest.fixture(scope="module")
def budget_site(fixture_server: FixtureServer) -> Iterator[FixtureServer]:
    links = tuple((f"/contact-us-{i}", f"Contact {i}") for i in range(30))
    pages = {"/": page("Many Links", "<h1>Lots of contact pages</h1>", links=links)}
    pages.update({path: page(text, f"<p>{text}</p>") for path, text in links})
    fixture_server.add_site("many-links-shop.com", Site(pages))
    port = fixture_server.https_port
    fixture_server.add_site("old-brand-shop.com", Site({"/": Response(301, b"", content_type=None, headers={
        "Location": f"https://new-brand-shop.com:{port}/"})}))
    fixture_server.add_site("new-brand-shop.com", Site({
        "/": page("New Brand", "<h1>We have a new name</h1>", links=(("/contact", "Contact"),)),
        "/contact": page("Contact", "<h2>Address</h2><p>New Brand Ltd<br>2 New Street<br>Leeds<br>LS1 2AB</p>")}))
    yield fixture_server


def _pipeline(server: FixtureServer, **overrides) -> SitePipeline:
    options = dict(resolve=tuple(f"{name}:127.0.0.1" for name in NAMES), ca_bundle=server.ca_bundle, gleif_url="",
                   sources="/nonexistent/sources.db", http_port=server.http_port, https_port=server.https_port,
                   deadline=10.0)
    settings = RaterSettings(**{**options, **overrides})
    return SitePipeline(settings, system_lookup=FakeDNS())


def test_a_redirect_to_another_sites_mapped_name_does_not_get_the_mappings_trust(budget_site: FixtureServer) -> None:
    # Both names are mapped to loopback, but the mapping of new-brand-shop.com is trusted only when that
    # site is rated: reached by a redirect from old-brand-shop.com, loopback is refused like any
    # private address a public site points the rater at.
    new_brand = budget_site.site("new-brand-shop.com")
    new_brand.hits.clear()
    with _pipeline(budget_site) as rater:
        outcome = rater.rate("old-brand-shop.com")
        assert new_brand.hits == []  # refused before connecting
        direct = rater.rate("new-brand-shop.com")
    assert (outcome.rating, outcome.ratinginfo) == (Rating.U, RatingInfo.NO_WEBSITE)
    assert any(e["kind"] == "fetch_error" and "redirect from another site" in e["value"] for e in outcome.evidence)
    assert (direct.rating, direct.ratinginfo) == (Rating.Q, RatingInfo.UNVERIFIED)
    assert direct.location is not None and direct.location["postcode"] == "LS1 2AB"


def test_evidence_links_name_a_mapped_site_as_asked_on_the_default_port(budget_site: FixtureServer) -> None:
    port = budget_site.https_port
    pulses: list[str] = []
    with _pipeline(budget_site) as rater:
        outcome = rater.rate("new-brand-shop.com", progress=lambda stage, detail, *_: pulses.append(detail))
    pages = [item["page"] for item in outcome.evidence if item["page"]]
    assert "https://new-brand-shop.com/contact" in pages and "https://new-brand-shop.com/" in pages
    assert all(p.startswith("https://new-brand-shop.com/") for p in pages), pages
    texts = [value for item in outcome.evidence for value in item.values()] + pulses
    assert not [t for t in texts if f":{port}" in t or "127.0.0.1" in t]


def test_a_site_mapped_with_a_port_is_looked_for_on_that_port_and_named_without_it(
        budget_site: FixtureServer) -> None:
    # A demo serves its sites on a high port: only the names mapped with that port are looked
    # for there, every other site on 80/443 as usual (the site ports stay at their defaults).
    port = budget_site.http_port
    resolve = (f"new-brand-shop.com:127.0.0.1:{port}", f"www.new-brand-shop.com:127.0.0.1:{port}")
    with _pipeline(budget_site, resolve=resolve, http_port=80, https_port=443) as rater:
        outcome = rater.rate("new-brand-shop.com")
    assert (outcome.rating, outcome.ratinginfo) == (Rating.Q, RatingInfo.UNVERIFIED), outcome.evidence
    pages = [item["page"] for item in outcome.evidence if item["page"] and item["kind"] == "page"]
    assert "http://new-brand-shop.com/" in pages, pages
    assert not [p for p in pages if f":{port}" in p], pages


def test_fetch_failures_in_the_details_are_words(budget_site: FixtureServer) -> None:
    # https answers nowhere (a closed port the operator's site ports include); the site is found over http.
    with _pipeline(budget_site, https_port=closed_port()) as rater:
        outcome = rater.rate("new-brand-shop.com")
    assert (outcome.rating, outcome.ratinginfo) == (Rating.Q, RatingInfo.UNVERIFIED)
    failures = [(item["value"], item["page"]) for item in outcome.evidence if item["kind"] == "fetch_error"]
    assert ("HTTPS: cannot connect (connection refused)", "https://new-brand-shop.com/robots.txt") in failures
    assert all("Connection" not in value and "127.0.0.1" not in value for value, _ in failures)


def test_max_pages_caps_the_pages_read_home_page_included(budget_site: FixtureServer) -> None:
    site = budget_site.site("many-links-shop.com")
    site.hits.clear()
    with _pipeline(budget_site, max_pages=5) as rater:
        outcome = rater.rate("many-links-shop.com")
    assert outcome.stats["pages"] == 5
    assert sum(1 for item in outcome.evidence if item["kind"] == "page") == 5
    assert len([hit for hit in site.hits if hit.startswith("/contact-us-")]) == 4


def test_an_error_in_the_progress_callback_is_not_swallowed(budget_site: FixtureServer) -> None:
    def broken(stage: str, detail: str, done: int, total: int) -> None:
        if stage == "fetched":
            raise RuntimeError("worker bug")

    with _pipeline(budget_site) as rater, pytest.raises(RuntimeError, match="worker bug"):
        rater.rate("many-links-shop.com", progress=broken)


def test_a_closed_pipeline_refuses_to_rate(budget_site: FixtureServer) -> None:
    rater = _pipeline(budget_site)
    rater.close()
    with pytest.raises(RuntimeError):
        rater.rate("many-links-shop.com")


# -- the order of fetches: robots.txt and the home page together -------------------------------------------

ALL_SLOW = "all-slow-shop.co.uk"
SLOW_FORBIDDING = "slow-forbidding-shop.co.uk"


@pytest.fixture(scope="module")
def all_slow(fixture_server: FixtureServer) -> Iterator[SlowPages]:
    slow = SlowPages(delay=0.4, everything=True)
    fixture_server.add_site(ALL_SLOW, slow.site())
    fixture_server.add_site(SLOW_FORBIDDING, Site({
        "/robots.txt": Response(body=b"User-agent: *\nDisallow: /\n", content_type="text/plain", delay=0.4),
        "/": GOOD_HOME, "/contact": GOOD_HOME}))
    yield slow
    slow.stop.set()


def _slow_pipeline(server: FixtureServer) -> SitePipeline:
    settings = RaterSettings(resolve=(f"{ALL_SLOW}:127.0.0.1", f"{SLOW_FORBIDDING}:127.0.0.1"),
                             ca_bundle=server.ca_bundle, gleif_url="", sources="/nonexistent/sources.db",
                             http_port=server.http_port, https_port=server.https_port, deadline=20.0)
    return SitePipeline(settings, system_lookup=FakeDNS())


def test_robots_txt_and_the_home_page_are_asked_for_together(fixture_server: FixtureServer,
                                                             all_slow: SlowPages) -> None:
    all_slow.reset()
    with _slow_pipeline(fixture_server) as rater:
        outcome = rater.rate(ALL_SLOW)
    assert (outcome.rating, outcome.ratinginfo) == (Rating.Q, RatingInfo.UNVERIFIED)
    assert all_slow.together("/robots.txt", "/")
    # Then the identity pages, as many at once as the per-host limit allows.
    assert all_slow.max_in_flight == RaterSettings().connections_per_host
    assert {path for _, path in SLOW_LINKS} <= set(all_slow.served)


def test_a_home_page_fetched_beside_a_forbidding_robots_txt_is_thrown_away(fixture_server: FixtureServer,
                                                                           all_slow: SlowPages) -> None:
    site = fixture_server.site(SLOW_FORBIDDING)
    site.hits.clear()
    with _slow_pipeline(fixture_server) as rater:
        outcome = rater.rate(SLOW_FORBIDDING)
    assert (outcome.rating, outcome.ratinginfo) == (Rating.X, RatingInfo.BLOCKED)
    assert not any(item["kind"] in ("page", "name", "address") for item in outcome.evidence), outcome.evidence
    assert "/contact" not in site.hits  # nothing past the home page was asked for
