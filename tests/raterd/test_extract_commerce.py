"""Selling signals and the commercial threshold: a checkout makes a shop, a price in a blog post does not;
a parked or for-sale domain page is told apart."""

from __future__ import annotations

import json
import pathlib

import pytest

from raterd.extract import commerce_score, find_selling, is_commercial, parse_html, visible_text
from raterd.extract.parking import find_parking
from raterd.findings import Evidence

URL = "https://www.example.com/"
HTML_DIR = pathlib.Path(__file__).parent / "html"


def selling(body: str, head: str = "") -> list[Evidence]:
    html = f"<html><head>{head}</head><body>{body}</body></html>"
    return find_selling(parse_html(html, URL), URL, html_text=html)


def methods(body: str, head: str = "") -> set[str]:
    return {e.method for e in selling(body, head)}


@pytest.mark.parametrize("button", [
    "<button>Add to cart</button>", "<button>Add to Basket</button>", '<input type="submit" value="Buy now">',
    "<button>In den Warenkorb</button>", "<a href='#' class='btn'>Jetzt kaufen</a>", "<button>Ajouter au panier</button>",
    "<button>Añadir al carrito</button>", "<button>Aggiungi al carrello</button>", "<button>In winkelwagen</button>",
    '<button aria-label="Add to cart"><svg></svg></button>',
])
def test_add_to_cart_buttons_in_several_languages(button):
    assert "add_to_cart" in methods(button)


@pytest.mark.parametrize("link", [
    '<a href="/cart">Cart (2)</a>', '<a href="/basket">x</a>', '<a href="/checkout/">Go</a>', '<a href="/warenkorb">W</a>',
    '<a href="/panier">Mon panier</a>', '<a href="/x">Shopping bag</a>', '<a href="/index.php?route=checkout/cart">c</a>',
])
def test_cart_links(link):
    assert "cart_link" in methods(link)


def test_payment_form_fields():
    body = ('<form><input name="cardnumber" autocomplete="cc-number"><input name="cvc"><input name="exp-date"></form>')
    assert "payment_form" in methods(body)
    assert "payment_form" not in methods('<form><input name="email"><input name="card_holder_comment_box"></form>')


def test_payment_scripts_and_paypal_forms():
    assert "payment_button" in methods('<script src="https://js.stripe.com/v3/"></script>')
    assert "payment_button" in methods('<form action="https://www.paypal.com/cgi-bin/webscr" method="post"></form>')
    assert "payment_button" not in methods('<script src="https://cdn.example.com/analytics.js"></script>')


def test_product_structured_data_and_meta():
    head = '<script type="application/ld+json">' + json.dumps({
        "@type": "Product", "name": "Widget", "offers": {"@type": "Offer", "price": "19.99", "priceCurrency": "USD"}}) + "</script>"
    assert "product_schema" in methods("", head)
    assert "product_meta" in methods("", '<meta property="og:type" content="product">')
    assert "product_schema" not in methods("", '<script type="application/ld+json">{"@type": "Product", "name": "No price"}</script>')


@pytest.mark.parametrize("marker, platform", [
    ('<link rel="stylesheet" href="//cdn.shopify.com/s/theme.css">', "shopify"),
    ('<body class="woocommerce-page">', "woocommerce"),
    ('<script type="text/x-magento-init">{"*": {"Magento_Ui/js/core/app": {}}}</script>', "magento"),
    ('<meta name="generator" content="PrestaShop">', "prestashop"),
])
def test_shop_platform_markers(marker, platform):
    assert Evidence("selling", platform, URL, "platform") in selling(marker)


@pytest.mark.parametrize("text, price", [
    ("Only $19.99!", "$19.99"), ("Preis: 19,99 €", "19,99 €"), ("£5", "£5"), ("EUR 1.299,00", "EUR 1.299,00"),
    ("CHF 49.90", "CHF 49.90"), ("1 299,00 €", "1 299,00 €"), ("US$ 10", "US$ 10"),
])
def test_price_patterns(text, price):
    assert [e.value for e in selling(f"<p>{text}</p>") if e.method == "price"] == [price]


@pytest.mark.parametrize("text", ["We grew 50% in 2024", "$0.00", "Call 555-1234", "Chapter 19.99", "Free shipping"])
def test_not_prices(text):
    assert [e for e in selling(f"<p>{text}</p>") if e.method == "price"] == []


# -- threshold -----------------------------------------------------------------------------

def ev(method: str, value: str = "x") -> Evidence:
    return Evidence("selling", value, URL, method)


@pytest.mark.parametrize("evidence, commercial", [
    ([], False),
    ([ev("price", "$5")], False),                                      # one price in a blog post
    ([ev("price", f"${i}") for i in range(1, 10)], False),             # a price list alone: 2 points
    ([ev("cart_link")], False),                                        # a lone cart link: 2 points
    ([ev("cart_link", "/cart"), ev("cart_link", "/basket")], False),   # the same signal twice counts once
    ([ev("order_link"), ev("price", "$1"), ev("price", "$2")], False),  # 1 + 1
    ([ev("cart_link"), ev("price", "$5")], False),                     # 2 + 0.5
    ([ev("cart_link"), ev("price", "$5"), ev("price", "$6")], True),   # 2 + 1
    ([ev("add_to_cart")], True),
    ([ev("payment_form")], True),
    ([ev("platform", "shopify")], True),
    ([ev("product_schema")], True),
    ([ev("payment_button")], True),
])
def test_is_commercial_threshold(evidence, commercial):
    assert is_commercial(evidence) is commercial


def test_score_ignores_non_selling_evidence_and_counts_distinct_prices():
    assert commerce_score([Evidence("phone", "+1", URL, "text")]) == 0
    assert commerce_score([ev("price", "$5"), ev("price", "$5")]) == 0.5


def test_blog_sample_is_not_commercial_and_shop_sample_is():
    blog = (HTML_DIR / "us_blog.html").read_text(encoding="utf-8")
    shop = (HTML_DIR / "us_store_noaddr.html").read_text(encoding="utf-8")
    blog_ev = find_selling(parse_html(blog, URL), URL, html_text=blog)
    shop_ev = find_selling(parse_html(shop, URL), URL, html_text=shop)
    assert [e.method for e in blog_ev] == ["price"] and not is_commercial(blog_ev)
    assert is_commercial(shop_ev)
    assert {"cart_link", "add_to_cart", "payment_button", "platform", "product_meta", "price"} <= {e.method for e in shop_ev}


def test_huge_page_is_bounded():
    body = "<p>$1.99</p>" * 20_000 + '<a href="/cart">Cart</a>' * 5000
    found = selling(body)
    assert len(found) <= 60 and {"price", "cart_link"} <= {e.method for e in found}


# -- more markets: the words and price formats of 30+ countries ------------------------------

@pytest.mark.parametrize("button", [
    "<button>장바구니 담기</button>", "<button>바로구매</button>", "<button>Kosárba</button>",
    "<button>Kosárba teszem</button>", "<button type='submit'>Adicionar ao carrinho</button>",
    "<button>Adicionar à sacola</button>", "<input type='submit' value='Lägg i varukorgen'>",
    "<button>Legg i handlekurv</button>", "<button>Læg i kurv</button>", "<button>Dodaj do koszyka</button>",
    "<button>Do košíku</button>", "<button>Vložiť do košíka</button>", "<button>Lisää ostoskoriin</button>",
    "<button>Toevoegen aan winkelwagen</button>", "<button>加入購物車</button>", "<button>カートに入れる</button>",
    "<button>カートに追加する</button>", "<button>ＡＤＤ ＴＯ ＣＡＲＴ</button>", "<button>Voeg by mandjie</button>",
    "<button>Agregar al carrito</button>", "<button>Ajouter au chariot</button>",
    # a bare "buy" on a button is a shop's own
    "<button>Comprar</button>", "<button>Köp</button>", "<button>Kjøp</button>", "<button>Køb</button>",
    "<button>Koupit</button>", "<button>Kúpiť</button>", "<button>Kup</button>", "<button>구매하기</button>",
    "<button>購入する</button>",
])
def test_add_to_cart_in_the_languages_of_more_markets(button):
    assert "add_to_cart" in methods(button)


@pytest.mark.parametrize("link", [
    '<a href="/x">장바구니</a>', '<a href="/order/basket.html">x</a>', '<a href="/x">Kosár (3)</a>',
    '<a href="/x">Pénztár</a>', '<a href="/x">Meu carrinho</a>', '<a href="/x">Finalizar compra</a>',
    '<a href="/x">Varukorg</a>', '<a href="/x">Handlekurv</a>', '<a href="/x">Indkøbskurv</a>',
    '<a href="/x">Koszyk</a>', '<a href="/x">Košík</a>', '<a href="/x">Ostoskori</a>',
    '<a href="/x">Winkelwagen</a>', '<a href="/x">購物車</a>', '<a href="/x">カート</a>',
    '<a href="/x">Gå til kassen</a>', '<a href="/x">Przejdź do kasy</a>', '<a href="/kosik/">x</a>',
    '<a href="/carrinho">x</a>', '<a href="/koszyk">x</a>', '<a href="/varukorg">x</a>',
])
def test_cart_links_in_the_languages_of_more_markets(link):
    assert "cart_link" in methods(link)


def test_a_bare_buy_link_is_only_an_order_link():
    # An author's "Buy" link to a bookshop makes the author's site no shop.
    assert methods('<a href="https://books.example.net/item/1">Buy</a>') == {"order_link"}
    assert methods('<a href="https://books.example.net/item/1">Comprar</a>') == {"order_link"}
    assert not is_commercial(selling('<a href="https://books.example.net/item/1">Buy</a><p>$12.99</p><p>$15.99</p>'))


def test_words_inside_a_sentence_are_not_buttons():
    assert methods("<a href='/news/1'>Why we stopped using the add to cart button</a>") == set()
    assert methods("<button>Read more about Kosár</button>") == set()


@pytest.mark.parametrize("text, price", [
    ("1.299,00 kr", "1.299,00 kr"), ("€ 12,50", "€ 12,50"), ("12,50 €", "12,50 €"), ("R$ 49,90", "R$ 49,90"),
    ("₩39,000", "₩39,000"), ("39.000원", "39.000원"), ("1 299 Ft", "1 299 Ft"), ("CHF 29.–", "CHF 29.–"),
    ("HK$120", "HK$120"), ("¥3,980(税込)", "¥3,980"), ("3,980円（税込）", "3,980円"), ("Kč 590", "Kč 590"),
    ("1 299,- Kč", "1 299,- Kč"), ("zł 49,99", "zł 49,99"), ("49,99 zł", "49,99 zł"), ("$1,299.00 MXN", "$1,299.00"),
    ("R 1 299,00", "R 1 299,00"), ("R199.99", "R199.99"), ("CHF 1'299.00", "CHF 1'299.00"), ("kr 1 299", "kr 1 299"),
    ("349 kr.", "349 kr."), ("S$25.00", "S$25.00"), ("NOK 499", "NOK 499"), ("12 900 HUF", "12 900 HUF"),
])
def test_price_formats_of_more_markets(text, price):
    assert [e.value for e in selling(f"<p>{text}</p>") if e.method == "price"] == [price]


def test_a_price_touching_the_word_before_it_is_read_whole():
    # "<span>Buy now</span><strong>$2,999</strong> USD" renders as "Buy now $2,999 USD" but reads "Buy now$2,999 USD".
    body = "<div><span>Buy now</span><strong>$2,999</strong> <span>USD</span></div>"
    assert [e.value for e in selling(body) if e.method == "price"] == ["$2,999"]


@pytest.mark.parametrize("text", ["a 100 ft long boat", "Room R2", "Block R 12", "50 %", "Page 12 of 30"])
def test_more_things_that_are_not_prices(text):
    assert [e for e in selling(f"<p>{text}</p>") if e.method == "price"] == []


@pytest.mark.parametrize("marker, platform", [
    ('<script src="//echosting.cafe24.com/js/x.js"></script>', "cafe24"),
    ('<link rel="stylesheet" href="https://cdn.myshoptet.com/tpl/x.css">', "shoptet"),
    ('<img src="https://example.vteximg.com.br/arquivos/x.png">', "vtex"),
    ('<script src="https://cdn.shoprenter.hu/x.js"></script>', "shoprenter"),
])
def test_local_shop_platforms(marker, platform):
    assert Evidence("selling", platform, URL, "platform") in selling(marker)


@pytest.mark.parametrize("src", ["https://js.tosspayments.com/v1/payment", "https://sdk.mercadopago.com/js/v2",
                                 "https://secure.przelewy24.pl/x.js", "https://securepay.simplepay.hu/x"])
def test_local_payment_services(src):
    assert "payment_button" in methods(f'<script src="{src}"></script>')


def test_a_news_site_quoting_prices_in_many_currencies_is_not_a_shop():
    body = ("<h1>Markets</h1><p>Gold closed at $2,034.50, the pound at €1.17 and the index at 39.000원.</p>"
            "<p>Tickets cost 12,50 € and 1 299 Ft; a flat in Oslo kr 4 500 000.</p>"
            '<a href="/news/economy">Economy</a> <a href="/subscribe">Subscribe</a>')
    found = selling(body)
    assert {e.method for e in found} == {"price"} and not is_commercial(found)


# -- parked and for-sale domains -----------------------------------------------------------------

def parking(body: str, head: str = "") -> list[tuple[str, str]]:
    html = f"<html><head>{head}</head><body>{body}</body></html>"
    doc = parse_html(html, URL)
    return [(e.method, e.value) for e in find_parking(doc, URL, visible_text(doc))]


@pytest.mark.parametrize("body", [
    "<h1>This domain is for sale!</h1><p>Buy now for $2,999</p>",
    "<h1>The domain example-kayaks.com may be for sale</h1><p>Click here to inquire about this domain.</p>",
    "<h1>Buy this domain</h1><p>Make an offer</p>",
    "<p>Make an offer on this domain today.</p>",
    "<h1>Diese Domain steht zum Verkauf</h1>", "<h1>Ce nom de domaine est à vendre</h1>",
    "<h1>Este dominio está a la venta</h1>", "<h1>Questo dominio è in vendita</h1>", "<h1>Dit domein is te koop</h1>",
    "<h1>Este domínio está à venda</h1>", "<h1>Denna domän är till salu</h1>", "<h1>Dette domæne er til salg</h1>",
    "<h1>Ta domena jest na sprzedaż</h1>", "<h1>Tato doména je na prodej</h1>", "<h1>Ez a domain eladó</h1>",
    "<h1>此域名出售</h1>", "<h1>このドメインは販売中です</h1>", "<h1>이 도메인은 판매 중입니다</h1>",
])
def test_for_sale_pages(body):
    assert [m for m, _ in parking(body)] == ["for_sale"]


def test_parking_services_and_their_sponsored_listings():
    godaddy = '<div id="root"></div><script src="https://img1.wsimg.com/parking-lander/static/js/main.js"></script>'
    assert parking(godaddy) == [("parking_service", "wsimg.com/parking-lander")]
    ads = ('<h2>Related Searches</h2><ul><li><a href="/?q=kayak">Kayak tours</a></li></ul>'
           "<p>The Sponsored Listings displayed above are served automatically by a third party. Neither the service "
           "provider nor the domain owner maintain any relationship with the advertisers.</p>"
           '<script src="//www.google.com/adsense/domains/caf.js"></script>')
    assert {m for m, _ in parking(ads)} == {"parking_ads", "parking_service"}
    sedo = '<h1>example.net</h1><a href="https://sedo.com/search/details/?domain=example.net">Buy now</a>'
    assert parking(sedo) == [("parking_service", "sedo.com/search")]


def test_real_pages_are_not_parked():
    # A shop with a "Make an offer" button, a registrar's long home page, a blog post about a domain sale.
    assert parking("<h1>Vintage cameras</h1><button>Make an offer</button><p>Leica M3, $1,200</p>") == []
    registrar = ("<h1>Find your domain</h1><p>Buy this domain and thousands more.</p>"
                 + "<p>Hosting, e-mail and websites for small businesses across Europe, with support.</p>" * 40
                 + '<a href="https://www.afternic.com/">Our marketplace partner</a>')
    assert parking(registrar) == []
    assert parking("<h1>Notes</h1><p>I sold my old blog's domain last year; the buyer found it on a list.</p>") == []


def test_a_parked_page_with_a_price_and_buy_button_sells_only_its_domain():
    body = ("<h1>kayak-corner.com is for sale</h1><p>Price: $2,999</p><p>Or $250/month</p>"
            '<form action="https://dan.com/buy-domain/kayak-corner.com"><button>Buy now</button></form>')
    found = selling(body)
    assert is_commercial(found)  # taken alone, the selling signals say "shop"...
    assert [m for m, _ in parking(body)] == ["for_sale", "parking_service"]  # ...the page says what is sold
