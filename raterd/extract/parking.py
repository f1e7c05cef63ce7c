"""Parked and for-sale domains: a page that offers the domain itself, not a business.

A parked domain's home page says "This domain is for sale", "Buy this
domain", "Make an offer", or shows "Sponsored listings" from a parking
service (Sedo, Dan, Afternic, Bodis, ParkingCrew, GoDaddy's lander...).
Such a page often carries a price and a "Buy now" button, which the
commerce extractor counts as selling; but nobody sells anything *on* the
site, so the rules rate it ``U``/``non_commercial`` and never ``X``, and
never take the parking company's imprint for the site's business.

What makes a page parked (each ``Evidence(kind="parked")``, ``method``):

====================  ===========================================================
``for_sale``          a sentence offering the domain ("this domain is for sale",
                      "buy this domain", "diese Domain steht zum Verkauf", "ce
                      domaine est à vendre", "dit domein is te koop", "此域名出售"...)
                      or "make an offer" next to the word "domain"; small pages
``parking_service``   a parking or domain-sale service in the page's scripts,
                      frames, links or forms (sedoparking.com, dan.com,
                      afternic.com, bodis.com, GoDaddy's parking lander, AdSense
                      for domains ``caf.js``); small pages
``parking_ads``       the parking services' disclaimer ("the sponsored listings
                      ... are served automatically by a third party", "this page
                      is parked free"), any page; or "sponsored listings" /
                      "related searches" with one of the above
====================  ===========================================================

"Small" is what a visitor reads: parking pages have a few dozen words; a
registrar's or domain marketplace's own home page, which uses the same
phrases, has hundreds. Pure function of one page; the rules look at the
home page's.
"""

from __future__ import annotations

import re

from lxml import etree

from raterd.extract._selling_words import fold_words
from raterd.findings import Evidence

__all__ = ["find_parking", "SMALL_PAGE_WORDS"]

SMALL_PAGE_WORDS = 400  # visible words: parking pages have far fewer, real home pages far more
_SCAN = 30_000  # characters of visible text to look at: the offer is at the top

# Sentences offering the domain, in folded form (see fold_words). "domain"
# may be followed by the name itself: "the domain example.com is for sale".
_NAME = r"(?:\s+[\w-]+(?:\s+[\w-]+){0,3})?"
_FOR_SALE = re.compile(
    r"\b(?:"
    rf"(?:this|the)\s+domain(?:\s+name)?{_NAME}\s+(?:is|may\s+be|might\s+be|could\s+be)\s+"
    r"(?:for\s+sale|available\s+for\s+(?:sale|purchase|lease))"
    r"|(?:buy|purchase|get|acquire|lease)\s+this\s+domain(?:\s+name)?"
    r"|domain(?:\s+name)?\s+(?:is\s+)?for\s+sale|make\s+(?:an\s+)?offer\s+(?:on|for)\s+this\s+domain"
    r"|inquire\s+about\s+this\s+domain|interested\s+in\s+(?:buying|purchasing)\s+this\s+domain"
    # German, French, Spanish, Italian, Dutch, Portuguese
    rf"|(?:diese|die)\s+domain{_NAME}\s+(?:steht\s+zum\s+verkauf|ist\s+zu\s+verkaufen|kaufen|kann\s+erworben\s+werden)"
    r"|domain\s+(?:steht\s+)?zum\s+verkauf|domain\s+kaufen"
    rf"|ce\s+(?:nom\s+de\s+)?domaine{_NAME}\s+est\s+a\s+vendre|(?:nom\s+de\s+)?domaine\s+a\s+vendre"
    r"|acheter\s+ce\s+(?:nom\s+de\s+)?domaine"
    rf"|este\s+dominio{_NAME}\s+(?:esta\s+(?:a\s+la|en)\s+venta|se\s+vende)|dominio\s+en\s+venta"
    r"|comprar\s+este\s+dominio"
    rf"|questo\s+dominio{_NAME}\s+e\s+in\s+vendita|dominio\s+in\s+vendita|acquista\s+questo\s+dominio"
    rf"|(?:dit|deze)\s+(?:domein|domeinnaam){_NAME}\s+is\s+te\s+koop|(?:domein|domeinnaam)\s+te\s+koop"
    rf"|este\s+dominio{_NAME}\s+esta\s+a\s+venda|dominio\s+a\s+venda|comprar\s+este\s+dominio"
    # Nordic, Central European
    r"|(?:denna|den\s+har)\s+doman(?:en)?\s+ar\s+till\s+salu|domanen\s+ar\s+till\s+salu"
    r"|dette\s+domaene\s+er\s+til\s+salg|dette\s+domenet\s+er\s+til\s+salgs|domenet\s+er\s+til\s+salgs"
    r"|tama\s+verkkotunnus\s+on\s+myynnissa|verkkotunnus\s+myytavana"
    r"|ta\s+domena\s+jest\s+na\s+sprzedaz|domena\s+na\s+sprzedaz"
    r"|tato\s+domena\s+je\s+na\s+prodej|domena\s+na\s+prodej|tato\s+domena\s+je\s+na\s+predaj"
    r"|ez\s+a\s+domain(?:\s+nev)?\s+elado|a\s+domain(?:\s+nev)?\s+elado"
    r")\b"
)
# Chinese, Japanese and Korean, matched in the text as written (folding takes
# the voicing marks off kana).
_FOR_SALE_CJK = re.compile(r"(?:此|本|該)?域名(?:正在)?(?:出售|轉讓|转让)|このドメインは(?:販売中|売り出し中)|ドメイン(?:販売中|売ります)"
                           r"|이 도메인은 판매 중|도메인 판매")
# "kayak-corner.com is for sale": the domain named as written.
_NAMED_SALE = re.compile(r"(?<![\w.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\s+(?:is|may\s+be|might\s+be|ist|est|is\s+nu)\s+"
                         r"(?:for\s+sale|zu\s+verkaufen|à\s+vendre|te\s+koop|in\s+vendita|en\s+venta|à\s+venda)\b")
_OFFER = re.compile(r"\b(?:make\s+(?:an\s+|your\s+)?offer|minimum\s+offer|submit\s+(?:an\s+|your\s+)?offer"
                    r"|angebot\s+abgeben|faire\s+une\s+offre|hacer\s+una\s+oferta|fare\s+un\s+offerta|bod\s+uitbrengen)\b")
_ADS = re.compile(r"\b(?:sponsored\s+listings|related\s+searches|related\s+links|sponsored\s+links)\b")
_DISCLAIMER = re.compile(
    r"served\s+automatically\s+by\s+a\s+third\s+party"
    r"|neither\s+the\s+service\s+provider\s+nor\s+the\s+domain\s+owner"
    r"|this\s+(?:web\s+)?page\s+(?:is|was)\s+(?:parked|provided)\s+(?:free|courtesy)"
    r"|parked\s+free\s+courtesy\s+of|this\s+domain\s+is\s+parked"
)
# Where parking and domain-sale services show up in a page's markup.
_SERVICES = re.compile(
    r"sedoparking\.com|sedo\.com/(?:search|checkout|buy)|\bdan\.com/(?:buy-domain|lander)|afternic\.com"
    r"|hugedomains\.com|bodis\.com|parkingcrew\.net|above\.com/marketplace|domainmarket\.com|undeveloped\.com"
    r"|efty\.com|atom\.com/name|squadhelp\.com|buydomains\.com|parklogic\.com|parked-content\.godaddy\.com"
    r"|wsimg\.com/parking-lander|/lander\b|adsense/domains/caf\.js|dsparking\.com|domainsponsor\.com"
    r"|namebright\.com|domainnamesales\.com|sav\.com/(?:buy|domain)|uniregistry\.com"
)  # matched on lower case: a case-blind regex costs twice as much on every page


def _markup_urls(doc: etree._Element) -> str:
    """The script, frame, link and form URLs of the page: where a parking service shows itself."""
    urls = []
    for count, el in enumerate(doc.iter("script", "iframe", "a", "form", "link", "meta")):
        if count >= 2000:
            break
        value = el.get("src") or el.get("href") or el.get("action") or ""
        if el.tag == "meta" and (el.get("http-equiv") or "").lower() == "refresh":
            value = el.get("content") or ""
        if el.tag == "script" and not value:
            value = (el.text or "")[:2000]  # inline loaders: "caf.js", "parking-lander"
        if value:
            urls.append(value)
    return "\n".join(urls)


# Words one of the sentences above needs; most pages have none, and are not folded at all.
_HINT = re.compile(r"\bdom(?:ai|ei|in|ín|én|án|än|æn|en)|verkkotunnus|域名|ドメイン|도메인|sponsored|related\s+searches|parked"
                   r"|for\s+sale|te\s+koop|zu\s+verkaufen|à\s+vendre|in\s+vendita|en\s+venta|à\s+venda")  # on lower case


def find_parking(doc: etree._Element, url: str, text: str) -> list[Evidence]:
    """Signs that the page is a parked or for-sale domain page (see the module table); ``[]`` for any other page."""
    if doc is None:
        return []
    text = (text or "")[:_SCAN]
    # A registrar's or domain blog's home page says the same phrases among hundreds of other words.
    small = len(text.split()) < SMALL_PAGE_WORDS
    title = " ".join(" ".join(el.text_content().split()) for el in doc.iter("title"))[:300]
    written = f"{title}\n{text}"
    lowered = written.lower()
    hinted = _HINT.search(lowered) is not None
    if not (small or hinted):
        return []
    folded = fold_words(written) if hinted else ""
    out: list[Evidence] = []

    def add(method: str, value: str) -> None:
        out.append(Evidence(kind="parked", value=value[:200], page=url, method=method))

    disclaimer = _DISCLAIMER.search(folded)
    if disclaimer:  # the parking services' own words: on no other page, whatever its size
        add("parking_ads", disclaimer.group(0))
    if not small:
        return out
    sale = None
    if hinted:
        sale = _FOR_SALE.search(folded) or _NAMED_SALE.search(lowered) or _FOR_SALE_CJK.search(written)
        offer = _OFFER.search(folded)
        if sale:
            add("for_sale", sale.group(0))
        elif offer and re.search(r"\bdomain|\bdomein|\bdominio|\bdomaine|\bdomena|\bdoman", folded):
            add("for_sale", offer.group(0))
    service = _SERVICES.search(_markup_urls(doc).lower())  # a JavaScript lander has no text at all
    if service:
        add("parking_service", service.group(0).lower())
    ads = _ADS.search(folded)
    if ads and (service or sale) and not disclaimer:
        add("parking_ads", ads.group(0))
    return out
