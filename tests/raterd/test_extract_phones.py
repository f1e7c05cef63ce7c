"""Phone numbers: tel: links and visible text via phonenumbers, read in the site's region, as E.164."""

from __future__ import annotations

import pytest

from raterd.extract import find_phones, parse_html, region_for

URL = "https://www.example.com/contact"


def phones(body: str, region: str = "US") -> list[tuple[str, str]]:
    doc = parse_html(f"<html><body>{body}</body></html>", URL)
    return [(e.value, e.method) for e in find_phones(doc, URL, region=region)]


@pytest.mark.parametrize("body, region, expected", [
    ("<p>Call us: (415) 555-0132</p>", "US", "+14155550132"),
    ("<p>Tel. 020 7946 0018</p>", "GB", "+442079460018"),
    ("<p>Telefon: 030 12345678</p>", "DE", "+493012345678"),
    ("<p>Téléphone : 01 42 68 53 00</p>", "FR", "+33142685300"),
    ("<p>Phone: +44 20 7946 0018</p>", "US", "+442079460018"),  # international form ignores the region
    ("<p>Tel +49 (0)89 1234567</p>", "GB", "+49891234567"),
    ("<p>Toronto office 416-555-0199</p>", "CA", "+14165550199"),
])
def test_numbers_in_text(body, region, expected):
    assert phones(body, region) == [(expected, "text")]


def test_tel_links_come_first_and_duplicates_are_dropped():
    body = '<a href="tel:+442079460018">020 7946 0018</a><p>Or call 020 7946 0018 or +44 (0)20 7946 0019</p>'
    assert phones(body, "GB") == [("+442079460018", "tel_link"), ("+442079460019", "text")]


def test_tel_link_with_escapes_and_params():
    assert phones('<a href="tel:%2B1-415-555-0132;ext=2">call</a>') == [("+14155550132", "tel_link")]


@pytest.mark.parametrize("body", [
    "<p>Order #123456789 shipped</p>", "<p>Price: $1,234.56</p>", "<p>Published 2024-05-01</p>",
    "<p>ISBN 978-3-16-148410-0</p>", '<a href="tel:not-a-number">x</a>', '<a href="tel:">x</a>',
    "<p>Call 555-0000</p>", "<p>HRB 123456</p>",
])
def test_things_that_are_not_phone_numbers(body):
    assert phones(body) == []


def test_number_of_phones_is_capped():
    body = "".join(f"<p>(415) 555-{i:04d}</p>" for i in range(100, 200))
    assert len(phones(body)) == 20


@pytest.mark.parametrize("domain, country, region", [
    ("example.co.uk", "", "GB"), ("example.de", "", "DE"), ("example.com", "", "US"), ("example.com", "FR", "FR"),
    ("example.de", "AT", "AT"), ("example.com", "ZZ", "US"), ("", "", "US"),
])
def test_region_for(domain, country, region):
    assert region_for(domain, country) == region


def test_garbage_region_falls_back_to_us():
    assert phones("<p>(415) 555-0132</p>", region="nonsense") == [("+14155550132", "text")]
