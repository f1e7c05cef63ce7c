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
``add_to_cart``        "Add to cart", "In den Warenkorb", "Ajouter au panier",    3
                       "Añadir al carrito", "Aggiungi al carrello", ...; cart
                       form actions
``product_schema``     schema.org Product / Offer with a price                    3
``product_meta``       ``og:type=product``, ``product:price:amount``              3
``payment_button``     PayPal / Stripe / Klarna / Braintree / Adyen scripts,      3
                       PayPal checkout forms
``platform``           shop software markers (Shopify, WooCommerce, Magento,      3
                       PrestaShop, BigCommerce, Shopware, OpenCart, Ecwid...)
``cart_link``          a link to the cart / basket / checkout                     2
``order_link``         "Order now", "Bestellen", "Commander", ...                 1
``price``              1 distinct price: 0.5; 2-4: 1; 5 or more: 2              <= 2
=====================  =====================================================  ======

``is_commercial`` is true at ``COMMERCIAL_THRESHOLD`` = 3: any one strong
signal, or a cart link plus prices; prices alone never reach it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

from raterd.extract._dom import fold, visible_text
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

_ADD_TO_CART = re.compile(
    r"^(?:add to (?:cart|basket|bag|trolley)|buy now|buy it now|purchase|add to shopping cart"
    r"|in den warenkorb(?: legen)?|jetzt kaufen|sofort kaufen|in den einkaufswagen"
    r"|ajouter au panier|acheter(?: maintenant)?|anadir al carrito|agregar al carrito|comprar(?: ahora)?|anadir a la cesta"
    r"|aggiungi al carrello|acquista(?: ora)?|compra ora"
    r"|in winkelwagen|toevoegen aan winkelwagen|in winkelmand|koop nu|bestel nu)$"
)
_CART_TEXT = re.compile(
    r"^(?:(?:my |your |view |shopping )?(?:cart|basket|bag)|checkout|check out|proceed to checkout|warenkorb|zur kasse|kasse"
    r"|(?:mon )?panier|commander|carrito|cesta|tramitar pedido|carrello|cassa|vai alla cassa|winkelwagen|winkelmand|afrekenen)"
    r"(?: \d+)?$"
)
_CART_PATH = re.compile(
    r"(?:^|/)(?:cart|basket|checkout|warenkorb|kasse|panier|carrito|cesta|carrello|winkelwagen|winkelmand|"
    r"shopping-?cart|shoppingcart|bag)(?:/|$|\.|\?)|[?&](?:route=checkout|add-to-cart=|add_to_cart)",
    re.I,
)
_ORDER_TEXT = re.compile(r"^(?:order now|order online|order here|bestellen|jetzt bestellen|commander|commandez|pedir|hacer pedido"
                         r"|ordina(?: ora)?|bestellen|bestel)$")
_CARD_FIELD = re.compile(r"(?:^|[_\-\[.])(?:cc-?(?:number|num|exp|csc)|card-?_?(?:number|num|no)|cardnumber|cvc|cvv|ccv|csc"
                         r"|security-?_?code|expir(?:y|ation)-?_?(?:date|month|year))(?:$|[_\-\].])", re.I)
_PAYMENT_SCRIPTS = re.compile(
    r"js\.stripe\.com|checkout\.stripe\.com|paypal\.com/sdk|paypalobjects\.com|paypal\.com/cgi-bin/webscr"
    r"|klarna(?:cdn|services)?\.(?:com|net)|braintreegateway\.com|js\.braintreegateway|adyen\.com|checkoutshopper"
    r"|pay\.google\.com|applepay|squareup\.com/v2/paymentform|js\.squareup|mollie\.com|sumup\.com",
    re.I,
)
_PLATFORMS = (
    ("shopify", re.compile(r"cdn\.shopify\.com|myshopify\.com|Shopify\.theme|shopify-section", re.I)),
    ("woocommerce", re.compile(r"woocommerce|wc-ajax|wc-block", re.I)),
    ("magento", re.compile(r"Magento_|mage/cookies|/static/version\d+/frontend/|Mage\.Cookies", re.I)),
    ("prestashop", re.compile(r"prestashop", re.I)),
    ("bigcommerce", re.compile(r"bigcommerce\.com", re.I)),
    ("shopware", re.compile(r"shopware", re.I)),
    ("opencart", re.compile(r"route=checkout/|catalog/view/theme", re.I)),
    ("ecwid", re.compile(r"ecwid", re.I)),
    ("wix_stores", re.compile(r"wixstores|wix-ecommerce", re.I)),
    ("squarespace_commerce", re.compile(r"squarespace-commerce|sqs-add-to-cart", re.I)),
)
_CURRENCY_BEFORE = r"(?:US\$|CA\$|C\$|A\$|AU\$|NZ\$|HK\$|\$|£|€|¥|USD|EUR|GBP|CHF|CAD|AUD|Fr\.)"
_CURRENCY_AFTER = r"(?:€|EUR|£|GBP|\$|USD|CHF|CAD|zł|kr|Kč)"
# Bounded repetition: "123 123 123 ..." must not make the scan quadratic.
_AMOUNT = r"\d{1,3}(?:[.,\u202f\u00a0 ]\d{3}){0,4}(?:[.,]\d{2}|[.,]-)?|\d{1,9}(?:[.,]\d{2})?"
_PRICE = re.compile(
    rf"(?<![\w$£€¥])(?:{_CURRENCY_BEFORE}\s?(?P<a>{_AMOUNT})(?![\d%])|(?P<b>{_AMOUNT})\s?{_CURRENCY_AFTER}(?![\w]))"
)


def _texts(el: etree._Element) -> list[str]:
    out = [el.text_content() or ""]
    for attr in ("value", "aria-label", "title"):
        if el.get(attr):
            out.append(el.get(attr) or "")
    return [fold(t) for t in out if t and len(t) < 200]


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
        if any(_ADD_TO_CART.match(t) for t in texts):
            add("add_to_cart", next(t for t in texts if _ADD_TO_CART.match(t)))
        elif el.tag == "a":
            href = el.get("href") or ""
            path = ""
            try:
                parts = urlsplit(href)
                path = parts.path + ("?" + parts.query if parts.query else "")
            except ValueError:
                pass
            if any(_CART_TEXT.match(t) for t in texts) or (path and _CART_PATH.search(path)):
                add("cart_link", (urlsplit(href).path if path else "") or next((t for t in texts if t), "cart"))
            elif any(_ORDER_TEXT.match(t) for t in texts):
                add("order_link", next(t for t in texts if _ORDER_TEXT.match(t)))
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
        for platform, regex in _PLATFORMS:
            if regex.search(sample):
                add("platform", platform)

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
