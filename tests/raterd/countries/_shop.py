"""Building a small shop in a given language: home page with products, a contact page with the address.

Each language entry holds what a real shop in that language prints: the
"add to cart" button, the cart link, the contact/imprint link text, a
copyright line and how prices are written.  The address block of each shop
is written by hand in the country modules, the way that country's post and
its shops print it; nothing here shapes it for the extractor.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from tests.raterd.corpus.sites import CorpusSite, Expect


@dataclass(frozen=True)
class Lang:
    code: str
    add: str  # add-to-cart button
    cart: str  # cart link text
    contact: str  # contact link text
    about: str  # about / company link text
    rights: str  # "All rights reserved"
    welcome: str  # home page heading


LANGS = {
    "en": Lang("en", "Add to cart", "Cart", "Contact us", "About us", "All rights reserved.", "Shop our range"),
    "en-GB": Lang("en", "Add to basket", "Basket", "Contact", "About us", "All rights reserved.", "Shop the collection"),
    "de": Lang("de", "In den Warenkorb", "Warenkorb", "Kontakt", "Impressum", "Alle Rechte vorbehalten.",
               "Willkommen in unserem Shop"),
    "fr": Lang("fr", "Ajouter au panier", "Panier", "Contact", "Mentions légales", "Tous droits réservés.",
               "Bienvenue dans notre boutique"),
    "it": Lang("it", "Aggiungi al carrello", "Carrello", "Contatti", "Chi siamo", "Tutti i diritti riservati.",
               "Benvenuti nel nostro negozio"),
    "es": Lang("es", "Añadir al carrito", "Carrito", "Contacto", "Aviso legal", "Todos los derechos reservados.",
               "Bienvenido a nuestra tienda"),
    "es-MX": Lang("es", "Agregar al carrito", "Carrito", "Contáctanos", "Nosotros", "Todos los derechos reservados.",
                  "Bienvenido a nuestra tienda en línea"),
    "nl": Lang("nl", "In winkelwagen", "Winkelwagen", "Contact", "Over ons", "Alle rechten voorbehouden.",
               "Welkom in onze webwinkel"),
    "fi": Lang("fi", "Lisää ostoskoriin", "Ostoskori", "Yhteystiedot", "Meistä", "Kaikki oikeudet pidätetään.",
               "Tervetuloa verkkokauppaamme"),
    "sv": Lang("sv", "Lägg i varukorgen", "Varukorg", "Kontakta oss", "Om oss", "Alla rättigheter förbehållna.",
               "Välkommen till vår butik"),
    "pt": Lang("pt", "Adicionar ao carrinho", "Carrinho", "Contactos", "Sobre nós", "Todos os direitos reservados.",
               "Bem-vindo à nossa loja"),
    "pt-BR": Lang("pt", "Adicionar ao carrinho", "Carrinho", "Fale conosco", "Quem somos",
                  "Todos os direitos reservados.", "Bem-vindo à nossa loja virtual"),
    "da": Lang("da", "Læg i kurv", "Kurv", "Kontakt os", "Om os", "Alle rettigheder forbeholdes.",
               "Velkommen til vores webshop"),
    "no": Lang("no", "Legg i handlekurven", "Handlekurv", "Kontakt oss", "Om oss", "Alle rettigheter reservert.",
               "Velkommen til nettbutikken"),
    "pl": Lang("pl", "Dodaj do koszyka", "Koszyk", "Kontakt", "O nas", "Wszelkie prawa zastrzeżone.",
               "Witamy w naszym sklepie"),
    "cs": Lang("cs", "Přidat do košíku", "Košík", "Kontakt", "O nás", "Všechna práva vyhrazena.",
               "Vítejte v našem e-shopu"),
    "sk": Lang("sk", "Pridať do košíka", "Košík", "Kontakt", "O nás", "Všetky práva vyhradené.",
               "Vitajte v našom e-shope"),
    "hu": Lang("hu", "Kosárba", "Kosár", "Kapcsolat", "Impresszum", "Minden jog fenntartva.",
               "Üdvözöljük webáruházunkban"),
    "sl": Lang("sl", "Dodaj v košarico", "Košarica", "Kontakt", "O nas", "Vse pravice pridržane.",
               "Dobrodošli v naši spletni trgovini"),
    "hr": Lang("hr", "Dodaj u košaricu", "Košarica", "Kontakt", "O nama", "Sva prava pridržana.",
               "Dobrodošli u našu web trgovinu"),
    "el": Lang("el", "Προσθήκη στο καλάθι", "Καλάθι", "Επικοινωνία", "Σχετικά με εμάς",
               "Με την επιφύλαξη παντός δικαιώματος.", "Καλώς ήρθατε στο κατάστημά μας"),
    "et": Lang("et", "Lisa ostukorvi", "Ostukorv", "Kontakt", "Meist", "Kõik õigused kaitstud.",
               "Tere tulemast meie e-poodi"),
    "ko": Lang("ko", "장바구니 담기", "장바구니", "고객센터", "회사소개", "All rights reserved.", "신상품"),
    "ja": Lang("ja", "カートに入れる", "カート", "お問い合わせ", "会社概要", "All Rights Reserved.", "新着商品"),
    "zh-HK": Lang("zh-HK", "加入購物車", "購物車", "聯絡我們", "關於我們", "版權所有", "最新產品"),
}


def home(lang: str, title: str, products: list[tuple[str, str]], *, contact: str = "/contact",
         about: str = "", footer: str = "", head: str = "", extra: str = "") -> str:
    """A shop's home page: navigation, products with prices and add-to-cart buttons, a footer."""
    words = LANGS[lang]
    links = [('/', title.split("|")[0].strip()), ("/cart", words.cart), (contact, words.contact)]
    if about:
        links.append((about, words.about))
    nav = " | ".join(f'<a href="{href}">{escape(text)}</a>' for href, text in links)
    items = "".join(
        f'<div class="product"><h3>{escape(name)}</h3><span class="price">{escape(price)}</span>'
        f'<form action="/cart/add" method="post"><button type="submit">{escape(words.add)}</button></form></div>'
        for name, price in products
    )
    return (f'<!DOCTYPE html><html lang="{words.code}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'{head}</head><body><header><nav>{nav}</nav></header><main><h1>{escape(words.welcome)}</h1>{items}'
            f'{extra}</main><footer>{footer}</footer></body></html>')


def contact(lang: str, title: str, body: str, *, footer: str = "", head: str = "") -> str:
    """A contact / imprint / company page; *body* is the site's own HTML for it."""
    words = LANGS[lang]
    nav = f'<a href="/">{escape(words.welcome)}</a> | <a href="/cart">{escape(words.cart)}</a>'
    return (f'<!DOCTYPE html><html lang="{words.code}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'{head}</head><body><header><nav>{nav}</nav></header><main>{body}</main>'
            f'<footer>{footer}</footer></body></html>')


@dataclass(frozen=True)
class Shop:
    """One shop of the country corpus and what a correct rating says about it."""

    domain: str
    country: str  # ISO code the rating must give
    postcode: str  # as the location must give it ("" where the country has none)
    pages: dict
    rating: str = "Q"
    note: str = ""

    def corpus_site(self) -> CorpusSite:
        info = {"Q": "unverified", "A": "", "X": "no_location", "U": "non_commercial"}[self.rating]
        location = {"postcode": self.postcode, "country": self.country} if self.rating in ("A", "Q") else {}
        return CorpusSite(expect=Expect(self.rating, info, location=location), pages=self.pages, note=self.note)


def shop(domain: str, country: str, postcode: str, lang: str, title: str, products: list[tuple[str, str]],
         contact_body: str, *, footer: str = "", contact_path: str = "/contact", home_footer: str | None = None,
         head: str = "", contact_head: str = "", about: str = "", extra_pages: dict | None = None,
         rating: str = "Q", note: str = "") -> Shop:
    """A two-page shop: the home page links its contact page (in the shop's language) by *contact_path*."""
    pages = {
        "/": home(lang, title, products, contact=contact_path, about=about,
                  footer=footer if home_footer is None else home_footer, head=head),
        contact_path: contact(lang, title, contact_body, footer=footer, head=contact_head),
    }
    pages.update(extra_pages or {})
    return Shop(domain, country, postcode, pages, rating=rating, note=note)


def copyright_line(name: str, lang: str, year: int = 2025) -> str:
    """The usual footer credit: ``© 2025 Name. All rights reserved.`` in the shop's language."""
    return f"<p>&copy; {year} {escape(name)}. {escape(LANGS[lang].rights)}</p>"
