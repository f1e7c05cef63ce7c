"""Looking a site's business and domain up in the imported registers and blocklists."""

from __future__ import annotations

import os

import pytest

from raterd.findings import Confirmation, Evidence
from raterd.sources import (
    SourceIndex,
    blocklist_hits,
    import_blocklist,
    import_companies_house,
    import_gleif_csv,
    import_phishtank,
    name_key,
    registry_match,
)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    path = tmp_path_factory.mktemp("sources") / "sources.db"
    with SourceIndex(path) as idx:
        import_companies_house(idx, os.path.join(DATA, "BasicCompanyData-sample.csv"))
        import_gleif_csv(idx, os.path.join(DATA, "gleif-goldencopy-lei2-sample.csv"))
        import_blocklist(idx, os.path.join(DATA, "phishing-domains-sample.txt"), "openphish")
        import_phishtank(idx, os.path.join(DATA, "online-valid-sample.json"))
        yield idx


def _sources(found: list[Confirmation]) -> list[str]:
    return sorted(c.source for c in found)


# -- registers ----------------------------------------------------------------------

def test_name_and_postcode_confirm_a_live_company(index):
    found = registry_match(index, "Acme Widgets Ltd", "SW1A 1AA")
    assert _sources(found) == ["companies-house", "gleif"]  # both registers know it
    ch = next(c for c in found if c.source == "companies-house")
    assert ch.strength == "strong"
    assert ch.matched_name == "ACME WIDGETS LIMITED"
    assert "01234567" in ch.detail and "postcode" in ch.detail


@pytest.mark.parametrize("name", ["Acme Widgets Limited", "ACME WIDGETS LTD.", "acme widgets ltd",
                                  "Acme Widgets", "The Acme Widgets Company Limited"])
def test_legal_form_and_punctuation_variants_match(index, name):
    assert "companies-house" in _sources(registry_match(index, name, "SW1A 1AA"))


@pytest.mark.parametrize("postcode", ["sw1a1aa", " SW1A  1AA ", "Sw1A 1aA"])
def test_postcode_spelling_does_not_matter(index, postcode):
    assert registry_match(index, "Acme Widgets Ltd", postcode)


@pytest.mark.parametrize("number", ["01234567", "1234567", "0123 4567"])
def test_registration_number_confirms_without_a_postcode(index, number):
    found = registry_match(index, "Acme Widgets Ltd", registration=number)
    assert "companies-house" in _sources(found)
    assert all("registration number" in c.detail for c in found)


def test_scottish_and_northern_irish_numbers(index):
    assert registry_match(index, "Glencoe Outdoor Supplies Ltd", registration="SC 123456")
    assert registry_match(index, "Northern Lights Limited", registration="ni012345")


def test_name_alone_confirms_nothing(index):
    assert registry_match(index, "Acme Widgets Ltd") == []
    assert registry_match(index, "Acme Widgets Ltd", "") == []


def test_name_with_the_wrong_postcode_or_number_confirms_nothing(index):
    assert registry_match(index, "Acme Widgets Ltd", "M1 1AE") == []
    assert registry_match(index, "Acme Widgets Ltd", registration="09999999") == []


def test_right_postcode_with_another_name_confirms_nothing(index):
    assert registry_match(index, "Acme Gadgets Ltd", "SW1A 1AA") == []   # its previous name doesn't count
    assert registry_match(index, "Totally Different Ltd", "SW1A 1AA") == []


@pytest.mark.parametrize("name, postcode", [
    ("Old Mill Bakery Ltd", "BA1 1AA"),                 # Dissolved
    ("Strike Off Soon Ltd", "M2 4LQ"),                  # Active - Proposal to Strike off
    ("Failing Firm Ltd", "BS1 4DB"),                    # Liquidation
])
def test_companies_that_are_not_active_confirm_nothing(index, name, postcode):
    assert registry_match(index, name, postcode) == []


def test_unicode_names_match_with_or_without_accents(index):
    assert registry_match(index, "Bäckerei Müller UK Ltd", "M3 2BA")
    assert registry_match(index, "BACKEREI MULLER UK LIMITED", "m32ba")


def test_ampersand_and_commas(index):
    assert registry_match(index, "Smith Jones and Co Limited", "B1 1AA")


def test_country_must_agree_when_given(index):
    assert registry_match(index, "Acme Widgets Ltd", "SW1A 1AA", country="United Kingdom")
    assert registry_match(index, "Acme Widgets Ltd", "SW1A 1AA", country="UK")
    assert registry_match(index, "Acme Widgets Ltd", "SW1A 1AA", country="US") == []


def test_gleif_trading_and_transliterated_names(index):
    assert _sources(registry_match(index, "Acme Online", "SW1A 1AA")) == ["gleif"]
    assert _sources(registry_match(index, "Mueller Praezisionstechnik GmbH", "80802")) == ["gleif"]
    assert _sources(registry_match(index, "Müller Präzisionstechnik GmbH", "80802")) == ["gleif"]
    assert _sources(registry_match(index, "株式会社サンプル", "100-0001")) == ["gleif"]
    assert _sources(registry_match(index, "Sample Kabushiki Kaisha", "100-0001")) == ["gleif"]


def test_gleif_registration_number_or_lei(index):
    assert _sources(registry_match(index, "Müller Präzisionstechnik GmbH", registration="HRB 123456")) == ["gleif"]
    [found] = registry_match(index, "Example Corp", registration="549300EXAMPLECORP572")
    assert "549300EXAMPLECORP572" in found.detail


def test_gleif_zip_plus_four_and_headquarters_postcode(index):
    assert registry_match(index, "Example Corp", "19801")           # legal address 19801-1234
    assert registry_match(index, "Example Corporation", "94105")    # headquarters


def test_gleif_lapsed_inactive_and_previous_names_confirm_nothing(index):
    assert registry_match(index, "Lapsed Holdings PLC", "EC1A 4JA") == []
    assert registry_match(index, "Gone Away Inc", "10118") == []
    assert registry_match(index, "Old Example Corporation", "19801") == []


def test_unknown_names_and_empty_input(index):
    assert registry_match(index, "", "SW1A 1AA") == []
    assert registry_match(index, "!!!", "SW1A 1AA") == []


def test_name_key_behaviour():
    assert name_key("Acme Widgets Limited") == name_key("ACME WIDGETS LTD.") == name_key("Acme Widgets")
    assert name_key("Smith & Co") == name_key("Smith and Company")
    assert name_key("Société Générale S.A.") == name_key("SOCIETE GENERALE")
    assert name_key("Limited") != ""
    assert name_key("Acme Widgets") != name_key("Acme Gadgets")


# -- blocklists ---------------------------------------------------------------------

def _values(hits: list[Evidence]) -> list[str]:
    return sorted(h.value for h in hits)


def test_plain_list_entry_is_hit(index):
    hits = blocklist_hits(index, "evil-bank-login-sample.com")
    assert all(isinstance(h, Evidence) and h.kind == "blocklist" and h.source == "openphish" for h in hits)
    assert _values(hits) == ["EVIL-BANK-LOGIN-SAMPLE.COM.", "evil-bank-login-sample.com"]
    assert all(h.method == "registrable-domain" for h in hits)


def test_the_domain_asked_about_is_reduced_too(index):
    assert blocklist_hits(index, "www.evil-bank-login-sample.com")
    assert blocklist_hits(index, "https://shop.evil-bank-login-sample.com/cart")


@pytest.mark.parametrize("domain, entry", [
    ("phish-sample-bank.co.uk", "secure-login.phish-sample-bank.co.uk"),     # subdomain entry
    ("paypa1-verify-sample.net", "http://paypa1-verify-sample.net/signin/index.php?acct=1#step2"),  # URL
    ("tracker-phish-sample.net", "tracker-phish-sample.net"),                # hosts-file line
    ("adblock-style-sample.org", "||adblock-style-sample.org^"),             # adblock rule
    ("wildcard-phish-sample.info", "*.wildcard-phish-sample.info"),
    ("xn--l-sample-06ga8ob2b.com", "раураl-sample.com"),                      # IDN
])
def test_list_entry_forms_reduce_to_the_registrable_domain(index, domain, entry):
    assert _values(blocklist_hits(index, domain)) == [entry]


def test_idn_domain_can_be_asked_in_unicode(index):
    assert blocklist_hits(index, "раураl-sample.com")


def test_shared_hosts_and_bad_entries_are_not_listed(index):
    assert blocklist_hits(index, "google.com") == []          # sites.google.com/view/... entry
    assert blocklist_hits(index, "example.org") == []
    assert blocklist_hits(index, "co.uk") == []               # not a registrable domain
    assert blocklist_hits(index, "not a domain") == []


def test_phishtank_urls_list_their_registrable_domain(index):
    hits = blocklist_hits(index, "account-verify-sample.com")
    assert {h.source for h in hits} == {"phishtank"}
    assert len(hits) == 2
    assert any("https://login.account-verify-sample.com/secure/" in h.value for h in hits)
    assert all("phish_id 84000" in h.value and "target PayPal" in h.value for h in hits)
    assert blocklist_hits(index, "office-update-sample.co.uk")
    assert "Société Générale" in blocklist_hits(index, "xn--pypal-4ve.com")[0].value


def test_phishtank_unverified_and_shared_hosts_are_not_listed(index):
    assert blocklist_hits(index, "unverified-sample.com") == []
    assert blocklist_hits(index, "google.com") == []


def test_hits_per_list_are_capped(tmp_path):
    feed = tmp_path / "feed.txt"
    feed.write_text("".join(f"http://many-urls-sample.com/page{i}\n" for i in range(50)))
    with SourceIndex(tmp_path / "s.db") as idx:
        import_blocklist(idx, feed, "feed")
        assert len(blocklist_hits(idx, "many-urls-sample.com")) == 5
