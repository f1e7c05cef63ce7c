"""A business named without a legal form, read from where it sits: at the head of the block that holds its address.

Small businesses often write their name with no "Ltd" or "GmbH" at all:

.. code-block:: html

    <h2>Blue Heron Kayak Company</h2>
    <p>112 Harbor Road<br>Port Townsend, WA 98368</p>

    <address><strong>Nordlys Keramikk</strong><br>Storgata 12<br>0155 Oslo</address>

A name like that is taken from the line just above an address that the
address extractor found on the same page (or the text before the street on
its line), skipping label lines ("Address:", "Contact us"), and scored by
what vouches for it:

================  ==========================================================  ==========
method            when                                                        confidence
================  ==========================================================  ==========
address_heading   the line is a heading (``h1``-``h6``, ``strong``/``b``,       0.55
                  ``dt``, ``th``, ``caption``, ``legend``) or the first line
                  of an ``<address>``, and it is the page's only such name
address_line      any such line that the page's ``<title>``, its                0.55
                  ``og:site_name`` or the site's domain agrees with
(either)          otherwise (several named address blocks, as on a             0.3
                  stockists page; a plain line nothing agrees with)
================  ==========================================================  ==========

0.55 clears ``NAME_MIN_SCORE``, so such a name identifies the business on
its own; 0.3 does not, but still adds up when another page's title or
og:site_name names the same business.  Never a random heading: a candidate
must look like a name (at most six words, capitalised words or a script
without case, no sentence, no label words such as "address", "hours",
"stockists"), and a page that lists several addresses under several names
(stockists, dealers, branches of other companies) vouches for none of them.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

from raterd.extract._dom import fold, text_lines, visible_text
from raterd.extract._legal_forms import legal_form, normalise_org_name, strip_legal_form
from raterd.extract._site import registrable_domain
from raterd.findings import PostalAddress

__all__ = ["block_names", "HEADING_CONFIDENCE", "WEAK_CONFIDENCE"]

HEADING_CONFIDENCE = 0.55
LEGAL_FORM_CONFIDENCE = 0.7  # a name with a legal form next to the address: the extractor's "address" method
WEAK_CONFIDENCE = 0.3
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "strong", "b", "dt", "th", "caption", "legend")
_MAX_HEADINGS = 500

# A line made of these is a label of the block, not a name ("Our address",
# "Contact us", "Opening hours", "Find us"); folded forms.
_LABEL_WORDS = frozenset("""
    contact contacts contactez contacto contato contatti kontakt kontakta kontakte kontakty kapcsolat yhteystiedot
    kontaktinformation kontaktoplysninger kontaktinformasjon elerhetoseg elerhetosegek
    address addresses adresse adressen adres adresa adresy anschrift direccion indirizzo endereco osoite cim postadresse
    postal mailing registered office head headquarters hours opening directions map
    visit find where imprint impressum legal mentions notice
    returns return shipping delivery billing invoice
    stockist stockists dealer dealers retailer retailers reseller resellers distributor distributors
    partner partners haendler handler revendeurs rivenditori verkooppunten forhandlere aterforsaljare
    location locations showroom branches
    about welcome home
    kundenservice kundendienst kundeservice kundtjanst asiakaspalvelu klantenservice obsluga zakaznicky
    ugyfelszolgalat atendimento fale conosco servizio clienti atencion cliente client clients
    enquiries inquiries
    sale offers newsletter pickup collect closed getting follow
""".split())
# (Words that also name businesses, "Sales", "Events", "News", "Collection",
# "Open", stay out of the list above: "Pacific Boat Sales" is a name.)
# Headings made only of these are generic ("Customer Service", "Our Shop",
# "Sales Team"), though each word may belong to a name.
_GENERIC_WORDS = frozenset("""
    customer customers service services support team sales general department information info details
    company business store shop office main online web new our us in touch the and of get
""".split())
_CJK_LABELS = re.compile(r"고객센터|연락처|오시는\s*길|주소|お問い合わせ|会社概要|会社案内|所在地|アクセス|住所|店舗情報"
                         r"|聯絡我們|联系我们|地址|關於我們|关于我们|公司資料")
# First words of a sentence or an invitation rather than a name.
_OPENERS = frozenset("our your come get write call send email e mail phone tel telephone fax how we you".split())
# Pages that list other businesses' addresses.
_LIST_PAGE = re.compile(
    r"stockist|where[-_ ]?to[-_ ]?buy|dealer|retailer|reseller|store[-_ ]?locator|storelocator|haendler|handler"
    r"|points?[-_ ]de[-_ ]vente|revendeur|rivenditor|verkooppunt|forhandler|aterforsaljare|distribut",
    re.I,
)
_CONNECTORS = frozenset({"of", "and", "und", "&", "de", "del", "della", "di", "du", "des", "la", "le", "van",
                         "der", "den", "von", "for", "y", "e", "et", "the", "d", "l", "a", "+", "-", "og", "och",
                         "og", "i", "en", "het", "das", "die", "zum", "zur", "am", "im", "da", "do", "dos", "das"})
_TITLE_SPLIT = re.compile(r"\s+[|–—:·»-]\s+|\s*[|»·]\s*")


def _key(name: str) -> str:
    normalised = normalise_org_name(name)
    return strip_legal_form(normalised) or normalised


def _looks_like_name(text: str) -> bool:
    """A short, capitalised run of words: "Blue Heron Kayak Company", "Nordlys Keramikk", "Café de la Paix"."""
    words = text.split()
    if not 1 <= len(words) <= 6 or len(text) > 80 or text.endswith((":", "?", "!")):
        return False
    if re.search(r"[@/]|\.\s|\d{3,}", text) or sum(ch.isdigit() for ch in text) > len(text) // 4:
        return False
    folded = fold(text).split()
    if not folded and not re.search(r"[^\W\d_]", text):
        return False
    if any(w in _LABEL_WORDS for w in folded) or (folded and folded[0] in _OPENERS and len(folded) > 1):
        return False
    if (folded and all(w in _GENERIC_WORDS for w in folded)) or _CJK_LABELS.search(text):
        return False
    for word in words:
        letters = [ch for ch in word if ch.isalpha()]
        if not letters or not any(ch.islower() or ch.isupper() for ch in letters):
            continue  # digits, "&", a script without case
        if letters[0].islower() and word.lower().strip(",.") not in _CONNECTORS:
            return False  # a sentence: "come and see us"
    return True


def _heading_lines(doc: etree._Element) -> set[str]:
    """Texts of the page's headings and of the first line of each ``<address>``, whitespace collapsed."""
    out: set[str] = set()
    for count, el in enumerate(doc.iter(*_HEADING_TAGS)):
        if count >= _MAX_HEADINGS:
            break
        text = " ".join((el.text_content() or "").split())
        if text and len(text) <= 100:
            out.add(text)
    for count, el in enumerate(doc.iter("address")):
        if count >= 20:
            break
        lines = text_lines(visible_text(el, limit=2000))
        if lines:
            out.add(lines[0])
    return out


def _agreeing_keys(doc: etree._Element, url: str) -> set[str]:
    """Name keys the page's title, og:site_name and the site's domain vouch for."""
    keys: set[str] = set()
    for el in doc.iter("title"):
        for part in _TITLE_SPLIT.split(" ".join((el.text_content() or "").split())[:300]):
            if part.strip():
                keys.add(_key(part))
        break
    for meta in doc.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").strip().lower() == "og:site_name":
            keys.add(_key(meta.get("content") or ""))
            break
    keys.discard("")
    return keys


def _domain_agrees(key: str, url: str) -> bool:
    """``blueheronkayak.com`` vouches for "Blue Heron Kayak Company" (its name without spaces and legal form)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    label = registrable_domain(host).split(".", 1)[0].replace("-", "")
    squeezed = key.replace(" ", "")
    return len(label) >= 5 and len(squeezed) >= 5 and (label == squeezed or label == squeezed.removeprefix("the"))


def _find_street(lines: list[str], street: str) -> tuple[int, int] | None:
    """(line, offset) of the street as printed: the address reader may have tidied it ("Corso Umberto I, 27")."""
    words = street.split()
    if not words:
        return None
    pattern = re.compile(r"[\s,.]*".join(map(re.escape, words)))
    for index, line in enumerate(lines):
        if words[0] in line:
            match = pattern.search(line)
            if match:
                return index, match.start()
    return None


def _candidate(lines: list[str], index: int, start: int) -> str:
    """The text before the street (at *start* of line *index*), else the nearest line above that is not a label."""
    line = lines[index]
    before = line[:start].strip(" ,;|•·-–—:")
    if before and not _is_label(before):
        return before
    for j in range(index - 1, max(-1, index - 4), -1):
        if lines[j] and not _is_label(lines[j]):
            return lines[j]
    return ""


def _is_label(text: str) -> bool:
    """"Address:", "Contact us", "Our address", "所在地": a line that introduces the block."""
    if _CJK_LABELS.fullmatch(text.strip(" :：")):
        return True
    folded = fold(text).split()
    return bool(folded) and len(folded) <= 4 and all(
        w in _LABEL_WORDS or w in _OPENERS or w in _GENERIC_WORDS or w in ("us", "uns", "nous") for w in folded)


def block_names(doc: etree._Element, url: str, lines: list[str],
                addresses: list[PostalAddress]) -> list[tuple[str, str, float]]:
    """``(name, method, confidence)`` for each name heading an address block (module table).

    A candidate that ends in a legal form comes back as method ``address``
    (the caller cuts it to the name): the line-based reader of the name
    extractor misses it when it is set off by dashes rather than a line break.
    """
    if doc is None or not addresses:
        return []
    found: dict[str, tuple[str, bool]] = {}  # key -> (name, is a heading)
    with_form: dict[str, str] = {}
    headings: set[str] | None = None
    for addr in addresses[:10]:
        if addr.method in ("jsonld", "microdata") or not addr.street or addr.page not in ("", url):
            continue  # structured data names its organisation itself
        where = _find_street(lines, addr.street)
        if where is None:
            continue  # e.g. in a hosting provider's block, which the name extractor does not read
        cand = " ".join(_candidate(lines, *where).split())
        if cand and legal_form(cand):
            # "Ceramiche Vietri S.n.c. - Corso Umberto I, 27 - 84019 ...": a legal name, however it is set off.
            with_form.setdefault(_key(cand), cand)
            continue
        if not cand or not _looks_like_name(cand):
            continue
        if fold(cand) in (fold(addr.city), fold(addr.postcode)):
            continue
        if headings is None:
            headings = _heading_lines(doc)
        key = _key(cand)
        if key and key not in found:
            found[key] = (cand, cand in headings)
    out = [(name, "address", LEGAL_FORM_CONFIDENCE) for name in with_form.values()]
    if not found:
        return out
    agreeing = _agreeing_keys(doc, url)
    page_path = urlsplit(url).path if "://" in url else url
    listing = len(found) > 1 or bool(_LIST_PAGE.search(page_path))
    for key, (name, heading) in found.items():
        agreed = key in agreeing or _domain_agrees(key, url)
        method = "address_heading" if heading else "address_line"
        strong = agreed or (heading and not listing)
        out.append((name, method, HEADING_CONFIDENCE if strong else WEAK_CONFIDENCE))
    return out
