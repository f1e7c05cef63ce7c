"""Street addresses: national formats (US, UK, DE, FR, CA and neighbours), sources and their trust, negatives."""

from __future__ import annotations

import json

import pytest

from raterd.extract import find_addresses, is_street_line, parse_address_block, parse_html
from raterd.extract.address import country_code

URL = "https://www.example.com/contact"


def parsed(text: str, hint: str = "") -> list[tuple[str, str, str, str, str]]:
    return [(a.street, a.city, a.postcode, a.region, a.country) for a in parse_address_block(text, country_hint=hint)]


def on_page(body: str, head: str = "", hint: str = "") -> list[tuple[str, str, str, str, str, str]]:
    doc = parse_html(f"<html><head>{head}</head><body>{body}</body></html>", URL)
    return [(a.street, a.city, a.postcode, a.region, a.country, a.method) for a in find_addresses(doc, URL, country_hint=hint)]


@pytest.mark.parametrize("text, expected", [
    # United States
    ("123 Main St, Springfield, IL 62704", ("123 Main St", "Springfield", "62704", "IL", "US")),
    ("123 Main St\nSpringfield, IL 62704-1234", ("123 Main St", "Springfield", "62704-1234", "IL", "US")),
    ("123 Main St, Suite 100, Springfield, IL 62704", ("123 Main St", "Springfield", "62704", "IL", "US")),
    ("123 Main St Springfield IL 62704", ("123 Main St", "Springfield", "62704", "IL", "US")),
    ("1600 Pennsylvania Avenue NW\nWashington, DC 20500", ("1600 Pennsylvania Avenue NW", "Washington", "20500", "DC", "US")),
    ("350 Fifth Avenue, New York, New York 10118, USA", ("350 Fifth Avenue", "New York", "10118", "NY", "US")),
    ("Unit 4, 77 Industrial Pkwy, Austin, TX 78701", ("77 Industrial Pkwy", "Austin", "78701", "TX", "US")),
    # United Kingdom
    ("10 Downing Street, London SW1A 2AA", ("10 Downing Street", "London", "SW1A 2AA", "", "GB")),
    ("10 Downing Street\nLondon\nSW1A 2AA\nUnited Kingdom", ("10 Downing Street", "London", "SW1A 2AA", "", "GB")),
    ("221b Baker Street, London, NW1 6XE", ("221b Baker Street", "London", "NW1 6XE", "", "GB")),
    ("Flat 3, 12 High Street, Manchester M1 1AE, UK", ("12 High Street", "Manchester", "M1 1AE", "", "GB")),
    ("14 Mill Lane, Hebden Bridge HX78AB", ("14 Mill Lane", "Hebden Bridge", "HX7 8AB", "", "GB")),
    # Germany
    ("Musterstraße 12, 10115 Berlin", ("Musterstraße 12", "Berlin", "10115", "", "DE")),
    ("Musterstraße 12\nD-10115 Berlin\nDeutschland", ("Musterstraße 12", "Berlin", "10115", "", "DE")),
    ("Musterstr. 12a 10115 Berlin", ("Musterstr. 12a", "Berlin", "10115", "", "DE")),
    ("Unter den Linden 77, 10117 Berlin", ("Unter den Linden 77", "Berlin", "10117", "", "DE")),
    ("Kurfürstendamm 21, 10719 Berlin", ("Kurfürstendamm 21", "Berlin", "10719", "", "DE")),
    ("Am Markt 3\n04109 Leipzig", ("Am Markt 3", "Leipzig", "04109", "", "DE")),
    ("Berliner Allee 5-7, 40212 Düsseldorf, Germany", ("Berliner Allee 5-7", "Düsseldorf", "40212", "", "DE")),
    # France
    ("12 rue de la Paix, 75002 Paris", ("12 rue de la Paix", "Paris", "75002", "", "FR")),
    ("12, rue de la Paix\n75002 Paris Cedex 02\nFrance", ("12 rue de la Paix", "Paris", "75002", "", "FR")),
    ("8 bis avenue des Champs-Élysées, 75008 Paris", ("8 bis avenue des Champs-Élysées", "Paris", "75008", "", "FR")),
    ("3 place Bellecour\nF-69002 Lyon", ("3 place Bellecour", "Lyon", "69002", "", "FR")),
    # Canada
    ("100 King St W, Toronto, ON M5X 1A9", ("100 King St W", "Toronto", "M5X 1A9", "ON", "CA")),
    ("1000 Rue De La Gauchetière O, Montréal, QC H3B 4W5, Canada",
     ("1000 Rue De La Gauchetière O", "Montréal", "H3B 4W5", "QC", "CA")),
    ("595 Burrard Street\nVancouver, British Columbia V7X1L3", ("595 Burrard Street", "Vancouver", "V7X 1L3", "BC", "CA")),
    # neighbours
    ("Keizersgracht 123, 1015 CJ Amsterdam", ("Keizersgracht 123", "Amsterdam", "1015 CJ", "", "NL")),
    ("Hauptstraße 5, 1010 Wien", ("Hauptstraße 5", "Wien", "1010", "", "AT")),
    ("Bahnhofstrasse 10, 8001 Zürich, Schweiz", ("Bahnhofstrasse 10", "Zürich", "8001", "", "CH")),
    ("Via Roma, 1, 00100 Roma", ("Via Roma 1", "Roma", "00100", "", "IT")),
    ("Calle Mayor 5, 28013 Madrid", ("Calle Mayor 5", "Madrid", "28013", "", "ES")),
])
def test_national_formats(text, expected):
    assert parsed(text) == [expected]


@pytest.mark.parametrize("text", [
    "Springfield, IL 62704",  # a city is not an address
    "London SW1A 2AA",
    "10115 Berlin",
    "75002 Paris",
    "PO Box 123, Springfield, IL 62704",
    "Postfach 1234, 10115 Berlin",
    "123 Main St, Springfield",  # no postcode
    "Musterstraße 12, Berlin",
    "We sold 12345 widgets in 2023",
    "Order 10115 shipped to Berlin",
    "Version 2.1 released 12345 Downloads",
    "2024 Acme GmbH Alle Rechte vorbehalten",
    "Call 555 1234 today, IL 62704",
    "Open 7 days, 9am to 5pm",
    "USt-IdNr.: DE 123 456 789\n© 2024 Bäckerei Müller GmbH",
    "",
])
def test_not_addresses(text):
    assert parsed(text) == []


def test_country_from_tld_hint_only_when_format_is_silent():
    # A generic "Words 12" street before a 5-digit postcode: the TLD hint decides.
    assert parsed("Alte Mühle 3\n97070 Würzburg", hint="DE")[0][4] == "DE"
    # The UK postcode says GB whatever the hint.
    assert parsed("10 Downing Street, London SW1A 2AA", hint="DE")[0][4] == "GB"
    # A named country beats the street style: a German-style street in Switzerland.
    assert parsed("Bahnhofstrasse 10, 8001 Zürich, Schweiz", hint="DE")[0][4] == "CH"


def test_two_addresses_in_one_block_are_both_found_in_order():
    text = "Head office: 10 Downing Street, London SW1A 2AA\nWarehouse: 5 Dock Road, Liverpool L3 4AB"
    assert [a[0] for a in parsed(text)] == ["10 Downing Street", "5 Dock Road"]


@pytest.mark.parametrize("line, yes", [
    ("123 Main St", True), ("12 rue de la Paix", True), ("Musterstraße 12", True), ("Via Roma 1", True),
    ("Keizersgracht 123", True), ("10 Downing Street", True), ("London", False), ("PO Box 12", False),
    ("Suite 100", False), ("12 Monkeys", False), ("Chapter 11", False), ("", False),
])
def test_is_street_line(line, yes):
    assert is_street_line(line) is yes


@pytest.mark.parametrize("value, code", [("Deutschland", "DE"), ("United Kingdom", "GB"), ("UK", "GB"), ("US", "US"),
                                         ("France", "FR"), ("Narnia", ""), ("", "")])
def test_country_code(value, code):
    assert country_code(value) == code


# -- sources on a page ----------------------------------------------------------------------

def test_jsonld_postal_address():
    head = '<script type="application/ld+json">' + json.dumps({
        "@context": "https://schema.org", "@type": "LocalBusiness", "name": "Acme",
        "address": {"@type": "PostalAddress", "streetAddress": "123 Main St", "addressLocality": "Springfield",
                    "addressRegion": "IL", "postalCode": "62704"}}) + "</script>"
    assert on_page("", head) == [("123 Main St", "Springfield", "62704", "IL", "US", "jsonld")]


def test_jsonld_address_as_plain_string_and_untyped_object():
    head = '<script type="application/ld+json">' + json.dumps({"@graph": [
        {"@type": "Organization", "name": "A", "address": "Musterstraße 12, 10115 Berlin"},
        {"@type": "Store", "name": "B", "address": {"streetAddress": "12 rue de la Paix", "postalCode": "75002",
                                                    "addressLocality": "Paris", "addressCountry": {"@type": "Country", "name": "FR"}}},
    ]}) + "</script>"
    assert sorted(on_page("", head)) == [("12 rue de la Paix", "Paris", "75002", "", "FR", "jsonld"),
                                         ("Musterstraße 12", "Berlin", "10115", "", "DE", "jsonld")]


def test_jsonld_address_without_house_number_or_place_is_ignored():
    head = '<script type="application/ld+json">' + json.dumps([
        {"@type": "PostalAddress", "streetAddress": "High Street", "addressLocality": "London", "postalCode": "SW1A 2AA"},
        {"@type": "PostalAddress", "streetAddress": "10 Downing Street"},
        {"@type": "PostalAddress", "streetAddress": "PO Box 12", "postalCode": "62704", "addressLocality": "Springfield"},
    ]) + "</script>"
    assert on_page("", head) == []


def test_microdata_postal_address():
    body = ('<div itemscope itemtype="https://schema.org/Organization"><span itemprop="name">Acme</span>'
            '<div itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">'
            '<span itemprop="streetAddress">10 Downing Street</span> <span itemprop="addressLocality">London</span>'
            '<span itemprop="postalCode">SW1A 2AA</span><meta itemprop="addressCountry" content="GB"></div></div>')
    assert on_page(body) == [("10 Downing Street", "London", "SW1A 2AA", "", "GB", "microdata")]


def test_address_element():
    body = "<address>Acme Widgets Ltd<br>10 Downing Street<br>London<br>SW1A 2AA</address>"
    assert on_page(body) == [("10 Downing Street", "London", "SW1A 2AA", "", "GB", "address_element")]


@pytest.mark.parametrize("body", [
    "<p>Address: 123 Main St, Springfield, IL 62704</p>",
    "<p><b>Anschrift</b></p><p>Musterstraße 12<br>10115 Berlin</p>",
    "<dl><dt>Adresse :</dt><dd>12 rue de la Paix</dd><dd>75002 Paris</dd></dl>",
    "<p>Registered office: 10 Downing Street, London SW1A 2AA.</p>",
    "<p>Acme Ltd. Registered in England. Registered office: 10 Downing Street, London SW1A 2AA.</p>",
    "<table><tr><th>Head office</th><td>100 King St W<br>Toronto, ON M5X 1A9</td></tr></table>",
    "<p>Siège social : 12, rue de la Paix, 75002 Paris</p>",
    "<h2>Angaben gemäß § 5 TMG</h2><p>Acme GmbH<br>Musterstraße 12<br>10115 Berlin</p>",
])
def test_labelled_blocks(body):
    [found] = on_page(body)
    assert found[5] == "labelled"


def test_free_text_address_is_found_with_lowest_trust():
    assert on_page("<p>Visit our showroom at 10 Downing Street, London SW1A 2AA, open daily.</p>") == []
    assert on_page("<p>Visit our showroom at</p><p>10 Downing Street, London SW1A 2AA</p>") == [
        ("10 Downing Street", "London", "SW1A 2AA", "", "GB", "text")]


def test_same_address_from_several_sources_is_kept_once_from_the_best_source():
    head = '<script type="application/ld+json">' + json.dumps({"@type": "Organization", "address": {
        "@type": "PostalAddress", "streetAddress": "10 Downing Street", "addressLocality": "London", "postalCode": "SW1A 2AA"}}) + "</script>"
    body = "<address>10 Downing Street, London SW1A 2AA</address><p>Address: 10 Downing St, London SW1A 2AA</p>"
    assert [f[5] for f in on_page(body, head)] == ["jsonld"]


def test_addresses_in_scripts_hidden_elements_and_hosting_blocks_are_ignored():
    body = ('<script>var a = "10 Downing Street, London SW1A 2AA";</script>'
            '<div style="display:none"><p>10 Downing Street</p><p>London SW1A 2AA</p></div>'
            '<p>Hébergeur : OVH SAS, 2 rue Kellermann, 59100 Roubaix</p>')
    assert on_page(body) == []


def test_many_addresses_on_one_page_are_capped():
    body = "".join(f"<p>{i} High Street, London SW1A 2AA</p><p>x</p><p>y</p><p>z</p><p>w</p>" for i in range(1, 60))
    assert 0 < len(on_page(body)) <= 20


@pytest.mark.parametrize("junk", ["\x00" * 100, "1" * 10_000, "Straße " * 5000, ", " * 10_000, "12345 " * 5000],
                         ids=["nuls", "digits", "strasse", "commas", "postcodes"])
def test_junk_text_is_cheap_and_empty(junk):
    assert parse_address_block(junk) == []


# -- postal formats from Google's address metadata ---------------------------------------------

@pytest.mark.parametrize("text, expected", [
    # postcode, city and country as each country's post prints them: (street, postcode, country)
    ("Drottninggatan 53\n111 21 Stockholm", ("Drottninggatan 53", "111 21", "SE")),
    ("Kungsvägen 8, SE-981 31 Kiruna", ("Kungsvägen 8", "981 31", "SE")),
    ("Karl Johans gate 14\n0154 Oslo", ("Karl Johans gate 14", "0154", "NO")),
    ("Storgata 45 · 9008 Tromsø · Norge", ("Storgata 45", "9008", "NO")),
    ("Vesterbrogade 34, 2. th.\n1620 København V", ("Vesterbrogade 34", "1620", "DK")),
    ("Mannerheimintie 12 B 5\n00100 Helsinki", ("Mannerheimintie 12 B 5", "00100", "FI")),
    ("ul. Nowy Świat 35 lok. 4\n00-029 Warszawa", ("ul. Nowy Świat 35 lok. 4", "00-029", "PL")),
    ("Vodičkova 681/18\n110 00 Praha 1", ("Vodičkova 681/18", "110 00", "CZ")),
    ("Obchodná 12, 811 06 Bratislava, Slovensko", ("Obchodná 12", "811 06", "SK")),
    ("6720 Szeged, Kárász utca 8.", ("Kárász utca 8", "6720", "HU")),
    ("Rua dos Bacalhoeiros, 34\n1100-068 Lisboa", ("Rua dos Bacalhoeiros 34", "1100-068", "PT")),
    ("Chaussée de Wavre 214\n1050 Ixelles", ("Chaussée de Wavre 214", "1050", "BE")),
    ("Rue Royale 120 bte 3, B-1000 Bruxelles", ("Rue Royale 120 bte 3", "1000", "BE")),
    ("12, rue de la Gare\nL-1611 Luxembourg", ("12 rue de la Gare", "1611", "LU")),
    ("14 Camden Street Lower, Dublin 2, D02 XE80", ("14 Camden Street Lower", "D02 XE80", "IE")),
    ("Level 2, 123 Little Collins Street, Melbourne VIC 3000", ("123 Little Collins Street", "3000", "AU")),
    ("12 Beach Road, Kaikōura 7300, New Zealand", ("12 Beach Road", "7300", "NZ")),
    ("45 Florida Road, Morningside, Durban, 4001, South Africa", ("45 Florida Road", "4001", "ZA")),
    ("10 Anson Road\n#12-34 International Plaza\nSingapore 079903", ("10 Anson Road", "079903", "SG")),
    ("Av. Paulista, 1578 - Bela Vista, São Paulo - SP, 01310-200", ("Av. Paulista 1578", "01310-200", "BR")),
    ("Av. Vallarta 1234, Col. Americana\nC.P. 44160, Guadalajara, Jal.", ("Av. Vallarta 1234", "44160", "MX")),
    ("Montréal (Québec)  H3H 1M6", None),
    ("2150, rue Sainte-Catherine Ouest\nMontréal (Québec)  H3H 1M6", ("2150 rue Sainte-Catherine Ouest", "H3H 1M6", "CA")),
    ("62 Mody Road\nTsim Sha Tsui, Kowloon\nHong Kong", ("62 Mody Road", "", "HK")),
    ("Ljubljanska cesta 7\n4260 Bled", ("Ljubljanska cesta 7", "4260", "SI")),
    ("Ερμού 25, 105 63 Αθήνα, Ελλάδα", ("Ερμού 25", "105 63", "GR")),
    ("Brīvības iela 55, Rīga, LV-1010", ("Brīvības iela 55", "1010", "LV")),
    ("Gedimino pr. 9, LT-01103 Vilnius", ("Gedimino pr. 9", "01103", "LT")),
])
def test_postal_formats_of_more_countries(text, expected):
    found = [(a.street, a.postcode, a.country) for a in parse_address_block(text)]
    assert found == ([expected] if expected else [])


def test_a_country_line_beats_the_postcode_pattern_and_the_tld():
    # Four digits before a city fit Austria, Switzerland, Norway...: "Norge" says which, whatever the TLD.
    assert parsed("Bryggen 7, 5003 Bergen, Norge", hint="AT")[0][4] == "NO"
    # A Spanish-looking street and five digits: the Mexican state code decides, not the street's language.
    assert parsed("Calle 6 Norte 403, Centro, 72000 Puebla, Pue.", hint="ES")[0][4] == "MX"
    assert parsed("Calle Mayor 5, 28013 Madrid")[0][4] == "ES"
    # The postcode prefix beats the TLD.
    assert parsed("Via Cantonale 24\nCH-6900 Lugano", hint="IT")[0][4] == "CH"


def test_po_boxes_and_postcodes_without_street_are_not_addresses():
    text = "Postadress: Box 45, 981 21 Kiruna\nBesöksadress: Kungsvägen 8, 981 31 Kiruna"
    assert [(a.street, a.postcode) for a in parse_address_block(text)] == [("Kungsvägen 8", "981 31")]
    assert parse_address_block("Postboks 123, 0102 Oslo") == []
    assert parse_address_block("Sala 1201, Centro") == []
    assert parse_address_block("Hong Kong") == []


@pytest.mark.parametrize("lines, expected", [
    (["〒604-8005 京都府京都市中京区河原町通三条上る恵比須町123"], ("604-8005", "JP", "京都府")),
    (["〒111-0036", "東京都台東区松が谷2丁目21番5号"], ("111-0036", "JP", "東京都")),
    (["주소: (03055) 서울특별시 종로구 북촌로 31, 2층"], ("03055", "KR", "서울특별시")),
    (["부산광역시 해운대구 해운대해변로 264 (우동)", "우편번호", "48094"], ("48094", "KR", "부산광역시")),
    (["地址：香港九龍旺角彌敦道688號旺角中心1期12樓1205室"], ("", "HK", "九龍")),
])
def test_japanese_korean_and_hong_kong_addresses(lines, expected):
    body = "".join(f"<p>{line}</p>" for line in lines)
    [found] = on_page(body)
    doc = parse_html(f"<html><body>{body}</body></html>", URL)
    [address] = find_addresses(doc, URL)
    assert (address.postcode, address.country, address.region) == expected
    assert found[0]  # a street part


def test_label_value_tables_and_definition_lists():
    table = ("<table><tr><td>Firma</td><td>Holzwerk GmbH</td></tr><tr><td>Straße</td><td>Kemptener Str. 17</td></tr>"
             "<tr><td>PLZ</td><td>87509</td></tr><tr><td>Ort</td><td>Immenstadt im Allgäu</td></tr></table>")
    assert on_page(table) == [("Kemptener Str. 17", "Immenstadt im Allgäu", "87509", "", "DE", "labelled")]
    us = ("<table><tr><th>Street</th><td>500 Pine Street</td></tr><tr><th>City</th><td>Seattle</td></tr>"
          "<tr><th>State</th><td>WA</td></tr><tr><th>ZIP</th><td>98101</td></tr></table>")
    assert on_page(us) == [("500 Pine Street", "Seattle", "98101", "WA", "US", "labelled")]
    dl = ("<dl><dt>Anschrift</dt><dd>Grazer Straße 21a</dd><dt>PLZ/Ort</dt><dd>8010 Graz</dd>"
          "<dt>Land</dt><dd>Österreich</dd></dl>")
    assert [f[2:5] for f in on_page(dl)] == [("8010", "", "AT")]


@pytest.mark.parametrize("footer", [
    "<p>Website designed and hosted by Pixelworks Ltd, 14 Harbour Road, Plymouth PL1 2AB.</p>",
    "<div>Powered by Hostbox GmbH<br>Rechenzentrumstraße 5<br>90402 Nürnberg</div>",
    "<p>Site réalisé et hébergé par Agence Web SAS, 3 rue du Port, 29200 Brest</p>",
    "<small>Webdesign: Studio Nord, Hafenstraße 3, 20459 Hamburg</small>",
])
def test_an_address_in_a_credit_for_another_company_is_not_the_sites(footer):
    assert on_page(f"<footer>{footer}</footer>") == []


def test_the_shops_own_address_before_a_credit_in_the_same_block_stays():
    body = "<footer><p>Acme Widgets Ltd, 1 High Street, London SW1A 1AA · Website by Pixelworks Ltd, " \
           "14 Harbour Road, Plymouth PL1 2AB</p></footer>"
    assert [f[2] for f in on_page(body)] == ["SW1A 1AA"]


@pytest.mark.parametrize("text", [
    "12 Main Street\nSince 1998",
    "12 Main Street, Collection 2024",
    "45 Long Street\nOpen 7 days 0900",
    "5 rue des Lilas\n2024 Collection printemps",
])
def test_years_and_counts_under_a_street_are_not_postcodes(text):
    assert parsed(text) == []


def test_a_four_digit_postcode_that_looks_like_a_year_needs_a_clue():
    assert parsed("Meir 50, 2000 Antwerpen", hint="BE") == [("Meir 50", "Antwerpen", "2000", "", "BE")]
    assert parsed("45 George Street, Sydney NSW 2000") == [("45 George Street", "Sydney", "2000", "NSW", "AU")]
