"""Telephone numbers on a page, as E.164 evidence, found with the ``phonenumbers`` library.

``tel:`` links are read first (the site says outright "this is a number"),
then the visible text through ``PhoneNumberMatcher`` at the VALID leniency,
so order numbers and prices are not mistaken for phones. National numbers
are read in the region of the site: the address country if known, else the
TLD, else US.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote

import phonenumbers
from lxml import etree

from raterd.extract._dom import visible_text
from raterd.extract._site import country_for_domain
from raterd.findings import Evidence

__all__ = ["find_phones", "region_for", "MAX_PHONES"]

log = logging.getLogger(__name__)

MAX_PHONES = 20
# PhoneNumberMatcher is pure Python and slow on huge text; contact details
# are rarely more than this far into a page's text.
_MAX_SCAN_CHARS = 150_000
_MAX_TRIES = 400


def region_for(site_domain: str = "", country: str = "") -> str:
    """Region for reading national numbers: the address country, else the TLD, else ``US``."""
    for code in (country, country_for_domain(site_domain)):
        code = (code or "").upper()
        if code in phonenumbers.SUPPORTED_REGIONS:
            return code
    return "US"


def _e164(number: phonenumbers.PhoneNumber) -> str | None:
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_phones(doc: etree._Element, url: str, text: str | None = None, region: str = "US") -> list[Evidence]:
    """Valid phone numbers on one page, each once (``tel:`` links first). Never raises on bad input."""
    if doc is None:
        return []
    region = region if region in phonenumbers.SUPPORTED_REGIONS else "US"
    seen: set[str] = set()
    out: list[Evidence] = []

    def add(e164: str | None, method: str) -> None:
        if e164 and e164 not in seen and len(out) < MAX_PHONES:
            seen.add(e164)
            out.append(Evidence(kind="phone", value=e164, page=url, method=method))

    for link in doc.iter("a"):
        href = (link.get("href") or "").strip()
        if not href[:4].lower() == "tel:":
            continue
        raw = unquote(href[4:]).split(";")[0].strip()[:40]
        try:
            add(_e164(phonenumbers.parse(raw, region)), "tel_link")
        except phonenumbers.NumberParseException:
            continue
        if len(out) >= MAX_PHONES:
            return out

    if text is None:
        text = visible_text(doc)
    try:
        for match in phonenumbers.PhoneNumberMatcher(text[:_MAX_SCAN_CHARS], region,
                                                     leniency=phonenumbers.Leniency.VALID,
                                                     max_tries=_MAX_TRIES):
            add(_e164(match.number), "text")
            if len(out) >= MAX_PHONES:
                break
    except Exception:  # the library's matcher is not documented as exception-free on odd text
        log.exception("phone matching failed on %s", url)
    return out
