"""Pure extractors: from one page's HTML to who runs the site (no sockets, no threads).

Flow: the fetcher hands each page's text to :func:`extract_page`, which
parses it once (lxml) and runs every extractor; the pipeline merges the
resulting :class:`PageFindings` into ``raterd.findings.SiteFindings`` and
follows ``PageFindings.links`` to the site's identity pages. Each extractor
is also usable on its own with a snippet, which is how the tests use them.
Nothing here raises on bad input: garbage gives no findings.
"""

from raterd.extract.address import find_addresses, is_street_line, parse_address_block
from raterd.extract.commerce import COMMERCIAL_THRESHOLD, commerce_score, find_selling, is_commercial
from raterd.extract.html import PageFindings, extract_page, parse_html, visible_text
from raterd.extract.links import IdentityLink, find_identity_links, rank_urls, sitemap_urls
from raterd.extract.organisation import find_org_names, legal_form, normalise_org_name, strip_legal_form
from raterd.extract.phones import find_phones, region_for
from raterd.extract.registration import find_registrations

__all__ = [
    "COMMERCIAL_THRESHOLD",
    "IdentityLink",
    "PageFindings",
    "commerce_score",
    "extract_page",
    "find_addresses",
    "find_identity_links",
    "find_org_names",
    "find_phones",
    "find_registrations",
    "find_selling",
    "is_commercial",
    "is_street_line",
    "legal_form",
    "normalise_org_name",
    "parse_address_block",
    "parse_html",
    "rank_urls",
    "region_for",
    "sitemap_urls",
    "strip_legal_form",
    "visible_text",
]
