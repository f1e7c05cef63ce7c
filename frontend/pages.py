"""The rating details page: ``/rating/<domain>`` (full) and ``?format=popup`` (compact).

Where it sits: the browser add-on links every rating icon to
``/rating/<domain>?format=popup``; people follow it to see *why* a site got
its letter. The page shows the stored rating with its evidence, as the
rater recorded it (``raterd.rules``: dicts with ``kind``, ``value``,
``page``, ``method``, ``source``): which sources confirmed the business,
what was found on which page, and the rule that decided. ``?format=json``
gives the same data to programs.

Everything shown came from rated web sites and must be treated as hostile:
every value is HTML-escaped and only plain http(s) URLs become links
(``rel="nofollow noopener noreferrer"``).
"""

from __future__ import annotations

import json
from typing import Any

from protocol.vocabulary import LOCATION_FIELDS
from store import StoredRating

from ._html import esc, fmt_time, page, safe_href

__all__ = ["render_details", "render_not_rated", "details_json", "RATING_MEANING", "RATINGINFO_MEANING"]

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
# How evidence kinds are grouped on the page, in this order; others go last.
_SECTIONS = [
    ("Who confirmed it", ("confirmation", "blocklist", "certificate")),
    ("Business found on the site", ("name", "address", "registration", "phone")),
    ("Other candidates considered", ("name_candidate", "address_candidate")),
    ("Is it selling?", ("commerce", "selling")),
    ("How the rating was decided", ("rule", "robots", "fetch_error", "error")),
]
_MAX_POPUP_FACTS = 6


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else json.dumps(value)[:500])


def _evidence(rating: StoredRating) -> list[dict[str, str]]:
    out = []
    for record in rating.evidence if isinstance(rating.evidence, list) else []:
        if isinstance(record, dict):
            out.append({k: _str(record.get(k)) for k in ("kind", "value", "page", "method", "source")})
    return out


def _letter(rating: str) -> str:
    return f'<span class="letter letter-{esc(rating)}">{esc(rating)}</span>'


def _location(rating: StoredRating) -> str:
    """Name, street, "city, region postcode", country: one address block, escaped."""
    loc = rating.location if isinstance(rating.location, dict) else {}
    get = {k: _str(loc.get(k)).strip() for k in LOCATION_FIELDS}
    place = " ".join(p for p in (get["region"], get["postcode"]) if p)
    town = ", ".join(p for p in (get["city"], place) if p)
    lines = [get["name"], get["street"], town, get["country"]]
    return "<br>".join(esc(line) for line in lines if line)


def _page_cell(url: str) -> str:
    href = safe_href(url)
    if href:
        return f'<a href="{esc(href)}" rel="nofollow noopener noreferrer">{esc(url)}</a>'
    return esc(url)


def _status_line(rating: StoredRating, now: float) -> str:
    line = f"Rated {esc(fmt_time(rating.rated_at))}"
    if rating.expired(now):
        line += "; this rating has expired and is being refreshed."
    else:
        line += f"; valid until {esc(fmt_time(rating.expires_at))}."
    return line


def render_details(rating: StoredRating, now: float, *, popup: bool = False, base: str = "") -> bytes:
    meaning = RATING_MEANING.get(rating.rating, "")
    info = RATINGINFO_MEANING.get(rating.ratinginfo, rating.ratinginfo)
    location = _location(rating)
    evidence = _evidence(rating)
    full_link = f"{esc(base)}/rating/{esc(rating.domain)}"
    if popup:
        facts = [e for e in evidence if e["kind"] in ("confirmation", "blocklist", "name", "address")]
        items = "".join(
            f"<li>{esc(e['kind'])}: {esc(e['value'])}" + (f" <span class=\"muted\">({esc(e['source'])})</span>"
                                                         if e["source"] else "") + "</li>"
            for e in facts[:_MAX_POPUP_FACTS])
        body = (
            f"<h1>{_letter(rating.rating)} {esc(rating.domain)}</h1>"
            f"<p><strong>{esc(meaning)}</strong>" + (f"<br>{esc(info)}" if info else "") + "</p>"
            + (f"<p>{location}</p>" if location else "")
            + (f"<ul>{items}</ul>" if items else "")
            + f'<p class="muted">{_status_line(rating, now)} '
              f'<a href="{full_link}" target="_blank" rel="noopener">Details</a></p>'
        )
        return page(f"SiteTruth: {rating.domain}", body, base=base, body_class="popup")

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
    tables = "".join(
        f"<h2>{esc(title)}</h2><table><thead><tr><th>what</th><th>found</th><th>on page</th>"
        f"<th>how</th><th>source</th></tr></thead><tbody>"
        + "".join(f"<tr><td>{esc(e['kind'])}</td><td>{esc(e['value'])}</td><td>{_page_cell(e['page'])}</td>"
                  f"<td>{esc(e['method'])}</td><td>{esc(e['source'])}</td></tr>" for e in rows)
        + "</tbody></table>"
        for title, rows in sections)
    body = (
        f'<h1 class="big">{_letter(rating.rating)} {esc(rating.domain)}</h1>'
        f"<p><strong>{esc(meaning)}</strong>" + (f" \u2014 {esc(info)}" if info else "") + "</p>"
        f"<p class=\"muted\">{_status_line(rating, now)}</p>"
        + (f"<h2>Business location</h2><p>{location}</p>" if location else "")
        + (tables or "<p class=\"muted\">No evidence was recorded for this rating.</p>")
    )
    return page(f"SiteTruth rating: {rating.domain}", body, base=base)


def render_not_rated(domain: str, reason: str, *, popup: bool = False, base: str = "") -> bytes:
    body = f"<h1>{_letter('U')} {esc(domain)}</h1><p>{esc(reason)}</p>"
    return page(f"SiteTruth: {domain}", body, base=base, body_class="popup" if popup else "")


def details_json(rating: StoredRating) -> bytes:
    data = {"domain": rating.domain, "rating": rating.rating, "ratinginfo": rating.ratinginfo,
            "location": rating.location or {}, "evidence": _evidence(rating),
            "rated_at": rating.rated_at, "expires_at": rating.expires_at}
    return json.dumps(data, ensure_ascii=True).encode("ascii")
