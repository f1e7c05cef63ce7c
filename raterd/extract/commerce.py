"""Signs that a site sells something, and the threshold that makes it "commercial".

Commercial sites without a findable street address are rated X/``no_location``;
non-commercial ones are U/``non_commercial``. So one price in a blog post
must not make a shop, while any real checkout must.

Each signal is an ``Evidence(kind="selling", method=<signal>)``. The site's
score is the sum of the weights of the *distinct* signals seen on any of its
pages (a cart link on every page counts once); prices are scored by how many
different prices were seen:

=====================  =====================================================  ======
signal (``method``)    what                                                   weight
=====================  =====================================================  ======
``payment_form``       card-number / CVC inputs (``autocomplete="cc-number"``)    4
``add_to_cart``        "Add to cart", "In den Warenkorb", "Lägg i varukorgen",    3
                       "Kosárba", "Adicionar ao carrinho", "장바구니 담기",
                       "カートに入れる", "加入購物車"... (30+ markets, see
                       ``_selling_words``); a bare "Buy"/"Köp"/"구매하기"
                       *button*; cart form actions
``product_schema``     schema.org Product / Offer with a price                    3
``product_meta``       ``og:type=product``, ``product:price:amount``              3
``payment_button``     PayPal / Stripe / Klarna / Adyen / Mollie and local        3
                       services (Toss, Inicis, Mercado Pago, Przelewy24,
                       GoPay, SimplePay, Vipps, TWINT, PayFast...)
``platform``           shop software markers (Shopify, WooCommerce, Magento,      3
                       PrestaShop, Shopware, Cafe24, UNAS, Shoptet, VTEX,
                       Nuvemshop, MakeShop, Shopline...)
``cart_link``          a link to the cart / basket / checkout ("Warenkorb",       2
                       "Kosár", "Carrinho", "Koszyk", "장바구니", "カート")
``order_link``         "Order now", "Bestellen", "Commander", "주문하기", a       1
                       bare "Buy" *link* (it may lead to another shop)
``price``              1 distinct price: 0.5; 2-4: 1; 5 or more: 2              <= 2
=====================  =====================================================  ======

Prices are read in the formats shops print: "1.299,00 kr", "€ 12,50",
"R$ 49,90", "₩39,000", "39.000원", "1 299 Ft", "CHF 29.–", "¥3,980(税込)",
"Kč 590", "zł 49,99", "R 1 299,00".

``is_commercial`` is true at ``COMMERCIAL_THRESHOLD`` = 3: any one strong
signal, or a cart link plus prices; prices alone never reach it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

from raterd.extract._dom import visible_text
from raterd.extract._selling_words import ADD_TO_CART, BUY_VERBS, CART, CART_PATH_WORDS, ORDER, fold_words
from raterd.extract._structured import Structured, read_structured
from raterd.findings import Evidence

__all__ = ["find_selling", "is_commercial", "commerce_score", "SIGNAL_WEIGHTS", "COMMERCIAL_THRESHOLD"]

SIGNAL_WEIGHTS = {
    "payment_form": 4.0,
    "add_to_cart": 3.0,
    "product_schema": 3.0,
    "product_meta": 3.0,
    "payment_button": 3.0,
    "platform": 3.0,
    "cart_link": 2.0,
    "order_link": 1.0,
}
COMMERCIAL_THRESHOLD = 3.0
_MAX_PRICES = 10

_CART_PATH = re.compile(
    rf"(?:^|/)(?:{'|'.join(map(re.escape, CART_PATH_WORDS))})(?:/|$|\.|\?|#)"
    r"|[?&](?:route=checkout|add-to-cart=|add_to_cart)",
    re.I,
)
_COUNT = re.compile(r"(?: \d+)+$")  # "Cart (2)" folds to "cart 2"
_CARD_FIELD = re.compile(r"(?:^|[_\-\[.])(?:cc-?(?:number|num|exp|csc)|card-?_?(?:number|num|no)|cardnumber|cvc|cvv|ccv|csc"
                         r"|security-?_?code|expir(?:y|ation)-?_?(?:date|month|year))(?:$|[_\-\].])", re.I)
_PAYMENT_SCRIPTS = re.compile(
    r"js\.stripe\.com|checkout\.stripe\.com|paypal\.com/sdk|paypalobjects\.com|paypal\.com/cgi-bin/webscr"
    r"|klarna(?:cdn|services)?\.(?:com|net)|braintreegateway\.com|js\.braintreegateway|adyen\.com|checkoutshopper"
    r"|pay\.google\.com|applepay|squareup\.com/v2/paymentform|js\.squareup|mollie\.com|sumup\.com"
    # Local payment services whose scripts or forms only a checkout loads:
    # KR (PortOne/iamport, Toss, KG Inicis, NHN KCP, Naver Pay), BR (Mercado Pago,
    # PagSeguro), PL (Przelewy24, PayU), CZ/SK (GoPay, Comgate), HU (SimplePay,
    # Barion), Nordics (Vipps, MobilePay, Nets Easy, Svea), CH (TWINT, Datatrans,
    # Saferpay, Payrexx), ZA (PayFast, Yoco, Peach), AU/NZ (Afterpay), JP (GMO-PG).
    r"|cdn\.iamport\.kr|cdn\.portone\.io|js\.tosspayments\.com|stdpay\.inicis\.com|pay\.kcp\.co\.kr|pay\.naver\.com"
    r"|sdk\.mercadopago\.com|mercadopago\.com\.br/integrations|stc\.pagseguro\.uol\.com\.br"
    r"|secure\.przelewy24\.pl|secure\.payu\.com|gw\.sandbox\.gopay\.com|gate\.gopay\.cz|pay\.comgate\.cz"
    r"|securepay\.simplepay\.hu|secure\.barion\.com|api\.vipps\.no|checkout\.dibspayment\.eu|mobilepay\.dk/checkout"
    r"|checkout\.svea\.com|pay\.twint\.ch|pay\.datatrans\.com|saferpay\.com|payrexx\.com|payfast\.co\.za"
    r"|js\.yoco\.com|peachpayments\.com|js\.afterpay\.com|static\.mul-pay\.jp",
    re.I,
)
# Asset hosts and markup of shop software: written by the software, never by
# an article that mentions it. Plain substrings of the lower-cased page, so
# one pass of ``in`` per marker instead of a case-blind regex per platform.
_PLATFORMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("shopify", ("cdn.shopify.com", "myshopify.com", "shopify.theme", "shopify-section")),
    ("woocommerce", ("woocommerce", "wc-ajax", "wc-block")),
    ("magento", ("magento_", "mage/cookies", "mage.cookies")),
    ("prestashop", ("prestashop",)),
    ("bigcommerce", ("bigcommerce.com",)),
    ("shopware", ("shopware",)),
    ("opencart", ("route=checkout/", "catalog/view/theme")),
    ("ecwid", ("ecwid",)),
    ("wix_stores", ("wixstores", "wix-ecommerce")),
    ("squarespace_commerce", ("squarespace-commerce", "sqs-add-to-cart")),
    ("cafe24", ("echosting.cafe24.com", "cafe24img.com", "/order/basket.html")),
    ("godomall", ("godomall", "/order/cart.php")),
    ("makeshop", ("makeshop.jp", "/shop/basket.html")),
    ("colorme", ("shop-pro.jp", "colorme")),
    ("base", ("thebase.in", "base-ec")),
    ("shopline", ("shoplineapp.com", "shoplineimg.com")),
    ("unas", ("unas.hu", "/shop_cart.php")),
    ("shoprenter", ("shoprenter.hu", "cdn.shoprenter")),
    ("shoptet", ("cdn.myshoptet.com", "shoptet.cz", "shoptet.sk")),
    ("shoper", ("shoper.pl", "shoperpanel")),
    ("idosell", ("idosell.com", "iai-shop.com")),
    ("nuvemshop", ("nuvemshop", "tiendanube", "d26lpennugtm8s.cloudfront.net")),
    ("vtex", ("vteximg.com", "vtexassets.com", "vtexcommerce")),
    ("lojaintegrada", ("lojaintegrada",)),
    ("tray", ("tcdn.com.br", "traycorp")),
    ("lightspeed", ("webshopapp.com", "seoshop")),
    ("dandomain", ("dandomain.dk", "/shop/showbasket.html")),
)
_MAGENTO_STATIC = re.compile(r"/static/version\d+/frontend/")

# Prices as shops print them: the currency sign or code before or after the
# amount, in the amount formats of the markets ("1.299,00 kr", "€ 12,50",
# "R$ 49,90", "₩39,000", "39.000원", "1 299 Ft", "CHF 29.–", "HK$120",
# "¥3,980(税込)", "Kč 590", "zł 49,99", "$1,299.00 MXN", "R 1 299,00").
_CODES = r"USD|EUR|GBP|CHF|CAD|AUD|NZD|HKD|SGD|BRL|MXN|JPY|KRW|SEK|NOK|DKK|PLN|CZK|HUF|ZAR"
# A sign may touch the word before it ("Buy now$2,999" is what inline markup
# gives for "Buy now <b>$2,999</b>"); a code or "kr" may not.
_SIGN_BEFORE = r"(?:US\$|CA\$|C\$|A\$|AU\$|NZ\$|HK\$|S\$|SG\$|R\$|MX\$|\$|£|€|¥|￥|₩)"
_WORD_BEFORE = rf"(?:zł|Kč|kr\.?|Kr\.?|SFr\.|Fr\.|{_CODES})"
_CURRENCY_AFTER = rf"(?:€|£|\$|¥|￥|₩|원|円|zł|kr\.?|Kr\.?|Kč|Ft|{_CODES})"
# Bounded repetition: "123 123 123 ..." must not make the scan quadratic.
# Thousands go by ".", ",", "'" (Switzerland), or a (thin, no-break) space;
# "29.–" and "1 299,-" are whole amounts.
_AMOUNT = r"\d{1,3}(?:[.,'’\u202f\u00a0 ]\d{3}){0,4}(?:[.,]\d{2}|[.,][-–])?|\d{1,9}(?:[.,]\d{2}|[.,][-–])?"
# South Africa's bare "R" is also a letter: only "R 199.99" / "R1 299,00", with cents.
_RAND = r"R\s?(?P<r>\d{1,3}(?:[,\u00a0 ]\d{3}){0,4}[.,]\d{2}|\d{1,9}[.,]\d{2})"
_NOT_MID_WORD = r"(?<![\w$£€¥])"
_NOT_MID_AMOUNT = r"(?<!\d[.,'])"  # "2,999" is not the price "999"
_PRICE = re.compile(
    rf"(?:{_NOT_MID_WORD}{_WORD_BEFORE}|(?<![$£€¥\d]){_SIGN_BEFORE})\s?(?P<a>{_AMOUNT})(?![\d%])"
    rf"|{_NOT_MID_WORD}{_RAND}(?![\d%])"
    rf"|{_NOT_MID_WORD}{_NOT_MID_AMOUNT}(?P<b>{_AMOUNT})\s?{_CURRENCY_AFTER}(?![A-Za-z])"
)


def _texts(el: etree._Element) -> list[str]:
    out = [el.text_content() or ""]
    for attr in ("value", "aria-label", "title"):
        if el.get(attr):
            out.append(el.get(attr) or "")
    return [_COUNT.sub("", fold_words(t)) for t in out if t and len(t) < 200]


def _button_signal(el: etree._Element, texts: list[str]) -> tuple[str, str] | None:
    """``(method, text)`` for an add-to-cart, cart or order button or link, else None."""
    for text in texts:
        if text in ADD_TO_CART:
            return "add_to_cart", text
    for text in texts:
        if text in BUY_VERBS:
            # A bare "Buy" button is a shop's; a bare "Buy" link may lead to someone else's shop.
            return ("order_link" if el.tag == "a" else "add_to_cart"), text
    if el.tag != "a":
        return None
    for text in texts:
        if text in CART:
            return "cart_link", text
    for text in texts:
        if text in ORDER:
            return "order_link", text
    return None


def find_selling(doc: etree._Element, url: str, text: str | None = None, html_text: str | None = None,
                 structured: Structured | None = None) -> list[Evidence]:
    """Selling signals on one page (see the module table). ``html_text`` is the raw page, for platform markers."""
    if doc is None:
        return []
    if text is None:
        text = visible_text(doc)
    if structured is None:
        structured = read_structured(doc)
    out: dict[tuple[str, str], Evidence] = {}

    def add(method: str, value: str) -> None:
        key = (method, value)
        if key not in out and len(out) < 60:
            out[key] = Evidence(kind="selling", value=value[:200], page=url, method=method)

    for count, el in enumerate(doc.iter("a", "button", "input")):
        if count >= 5000:  # enough to see a shop's navigation and buttons
            break
        texts = _texts(el)
        if el.tag == "input" and (el.get("type") or "").lower() not in ("submit", "button", "image"):
            texts = []
        signal = _button_signal(el, texts)
        if el.tag == "a" and (signal is None or signal[0] in ("cart_link", "order_link")):
            path = ""
            try:
                parts = urlsplit(el.get("href") or "")
                path = parts.path + ("?" + parts.query if parts.query else "")
            except ValueError:
                pass
            if (signal is not None and signal[0] == "cart_link") or (path and _CART_PATH.search(path)):
                signal = ("cart_link", (parts.path if path else "") or next((t for t in texts if t), "cart"))
        if signal is not None:
            add(*signal)
        if len(out) >= 40:
            break

    for form in doc.iter("form"):
        action = (form.get("action") or "").lower()
        if re.search(r"/cart/add|add-to-cart|add_to_cart|/basket/add|warenkorb", action):
            add("add_to_cart", action[:100])
        if "paypal.com" in action:
            add("payment_button", "paypal")
    for inp in doc.iter("input", "select"):
        names = " ".join(filter(None, (inp.get("name"), inp.get("id"), inp.get("autocomplete"), inp.get("data-stripe"))))
        if names and _CARD_FIELD.search(names):
            add("payment_form", names[:80])
            break

    for script in doc.iter("script", "iframe", "link"):
        src = script.get("src") or script.get("href") or ""
        m = _PAYMENT_SCRIPTS.search(src)
        if m:
            add("payment_button", m.group(0).lower())

    for meta in doc.iter("meta"):
        prop = (meta.get("property") or meta.get("name") or "").lower()
        content = (meta.get("content") or "").strip().lower()
        if (prop == "og:type" and content == "product") or (prop in ("product:price:amount", "og:price:amount") and content):
            add("product_meta", f"{prop}={content}"[:80])

    for node in structured.nodes:
        if any(t in ("Product", "Offer", "AggregateOffer", "ProductGroup") for t in node.types):
            price = node.first_text("price", "lowPrice", "highPrice")
            offers = node.children("offers")
            if not price:
                price = next((o.first_text("price", "lowPrice") for o in offers if o.first_text("price", "lowPrice")), "")
            if price:
                add("product_schema", f"{node.first_text('name')[:80]} {price}".strip())

    if html_text:
        sample = html_text[:300_000]
        lowered = sample.lower()
        for platform, markers in _PLATFORMS:
            if any(marker in lowered for marker in markers):
                add("platform", platform)
        if _MAGENTO_STATIC.search(sample):
            add("platform", "magento")

    prices = 0
    for m in _PRICE.finditer(text[:200_000]):
        amount = m.group(0).strip()
        if re.fullmatch(r"[^\d]*0+(?:[.,]0+)?[^\d]*", amount):
            continue  # "$0" / "0,00 €" is a free offer or an empty cart, not a price
        before = len(out)
        add("price", " ".join(amount.split()))
        prices += len(out) > before
        if prices >= _MAX_PRICES:
            break
    return list(out.values())


def _price_points(count: int) -> float:
    if count <= 0:
        return 0.0
    if count == 1:
        return 0.5
    if count < 5:
        return 1.0
    return 2.0


def commerce_score(selling: list[Evidence]) -> float:
    """Sum of distinct signal weights plus tiered price points (see the module table)."""
    methods = {e.method for e in selling if e.kind == "selling" and e.method != "price"}
    prices = {e.value for e in selling if e.method == "price"}
    return sum(SIGNAL_WEIGHTS.get(m, 0.0) for m in methods) + _price_points(len(prices))


def is_commercial(selling: list[Evidence]) -> bool:
    """True when the site's selling evidence reaches ``COMMERCIAL_THRESHOLD``."""
    return commerce_score(selling) >= COMMERCIAL_THRESHOLD
