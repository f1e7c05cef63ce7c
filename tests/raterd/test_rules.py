"""decide(): every rule with its exact letter, ratinginfo, location and key evidence; the findings model it reads."""

from __future__ import annotations

import pathlib

import pytest

from protocol.vocabulary import LOCATION_FIELDS, Rating, RatingInfo
from raterd.extract import extract_page
from raterd.findings import (
    Confirmation,
    Evidence,
    OrganisationName,
    PostalAddress,
    Registration,
    SiteFindings,
)
from raterd.rules import MAX_EVIDENCE, Decision, decide

HTML_DIR = pathlib.Path(__file__).parent / "html"
HOME = "https://www.acme.co.uk/"
CONTACT = "https://www.acme.co.uk/contact"

NAME = OrganisationName("Acme Widgets Ltd", CONTACT, "copyright", 0.75)
ADDRESS = PostalAddress("10 Downing Street", "London", "SW1A 2AA", country="GB", raw="10 Downing Street, London SW1A 2AA",
                        page=CONTACT, method="labelled")
CART = Evidence("selling", "/cart", HOME, "cart_link")
ADD = Evidence("selling", "add to basket", HOME, "add_to_cart")
PRICE = Evidence("selling", "£5", HOME, "price")
STRONG = Confirmation("companies_house", "01234567 ACME WIDGETS LIMITED, SW1A 2AA", "Acme Widgets Limited")
WEAK = Confirmation("certificate", "DV certificate", "", strength="weak")
BLOCK = Evidence("blocklist", "acme.co.uk", "", "domain_list", "phish-feed")
PARKED = Evidence("parked", "this domain is for sale", HOME, "for_sale")
PARKED_ELSEWHERE = Evidence("parked", "this domain is for sale", CONTACT, "for_sale")


def site(**kw) -> SiteFindings:
    findings = SiteFindings(domain="acme.co.uk", reachable=True, pages=[HOME, CONTACT])
    for key, value in kw.items():
        setattr(findings, key, value)
    return findings


def kinds(decision: Decision) -> list[str]:
    return [e["kind"] for e in decision.evidence]


def the(decision: Decision, kind: str) -> list[dict[str, str]]:
    return [e for e in decision.evidence if e["kind"] == kind]


EXPECTED_LOCATION = {"name": "Acme Widgets Ltd", "street": "10 Downing Street", "city": "London", "region": "",
                     "postcode": "SW1A 2AA", "country": "GB"}


# -- the rule table, row by row -----------------------------------------------------------

@pytest.mark.parametrize("case, findings, rating, info, has_location", [
    ("1 blocklist overrides an A", site(names=[NAME], addresses=[ADDRESS], confirmations=[STRONG], blocklisted=[BLOCK]),
     Rating.X, RatingInfo.NEGATIVE_INFO, False),
    ("1 blocklist overrides an internal error", site(internal_error="boom", blocklisted=[BLOCK]), Rating.X, RatingInfo.NEGATIVE_INFO, False),
    ("1 blocklist overrides no web site", site(reachable=False, pages=[], blocklisted=[BLOCK]), Rating.X, RatingInfo.NEGATIVE_INFO, False),
    ("2 internal error", site(names=[NAME], addresses=[ADDRESS], internal_error="KeyError: 'x'"), Rating.U, RatingInfo.ERROR, False),
    ("3 no web site", site(reachable=False, pages=[], fetch_error="NXDOMAIN"), Rating.U, RatingInfo.NO_WEBSITE, False),
    ("3 before robots", site(reachable=False, robots_blocked=True), Rating.U, RatingInfo.NO_WEBSITE, False),
    ("4 robots", site(robots_blocked=True, pages=[]), Rating.X, RatingInfo.BLOCKED, False),
    ("5 parked page selling its domain", site(selling=[ADD, PRICE], parked=[PARKED]), Rating.U, RatingInfo.NON_COMMERCIAL, False),
    ("5 parked page naming the parking company", site(names=[NAME], addresses=[ADDRESS], confirmations=[STRONG], selling=[ADD],
                                                      parked=[PARKED]), Rating.U, RatingInfo.NON_COMMERCIAL, False),
    ("6 a for-sale notice on another page is not a parked site", site(names=[NAME], addresses=[ADDRESS], confirmations=[STRONG],
                                                                      parked=[PARKED_ELSEWHERE]), Rating.A, RatingInfo.NONE, True),
    ("6 confirmed", site(names=[NAME], addresses=[ADDRESS], confirmations=[STRONG]), Rating.A, RatingInfo.NONE, True),
    ("6 confirmed, non-commercial", site(names=[NAME], addresses=[ADDRESS], confirmations=[STRONG], selling=[]),
     Rating.A, RatingInfo.NONE, True),
    ("7 unconfirmed", site(names=[NAME], addresses=[ADDRESS]), Rating.Q, RatingInfo.UNVERIFIED, True),
    ("7 weak confirmation is not enough", site(names=[NAME], addresses=[ADDRESS], confirmations=[WEAK]),
     Rating.Q, RatingInfo.UNVERIFIED, True),
    ("7 shop with address", site(names=[NAME], addresses=[ADDRESS], selling=[CART, ADD]), Rating.Q, RatingInfo.UNVERIFIED, True),
    ("8 shop without address", site(names=[NAME], selling=[CART, ADD]), Rating.X, RatingInfo.NO_LOCATION, False),
    ("8 shop with address but no name", site(addresses=[ADDRESS], selling=[ADD]), Rating.X, RatingInfo.NO_LOCATION, False),
    ("8 confirmation cannot rescue a shop with no address", site(names=[NAME], selling=[ADD], confirmations=[STRONG]),
     Rating.X, RatingInfo.NO_LOCATION, False),
    ("9 blog", site(names=[NAME], selling=[PRICE]), Rating.U, RatingInfo.NON_COMMERCIAL, False),
    ("9 nothing at all", site(), Rating.U, RatingInfo.NON_COMMERCIAL, False),
    ("9 address without name, not selling", site(addresses=[ADDRESS]), Rating.U, RatingInfo.NON_COMMERCIAL, False),
])
def test_rule_table(case, findings, rating, info, has_location):
    decision = decide(findings)
    assert (decision.rating, decision.ratinginfo) == (rating, info), case
    assert decision.evidence[0]["kind"] == "rule" and decision.evidence[0]["value"][0] == case[0], case
    if has_location:
        assert decision.location == EXPECTED_LOCATION
        assert list(decision.location) == list(LOCATION_FIELDS)
    else:
        assert decision.location is None


def test_a_rating_evidence_shows_confirmation_name_and_address_with_pages():
    decision = decide(site(names=[NAME, OrganisationName("Acme Widgets Limited", HOME, "jsonld", 0.95)], addresses=[ADDRESS],
                           confirmations=[STRONG, WEAK], registrations=[Registration("uk_company", "01234567", CONTACT)],
                           phones=[Evidence("phone", "+442079460018", CONTACT, "tel_link")], certificate_org="Acme Widgets Limited"))
    assert decision.ratinginfo == "" and decision.rating == "A"
    assert decision.location["name"] == "Acme Widgets Limited"  # legalName from JSON-LD, the best of the group
    confirmations = the(decision, "confirmation")
    assert [(c["source"], c["method"]) for c in confirmations] == [("companies_house", "strong"), ("certificate", "weak")]
    assert {(n["value"], n["page"], n["method"]) for n in the(decision, "name")} == {
        ("Acme Widgets Limited", HOME, "jsonld"), ("Acme Widgets Ltd", CONTACT, "copyright")}
    assert the(decision, "address") == [{"kind": "address", "value": "10 Downing Street, London SW1A 2AA, GB",
                                         "page": CONTACT, "method": "labelled", "source": ""}]
    assert the(decision, "registration")[0]["value"] == "01234567"
    assert the(decision, "phone")[0]["value"] == "+442079460018"
    assert the(decision, "certificate")[0]["value"] == "Acme Widgets Limited"


def test_x_negative_info_evidence_names_the_blocklist():
    decision = decide(site(blocklisted=[BLOCK], names=[NAME], addresses=[ADDRESS]))
    assert the(decision, "blocklist") == [BLOCK.to_dict()]
    assert kinds(decision)[:2] == ["rule", "blocklist"]


def test_x_no_location_evidence_lists_selling_signals_and_verdict():
    decision = decide(site(names=[NAME], selling=[CART, ADD, PRICE]))
    assert the(decision, "commerce")[0]["value"] == "commercial (score 5.5)"
    assert {e["method"] for e in the(decision, "selling")} == {"cart_link", "add_to_cart", "price"}
    assert "street address" in decision.evidence[0]["value"]


def test_u_errors_keep_their_reason():
    assert the(decide(site(internal_error="Traceback ... ValueError")), "error")[0]["value"] == "Traceback ... ValueError"
    assert the(decide(site(reachable=False, fetch_error="connection refused")), "fetch_error")[0]["value"] == "connection refused"
    assert the(decide(site(robots_blocked=True)), "robots")


def test_evidence_is_capped_and_deduplicated():
    phones = [Evidence("phone", f"+44207946{i:04d}", HOME, "text") for i in range(200)]
    selling = [Evidence("selling", f"£{i}", HOME, "price") for i in range(200)]
    regs = [Registration("vat", f"GB{i:09d}", HOME) for i in range(200)]
    dupes = [BLOCK] * 5
    decision = decide(site(phones=phones, selling=selling, registrations=regs, blocklisted=dupes))
    assert len(decision.evidence) == MAX_EVIDENCE
    assert len(the(decision, "blocklist")) == 1
    assert all(set(e) == {"kind", "value", "page", "method", "source"} for e in decision.evidence)


def test_decide_is_pure():
    findings = site(names=[NAME], addresses=[ADDRESS], selling=[CART])
    before = (list(findings.names), list(findings.addresses), list(findings.selling))
    assert decide(findings) == decide(findings)
    assert (findings.names, findings.addresses, findings.selling) == before


def test_decision_to_dict_is_plain_data():
    data = decide(site(names=[NAME], addresses=[ADDRESS])).to_dict()
    assert data["rating"] == "Q" and data["ratinginfo"] == "unverified" and data["location"] == EXPECTED_LOCATION
    assert isinstance(data["evidence"], list) and all(isinstance(v, str) for e in data["evidence"] for v in e.values())


# -- the findings model ---------------------------------------------------------------------

def test_best_name_prefers_confidence_and_agreement():
    findings = site(names=[
        OrganisationName("Shiny Brand", HOME, "og:site_name", 0.5),
        OrganisationName("Acme Widgets Ltd", HOME, "copyright", 0.75),
        OrganisationName("Acme Widgets Ltd.", CONTACT, "copyright", 0.75),
        OrganisationName("Acme Widgets", CONTACT, "title", 0.25),
    ])
    best = findings.best_name()
    assert best is not None and best.name.startswith("Acme Widgets Ltd")
    score, _rep, members = findings.name_groups()[0]
    assert len(members) == 3 and score == pytest.approx(0.75 + 0.05 + 0.1)


def test_agreement_can_beat_a_single_more_confident_name():
    findings = site(names=[OrganisationName("Lone Jsonld Corp", HOME, "jsonld", 0.9)] + [
        OrganisationName("Acme Widgets Ltd", f"https://www.acme.co.uk/p{i}", m, 0.75)
        for i, m in enumerate(["copyright", "imprint", "address"])])
    assert findings.best_name().name == "Acme Widgets Ltd"


def test_confirmed_name_wins():
    findings = site(names=[OrganisationName("Brand Name Inc", HOME, "jsonld", 0.9),
                           OrganisationName("Acme Widgets Ltd", CONTACT, "copyright", 0.75)],
                    confirmations=[STRONG])
    assert findings.best_name().name == "Acme Widgets Ltd"


def test_title_alone_is_not_an_identified_name():
    findings = site(names=[OrganisationName("Acme", p, "title", 0.25) for p in (HOME, CONTACT, HOME + "a", HOME + "b")])
    assert findings.best_name() is None
    assert decide(site(names=findings.names, addresses=[ADDRESS])).ratinginfo == RatingInfo.NON_COMMERCIAL


def test_best_address_prefers_structured_then_repeated_postcode():
    text = PostalAddress("1 Other Road", "Leeds", "LS1 1AA", country="GB", page=HOME, method="text")
    labelled = PostalAddress("10 Downing Street", "London", "SW1A 2AA", country="GB", page=CONTACT, method="labelled")
    jsonld = PostalAddress("5 Dock Road", "Liverpool", "L3 4AB", country="GB", page=HOME, method="jsonld")
    assert site(addresses=[text, labelled]).best_address() == labelled
    assert site(addresses=[text, labelled, jsonld]).best_address() == jsonld
    repeated = [PostalAddress("1 Other Road", "Leeds", "LS1 1AA", country="GB", page=p, method="text")
                for p in (HOME, CONTACT, HOME + "x", HOME + "y")]
    assert site(addresses=[labelled] + repeated).best_address().street == "1 Other Road"
    assert site().best_address() is None


def test_best_address_representative_is_the_most_complete():
    bare = PostalAddress("10 Downing St", "London", "SW1A 2AA", page=HOME, method="text")
    full = PostalAddress("10 Downing Street", "London", "SW1A 2AA", country="GB", page=CONTACT, method="text")
    assert site(addresses=[bare, full]).best_address() == full


def test_merge_page_accumulates_and_marks_site_reachable():
    findings = SiteFindings(domain="acme.co.uk")
    assert not findings.reachable
    page = extract_page((HTML_DIR / "uk_shop_contact.html").read_text(encoding="utf-8"), CONTACT, "acme.co.uk")
    findings.merge_page(page)
    findings.merge_page(page)  # the same page twice adds nothing new
    assert findings.reachable and findings.pages == [CONTACT]
    assert len(findings.addresses) == len(page.addresses) and len(findings.registrations) == len(page.registrations)


def test_evidence_wire_form():
    e = Evidence("name", "Acme" * 500, HOME, "jsonld")
    d = e.to_dict()
    assert set(d) == {"kind", "value", "page", "method", "source"} and len(d["value"]) <= 500
    assert Evidence.from_dict(Evidence("phone", "+1", HOME, "text", "").to_dict()) == Evidence("phone", "+1", HOME, "text", "")
    assert Evidence.from_dict({"kind": 5, "value": None}) == Evidence("", "")


def test_location_dict_has_exactly_the_api_fields():
    assert ADDRESS.location_dict("Acme Widgets Ltd") == EXPECTED_LOCATION


# -- whole sample sites through extraction and rules ---------------------------------------

def rate(domain: str, pages: list[tuple[str, str]], **extra) -> Decision:
    findings = SiteFindings(domain=domain)
    for name, url in pages:
        findings.merge_page(extract_page((HTML_DIR / name).read_text(encoding="utf-8", errors="replace"), url, domain))
    for key, value in extra.items():
        setattr(findings, key, value)
    return decide(findings)


def test_sample_uk_shop_is_q_then_a_with_a_registry_match():
    pages = [("uk_shop_home.html", "https://www.oakleaf-joinery.co.uk/"),
             ("uk_shop_contact.html", "https://www.oakleaf-joinery.co.uk/contact-us/")]
    q = rate("oakleaf-joinery.co.uk", pages)
    assert (q.rating, q.ratinginfo) == (Rating.Q, RatingInfo.UNVERIFIED)
    assert q.location == {"name": "Oakleaf Joinery Limited", "street": "14 Mill Lane", "city": "Hebden Bridge",
                          "region": "", "postcode": "HX7 8AB", "country": "GB"}
    assert {e["page"] for e in the(q, "address")} == {"https://www.oakleaf-joinery.co.uk/",
                                                     "https://www.oakleaf-joinery.co.uk/contact-us/"}
    a = rate("oakleaf-joinery.co.uk", pages, confirmations=[
        Confirmation("companies_house", "08123456 OAKLEAF JOINERY LIMITED HX7 8AB", "Oakleaf Joinery Limited")])
    assert (a.rating, a.ratinginfo, a.location) == (Rating.A, RatingInfo.NONE, q.location)


def test_sample_german_bakery_is_q():
    d = rate("baeckerei-mueller.de", [("de_impressum.html", "https://www.baeckerei-mueller.de/impressum.html")])
    assert (d.rating, d.ratinginfo) == (Rating.Q, RatingInfo.UNVERIFIED)
    assert d.location == {"name": "Bäckerei Müller GmbH", "street": "Hauptstraße 12", "city": "München", "region": "",
                          "postcode": "80331", "country": "DE"}
    assert the(d, "registration")[0]["value"] == "HRB 123456 (Amtsgericht München)"


def test_sample_french_bookshop_is_q_with_its_own_address_not_the_hosts():
    d = rate("librairie-du-marais.fr", [("fr_mentions_legales.html", "https://librairie-du-marais.fr/mentions-legales")])
    assert (d.rating, d.location["name"], d.location["street"], d.location["postcode"]) == (
        Rating.Q, "Librairie du Marais SARL", "12 rue de la Paix", "75002")


def test_sample_blog_is_non_commercial():
    d = rate("gardennotes.example", [("us_blog.html", "https://gardennotes.example/")])
    assert (d.rating, d.ratinginfo, d.location) == (Rating.U, RatingInfo.NON_COMMERCIAL, None)


def test_sample_store_without_address_is_no_location():
    d = rate("gadgethub.example", [("us_store_noaddr.html", "https://gadgethub.example/")])
    assert (d.rating, d.ratinginfo, d.location) == (Rating.X, RatingInfo.NO_LOCATION, None)
    assert the(d, "commerce")[0]["value"].startswith("commercial")


def test_sample_malformed_page_is_rated_without_error():
    d = rate("broken.example", [("malformed.html", "http://broken.example/")])
    assert d.rating == Rating.U and d.ratinginfo == RatingInfo.NON_COMMERCIAL


def test_confirmation_of_another_business_does_not_make_an_a():
    # The site is rated as Acme; a register entry for the payment company it
    # mentions is true, but says nothing about who runs this site.
    other = Confirmation("companies_house", "09999999 ACME PAY LIMITED, EC1A 1BB", "Acme Pay Limited")
    decision = decide(site(names=[NAME], addresses=[ADDRESS], confirmations=[other]))
    assert (decision.rating, decision.ratinginfo) == (Rating.Q, RatingInfo.UNVERIFIED)
    # The same register entry spelled with another legal form is the same business.
    decision = decide(site(names=[NAME], addresses=[ADDRESS], confirmations=[
        Confirmation("companies_house", "01234567 ACME WIDGETS LIMITED", "ACME WIDGETS LIMITED")]))
    assert decision.rating == Rating.A


def test_parked_page_evidence_names_why_and_says_not_commercial():
    decision = decide(site(selling=[ADD, PRICE], parked=[PARKED], pages=[HOME]))
    assert the(decision, "parked") == [PARKED.to_dict()]
    assert the(decision, "commerce")[0]["value"].startswith("not commercial: parked domain")
    assert decision.evidence[0]["value"].startswith("5: parked")


# -- a business named without a legal form --------------------------------------------------------

KAYAK_HOME = "https://www.example-paddles.com/"
KAYAK_CONTACT = "https://www.example-paddles.com/contact"


def kayak_site(contact_body: str, **extra) -> Decision:
    findings = SiteFindings(domain="example-paddles.com")
    home = ("<html><head><title>Kayaks and paddles</title></head><body><h1>Sea kayaks</h1>"
            "<div><h2>Expedition kayak</h2><p>$2,499.00</p><button>Add to cart</button></div>"
            "<footer><p>Secure payments by Acme Pay Ltd</p></footer></body></html>")
    contact = f"<html><head><title>Contact</title></head><body>{contact_body}</body></html>"
    findings.merge_page(extract_page(home, KAYAK_HOME, "example-paddles.com"))
    findings.merge_page(extract_page(contact, KAYAK_CONTACT, "example-paddles.com"))
    for key, value in extra.items():
        setattr(findings, key, value)
    return decide(findings)


KAYAK_BLOCK = "<h1>Contact us</h1><h2>Blue Heron Kayak Company</h2><p>112 Harbor Road<br>Port Townsend, WA 98368</p>"


def test_a_heading_name_above_the_address_identifies_the_shop():
    decision = kayak_site(KAYAK_BLOCK)
    assert (decision.rating, decision.ratinginfo) == (Rating.Q, RatingInfo.UNVERIFIED)
    assert decision.location == {"name": "Blue Heron Kayak Company", "street": "112 Harbor Road",
                                 "city": "Port Townsend", "region": "WA", "postcode": "98368", "country": "US"}
    assert {"kind": "name", "value": "Blue Heron Kayak Company", "page": KAYAK_CONTACT, "method": "address_heading",
            "source": ""} in decision.evidence


def test_a_register_entry_of_that_business_makes_it_an_a_but_one_of_another_company_does_not():
    own = Confirmation("registry", "BLUE HERON KAYAK COMPANY, 98368", "BLUE HERON KAYAK COMPANY LLC")
    assert kayak_site(KAYAK_BLOCK, confirmations=[own]).rating == Rating.A
    # The payment company the footer names is registered, and true; it is not who runs the site.
    other = Confirmation("companies_house", "09999999 ACME PAY LIMITED, EC1A 1BB", "Acme Pay Limited")
    decision = kayak_site(KAYAK_BLOCK, confirmations=[other])
    assert (decision.rating, decision.ratinginfo) == (Rating.Q, RatingInfo.UNVERIFIED)


def test_a_listed_stockist_is_not_taken_for_the_shop_even_when_registered():
    stockists = ("<h1>Where to buy</h1><h3>Paddle World</h3><p>12 Main Street<br>Springfield, IL 62701</p>"
                 "<h3>River Sports</h3><p>48 Elm Street<br>Burlington, VT 05401</p>")
    registered = Confirmation("registry", "PADDLE WORLD INC, 62701", "Paddle World Inc")
    decision = kayak_site(stockists, confirmations=[registered])
    assert decision.rating != Rating.A
    assert (decision.location or {}).get("name") != "Paddle World"
    assert decision.rating == Rating.X and decision.ratinginfo == RatingInfo.NO_LOCATION  # a shop with no name of its own


def test_a_label_heading_above_the_address_is_not_a_name():
    decision = kayak_site("<h2>Visit our workshop</h2><p>112 Harbor Road<br>Port Townsend, WA 98368</p>")
    assert (decision.rating, decision.ratinginfo) == (Rating.X, RatingInfo.NO_LOCATION)
    assert "business name" in decision.evidence[0]["value"]


def test_a_listed_stockist_is_never_looked_up_in_the_registers():
    from raterd._confirm import plan_queries

    findings = SiteFindings(domain="example-paddles.com")
    stockists = ("<html><head><title>Where to buy</title></head><body><h1>Where to buy</h1>"
                 "<h3>Paddle World</h3><p>12 Main Street<br>Springfield, IL 62701</p>"
                 "<h3>River Sports</h3><p>48 Elm Street<br>Burlington, VT 05401</p></body></html>")
    findings.merge_page(extract_page(stockists, KAYAK_CONTACT, "example-paddles.com"))
    assert plan_queries(findings, set()) == []  # no name the site gives as its own: nothing to ask
    own = "<html><body>" + KAYAK_BLOCK + "</body></html>"
    findings.merge_page(extract_page(own, KAYAK_HOME, "example-paddles.com"))
    assert {q.name for q in plan_queries(findings, set())} == {"Blue Heron Kayak Company"}
