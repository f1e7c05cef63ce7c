"""Host-name helpers for the extractors: "is this link on the same site?" and "which country is this TLD?".

A site is its registrable domain (``shop.example.co.uk`` and
``www.example.co.uk`` are both ``example.co.uk``) as defined once for every
process by :func:`protocol.domains.registrable_domain`. Links can point
anywhere, including IP literals and names that have no registrable domain;
for those the host itself is the site, so nothing here raises.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

import idna

from protocol import domains
from protocol.errors import DomainError

__all__ = ["normalise_host", "registrable_domain", "same_site", "country_for_domain"]


@lru_cache(maxsize=4096)
def normalise_host(host: str) -> str:
    """Lower-case ASCII (punycode) form of a host name; ``""`` when it is not a usable name."""
    host = (host or "").strip().rstrip(".").lower()
    if not host or len(host) > 253:
        return ""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        pass
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        return ""


@lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str:
    """``www.example.co.uk`` -> ``example.co.uk``; IP literals, single labels and unknown TLDs stay as they are."""
    host = normalise_host(host)
    if not host:
        return ""
    try:
        return domains.registrable_domain(host)
    except DomainError:
        return host


def same_site(host: str, site_domain: str) -> bool:
    """True when ``host`` belongs to the same registrable site as ``site_domain``."""
    a = registrable_domain(host)
    return bool(a) and a == registrable_domain(site_domain)


# Country-code TLDs whose sites mostly sit in that country; ``uk`` is ``GB`` in ISO 3166.
_TLD_COUNTRY = {
    "uk": "GB", "de": "DE", "fr": "FR", "ca": "CA", "us": "US", "at": "AT", "ch": "CH",
    "nl": "NL", "be": "BE", "it": "IT", "es": "ES", "ie": "IE", "au": "AU", "nz": "NZ",
    "lu": "LU", "dk": "DK", "se": "SE", "no": "NO", "fi": "FI", "pl": "PL", "pt": "PT",
    "cz": "CZ", "sk": "SK", "hu": "HU", "za": "ZA", "sg": "SG", "hk": "HK", "kr": "KR", "jp": "JP",
    "br": "BR", "mx": "MX", "li": "LI", "is": "IS", "si": "SI", "hr": "HR", "ro": "RO", "gr": "GR",
    "ee": "EE", "lv": "LV", "lt": "LT", "ar": "AR", "cl": "CL", "in": "IN", "tw": "TW", "mc": "MC",
}


def country_for_domain(domain: str) -> str:
    """ISO country guessed from the TLD (``example.co.uk`` -> ``GB``), or ``""``."""
    host = normalise_host(domain)
    tld = host.rsplit(".", 1)[-1] if "." in host else ""
    return _TLD_COUNTRY.get(tld, "")
