"""What a rating learns about a site: the data model shared by extractors, sources and rules.

Flow: the extractors (:mod:`raterd.extract`) turn one fetched page into a
``PageFindings``; the pipeline merges each into the site's ``SiteFindings``
(:meth:`SiteFindings.merge_page`); outside sources (registries, blocklists,
the TLS certificate) append ``Confirmation`` and blocklist ``Evidence``;
finally :func:`raterd.rules.decide` turns the accumulated findings into a
rating letter, a ``ratinginfo`` code, a location and the evidence list.

Everything here is plain data: frozen dataclasses for single facts, one
mutable accumulator for the site. No I/O, no threads.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from protocol.vocabulary import LOCATION_FIELDS

__all__ = [
    "Evidence",
    "PostalAddress",
    "OrganisationName",
    "Registration",
    "Confirmation",
    "SiteFindings",
    "NAME_MIN_SCORE",
    "ADDRESS_METHOD_WEIGHT",
]

# A name group must score at least this to count as "identified" (see
# SiteFindings.best_name). A <title> on its own (0.25) never gets there; a
# copyright line, og:site_name or any structured data does.
NAME_MIN_SCORE = 0.45

# How much each address source is trusted when choosing the site's address:
# structured data is written on purpose by the site owner, a labelled block is
# the owner telling humans, a bare match in running text may be anything.
ADDRESS_METHOD_WEIGHT = {
    "jsonld": 3.0,
    "microdata": 3.0,
    "labelled": 2.5,
    "address_element": 2.0,
    "text": 1.0,
}

_MAX_FIELD = 500  # evidence strings are shown to people and stored; keep them short


def _short(value: Any, limit: int = _MAX_FIELD) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One fact behind a rating: what was found, on which page, how, and who agreed.

    ``kind`` is a short word (``name``, ``address``, ``phone``, ``registration``,
    ``selling``, ``confirmation``, ``blocklist``, ``certificate``, ``rule``...);
    ``method`` says how it was found (``jsonld``, ``tel_link``, ``price``...);
    ``source`` names the outside source that supplied or agreed with it.
    """

    kind: str
    value: str
    page: str = ""
    method: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, str]:
        """Wire form (broker, store, details page): always the same five string keys."""
        return {
            "kind": _short(self.kind, 40),
            "value": _short(self.value),
            "page": _short(self.page, 2000),
            "method": _short(self.method, 40),
            "source": _short(self.source, 200),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Evidence":
        """Inverse of :meth:`to_dict`; missing or non-string values become ``""``."""
        def get(key: str) -> str:
            value = data.get(key, "") if isinstance(data, dict) else ""
            return value if isinstance(value, str) else ""

        return cls(get("kind"), get("value"), get("page"), get("method"), get("source"))


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """A street address found on a page. ``country`` is ISO 3166-1 alpha-2 (``GB``, not ``UK``)."""

    street: str
    city: str
    postcode: str
    region: str = ""
    country: str = ""
    raw: str = ""
    page: str = ""
    method: str = ""

    def location_dict(self, name: str) -> dict[str, str]:
        """The API v3 business location: exactly the keys of ``LOCATION_FIELDS``."""
        values = {
            "name": name,
            "street": self.street,
            "city": self.city,
            "region": self.region,
            "postcode": self.postcode,
            "country": self.country,
        }
        return {key: _short(values.get(key, ""), 200) for key in LOCATION_FIELDS}

    def key(self) -> tuple[str, str]:
        """Identity for de-duplication: the same street and postcode are the same place."""
        return (_address_token(self.street), _address_token(self.postcode or self.city))

    def summary(self) -> str:
        """One line in the country's usual order: ``10 Downing Street, London SW1A 2AA, GB``."""
        if self.country in ("US", "CA", "GB", "AU", "IE"):
            place = " ".join(p for p in (self.city, self.region, self.postcode) if p)
            parts = [self.street, place, self.country]
        else:
            parts = [self.street, " ".join(p for p in (self.postcode, self.city) if p), self.region, self.country]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class OrganisationName:
    """A candidate name of the organisation running the site.

    ``method`` is one of ``jsonld``, ``microdata``, ``og:site_name``,
    ``copyright``, ``imprint``, ``address`` (the line above a street address,
    with a legal form), ``address_heading`` / ``address_line`` (a name without
    one heading an address block) or ``title``; ``confidence`` is in [0, 1].
    """

    name: str
    page: str
    method: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Registration:
    """A company registration or tax number printed on the site.

    ``scheme``: ``uk_company``, ``de_hrb``, ``de_hra``, ``de_vr``, ``us_ein``,
    ``fr_siren``, ``fr_siret``, ``vat``. ``value`` is normalised (``01234567``,
    ``HRB 12345``, ``DE123456789``); ``authority`` is the register court or
    similar when printed (``Amtsgericht München``, ``RCS Paris``).
    """

    scheme: str
    value: str
    page: str
    authority: str = ""


@dataclass(frozen=True, slots=True)
class Confirmation:
    """An independent source agreeing that the business on the site is real.

    Produced by sources (registry match, an OV/EV certificate naming the same
    organisation); only ``strength == "strong"`` can earn an ``A``.
    """

    source: str
    detail: str
    matched_name: str = ""
    strength: str = "strong"


class _PageLike(Protocol):
    """What merge_page needs from raterd.extract.html.PageFindings (kept structural to avoid a cycle)."""

    url: str
    names: list[OrganisationName]
    addresses: list[PostalAddress]
    phones: list[Evidence]
    registrations: list[Registration]
    selling: list[Evidence]


@dataclass
class SiteFindings:
    """Everything learned about one site, filled page by page by the pipeline.

    ``reachable`` starts False and becomes True when a page is merged: a site
    from which no page could be read has no web site as far as a rating goes.
    """

    domain: str
    reachable: bool = False
    robots_blocked: bool = False
    fetch_error: str = ""
    pages: list[str] = field(default_factory=list)
    names: list[OrganisationName] = field(default_factory=list)
    addresses: list[PostalAddress] = field(default_factory=list)
    phones: list[Evidence] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    selling: list[Evidence] = field(default_factory=list)
    parked: list[Evidence] = field(default_factory=list)
    blocklisted: list[Evidence] = field(default_factory=list)
    confirmations: list[Confirmation] = field(default_factory=list)
    certificate_org: str | None = None
    internal_error: str = ""

    def merge_page(self, page: _PageLike) -> None:
        """Add one page's findings; repeated facts from the same page are kept once."""
        self.reachable = True
        if page.url and page.url not in self.pages:
            self.pages.append(page.url)
        _extend_unique(self.names, page.names)
        _extend_unique(self.addresses, page.addresses)
        _extend_unique(self.phones, page.phones)
        _extend_unique(self.registrations, page.registrations)
        _extend_unique(self.selling, page.selling)
        _extend_unique(self.parked, getattr(page, "parked", None) or [])

    def parked_home(self) -> list[Evidence]:
        """Why the home page (the first page merged) is a parked or for-sale domain page; ``[]`` if it is not.

        Only the home page decides: a parking service answers every path with
        the same page, while a real site's blog post about selling a domain
        is not its home page.
        """
        if not self.pages:
            return []
        return [e for e in self.parked if e.page == self.pages[0]]

    # -- choosing the site's name and address ------------------------------------

    def name_groups(self) -> list[tuple[float, OrganisationName, list[OrganisationName]]]:
        """Candidate names grouped by normalised form, best first: (score, representative, members).

        Names that differ only in their legal form ("Acme Widgets" in
        og:site_name, "Acme Widgets Ltd" in the copyright line) are one group.

        Score = the best single confidence, plus agreement: +0.05 per further
        page (up to +0.15), +0.1 per further method (up to +0.2), and +0.3 when
        a confirmation or the certificate names the same organisation and the
        name already scores ``NAME_MIN_SCORE`` without it. A name
        seen in JSON-LD, the copyright line and the imprint on three pages
        beats a lone og:site_name.
        """
        groups: dict[str, list[OrganisationName]] = {}
        for cand in self.names:
            key = _name_key(cand.name)
            if key:
                groups.setdefault(key, []).append(cand)
        confirmed = {_name_key(c.matched_name) for c in self.confirmations if c.matched_name}
        if self.certificate_org:
            confirmed.add(_name_key(self.certificate_org))
        confirmed.discard("")

        ranked = []
        for key, members in groups.items():
            best = max(members, key=lambda n: (n.confidence, _has_legal_form_hint(n.name), len(n.name)))
            pages = {m.page for m in members}
            methods = {m.method for m in members}
            score = best.confidence
            score += min(0.15, 0.05 * (len(pages) - 1))
            score += min(0.2, 0.1 * (len(methods) - 1))
            # A confirmation settles which of the site's names is the business; it
            # does not make a name the site barely gives (a stockist it lists, a
            # company it mentions) into the site's name.
            if key in confirmed and score >= NAME_MIN_SCORE:
                score += 0.3
            ranked.append((round(score, 4), best, members))
        ranked.sort(key=lambda item: (-item[0], item[1].name))
        return ranked

    def best_name(self) -> OrganisationName | None:
        """The organisation's name, or None when nothing scores ``NAME_MIN_SCORE``."""
        groups = self.name_groups()
        if groups and groups[0][0] >= NAME_MIN_SCORE:
            return groups[0][1]
        return None

    def address_groups(self) -> list[tuple[float, PostalAddress, list[PostalAddress]]]:
        """Addresses grouped by street + postcode, best first: (score, representative, members).

        Score = the best method weight (``ADDRESS_METHOD_WEIGHT``), +0.5 per
        further page it appears on (up to +1.5), +0.25 per further occurrence
        of its postcode anywhere on the site (up to +1). The representative is
        the most completely filled-in member.
        """
        groups: dict[tuple[str, str], list[PostalAddress]] = {}
        for addr in self.addresses:
            groups.setdefault(addr.key(), []).append(addr)
        postcode_counts = Counter(_address_token(a.postcode) for a in self.addresses if a.postcode)

        ranked = []
        for members in groups.values():
            rep = max(members, key=_completeness)
            pages = {m.page for m in members}
            score = max(ADDRESS_METHOD_WEIGHT.get(m.method, 1.0) for m in members)
            score += min(1.5, 0.5 * (len(pages) - 1))
            if rep.postcode:
                score += min(1.0, 0.25 * (postcode_counts[_address_token(rep.postcode)] - len(members)))
            ranked.append((round(score, 4), rep, members))
        ranked.sort(key=lambda item: (-item[0], item[1].street))
        return ranked

    def best_address(self) -> PostalAddress | None:
        groups = self.address_groups()
        return groups[0][1] if groups else None


def _name_key(name: str) -> str:
    from raterd.extract.organisation import normalise_org_name, strip_legal_form  # lazy: extract imports us

    normalised = normalise_org_name(name)
    return strip_legal_form(normalised) or normalised


def _extend_unique(target: list, items: list) -> None:
    seen = set(target)
    for item in items:
        if item not in seen:
            seen.add(item)
            target.append(item)


def _completeness(addr: PostalAddress) -> tuple[int, int, int]:
    filled = sum(bool(v) for v in (addr.street, addr.city, addr.postcode, addr.region, addr.country))
    return (filled, ADDRESS_METHOD_WEIGHT.get(addr.method, 1.0) > 1.0, len(addr.raw))


_LEGAL_HINT = re.compile(r"\b(ltd|limited|llc|inc|corp|gmbh|ag|sarl|sas|s\.?a\.?|b\.?v\.?|plc|llp|s\.?r\.?l\.?|s\.?l\.?)\b\.?$", re.I)


def _has_legal_form_hint(name: str) -> bool:
    return bool(_LEGAL_HINT.search(name.strip()))


def _address_token(text: str) -> str:
    """Case-, accent- and punctuation-blind form for comparing address parts."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("ß", "ss"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"\bstrasse\b|(?<=\w)strasse\b", "str", text)
    text = re.sub(r"\bstreet\b", "st", text)
    text = re.sub(r"\broad\b", "rd", text)
    text = re.sub(r"\bavenue\b", "ave", text)
    return re.sub(r"[^0-9a-z]+", "", text)
