"""Which links on a page lead to the pages that say who runs the site.

After the home page is fetched, the pipeline asks :func:`find_identity_links`
for the contact, about, imprint, legal, privacy, terms, order/checkout and
site-map pages, then fetches the best ~20 concurrently. Links are recognised
by their text (or ``title``/``aria-label``/image ``alt``) and by their URL
path, in the languages of the 30+ countries whose addresses we read (Japanese
and Korean link texts by substring); only links on
the same registrable site (``www.``/``shop.`` subdomains included) over
http(s) are returned, without fragments, de-duplicated and best first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from lxml import etree

from raterd.extract._dom import fold
from raterd.extract._site import normalise_host, same_site

__all__ = ["IdentityLink", "KIND_PRIORITY", "find_identity_links", "rank_urls", "sitemap_urls", "classify"]

# Base score per kind: an imprint names the legal entity and its address by
# law; contact and about pages usually carry the address; the rest sometimes do.
KIND_PRIORITY = {
    "imprint": 100,
    "contact": 90,
    "about": 80,
    "legal": 70,
    "terms": 50,
    "privacy": 45,
    "order": 35,
    "sitemap": 20,
}
_TEXT_BONUS = 10  # the link says what it is
_URL_BONUS = 5  # and its path agrees
_MAX_TEXT_WORDS = 8  # "read more about our new product range" is not a nav link

# Folded phrases (see _dom.fold: lower case, no accents, punctuation -> space).
_PHRASES: dict[str, tuple[str, ...]] = {
    "imprint": (
        "impresszum", "impressum", "tiraz", "informacje prawne", "pravni informace", "pravne informacie",
        "juridisk information", "juridiske oplysninger", "aviso legal", "informacoes legais",
        "tokushoho", "tokutei", "legal notice",
        "imprint", "impressum", "legal notice", "legal notices", "site notice", "legal disclosure",
        "anbieterkennzeichnung", "mentions legales", "mention legale", "informations legales",
        "aviso legal", "nota legal", "informacion legal", "note legali", "nota legale",
        "informazioni legali", "colofon", "colophon",
    ),
    "contact": (
        "kontakta oss", "kontakt oss", "kontakt os", "kontaktinformation", "kundtjanst", "kundeservice",
        "yhteystiedot", "ota yhteytta", "asiakaspalvelu", "kontakt z nami", "kontaktujte nas", "kapcsolat",
        "elerhetoseg", "elerhetosegek", "ugyfelszolgalat", "contactos", "contato", "fale conosco", "contate nos",
        "atendimento", "contactanos", "contactenos", "contactame", "besoksadress", "hitta hit",
        "contact", "contact us", "contacts", "contact info", "contact information", "get in touch",
        "customer service", "customer care", "find us", "our locations", "store locator",
        "kontakt", "kontaktieren sie uns", "kontaktformular", "kundenservice", "anfahrt", "standorte",
        "nous contacter", "contactez nous", "nous joindre", "service client",
        "contacto", "contactanos", "contactenos", "contacte", "atencion al cliente",
        "contatti", "contattaci", "contatto", "contattateci", "servizio clienti", "dove siamo",
        "neem contact op", "klantenservice",
    ),
    "about": (
        "om oss", "om os", "om virksomheden", "meista", "yritys", "tietoa meista", "o nas", "o firmie", "o nas",
        "o spolocnosti", "o spolecnosti", "rolunk", "cegunkrol", "sobre nos", "quem somos", "a empresa",
        "nosotros", "acerca de", "company profile",
        "about", "about us", "about the company", "who we are", "our company", "our story", "company",
        "uber uns", "ueber uns", "wir uber uns", "unternehmen", "das unternehmen",
        "qui sommes nous", "a propos", "a propos de nous", "notre societe", "notre entreprise",
        "quienes somos", "sobre nosotros", "nuestra empresa", "la empresa", "empresa",
        "chi siamo", "azienda", "l azienda", "la nostra azienda",
        "over ons", "wie zijn wij", "wie wij zijn", "ons bedrijf",
    ),
    "legal": (
        "legal", "legal information", "legal info", "company information", "company details",
        "corporate information", "rechtliches", "rechtliche hinweise", "haftungsausschluss",
        "informations juridiques", "juridique", "informacion corporativa", "juridisch", "disclaimer",
    ),
    "privacy": (
        "privacy", "privacy policy", "privacy notice", "privacy statement", "data protection",
        "datenschutz", "datenschutzerklarung", "datenschutzhinweise",
        "confidentialite", "politique de confidentialite", "vie privee", "donnees personnelles",
        "protection des donnees", "privacidad", "politica de privacidad", "proteccion de datos",
        "informativa privacy", "informativa sulla privacy", "trattamento dei dati",
        "privacybeleid", "privacyverklaring", "privacy verklaring", "gegevensbescherming",
    ),
    "terms": (
        "kopvillkor", "allmanna villkor", "handelsbetingelser", "salgsbetingelser", "toimitusehdot",
        "regulamin", "obchodni podminky", "obchodne podmienky", "aszf", "termos e condicoes", "termos de uso",
        "terms", "terms of service", "terms of use", "terms and conditions", "terms conditions",
        "conditions of sale", "conditions of use", "shipping", "delivery", "returns", "refund policy",
        "returns policy", "shipping policy", "agb", "allgemeine geschaftsbedingungen",
        "nutzungsbedingungen", "versand", "versandkosten", "versand und zahlung", "widerruf",
        "widerrufsbelehrung", "widerrufsrecht", "cgv", "cgu", "conditions generales",
        "conditions generales de vente", "conditions generales d utilisation", "livraison", "retours",
        "terminos", "terminos y condiciones", "condiciones", "condiciones generales",
        "condiciones de uso", "envios", "devoluciones", "termini", "termini e condizioni",
        "condizioni", "condizioni generali", "condizioni di vendita", "spedizioni", "resi",
        "algemene voorwaarden", "voorwaarden", "verzending", "retourneren", "leveringsvoorwaarden",
    ),
    "order": (
        "varukorg", "kassan", "till kassan", "kurv", "handlekurv", "ostoskori", "kassalle", "koszyk", "kosik",
        "kosar", "carrinho", "finalizar compra", "agregar al carrito",
        "cart", "shopping cart", "basket", "shopping basket", "checkout", "check out", "order",
        "how to order", "order now", "warenkorb", "kasse", "zur kasse", "bestellen", "bestellung",
        "panier", "mon panier", "commander", "commande", "carrito", "cesta", "pedido",
        "realizar pedido", "tramitar pedido", "carrello", "cassa", "ordine", "winkelwagen",
        "winkelmand", "afrekenen",
    ),
    "sitemap": (
        "sitemap", "site map", "plan du site", "plan de site", "mapa del sitio", "mapa web",
        "mappa del sito", "mappa sito", "sitemap xml",
    ),
}
# Link texts in scripts that ``fold`` drops, found as substrings of the text.
# Japanese law (特定商取引法) requires a shop to publish its operator, address and
# phone on a disclosure page, usually linked by its title; 会社概要 / 運営会社
# pages name the company and its address too.
_SCRIPT_PHRASES: tuple[tuple[str, str], ...] = (
    ("特定商取引法", "imprint"), ("特定商取引に関する", "imprint"), ("特商法", "imprint"), ("会社概要", "imprint"),
    ("運営会社", "imprint"), ("事業者情報", "imprint"), ("会社情報", "imprint"), ("사업자정보", "imprint"),
    ("お問い合わせ", "contact"), ("お問合せ", "contact"), ("問い合わせ", "contact"), ("アクセス", "contact"),
    ("고객센터", "contact"), ("문의하기", "contact"), ("연락처", "contact"), ("오시는 길", "contact"),
    ("聯絡我們", "contact"), ("联系我们", "contact"), ("聯繫我們", "contact"),
    ("회사소개", "about"), ("關於我們", "about"), ("关于我们", "about"), ("私たちについて", "about"),
    ("利用規約", "terms"), ("이용약관", "terms"), ("プライバシーポリシー", "privacy"), ("개인정보처리방침", "privacy"),
    ("カート", "order"), ("장바구니", "order"), ("購物車", "order"), ("购物车", "order"),
)
_NON_LATIN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3]")

# Lookup tables: phrase -> kinds, and the same without spaces for URL segments
# like /AboutUs.aspx or /mentionslegales.
_BY_PHRASE: dict[str, set[str]] = {}
_BY_COMPACT: dict[str, set[str]] = {}
for _kind, _phrases in _PHRASES.items():
    for _phrase in _phrases:
        _BY_PHRASE.setdefault(_phrase, set()).add(_kind)
        _BY_COMPACT.setdefault(_phrase.replace(" ", ""), set()).add(_kind)
_LONGEST_PHRASE = max(len(p.split()) for p in _BY_PHRASE)
# <link rel="..."> values some sites (WordPress among them) publish.
_REL_KINDS = {"privacy-policy": "privacy", "terms-of-service": "terms", "sitemap": "sitemap"}

_NOT_PAGES = re.compile(
    r"\.(?:pdf|jpe?g|png|gif|svg|webp|ico|bmp|tiff?|zip|gz|tgz|rar|7z|exe|dmg|msi|mp[34]|m4a|avi|mov|"
    r"wmv|webm|ogg|wav|docx?|xlsx?|pptx?|odt|ods|css|js|json|woff2?|ttf|eot|rss|atom)$",
    re.I,
)
_PAGE_EXT = re.compile(r"\.(?:html?|php\d?|aspx?|jsp|cfm|shtml|cgi|pl)$", re.I)


@dataclass(frozen=True, slots=True)
class IdentityLink:
    """A link worth fetching: absolute URL, what it probably is, and how sure we are (higher first)."""

    url: str
    kind: str
    score: int


def _phrase_kinds(folded: str) -> set[str]:
    """Kinds whose phrases occur as whole words in ``folded`` (looked up by n-gram, not by scanning)."""
    words = folded.split()
    found: set[str] = set()
    for n in range(1, min(_LONGEST_PHRASE, len(words)) + 1):
        for i in range(len(words) - n + 1):
            found |= _BY_PHRASE.get(" ".join(words[i: i + n]), set())
    return found


def _url_kinds(path: str) -> set[str]:
    """Kinds named by a URL's path/query segments: ``/de/impressum.php``, ``/pages/contact-us``.

    A segment must *be* the phrase, or a short slug that starts or ends with
    it (``/about-acme``); a long blog slug that merely mentions "about" is not
    an about page.
    """
    kinds: set[str] = set()
    for segment in re.split(r"[/?&=;]", unquote(path))[:20]:
        words = fold(_PAGE_EXT.sub("", segment)).split()
        if not words:
            continue
        kinds |= _BY_COMPACT.get("".join(words), set())
        candidates = {" ".join(words)}
        if len(words) <= 3:
            candidates |= {" ".join(words[:k]) for k in range(1, len(words))}
            candidates |= {" ".join(words[-k:]) for k in range(1, len(words))}
        for candidate in candidates:
            kinds |= _BY_PHRASE.get(candidate, set())
    return kinds


def _best(kinds: set[str]) -> str | None:
    return max(kinds, key=KIND_PRIORITY.__getitem__) if kinds else None


def classify(url_path: str, texts: list[str] | tuple[str, ...] = ()) -> tuple[str, int] | None:
    """Kind and score of a link from its path and its texts, or None when it is not an identity link.

    The text decides the kind when it matches (it is what the site calls the
    page); otherwise the path does. Deep paths and query strings cost a little.
    """
    text_kinds: set[str] = set()
    for text in texts:
        folded = fold(text)
        if folded and len(folded.split()) <= _MAX_TEXT_WORDS:
            text_kinds |= _phrase_kinds(folded)
        if len(text) <= 40 and _NON_LATIN.search(text):
            text_kinds |= {kind for phrase, kind in _SCRIPT_PHRASES if phrase in text}
    url_kinds = _url_kinds(url_path)
    kind = _best(text_kinds) or _best(url_kinds)
    if kind is None:
        return None
    score = KIND_PRIORITY[kind]
    if kind in text_kinds:
        score += _TEXT_BONUS
    if kind in url_kinds:
        score += _URL_BONUS
    if url_path.count("/") > 3:
        score -= 5
    return kind, score


def _clean_url(href: str, base: str) -> tuple[str, tuple] | None:
    """Absolute http(s) URL without fragment, plus a key for de-duplication; None if unusable."""
    href = (href or "").strip()
    if not href or len(href) > 2000 or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
        return None
    try:
        absolute = urljoin(base, href)
        parts = urlsplit(absolute)
        port = parts.port  # raises ValueError on a junk port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    host = normalise_host(parts.hostname)
    if not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != (443 if scheme == "https" else 80):
        netloc = f"{netloc}:{port}"
    path = parts.path or "/"
    url = urlunsplit((scheme, netloc, path, parts.query, ""))
    # http and https, /about and /about/ are the same page for our purposes.
    key = (netloc, path.rstrip("/").lower() or "/", parts.query)
    return url, key


def _link_texts(el: etree._Element) -> list[str]:
    texts = [el.text_content() or ""]
    for attr in ("title", "aria-label"):
        if el.get(attr):
            texts.append(el.get(attr) or "")
    for img in el.iter("img"):
        if img.get("alt"):
            texts.append(img.get("alt") or "")
    return [" ".join(t.split())[:300] for t in texts if t and t.strip()]


def _base_url(doc: etree._Element, page_url: str) -> str:
    for base in doc.iter("base"):
        href = base.get("href")
        if href:
            try:
                candidate = urljoin(page_url, href.strip())
            except ValueError:
                break
            if urlsplit(candidate).scheme in ("http", "https"):
                return candidate
        break
    return page_url


def find_identity_links(doc: etree._Element, page_url: str, site_domain: str, limit: int = 20) -> list[IdentityLink]:
    """Links on this page to identity pages of the same site, best first, at most ``limit``."""
    if doc is None or limit <= 0:
        return []
    base = _base_url(doc, page_url)
    own = _clean_url(page_url, page_url)
    seen: set[tuple] = {own[1]} if own else set()
    found: list[tuple[int, int, IdentityLink]] = []
    order = 0
    for el in doc.iter("a", "area", "link"):
        if order > 5000:  # a page with more links than this is a link farm; we have seen enough
            break
        order += 1
        href = el.get("href")
        cleaned = _clean_url(href or "", base)
        if cleaned is None:
            continue
        url, key = cleaned
        parts = urlsplit(url)
        if key in seen or key[1] == "/" and not parts.query or _NOT_PAGES.search(parts.path):
            continue
        if not same_site(parts.hostname or "", site_domain):
            continue
        if el.tag == "link":
            rels = (el.get("rel") or "").lower().split()
            kind = next((_REL_KINDS[r] for r in rels if r in _REL_KINDS), None)
            if kind is None:
                continue
            result: tuple[str, int] | None = (kind, KIND_PRIORITY[kind] + _TEXT_BONUS)
        else:
            result = classify(parts.path + ("?" + parts.query if parts.query else ""), _link_texts(el))
        if result is None:
            continue
        seen.add(key)
        kind, score = result
        if parts.query:
            score -= 5
        found.append((-score, order, IdentityLink(url, kind, score)))
    found.sort(key=lambda item: (item[0], item[1]))
    return [link for _, _, link in found[:limit]]


def rank_urls(urls: list[str], site_domain: str, limit: int = 20) -> list[IdentityLink]:
    """Identity pages among bare URLs (e.g. from sitemap.xml), judged by path alone, best first."""
    found: list[tuple[int, int, IdentityLink]] = []
    seen: set[tuple] = set()
    for order, raw in enumerate(urls[:50_000]):
        cleaned = _clean_url(raw, raw)
        if cleaned is None or cleaned[1] in seen:
            continue
        url, key = cleaned
        parts = urlsplit(url)
        if key[1] == "/" or _NOT_PAGES.search(parts.path) or not same_site(parts.hostname or "", site_domain):
            continue
        result = classify(parts.path)
        if result is None:
            continue
        seen.add(key)
        found.append((-result[1], order, IdentityLink(url, result[0], result[1])))
    found.sort(key=lambda item: (item[0], item[1]))
    return [link for _, _, link in found[:limit]]


def sitemap_urls(xml_text: str, limit: int = 5000) -> list[str]:
    """The ``<loc>`` URLs of a sitemap or sitemap index (http/https only); ``[]`` for anything unreadable.

    Entities are never expanded and nothing is fetched, so a hostile sitemap
    cannot reach the network or blow up memory.
    """
    if isinstance(xml_text, str):
        data = xml_text.encode("utf-8", "replace")
    elif isinstance(xml_text, (bytes, bytearray)):
        data = bytes(xml_text)
    else:
        return []
    if not data.strip():
        return []
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False, remove_comments=True)
    try:
        root = etree.fromstring(data[:20_000_000], parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    out: list[str] = []
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el).localname != "loc":
            continue
        url = (el.text or "").strip()
        if url.lower().startswith(("http://", "https://")):
            out.append(url)
            if len(out) >= limit:
                break
    return out
