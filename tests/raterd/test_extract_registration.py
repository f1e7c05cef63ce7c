"""Registration and tax numbers: only labelled ones, normalised for registry matching."""

from __future__ import annotations

import pytest

from raterd.extract import find_registrations
from raterd.extract.registration import luhn_ok

URL = "https://www.example.com/imprint"


def regs(text: str) -> set[tuple[str, str, str]]:
    return {(r.scheme, r.value, r.authority) for r in find_registrations(text, URL)}


@pytest.mark.parametrize("text, expected", [
    # UK Companies House
    ("Company No. 1234567", ("uk_company", "01234567", "")),
    ("Company number: 01234567", ("uk_company", "01234567", "")),
    ("Company Registration No: 08123456", ("uk_company", "08123456", "")),
    ("Registered in England and Wales No. SC123456", ("uk_company", "SC123456", "")),
    ("Registered in England & Wales with company number 01234567.", ("uk_company", "01234567", "")),
    ("Registered in Scotland, company number SC 123456", ("uk_company", "SC123456", "")),
    # Germany
    ("Amtsgericht München HRB 12345", ("de_hrb", "HRB 12345", "Amtsgericht München")),
    ("Registergericht: Amtsgericht Charlottenburg\nRegisternummer: HRB 123456 B", ("de_hrb", "HRB 123456 B", "Amtsgericht Charlottenburg")),
    ("HRB 98765, AG Frankfurt am Main", ("de_hrb", "HRB 98765", "Amtsgericht Frankfurt am Main")),
    ("Handelsregister: HRA 4567", ("de_hra", "HRA 4567", "")),
    ("Vereinsregister VR 1234", ("de_vr", "VR 1234", "")),
    # United States
    ("EIN 12-3456789", ("us_ein", "12-3456789", "")),
    ("Federal Tax ID: 98-7654321", ("us_ein", "98-7654321", "")),
    ("Employer Identification Number 45-1234567", ("us_ein", "45-1234567", "")),
    # France (732 829 320 passes the Luhn check)
    ("SIREN 732 829 320", ("fr_siren", "732829320", "")),
    ("RCS Paris B 732 829 320", ("fr_siren", "732829320", "RCS Paris")),
    # VAT
    ("VAT No. GB 123 4567 89", ("vat", "GB123456789", "")),
    ("VAT Reg No. 123 4567 89", ("vat", "GB123456789", "")),
    ("USt-IdNr.: DE123456789", ("vat", "DE123456789", "")),
    ("Umsatzsteuer-Identifikationsnummer gemäß § 27 a Umsatzsteuergesetz: DE 123 456 789", ("vat", "DE123456789", "")),
    ("N° TVA intracommunautaire : FR 40 303 265 045", ("vat", "FR40303265045", "")),
    ("P.IVA 01234567890", ("vat", "IT01234567890", "")),
    ("Partita IVA: IT 01234567890", ("vat", "IT01234567890", "")),
    ("BTW-nummer: NL123456789B01", ("vat", "NL123456789B01", "")),
    ("UID: ATU12345678", ("vat", "ATU12345678", "")),
    ("NIF: ESB12345678", ("vat", "ESB12345678", "")),
])
def test_labelled_numbers(text, expected):
    assert expected in regs(text)


def test_siret_gives_siret_and_siren():
    assert regs("SIRET : 732 829 320 00074") == {("fr_siret", "73282932000074", ""), ("fr_siren", "732829320", "")}


@pytest.mark.parametrize("text", [
    "Call 12-3456789",  # an EIN-shaped number without its label
    "Order 01234567 confirmed",
    "SIREN 123 456 789",  # fails the Luhn check
    "VAT included in all prices",
    "VAT: 20%",
    "HRB",
    "our company number one priority",
    "Company No. 123456789012",  # too long for Companies House
    "Company No. 00000000",
    "EIN 00-0000000",
    "",
])
def test_unlabelled_or_invalid_numbers_are_ignored(text):
    assert regs(text) == set()


def test_vat_registration_number_is_not_a_company_number():
    assert regs("VAT Registration No. 123456789") == {("vat", "GB123456789", "")}


def test_imprint_with_several_numbers():
    text = ("Oakleaf Joinery Limited. Registered in England and Wales No. 08123456. "
            "Registered office: 14 Mill Lane, Hebden Bridge, HX7 8AB. VAT Reg No. 123 4567 89")
    assert regs(text) == {("uk_company", "08123456", ""), ("vat", "GB123456789", "")}


def test_each_number_once_and_capped():
    text = "\n".join(["HRB 12345"] * 10 + [f"HRB {n}" for n in range(1000, 1100)])
    found = find_registrations(text, URL)
    assert len(found) == 20 and len({r.value for r in found}) == 20


@pytest.mark.parametrize("junk", [None, 123, "\x00" * 1000, "HRB " * 100_000], ids=["none", "int", "nuls", "hrb-flood"])
def test_junk_never_raises(junk):
    assert isinstance(find_registrations(junk, URL), list)


@pytest.mark.parametrize("digits, ok", [("732829320", True), ("73282932000074", True), ("123456789", False),
                                        ("", False), ("12a", False)])
def test_luhn(digits, ok):
    assert luhn_ok(digits) is ok
