"""Street lines in the languages of the countries we read: ``123 Main St``, ``Chaussée de Wavre 214``,
``Drottninggatan 53``, ``ul. Nowy Świat 35 lok. 4``, ``Váci utca 12.``, ``Rua da Bahia 1148``.

Google's address metadata (see :mod:`._postal`) says where the street line
goes but not what one looks like, so the street-type words are our own
tables, per language: words that *start* a street name (``rue``, ``via``,
``calle``, ``rua``, ``ul.``, ``náměstí``), words that *end* one (``Street``,
``utca``, ``gate``), and endings of one-word names (``-straße``, ``-gatan``,
``-vej``, ``-katu``).  The house number comes before the name (English,
French) or after it (most of Europe, Latin America); unit, floor and door
parts (``Suite 4B``, ``lok. 4``, ``2. th.``, ``bte 3``, ``II. em. 3.``) are
allowed around it.  A PO box is never a street.

:func:`street_style` returns the language of the street words, which the
address reader uses as a clue to the country when a postcode fits several.
"""

from __future__ import annotations

import re
from functools import lru_cache

from raterd.extract._dom import fold

__all__ = ["street_style", "is_unit_line", "PO_BOX", "STYLE_COUNTRIES", "EN_WORDS", "LEADING_WORDS"]

# Words after the name: "Main Street", "Karl Johans gate", "Váci utca".
_TRAILING = {
    "en": {"street", "st", "road", "rd", "avenue", "ave", "av", "lane", "ln", "drive", "dr", "court", "ct",
           "place", "pl", "square", "sq", "way", "parkway", "pkwy", "highway", "hwy", "terrace", "ter", "close",
           "crescent", "cres", "row", "circle", "cir", "trail", "trl", "walk", "gardens", "hill", "grove", "mews",
           "park", "green", "broadway", "plaza", "wharf", "quay", "gate", "boulevard", "blvd", "crossing",
           "alley", "pike", "turnpike", "expressway", "freeway", "loop", "path", "ridge", "run", "center",
           "centre", "yard", "rise", "vale", "embankment", "parade", "esplanade", "queensway", "mall",
           "estate", "business park", "industrial estate", "point", "heights", "view", "strand"},
    "no": {"gate", "gata", "vei", "veien", "vegen", "veg", "plass", "allé", "alle", "brygge", "bryggen", "torg"},
    "sv": {"gata", "gatan", "vag", "vagen", "torg", "torget", "grand"},
    "da": {"gade", "vej", "alle", "plads", "torv", "straede"},
    "hu": {"utca", "u", "ut", "ter", "korut", "krt", "koz", "sor", "setany", "fasor", "rakpart"},
    "sl": {"cesta", "ulica", "trg", "pot", "nabrezje"},
    "hr": {"ulica", "cesta", "trg", "obala", "put", "avenija"},
    "et": {"tanav", "tn", "mnt", "maantee", "pst", "puiestee", "tee", "valjak"},
    "lv": {"iela", "bulvaris", "bulv", "prospekts", "laukums", "gatve"},
    "lt": {"g", "gatve", "pr", "prospektas", "al", "aleja", "pl", "plentas", "skg", "skersgatvis"},
    "de": {"strasse", "str", "weg", "platz", "allee", "gasse", "ring", "damm", "ufer", "markt"},
    "nl": {"straat", "laan", "weg", "plein", "gracht", "kade", "singel", "dijk"},
}
# Words before the name: "rue de la Paix", "Via Roma", "ul. Długa", "náměstí Míru".
_LEADING = {
    "fr": {"rue", "avenue", "av", "bd", "boulevard", "place", "allee", "chemin", "impasse", "quai", "route",
           "cours", "passage", "square", "voie", "faubourg", "fbg", "esplanade", "promenade", "rond point",
           "parvis", "sentier", "montee", "chaussee", "grand rue", "grande rue", "rang", "cote", "clos", "rte"},
    "it": {"via", "viale", "v le", "piazza", "p za", "piazzale", "corso", "largo", "vicolo", "strada", "contrada",
           "lungomare", "lungotevere", "borgo", "localita", "loc", "frazione", "fraz", "salita", "vico"},
    "es": {"calle", "c", "avenida", "avda", "av", "paseo", "plaza", "carrer", "carretera", "ctra", "camino",
           "ronda", "travesia", "glorieta", "rambla", "pasaje", "cl", "calzada", "privada", "callejon",
           "circuito", "prolongacion", "blvd", "boulevard", "andador", "cerrada", "periferico"},
    "pt": {"rua", "r", "avenida", "av", "travessa", "tv", "largo", "praca", "estrada", "alameda", "rodovia",
           "beco", "calcada", "ladeira", "praceta", "quinta", "rod", "al"},
    "pl": {"ul", "ulica", "al", "aleja", "aleje", "pl", "plac", "os", "osiedle", "rynek"},
    "cs": {"nam", "namesti", "namestie", "tr", "trida", "ulice", "nabrezi", "nabrezie", "sidliste"},
    "de": {"am", "an", "auf", "im", "in", "unter", "zum", "zur", "hinter", "vor", "alte", "alter", "neue",
           "neuer", "grosse", "kleine", "platz", "allee", "ring", "ufer", "markt", "an der", "auf der"},
    "ro": {"strada", "str", "bulevardul", "bd", "calea", "soseaua", "aleea", "piata"},
    "hr": {"ulica", "trg", "obala", "put"},
    "el": {"οδος", "οδός", "λεωφορος", "λεωφόρος", "λεωφ", "πλατεια", "πλατεία", "odos", "leoforos", "plateia"},
}
LEADING_WORDS = frozenset(w for words in _LEADING.values() for w in words if w not in _LEADING["de"])
EN_WORDS = frozenset(_TRAILING["en"])
# Endings of one-word street names: "Bergmannstraße", "Drottninggatan", "Vesterbrogade", "Hämeenkatu".
_SUFFIX = (
    ("de", r"stra(?:ß|ss)e|str\.?|weg|platz|allee|gasse|ring|damm|ufer|chaussee|markt|steig|pfad|berg|hof|"
           r"graben|kamp|stieg|br(?:ü|ue)cke|tor|wall|promenade|feld|garten|anger|zeile|steinweg|g(?:ü|ue)rtel|"
           r"l(?:ä|ae)nde|kai|gässli|gässle|gässchen"),
    ("nl", r"straat|gracht|laan|plein|kade|singel|dijk|steeg|dreef|baan|park|markt|wal|pad|hof|weg"),
    ("sv", r"gatan|v(?:ä|a)gen|gr(?:ä|a)nd|torget|backen|all(?:é|e)n|stigen|leden"),
    ("no", r"gata|gate|gaten|veien|vei|vegen|veg|plassen|torget|bryggen|brygga|kaia"),
    ("da", r"gade|vej|vejen|all(?:é|e)|plads|torv|str(?:æ|ae)de|v(?:æ|ae)nge"),
    ("fi", r"katu|tie|kuja|polku|tori|v(?:ä|a)yl(?:ä|a)|raitti|kaari|rinne|ranta|puistikko|gatan"),
    ("cs", r"ova|ská|ského"),  # Czech/Slovak adjectival names: "Vodičkova", "Štúrova", "Pražská"
)
_SUFFIX_RE = [(style, re.compile(rf"(?:{pattern})$", re.I)) for style, pattern in _SUFFIX]
# Which countries write streets in a language: a clue when a postcode fits several countries.
STYLE_COUNTRIES = {
    "en": ("US", "GB", "IE", "AU", "NZ", "ZA", "CA", "SG", "HK"), "fr": ("FR", "BE", "CH", "LU", "CA", "MC"),
    "it": ("IT", "CH"), "es": ("ES", "MX", "AR", "CL"), "pt": ("PT", "BR"), "de": ("DE", "AT", "CH", "LU", "LI"),
    "nl": ("NL", "BE"), "sv": ("SE", "FI"), "no": ("NO",), "da": ("DK",), "fi": ("FI",), "pl": ("PL",),
    "cs": ("CZ", "SK"), "hu": ("HU",), "ro": ("RO",), "sl": ("SI",), "hr": ("HR",), "et": ("EE",), "el": ("GR",),
    "lv": ("LV",), "lt": ("LT",),
}

PO_BOX = re.compile(
    r"\b(?:p\.?\s?o\.?\s*box|post\s+office\s+box|postfach|bo[iî]te\s+postale|case\s+postale|bp\s?\d+|cs\s\d+|"
    r"apartado(?:\s+de\s+correos)?|casella\s+postale|postbus|postboks|postbox|box\s+\d+|pl\s\d+|skrytka\s+pocztowa|"
    r"caixa\s+postal|postiliokero|pf\.?\s\d+|private\s+bag|locked\s+bag|gpo\s+box)\b",
    re.I,
)
_UNIT = r"(?:unit|units|suite|ste|flat|apt|apartment|level|lvl|floor|fl|shop|office|room|rm|building|bldg|block|blk|" \
        r"lot|kiosk|stall|studio|bâtiment|batiment|bat|étage|etage|piso|sala|andar|loja|conjunto|cj|lok|lokal|" \
        r"top|stiege|tür|bte|boîte|boite|bus|em|emelet|ajtó|ajto|door|g/f|\d+/f)"
_UNIT_LINE = re.compile(rf"(?i)^(?:{_UNIT}\.?\s*#?\s*[\w./-]{{1,8}}|#\s?\d{{1,3}}-\d{{1,5}}|\d{{1,2}}/f|g/f)(?:\s+.*)?$")
# A unit/floor/door tail after the house number: "Ste 210", "lok. 4", "bte 3", "B 5", "II. em. 3.", "2º B".
_TAIL = re.compile(
    rf"(?i)(?:\s*,?\s+(?:{_UNIT})\.?\s*#?\s*[\w./-]{{1,6}}\.?|\s+[IVX]+\.\s*em(?:elet)?\.?(?:\s*\d+\.?)?|"
    r"\s+[A-Z]\s?\d{1,3}|\s+\d{1,2}\s?[ºª°]\s?[A-Z]?|\s*,?\s*(?:bajo|entlo|izq|izda|dcha|esq|dto)\.?)\s*$"
)
_NUM = r"\d{1,6}[A-Za-z]?(?:\s?[-–/]\s?\d{1,5}[A-Za-z]?){0,2}"
_NUM_FIRST = re.compile(
    rf"(?i)^(?:{_UNIT}\.?\s*#?\s*[\w-]{{1,6}}\s*[,/-]?\s+)?(?P<num>{_NUM})(?:\s*(?:bis|ter|quater)\b)?\s*,?\s+"
    r"(?P<rest>[^\W_][\w'’.\- ]{1,70})$"
)
_NUM_LAST = re.compile(
    rf"^(?P<rest>(?:C/\s?)?[^\W\d_][\w'’.\- /]{{1,60}}?)\s*,?\s+(?:n\.?\s?[°ºo]\.?\s*|nr\.?\s*|no\.?\s*|#\s?)?"
    rf"(?P<num>{_NUM})\.?$"
)
_BLOCK_PREFIX = re.compile(r"(?i)^(?:blk|block)\s+")  # Singapore: "Blk 123 Ang Mo Kio Avenue 3"


def _word_style(words: list[str], raw_words: list[str], leading_only: bool = False) -> str | None:
    first2 = " ".join(words[:2])
    for style, table in _LEADING.items():
        if words[0] in table or first2 in table:
            if style == "de" and len(words) < 2:
                continue
            return style
    if leading_only:
        return None
    for style, table in _TRAILING.items():
        if style == "en":
            continue
        if any(w in table for w in words[1:]):
            return style
    for raw in raw_words:
        for style, regex in _SUFFIX_RE:
            if regex.search(raw.rstrip(",")) and len(raw) > 4:
                return style
    return None


@lru_cache(maxsize=16384)  # nav, footer and address lines repeat on every page of a site
def street_style(segment: str, allow_generic: bool = False) -> str | None:
    """The street-word language of a street line (``"en"``, ``"fr"``, ``"de"``...), or None if not a street line.

    ``allow_generic``: a bare ``Words 12`` (``Hybešova 42``, ``Bryggen 7``) is
    a street too; only when a postcode and city line follows it directly.
    """
    seg = segment.strip().rstrip(",")
    if len(seg) < 4 or len(seg) > 90 or PO_BOX.search(seg):
        return None
    seg = _BLOCK_PREFIX.sub("", seg)
    stripped = _TAIL.sub("", seg) or seg
    for candidate in dict.fromkeys((seg, stripped)):
        style = _number_first(candidate) or _number_last(candidate, allow_generic)
        if style:
            return style
    return None


def _number_first(seg: str) -> str | None:
    match = _NUM_FIRST.match(seg)
    if not match:
        return None
    rest = match.group("rest")
    raw_words = rest.split()
    words = fold(rest).split()
    if not 0 < len(words) <= 8:
        return None
    style = _word_style(words, raw_words, leading_only=True)
    if style in ("fr", "it", "es", "pt"):
        return style
    if any(w in EN_WORDS for w in words[1:]) or (len(words) == 1 and words[0].endswith("way")):
        return "en"
    if len(words) >= 2 and " ".join(words[-2:]) in EN_WORDS:
        return "en"
    if re.search(r"[-\s](?:rue|strasse|straße)$", rest, re.I) or fold(rest).startswith("grand rue"):
        return "fr" if "rue" in fold(rest) else "de"
    return None


def _number_last(seg: str, allow_generic: bool) -> str | None:
    match = _NUM_LAST.match(seg)
    if not match:
        return None
    rest = match.group("rest").strip()
    raw_words = rest.split()
    words = fold(rest).split() or [w.strip(".,") for w in rest.lower().split()]  # Greek: fold keeps Latin only
    if not words or len(words) > 7:
        return None
    if rest.startswith("C/"):
        return "es"
    style = _word_style(words, raw_words)
    if style:
        return style
    if re.search(r"\d", rest):
        return None
    if allow_generic and len(words) <= 4 and rest[0].isupper():
        return "generic"
    return None


def is_unit_line(segment: str) -> bool:
    """``Unit 4``, ``Suite 100``, ``Level 2``, ``Shop 12``, ``#12-34``, ``12/F``: a part of an address, not a street."""
    return bool(_UNIT_LINE.match(segment.strip())) and not PO_BOX.search(segment)
