"""Host-name helpers for the extractors: "is this link on the same site?" and "which country is this TLD?".

A site is its registrable domain (``shop.example.co.uk`` and
``www.example.co.uk`` are both ``example.co.uk``), computed with the Public
Suffix List shipped in the ``publicsuffixlist`` wheel (never downloaded).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

import idna
from publicsuffixlist import PublicSuffixList

__all__ = ["normalise_host", "registrable_domain", "same_site", "country_for_domain"]

_psl: PublicSuffixList | None = None


def _get_psl() -> PublicSuffixList:
    global _psl
    if _psl is None:  # parsing the list takes tens of ms: do it once, on first use
        _psl = PublicSuffixList()
    return _psl


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
    """``www.example.co.uk`` -> ``example.co.uk``; IP literals and single labels stay as they are."""
    host = normalise_host(host)
    if not host:
        return ""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    return _get_psl().privatesuffix(host) or host


def same_site(host: str, site_domain: str) -> bool:
    """True when ``host`` belongs to the same registrable site as ``site_domain``."""
    a = registrable_domain(host)
    return bool(a) and a == registrable_domain(site_domain)


# Country-code TLDs whose sites mostly sit in that country; ``uk`` is ``GB`` in ISO 3166.
_TLD_COUNTRY = {
    "uk": "GB", "de": "DE", "fr": "FR", "ca": "CA", "us": "US", "at": "AT", "ch": "CH",
    "nl": "NL", "be": "BE", "it": "IT", "es": "ES", "ie": "IE", "au": "AU", "nz": "NZ",
    "lu": "LU", "dk": "DK", "se": "SE", "no": "NO", "fi": "FI", "pl": "PL", "pt": "PT",
}


def country_for_domain(domain: str) -> str:
    """ISO country guessed from the TLD (``example.co.uk`` -> ``GB``), or ``""``."""
    host = normalise_host(domain)
    tld = host.rsplit(".", 1)[-1] if "." in host else ""
    return _TLD_COUNTRY.get(tld, "")
