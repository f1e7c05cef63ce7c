"""Company registration and tax numbers printed on a page (usually the imprint or the footer).

A number only counts when it is labelled, because bare digit runs are
everywhere. Registries match on these values, so they are normalised:

==============  =========================================================  ===================
scheme          recognised as                                              value
==============  =========================================================  ===================
``uk_company``  "Company No. 1234567", "Registered in England and Wales    ``01234567``,
                No. SC123456", "Companies House number ..."                ``SC123456``
``de_hrb``      "HRB 12345 B", "Amtsgericht München HRB 12345"             ``HRB 12345 B``
``de_hra``      "HRA 1234"; ``de_vr``: "VR 1234" (Vereinsregister)         ``HRA 1234``
``us_ein``      "EIN 12-3456789", "Federal Tax ID: 12-3456789"             ``12-3456789``
``fr_siren``    "SIREN 732 829 320", "RCS Paris 732 829 320" (Luhn-checked) ``732829320``
``fr_siret``    "SIRET 732 829 320 00074" (Luhn-checked)                   ``73282932000074``
``vat``         "VAT No. GB 123 4567 89", "USt-IdNr.: DE123456789",        ``GB123456789``,
                "TVA FR12345678901", "P.IVA 01234567890", "BTW NL...B01"   ``DE123456789``
==============  =========================================================  ===================

The register court ("Amtsgericht München") or RCS city is kept as ``authority``.
"""

from __future__ import annotations

import re

from raterd.findings import Registration

__all__ = ["find_registrations", "luhn_ok"]

_MAX_TEXT = 400_000
_MAX_RESULTS = 20

_UK_PREFIXES = "SC|NI|OC|SO|NC|R0|LP|SL|NF|FC|GE|IP|SP|IC|SI|NP|NO|NR|RC|SE|SZ|ZC|SA|SF|NL|ES|FE|CE|CS|AC|GS|IS|PC"
_UK = re.compile(
    r"(?:(?:company|companies\s+house|registration|registered|reg\.?|co\.?)\s+(?:registration\s+)?"
    r"(?:no\.?|number|num\.?|nr\.?|#)"
    r"|registered\s+in\s+(?:england(?:\s*(?:&|and)\s*wales)?|wales|scotland|northern\s+ireland)"
    r"(?:\s*,?\s*(?:under|with)?\s*(?:company\s+)?(?:no\.?|number|registration\s+number|reg\.?\s*no\.?))?)"
    rf"\s*[:.]?\s*(?P<num>(?:{_UK_PREFIXES})?\s?\d{{5,8}})(?![\d-])",
    re.I,
)
_DE = re.compile(r"\b(?P<type>HRB|HRA|VR)\s*(?:-?\s*Nr\.?)?\s*:?\s*(?P<num>\d{1,6})(?:\s?(?P<suffix>[A-Z]{1,2})\b)?(?![\d/])")
_DE_COURT = re.compile(
    r"(?:Amtsgericht|Registergericht|AG)\s*:?\s*(?:Amtsgericht\s+)?(?P<court>[A-ZÄÖÜ][\wäöüß.\-]+"
    r"(?:\s(?:am|an\sder|im|in\sder|i\.\s?)\s?[\wäöüß.\-]+)?)"
)
_EIN = re.compile(
    r"\b(?:EIN|FEIN|Employer\s+Identification\s+Number|Federal\s+(?:Tax|Employer)\s+ID(?:entification)?"
    r"(?:\s+(?:Number|No\.?))?|Tax\s+ID(?:\s+(?:Number|No\.?))?)\s*(?:No\.?|Number|#)?\s*[:#]?\s*(?P<num>\d{2}-\d{7})(?!\d)",
    re.I,
)
_SIREN = re.compile(r"\bSIREN\s*(?:n[°o]\.?|no\.?)?\s*:?\s*(?P<num>\d{3}\s?\d{3}\s?\d{3})(?!\s?\d)", re.I)
_SIRET = re.compile(r"\bSIRET\s*(?:n[°o]\.?|no\.?)?\s*:?\s*(?P<num>\d{3}\s?\d{3}\s?\d{3}\s?\d{5})(?!\d)", re.I)
_RCS = re.compile(
    r"\bR\.?C\.?S\.?\s+(?P<city>[A-Z][\w'\-]+(?:[\s-][A-Z][\w'\-]+)?)\s*(?:[AB]\s+)?(?:n[°o]\s*)?"
    r"(?P<num>\d{3}\s?\d{3}\s?\d{3})(?!\s?\d)"
)
_VAT_LABEL = re.compile(
    r"(?:\bVAT\b|\bV\.A\.T\.|\bUSt\.?\s?-?\s?Id(?:\.?\s?-?\s?Nr)?\.?|\bUmsatzsteuer(?:-|\s)?(?:Identifikations)?(?:nummer|-?ID)"
    r"|\bUID(?:-?Nr\.?)?|\bMwSt\.?-?(?:Nr\.?)?|\bTVA\b|N°\s*TVA|\bIVA\b|\bP\.?\s?IVA\b|\bPartita\s+IVA\b"
    r"|\bBTW(?:-?(?:nummer|nr\.?|id))?\b|\bNIF\b|\bCIF\b)",
    re.I,
)
# Per-country VAT shapes (after stripping spaces, dots and dashes).
_VAT_SHAPES = re.compile(
    r"^(?:DE\d{9}|GB(?:\d{9}|\d{12}|GD\d{3}|HA\d{3})|XI\d{9}|FR[0-9A-Z]{2}\d{9}|IT\d{11}|ES[0-9A-Z]\d{7}[0-9A-Z]"
    r"|NL\d{9}B\d{2}|ATU\d{8}|BE[01]\d{9}|DK\d{8}|SE\d{12}|FI\d{8}|IE\d{7}[A-Z]{1,2}|IE\d[A-Z]\d{5}[A-Z]"
    r"|LU\d{8}|PL\d{10}|PT\d{9}|CZ\d{8,10}|SK\d{10}|HU\d{8}|SI\d{8}|HR\d{11}|RO\d{2,10}|BG\d{9,10}"
    r"|EL\d{9}|CY\d{8}[A-Z]|MT\d{8}|LT(?:\d{9}|\d{12})|LV\d{11}|EE\d{9}|CHE\d{9})$"
)
_VAT_CANDIDATE = re.compile(r"(?<![\w])(?:[A-Z]{2,3}[\s.-]?)?[0-9][0-9A-Z .\-]{6,18}[0-9A-Z]")


def luhn_ok(digits: str) -> bool:
    """Luhn check (used by SIREN/SIRET)."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _uk_number(raw: str) -> str | None:
    raw = raw.upper().replace(" ", "")
    m = re.fullmatch(r"([A-Z][A-Z0-9])?(\d+)", raw)
    if not m:
        return None
    prefix, digits = m.group(1) or "", m.group(2)
    width = 8 - len(prefix)
    if len(digits) > width:
        return None
    return prefix + digits.zfill(width)


def _vat_value(label: str, window: str) -> str | None:
    label_folded = label.lower().replace(".", "").replace(" ", "")
    for cand in _VAT_CANDIDATE.finditer(window[:60]):
        if cand.start() > 30:
            break
        raw = cand.group(0).upper()
        # The candidate may run into the next word ("DE123456789 Amtsgericht"): try shorter cuts.
        for cut in range(len(raw), 7, -1):
            value = re.sub(r"[\s.\-]", "", raw[:cut])
            if _VAT_SHAPES.match(value):
                return value
        lead = re.match(r"[\d\s.\-]+", raw)
        digits = re.sub(r"\D", "", lead.group(0)) if lead else ""
        # The label tells the country when the prefix is left out.
        if label_folded.startswith("vat") and len(digits) in (9, 12):
            return "GB" + digits
        if label_folded in ("piva", "partitaiva", "iva") and len(digits) == 11:
            return "IT" + digits
        if label_folded.startswith(("ust", "umsatz")) and len(digits) == 9:
            return "DE" + digits
    return None


def find_registrations(text: str, url: str) -> list[Registration]:
    """Labelled registration and tax numbers in a page's visible text, each once. Never raises on bad input."""
    if not isinstance(text, str) or not text:
        return []
    text = text[:_MAX_TEXT]
    out: dict[tuple[str, str], Registration] = {}

    def add(scheme: str, value: str, authority: str = "") -> None:
        key = (scheme, value)
        if len(out) < _MAX_RESULTS and (key not in out or authority and not out[key].authority):
            out[key] = Registration(scheme=scheme, value=value, page=url, authority=authority)

    for m in _UK.finditer(text):
        if re.search(r"\b(?:vat|tva|ust|iva|btw)\b", text[max(0, m.start() - 12): m.start()], re.I):
            continue  # "VAT Registration No." is a tax number, not a company number
        value = _uk_number(m.group("num"))
        if value and value.strip("0"):
            add("uk_company", value)
    for m in _DE.finditer(text):
        value = f"{m.group('type')} {m.group('num')}" + (f" {m.group('suffix')}" if m.group("suffix") else "")
        window = text[max(0, m.start() - 80): m.end() + 60]
        court = _DE_COURT.search(window)
        scheme = {"HRB": "de_hrb", "HRA": "de_hra", "VR": "de_vr"}[m.group("type")]
        add(scheme, value, f"Amtsgericht {court.group('court')}" if court else "")
    for m in _EIN.finditer(text):
        if not m.group("num").startswith("00"):
            add("us_ein", m.group("num"))
    for m in _SIRET.finditer(text):
        digits = m.group("num").replace(" ", "")
        if luhn_ok(digits):
            add("fr_siret", digits)
            add("fr_siren", digits[:9])
    for regex in (_SIREN, _RCS):
        for m in regex.finditer(text):
            digits = m.group("num").replace(" ", "")
            if luhn_ok(digits):
                city = m.groupdict().get("city")
                add("fr_siren", digits, f"RCS {city}" if city else "")
    for m in _VAT_LABEL.finditer(text):
        value = _vat_value(m.group(0), text[m.end(): m.end() + 80].lstrip(" :.#-–\u00a0"))
        if value is None:
            # "VAT identification number: DE123..." / "N° TVA intracommunautaire : FR..."
            tail = re.sub(r"^[^\d]{0,40}?(?=(?:[A-Z]{2,3}[\s.-]?)?\d)", "", text[m.end(): m.end() + 100])
            value = _vat_value(m.group(0), tail)
        if value:
            add("vat", value)
    return list(out.values())
