"""Harder layouts through the real pipeline: parked domains are not shops, names without a legal form, local-language shops.

The sites (``sites_selling_and_names.py``) are served over HTTP and HTTPS on
loopback and rated by one :class:`~raterd.pipeline.SitePipeline`, with the
corpus's sample registers plus the companies the sites need.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from protocol.vocabulary import Rating, RatingInfo
from raterd.pipeline import RatingOutcome, SitePipeline
from tests.raterd.corpus import problems
from tests.raterd.fixtures import FakeDNS

from .sites_selling_and_names import CATCH_ALL, COMPANIES, SHOPS_IN_THEIR_LANGUAGE, SITES


@pytest.fixture(scope="module")
def outcomes(serve_layouts) -> Iterator[dict[str, RatingOutcome]]:
    env = serve_layouts(SITES, companies=COMPANIES, catch_all=CATCH_ALL)
    with SitePipeline(env.settings(), system_lookup=FakeDNS()) as pipeline:
        yield {domain: pipeline.rate(domain) for domain in SITES}


def commerce_verdict(outcome: RatingOutcome) -> str:
    return next((e["value"] for e in outcome.evidence if e["kind"] == "commerce"), "")


@pytest.mark.parametrize("domain", [d for d in SITES if d not in SHOPS_IN_THEIR_LANGUAGE])
def test_layout_site_gets_its_expected_rating_location_and_evidence(outcomes, domain):
    assert problems(outcomes[domain], SITES[domain].expect) == [], SITES[domain].note


@pytest.mark.parametrize("domain", ["kayak-corner.com", "blue-lagoon-travel.net"])
def test_a_parked_domain_is_neither_a_shop_nor_its_parking_company(outcomes, domain):
    outcome = outcomes[domain]
    assert (outcome.rating, outcome.ratinginfo) == (Rating.U, RatingInfo.NON_COMMERCIAL)
    assert outcome.location is None
    assert commerce_verdict(outcome).startswith("not commercial")


def test_the_parked_lander_would_otherwise_look_like_a_business(outcomes):
    # What rule 5 overrides: a price and a Buy now button, and the marketplace's imprint with its address.
    evidence = outcomes["kayak-corner.com"].evidence
    assert any(e["kind"] == "selling" and e["method"] == "price" and e["value"] == "$2,999" for e in evidence)
    assert any(e["kind"] == "address" and "1015 CJ" in e["value"] for e in evidence)


@pytest.mark.parametrize("domain", SHOPS_IN_THEIR_LANGUAGE)
def test_a_shop_selling_in_its_own_language_is_commercial(outcomes, domain):
    outcome = outcomes[domain]
    expect = SITES[domain].expect
    assert commerce_verdict(outcome).startswith("commercial"), commerce_verdict(outcome)
    # X/no_location until its address is read, Q once it is: never "non_commercial".
    assert (outcome.rating, outcome.ratinginfo) in {(Rating.X, RatingInfo.NO_LOCATION), (Rating.Q, RatingInfo.UNVERIFIED)}
    assert [p for p in problems(outcome, expect) if not p.startswith("rated ")] == [], SITES[domain].note


def test_a_business_without_a_legal_form_is_looked_up_and_confirmed(outcomes):
    tamarisk = outcomes["tamarisk-tea.co.uk"]
    assert (tamarisk.rating, tamarisk.location["name"], tamarisk.location["postcode"]) == (
        Rating.A, "Tamarisk Tea Company", "HX7 8EH")


def test_a_registered_stockist_the_site_lists_gives_no_a(outcomes):
    outcome = outcomes["harbourside-canoes.co.uk"]
    assert outcome.rating == Rating.Q and outcome.location["name"] == "Harbourside Canoes"
    assert not [e for e in outcome.evidence if e["kind"] == "confirmation"]
    names = {e["value"]: e["kind"] for e in outcome.evidence if e["kind"] in ("name", "name_candidate")}
    assert names.get("Riverside Paddle Sports") in (None, "name_candidate")
