"""The rating rules: accumulated ``SiteFindings`` in, rating letter + ``ratinginfo`` + location + evidence out.

This is the last step of a rating and a pure function: no I/O, the same
findings always give the same decision. The first rule that applies wins:

====  ===============================================================  ======  =================
rule  when                                                             rating  ratinginfo
====  ===============================================================  ======  =================
1     a blocklist lists the site (overrides everything)                ``X``   ``negative_info``
2     the rating itself failed (``internal_error``)                    ``U``   ``error``
3     no web site: name does not resolve, refused, no home page        ``U``   ``no_website``
4     robots.txt forbids us                                            ``X``   ``blocked``
5     the home page is a parked or for-sale domain page                ``U``   ``non_commercial``
      (:meth:`SiteFindings.parked_home`), whatever it sells or names
6     business identified (name *and* street address) and at least     ``A``   ``""``
      one strong independent confirmation (registry, OV/EV cert) of
      *that* name
7     business identified, not confirmed                               ``Q``   ``unverified``
8     commercial (``is_commercial``) but the business is not           ``X``   ``no_location``
      identified (no street address, or no name)
9     otherwise                                                        ``U``   ``non_commercial``
====  ===============================================================  ======  =================

"Identified" means :meth:`SiteFindings.best_name` (score >= ``NAME_MIN_SCORE``)
and :meth:`SiteFindings.best_address` are both found. A confirmation counts
only for the business the site is rated as: its ``matched_name`` must be the
best name once case, punctuation and legal form are set aside, so a register
entry for some other company the site mentions ("payments by Acme Pay Ltd")
cannot make the site an ``A``. Rule 5 comes before the business rules
because a parked page's "Buy now $2,999" sells the domain, not anything on
it, and its imprint is the parking company's: neither is the site's
business, so it is neither ``X`` nor ``Q``/``A``. Rule 8 deliberately
also covers a shop whose address was found but whose name was not: calling
it ``non_commercial`` would be false, and without a name nobody can be
held to the address. The location (API v3) is given for ``A`` and ``Q``
only: for a blocklisted site a found address may be an impersonation.

The evidence list explains the decision on the details page: the rule that
fired, blocklist hits, confirmations, the name and address with the pages
they were found on, registrations, phones, selling signals, the certificate
organisation; de-duplicated and capped at ``MAX_EVIDENCE``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from protocol.vocabulary import Rating, RatingInfo
from raterd.extract.commerce import commerce_score, is_commercial
from raterd.extract.organisation import normalise_org_name, strip_legal_form
from raterd.findings import Evidence, SiteFindings

__all__ = ["Decision", "decide", "MAX_EVIDENCE"]

MAX_EVIDENCE = 100
_MAX_SELLING = 15
_MAX_PHONES = 10


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of a rating, ready for the RESULT message."""

    rating: Rating
    ratinginfo: RatingInfo
    location: dict[str, str] | None = None
    evidence: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rating": str(self.rating),
            "ratinginfo": str(self.ratinginfo),
            "location": dict(self.location) if self.location else None,
            "evidence": [dict(e) for e in self.evidence],
        }


def decide(findings: SiteFindings) -> Decision:
    """Apply the rules in the module table, in order; the first that applies decides."""
    name = findings.best_name()
    address = findings.best_address()
    identified = name is not None and address is not None
    strong = [c for c in findings.confirmations
              if c.strength == "strong" and name is not None and _same_business(c.matched_name, name.name)]
    parked = findings.parked_home()
    commercial = is_commercial(findings.selling) and not parked

    if findings.blocklisted:
        rule, rating, info = "1: listed by a blocklist", Rating.X, RatingInfo.NEGATIVE_INFO
    elif findings.internal_error:
        rule, rating, info = "2: internal error while rating", Rating.U, RatingInfo.ERROR
    elif not findings.reachable:
        rule, rating, info = "3: no web site", Rating.U, RatingInfo.NO_WEBSITE
    elif findings.robots_blocked:
        rule, rating, info = "4: robots.txt forbids rating", Rating.X, RatingInfo.BLOCKED
    elif parked:
        rule, rating, info = "5: parked or for-sale domain, no business on it", Rating.U, RatingInfo.NON_COMMERCIAL
    elif identified and strong:
        rule, rating, info = "6: name and street address found and confirmed", Rating.A, RatingInfo.NONE
    elif identified:
        rule, rating, info = "7: name and street address found, not confirmed", Rating.Q, RatingInfo.UNVERIFIED
    elif commercial:
        missing = "street address" if address is None else "business name"
        rule, rating, info = f"8: commercial site, no {missing} found", Rating.X, RatingInfo.NO_LOCATION
    else:
        rule, rating, info = "9: not commercial, business not identified", Rating.U, RatingInfo.NON_COMMERCIAL

    location = None
    if rating in (Rating.A, Rating.Q) and name is not None and address is not None:
        location = address.location_dict(name.name)
    evidence = _evidence(findings, rule, commercial, parked)
    return Decision(rating=rating, ratinginfo=info, location=location, evidence=evidence)


def _same_business(a: str, b: str) -> bool:
    """Two spellings of one organisation ("ACME WIDGETS LIMITED" and "Acme Widgets Ltd.")."""
    ka, kb = strip_legal_form(normalise_org_name(a)), strip_legal_form(normalise_org_name(b))
    if ka and kb:
        return ka == kb
    # Scripts the normaliser does not handle: compare the plain text.
    return bool(a.strip()) and a.casefold().split() == b.casefold().split()


def _evidence(findings: SiteFindings, rule: str, commercial: bool, parked: list[Evidence]) -> list[dict[str, str]]:
    items: list[Evidence] = [Evidence(kind="rule", value=rule, source="rules")]
    items += findings.blocklisted
    items += parked
    if findings.internal_error:
        items.append(Evidence(kind="error", value=findings.internal_error[:300]))
    if findings.fetch_error:
        items.append(Evidence(kind="fetch_error", value=findings.fetch_error[:300]))
    if findings.robots_blocked:
        items.append(Evidence(kind="robots", value="robots.txt disallows the rater"))
    strong_first = sorted(findings.confirmations, key=lambda c: c.strength != "strong")
    for conf in strong_first:
        items.append(Evidence(kind="confirmation", value=conf.detail, method=conf.strength, source=conf.source))

    names = findings.name_groups()
    if names:
        _score, _best, members = names[0]
        for member in _one_per_page(members):
            items.append(Evidence(kind="name", value=member.name, page=member.page, method=member.method))
        for _score, other, _members in names[1:4]:  # runners-up, so a wrong pick can be seen
            items.append(Evidence(kind="name_candidate", value=other.name, page=other.page, method=other.method))
    addresses = findings.address_groups()
    if addresses:
        _score, _best, members = addresses[0]
        for member in _one_per_page(members):
            items.append(Evidence(kind="address", value=member.summary(), page=member.page, method=member.method))
        for _score, other, _members in addresses[1:3]:
            items.append(Evidence(kind="address_candidate", value=other.summary(), page=other.page, method=other.method))

    seen_regs: set[tuple[str, str]] = set()
    for reg in findings.registrations:
        if (reg.scheme, reg.value) not in seen_regs:
            seen_regs.add((reg.scheme, reg.value))
            value = f"{reg.value} ({reg.authority})" if reg.authority else reg.value
            items.append(Evidence(kind="registration", value=value, page=reg.page, method=reg.scheme))
    items += _first_per_value(findings.phones)[:_MAX_PHONES]
    selling = _first_per_value(findings.selling)
    if selling:
        verdict = "commercial" if commercial else "not commercial: parked domain" if parked else "not commercial"
        items.append(Evidence(kind="commerce", value=f"{verdict} (score {commerce_score(findings.selling):g})",
                              source="rules"))
        items += selling[:_MAX_SELLING]
    if findings.certificate_org:
        items.append(Evidence(kind="certificate", value=findings.certificate_org, method="subject_o"))

    out: list[dict[str, str]] = []
    seen: set[tuple[str, str, str, str]] = set()
    for item in items:
        key = (item.kind, item.value, item.page, item.method)
        if key not in seen:
            seen.add(key)
            out.append(item.to_dict())
            if len(out) >= MAX_EVIDENCE:
                break
    return out


def _one_per_page(members: list) -> list:
    """One entry per (page, method): shows where, and by how many means, a fact was found."""
    seen: set[tuple[str, str]] = set()
    out = []
    for member in sorted(members, key=lambda m: -getattr(m, "confidence", 0)):
        if (member.page, member.method) not in seen:
            seen.add((member.page, member.method))
            out.append(member)
    return out[:12]


def _first_per_value(items: list[Evidence]) -> list[Evidence]:
    seen: set[tuple[str, str]] = set()
    out = []
    for item in items:
        if (item.method if item.kind == "selling" else "", item.value) not in seen:
            seen.add((item.method if item.kind == "selling" else "", item.value))
            out.append(item)
    return out
