"""The rating details page: ``/rating/<domain>`` (full) and ``?format=popup`` (compact).

Where it sits: the browser add-on links every rating icon to
``/rating/<domain>?format=popup``; people follow it to see *why* a site got
its letter. The page shows the stored rating with its evidence, as the
rater recorded it (``raterd.rules``: dicts with ``kind``, ``value``,
``page``, ``method``, ``source``): which sources confirmed the business,
what was found on which page, and the rule that decided. ``?format=json``
gives the same data to programs. A domain with no rating yet gets a page
that says where its rating stands and reloads itself until it is there.

Everything shown came from rated web sites and must be treated as hostile.
This module only arranges plain data; the templates (``page_*.html``,
autoescaping, see :mod:`frontend._html`) turn it into HTML, and only plain
http(s) URLs become links (``rel="nofollow noopener noreferrer"``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from protocol.vocabulary import LOCATION_FIELDS
from store import StoredRating

from ._html import render

__all__ = ["render_details", "render_not_rated", "render_pending", "details_json", "group_confirmations",
           "explanation", "Pending", "RATING_MEANING", "RATINGINFO_MEANING", "RATING_EXPLANATION",
           "REFRESH_SECONDS"]

RATING_MEANING = {
    "A": "Site ownership verified",
    "Q": "Site ownership identified but not verified",
    "X": "Site ownership unknown or questionable",
    "U": "Not rated",
    "W": "Being rated",
}
RATINGINFO_MEANING = {
    "": "",
    "error": "An internal error occurred in the rating system.",
    "no_domain": "The domain name is not valid.",
    "no_website": "No web site was found at the domain.",
    "blocked": "Access to the web site was refused (by password or robots.txt).",
    "no_location": "No street address could be associated with the web site.",
    "negative_info": "Negative information about this site was found.",
    "non_commercial": "The site appears to be non-commercial.",
    "unverified": "The business was identified, but no independent source confirmed it.",
    "bad_url": "The URL has invalid syntax or is an IP address, not a domain.",
}
# The one-line explanation of a letter whose ratinginfo is empty.
RATING_EXPLANATION = {
    "A": "The business behind the site was identified on the site and confirmed by an independent source.",
    "W": "The site is being rated; this page reloads itself until the rating is there.",
}
# How evidence kinds are grouped on the page, in this order; others go last.
_SECTIONS = [
    ("Who confirmed it", ("confirmation", "blocklist", "certificate")),
    ("Business found on the site", ("name", "address", "registration", "phone")),
    ("Other candidates considered", ("name_candidate", "address_candidate")),
    ("Is it selling?", ("commerce", "selling", "parked")),
    ("How the rating was decided", ("rule", "robots", "fetch_error", "error")),
]
_POPUP_KINDS = ("confirmation", "blocklist", "name", "address")
_MAX_POPUP_FACTS = 6
# A page for a domain being rated reloads after this many seconds (the API
# tells clients to ask again in 5 s; a person waiting is shown progress sooner).
REFRESH_SECONDS = 3


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else json.dumps(value)[:500])


def _evidence(rating: StoredRating) -> list[dict[str, str]]:
    out = []
    for record in rating.evidence if isinstance(rating.evidence, list) else []:
        if isinstance(record, dict):
            out.append({k: _str(record.get(k)) for k in ("kind", "value", "page", "method", "source")})
    return out


def _subject(record: dict[str, str]) -> tuple[str, str]:
    """``(what was confirmed, how)`` of a confirmation's text.

    Sources write ``[source: ]<the register entry or certificate>: <which
    check agreed>``; two checks of one entry differ only after the last
    ``": "`` (and in the source prefix, when two sources hold the entry).
    """
    value = record["value"]
    if record["source"] and value.startswith(record["source"] + ": "):
        value = value[len(record["source"]) + 2:]
    subject, sep, check = value.rpartition(": ")
    return (subject, check) if sep and subject else (value, "")


def group_confirmations(records: list[dict[str, str]]) -> list[dict[str, str]]:
    """``records`` with the confirmations of one register entry (or certificate) merged into one row.

    The merged row says what was confirmed once, then every check that
    agreed and every source that said so. Other records pass unchanged, in
    their place; a confirmation nothing else shares its subject with keeps
    its text as recorded.
    """
    groups: dict[str, list[dict[str, str]]] = {}
    for record in records:
        if record["kind"] == "confirmation":
            groups.setdefault(_subject(record)[0].casefold(), []).append(record)
    out: list[dict[str, str]] = []
    for record in records:
        if record["kind"] != "confirmation":
            out.append(record)
            continue
        group = groups.pop(_subject(record)[0].casefold(), None)
        if group is None:  # merged into an earlier row
            continue
        if len(group) == 1:
            out.append(record)
            continue
        checks = [_subject(r)[1] or r["method"] for r in group]
        out.append({"kind": "confirmation", "value": _subject(record)[0],
                    "page": next((r["page"] for r in group if r["page"]), ""),
                    "method": "; ".join(dict.fromkeys(c for c in checks if c)),
                    "source": ", ".join(dict.fromkeys(r["source"] for r in group if r["source"]))})
    return out


def explanation(rating: str, ratinginfo: str, evidence: list[dict[str, str]] | None = None) -> str:
    """The one line under the letter: what the ratinginfo means, or what the letter means in words."""
    text = RATINGINFO_MEANING.get(ratinginfo, ratinginfo)
    if text:
        return text
    text = RATING_EXPLANATION.get(rating, "")
    sources = list(dict.fromkeys(e["source"] for e in evidence or () if e["kind"] == "confirmation" and e["source"]))
    if rating == "A" and sources:
        text = text.removesuffix(".") + f": {', '.join(sources)}."
    return text


def _location_lines(rating: StoredRating) -> list[str]:
    """Name, street, "city, region postcode", country: one address block."""
    loc = rating.location if isinstance(rating.location, dict) else {}
    get = {k: _str(loc.get(k)).strip() for k in LOCATION_FIELDS}
    place = " ".join(p for p in (get["region"], get["postcode"]) if p)
    town = ", ".join(p for p in (get["city"], place) if p)
    return [line for line in (get["name"], get["street"], town, get["country"]) if line]


def _sections(evidence: list[dict[str, str]]) -> list[tuple[str, list[dict[str, str]]]]:
    sections = []
    shown: set[int] = set()
    for title, kinds in _SECTIONS:
        rows = [(i, e) for i, e in enumerate(evidence) if e["kind"] in kinds]
        if rows:
            shown.update(i for i, _ in rows)
            sections.append((title, [e for _, e in rows]))
    rest = [e for i, e in enumerate(evidence) if i not in shown]
    if rest:
        sections.append(("Other evidence", rest))
    return sections


def render_details(rating: StoredRating, now: float, *, popup: bool = False, base: str = "",
                   internal: bool = False) -> bytes:
    """The details page of a stored rating; ``internal`` adds links to the operators' pages."""
    evidence = group_confirmations(_evidence(rating))
    context = {
        "base": base, "domain": rating.domain, "rating": rating.rating,
        "meaning": RATING_MEANING.get(rating.rating, ""),
        "info": explanation(rating.rating, rating.ratinginfo, evidence),
        "location": _location_lines(rating), "rated_at": rating.rated_at, "expires_at": rating.expires_at,
        "expired": rating.expired(now), "internal": internal, "rated_by": rating.rated_by,
    }
    if popup:
        facts = [e for e in evidence if e["kind"] in _POPUP_KINDS][:_MAX_POPUP_FACTS]
        return render("rating_popup.html", facts=facts, **context)
    return render("rating.html", sections=_sections(evidence), **context)


def render_not_rated(domain: str, reason: str, *, popup: bool = False, base: str = "") -> bytes:
    """The page for a name that has no rating and will get none (not a domain, refused)."""
    return render("rating_none.html", base=base, domain=domain, reason=reason, popup=popup)


@dataclass(frozen=True, slots=True)
class Pending:
    """Where a domain's first rating stands, as the page for it shows."""

    state: str  # "queued", "rating" or "unavailable" (the queue could not be reached)
    position: int = 0
    progress: str = ""
    message: str = ""


def render_pending(domain: str, pending: Pending, *, popup: bool = False, base: str = "",
                   refresh: int = REFRESH_SECONDS) -> bytes:
    """The page for a domain with no rating yet: it reloads itself every ``refresh`` seconds."""
    return render("rating_pending.html", base=base, domain=domain, pending=pending, popup=popup, refresh=refresh,
                  explanation=RATING_EXPLANATION["W"])


def details_json(rating: StoredRating) -> bytes:
    data = {"domain": rating.domain, "rating": rating.rating, "ratinginfo": rating.ratinginfo,
            "location": rating.location or {}, "evidence": _evidence(rating),
            "rated_at": rating.rated_at, "expires_at": rating.expires_at, "rated_by": rating.rated_by}
    return json.dumps(data, ensure_ascii=True).encode("ascii")
