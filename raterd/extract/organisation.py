"""Who runs the site: organisation names from one page, and the name normalisation used for matching.

Sources, most trusted first:

=================  ==========================================================  ==============
method             where                                                       confidence
=================  ==========================================================  ==============
``jsonld``         schema.org Organization / Corporation / LocalBusiness and   0.95 legalName,
                   subtypes (Store, Restaurant...) at the top level or in      0.9 name
                   ``@graph``; as ``publisher``/``copyrightHolder``/           0.85 (+0.05)
                   ``mainEntity``; as an offer's ``seller``/``provider``       0.75 (+0.05)
``microdata``      the same types as ``itemtype``, ``itemprop`` name/legalName  0.05 less
``imprint``        "Angaben gemäß § 5 TMG", "Raison sociale :", "This website   0.8 with a legal
                   is operated by", "Le site est édité par"... and the         form; else 0.65
                   company line that follows                                   (strong label)
                                                                               or 0.4
``copyright``      "© 2024 Acme Widgets Ltd. All rights reserved"              0.75 with a legal
                                                                               form, else 0.5
                                                                               (0.3 a domain)
``address``        the line just above a street address, if it ends in a      0.7
                   legal form ("Acme Widgets Ltd")
``address_*``      a name without a legal form heading the block of an        0.55 / 0.3
                   address found on the page ("Blue Heron Kayak Company"
                   above "112 Harbor Road"): ``address_heading`` and
                   ``address_line``, see ``_block_names``
``og:site_name``   ``<meta property="og:site_name">``                          0.6 / 0.5
``title``          ``<title>``: a part with a legal form, else the brand part  0.45 / 0.25
=================  ==========================================================  ==============

Organisations that are not the site's (a product's ``brand`` or
``manufacturer``, an article's ``author``, a person's employer) and web
hosts named in an imprint ("Hébergeur : OVH SAS ...") are ignored.
:func:`normalise_org_name` gives the form used to compare names with
registries and certificates.
"""

from __future__ import annotations

import re

from lxml import etree

from raterd.extract._block_names import block_names
from raterd.extract._dom import fold, fold_keep, text_lines, visible_text
from raterd.extract._legal_forms import FORM_ANYWHERE as _FORM_ANYWHERE
from raterd.extract._legal_forms import legal_form, normalise_org_name, strip_legal_form
from raterd.extract._structured import Structured, read_structured
from raterd.extract.address import is_street_line, without_hosting_blocks
from raterd.findings import OrganisationName, PostalAddress

__all__ = [
    "find_org_names",
    "normalise_org_name",
    "strip_legal_form",
    "legal_form",
    "name_ending_with_legal_form",
    "is_org_type",
    "ORG_TYPES",
]

# schema.org types that are organisations. LocalBusiness has hundreds of
# subtypes; the suffix rule in is_org_type catches the rest (ShoeStore, ...).
ORG_TYPES = frozenset({
    "Organization", "Organisation", "Corporation", "LocalBusiness", "OnlineBusiness", "OnlineStore",
    "Store", "Restaurant", "NGO", "GovernmentOrganization", "EducationalOrganization",
    "MedicalOrganization", "NewsMediaOrganization", "SportsOrganization", "PerformingGroup",
    "Airline", "Consortium", "ResearchOrganization", "LibrarySystem", "WorkersUnion", "Cooperative",
    "ProfessionalService", "LegalService", "FinancialService", "EmergencyService", "FoodEstablishment",
    "Bakery", "BarOrPub", "Brewery", "CafeOrCoffeeShop", "FastFoodRestaurant", "Winery", "Distillery",
    "Dentist", "Physician", "Pharmacy", "Hospital", "Attorney", "Notary", "Plumber", "Electrician",
    "Locksmith", "RoofingContractor", "GeneralContractor", "HVACBusiness", "HousePainter",
    "AccountingService", "InsuranceAgency", "RealEstateAgent", "TravelAgency", "AutoDealer",
    "AutoRepair", "AutoBodyShop", "AutoRental", "AutoWash", "GasStation", "Hotel", "Motel", "Hostel",
    "BedAndBreakfast", "LodgingBusiness", "Library", "BankOrCreditUnion", "Bank", "CreditUnion",
    "DaySpa", "HairSalon", "NailSalon", "BeautySalon", "HealthClub", "Optician", "Florist",
    "MovingCompany", "SelfStorage", "ChildCare", "DryCleaningOrLaundry", "EmploymentAgency",
    "Campground", "Casino", "NightClub", "ComedyClub", "MovieTheater", "BowlingAlley",
    "GolfCourse", "SkiResort", "SportsClub", "TattooParlor", "VeterinaryCare", "RadioStation",
    "TelevisionStation", "ArchiveOrganization", "FundingScheme",
})
_ORG_SUFFIXES = ("Store", "Business", "Organization", "Establishment", "Agency", "Shop", "Restaurant",
                 "Dealer", "Contractor", "Company", "Service")
_NOT_ORG = frozenset({"Service", "GovernmentService", "BroadcastService", "CableOrSatelliteService",
                      "FinancialProduct", "FoodService", "TaxiService", "WebAPI", "Person"})


def is_org_type(schema_type: str) -> bool:
    if schema_type in _NOT_ORG:
        return False
    return schema_type in ORG_TYPES or schema_type.endswith(_ORG_SUFFIXES)


# -- cleaning candidates ---------------------------------------------------------------

_CONNECTORS = frozenset({"of", "and", "und", "&", "de", "del", "della", "di", "du", "des", "la", "le", "van",
                         "der", "den", "von", "for", "y", "e", "et", "the", "d", "l", "a", "+", "-"})
# Words that end a name when walking backwards from its legal form.
_BREAK_WORDS = frozenset({"by", "von", "par", "por", "da", "door", "copyright", "is", "ist", "est", "es",
                          "operated", "owned", "betrieben", "powered", "reserved", "rights"})
_STOP_NAMES = frozenset({
    "all rights reserved", "the author", "the authors", "this site", "this website", "website", "copyright",
    "home", "welcome", "index", "startseite", "accueil", "inicio", "homepage", "home page", "official site",
    "official website", "untitled", "untitled document", "page not found", "404", "alle rechte vorbehalten",
    "tous droits reserves", "impressum", "imprint", "contact", "kontakt", "about us", "privacy policy",
})
_DOMAINISH = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|info|biz|shop|store|online|[a-z]{2})$", re.I)


def _clean_name(text: str) -> str:
    text = " ".join((text or "").replace("\u00a0", " ").split())
    text = text.strip(" ,;:-–—|•·\"'“”«»[]")
    # Keep the bracket of "Beispiel UG (haftungsbeschränkt)"; drop unbalanced ones.
    if text.startswith("(") and text.count("(") > text.count(")"):
        text = text[1:].strip()
    while text.endswith(")") and text.count(")") > text.count("("):
        text = text[:-1].strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return text[:120]


def _plausible(name: str) -> bool:
    if not name or len(name) < 2 or len(name) > 100:
        return False
    if not re.search(r"[^\W\d_]", name) or "@" in name or "://" in name or name.lower().startswith("www."):
        return False
    if len(name.split()) > 10 or fold(name) in _STOP_NAMES:
        return False
    digits = sum(ch.isdigit() for ch in name)
    return digits <= len(name) // 3


def name_ending_with_legal_form(text: str) -> str | None:
    """The company name that ends at the first legal form in ``text`` (at most 7 words), or None.

    ``© 2024 Acme Widgets Ltd. All rights reserved`` -> ``Acme Widgets Ltd.``;
    walking back from the form stops at years, punctuation and words like
    "by" or a lower-case word that is not a connector ("of", "und", "de"...).
    """
    text = text[:600]
    match = _FORM_ANYWHERE.search(text)
    if not match:
        return None
    words = list(re.finditer(r"\S+", text[: match.start("form")]))
    start = None
    kept = 0
    for word in reversed(words):
        bare = word.group(0).strip(",")
        if not bare:
            continue
        if (re.fullmatch(r"[\d\-–/.,()]+", bare) or any(ch in bare for ch in ":|•·©«»\"“”")
                or bare.lower() in _BREAK_WORDS or (bare.endswith((".", ";", "!", "?")) and kept)):
            break
        if bare[0].islower() and bare.lower() not in _CONNECTORS:
            break
        start = word.start()
        kept += 1
        if kept >= 7:
            break
    # A name does not start with a connector: "of Acme Ltd" -> "Acme Ltd".
    while start is not None:
        head = re.match(r"\S+\s*", text[start: match.start("form")])
        if head is None or head.group(0).strip(" ,").lower() not in _CONNECTORS:
            break
        start += head.end()
        if start >= match.start("form"):
            start = None
    if start is None:
        return None
    name = _clean_name(text[start: match.end("form")])
    return name if _plausible(name) else None


def _add(out: dict[tuple[str, str], OrganisationName], name: str, page: str, method: str, confidence: float) -> None:
    name = _clean_name(name)
    if not _plausible(name):
        return
    key = (name, method)
    if key not in out or out[key].confidence < confidence:
        out[key] = OrganisationName(name=name, page=page, method=method, confidence=confidence)


# -- structured data --------------------------------------------------------------------

# Where an organisation node may hang and still be the site's own (confidence).
_OWN_PARENTS = {"": 0.9, "publisher": 0.85, "copyrightHolder": 0.85, "mainEntity": 0.85,
                "sourceOrganization": 0.8, "seller": 0.75, "provider": 0.75}


def _structured_names(structured: Structured, page: str, out: dict) -> None:
    for node in structured.nodes:
        if not any(is_org_type(t) for t in node.types) or "Person" in node.types:
            continue
        base = _OWN_PARENTS.get(node.parent_key)
        if base is None:
            continue
        if node.source == "microdata":
            base -= 0.05
        legal = node.first_text("legalName")
        name = node.first_text("name")
        if legal:
            _add(out, legal, page, node.source, min(0.95, base + 0.05))
        if name:
            _add(out, name, page, node.source, base)


# -- page text ---------------------------------------------------------------------------

_COPYRIGHT = re.compile(r"©|&copy;|\bcopyright\b|\(c\)(?=\s*(?:19|20)\d\d)", re.I)
_YEARS = re.compile(r"^\s*(?:(?:copyright|©|\(c\)|by)\s*)*(?:(?:19|20)\d\d(?:\s*[-–—/]\s*(?:(?:19|20)?\d\d|present|heute|today))?\s*[,.]?\s*)*(?:by\s+)?", re.I)
_COPY_END = re.compile(
    r"\s*(?:[|•·]|\s[-–—]\s|\ball rights reserved|\balle rechte vorbehalten|\btous droits r[ée]serv[ée]s"
    r"|\btodos los derechos reservados|\btutti i diritti riservati|\balle rechten voorbehouden"
    r"|\bpowered by|\bdesigned by|\bbuilt with|\btheme by|\bmade with|\bsite by|\bwebsite by|\bwebdesign)",
    re.I,
)


def _copyright_names(lines: list[str], page: str, out: dict) -> None:
    found = 0
    for line in lines:
        match = _COPYRIGHT.search(line)
        if not match:
            continue
        rest = _YEARS.sub("", line[match.end():], count=1)
        rest = _COPY_END.split(rest, maxsplit=1)[0]
        name = name_ending_with_legal_form(rest)
        if name:
            _add(out, name, page, "copyright", 0.75)
        else:
            candidate = re.split(r"[.;:!?,](?:\s|$)", rest, maxsplit=1)[0]
            candidate = re.sub(r"\s*(?:19|20)\d\d\s*$", "", _clean_name(candidate))
            if _DOMAINISH.match(candidate):
                _add(out, candidate, page, "copyright", 0.3)  # a domain says little about who runs it
            elif candidate and len(candidate.split()) <= 6 and (candidate[0].isupper() or candidate[0].isdigit()):
                _add(out, candidate, page, "copyright", 0.5)
        found += 1
        if found >= 5:
            break


# Imprint labels: strong ones introduce the legal name by law or by name
# ("Raison sociale"); weak ones ("Herausgeber", "Publisher") may introduce a
# person, so without a legal form they count for little.
_STRONG_LABEL = re.compile(
    r"^\s*(?:angaben\s+gem(?:a(?:ß|ss)|\.)\s*§\s*5\s*(?:tmg|ddg|ecg)|informationspflicht\s+laut\s+§\s*5"
    r"|company\s+name|registered\s+(?:company\s+)?name|legal\s+(?:entity\s+)?name|firmenname|firmierung"
    r"|raison\s+sociale|denomination\s+sociale|denominacion\s+social|razon\s+social|ragione\s+sociale"
    r"|denominazione\s+sociale|bedrijfsnaam|handelsnaam|statutaire\s+naam"
    r"|razao\s+social|denominacao\s+social|nome\s+empresarial|cegnev|ceg\s+neve|nazwa\s+firmy|nazwa\s+sprzedawcy"
    r"|obchodni\s+firma|nazev\s+firmy|obchodne\s+meno|nazov\s+firmy|foretagsnamn|firmanavn|virksomhedsnavn"
    r"|selskabsnavn|toiminimi|yrityksen\s+nimi|nombre\s+comercial|nom\s+commercial)\b\s*(?:[:：\-–]\s*|$)",
)
# The same in Korean, Japanese and Chinese, matched as written: the footer of a
# Korean shop ("상호: 하늘다원 | 대표: ..."), a Japanese 特定商取引法 page
# ("販売業者: 株式会社..."), a Hong Kong or Taiwanese imprint ("公司名稱：...").
_CJK_LABEL = re.compile(r"^\s*(?:상호(?:명)?|회사명|법인명|販売業者|事業者名?|会社名|運営会社|社名|公司名稱|公司名称|商號)"
                        r"\s*(?:[:：]\s*|$)")
# What separates the fields of a one-line imprint: "Acme GmbH · Sitz: Berlin", "하늘다원 | 대표: 김민준".
_FIELD_BREAK = re.compile(r"\s*[|｜•·]\s*|\s{2,}")
# Phrases that run straight into the name, anywhere a sentence starts.
_INLINE_LABEL = re.compile(
    r"(?:^|(?<=[.!?]\s))\s*(?:(?:this|the|our)\s+(?:web)?site\s+is\s+|(?:ce|le)\s+site\s+(?:web\s+|internet\s+)?est\s+)?"
    r"(?:(?:owned\s+and\s+)?operated|published|edite|betrieben|gestito|operado)\s+(?:by|par|von|da|por)\s+",
)
_WEAK_LABEL = re.compile(
    r"^\s*(?:impressum|imprint|(?:dienste)?anbieter|herausgeber(?:in)?|betreiber(?:\s+der\s+(?:website|webseite|seite))?"
    r"|inhaber(?:in)?|editeur(?:\s+du\s+site)?|(?:ce|le)\s+site\s+(?:web\s+)?est\s+edite\s+par|proprietaire"
    r"|publisher|published\s+by|(?:this\s+(?:web)?site\s+is\s+)?(?:owned\s+and\s+)?operated\s+by|site\s+operated\s+by"
    r"|titular|responsable|titolare|gestore|editore|eigenaar|uitgever)\b\s*(?:[:：\-–]\s*|$)",
)


def _imprint_names(lines: list[str], page: str, out: dict) -> None:
    for i, line in enumerate(lines[:5000]):
        folded = fold_keep(line)
        strong = _STRONG_LABEL.match(folded) or _CJK_LABEL.match(line)
        weak = None if strong else (_WEAK_LABEL.match(folded) or _INLINE_LABEL.search(folded))
        label = strong or weak
        if not label:
            continue
        rest = _FIELD_BREAK.split(line[label.end():].strip(), maxsplit=1)[0]
        candidates = [rest] if rest.strip() else []
        candidates += [lines[j] for j in range(i + 1, min(i + 3, len(lines)))]
        for cand in candidates:
            cand = _clean_name(cand)
            if (not cand or is_street_line(cand) or _STRONG_LABEL.match(fold_keep(cand))
                    or _WEAK_LABEL.match(fold_keep(cand)) or _CJK_LABEL.match(cand)):
                continue
            with_form = name_ending_with_legal_form(cand)
            if with_form:
                _add(out, with_form, page, "imprint", 0.8)
            elif _plausible(cand) and len(cand.split()) <= 6:
                _add(out, cand, page, "imprint", 0.65 if strong else 0.4)
            break


def _address_adjacent_names(lines: list[str], page: str, out: dict) -> None:
    for i, line in enumerate(lines[:5000]):
        segments = [s.strip() for s in re.split(r"\s*[,;|•·]\s*", line) if s.strip()]
        for k, seg in enumerate(segments):
            if not is_street_line(seg):
                continue
            before = ", ".join(segments[:k]) if k else (lines[i - 1] if i else "")
            name = name_ending_with_legal_form(before) if before else None
            if name is None and not k and i >= 2:
                name = name_ending_with_legal_form(lines[i - 2])
            if name:
                _add(out, name, page, "address", 0.7)
            break


_TITLE_SPLIT = re.compile(r"\s+[|–—:·»-]\s+|\s*[|»·]\s*")


def _title_name(doc: etree._Element, page: str, out: dict) -> None:
    title = ""
    for el in doc.iter("title"):
        title = " ".join((el.text_content() or "").split())
        break
    if not title:
        return
    parts = [_clean_name(p) for p in _TITLE_SPLIT.split(title[:300]) if _clean_name(p)]
    for part in parts:
        with_form = name_ending_with_legal_form(part)
        if with_form:
            _add(out, with_form, page, "title", 0.45)
            return
    if not parts:
        return
    brand = parts[-1] if len(parts) > 1 else parts[0]
    if len(brand.split()) <= 5:
        _add(out, brand, page, "title", 0.25)


def _og_site_name(doc: etree._Element, page: str, out: dict) -> None:
    for meta in doc.iter("meta"):
        prop = (meta.get("property") or meta.get("name") or "").strip().lower()
        if prop == "og:site_name":
            name = _clean_name(meta.get("content") or "")
            _add(out, name, page, "og:site_name", 0.6 if legal_form(name) else 0.5)
            return


def find_org_names(doc: etree._Element, url: str, text: str | None = None,
                   structured: Structured | None = None,
                   addresses: list[PostalAddress] | None = None) -> list[OrganisationName]:
    """Every organisation-name candidate on one page, most confident first. Never raises on bad input.

    ``addresses`` are the street addresses found on the same page: a name
    without a legal form is read only where it heads one of them.
    """
    if doc is None:
        return []
    if text is None:
        text = visible_text(doc)
    if structured is None:
        structured = read_structured(doc)
    lines = without_hosting_blocks(text_lines(text))
    out: dict[tuple[str, str], OrganisationName] = {}
    _structured_names(structured, url, out)
    _og_site_name(doc, url, out)
    _copyright_names(lines, url, out)
    _imprint_names(lines, url, out)
    _address_adjacent_names(lines, url, out)
    for name, method, confidence in block_names(doc, url, lines, addresses or []):
        if method == "address":
            name = name_ending_with_legal_form(name) or ""
        _add(out, name, url, method, confidence)
    _title_name(doc, url, out)
    return sorted(out.values(), key=lambda n: (-n.confidence, n.method, n.name))[:40]

