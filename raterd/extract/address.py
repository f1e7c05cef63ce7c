"""Street addresses on a page: schema.org PostalAddress, ``<address>``, labelled blocks and running text.

A rating needs a *street* address: a street line (house number + street
word such as ``123 Main St`` / ``12 rue de la Paix``, or a street + house
number such as ``Musterstraße 12`` / ``Via Roma 1``) followed within a few
segments by a postcode and city in a known national format:

=======  ==================================  =====================================
country  postcode / city segment             example
=======  ==================================  =====================================
US       City, ST 12345(-6789)               ``123 Main St, Springfield, IL 62704``
CA       City, PR A1A 1A1                    ``100 King St W, Toronto, ON M5X 1A9``
GB       City POSTCODE                       ``10 Downing Street, London SW1A 2AA``
NL       1234 AB City                        ``Keizersgracht 123, 1015 CJ Amsterdam``
DE/FR/   [D-]12345 City                      ``Musterstraße 12, 10115 Berlin``,
IT/ES                                        ``12 rue de la Paix, 75002 Paris``
AT/CH/   [A-]1234 City (only after a         ``Hauptstraße 5, 1010 Wien``
BE/DK    number-last street)
=======  ==================================  =====================================

A bare city, a PO box or a street without postcode is not an address. The
country comes from the format, then a country name in the block, then the
street style (``rue`` -> FR, ``-straße`` -> DE), then the site's TLD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from raterd.extract._dom import fold, fold_keep, text_lines, visible_text
from raterd.extract._structured import Node, Structured, read_structured, text_value
from raterd.findings import ADDRESS_METHOD_WEIGHT, PostalAddress

__all__ = ["find_addresses", "parse_address_block", "is_street_line", "country_code", "without_hosting_blocks"]

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts",
    "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "DC": "District of Columbia", "PR": "Puerto Rico",
}
CA_PROVINCES = {
    "AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador", "NS": "Nova Scotia", "NT": "Northwest Territories",
    "NU": "Nunavut", "ON": "Ontario", "PE": "Prince Edward Island", "QC": "Quebec",
    "SK": "Saskatchewan", "YT": "Yukon",
}
_STATE_BY_NAME = {fold(v): k for k, v in US_STATES.items()}
_PROVINCE_BY_NAME = {fold(v): k for k, v in CA_PROVINCES.items()} | {"quebec": "QC"}


def _alt(words) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


# -- postcode / city segments ------------------------------------------------------------

_CITY = r"[^\W\d_][^\d,;|]{0,40}?"
# US, CA and GB parts are searched at the end of a segment; whatever precedes
# them ("Springfield", or "123 Main St Springfield") is sorted out afterwards.
_US = re.compile(
    rf"(?:^|(?<=[\s,]))(?P<state>{_alt(US_STATES)}|{_alt(US_STATES.values())})\.?,?\s+"
    r"(?P<pc>\d{5}(?:-\d{4})?)(?!\d)(?:\s*,?\s*(?:USA|U\.S\.A\.|US|United States(?: of America)?))?\s*$"
)
_CA = re.compile(
    rf"(?:^|(?<=[\s,]))(?P<state>{_alt(CA_PROVINCES)}|{_alt(CA_PROVINCES.values())}|Québec)\.?,?\s+"
    r"(?P<pc>[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d)(?![A-Z0-9])(?:\s*,?\s*Canada)?\s*$"
)
_UK_PC = r"(?:GIR ?0AA|[A-PR-UWYZ](?:\d[A-HJKPSTUW\d]?|[A-HK-Y]\d[ABEHMNPRV-Y\d]?) ?\d[ABD-HJLNP-UW-Z]{2})"
_UK = re.compile(
    rf"(?:^|(?<=[\s,]))(?P<pc>{_UK_PC})(?![A-Z0-9])"
    r"(?:\s*,?\s*(?:UK|U\.K\.|United Kingdom|Great Britain|England|Scotland|Wales|Northern Ireland))?\s*$"
)
# Number-first parts are tried with .match() at each word start of a segment.
_CEDEX = r"(?:\s+(?i:cedex)(?:\s+\d{1,2})?)?"
_NL = re.compile(rf"(?P<pc>[1-9]\d{{3}}\s?(?!SA|SD|SS)[A-Z]{{2}})\s+(?P<city>{_CITY})\s*$")
_EU5 = re.compile(rf"(?:(?P<ccp>D|DE|F|FR|I|IT|E|ES|FI)\s?-\s?)?(?P<pc>\d{{5}})\s+(?P<city>{_CITY}){_CEDEX}\s*$")
_EU4 = re.compile(rf"(?:(?P<ccp>A|AT|CH|B|BE|DK)\s?-\s?)?(?P<pc>[1-9]\d{{3}})\s+(?P<city>{_CITY})\s*$")

# -- street lines -------------------------------------------------------------------------

_EN_WORDS = {
    "street", "st", "road", "rd", "avenue", "ave", "av", "lane", "ln", "drive", "dr", "court", "ct",
    "place", "pl", "square", "sq", "way", "parkway", "pkwy", "highway", "hwy", "terrace", "ter",
    "close", "crescent", "cres", "row", "circle", "cir", "trail", "trl", "walk", "gardens", "hill",
    "grove", "mews", "park", "green", "broadway", "plaza", "wharf", "quay", "gate", "boulevard",
    "blvd", "crossing", "alley", "pike", "turnpike", "expressway", "freeway", "loop", "path", "ridge",
    "run", "center", "centre", "yard", "rise", "vale", "embankment", "parade", "crescent", "esplanade",
}
_FR_WORDS = {"rue", "avenue", "av", "bd", "boulevard", "place", "allee", "chemin", "impasse", "quai",
             "route", "cours", "passage", "square", "voie", "faubourg", "fbg", "esplanade", "promenade",
             "rond point", "parvis", "sentier", "montee"}
_IT_WORDS = {"via", "viale", "piazza", "piazzale", "corso", "largo", "vicolo", "strada", "contrada",
             "lungomare", "lungotevere", "borgo"}
_ES_WORDS = {"calle", "c", "avenida", "avda", "paseo", "plaza", "carrer", "carretera", "camino", "ronda",
             "travesia", "glorieta", "rambla", "pasaje", "cl"}
_DE_FIRST = {"am", "an", "auf", "im", "in", "unter", "zum", "zur", "hinter", "vor", "alte", "alter",
             "neue", "neuer", "grosse", "kleine", "platz", "allee", "ring", "ufer", "markt"}
_DE_SUFFIX = re.compile(
    r"(?:stra(?:ß|ss)e|str\.?|weg|platz|allee|gasse|ring|damm|ufer|chaussee|markt|steig|pfad|berg|hof|"
    r"graben|kamp|stieg|br(?:ü|ue)cke|tor|wall|promenade|feld|garten|anger|zeile|steinweg|"
    r"straat|gracht|laan|plein|kade|singel|dijk|steeg|dreef|baan|park|"
    r"gatan|vej|gade|veien)$",
    re.I,
)
_NUM_FIRST = re.compile(
    r"(?i)^(?:(?:unit|suite|ste|flat|apt|apartment)\.?\s*#?\s*[\w-]{1,6}\s*[,/]?\s+)?"
    r"(?P<num>\d{1,6}[A-Za-z]?(?:\s?[-–/]\s?\d{1,6}[A-Za-z]?)?)(?:\s*(?:bis|ter|quater)\b)?\s*,?\s+"
    r"(?P<rest>[^\W\d_][\w'’.\- ]{1,70})$"
)
_NUM_LAST = re.compile(
    r"^(?P<rest>(?:C/\s?)?[^\W\d_][\w'’.\- /]{1,60}?)\s*,?\s+(?:n[°o.º]\s*)?"
    r"(?P<num>\d{1,5}\s?[a-zA-Z]?(?:\s?[-–/]\s?\d{1,5}\s?[a-zA-Z]?)?)$"
)
_PO_BOX = re.compile(r"\b(?:p\.?\s?o\.?\s*box|postfach|boite postale|bp\s\d|apartado|casella postale|postbus)\b", re.I)
_DIRECTIONS = {"n", "s", "e", "w", "ne", "nw", "se", "sw", "north", "south", "east", "west"}


@dataclass(frozen=True, slots=True)
class _Street:
    text: str
    style: str  # "en" | "fr" | "it" | "es" | "de" | "generic"


def _street(segment: str, allow_generic: bool = False) -> _Street | None:
    """Recognise a street line; ``allow_generic`` accepts "Words 12" when a German-style postcode follows."""
    seg = segment.strip().rstrip(",")
    if len(seg) < 4 or len(seg) > 90 or _PO_BOX.search(seg):
        return None
    match = _NUM_FIRST.match(seg)
    if match:
        words = fold(match.group("rest")).split()
        if 0 < len(words) <= 8:
            if words[0] in _FR_WORDS or " ".join(words[:2]) in _FR_WORDS:
                return _Street(seg, "fr")
            if words[0] in _IT_WORDS or words[0] in ("calle", "avenida", "carrer"):
                return _Street(seg, "it" if words[0] in _IT_WORDS else "es")
            if any(w in _EN_WORDS for w in words[1:]) or (len(words) == 1 and words[0] in ("broadway",)):
                return _Street(seg, "en")
    match = _NUM_LAST.match(seg)
    if match:
        rest = match.group("rest").strip()
        words = fold(rest).split()
        if not words or len(words) > 6 or re.search(r"\d", rest):
            return None
        last_original = rest.split()[-1]
        if words[0] in _IT_WORDS:
            return _Street(seg, "it")
        if words[0] in _ES_WORDS or rest.startswith("C/"):
            return _Street(seg, "es")
        if _DE_SUFFIX.search(last_original) or any(_DE_SUFFIX.search(w) for w in rest.split()[:-1]):
            return _Street(seg, "de")
        if words[0] in _DE_FIRST and len(words) >= 2:
            return _Street(seg, "de")
        if allow_generic and len(words) <= 4 and rest[0].isupper():
            return _Street(seg, "generic")
    return None


def is_street_line(text: str) -> bool:
    """True for ``123 Main St``, ``12 rue de la Paix``, ``Musterstraße 12``, ``Via Roma 1``; False for a city or PO box."""
    return _street(text or "") is not None


# -- countries -----------------------------------------------------------------------------

_COUNTRY_NAMES = {
    "deutschland": "DE", "germany": "DE", "allemagne": "DE", "france": "FR", "frankreich": "FR",
    "united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "northern ireland": "GB", "usa": "US", "u s a": "US", "united states": "US",
    "united states of america": "US", "canada": "CA", "italia": "IT", "italy": "IT", "espana": "ES",
    "spain": "ES", "osterreich": "AT", "oesterreich": "AT", "austria": "AT", "schweiz": "CH",
    "suisse": "CH", "svizzera": "CH", "switzerland": "CH", "nederland": "NL", "netherlands": "NL",
    "the netherlands": "NL", "belgie": "BE", "belgique": "BE", "belgium": "BE", "danmark": "DK",
    "denmark": "DK", "ireland": "IE", "luxembourg": "LU", "gb": "GB", "de": "DE", "fr": "FR",
    "us": "US", "ca": "CA", "it": "IT", "es": "ES", "at": "AT", "ch": "CH", "nl": "NL", "be": "BE",
}
_CCP = {"D": "DE", "DE": "DE", "F": "FR", "FR": "FR", "I": "IT", "IT": "IT", "E": "ES", "ES": "ES",
        "FI": "FI", "A": "AT", "AT": "AT", "CH": "CH", "B": "BE", "BE": "BE", "DK": "DK"}
_STYLE_COUNTRY = {"fr": "FR", "de": "DE", "it": "IT", "es": "ES"}


def country_code(value: str) -> str:
    """``Deutschland`` / ``DE`` / ``United Kingdom`` / ``UK`` -> ISO alpha-2 (``GB`` for the UK); ``""`` if unknown."""
    if not value:
        return ""
    folded = fold(value)
    if folded in _COUNTRY_NAMES:
        return _COUNTRY_NAMES[folded]
    if re.fullmatch(r"[A-Z]{2}", value.strip()):
        return value.strip()
    return ""


def _strip_country(city: str) -> tuple[str, str]:
    """``Berlin Deutschland`` -> (``Berlin``, ``DE``)."""
    city = city.strip(" ,.-")
    words = city.split()
    for n in (3, 2, 1):
        if len(words) > n:
            code = _COUNTRY_NAMES.get(fold(" ".join(words[-n:])))
            if code and len(" ".join(words[-n:])) > 2:
                return " ".join(words[:-n]).strip(" ,.-"), code
    return city, ""


def _clean_city(city: str) -> str:
    city = re.sub(r"\s+cedex(?:\s+\d+)?$", "", city.strip(" ,.-"), flags=re.I)
    return " ".join(city.split())


# -- block parsing ------------------------------------------------------------------------

_SPLIT = re.compile(r"\s*[,;|•·]\s*|:\s+|\s{3,}|\t")
_NUMBER_ONLY = re.compile(r"^(?:n[°o.º]\s*)?\d{1,5}\s?[a-zA-Z]?(?:\s?(?:bis|ter))?$")


def _segments(lines: list[str]) -> list[tuple[str, int]]:
    """Split lines into (segment, line number), gluing lone house numbers to their street."""
    segs: list[tuple[str, int]] = []
    for n, line in enumerate(lines):
        for part in _SPLIT.split(line):
            part = part.strip(" .")
            if part:
                segs.append((part, n))
    merged: list[tuple[str, int]] = []
    i = 0
    while i < len(segs):
        text, n = segs[i]
        if _NUMBER_ONLY.match(text):
            nxt = segs[i + 1][0] if i + 1 < len(segs) else ""
            first = fold(nxt).split()[:1]
            if first and (first[0] in _FR_WORDS or first[0] in _EN_WORDS) and not re.match(r"\d", nxt):
                merged.append((f"{text} {nxt}", n))  # "12, rue de la Paix"
                i += 2
                continue
            if merged and not re.search(r"\d", merged[-1][0]):
                merged[-1] = (f"{merged[-1][0]} {text}", merged[-1][1])  # "Via Roma, 1"
                i += 1
                continue
        merged.append((text, n))
        i += 1
    return merged


@dataclass(slots=True)
class _PostcodeHit:
    fmt: str
    postcode: str
    city: str
    region: str
    country: str
    prefix: str  # text before the postcode part in the same segment


_FOUR_DIGITS = re.compile(r"\d{4}")


def _postcode_hit(seg: str) -> _PostcodeHit | None:
    """The postcode/city part of a segment; it may end a longer one: ``Musterstraße 12 10115 Berlin``."""
    for fmt, regex in (("US", _US), ("CA", _CA), ("GB", _UK)):
        m = regex.search(seg)
        if m:
            region = ""
            if fmt in ("US", "CA"):
                state = m.group("state")
                table = _STATE_BY_NAME if fmt == "US" else _PROVINCE_BY_NAME
                region = state if len(state) == 2 else table.get(fold(state), state)
            pc = m.group("pc").upper().replace(" ", "")
            if fmt == "GB":
                pc = f"{pc[:-3]} {pc[-3:]}"
            elif fmt == "CA":
                pc = f"{pc[:3]} {pc[3:]}"
            # City (and maybe street) precede the postcode part; _resolve_prefix sorts them out.
            return _PostcodeHit(fmt, pc, "", region, fmt, seg[: m.start()].strip(" ,"))
    if not _FOUR_DIGITS.search(seg):
        return None
    starts = _starts(seg)
    for fmt, regex in (("NL", _NL), ("EU5", _EU5), ("EU4", _EU4)):
        for start in starts:
            m = regex.match(seg, start)
            if m:
                city, named = _strip_country(_clean_city(m.group("city")))
                if not city or len(city.split()) > 4:
                    break
                country = named or (_CCP.get(m.group("ccp") or "", "") if fmt != "NL" else "NL")
                pc = m.group("pc").replace(" ", "")
                if fmt == "NL":
                    pc = f"{pc[:4]} {pc[4:]}"
                return _PostcodeHit(fmt, pc, city, "", country, seg[:start].strip(" ,"))
    return None


_WORD_START = re.compile(r"(?:^|(?<=\s))[\dDFIEABC]")


def _starts(seg: str) -> list[int]:
    """Offsets where a number-first postcode part could begin: the start and after each space."""
    return [m.start() for m in _WORD_START.finditer(seg)][:12]


def _split_street_city(text: str) -> tuple[str, str] | None:
    """``123 Main St Springfield`` -> (``123 Main St``, ``Springfield``)."""
    words = text.split()
    for k in range(len(words) - 1, 1, -1):
        if fold(words[k - 1]) in _EN_WORDS:
            while k < len(words) and fold(words[k]) in _DIRECTIONS:
                k += 1
            if k < len(words):
                return " ".join(words[:k]), " ".join(words[k:])
    return None


def _resolve_prefix(hit: _PostcodeHit) -> tuple[_Street | None, str]:
    """Street and city from the text before the postcode in the same segment."""
    prefix = hit.prefix
    if not prefix:
        return None, hit.city
    if hit.fmt in ("US", "CA", "GB"):
        split = _split_street_city(prefix)  # "123 Main St Springfield" before "IL 62704"
        if split and _street(split[0]):
            return _street(split[0]), split[1]
    street = _street(prefix)
    if street is not None:
        return street, hit.city
    if hit.fmt in ("US", "CA", "GB") and not re.search(r"\d", prefix) and len(prefix.split()) <= 4:
        return None, prefix  # "Springfield IL 62704", "London SW1A 2AA"
    return None, ""


def parse_address_block(lines: list[str] | str, *, country_hint: str = "", method: str = "text",
                        page: str = "", limit: int = 10) -> list[PostalAddress]:
    """Street addresses in a block of text lines (or one string), in order of appearance."""
    if isinstance(lines, str):
        lines = lines.splitlines() or [lines]
    lines = [line[:600] for line in lines[:20_000] if isinstance(line, str)]
    segs = _segments(lines)
    found: list[PostalAddress] = []
    used_up_to = -1
    for j, (seg, line_no) in enumerate(segs):
        if len(found) >= limit:
            break
        if not re.search(r"\d", seg):
            continue
        hit = _postcode_hit(seg)
        if hit is None:
            continue
        street, city = _resolve_prefix(hit)
        if hit.prefix and street is None and not city:
            continue  # the postcode-like part sits inside some other text: "© 2024 Acme GmbH"
        start = j
        k = j - 1
        # Walk back over at most four segments / three lines: "Suite 100", a city line, a building name.
        while street is None and k > used_up_to and k >= j - 4 and line_no - segs[k][1] <= 3:
            text = segs[k][0]
            # "Words 12" on its own line right above "12345 City" is a street; anywhere else it is not.
            cand = _street(text, allow_generic=hit.fmt in ("EU5", "NL") and k == j - 1)
            if cand is not None:
                street, start = cand, k
                break
            if hit.fmt in ("US", "CA") and not city:
                split = _split_street_city(text)
                if split and _street(split[0]):
                    street, start, city = _street(split[0]), k, split[1]
                    break
            if not city and k == j - 1 and hit.fmt in ("US", "CA", "GB") and not re.search(r"\d", text):
                city = text
            k -= 1
        if street is None or not city:
            continue
        if hit.fmt == "EU4" and street.style not in ("de", "generic", "it"):
            continue  # a 4-digit number before a word is too common to trust without a German-style street
        if hit.fmt == "GB" and street.style != "en":
            continue
        country = hit.country or _named_country(segs[j + 1][0] if j + 1 < len(segs) else "")
        if not country:
            country = _STYLE_COUNTRY.get(street.style, "")
            if hit.fmt == "EU4" and country in ("DE", "IT"):
                # Four-digit postcodes: German-speaking Austria/Switzerland, Italian-speaking Ticino.
                country = country_hint if country_hint in ("AT", "CH", "BE", "DK") else ("AT" if country == "DE" else "CH")
        if not country and street.style == "generic":
            country = country_hint or "DE"
        country = country or country_hint
        raw = ", ".join(s for s, _ in segs[start: j + 1])
        found.append(PostalAddress(
            street=street.text.strip(" ,"), city=_clean_city(city), postcode=hit.postcode, region=hit.region,
            country=country, raw=raw[:300], page=page, method=method,
        ))
        used_up_to = j
    return found


def _named_country(segment: str) -> str:
    folded = fold(segment)
    return _COUNTRY_NAMES.get(folded, "") if len(folded) > 2 else ""


# -- schema.org ------------------------------------------------------------------------------

def _from_schema(value, page: str, method: str, hint: str) -> list[PostalAddress]:
    if isinstance(value, str):
        return parse_address_block(value.replace("\n", ", ").split(", "), country_hint=hint,
                                   method=method, page=page, limit=2)
    if isinstance(value, Node):
        get = value.first_text
    elif isinstance(value, dict):
        def get(*names: str) -> str:
            return next((text_value(value.get(n)) for n in names if text_value(value.get(n))), "")
    else:
        return []
    street = get("streetAddress")
    city = get("addressLocality")
    postcode = get("postalCode")
    if not street or not (city or postcode):
        return []
    if not (re.search(r"\d", street) and re.search(r"[^\W\d_]", street)) or _PO_BOX.search(street):
        return []
    region = get("addressRegion")
    country = country_code(get("addressCountry"))
    if not country:
        for probe in (f"{city} {region} {postcode}", f"{postcode} {city}", f"{city} {postcode}"):
            hit = _postcode_hit(" ".join(probe.split()))
            if hit and hit.country:
                country = hit.country
                break
        if not country:
            style = _street(street)
            country = _STYLE_COUNTRY.get(style.style, "") if style else ""
        country = country or hint
    raw = ", ".join(p for p in (street, " ".join(x for x in (postcode, city) if x), region, country) if p)
    return [PostalAddress(street=" ".join(street.split()), city=city, postcode=postcode, region=region,
                          country=country, raw=raw[:300], page=page, method=method)]


def _structured_addresses(structured: Structured, page: str, hint: str) -> list[PostalAddress]:
    out: list[PostalAddress] = []
    for node in structured.nodes:
        if "PostalAddress" in node.types:
            out += _from_schema(node, page, node.source, hint)
            continue
        for value in node.props.get("address", ()):
            if not isinstance(value, Node):  # typed ones are handled as PostalAddress nodes
                out += _from_schema(value, page, node.source, hint)
    return out


# -- page text --------------------------------------------------------------------------------

# Labels that introduce an address, at the start of a line or of a sentence in it.
_LABEL = re.compile(
    r"(?:^|(?<=[.;|•]\s))\s*(?:(?:our\s+|unsere\s+|notre\s+)?(?:[\w-]+\s+)?(?:address|adresse)|anschrift|"
    r"postanschrift|firmenanschrift|hausanschrift|firmensitz|sitz(?:\s+der\s+gesellschaft)?|registered\s+office|"
    r"head\s+office|headquarters|siege(?:\s+social)?|sede(?:\s+legale|\s+operativa)?|domicilio(?:\s+social|\s+fiscal)?|"
    r"direccion|indirizzo|adres|bezoekadres|postadres|vestigingsadres|location|visit\s+us|find\s+us|"
    r"where\s+to\s+find\s+us|so\s+finden\s+sie\s+uns|angaben\s+gem(?:a(?:ß|ss)|\.)\s*§\s*5\s*(?:tmg|ddg|ecg))"
    r"(?=\s*(?:[:：\-–]|$))\s*[:：\-–]?\s*",
)
# Web hosts are named with their address in many imprints (French law requires
# it); that is the host's address, not the site owner's.
_HOSTING = re.compile(
    r"^\s*(?:h[ée]bergeur|h[ée]bergement|hosting(?:\s+provider)?|hosted\s+by|web\s*host(?:ing)?|hoster|"
    r"webhosting|technischer\s+dienstleister|alojamiento|proveedor\s+de\s+alojamiento|hosting\s+provider|"
    r"fornitore\s+hosting|hostingpartij|hostingprovider)\b",
    re.I,
)


def without_hosting_blocks(lines: list[str]) -> list[str]:
    """The lines minus "Hébergeur : OVH SAS, 2 rue Kellermann ..." blocks (blanked, so indexes keep)."""
    out = list(lines)
    for i, line in enumerate(lines):
        match = _HOSTING.match(line)
        if match:
            out[i] = ""
            if not line[match.end():].strip(" :-–"):
                for j in range(i + 1, min(i + 5, len(lines))):  # label alone: its block follows
                    out[j] = ""
    return out


def _labelled_blocks(lines: list[str]) -> list[list[str]]:
    blocks = []
    for i, line in enumerate(lines):
        m = _LABEL.search(fold_keep(line))
        if m:
            rest = line[m.end():].strip()
            blocks.append(([rest] if rest else []) + lines[i + 1: i + 6])
            if len(blocks) >= 20:
                break
    return blocks


def find_addresses(doc: etree._Element, url: str, text: str | None = None, country_hint: str = "",
                   structured: Structured | None = None) -> list[PostalAddress]:
    """Street addresses on one page, each once, the most trusted source's version first.

    ``country_hint`` (usually from the site's TLD) decides the country only
    when neither the format, a named country nor the street style does.
    """
    if doc is None:
        return []
    if text is None:
        text = visible_text(doc)
    if structured is None:
        structured = read_structured(doc)
    found: list[PostalAddress] = _structured_addresses(structured, url, country_hint)
    for el in list(doc.iter("address"))[:20]:
        found += parse_address_block(text_lines(visible_text(el)), country_hint=country_hint,
                                     method="address_element", page=url, limit=3)
    lines = without_hosting_blocks(text_lines(text))
    for block in _labelled_blocks(lines):
        found += parse_address_block(block, country_hint=country_hint, method="labelled", page=url, limit=2)
    found += parse_address_block(lines, country_hint=country_hint, method="text", page=url, limit=10)
    best: dict[tuple[str, str], PostalAddress] = {}
    for addr in found:
        key = addr.key()
        old = best.get(key)
        if old is None or ADDRESS_METHOD_WEIGHT.get(addr.method, 1) > ADDRESS_METHOD_WEIGHT.get(old.method, 1):
            best[key] = addr
    return sorted(best.values(), key=lambda a: -ADDRESS_METHOD_WEIGHT.get(a.method, 1))[:20]
