"""Legal forms of companies and the comparable form of an organisation name.

``legal_form`` tells which legal form a name ends with ("Acme Widgets
Limited" -> ``ltd``), ``normalise_org_name`` gives the form used to compare
names with registries, certificates and each other, ``strip_legal_form``
drops the form for matching when one side omits it. Used by the name
extractor (:mod:`raterd.extract.organisation`, which re-exports them), the
rules and the register matcher.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["legal_form", "normalise_org_name", "strip_legal_form", "FORM_ANYWHERE"]

# (canonical, pattern). Long spellings are case-insensitive; short all-caps
# ones (AG, SA, SE, AB) must be written as such, or "sa" in a sentence would
# count. Order matters: longer forms first.
_LEGAL_FORMS: tuple[tuple[str, str], ...] = (
    ("gmbh & co kg", r"GmbH\s*(?:&|\+|und)\s*Co\.?\s*KG(?:aA)?"),
    ("ug", r"UG\s*\((?i:haftungsbeschr(?:ä|ae|a)nkt)\)|UG"),
    ("ggmbh", r"gGmbH"),
    ("gmbh", r"(?i:GmbH|Gesellschaft mit beschr(?:ä|ae)nkter Haftung)"),
    ("kgaa", r"KGaA"),
    ("ag", r"AG|(?i:Aktiengesellschaft)"),
    ("kg", r"KG|(?i:Kommanditgesellschaft)"),
    ("ohg", r"OHG|oHG"),
    ("ek", r"e\.\s?K(?:fm|fr)?\."),
    ("ev", r"e\.\s?V\."),
    ("pty ltd", r"(?i:Pty\.?\s*Ltd\.?|Proprietary Limited)"),
    ("pte ltd", r"(?i:Pte\.?\s*Ltd\.?)"),
    ("plc", r"PLC|Plc|p\.l\.c\.|(?i:Public Limited Company)"),
    ("llp", r"LLP|L\.L\.P\.|(?i:Limited Liability Partnership)"),
    ("llc", r"LLC|L\.L\.C\.|(?i:Limited Liability Company)"),
    ("ltd", r"(?i:Ltd\.?|Limited)"),
    ("inc", r"(?i:Inc\.?|Incorporated)"),
    ("corp", r"(?i:Corp\.?|Corporation)"),
    ("lp", r"LP|L\.P\."),
    ("sa de cv", r"S\.\s?A\.\s?(?:P\.\s?I\.\s?)?de\s+C\.\s?V\.?"),
    ("s de rl", r"S\.\s?de\s+R\.\s?L\.(?:\s?de\s+C\.\s?V\.?)?"),
    ("sarl", r"S\.A\.R\.L\.?|SARL|S[aà]rl|Sarl|S\.à\s?r\.\s?l\.?"),
    ("sas", r"S\.A\.S\.U?\.?|SASU?"),
    ("eurl", r"EURL"),
    ("sa", r"S\.A\.U?\.?|SAU?|S/A"),
    ("bv", r"B\.V\.|BV"),
    ("nv", r"N\.V\.|NV"),
    ("srl", r"S\.r\.l\.|Srl|SRL|S\.R\.L\.|s\.r\.l\."),
    ("spa", r"S\.p\.A\.|SpA|S\.P\.A\.|s\.p\.a\."),
    ("sl", r"S\.L\.U?\.?|SLU?"),
    ("se", r"SE"),
    ("aps", r"ApS"),
    ("as", r"A/S|ASA|AS|a\.\s?s\."),
    ("is", r"I/S"),
    ("ivs", r"IVS"),
    ("ab", r"AB"),
    ("oy", r"Oyj?"),
    ("sp z oo", r"Sp\.\s?z\s?o\.\s?o\.?"),
    ("spol s ro", r"spol\.\s?s\s?r\.\s?o\.?"),
    ("sro", r"s\.\s?r\.\s?o\.?"),
    # Italy's partnerships, Greece (written in Greek: the canonical form is what normalise_org_name makes of it)
    ("snc", r"S\.n\.c\.?|s\.n\.c\.?|SNC|Snc"),
    ("sapa", r"S\.a\.p\.a\.?"),
    ("sas", r"S\.a\.s\.?|s\.a\.s\."),
    ("αε", r"Α\.\s?Ε\.?|ΑΕ"),
    ("οε", r"Ο\.\s?Ε\.?|ΟΕ"),
    ("επε", r"Ε\.\s?Π\.\s?Ε\.?|ΕΠΕ"),
    ("ικε", r"Ι\.\s?Κ\.\s?Ε\.?|ΙΚΕ"),
    ("εε", r"Ε\.\s?Ε\.?"),
    # Hungary, Portugal and Brazil, Austria, the Netherlands and Belgium, Ireland
    ("kft", r"Kft\.?"),
    ("zrt", r"Zrt\.?"),
    ("nyrt", r"Nyrt\.?"),
    ("bt", r"Bt\.?"),
    ("ltda", r"Ltda\.?|LTDA\.?"),
    ("lda", r"Lda\.?"),
    ("eireli", r"EIRELI|Eireli"),
    ("eu", r"e\.\s?U\."),
    ("vof", r"V\.O\.F\.|VOF"),
    ("bvba", r"BVBA|bvba"),
    ("sprl", r"SPRL|sprl"),
    ("dac", r"DAC"),
    ("clg", r"CLG"),
)
_FORM_ALT = "|".join(f"(?:{pattern})" for _, pattern in _LEGAL_FORMS)
_FORM_AT_END = re.compile(rf"(?:^|[\s,])(?P<form>{_FORM_ALT})\s*$")
_FORM_ANYWHERE = re.compile(rf"(?<![\w&])(?P<form>{_FORM_ALT})(?=$|[\s,;:|)!?·•]|\.(?:\s|$))")
_FORM_PATTERNS = tuple((canon, re.compile(rf"(?:{pattern})\Z")) for canon, pattern in _LEGAL_FORMS)


def legal_form(name: str) -> str | None:
    """Canonical legal form a name ends with (``Acme Widgets Limited`` -> ``ltd``), or None."""
    match = _FORM_AT_END.search((name or "").strip()[-200:])
    if not match:
        return None
    form = match.group("form").strip()
    for canon, pattern in _FORM_PATTERNS:
        if pattern.match(form):
            return canon
    return None


# Multi-word spellings reduced to one token before comparing names.
_PHRASE_FORMS = (
    ("gesellschaft mit beschrankter haftung", "gmbh"),
    ("limited liability partnership", "llp"),
    ("limited liability company", "llc"),
    ("public limited company", "plc"),
    ("proprietary limited", "pty ltd"),
    ("societe a responsabilite limitee", "sarl"),
    ("societe par actions simplifiee", "sas"),
    ("societe anonyme", "sa"),
    ("sociedad limitada", "sl"),
    ("sociedad anonima", "sa"),
    ("societa a responsabilita limitata", "srl"),
    ("societa per azioni", "spa"),
    ("besloten vennootschap", "bv"),
    ("naamloze vennootschap", "nv"),
    ("ug haftungsbeschrankt", "ug"),
    ("sa rl", "sarl"),
    ("sociedade limitada", "ltda"),
    ("korlatolt felelossegu tarsasag", "kft"),
)
_TOKEN_FORMS = {
    "limited": "ltd", "incorporated": "inc", "corporation": "corp", "company": "co",
    "aktiengesellschaft": "ag", "kommanditgesellschaft": "kg", "und": "and", "haftungsbeschrankt": "",
}


# What a comparable name keeps: ASCII letters and digits (Latin letters
# without their accents, as always: stored register keys depend on it) and the
# letters of other scripts (Greek, Cyrillic, Hebrew, Arabic, Thai, Hangul, kana,
# CJK), which would otherwise leave "Μέλι Κρήτης Α.Ε." or "하늘다원" with no name.
_NOT_NAME_CHARS = re.compile(
    r"[^0-9a-z\u0370-\u03ff\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff\u0e00-\u0e7f\u1100-\u11ff"
    r"\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)


def normalise_org_name(name: str) -> str:
    """Comparable form of an organisation name.

    Case- and accent-blind, punctuation dropped, ``&`` -> ``and``, legal
    forms unified (``Limited`` -> ``ltd``, ``Incorporated`` -> ``inc``,
    ``L.L.C.`` -> ``llc``), a leading "the" dropped:
    ``The Acme Widgets Company, Limited.`` -> ``acme widgets co ltd``.
    """
    if not isinstance(name, str):
        return ""
    text = unicodedata.normalize("NFKD", name[:300].replace("ß", "ss"))
    # NFC after dropping the accents puts Hangul syllables back together.
    text = unicodedata.normalize("NFC", "".join(ch for ch in text if not unicodedata.combining(ch)).casefold())
    text = text.replace("&", " and ").replace("+", " and ")
    text = re.sub(r"(?<=\w)\.(?=\w)|\.", lambda m: "" if m.group(0) == "." else " ", text)
    text = " ".join(_NOT_NAME_CHARS.sub(" ", text).split())
    for phrase, short in _PHRASE_FORMS:
        text = re.sub(rf"\b{phrase}\b", short, text)
    tokens = [_TOKEN_FORMS.get(tok, tok) for tok in text.split()]
    tokens = [tok for tok in tokens if tok]
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    return " ".join(tokens)


_CANON_FORMS = sorted({canon for canon, _ in _LEGAL_FORMS} | {"co", "pty", "ltd", "and co"}, key=len, reverse=True)


def strip_legal_form(normalised: str) -> str:
    """``acme widgets ltd`` -> ``acme widgets``: for fuzzy matching when one side omits the form."""
    text = normalised
    for _ in range(3):  # "acme gmbh and co kg", "acme co ltd"
        for canon in _CANON_FORMS:
            if text.endswith(" " + canon):
                text = text[: -len(canon) - 1]
                break
        else:
            break
    return text.strip()


FORM_ANYWHERE = _FORM_ANYWHERE  # for the name extractor's walk back from a legal form
