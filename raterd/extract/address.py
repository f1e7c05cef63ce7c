"""Street addresses on a page: schema.org PostalAddress, ``<address>``, labelled blocks, label/value tables
and running text, in the postal formats of 30+ countries.

A rating needs a *street* address: a street line (see :mod:`._streets`:
``123 Main St``, ``Chaussée de Wavre 214``, ``Drottninggatan 53``) near a
postcode and city in a format some country uses.  Postcode patterns, which
side of the city the postcode goes, postcode prefixes (``L-``, ``SE-``),
country names and regions come from Google's address metadata (see
:mod:`._postal`); Japanese, Korean and Hong Kong Chinese addresses are read by
:mod:`._postal_cjk`.  Hong Kong has no postcodes: there a street followed by
the country line is enough, and the postcode is empty.

The country comes from the strongest clue present, never a weaker one over
a stronger one:

1. a country line or name in the address, in any language we know
   (``Norge``, ``Magyarország``, ``Česká republika``, ``México``, ``Hong Kong``);
2. a postcode prefix (``D-``, ``CH-``, ``L-``);
3. the postcode pattern: a region printed with it (``NSW 2026``, ``Jal.``,
   ``(RM)``), the only country the pattern fits, or a known city;
4. the language of the street words among the countries the pattern fits;
5. the site's TLD among them; 6. the first of them.

A bare city, a PO box, a street without postcode (except in Hong Kong) or an
address in a "hosted by" / "website by" credit for another company is not
the site's address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from raterd.extract._dom import fold, fold_keep, text_lines, visible_text
from raterd.extract._postal import (
    CITY_COUNTRY, PREFIX_COUNTRY, country_format, has_postcodes, named_country, postcode_countries, region_countries,
)
from raterd.extract._postal_cjk import find_cjk_addresses
from raterd.extract._postal_layout import credit_lines, label_value_blocks, without_credits, without_hosting_blocks
from raterd.extract._streets import EN_WORDS, LEADING_WORDS, PO_BOX, STYLE_COUNTRIES, is_unit_line, street_style
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

_CITY = r"[^\W\d_][^\d,;|]{0,40}?(?:\s\d{1,2}\b)?"
# US, CA and GB parts are searched at the end of a segment; whatever precedes
# them ("Springfield", or "123 Main St Springfield") is sorted out afterwards.
_US = re.compile(
    rf"(?:^|(?<=[\s,]))(?P<state>{_alt(US_STATES)}|{_alt(US_STATES.values())})\.?,?\s+"
    r"(?P<pc>\d{5}(?:-\d{4})?)(?!\d)(?:\s*,?\s*(?:USA|U\.S\.A\.|US|United States(?: of America)?))?\s*$"
)
_CA = re.compile(
    rf"(?:^|(?<=[\s,]))\(?(?P<state>{_alt(CA_PROVINCES)}|{_alt(CA_PROVINCES.values())}|Québec)\)?\.?,?\s+"
    r"(?P<pc>[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s?\d[ABCEGHJ-NPRSTV-Z]\d)(?![A-Z0-9])(?:\s*,?\s*Canada)?\s*$"
)
_UK_PC = r"(?:GIR ?0AA|[A-PR-UWYZ](?:\d[A-HJKPSTUW\d]?|[A-HK-Y]\d[ABEHMNPRV-Y\d]?) ?\d[ABD-HJLNP-UW-Z]{2})"
_UK = re.compile(
    rf"(?:^|(?<=[\s,]))(?P<pc>{_UK_PC})(?![A-Z0-9])"
    r"(?:\s*,?\s*(?:UK|U\.K\.|United Kingdom|Great Britain|England|Scotland|Wales|Northern Ireland))?\s*$"
)
# Every other country: the shapes of their postcodes; which countries a match fits is the metadata's call.
_PC = (r"(?:\d{5}-\d{3}|\d{4}-\d{3}|\d{3}-\d{4}|\d{2}-\d{3}|\d{3}\s\d{2}|[1-9]\d{3}\s?[A-Z]{2}(?![A-Za-z])|"
       r"(?:[AC-FHKNPRTV-Y]\d{2}|D6W)\s?[0-9AC-FHKNPRTV-Y]{4}|\d{4,6})")
_PC_LABEL = r"(?i:(?:c\.\s?p\.|cp|cep|plz|zip|postcode|post\s?code|postal\s?code|code\s+postal|psč|irsz)\.?\s*:?\s*)"
_CEDEX = r"(?:\s+(?i:cedex)(?:\s+\d{1,2})?)?"
_PC_FIRST = re.compile(rf"{_PC_LABEL}?(?:(?P<ccp>[A-Z]{{1,3}})\s?-\s?)?(?P<pc>{_PC})\s+(?P<city>{_CITY}){_CEDEX}\s*$")
_CITY_PC = re.compile(rf"(?:^|(?<=\s))(?P<city>{_CITY}?)\s+(?:(?P<state>[A-Z]{{2,3}})\s+)?(?P<pc>{_PC})\s*$")
_PC_ONLY = re.compile(rf"^{_PC_LABEL}?(?:(?P<ccp>[A-Z]{{1,3}})\s?-\s?)?(?P<pc>{_PC})$")
_DIGIT = re.compile(r"\d")
_FOUR = re.compile(r"\d{4}")
_WORD_START = re.compile(r"(?:^|(?<=\s))[\dA-Za-z]")
_DIRECTIONS = {"n", "s", "e", "w", "ne", "nw", "se", "sw", "north", "south", "east", "west"}


def is_street_line(text: str) -> bool:
    """True for ``123 Main St``, ``12 rue de la Paix``, ``Musterstraße 12``, ``Via Roma 1``; False for a city or PO box."""
    return street_style(text or "") is not None


def country_code(value: str) -> str:
    """``Deutschland`` / ``DE`` / ``United Kingdom`` / ``UK`` -> ISO alpha-2 (``GB`` for the UK); ``""`` if unknown."""
    if not value:
        return ""
    if re.fullmatch(r"[A-Z]{2}", value.strip()):
        return "GB" if value.strip() == "UK" else value.strip()
    return named_country(value)


def _clean_city(city: str) -> str:
    city = re.sub(r"\s+cedex(?:\s+\d+)?$", "", city.strip(" ,.-–"), flags=re.I)
    return " ".join(city.split())


def _strip_country(city: str) -> tuple[str, str]:
    """``Berlin Deutschland`` -> (``Berlin``, ``DE``)."""
    words = city.split()
    for n in (3, 2, 1):
        if len(words) > n:
            code = named_country(" ".join(words[-n:]))
            if code and len(" ".join(words[-n:])) > 2:
                return " ".join(words[:-n]).strip(" ,.-"), code
    return city, ""


# -- block parsing ------------------------------------------------------------------------

# Separators between address parts; a full stop only after a postcode-like token ("YO17 7AB. Registered ...").
_SPLIT = re.compile(r"\s*[,;|•·]\s*|:\s+|\s{3,}|\t|\s[–—-]\s|(?<=[0-9A-Z]{2})\.\s+(?=[A-Z][a-z])")
_NUMBER_ONLY = re.compile(r"^(?:n\.?\s?[°ºo]\.?\s*)?\d{1,5}\s?[a-zA-Z]?(?:\s?(?:bis|ter))?$")


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
            if nxt and not re.match(r"\d", nxt) and street_style(f"{text} {nxt}"):
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


@dataclass(frozen=True, slots=True)
class _Hit:
    fmt: str  # "US" / "CA" / "GB" (their own regexes), "first", "last", "alone", "none" (no postcode)
    postcode: str
    city: str
    region: str
    countries: tuple[str, ...]  # the countries the postcode fits, best first
    prefix: str  # text before the postcode part in the same segment
    ccp: str = ""  # country letters printed before the postcode


@lru_cache(maxsize=4096)
def _fits(postcode: str, first: bool | None) -> tuple[str, ...]:
    return tuple(postcode_countries(postcode, first))


def _national(seg: str) -> _Hit | None:
    for fmt, regex in (("US", _US), ("CA", _CA), ("GB", _UK)):
        m = regex.search(seg)
        if not m:
            continue
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
        return _Hit(fmt, pc, "", region, (fmt,), seg[: m.start()].strip(" ,"))
    return None


@lru_cache(maxsize=8192)
def _postcode_hit(seg: str) -> _Hit | None:
    """The postcode/city part of a segment; it may end a longer one: ``Musterstraße 12 10115 Berlin``."""
    hit = _national(seg)
    if hit is not None:
        return hit
    m = _PC_ONLY.match(seg)
    if m:
        countries = _fits(m.group("pc"), None)
        return _Hit("alone", m.group("pc"), "", "", countries, "", m.group("ccp") or "") if countries else None
    for start in [s.start() for s in _WORD_START.finditer(seg)][:12]:
        m = _PC_FIRST.match(seg, start)
        if not m:
            continue
        if start == 0 and street_style(seg) is not None:
            break  # "1234 Main Street" is a street, not postcode 1234 in "Main Street"
        city, named = _strip_country(_clean_city(m.group("city")))
        countries = _fits(m.group("pc"), True)
        if city and len(city.split()) <= 5 and countries:
            ccp = m.group("ccp") or ""
            if ccp and ccp not in PREFIX_COUNTRY:
                continue
            return _Hit("first", m.group("pc"), city, "", ((named,) if named else ()) + countries,
                        seg[:start].strip(" ,"), ccp)
        break
    m = _CITY_PC.search(seg)
    if m and m.group("city") and not is_unit_line(seg) and street_style(seg) is None:
        countries = _fits(m.group("pc"), False)
        state = m.group("state") or ""
        if countries and not re.search(r"\d", m.group("city").strip()[:1]):
            return _Hit("last", m.group("pc"), _clean_city(m.group("city")), state, countries, "")
    return None


def _split_street_city(text: str) -> tuple[str, str] | None:
    """``123 Main St Springfield`` -> (``123 Main St``, ``Springfield``)."""
    words = text.split()
    for k in range(len(words) - 1, 1, -1):
        if fold(words[k - 1]) in EN_WORDS:
            while k < len(words) and fold(words[k]) in _DIRECTIONS:
                k += 1
            if k < len(words):
                return " ".join(words[:k]), " ".join(words[k:])
    return None


def _resolve_prefix(hit: _Hit) -> tuple[tuple[str, str] | None, str]:
    """(street text, style) and city from the text before the postcode in the same segment."""
    prefix = hit.prefix
    if not prefix:
        return None, hit.city
    if hit.fmt in ("US", "CA", "GB"):
        split = _split_street_city(prefix)  # "123 Main St Springfield" before "IL 62704"
        if split and street_style(split[0]):
            return (split[0], street_style(split[0]) or ""), split[1]
    style = street_style(prefix)
    if style is not None:
        return (prefix, style), hit.city
    if hit.fmt in ("US", "CA", "GB") and not re.search(r"\d", prefix) and len(prefix.split()) <= 4:
        return None, prefix  # "Springfield IL 62704", "London SW1A 2AA"
    return None, ""


def _city_like(text: str) -> bool:
    return bool(text) and not re.search(r"\d{3}", text) and len(text.split()) <= 4 and text[0].isupper() \
        and not _is_label(text)


_LABELS = re.compile(r"(?i)^(?:cep|c\.?p|plz|zip|postcode|postal code|address|adresse|tel|phone|fax)\.?$")


def _is_label(text: str) -> bool:
    return bool(_LABELS.match(text.strip()))


def _region_clues(city: str, texts: list[str]) -> list[str]:
    """Countries with a region printed in the address: a whole segment (``CDMX``, ``Jal.``), a bracketed
    or trailing part of the city (``Roma (RM)``, ``Montalcino SI``, ``Salvador/BA``)."""
    parts = [*texts, *re.findall(r"\(([^)]{1,30})\)", city)]
    words = city.split()
    if len(words) > 1 and len(words[-1].strip(".")) >= 2:
        parts.append(words[-1])  # "Montalcino SI"; not "København V", a district
    if "/" in city:
        parts.append(city.rsplit("/", 1)[-1])
    codes: list[str] = []  # "Jal.", "NSW", "(RM)": written as a region, so stronger than a name
    names: list[str] = []  # "Guadalajara" is a Spanish province and a Mexican city
    for part in parts:
        if len(part) <= 40:
            (codes if len(part.strip(" .()")) <= 5 else names).extend(region_countries(part))
    return codes + names


# How sure a country is, by the clue that decided it (see the module docstring).
_STRONG = frozenset({"named", "prefix", "format", "region", "city"})


def _choose_country(hit: _Hit, named: str, style: str, city: str, near: list[str],
                    hint: str) -> tuple[str, str]:
    """(country, the clue that decided it), strongest clue first."""
    cands = hit.countries
    if named and (named in cands or hit.fmt == "none" or not cands
                  or (fmt := country_format(named)) is None or fmt.postcode is None
                  or fmt.postcode.fullmatch(hit.postcode)):
        return named, "named"
    if hit.ccp and hit.ccp in PREFIX_COUNTRY:
        return PREFIX_COUNTRY[hit.ccp], "prefix"
    if hit.fmt in ("US", "CA", "GB") or len(cands) == 1:
        return (cands[0], "format") if cands else (hint, "hint")
    regions = [c for c in _region_clues(city, [hit.region, *near]) if c in cands]
    if regions:
        return regions[0], "region"
    by_city = CITY_COUNTRY.get(fold(city))
    if by_city in cands:
        return by_city, "city"
    speakers = [c for c in STYLE_COUNTRIES.get(style, ()) if c in cands]
    if hint in speakers or (hint in cands and not speakers):
        return hint, "hint"
    if speakers:
        return speakers[0], "style"
    return (cands[0], "default") if cands else (hint, "hint")


def _trusted(hit: _Hit, clue: str, style: str) -> bool:
    """Whether a postcode this weakly attested is one: four digits are also years, prices, model numbers."""
    if clue in _STRONG or not _FOUR.fullmatch(hit.postcode):
        return True
    year = 1900 <= int(hit.postcode) <= 2099
    if hit.fmt in ("last", "alone"):
        # "Stellenbosch 7600" on a .co.za site; "Since 1998" under a street needs a country line or region
        return clue == "hint" and not year
    if clue == "hint":
        return True  # "Meir 50, 2000 Antwerpen" on a .be site
    return style != "en" and not year  # "12 Main Street, 2024 Collection" is not a continental address


def _street_before(segs: list[tuple[str, int]], j: int, floor: int, hit: _Hit, city: str):
    """Walk back from the postcode segment over at most four segments / three lines for the street."""
    line_no = segs[j][1]
    k = j - 1
    while k > floor and k >= j - 6 and line_no - segs[k][1] <= 3:
        text = segs[k][0]
        generic = hit.fmt == "first" and k == j - 1 and not is_unit_line(text)
        style = street_style(text, allow_generic=generic)
        if style is not None:
            return (text, style), k, city
        if hit.fmt in ("US", "CA") and not city:
            split = _split_street_city(text)
            if split and street_style(split[0]):
                return (split[0], street_style(split[0]) or ""), k, split[1]
        named_street = _unnumbered_street(segs, k)
        if named_street:
            return named_street, k - 1, city
        if not city and k == j - 1 and hit.fmt in ("US", "CA", "GB") and not re.search(r"\d", text):
            city = text  # "Springfield" above "IL 62704"
        elif not city and hit.fmt in ("last", "none") and _city_like(text) and not region_countries(text):
            city = text
        k -= 1
    return None, j, city


def _unnumbered_street(segs: list[tuple[str, int]], k: int) -> tuple[str, str] | None:
    """``Unit 4, Riverside Business Park, Mill Lane``: a named street under a unit line with the number."""
    text = segs[k][0]
    words = fold(text).split()
    if not words or re.search(r"\d", text) or not (words[-1] in EN_WORDS or " ".join(words[-2:]) in EN_WORDS
                                                  or words[0] in LEADING_WORDS):
        return None
    for back in (1, 2):
        if k - back >= 0 and is_unit_line(segs[k - back][0]):
            parts = [s for s, _ in segs[k - back: k + 1]]
            return ", ".join(parts), "en" if words[-1] in EN_WORDS else "generic"
    return None


def _street_after(segs: list[tuple[str, int]], j: int) -> tuple[tuple[str, str] | None, int]:
    """``1052 Budapest, Váci utca 12.``: Hungarian and some Latin American shops put the street after."""
    if j > 0 and PO_BOX.search(segs[j - 1][0]):
        return None, j  # "Box 45, 981 21 Kiruna": the postcode belongs to the box
    for k in (j + 1, j + 2):
        if k < len(segs) and segs[k][1] == segs[j][1]:
            style = street_style(segs[k][0])
            if style:
                return (segs[k][0], style), k
            if not is_unit_line(segs[k][0]) and not _city_like(segs[k][0]):
                break
    return None, j


def parse_address_block(lines: list[str] | str, *, country_hint: str = "", method: str = "text",
                        page: str = "", limit: int = 10) -> list[PostalAddress]:
    """Street addresses in a block of text lines (or one string), in order of appearance."""
    if isinstance(lines, str):
        lines = lines.splitlines() or [lines]
    lines = [line[:600] for line in lines[:20_000] if isinstance(line, str)]
    segs = _segments(lines)
    found: list[PostalAddress] = []
    used_up_to = -1
    for j, (seg, _line_no) in enumerate(segs):
        if len(found) >= limit:
            break
        if _DIGIT.search(seg):
            hit = _postcode_hit(seg)
        elif len(seg) <= 30 and (code := named_country(seg)) and not has_postcodes(code):
            hit = _Hit("none", "", "", "", (code,), "")
        else:
            continue
        if hit is None:
            continue
        street, city = _resolve_prefix(hit)
        if hit.prefix and street is None and not city:
            continue  # the postcode-like part sits inside some other text: "© 2024 Acme GmbH"
        start, end = j, j
        if street is None:
            street, start, city = _street_before(segs, j, used_up_to, hit, city)
        if street is None and hit.fmt in ("first", "alone"):
            street, end = _street_after(segs, j)
        if street is None:
            continue
        if hit.fmt == "alone" or hit.fmt == "none":
            city = city or _city_near(segs, j, start)
        if not city and hit.fmt != "none":
            continue
        if hit.fmt == "GB" and street[1] != "en":
            continue
        near = [segs[i][0] for i in range(max(start, j - 2), min(len(segs), j + 3)) if i != j]
        named = next((c for c in (named_country(segs[i][0]) for i in range(j + 1, min(len(segs), j + 3))) if c), "")
        if not named and hit.fmt in ("first", "last") and hit.countries and named_country(hit.city):
            named = named_country(hit.city)  # "Singapore 079903", "L-1611 Luxembourg"
        country, clue = _choose_country(hit, named, street[1], city, near, country_hint)
        if not _trusted(hit, clue, street[1]):
            continue
        raw = ", ".join(s for s, _ in segs[start: max(j, end) + 1])
        found.append(PostalAddress(
            street=street[0].strip(" ,"), city=_clean_city(city), postcode=_format_postcode(hit.postcode, country),
            region=hit.region, country=country, raw=raw[:300], page=page, method=method,
        ))
        used_up_to = max(j, end)
    return found


def _city_near(segs: list[tuple[str, int]], j: int, start: int) -> str:
    """The city of a postcode on its own: the nearest city-like segment before it, else after it."""
    for k in range(j - 1, max(start, j - 4), -1):
        text = segs[k][0]
        # "SP" before "01310-200" is the state; "São Paulo" is both state and city, and a city here.
        if _city_like(text) and not named_country(text) and (len(text) > 5 or not region_countries(text)):
            return re.sub(r"/[A-Z]{2}$", "", text)
    if j + 1 < len(segs) and _city_like(segs[j + 1][0]) and not named_country(segs[j + 1][0]):
        return segs[j + 1][0]
    return ""


def _format_postcode(postcode: str, country: str) -> str:
    pc = " ".join(postcode.upper().split())
    if country == "NL" and re.fullmatch(r"\d{4}[A-Z]{2}", pc):
        return f"{pc[:4]} {pc[4:]}"
    return pc


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
    if not (re.search(r"\d", street) and re.search(r"[^\W\d_]", street)) or PO_BOX.search(street):
        return []
    region = get("addressRegion")
    country = country_code(get("addressCountry"))
    if not country:
        national = _national(f"{region} {postcode}".strip()) if region else _national(postcode)
        fits = national.countries if national else _fits(postcode, None) if postcode else ()
        hit = _Hit("schema", postcode, city, region, tuple(fits), "")
        country = _choose_country(hit, named_country(city), street_style(street) or "", city, [region], hint)[0]
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
    r"where\s+to\s+find\s+us|so\s+finden\s+sie\s+uns|angaben\s+gem(?:a(?:ß|ss)|\.)\s*§\s*5\s*(?:tmg|ddg|ecg)|"
    r"besoksadress|gatuadress|besoksadresse|adresse|adresa|sidlo|sidlo\s+spolocnosti|szekhely|cim|osoite|"
    r"kayntiosoite|endereco|morada|sede\s+social|domicilio|siedziba|adres\s+siedziby)"
    r"(?=\s*(?:[:：\-–]|$))\s*[:：\-–]?\s*",
)


# A cheap look at the raw line first (substring tests run in C): folding every line of a 1 MB page
# and running the label pattern over it costs more than all the rest together.
_LABEL_STEMS = ("addr", "adres", "anschrift", "sitz", "office", "headquarters", "siege", "siège", "sede", "domicil",
                "direcci", "indirizzo", "location", "visit", "find", "angaben", "besok", "besök", "gatu", "sidlo",
                "sídlo", "szekhely", "székhely", "cim", "cím", "osoite", "kaynti", "käynti", "endere", "morada",
                "siedziba")


def _labelled_blocks(lines: list[str]) -> list[list[str]]:
    blocks = []
    for i, line in enumerate(lines):
        low = line.lower()
        if not any(stem in low for stem in _LABEL_STEMS):
            continue
        m = _LABEL.search(fold_keep(line))
        if m:
            rest = line[m.end():].strip()
            blocks.append(([rest] if rest else []) + lines[i + 1: i + 6])
            if len(blocks) >= 20:
                break
    return blocks


def _cjk(lines: list[str], url: str) -> list[PostalAddress]:
    return [PostalAddress(street=street, city=city, postcode=pc, region=region, country=country, raw=raw,
                          page=url, method="text")
            for street, city, pc, region, country, raw in find_cjk_addresses(lines)[:10]]


def find_addresses(doc: etree._Element, url: str, text: str | None = None, country_hint: str = "",
                   structured: Structured | None = None) -> list[PostalAddress]:
    """Street addresses on one page, each once, the most trusted source's version first.

    ``country_hint`` (usually from the site's TLD) decides the country only
    when no stronger clue in the address does.
    """
    if doc is None:
        return []
    if text is None:
        text = visible_text(doc)
    if structured is None:
        structured = read_structured(doc)
    found: list[PostalAddress] = _structured_addresses(structured, url, country_hint)
    credits = credit_lines(doc, text)
    for el in list(doc.iter("address"))[:20]:
        lines = without_credits(text_lines(visible_text(el)), credits)
        found += parse_address_block(lines, country_hint=country_hint, method="address_element", page=url, limit=3)
    for block in label_value_blocks(doc):
        found += parse_address_block(block, country_hint=country_hint, method="labelled", page=url, limit=1)
    lines = without_credits(without_hosting_blocks(text_lines(text)), credits)
    for block in _labelled_blocks(lines):
        found += parse_address_block(block, country_hint=country_hint, method="labelled", page=url, limit=2)
    found += parse_address_block(lines, country_hint=country_hint, method="text", page=url, limit=10)
    found += _cjk(lines, url)
    best: dict[tuple[str, str], PostalAddress] = {}
    for addr in found:
        key = addr.key()
        old = best.get(key)
        if old is None or ADDRESS_METHOD_WEIGHT.get(addr.method, 1) > ADDRESS_METHOD_WEIGHT.get(old.method, 1):
            best[key] = addr
    return sorted(best.values(), key=lambda a: -ADDRESS_METHOD_WEIGHT.get(a.method, 1))[:20]
