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


# What else sits on a real contact page: a phone number in the country's own format and opening hours.
# Phone numbers are digit groups like postcodes ("+46 8 123 456 78"), which is the point.
PHONES = {
    "US": "(214) 555-0143", "GB": "0117 496 0321", "IE": "+353 1 234 5678", "FR": "04 72 12 34 56",
    "BE": "+32 2 512 34 56", "LU": "+352 26 12 34 56", "NL": "020 123 4567", "DE": "+49 30 1234567",
    "AT": "+43 1 234 56 78", "CH": "+41 44 123 45 67", "IT": "+39 06 1234 5678", "ES": "+34 923 12 34 56",
    "PT": "+351 21 123 4567", "FI": "+358 9 123 4567", "SE": "+46 8 123 456 78", "DK": "+45 33 12 34 56",
    "NO": "+47 22 12 34 56", "PL": "+48 22 123 45 67", "CZ": "+420 224 123 456", "SK": "+421 2 123 456 78",
    "HU": "+36 1 234 5678", "CA": "514 555-0182", "MX": "+52 55 1234 5678", "BR": "(31) 3222-1234",
    "AU": "(02) 9123 4567", "NZ": "09 123 4567", "ZA": "021 123 4567", "SG": "+65 6123 4567",
    "HK": "+852 2123 4567", "KR": "02-1234-5678", "JP": "03-1234-5678", "SI": "+386 1 123 45 67",
    "HR": "+385 1 123 4567", "GR": "+30 210 123 4567", "EE": "+372 612 3456",
}
HOURS = {
    "en": "Mon–Fri 9am–5pm, Sat 10am–2pm", "en-GB": "Mon–Fri 9:00–17:30", "de": "Mo–Fr 9:00–18:00 Uhr",
    "fr": "Du lundi au vendredi de 9h à 18h", "it": "Lun–Ven 9:00–13:00, 15:00–19:00", "es": "L–V de 10:00 a 14:00",
    "es-MX": "Lunes a viernes de 9:00 a 18:00 hrs", "nl": "Ma t/m vr 9.00–17.30 uur", "fi": "Ma–pe 9–17",
    "sv": "Mån–fre 10–18, lör 10–15", "pt": "Seg–sex 9h00–18h00", "pt-BR": "Seg a sex, das 9h às 18h",
    "da": "Man–fre 10–17.30", "no": "Man–fre 10–17, lør 10–16", "pl": "Pon–pt 9:00–17:00", "cs": "Po–Pá 9:00–17:00",
    "sk": "Po–Pi 9:00–17:00", "hu": "H–P 9:00–17:00", "ko": "평일 10:00-18:00 (점심 12:00-13:00)",
    "ja": "営業時間 10:00〜18:00（土日祝休み）", "zh-HK": "營業時間：星期一至六 10:00-19:00", "sl": "Pon–pet 9.00–17.00",
    "hr": "Pon–pet 9–17 h", "el": "Δευτέρα–Παρασκευή 9:00–17:00", "et": "E–R 10–18",
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
    extras = f"<p>Tel. {escape(PHONES.get(country, '+1 555 0100'))}</p><p>{escape(HOURS[lang])}</p>"
    pages = {
        "/": home(lang, title, products, contact=contact_path, about=about,
                  footer=footer if home_footer is None else home_footer, head=head),
        contact_path: contact(lang, title, contact_body + extras, footer=footer, head=contact_head),
    }
    pages.update(extra_pages or {})
    return Shop(domain, country, postcode, pages, rating=rating, note=note)


def copyright_line(name: str, lang: str, year: int = 2025) -> str:
    """The usual footer credit: ``© 2025 Name. All rights reserved.`` in the shop's language."""
    return f"<p>&copy; {year} {escape(name)}. {escape(LANGS[lang].rights)}</p>"
