"""Match keys: how a business name, postcode, registration number and country
are reduced so that what a web site prints can be compared with what a
register holds.

Both sides of every comparison go through the same function: the importers
store the keys, the lookups compute them from what the extractors found. The
name key builds on ``raterd.extract.organisation.normalise_org_name`` when
that module is present (legal forms are the extractors' business)
and on :func:`_normalise` here otherwise; in both cases the result is folded
once more by :func:`_normalise`, so accents, ``&`` and punctuation are treated
alike whichever normaliser is installed. Because stored keys must be computed
the way lookups compute them, each import records :func:`key_version`; a
lookup against a source imported under another version logs a warning (the
fix is to re-import).

Name equality is on :func:`name_key`: the normalised name with trailing legal
forms removed, so "Acme Widgets Limited", "ACME WIDGETS LTD." and "Acme
Widgets" are one key. That is deliberate: sites often print the trading name
without "Ltd", and a confirmation also needs the postcode or the registration
number to agree, which is what keeps same-named businesses apart.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable

__all__ = [
    "name_key",
    "normalise_name",
    "normalise_postcode",
    "normalise_registration",
    "normalise_country",
    "key_version",
]

# Multi-word legal forms, written as _normalise sees them (casefolded, no
# accents, no dots), replaced by their usual abbreviation.
_PHRASES = {
    "public limited company": "plc",
    "limited liability company": "llc",
    "limited liability partnership": "llp",
    "limited partnership": "lp",
    "community interest company": "cic",
    "gesellschaft mit beschrankter haftung": "gmbh",
    "unternehmergesellschaft haftungsbeschrankt": "ug",
    "societe anonyme": "sa",
    "societe a responsabilite limitee": "sarl",
    "sa rl": "sarl",
    "societe par actions simplifiee": "sas",
    "besloten vennootschap": "bv",
    "naamloze vennootschap": "nv",
    "societa per azioni": "spa",
    "societa a responsabilita limitata": "srl",
    "proprietary limited": "pty ltd",
    "private limited": "pvt ltd",
}
_PHRASE_RE = re.compile(r"\b(" + "|".join(re.escape(p) for p in sorted(_PHRASES, key=len, reverse=True)) + r")\b")

# Single-word spellings of a legal form.
_WORDS = {
    "limited": "ltd",
    "incorporated": "inc",
    "corporation": "corp",
    "company": "co",
    "aktiengesellschaft": "ag",
    "proprietary": "pty",
    "pvt": "pvt",
}

# Legal forms (after _normalise) that name_key drops from the end of a name.
_LEGAL_TAIL = frozenset({
    "ltd", "inc", "llc", "plc", "llp", "lp", "corp", "co", "cic",
    "gmbh", "ag", "kg", "ohg", "ug", "ev", "mbh",
    "sa", "sarl", "sas", "bv", "nv", "srl", "spa",
    "ab", "asa", "oy", "oyj", "aps", "pty", "pvt", "pte",
})

# Joiners left dangling once a trailing "& Co" has been dropped.
_DANGLING = frozenset({"and", "und", "et"})

_DROP_RE = re.compile(r"['\u2019\u02bc.`\u00b4]")  # O'Brien, Ltd., A.B.C. keep their letters together
_SPLIT_RE = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    """Casefold and strip accents: "Société" and "SOCIETE" are one spelling."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", text).casefold()


def _normalise(name: str) -> str:
    """Casefold, strip punctuation and accents, unify legal forms.

    "Acme Widgets Limited" and "ACME WIDGETS LTD." both give
    ``"acme widgets ltd"``; "Müller & Söhne GmbH" gives ``"muller and sohne gmbh"``.
    """
    text = _fold(name).replace("&", " and ")
    text = _DROP_RE.sub("", text)
    text = " ".join(_SPLIT_RE.split(text)).strip()
    text = _PHRASE_RE.sub(lambda m: _PHRASES[m.group(1)], text)
    return " ".join(_WORDS.get(token, token) for token in text.split())


def _pick_normaliser() -> Callable[[str], str]:
    try:
        from raterd.extract.organisation import normalise_org_name
    except ImportError:
        return _normalise

    def both(name: str) -> str:
        # Theirs keeps only ASCII letters and digits; a name in another
        # script (株式会社サンプル) would come out empty, so ours is the fallback.
        return _normalise(normalise_org_name(name)) or _normalise(name)

    return both


_normaliser: Callable[[str], str] | None = None


def normalise_name(name: str) -> str:
    """The normalised business name (legal form kept, in its short spelling)."""
    global _normaliser
    if _normaliser is None:
        # Chosen on first use, not at import, so importing this package never
        # drags the extractors in before they are needed.
        _normaliser = _pick_normaliser()
    return _normaliser(name or "")


def name_key(name: str) -> str:
    """What two names must share to be "the same name": see the module docstring."""
    tokens = normalise_name(name).split()
    full = list(tokens)
    while tokens and tokens[-1] in _LEGAL_TAIL | _DANGLING:
        tokens.pop()
    if tokens and tokens[0] == "the" and len(tokens) > 1:
        tokens.pop(0)
    # A name that is nothing but a legal form keeps it, rather than matching
    # every other such name.
    return " ".join(tokens or full)


def normalise_postcode(postcode: str | None) -> str:
    """Casefolded, without spaces; a US ZIP+4 becomes its five-digit ZIP."""
    if not postcode:
        return ""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", postcode).casefold()).strip(".,;:")
    if re.fullmatch(r"\d{5}-\d{4}", text):
        text = text[:5]
    return text


def normalise_registration(number: str | None) -> str:
    """Upper case without spaces, dots, dashes or slashes; all-digit numbers
    shorter than eight digits are zero-padded to eight.

    The padding is the UK company-number rule ("1234567" is "01234567"); it is
    applied to every register alike, which is harmless because both sides of a
    comparison are padded the same way.
    """
    if not number:
        return ""
    text = re.sub(r"[\s./\-]+", "", unicodedata.normalize("NFKC", number).upper())
    if text.isascii() and text.isdigit() and len(text) < 8:
        text = text.zfill(8)
    return text


_COUNTRIES = {
    "uk": "GB", "gb": "GB", "united kingdom": "GB", "great britain": "GB", "britain": "GB",
    "england": "GB", "wales": "GB", "scotland": "GB", "northern ireland": "GB",
    "england and wales": "GB", "united kingdom of great britain and northern ireland": "GB",
    "us": "US", "usa": "US", "united states": "US", "united states of america": "US",
    "germany": "DE", "deutschland": "DE", "france": "FR", "canada": "CA",
    "ireland": "IE", "netherlands": "NL", "nederland": "NL", "austria": "AT", "osterreich": "AT",
    "switzerland": "CH", "schweiz": "CH", "suisse": "CH", "belgium": "BE", "spain": "ES",
    "espana": "ES", "italy": "IT", "italia": "IT", "australia": "AU", "new zealand": "NZ",
}


def normalise_country(country: str | None) -> str:
    """An ISO 3166-1 alpha-2 code when one can be told, else the folded text.

    ``"UK"``, ``"United Kingdom"`` and ``"England"`` are all ``"GB"``; an
    ISO 3166-2 subdivision (``"GB-LND"``) gives its country.
    """
    if not country:
        return ""
    text = " ".join(_SPLIT_RE.split(_fold(country).replace("&", " and "))).strip()
    if text in _COUNTRIES:
        return _COUNTRIES[text]
    if re.fullmatch(r"[a-z]{2}", text):
        return text.upper()
    match = re.fullmatch(r"([a-z]{2}) [a-z0-9]{1,3}", text)  # ISO 3166-2, e.g. "gb lnd"
    if match:
        return match.group(1).upper()
    return text


# Names whose keys pin down how name_key behaves: if any of them changes, keys
# stored by an earlier import no longer line up with lookups.
_PROBES = (
    "Acme Widgets Limited", "ACME WIDGETS LTD.", "Müller & Söhne GmbH", "The Example Company, Inc.",
    "O'Brien Trading Co.", "Société Générale S.A.", "Smith & Co", "Limited",
)


@functools.cache
def key_version() -> str:
    """A short fingerprint of the name-key behaviour, recorded with each import.

    Cached: the normaliser is chosen once per process, so its fingerprint
    cannot change while the process runs.
    """
    digest = hashlib.sha1("\n".join(name_key(p) for p in _PROBES).encode("utf-8"))
    return digest.hexdigest()[:12]
