"""Business registers: imported from their published CSV files and matched
against the name, postcode and registration number a site prints.

Two published formats are read:

* UK Companies House "Free Company Data Product" (``BasicCompanyData-*.csv``,
  plain or as the zip it ships in; the one-file or the multi-part version,
  all parts in one import). Its header has leading spaces in some names
  (``" CompanyNumber"``); they are stripped.
* The GLEIF LEI-CDF golden copy CSV (``...-gleif-goldencopy-lei2-golden-copy.csv``,
  plain or zipped). The legal name and the current other names (trading
  names, transliterations; not previous names) are all matchable.

A confirmation (what :func:`registry_match` returns) needs three things:

1. the name keys are equal (see :mod:`._names`: case, punctuation, accents
   and the legal form are ignored, so "Acme Widgets Limited" = "ACME WIDGETS
   LTD." = "Acme Widgets");
2. the postcode equals the registered one (casefolded, no spaces; for GLEIF
   the legal or the headquarters address), **or** the registration number
   equals the registered one (UK company numbers zero-padded to 8; for GLEIF
   the ``RegistrationAuthorityEntityID`` or the LEI itself);
3. the entry is live: Companies House ``CompanyStatus`` exactly "Active"
   ("Active - Proposal to Strike off", liquidation, administration and the
   like are not); GLEIF ``EntityStatus`` ACTIVE with ``RegistrationStatus``
   ISSUED, PENDING_TRANSFER or PENDING_ARCHIVAL (a LAPSED LEI is not being
   kept up to date, so its address is not evidence).

A name that matches without a postcode or number returns nothing: a name
alone is what any impostor can copy. When *country* is given and both sides
have an ISO code, they must agree.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from contextlib import ExitStack

from raterd.findings import Confirmation

from ._index import ImportReport, Load, ProgressCallback, SourceIndex
from ._names import name_key, normalise_country, normalise_postcode, normalise_registration
from ._readers import CsvRows, guarded, open_inputs

__all__ = [
    "import_companies_house",
    "import_gleif_csv",
    "registry_match",
    "COMPANIES_HOUSE",
    "GLEIF",
    "GLEIF_LIVE_REGISTRATIONS",
    "lei_is_valid",
]

COMPANIES_HOUSE = "companies-house"
GLEIF = "gleif"
GLEIF_LIVE_REGISTRATIONS = frozenset({"ISSUED", "PENDING_TRANSFER", "PENDING_ARCHIVAL"})
_CH_LIVE = "active"
_CANDIDATES_PER_SOURCE = 200  # rows sharing one name key; plenty even for "Smith Ltd"

_CH_ADDRESS = ("RegAddress.CareOf", "RegAddress.POBox", "RegAddress.AddressLine1", "RegAddress.AddressLine2",
               "RegAddress.PostTown", "RegAddress.County", "RegAddress.PostCode")
_CH_NUMBER = re.compile(r"[A-Z0-9]{8}")
_LEI = re.compile(r"[A-Z0-9]{18}[0-9]{2}")
_GLEIF_OTHER_NAME = re.compile(r"Entity\.(?:Transliterated)?OtherEntityNames\.(?:Transliterated)?OtherEntityName\.(\d+)")
_GLEIF_ADDRESS = ("FirstAddressLine", "AdditionalAddressLine.1", "AdditionalAddressLine.2", "AdditionalAddressLine.3",
                  "City", "Region", "PostalCode", "Country")


def lei_is_valid(lei: str) -> bool:
    """ISO 17442: 18 letters/digits and two check digits (ISO 7064 MOD 97-10).

    Checking the digits catches shifted columns, which would otherwise
    store some other field as the LEI.
    """
    if not _LEI.fullmatch(lei):
        return False
    return int("".join(str(int(c, 36)) for c in lei)) % 97 == 1


def _as_paths(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    if isinstance(path, (str, os.PathLike)):
        return [os.fspath(path)]
    return [os.fspath(p) for p in path]


def _clean(value: str) -> str:
    return " ".join(value.split())


def import_companies_house(index: SourceIndex,
                           path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
                           progress: ProgressCallback | None = None, *, name: str = COMPANIES_HOUSE,
                           force: bool = False) -> ImportReport:
    """Import Companies House BasicCompanyData CSV file(s) as source *name*.

    *path* is one file or a sequence (the multi-part download: give all
    parts, since an import replaces the source's previous data). Rows
    without a name or a plausible company number, with the wrong number of
    fields, or with undecodable bytes in the name are skipped and counted.
    Every company is stored; the status is checked when matching. *force*
    skips the "shrank by more than half" safety check.
    """
    paths = _as_paths(path)
    required = ("CompanyName", "CompanyNumber", "RegAddress.PostCode", "CompanyStatus")
    with ExitStack() as stack, index._loading(name, "registry", "companies-house-csv", paths, progress,
                                             force) as load:
        for number, one in enumerate(paths):
            for inp in open_inputs([one], stack, name):
                load.begin_file(number, inp.position)
                rows = CsvRows(inp, required, name, "Companies House BasicCompanyData")
                col = rows.columns
                address_cols = [col[c] for c in _CH_ADDRESS if c in col]
                country_col = col.get("RegAddress.Country")
                for line, fields in guarded(rows, name, inp.label):
                    where = f"{inp.label}:{line}"
                    if fields is None:
                        load.bad(where, "wrong number of fields or unparsable CSV")
                        continue
                    company = _clean(fields[col["CompanyName"]])
                    if not company or "\ufffd" in company:
                        load.bad(where, "no company name, or undecodable bytes in it")
                        continue
                    number_text = normalise_registration(fields[col["CompanyNumber"]])
                    if not _CH_NUMBER.fullmatch(number_text):
                        load.bad(where, f"implausible company number {fields[col['CompanyNumber']][:20]!r}")
                        continue
                    key = name_key(company)
                    if not key:
                        load.bad(where, f"name {company[:60]!r} has no letters or digits")
                        continue
                    status = _clean(fields[col["CompanyStatus"]])
                    country = normalise_country(fields[country_col]) if country_col is not None else ""
                    address = ", ".join(v for v in (_clean(fields[i]) for i in address_cols) if v)
                    load.add((key, company, number_text, number_text,
                              normalise_postcode(fields[col["RegAddress.PostCode"]]),
                              country if len(country) == 2 else "GB",
                              status, int(status.casefold() == _CH_LIVE), address))
    return load.report()


def import_gleif_csv(index: SourceIndex,
                     path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
                     progress: ProgressCallback | None = None, *, name: str = GLEIF,
                     force: bool = False) -> ImportReport:
    """Import a GLEIF LEI-CDF golden copy CSV as source *name*.

    One row per LEI record in the report's count; each record is stored
    once per matchable name. Rows without a valid LEI or legal name, with
    the wrong number of fields, or with undecodable bytes in the legal name
    are skipped and counted.
    """
    paths = _as_paths(path)
    required = ("LEI", "Entity.LegalName", "Entity.LegalAddress.PostalCode", "Entity.EntityStatus",
                "Registration.RegistrationStatus")
    with ExitStack() as stack, index._loading(name, "registry", "gleif-lei-cdf-csv", paths, progress,
                                             force) as load:
        for number, one in enumerate(paths):
            for inp in open_inputs([one], stack, name):
                load.begin_file(number, inp.position)
                rows = CsvRows(inp, required, name, "GLEIF LEI-CDF golden copy")
                _import_gleif_rows(load, rows, inp.label)
    return load.report()


def _import_gleif_rows(load: Load, rows: CsvRows, label: str) -> None:
    col = rows.columns

    def get(fields: list[str], column: str) -> str:
        i = col.get(column)
        return _clean(fields[i]) if i is not None else ""

    other_names = []  # (name column, its .type column or None)
    for column in rows.header:
        if _GLEIF_OTHER_NAME.fullmatch(column):
            other_names.append((column, column + ".type" if column + ".type" in col else None))
    for line, fields in guarded(rows, load.name, label):
        where = f"{label}:{line}"
        if fields is None:
            load.bad(where, "wrong number of fields or unparsable CSV")
            continue
        lei = get(fields, "LEI").upper()
        legal_name = get(fields, "Entity.LegalName")
        if not lei_is_valid(lei):
            load.bad(where, f"invalid LEI {lei[:30]!r}")
            continue
        if not legal_name or "\ufffd" in legal_name or not name_key(legal_name):
            load.bad(where, "no usable legal name")
            continue
        entity_status = get(fields, "Entity.EntityStatus").upper()
        registration_status = get(fields, "Registration.RegistrationStatus").upper()
        live = entity_status == "ACTIVE" and registration_status in GLEIF_LIVE_REGISTRATIONS
        postcodes = {normalise_postcode(get(fields, "Entity.LegalAddress.PostalCode")),
                     normalise_postcode(get(fields, "Entity.HeadquartersAddress.PostalCode"))} - {""}
        numbers = {lei, normalise_registration(
            get(fields, "Entity.RegistrationAuthority.RegistrationAuthorityEntityID"))} - {""}
        address = ", ".join(v for v in (get(fields, f"Entity.LegalAddress.{part}") for part in _GLEIF_ADDRESS) if v)
        base = (lei, " ".join(sorted(numbers)), " ".join(sorted(postcodes)),
                normalise_country(get(fields, "Entity.LegalAddress.Country")),
                f"{entity_status}/{registration_status}", int(live), address)
        names = [legal_name]
        for name_col, type_col in other_names:
            other = _clean(fields[col[name_col]])
            kind = _clean(fields[col[type_col]]).upper() if type_col else ""
            if other and "\ufffd" not in other and kind != "PREVIOUS_LEGAL_NAME":
                names.append(other)
        keys_seen = set()
        for i, entity_name in enumerate(names):
            key = name_key(entity_name)
            if key and key not in keys_seen:
                keys_seen.add(key)
                load.add((key, entity_name) + base, new_record=(i == 0))


def registry_match(index: SourceIndex, name: str, postcode: str | None = None,
                   registration: str | None = None, country: str | None = None) -> list[Confirmation]:
    """Registry entries confirming that *name* is a live business at *postcode*
    or with *registration*; strongest first, one per register entry.

    The rule is in the module docstring. Every confirmation returned has
    ``strength="strong"``; a name-only match returns nothing (not a weak
    confirmation). A broken or missing index returns nothing (see
    :class:`SourceIndex`).
    """
    key = name_key(name or "")
    want_postcode = normalise_postcode(postcode)
    want_number = normalise_registration(registration)
    if not key or not (want_postcode or want_number):
        return []
    want_country = normalise_country(country)
    found: dict[tuple[str, str], tuple[int, Confirmation]] = {}
    for source, fmt, row in index._lookup("registry", key, "name, ident, numbers, postcodes, country, status,"
                                         " active, address", _CANDIDATES_PER_SOURCE):
        reg_name, ident, numbers, postcodes, reg_country, status, active, address = row
        if not active:
            continue
        if len(want_country) == 2 and len(reg_country) == 2 and want_country != reg_country:
            continue
        agreed = []
        if want_number and want_number in numbers.split():
            agreed.append("registration number")
        if want_postcode and want_postcode in postcodes.split():
            agreed.append("postcode")
        if not agreed:
            continue
        what = "company" if fmt.startswith("companies-house") else "LEI"
        detail = (f"{source}: {what} {ident} {reg_name!r} ({status}), {address}: name and "
                  f"{' and '.join(agreed)} match")
        score = len(agreed)
        previous = found.get((source, ident))
        if previous is None or previous[0] < score:
            found[(source, ident)] = (score, Confirmation(source=source, detail=detail, matched_name=reg_name,
                                                          strength="strong"))
    ranked = sorted(found.values(), key=lambda item: -item[0])
    return [confirmation for _, confirmation in ranked]
