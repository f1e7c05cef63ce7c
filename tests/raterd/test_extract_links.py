"""find_identity_links / rank_urls / sitemap_urls: which pages the rater fetches after the home page."""

from __future__ import annotations

import pytest

from raterd.extract import find_identity_links, parse_html, rank_urls, sitemap_urls
from raterd.extract.links import classify

HOME = "https://www.example.com/"


def links_of(body: str, page: str = HOME, site: str = "example.com", limit: int = 20):
    return find_identity_links(parse_html(f"<html><body>{body}</body></html>", page), page, site, limit)


def kinds(body: str, **kw) -> dict[str, str]:
    return {link.url: link.kind for link in links_of(body, **kw)}


@pytest.mark.parametrize("lang, html, expected", [
    ("en", '<a href="/company/imprint">Imprint</a><a href="/contact-us">Contact us</a><a href="/about">About Us</a>'
           '<a href="/legal">Legal</a><a href="/privacy">Privacy Policy</a><a href="/tos">Terms of Service</a>'
           '<a href="/cart">Shopping cart</a><a href="/map">Site map</a>',
     ["imprint", "contact", "about", "legal", "privacy", "terms", "order", "sitemap"]),
    ("de", '<a href="/impressum">Impressum</a><a href="/kontakt">Kontakt</a><a href="/wir">Über uns</a>'
           '<a href="/rechtliches">Rechtliche Hinweise</a><a href="/ds">Datenschutzerklärung</a><a href="/agb">AGB</a>'
           '<a href="/wk">Warenkorb</a>',
     ["imprint", "contact", "about", "legal", "privacy", "terms", "order"]),
    ("fr", '<a href="/ml">Mentions légales</a><a href="/c">Nous contacter</a><a href="/qsn">Qui sommes-nous ?</a>'
           '<a href="/pc">Politique de confidentialité</a><a href="/cgv">CGV</a><a href="/p">Mon panier</a>'
           '<a href="/plan">Plan du site</a>',
     ["imprint", "contact", "about", "privacy", "terms", "order", "sitemap"]),
    ("es", '<a href="/al">Aviso legal</a><a href="/c">Contacto</a><a href="/q">Quiénes somos</a>'
           '<a href="/p">Política de privacidad</a><a href="/t">Términos y condiciones</a><a href="/car">Carrito</a>',
     ["imprint", "contact", "about", "privacy", "terms", "order"]),
    ("it", '<a href="/nl">Note legali</a><a href="/c">Contatti</a><a href="/cs">Chi siamo</a>'
           '<a href="/p">Informativa sulla privacy</a><a href="/t">Condizioni generali di vendita</a><a href="/car">Carrello</a>',
     ["imprint", "contact", "about", "privacy", "terms", "order"]),
    ("nl", '<a href="/col">Colofon</a><a href="/c">Neem contact op</a><a href="/o">Over ons</a>'
           '<a href="/p">Privacyverklaring</a><a href="/t">Algemene voorwaarden</a><a href="/w">Winkelwagen</a>',
     ["imprint", "contact", "about", "privacy", "terms", "order"]),
])
def test_link_text_in_six_languages(lang, html, expected):
    found = links_of(html)
    # Every link is found with its kind (the order is the ranking's business, tested below).
    assert sorted(link.kind for link in found) == sorted(expected), lang
    assert len({link.url for link in found}) == len(expected)


@pytest.mark.parametrize("path, kind", [
    ("/impressum.html", "imprint"), ("/de/impressum", "imprint"), ("/mentions-legales/", "imprint"),
    ("/aviso-legal", "imprint"), ("/note-legali", "imprint"), ("/colofon", "imprint"), ("/AboutUs.aspx", "about"),
    ("/ueber-uns/", "about"), ("/qui-sommes-nous", "about"), ("/chi-siamo", "about"), ("/over-ons", "about"),
    ("/pages/contact", "contact"), ("/kontakt.php", "contact"), ("/contatti", "contact"), ("/datenschutz", "privacy"),
    ("/privacy-policy", "privacy"), ("/agb", "terms"), ("/terms-and-conditions", "terms"), ("/checkout", "order"),
    ("/index.php?route=checkout/cart", "order"), ("/sitemap.xml", "sitemap"), ("/plan-du-site", "sitemap"),
])
def test_url_path_alone_identifies_the_page(path, kind):
    # The link text says nothing ("here"), so the path decides.
    [link] = links_of(f'<a href="{path}">here</a>')
    assert link.kind == kind


@pytest.mark.parametrize("path", ["/blog/about-our-oak-suppliers-and-how-we-choose", "/products/contact-lens-case-blue-large",
                                  "/news/2024/05/privacy-ruling-explained-for-small-business-owners", "/shop/widgets"])
def test_long_slugs_that_merely_mention_a_keyword_are_not_identity_pages(path):
    assert links_of(f'<a href="{path}">Read the whole story here, it is worth the time</a>') == []


def test_only_same_site_http_links_without_fragments_and_deduplicated():
    html = """
      <a href="https://www.example.com/contact#form">Contact</a>
      <a href="http://www.example.com/contact/">Contact us</a>
      <a href="https://shop.example.com/checkout">Checkout</a>
      <a href="https://example.com.evil.net/contact">Contact</a>
      <a href="https://other.org/about">About</a>
      <a href="https://user:pw@www.example.com/about">About</a>
      <a href="ftp://www.example.com/about">About</a>
      <a href="mailto:info@example.com">Contact</a>
      <a href="tel:+4930123">Contact</a>
      <a href="javascript:void(0)">Contact</a>
      <a href="/terms.pdf">Terms</a>
      <a href="/">Home</a>
      <a href="http://[::1/about">About</a>
      <a href="http://www.example.com:99999/about">About</a>
    """
    assert kinds(html) == {
        "https://www.example.com/contact": "contact",
        "https://shop.example.com/checkout": "order",
    }


def test_relative_links_resolve_against_base_href_and_page():
    html = '<base href="https://www.example.com/en/"><a href="about">About</a><a href="../kontakt">Kontakt</a>'
    assert kinds(html, page="https://www.example.com/en/index.html") == {
        "https://www.example.com/en/about": "about", "https://www.example.com/kontakt": "contact"}


def test_link_to_the_page_itself_is_not_returned():
    assert links_of('<a href="/contact">Contact</a>', page="https://www.example.com/contact") == []


def test_title_aria_label_and_image_alt_count_as_link_text():
    found = kinds('<a href="/x1" title="Impressum">§</a><a href="/x2" aria-label="Contact us"><i class="icon"></i></a>'
                  '<a href="/x3"><img src="a.png" alt="About us"></a>')
    assert found == {"https://www.example.com/x1": "imprint", "https://www.example.com/x2": "contact",
                     "https://www.example.com/x3": "about"}


def test_link_rel_privacy_policy():
    page = parse_html('<html><head><link rel="privacy-policy" href="/p"><link rel="stylesheet" href="/s.css"></head></html>', HOME)
    assert [(link.url, link.kind) for link in find_identity_links(page, HOME, "example.com")] == [
        ("https://www.example.com/p", "privacy")]


def test_ranking_puts_imprint_contact_about_first_and_respects_limit():
    html = ('<a href="/sitemap">Sitemap</a><a href="/cart">Cart</a><a href="/privacy">Privacy</a>'
            '<a href="/terms">Terms</a><a href="/about">About</a><a href="/contact">Contact</a><a href="/impressum">Impressum</a>')
    assert [link.kind for link in links_of(html)] == ["imprint", "contact", "about", "terms", "privacy", "order", "sitemap"]
    assert [link.kind for link in links_of(html, limit=2)] == ["imprint", "contact"]
    assert links_of(html, limit=0) == []


def test_text_and_path_agreeing_scores_higher_than_either():
    both = classify("/contact", ["Contact"])
    text_only = classify("/page-17", ["Contact"])
    path_only = classify("/contact", ["click here"])
    assert both and text_only and path_only
    assert both[1] > text_only[1] > path_only[1]


def test_many_links_are_capped_and_ignore_link_farms_beyond_the_cap():
    html = "".join(f'<a href="/contact-{i}">Contact</a>' for i in range(200))
    assert len(links_of(html)) == 20


def test_idn_site_domain_matches_unicode_link_host():
    page = "https://www.xn--bcher-kva.de/"
    found = links_of('<a href="https://www.bücher.de/impressum">Impressum</a>', page=page, site="xn--bcher-kva.de")
    assert [link.url for link in found] == ["https://www.xn--bcher-kva.de/impressum"]


def test_ports_are_kept_for_loopback_fixture_sites():
    page = "http://shop.test:8081/"
    assert kinds('<a href="/impressum">Impressum</a>', page=page, site="shop.test") == {
        "http://shop.test:8081/impressum": "imprint"}


def test_rank_urls_from_a_sitemap():
    urls = ["https://www.example.com/", "https://www.example.com/products/1", "https://www.example.com/impressum",
            "https://www.example.com/contact-us/", "https://elsewhere.org/about", "https://www.example.com/about#team"]
    ranked = rank_urls(urls, "example.com")
    assert [(link.url, link.kind) for link in ranked] == [
        ("https://www.example.com/impressum", "imprint"), ("https://www.example.com/contact-us/", "contact"),
        ("https://www.example.com/about", "about")]


SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://www.example.com/</loc></url>
  <url><loc> https://www.example.com/impressum </loc><lastmod>2024-01-01</lastmod></url>
  <url><loc>javascript:alert(1)</loc></url>
</urlset>"""

SITEMAP_INDEX = """<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://www.example.com/sitemap-pages.xml</loc></sitemap></sitemapindex>"""

XXE = """<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<urlset><url><loc>https://www.example.com/&x;</loc></url></urlset>"""


def test_sitemap_urls():
    assert sitemap_urls(SITEMAP) == ["https://www.example.com/", "https://www.example.com/impressum"]
    assert sitemap_urls(SITEMAP_INDEX) == ["https://www.example.com/sitemap-pages.xml"]
    assert sitemap_urls(SITEMAP.encode()) == ["https://www.example.com/", "https://www.example.com/impressum"]


def test_sitemap_urls_never_expands_entities():
    assert all("root:" not in url for url in sitemap_urls(XXE))


@pytest.mark.parametrize("junk", ["", "not xml", "<urlset><url><loc>", "\x00\x01", None, 42, "<html><body>x</body></html>"])
def test_sitemap_urls_on_junk_is_empty(junk):
    assert sitemap_urls(junk) == []


def test_sitemap_urls_limit():
    xml = "<urlset>" + "".join(f"<url><loc>https://e.com/{i}</loc></url>" for i in range(100)) + "</urlset>"
    assert len(sitemap_urls(xml, limit=10)) == 10


@pytest.mark.parametrize("text, kind", [
    ("Kontakta oss", "contact"), ("Kontakt oss", "contact"), ("Kontakt os", "contact"), ("Yhteystiedot", "contact"),
    ("Ota yhteyttä", "contact"), ("Kapcsolat", "contact"), ("Impresszum", "imprint"), ("Contactos", "contact"),
    ("Fale conosco", "contact"), ("Contáctanos", "contact"), ("Om oss", "about"), ("O nás", "about"),
    ("Quem somos", "about"), ("Varukorg", "order"), ("Koszyk", "order"), ("Košík", "order"),
    ("Regulamin", "terms"), ("Obchodní podmínky", "terms"), ("ÁSZF", "terms"),
    ("고객센터", "contact"), ("회사소개", "about"), ("聯絡我們", "contact"), ("お問い合わせ", "contact"),
])
def test_link_texts_in_more_languages(text, kind):
    assert kinds(f'<a href="/p1">{text}</a>') == {"https://www.example.com/p1": kind}


@pytest.mark.parametrize("text", ["特定商取引法に基づく表記", "特定商取引法に基づく表示", "特商法表記", "会社概要", "運営会社"])
def test_the_japanese_disclosure_and_company_pages_are_identity_pages(text):
    [link] = links_of(f'<footer><a href="/law">{text}</a> <a href="/blog">ブログ</a></footer>')
    assert (link.url, link.kind) == ("https://www.example.com/law", "imprint")
