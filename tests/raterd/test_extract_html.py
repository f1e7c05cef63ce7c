"""parse_html / visible_text / extract_page: tolerant parsing, what a visitor sees, and never raising."""

from __future__ import annotations

import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raterd.extract import PageFindings, extract_page, parse_html, visible_text

HTML_DIR = pathlib.Path(__file__).parent / "html"


def read(name: str) -> str:
    return (HTML_DIR / name).read_text(encoding="utf-8", errors="replace")


# -- parse_html ------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "", "   \n\t ", "\x00\x00\x00", "plain text, no tags", "<", "<<<>>>", "</html>", "<!-- only a comment -->",
    "<?xml version='1.0' encoding='latin-1'?><html><body>x</body></html>",
    "<html><body>\ud800 lone surrogate</body></html>", "<p>" * 5000, "<div>" * 3000 + "deep" + "</div>" * 3000,
    "\xff\xfe\x00b\x00i\x00n", "<svg><script>alert(1)</script></svg>", "<![CDATA[x]]>", "&#xD800;&#0;&bogus;",
])
def test_parse_html_always_returns_a_document(text):
    doc = parse_html(text, "http://example.com/")
    assert doc.tag == "html"
    assert isinstance(visible_text(doc), str)


def test_parse_html_accepts_bytes_and_ignores_declared_charset():
    doc = parse_html("<meta charset='iso-8859-1'><p>Straße</p>".encode("utf-8"), "http://x.example/")
    assert visible_text(doc) == "Straße"


def test_parse_html_keeps_base_url():
    doc = parse_html("<p>x</p>", "https://shop.example.com/a/b")
    assert doc.base_url == "https://shop.example.com/a/b"


def test_parse_html_caps_huge_input_quickly():
    huge = "<p>" + "A" * 5_000_000 + "</p>"
    text = visible_text(parse_html(huge, "http://x/"))
    assert 0 < len(text) <= 2_000_000


# -- visible_text -----------------------------------------------------------------------

def test_visible_text_drops_invisible_elements():
    doc = parse_html("""<html><head><title>T</title><style>p{}</style></head><body>
        <script>var secret = 1;</script><noscript>enable js</noscript><template><p>tpl</p></template>
        <p>shown</p><p hidden>hidden attr</p><p style="display: none">hidden style</p>
        <div aria-hidden="true">icon</div><select><option>Germany</option></select></body></html>""", "")
    assert visible_text(doc) == "shown"


def test_visible_text_block_elements_become_lines_and_inline_do_not():
    doc = parse_html("<div>Acme <b>Widgets</b> Ltd<br>10 Downing   Street</div><p>London</p><ul><li>a</li><li>b</li></ul>"
                     "<table><tr><td>x</td><td>y</td></tr></table>", "")
    assert visible_text(doc).split("\n") == ["Acme Widgets Ltd", "10 Downing Street", "London", "a", "b", "x", "y"]


def test_visible_text_keeps_tails_after_skipped_elements():
    doc = parse_html("<p>before<script>x()</script>after <span style='display:none'>no</span>end</p>", "")
    assert visible_text(doc) == "beforeafter end"


def test_visible_text_strips_zero_width_and_nbsp():
    doc = parse_html("<p>Acme\u200bWidgets&nbsp;&nbsp;Ltd\u00ad</p>", "")
    assert visible_text(doc) == "AcmeWidgets Ltd"


def test_visible_text_of_deeply_nested_pages():
    # 200 levels: read normally, without recursion.
    assert visible_text(parse_html("<div>" * 200 + "bottom" + "</div>" * 200, "")) == "bottom"
    # 10,000 levels: libxml2 gives up past its depth limit; we get a string, not a crash.
    assert isinstance(visible_text(parse_html("<div>" * 10_000 + "bottom" + "</div>" * 10_000, "")), str)


# -- extract_page -------------------------------------------------------------------------

# Pages built to make regular expressions or tree walks go quadratic. The
# timeout turns a regression into a failure instead of a hung run.
HOSTILE = {
    "digit-run": "<p>" + "1" * 200_000 + "</p>",
    "spaced-digits": "<p>" + "123 " * 100_000 + "</p>",
    "thousands": "<p>" + "1,000," * 50_000 + "</p>",
    "currency-run": "<p>" + "$" * 100_000 + "€" * 100_000 + "</p>",
    "copyright-run": "<p>" + "© 2024 " * 50_000 + "</p>",
    "one-long-word": "<p>" + "A" * 500_000 + " Ltd</p>",
    "link-farm": "".join(f'<a href="/p{i}">Contact us {i}</a>' for i in range(30_000)),
    "address-farm": "".join(f"<p>{i} Main Street</p><p>Springfield, IL 6{i % 10000:04d}</p>" for i in range(20_000)),
    "jsonld-flood": '<script type="application/ld+json">[' + ",".join(['{"@type":"Organization","name":"X Ltd"}'] * 20_000) + "]</script>",
    "label-flood": "<p>Address:</p>" * 30_000,
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_pages_are_extracted_without_blowing_up(name):
    result = extract_page(HOSTILE[name], "https://www.example.com/", "example.com")
    assert result.errors == []
    assert len(result.names) <= 40 and len(result.addresses) <= 20 and len(result.links) <= 20


@pytest.mark.parametrize("text", ["", None, 12345, b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "<html>" * 1000,
                                  '{"json": "not html"}', "%PDF-1.4 binary junk \x00\x01\x02"])
def test_extract_page_on_garbage_gives_empty_findings(text):
    result = extract_page(text, "http://junk.example/", "junk.example")
    assert isinstance(result, PageFindings)
    assert (result.names, result.addresses, result.phones, result.registrations, result.selling, result.links) == (
        [], [], [], [], [], [])
    assert result.errors == []


def test_extract_page_on_malformed_sample_does_not_raise():
    result = extract_page(read("malformed.html"), "http://broken.example/", "broken.example")
    assert result.errors == []
    # the javascript: and off-site "Contact" links are never offered for fetching
    assert all(link.url.startswith("http://broken.example/") for link in result.links)


_TOKENS = list("<>/=\"' abcdiv©£€$0123456789.,:-\n&;#ßé§") + [
    "<p>", "</div>", "<a href='", "<address>", "<script>", "HRB ", "Ltd", "Street", "tel:", "10115 Berlin",
    "SW1A 2AA", '<script type="application/ld+json">{"@type":', "itemscope itemtype=", "Add to cart",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=120).map("".join))
def test_extract_page_never_raises_on_random_markup(text):
    result = extract_page(text, "http://fuzz.example/", "fuzz.example")
    assert result.errors == []


def test_extract_page_uk_home_sample():
    result = extract_page(read("uk_shop_home.html"), "https://www.oakleaf-joinery.co.uk/", "oakleaf-joinery.co.uk")
    assert result.title == "Handmade Oak Furniture | Oakleaf Joinery"
    assert result.names[0].name == "Oakleaf Joinery Limited" and result.names[0].method == "jsonld"
    assert "Oakleaf" not in [n.name for n in result.names]  # the product's brand is not the site's owner
    [address] = result.addresses
    assert (address.street, address.city, address.postcode, address.country) == ("14 Mill Lane", "Hebden Bridge", "HX7 8AB", "GB")
    # neither the address inside a <script> nor the display:none one is found
    assert "SW1A 1AA" not in {a.postcode for a in result.addresses}
    assert [p.value for p in result.phones] == ["+441422555012"]
    assert {e.method for e in result.selling} >= {"cart_link", "add_to_cart", "product_schema", "price"}
    assert [link.kind for link in result.links[:2]] == ["contact", "about"]
    assert result.errors == []


def test_extract_page_german_impressum_sample():
    result = extract_page(read("de_impressum.html"), "https://www.baeckerei-mueller.de/impressum.html", "baeckerei-mueller.de")
    assert result.names[0].name == "Bäckerei Müller GmbH" and result.names[0].method == "imprint"
    [address] = result.addresses
    assert (address.street, address.postcode, address.city, address.country) == ("Hauptstraße 12", "80331", "München", "DE")
    assert {(r.scheme, r.value) for r in result.registrations} == {("de_hrb", "HRB 123456"), ("vat", "DE123456789")}
    assert "+498912345678" in {p.value for p in result.phones}  # national number read in the DE region
    assert result.selling == []


def test_extract_page_french_mentions_legales_sample_ignores_the_host():
    result = extract_page(read("fr_mentions_legales.html"), "https://librairie-du-marais.fr/mentions-legales",
                          "librairie-du-marais.fr")
    assert result.names[0].name == "Librairie du Marais SARL"
    assert "OVH SAS" not in {n.name for n in result.names}
    assert [(a.street, a.postcode, a.city, a.method) for a in result.addresses] == [
        ("12 rue de la Paix", "75002", "Paris", "labelled")]
    assert ("fr_siren", "732829320") in {(r.scheme, r.value) for r in result.registrations}


def test_extract_page_canadian_microdata_sample():
    result = extract_page(read("ca_contact.html"), "https://mapleleafhardware.ca/contact", "mapleleafhardware.ca")
    assert result.names[0].name == "Maple Leaf Hardware Inc."
    assert "Stanley Black & Decker Inc." not in {n.name for n in result.names}
    [address] = result.addresses
    assert (address.street, address.city, address.region, address.postcode, address.country, address.method) == (
        "100 King St W", "Toronto", "ON", "M5X 1A9", "CA", "microdata")
    assert [p.value for p in result.phones] == ["+14165550199"]
