"""One fetched page in, everything it says about who runs the site out.

The pipeline calls :func:`extract_page` once per fetched page (home page
first) and merges the result into the site's ``SiteFindings``; the home
page's ``links`` tell it which identity pages to fetch next. The page is
parsed once; visible text and structured data are computed once and shared
by the extractors. A failing extractor is logged and recorded in
``PageFindings.errors``; the others still run, so one bug or one hostile
construct costs one kind of evidence, not the rating.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from raterd.extract._dom import parse_html, visible_text
from raterd.extract._site import country_for_domain
from raterd.extract._structured import read_structured
from raterd.extract.address import find_addresses
from raterd.extract.commerce import find_selling
from raterd.extract.links import IdentityLink, find_identity_links
from raterd.extract.organisation import find_org_names
from raterd.extract.parking import find_parking
from raterd.extract.phones import find_phones, region_for
from raterd.extract.registration import find_registrations
from raterd.findings import Evidence, OrganisationName, PostalAddress, Registration

__all__ = ["parse_html", "visible_text", "PageFindings", "extract_page"]

log = logging.getLogger(__name__)


@dataclass
class PageFindings:
    """What one page says. ``links`` are identity pages to fetch next (best first); ``parked`` is
    non-empty when the page offers the domain itself for sale or shows a parking service."""

    url: str
    title: str = ""
    names: list[OrganisationName] = field(default_factory=list)
    addresses: list[PostalAddress] = field(default_factory=list)
    phones: list[Evidence] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    selling: list[Evidence] = field(default_factory=list)
    parked: list[Evidence] = field(default_factory=list)
    links: list[IdentityLink] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def extract_page(text: str, url: str, site_domain: str, *, link_limit: int = 20) -> PageFindings:
    """Run every extractor over one page. Never raises: bad input gives empty findings."""
    result = PageFindings(url=url)
    try:
        doc = parse_html(text, url)
        page_text = visible_text(doc)
        structured = read_structured(doc)
    except Exception as exc:  # parse_html is built not to fail; if it does, the page is simply unusable
        log.exception("could not read page %s", url)
        result.errors.append(f"parse: {type(exc).__name__}: {exc}"[:300])
        return result
    raw_html = text if isinstance(text, str) else ""

    def run(name: str, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:  # one extractor's bug must not cost the whole page
            log.exception("extractor %s failed on %s", name, url)
            result.errors.append(f"{name}: {type(exc).__name__}: {exc}"[:300])
            return []

    for title in doc.iter("title"):
        result.title = " ".join((title.text_content() or "").split())[:200]
        break
    hint = country_for_domain(site_domain)
    result.addresses = run("address", find_addresses, doc, url, page_text, hint, structured)
    result.names = run("organisation", find_org_names, doc, url, page_text, structured, result.addresses)
    country = result.addresses[0].country if result.addresses else ""
    result.phones = run("phones", find_phones, doc, url, page_text, region_for(site_domain, country))
    result.registrations = run("registration", find_registrations, page_text, url)
    result.selling = run("commerce", find_selling, doc, url, page_text, raw_html, structured)
    result.parked = run("parking", find_parking, doc, url, page_text)
    result.links = run("links", find_identity_links, doc, url, site_domain, link_limit)
    return result
