"""Organisation names: JSON-LD (@graph, lists, nesting), microdata, og:site_name, copyright, imprint, title; normalisation."""

from __future__ import annotations

import json

import pytest

from raterd.extract import find_org_names, legal_form, normalise_org_name, parse_html, strip_legal_form
from raterd.extract.organisation import name_ending_with_legal_form

URL = "https://www.example.com/"


def names(body: str, head: str = "") -> list[tuple[str, str, float]]:
    doc = parse_html(f"<html><head>{head}</head><body>{body}</body></html>", URL)
    return [(n.name, n.method, n.confidence) for n in find_org_names(doc, URL)]


def jsonld(data) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def top(body: str = "", head: str = "") -> tuple[str, str]:
    found = names(body, head)
    assert found, "no name found"
    return found[0][0], found[0][1]


# -- JSON-LD -----------------------------------------------------------------------------

def test_jsonld_organization_legal_name_beats_name():
    head = jsonld({"@context": "https://schema.org", "@type": "Organization", "name": "Acme", "legalName": "Acme Widgets Ltd"})
    assert names("", head)[:2] == [("Acme Widgets Ltd", "jsonld", 0.95), ("Acme", "jsonld", 0.9)]


def test_jsonld_graph_with_publisher_reference_and_type_list():
    head = jsonld({"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "name": "Acme Shop", "publisher": {"@id": "#org"}},
        {"@type": ["Organization", "OnlineStore"], "@id": "#org", "name": "Acme Widgets GmbH"},
    ]})
    assert top(head=head) == ("Acme Widgets GmbH", "jsonld")
    assert "Acme Shop" not in [n for n, _, _ in names("", head)]  # a WebSite's name is not an organisation


def test_jsonld_top_level_list_and_local_business_subtypes():
    head = jsonld([{"@type": "BreadcrumbList"}, {"@type": "Restaurant", "name": "Trattoria Roma S.r.l."},
                   {"@type": "http://schema.org/ShoeStore", "name": "Best Shoes LLC"}])
    found = {n for n, _, _ in names("", head)}
    assert {"Trattoria Roma S.r.l.", "Best Shoes LLC"} <= found


def test_jsonld_nested_publisher_counts_but_product_brand_and_author_do_not():
    head = jsonld({"@context": "https://schema.org", "@type": "Article", "headline": "x",
                   "author": {"@type": "Organization", "name": "Newswire Inc."},
                   "publisher": {"@type": "NewsMediaOrganization", "name": "Daily Planet Corp."},
                   "about": {"@type": "Product", "brand": {"@type": "Brand", "name": "Nike"},
                             "manufacturer": {"@type": "Corporation", "name": "Nike, Inc."}}})
    assert [(n, m) for n, m, _ in names("", head)] == [("Daily Planet Corp.", "jsonld")]


def test_jsonld_offer_seller_is_the_shop():
    head = jsonld({"@type": "Product", "name": "Widget", "offers": {"@type": "Offer", "price": "9.99",
                                                                    "seller": {"@type": "Organization", "name": "Widget World Ltd"}}})
    assert top(head=head) == ("Widget World Ltd", "jsonld")


def test_jsonld_person_and_their_employer_are_not_the_site():
    # A personal page says where its author works; that company does not run the site.
    head = jsonld({"@type": "Person", "name": "Jane Doe", "worksFor": {"@type": "Organization", "name": "Acme Inc."}})
    assert names("", head) == []


@pytest.mark.parametrize("script", [
    "{not json", "", "[]", "null", '"just a string"', '{"@type": 5, "name": ["x"]}', '{"@graph": "nope"}',
    "<!-- " + json.dumps({"@type": "Organization", "name": "Wrapped Ltd"}) + " -->",
    json.dumps({"@type": "Organization", "name": {"@value": "Value Object GmbH"}}),
    json.dumps({"@type": "Organization", "name": "Amp &amp; Sons Ltd"}),
])
def test_jsonld_odd_blocks_never_raise(script):
    doc = parse_html(f'<script type="application/ld+json">{script}</script>', URL)
    found = {n.name for n in find_org_names(doc, URL)}
    if "Wrapped" in script:
        assert found == {"Wrapped Ltd"}
    elif "Value Object" in script:
        assert found == {"Value Object GmbH"}
    elif "Amp" in script:
        assert found == {"Amp & Sons Ltd"}
    else:
        assert found == set()


def test_jsonld_deeply_nested_and_huge_graph_is_bounded():
    node: dict = {"@type": "Organization", "name": "Deep Ltd"}
    for _ in range(500):
        node = {"@type": "Thing", "subjectOf": node}
    graph = {"@graph": [{"@type": "Organization", "name": f"Org {i} Ltd"} for i in range(5000)]}
    doc = parse_html(f'<script type="application/ld+json">{json.dumps(node)}</script>'
                     f'<script type="application/ld+json">{json.dumps(graph)}</script>', URL)
    assert len(find_org_names(doc, URL)) <= 40


# -- microdata ----------------------------------------------------------------------------

def test_microdata_organization_with_legal_name_meta():
    body = ('<div itemscope itemtype="http://schema.org/Organization"><span itemprop="name">Acme</span>'
            '<meta itemprop="legalName" content="Acme Trading B.V."></div>')
    assert names(body)[:2] == [("Acme Trading B.V.", "microdata", 0.9), ("Acme", "microdata", 0.85)]


def test_microdata_nested_brand_is_not_the_site():
    body = ('<div itemscope itemtype="https://schema.org/Product"><span itemprop="name">Shoe</span>'
            '<div itemprop="brand" itemscope itemtype="https://schema.org/Organization"><span itemprop="name">Adidas AG</span></div>'
            '</div><div itemscope itemtype="https://schema.org/Store"><h1 itemprop="name">Shoe Corner Ltd</h1></div>')
    assert [(n, m) for n, m, _ in names(body)] == [("Shoe Corner Ltd", "microdata")]


def test_microdata_name_of_nested_item_does_not_leak_into_parent():
    body = ('<div itemscope itemtype="https://schema.org/LocalBusiness">'
            '<div itemprop="founder" itemscope itemtype="https://schema.org/Person"><span itemprop="name">Bob</span></div>'
            '<span itemprop="name">Bob\'s Garage Ltd</span></div>')
    assert top(body) == ("Bob's Garage Ltd", "microdata")


# -- og:site_name, copyright, imprint, title ---------------------------------------------

def test_og_site_name():
    assert names("", '<meta property="og:site_name" content="Acme Widgets">') == [("Acme Widgets", "og:site_name", 0.5)]


@pytest.mark.parametrize("line, expected, confidence", [
    ("© 2024 Acme Widgets Ltd. All rights reserved.", "Acme Widgets Ltd.", 0.75),
    ("Copyright (c) 2010-2024 Acme GmbH", "Acme GmbH", 0.75),
    ("Copyright © Acme Widgets, Inc. | Privacy", "Acme Widgets, Inc.", 0.75),
    ("(c) 2023 Bank of America Corporation", "Bank of America Corporation", 0.75),
    ("© 2024 Maison Dupont SAS – Tous droits réservés", "Maison Dupont SAS", 0.75),
    ("Copyright 2024 by Widget World Limited. Powered by Shopify", "Widget World Limited", 0.75),
    ("© 2024 Oakleaf Joinery", "Oakleaf Joinery", 0.5),
    ("© 2024 Jane Doe. Powered by WordPress.", "Jane Doe", 0.5),
    ("© Widgets Unlimited 2024", "Widgets Unlimited", 0.5),
    ("© 2024 example.com", "example.com", 0.3),
])
def test_copyright_lines(line, expected, confidence):
    assert (expected, "copyright", confidence) in names(f"<footer><p>{line}</p></footer>")


@pytest.mark.parametrize("line", [
    "© 2024 All rights reserved.", "Copyright", "(c) the second condition applies", "©", "© 2024 – 2025",
    "Photos (c) by the author", "copyright infringement is a crime and we take it seriously in every case we see",
])
def test_copyright_lines_without_a_name(line):
    assert [n for n in names(f"<p>{line}</p>") if n[1] == "copyright"] == []


@pytest.mark.parametrize("body, expected", [
    ("<h2>Angaben gemäß § 5 TMG</h2><p>Müller &amp; Söhne GmbH &amp; Co. KG<br>Hauptstraße 1<br>10115 Berlin</p>",
     ("Müller & Söhne GmbH & Co. KG", "imprint", 0.8)),
    ("<p>Angaben gem. § 5 DDG: Beispiel UG (haftungsbeschränkt)</p>", ("Beispiel UG (haftungsbeschränkt)", "imprint", 0.8)),
    ("<h2>Angaben gemäß § 5 TMG</h2><p>Schreinerei Holzwurm<br>Dorfstraße 3<br>12345 Waldheim</p>",
     ("Schreinerei Holzwurm", "imprint", 0.65)),
    ("<p>Raison sociale : Librairie du Marais SARL</p>", ("Librairie du Marais SARL", "imprint", 0.8)),
    ("<p>Ragione sociale: Pasta Fresca S.p.A.</p>", ("Pasta Fresca S.p.A.", "imprint", 0.8)),
    ("<p>Razón social: Olivares del Sur S.L.</p>", ("Olivares del Sur S.L.", "imprint", 0.8)),
    ("<p>This website is operated by Northwind Traders Ltd.</p>", ("Northwind Traders Ltd.", "imprint", 0.8)),
    ("<p>Company name: Contoso</p>", ("Contoso", "imprint", 0.65)),
    ("<h3>Herausgeber</h3><p>Max Mustermann</p>", ("Max Mustermann", "imprint", 0.4)),
    ("<p>Le site est édité par Maison Dupont SAS, au capital de 1000 €</p>", ("Maison Dupont SAS", "imprint", 0.8)),
])
def test_imprint_lines(body, expected):
    assert expected in names(body)


def test_name_line_above_a_street_address():
    assert ("Northwind Traders Ltd", "address", 0.7) in names("<p>Northwind Traders Ltd<br>10 Downing Street<br>London SW1A 2AA</p>")
    assert ("Acme Widgets Ltd", "address", 0.7) in names("<p>Acme Widgets Ltd, 10 Downing Street, London SW1A 2AA</p>")
    # without a legal form the line above could be anything ("Visit our showroom")
    assert [n for n in names("<p>Visit our showroom<br>10 Downing Street<br>London SW1A 2AA</p>") if n[1] == "address"] == []


def test_hosting_provider_block_is_not_the_owner():
    body = "<p>Hébergeur : OVH SAS, 2 rue Kellermann, 59100 Roubaix</p><p>Hosting:</p><p>Strato AG</p><p>Otto-Ostrowski-Straße 7</p>"
    assert names(body) == []


@pytest.mark.parametrize("title, expected", [
    ("Oak furniture | Oakleaf Joinery", ("Oakleaf Joinery", "title", 0.25)),
    ("Welcome to Acme Widgets Ltd - Home", ("Acme Widgets Ltd", "title", 0.45)),
    ("Contoso", ("Contoso", "title", 0.25)),
])
def test_title_is_a_weak_fallback(title, expected):
    assert names("", f"<title>{title}</title>") == [expected]


@pytest.mark.parametrize("title", ["Home", "Startseite", "Untitled Document", "", "   "])
def test_title_placeholders_are_not_names(title):
    assert names("", f"<title>{title}</title>") == []


def test_names_are_sorted_by_confidence_and_deduplicated():
    head = jsonld({"@type": "Organization", "name": "Acme Ltd"}) + '<meta property="og:site_name" content="Acme Ltd">'
    found = names("<p>© 2024 Acme Ltd</p><p>© 2024 Acme Ltd</p>", head)
    assert found == [("Acme Ltd", "jsonld", 0.9), ("Acme Ltd", "copyright", 0.75), ("Acme Ltd", "og:site_name", 0.6)]


# -- legal forms and normalisation ------------------------------------------------------

@pytest.mark.parametrize("name, form", [
    ("Acme Widgets Ltd", "ltd"), ("Acme Widgets Ltd.", "ltd"), ("ACME WIDGETS LIMITED", "ltd"), ("Acme LLC", "llc"),
    ("Acme, L.L.C.", "llc"), ("Acme, Inc.", "inc"), ("Acme Incorporated", "inc"), ("Acme Corp.", "corp"),
    ("Acme GmbH", "gmbh"), ("Acme AG", "ag"), ("Acme UG (haftungsbeschränkt)", "ug"), ("Acme GmbH & Co. KG", "gmbh & co kg"),
    ("Acme KG", "kg"), ("Acme SARL", "sarl"), ("Acme SAS", "sas"), ("Acme S.A.", "sa"), ("Acme B.V.", "bv"),
    ("Acme N.V.", "nv"), ("Acme S.r.l.", "srl"), ("Acme S.L.", "sl"), ("Acme Pty Ltd", "pty ltd"), ("Acme PLC", "plc"),
    ("Acme LLP", "llp"), ("Acme", None), ("Acme Widgets", None), ("Sale ends soon", None), ("", None),
])
def test_legal_form(name, form):
    assert legal_form(name) == form


@pytest.mark.parametrize("a, b", [
    ("Acme Widgets Limited", "ACME WIDGETS LTD"),
    ("The Acme Widgets Company, Limited.", "Acme Widgets Co. Ltd"),
    ("Acme Widgets, Inc.", "Acme Widgets Incorporated"),
    ("Acme L.L.C.", "acme llc"),
    ("Müller & Söhne GmbH", "Muller and Sohne GMBH"),
    ("Bäckerei Müller GmbH", "Baeckerei Mueller GmbH".replace("ae", "ä").replace("ue", "ü")),
    ("Acme Corporation", "Acme Corp."),
    ("Acme Gesellschaft mit beschränkter Haftung", "Acme GmbH"),
    ("Widget Trading Public Limited Company", "Widget Trading PLC"),
    ("Straße AG", "Strasse AG"),
])
def test_normalise_org_name_unifies_spellings(a, b):
    assert normalise_org_name(a) == normalise_org_name(b)


@pytest.mark.parametrize("name, normalised", [
    ("The Acme Widgets Company, Limited.", "acme widgets co ltd"),
    ("ACME WIDGETS LTD", "acme widgets ltd"),
    ("Acme, L.L.C.", "acme llc"),
    ("The The", "the"),
    ("", ""),
])
def test_normalise_org_name_exact(name, normalised):
    assert normalise_org_name(name) == normalised


def test_normalise_keeps_different_companies_apart():
    assert normalise_org_name("Acme Widgets Ltd") != normalise_org_name("Acme Gadgets Ltd")
    assert normalise_org_name("Acme Ltd") != normalise_org_name("Acme Inc")


@pytest.mark.parametrize("normalised, stripped", [
    ("acme widgets ltd", "acme widgets"), ("acme gmbh and co kg", "acme"), ("acme co ltd", "acme"),
    ("acme", "acme"), ("acme pty ltd", "acme"),
])
def test_strip_legal_form(normalised, stripped):
    assert strip_legal_form(normalised) == stripped


@pytest.mark.parametrize("text, name", [
    ("© 2024 Acme Widgets Ltd. All rights reserved", "Acme Widgets Ltd."),
    ("operated by Bank of America Corp. since 1998", "Bank of America Corp."),
    ("Shop our limited edition sneakers", None),
    ("Limited Edition Sneakers", None),
    ("2024 Ltd", None),
])
def test_name_ending_with_legal_form(text, name):
    assert name_ending_with_legal_form(text) == name


# -- a name without a legal form, heading the block of its address --------------------------------

def page_names(html: str, url: str = "https://www.example.com/contact") -> list[tuple[str, str, float]]:
    from raterd.extract import find_addresses
    doc = parse_html(html, url)
    addresses = find_addresses(doc, url)
    assert addresses, "the fixture must hold an address the address extractor reads"
    return [(n.name, n.method, n.confidence) for n in find_org_names(doc, url, addresses=addresses)]


def doc_(body: str, title: str = "Contact", head: str = "") -> str:
    return f"<html><head><title>{title}</title>{head}</head><body>{body}</body></html>"


US_BLOCK = "<p>112 Harbor Road<br>Port Townsend, WA 98368</p>"


@pytest.mark.parametrize("body", [
    f"<h1>Contact us</h1><h2>Blue Heron Kayak Company</h2>{US_BLOCK}",
    f"<h2>Blue Heron Kayak Company</h2><h3>Address</h3>{US_BLOCK}",
    "<address><strong>Blue Heron Kayak Company</strong><br>112 Harbor Road<br>Port Townsend, WA 98368</address>",
    "<address>Blue Heron Kayak Company<br>112 Harbor Road<br>Port Townsend, WA 98368</address>",
    "<p><b>Blue Heron Kayak Company</b><br>112 Harbor Road<br>Port Townsend, WA 98368</p>",
    f"<h2>Blue Heron Kayak Company</h2><h3>Customer Service</h3>{US_BLOCK}",
])
def test_a_heading_above_the_address_names_the_business(body):
    assert ("Blue Heron Kayak Company", "address_heading", 0.55) in page_names(doc_(body))


def test_a_plain_line_above_the_address_needs_the_title_og_site_name_or_domain_to_agree():
    body = "<h1>Contact</h1><p>Blue Heron Kayak Company<br>112 Harbor Road<br>Port Townsend, WA 98368</p>"
    alone = page_names(doc_(body))
    assert ("Blue Heron Kayak Company", "address_line", 0.3) in alone  # below NAME_MIN_SCORE on its own
    for agreeing in (page_names(doc_(body, title="Contact | Blue Heron Kayak Co.")),
                     page_names(doc_(body, head='<meta property="og:site_name" content="Blue Heron Kayak">')),
                     page_names(doc_(body), url="https://blueheronkayak.com/contact")):
        assert ("Blue Heron Kayak Company", "address_line", 0.55) in agreeing


def test_one_line_name_street_city_with_title_agreement():
    body = "<p>Nordlys Keramikk, Storgata 12, 0155 Oslo</p>"
    found = page_names(doc_(body, title="Nordlys Keramikk – Kontakt"), url="https://www.example.no/kontakt")
    assert ("Nordlys Keramikk", "address_line", 0.55) in found


@pytest.mark.parametrize("label", ["Contact us", "Our address", "Visit us", "Opening hours", "Find us",
                                   "Registered office", "Customer Service", "Our Shop", "Come and see us!",
                                   "Returns address", "Kontakt", "Adresse", "お問い合わせ", "所在地", "Summer Sale",
                                   "Getting here", "Click & Collect"])
def test_a_label_heading_is_never_a_name(label):
    found = page_names(doc_(f"<h2>{label}</h2>{US_BLOCK}"))
    assert not [n for n in found if n[1].startswith("address_")]


def test_a_stockists_page_vouches_for_none_of_the_businesses_it_lists():
    body = ("<h1>Where to buy</h1><h3>Paddle World</h3><p>12 Main Street<br>Springfield, IL 62701</p>"
            "<h3>River Sports</h3><p>48 Elm Street<br>Burlington, VT 05401</p>")
    found = page_names(doc_(body, title="Stockists"), url="https://www.example.com/stockists")
    assert {n: c for n, m, c in found if m.startswith("address_")} == {"Paddle World": 0.3, "River Sports": 0.3}
    one = "<h1>Stockists</h1><h3>Paddle World</h3><p>12 Main Street<br>Springfield, IL 62701</p>"
    found = page_names(doc_(one, title="Stockists"), url="https://www.example.com/stockists")
    assert ("Paddle World", "address_heading", 0.3) in found  # one listed shop is still a listing


@pytest.mark.parametrize("name", ["Pacific Boat Sales", "The Linen Collection", "Harbour News", "Open Road Cycles"])
def test_names_made_of_everyday_words_are_still_names(name):
    assert (name, "address_heading", 0.55) in page_names(doc_(f"<h2>{name}</h2>{US_BLOCK}"))


def test_a_name_with_a_legal_form_keeps_its_own_method():
    found = page_names(doc_(f"<h2>Blue Heron Kayak Company LLC</h2>{US_BLOCK}"))
    assert ("Blue Heron Kayak Company LLC", "address", 0.7) in found
    assert not [n for n in found if n[1].startswith("address_")]


def test_without_addresses_no_block_names():
    doc = parse_html(doc_(f"<h2>Blue Heron Kayak Company</h2>{US_BLOCK}"), URL)
    assert not [n for n in find_org_names(doc, URL) if n.method.startswith("address_")]


@pytest.mark.parametrize("name, form", [
    ("Zöldtea Ház Kft.", "kft"), ("Magyar Posta Zrt.", "zrt"), ("Café Serra Azul Comércio de Alimentos Ltda.", "ltda"),
    ("Conservas do Porto, Lda.", "lda"), ("Tienda Verde S.A. de C.V.", "sa de cv"), ("Lion City Traders Pte. Ltd.", "pte ltd"),
    ("Nordlys Keramikk AS", "as"), ("Pražská káva a.s.", "as"), ("Kávovar spol. s r.o.", "spol s ro"),
    ("Bakkerij Jansen V.O.F.", "vof"), ("Liffey Books DAC", "dac"), ("Moselle Vins S.à r.l.", "sarl"),
])
def test_legal_forms_of_more_countries(name, form):
    assert legal_form(name) == form


def test_one_line_imprints_are_cut_at_their_field_separators():
    assert top("<p>Cégnév: Zöldtea Ház Kft. · Székhely: 1052 Budapest</p>") == ("Zöldtea Ház Kft.", "imprint")
    assert top("<p>Razão social: Café Serra Azul Ltda. | CNPJ 12.345.678/0001-90</p>") == (
        "Café Serra Azul Ltda.", "imprint")


@pytest.mark.parametrize("body, name", [
    ("<p>상호: 하늘다원 | 대표: 김민준 | 사업자등록번호: 123-45-67890</p>", "하늘다원"),
    ("<table><tr><th>販売業者</th><td>株式会社みどり茶園</td></tr><tr><th>所在地</th><td>静岡県</td></tr></table>", "株式会社みどり茶園"),
    ("<p>公司名稱：翠峰茶行有限公司</p>", "翠峰茶行有限公司"),
])
def test_the_legally_required_seller_name_of_korean_japanese_and_chinese_shops(body, name):
    assert (name, "imprint", 0.65) in names(body)


@pytest.mark.parametrize("name, normalised, form", [
    ("Μέλι Κρήτης Α.Ε.", "μελι κρητησ αε", "αε"), ("Ελαιόλαδο Αθήνα Ο.Ε.", "ελαιολαδο αθηνα οε", "οε"),
    ("하늘다원", "하늘다원", None), ("Ceramiche Vietri S.n.c.", "ceramiche vietri snc", "snc"),
])
def test_names_in_other_scripts_keep_their_letters(name, normalised, form):
    assert normalise_org_name(name) == normalised and legal_form(name) == form
    assert strip_legal_form(normalise_org_name(name))  # something left to compare


def test_latin_names_normalise_as_before():
    # Register keys stored by earlier imports depend on it: accents go, other Latin letters split words.
    assert normalise_org_name("Kjøkken & Bord AS") == "kj kken and bord as"
    assert normalise_org_name("Bäckerei Müller GmbH") == "backerei muller gmbh"


def test_a_legal_name_set_off_from_its_address_by_dashes():
    html = doc_("<footer><p>Ceramiche Vietri S.n.c. - Corso Umberto I, 27 - 84019 Vietri sul Mare (SA) - "
                "P.IVA 01234567891</p></footer>")
    assert ("Ceramiche Vietri S.n.c.", "address", 0.7) in page_names(html, url="https://ceramiche-vietri.it/")
