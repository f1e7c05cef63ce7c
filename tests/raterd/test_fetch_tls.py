"""TLS certificate evidence: EV/OV/DV/IV classification, CDN certificates, CertInfo on https pages."""

from __future__ import annotations

import time

import pytest

from raterd.fetch import CertInfo, Deadline, Fetcher, Resolver, classify_certificate, is_cdn_organisation
from raterd.fetch.tls import normalise_organisation
from tests.raterd.fixtures import (
    DIGICERT_EV_OID,
    OID_DV,
    OID_IV,
    FakeDNS,
    FixtureCA,
    FixtureServer,
    Site,
)

EV_SITE = "ev-bank.example.com"
OV_SITE = "ov-shop.example.com"
DV_SITE = "dv-blog.example.com"
CDN_SITE = "behind-cdn.example.com"


@pytest.fixture(scope="module")
def ca() -> FixtureCA:
    return FixtureCA()


def test_ev_certificate(ca: FixtureCA) -> None:
    leaf = ca.ev(["www.acme.example.com", "acme.example.com"], "Acme Widgets Ltd", country="GB", locality="London")
    info = classify_certificate(leaf.der)
    assert info.validation == "EV"
    assert (info.organisation, info.country, info.locality) == ("Acme Widgets Ltd", "GB", "London")
    assert info.subject_cn == "www.acme.example.com"
    assert info.san == ("www.acme.example.com", "acme.example.com")
    assert info.issuer_organisation == "SiteTruth Fixture CA"
    assert info.not_after > time.time()
    assert info.names_organisation


def test_ca_specific_ev_oid_counts_as_ev(ca: FixtureCA) -> None:
    leaf = ca.ev(["old-ev.example.com"], "Old Bank Inc.", policy_oids=(DIGICERT_EV_OID,))
    assert classify_certificate(leaf.der).validation == "EV"


def test_ov_certificate(ca: FixtureCA) -> None:
    info = classify_certificate(ca.ov(["shop.example.com"], "Müller GmbH", country="DE", locality="Köln").der)
    assert (info.validation, info.organisation, info.country, info.locality) == ("OV", "Müller GmbH", "DE", "Köln")
    assert info.policy_oids == ("2.23.140.1.2.2",)


def test_dv_certificate(ca: FixtureCA) -> None:
    info = classify_certificate(ca.dv(["blog.example.com"]).der)
    assert (info.validation, info.organisation) == ("DV", None)
    assert not info.names_organisation


def test_iv_certificate(ca: FixtureCA) -> None:
    assert classify_certificate(ca.issue(["jane.example.com"], policy_oids=(OID_IV,)).der).validation == "IV"


def test_dv_oid_wins_over_a_stray_organisation(ca: FixtureCA) -> None:
    leaf = ca.issue(["odd.example.com"], organisation="Odd Corp", policy_oids=(OID_DV,))
    assert classify_certificate(leaf.der).validation == "DV"


@pytest.mark.parametrize(("organisation", "expected"), [("Legacy Corp", "OV"), (None, "DV")])
def test_without_policy_oids_the_organisation_decides(ca: FixtureCA, organisation: str | None, expected: str) -> None:
    leaf = ca.issue(["legacy.example.com"], organisation=organisation)
    assert classify_certificate(leaf.der).validation == expected


@pytest.mark.parametrize("der", [b"", b"not a certificate", b"\x30\x03\x02\x01\x05"])
def test_unparseable_certificate_is_unknown_not_an_error(der: bytes) -> None:
    info = classify_certificate(der)
    assert info.validation == "unknown" and info.organisation is None


def test_cdn_certificate_is_ov_but_does_not_name_the_site_owner(ca: FixtureCA) -> None:
    info = classify_certificate(ca.cdn(["shop.example.com"]).der)
    assert info.validation == "OV" and info.organisation == "Cloudflare, Inc."
    assert "shop.example.com" in info.san and len(info.san) > 20
    assert is_cdn_organisation(info.organisation)
    assert not info.names_organisation


@pytest.mark.parametrize(
    "name",
    ["Cloudflare, Inc.", "CLOUDFLARE INC", "Akamai Technologies, Inc.", "Fastly, Inc.", "Amazon.com, Inc.",
     "Amazon Web Services, Inc.", "Google LLC", "Microsoft Corporation", "Automattic Inc.", "WordPress.com",
     "Shopify Inc.", "Squarespace, Inc.", "Wix.com Ltd.", "Incapsula Inc", "Imperva, Inc.", "Sucuri Inc.",
     "GitHub, Inc.", "Netlify, Inc.", "Vercel Inc."],
)
def test_cdn_and_hosting_organisations(name: str) -> None:
    assert is_cdn_organisation(name)


@pytest.mark.parametrize("name", ["Acme Widgets Ltd", "Amazon Alliance Plumbing LLC", "Google Street Bakery", "", "Inc."])
def test_ordinary_organisations_are_not_cdns(name: str) -> None:
    assert not is_cdn_organisation(name)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("Cloudflare, Inc.", "cloudflare"), ("Müller GmbH & Co. KG", "muller"), ("Wix.com Ltd.", "wix com"),
     ("ACME WIDGETS LIMITED", "acme widgets"), ("Société Générale S.A.", "societe generale")],
)
def test_normalise_organisation(raw: str, normalised: str) -> None:
    assert normalise_organisation(raw) == normalised


# -- on the wire --------------------------------------------------------------


@pytest.fixture(scope="module")
def sites(fixture_server: FixtureServer) -> FixtureServer:
    server = fixture_server
    ca = server.ca
    server.add_site(EV_SITE, Site({"/": "<p>bank</p>"}),
                    certificate=ca.ev([EV_SITE], "EV Bank plc", country="GB", locality="London"))
    server.add_site(OV_SITE, Site({"/": "<p>shop</p>"}),
                    certificate=ca.ov([OV_SITE], "OV Shop Inc.", country="US", locality="Springfield"))
    server.add_site(DV_SITE, Site({"/": "<p>blog</p>"}))  # the default: a DV leaf
    server.add_site(CDN_SITE, Site({"/": "<p>cdn</p>"}), certificate=ca.cdn([CDN_SITE]))
    return server


@pytest.fixture
def fetcher(sites: FixtureServer):
    with Fetcher(Resolver(sites.resolver_overrides(), default_ports=sites.ports, system_lookup=FakeDNS()), ca_bundle=sites.ca_bundle) as f:
        yield f


@pytest.mark.parametrize(
    ("host", "validation", "organisation"),
    [(EV_SITE, "EV", "EV Bank plc"), (OV_SITE, "OV", "OV Shop Inc."), (DV_SITE, "DV", None),
     (CDN_SITE, "OV", "Cloudflare, Inc.")],
)
def test_https_pages_carry_the_certificate_chosen_by_sni(
    fetcher: Fetcher, sites: FixtureServer, host: str, validation: str, organisation: str | None
) -> None:
    page = fetcher.get(sites.url(host, "/", https=True), Deadline(10))
    assert isinstance(page.certificate, CertInfo)
    assert (page.certificate.validation, page.certificate.organisation) == (validation, organisation)
    assert host in page.certificate.san


def test_http_pages_have_no_certificate(fetcher: Fetcher, sites: FixtureServer) -> None:
    assert fetcher.get(sites.url(EV_SITE, "/"), Deadline(10)).certificate is None
