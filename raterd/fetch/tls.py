"""What a site's TLS certificate says about who runs it.

The fetcher captures the peer certificate (DER) of every https connection and
attaches :func:`classify_certificate`'s :class:`CertInfo` to the page; the
rules use it as an independent source: an OV or EV certificate whose subject
organisation matches the business found on the site confirms it, because a
CA checked that organisation's papers before issuing.

Validation level comes from the CA/Browser Forum policy OIDs (and a few
CA-specific EV OIDs still found in the wild); a certificate without any
falls back to "OV" when its subject names an organisation, else "DV".

A CDN or hosting company often serves many customers' sites under one OV
certificate in *its own* name (a Cloudflare, Inc. certificate covering
hundreds of unrelated SANs): that organisation is the host, not the site
owner, so :func:`is_cdn_organisation` lets the rules ignore it.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

__all__ = [
    "CertInfo",
    "classify_certificate",
    "is_cdn_organisation",
    "normalise_organisation",
    "CDN_HOST_ORGANISATIONS",
    "EV_POLICY_OIDS",
    "OID_EV",
    "OID_OV",
    "OID_DV",
    "OID_IV",
]

log = logging.getLogger(__name__)

# CA/Browser Forum Baseline Requirements / EV Guidelines reserved policy OIDs.
OID_EV = "2.23.140.1.1"
OID_DV = "2.23.140.1.2.1"
OID_OV = "2.23.140.1.2.2"
OID_IV = "2.23.140.1.2.3"

# CA-specific EV policy OIDs (as in browsers' EV root tables). Current EV
# certificates also carry 2.23.140.1.1, but older ones may carry only these.
EV_POLICY_OIDS: frozenset[str] = frozenset({
    OID_EV,
    "2.16.840.1.114412.2.1",  # DigiCert
    "1.3.6.1.4.1.6449.1.2.1.5.1",  # Sectigo / Comodo
    "1.3.6.1.4.1.4146.1.1",  # GlobalSign
    "2.16.840.1.114028.10.1.2",  # Entrust
    "2.16.840.1.114413.1.7.23.3",  # GoDaddy
    "2.16.840.1.114414.1.7.23.3",  # Starfield
    "2.16.840.1.113733.1.7.23.6",  # VeriSign / Symantec
    "2.16.840.1.113733.1.7.48.1",  # thawte
    "1.3.6.1.4.1.14370.1.6",  # GeoTrust
    "1.3.6.1.4.1.8024.0.2.100.1.2",  # QuoVadis
    "2.16.578.1.26.1.3.3",  # Buypass
    "2.16.756.1.89.1.2.1.1",  # SwissSign
    "1.3.6.1.4.1.782.1.2.1.8.1",  # Network Solutions
    "1.3.6.1.4.1.4788.2.202.1",  # D-TRUST
    "1.3.6.1.4.1.7879.13.24.1",  # T-Systems / Telekom
    "2.16.840.1.114404.1.1.2.4.1",  # Trustwave / SecureTrust
    "1.3.6.1.4.1.34697.2.1",  # AffirmTrust
    "1.3.6.1.4.1.34697.2.2",
    "1.3.6.1.4.1.34697.2.3",
    "1.3.6.1.4.1.34697.2.4",
    "1.2.616.1.113527.2.5.1.1",  # Certum
})

# Trailing legal-form words dropped when comparing organisation names, so
# "Cloudflare, Inc." and "CLOUDFLARE INC" and "Cloudflare" are one name.
_LEGAL_FORMS = frozenset({
    "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company", "plc",
    "gmbh", "ag", "kg", "se", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "pty", "pte", "oy", "ab",
    "as", "asa", "kk", "lp", "llp", "pbc", "sl", "sro",
})

# Organisations that appear in OV certificates of sites they host or front,
# normalised with normalise_organisation(). Matching is on the whole
# normalised name: "Amazon Alliance Plumbing" is not Amazon.
CDN_HOST_ORGANISATIONS: frozenset[str] = frozenset({
    "cloudflare",
    "akamai", "akamai technologies",
    "fastly",
    "amazon", "amazon com", "amazon web services", "amazon technologies", "amazon data services",
    "google", "google trust services",
    "microsoft", "microsoft azure",
    "automattic", "wordpress com",
    "shopify",
    "squarespace",
    "wix", "wix com",
    "incapsula", "imperva",
    "sucuri", "godaddy", "godaddy com", "godaddy operating",
    "github",
    "netlify",
    "vercel",
    "heroku", "salesforce", "salesforce com",
    "edgecast", "edgio", "verizon digital media services", "limelight networks",
    "stackpath", "highwinds network group",
    "cdn77", "datacamp",
    "bunnyway", "bunny net",
    "keycdn", "proinity",
    "section io",
    "digitalocean",
    "linode",
    "ovh", "ovhcloud",
    "hetzner online",
    "weebly",
    "bigcommerce", "bigcommerce pty",
    "wp engine", "wpengine",
    "kinsta",
    "pantheon systems",
    "acquia",
    "fly io",
    "render services",
    "hubspot",
    "zendesk",
    "alibaba cloud computing", "alibaba cloud",
    "tencent cloud computing beijing",
    "newfold digital", "endurance international group", "bluehost",
    "ionos", "1&1 ionos",
    "yahoo", "oath holdings",
    "webflow",
})


@dataclass(frozen=True, slots=True)
class CertInfo:
    """A certificate, reduced to what the rating uses.

    ``validation``: ``"EV"``, ``"OV"``, ``"DV"``, ``"IV"`` (individual
    validated) or ``"unknown"`` (the DER could not be parsed).  Subject fields
    are ``None`` when absent; ``san`` lists the DNS names (lower case);
    ``not_after`` is a POSIX timestamp (0.0 if unknown).
    """

    validation: str
    organisation: str | None
    country: str | None
    locality: str | None
    subject_cn: str | None
    issuer_organisation: str | None
    policy_oids: tuple[str, ...]
    san: tuple[str, ...]
    not_after: float

    @property
    def names_organisation(self) -> bool:
        """True when the certificate vouches for an organisation that is not a CDN/host."""
        return (
            self.validation in ("EV", "OV")
            and bool(self.organisation)
            and not is_cdn_organisation(self.organisation or "")
        )


UNKNOWN = CertInfo("unknown", None, None, None, None, None, (), (), 0.0)


def normalise_organisation(name: str) -> str:
    """Case-folded, accent-free, punctuation-free organisation name without trailing legal forms.

    ``"Cloudflare, Inc."`` -> ``"cloudflare"``; ``"Wix.com Ltd."`` -> ``"wix com"``.
    """
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    # "S.A." / "L.L.C." -> "sa" / "llc" before punctuation becomes spaces.
    text = re.sub(r"\b(?:[a-z]\.){2,}", lambda m: m.group(0).replace(".", ""), text)
    words = re.sub(r"[^\w&]+", " ", text).split()
    while len(words) > 1 and (words[-1] in _LEGAL_FORMS or words[-1] == "&"):
        words.pop()
    return " ".join(words)


def is_cdn_organisation(name: str) -> bool:
    """True if *name* is a CDN or hosting company whose OV certificates name the host, not the site."""
    return bool(name) and normalise_organisation(name) in CDN_HOST_ORGANISATIONS


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if not values:
        return None
    value = values[0].value
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.strip() or None


def _validation(policies: tuple[str, ...], organisation: str | None) -> str:
    oids = set(policies)
    # Strongest claim wins; a CA never mixes levels, so order only matters
    # for broken certificates.
    if oids & EV_POLICY_OIDS:
        return "EV"
    if OID_OV in oids:
        return "OV"
    if OID_IV in oids:
        return "IV"
    if OID_DV in oids:
        return "DV"
    return "OV" if organisation else "DV"


def classify_certificate(der: bytes) -> CertInfo:
    """Parse a DER certificate into a :class:`CertInfo`; never raises.

    A certificate we cannot parse (or a malformed extension) gives
    ``validation="unknown"`` rather than an exception: the certificate is
    one piece of evidence among several and must not fail a rating.
    """
    try:
        cert = x509.load_der_x509_certificate(der)
    except (ValueError, TypeError) as error:
        log.info("unparseable peer certificate: %s", error)
        return UNKNOWN
    try:
        subject = cert.subject
        organisation = _attribute(subject, NameOID.ORGANIZATION_NAME)
        policies: tuple[str, ...] = ()
        try:
            extension = cert.extensions.get_extension_for_oid(ExtensionOID.CERTIFICATE_POLICIES)
            policies = tuple(p.policy_identifier.dotted_string for p in extension.value)
        except x509.ExtensionNotFound:
            pass
        san: tuple[str, ...] = ()
        try:
            names = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
            san = tuple(n.lower() for n in names.value.get_values_for_type(x509.DNSName))
        except x509.ExtensionNotFound:
            pass
        return CertInfo(
            validation=_validation(policies, organisation),
            organisation=organisation,
            country=_attribute(subject, NameOID.COUNTRY_NAME),
            locality=_attribute(subject, NameOID.LOCALITY_NAME),
            subject_cn=_attribute(subject, NameOID.COMMON_NAME),
            issuer_organisation=_attribute(cert.issuer, NameOID.ORGANIZATION_NAME),
            policy_oids=policies,
            san=san,
            not_after=cert.not_valid_after_utc.timestamp(),
        )
    except (ValueError, TypeError) as error:
        # cryptography parses extensions lazily: a malformed one surfaces here.
        log.info("malformed peer certificate: %s", error)
        return UNKNOWN
