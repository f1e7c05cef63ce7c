"""The fixture corpus as data: site -> pages, certificate, expected rating and evidence.

Each :class:`CorpusSite` is served by :func:`tests.raterd.corpus.serve.serve_corpus`
on the loopback fixture server (HTTP and HTTPS) under a name with a real TLD,
mapped to 127.0.0.1 by a ``--resolve``-style override.  To add a site, add
an entry to :data:`CORPUS`: the corpus test rates every entry and checks its
:class:`Expect`.

The outside sources the corpus relies on are the sample files in
``tests/raterd/data`` (real published formats): Companies House
``BasicCompanyData-sample.csv`` (ACME WIDGETS LIMITED at SW1A 1AA, GLENCOE
OUTDOOR SUPPLIES LIMITED no. SC123456, OLD MILL BAKERY LIMITED dissolved),
the phishing-domain list ``phishing-domains-sample.txt``
(evil-bank-login-sample.com) and the PhishTank dump
``online-valid-sample.json`` (account-verify-sample.com); plus the LEI
records in :data:`GLEIF_RECORDS`, served in the GLEIF API's JSON:API format.

Evidence patterns (``Expect.evidence``, ``Expect.absent``) are dicts over the
five evidence keys; a value starting with ``~`` is a case-insensitive
substring of the field, ``page`` without ``~`` is compared with the URL's
path, anything else must be equal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Union

from tests.raterd.fixtures import FixtureCA, LeafCert, Response

from ._html import jsonld, page, shop_items, sitemap_xml

__all__ = ["CorpusSite", "Expect", "Dynamic", "CORPUS", "GLEIF_RECORDS", "NOT_SITES"]


@dataclass(frozen=True)
class Dynamic:
    """A page built when requested from the site's base URL (``https://name:port``): for
    absolute URLs in sitemaps and redirects, which must carry the fixture port."""

    build: Callable[[str], Union[str, Response]]


Entry = Union[str, bytes, Response, Dynamic]
CertMaker = Callable[[FixtureCA, list[str]], LeafCert]


@dataclass(frozen=True)
class Expect:
    rating: str
    ratinginfo: str
    location: Mapping[str, str] = field(default_factory=dict)  # fields that must be exactly so
    evidence: tuple[Mapping[str, str], ...] = ()  # each must match at least one evidence item
    absent: tuple[Mapping[str, str], ...] = ()  # none may match any item


@dataclass(frozen=True)
class CorpusSite:
    """One fixture site. ``hosts``: the names served (default: the domain; ``()``: none,
    the name does not resolve); ``address``: where the names are mapped;
    ``cert``: the HTTPS certificate (default DV for the names)."""

    expect: Expect
    pages: Mapping[str, Entry] = field(default_factory=dict)
    hosts: tuple[str, ...] | None = None
    address: str = "127.0.0.1"
    cert: CertMaker | None = None
    note: str = ""


def ev(organisation: str, country: str, locality: str) -> CertMaker:
    return lambda ca, names: ca.ev(names, organisation, country=country, locality=locality)


def ov(organisation: str, country: str, locality: str | None = None) -> CertMaker:
    return lambda ca, names: ca.ov(names, organisation, country=country, locality=locality)


def cdn(organisation: str = "Cloudflare, Inc.") -> CertMaker:
    return lambda ca, names: ca.cdn(names, organisation)


def wrong_name() -> CertMaker:
    """A valid certificate for some other name: the HTTPS handshake fails, HTTP still works."""
    return lambda ca, names: ca.dv(["some-other-site.example.net"])


UK_NAV = (("/about-us", "About us"), ("/contact", "Contact"), ("/basket", "Basket"))
ROBOTS_ALLOW = Response(body=b"User-agent: *\nDisallow: /admin/\n", content_type="text/plain")

# -- A: confirmed by an independent source ------------------------------------------------

ACME = CorpusSite(
    note="UK shop; Companies House lists ACME WIDGETS LIMITED at SW1A 1AA (name + postcode)",
    pages={
        "/robots.txt": ROBOTS_ALLOW,
        "/": page("Acme Widgets | Quality widgets since 1998",
                  "<h1>Widgets for every workshop</h1>", shop_items([("Brass widget", "£12.50"), ("Steel widget", "£9.99")]),
                  links=UK_NAV, head='<meta property="og:site_name" content="Acme Widgets">',
                  footer="<p>&copy; 2024 Acme Widgets Ltd. All rights reserved.</p>"),
        "/contact": page("Contact | Acme Widgets",
                         "<h1>Contact us</h1><h2>Registered office</h2>"
                         "<p>Acme Widgets Ltd<br>1 High Street<br>London<br>SW1A 1AA</p><p>Telephone: 020 7946 0123</p>",
                         links=UK_NAV),
        "/about-us": page("About | Acme Widgets", "<h1>About us</h1><p>Family widget makers since 1998.</p>",
                          links=UK_NAV),
    },
    expect=Expect("A", "", location={"name": "Acme Widgets Ltd.", "street": "1 High Street", "city": "London",
                                     "postcode": "SW1A 1AA", "country": "GB"},
                  evidence=({"kind": "confirmation", "source": "companies-house", "value": "~01234567"},
                            {"kind": "confirmation", "value": "~postcode match"},
                            {"kind": "address", "page": "/contact", "method": "labelled"},
                            {"kind": "name", "page": "/contact"},
                            {"kind": "page", "page": "/about-us", "method": "about"},
                            {"kind": "source_checked", "source": "registers", "value": "~SW1A 1AA: confirmed"})),
)

GLENCOE = CorpusSite(
    note="Scottish shop: the registered office is elsewhere, the company number matches (SC123456)",
    pages={
        "/": page("Glencoe Outdoor Supplies", "<h1>Outdoor kit</h1>",
                  shop_items([("Rucksack 40l", "£79.00"), ("Head torch", "£24.00")]),
                  links=(("/contact-us", "Contact us"),),
                  footer="<p>&copy; 2024 Glencoe Outdoor Supplies Ltd. Registered in Scotland, company number "
                         "SC123456.</p>"),
        "/contact-us": page("Contact Glencoe Outdoor Supplies",
                            "<h1>Visit our shop</h1><p>Glencoe Outdoor Supplies Ltd<br>45 High Street<br>"
                            "Fort William<br>PH33 6AD</p>", links=(("/", "Home"),)),
    },
    expect=Expect("A", "", location={"street": "45 High Street", "postcode": "PH33 6AD", "country": "GB"},
                  evidence=({"kind": "confirmation", "source": "companies-house", "value": "~registration number match"},
                            {"kind": "registration", "value": "SC123456", "method": "uk_company", "page": "/"})),
)

BRIGHTLAMP = CorpusSite(
    note="US company with an EV certificate naming it",
    cert=ev("Brightlamp, Inc.", "US", "San Francisco"),
    pages={
        "/": page("Brightlamp - LED lamps",
                  jsonld('{"@context": "https://schema.org", "@type": "Organization", "name": "Brightlamp", '
                         '"legalName": "Brightlamp, Inc.", "address": {"@type": "PostalAddress", '
                         '"streetAddress": "200 Market Street", "addressLocality": "San Francisco", '
                         '"addressRegion": "CA", "postalCode": "94105", "addressCountry": "US"}}'),
                  "<h1>Lamps that last</h1>", shop_items([("Desk lamp", "$49.00"), ("Floor lamp", "$129.00")],
                                                         "Add to cart"),
                  links=(("/about", "About"), ("/contact", "Contact")),
                  footer="<p>&copy; 2024 Brightlamp, Inc.</p>"),
        "/contact": page("Contact Brightlamp", "<h1>Contact</h1><p>Brightlamp, Inc.<br>200 Market Street<br>"
                                               "San Francisco, CA 94105</p><p>(415) 555-0142</p>"),
        "/about": page("About Brightlamp", "<p>Designed in California.</p>"),
    },
    expect=Expect("A", "", location={"street": "200 Market Street", "city": "San Francisco", "region": "CA",
                                     "postcode": "94105", "country": "US"},
                  evidence=({"kind": "confirmation", "source": "tls-certificate", "value": "~EV certificate"},
                            {"kind": "certificate", "value": "Brightlamp, Inc.", "method": "subject_o"},
                            {"kind": "address", "page": "/", "method": "jsonld"})),
)

NORDWIND = CorpusSite(
    note="German company, Impressum in German, OV certificate naming it",
    cert=ov("Nordwind Technik GmbH", "DE", "Hamburg"),
    pages={
        "/": page("Nordwind Technik - Windmessgeräte", "<h1>Messtechnik aus Hamburg</h1>",
                  shop_items([("Anemometer A1", "249,00 €")], "In den Warenkorb"),
                  links=(("/ueber-uns", "Über uns"), ("/impressum", "Impressum"), ("/datenschutz", "Datenschutz")),
                  lang="de"),
        "/impressum": page("Impressum", "<h1>Impressum</h1><p>Angaben gemäß § 5 TMG</p>"
                                        "<p>Nordwind Technik GmbH<br>Hafenstraße 7<br>20457 Hamburg</p>"
                                        "<p>Registergericht: Amtsgericht Hamburg, HRB 98765</p>", lang="de"),
        "/ueber-uns": page("Über uns", "<p>Seit 1987 bauen wir Windmessgeräte.</p>", lang="de"),
    },
    expect=Expect("A", "", location={"name": "Nordwind Technik GmbH", "street": "Hafenstraße 7", "city": "Hamburg",
                                     "postcode": "20457", "country": "DE"},
                  evidence=({"kind": "confirmation", "source": "tls-certificate", "value": "~OV certificate"},
                            {"kind": "registration", "value": "~HRB 98765", "page": "/impressum"},
                            {"kind": "page", "page": "/impressum", "method": "imprint"})),
)

HARBOUR = CorpusSite(
    note="UK company not in the local registers; the remote GLEIF API has its LEI record",
    pages={
        "/": page("Harbour Lights Trading", "<h1>Marine chandlery</h1>",
                  shop_items([("Rope, 10 m", "£18.00"), ("Fender", "£22.50")]),
                  links=(("/contact", "Contact"),), footer="<p>&copy; Harbour Lights Trading Ltd</p>"),
        "/contact": page("Contact", "<h2>Our address</h2><p>Harbour Lights Trading Ltd<br>3 Quay Road<br>Plymouth<br>"
                                    "PL1 2AB</p>"),
    },
    expect=Expect("A", "", location={"street": "3 Quay Road", "city": "Plymouth", "postcode": "PL1 2AB"},
                  evidence=({"kind": "confirmation", "source": "gleif-api", "value": "~213800HARBOURLIGHT58"},
                            {"kind": "source_checked", "source": "gleif-api", "value": "~confirmed"},
                            {"kind": "source_checked", "source": "registers", "value": "~no match"})),
)

# -- Q: identified, not confirmed --------------------------------------------------------

KETTLE = CorpusSite(
    note="UK cafe shop; the bare name redirects to www.; not in any register",
    hosts=("kettle-and-crumb.co.uk", "www.kettle-and-crumb.co.uk"),
    pages={
        "/": Dynamic(lambda base: _www_redirect(base)),
        "/find-us": page("Find us", "<h1>Find us</h1><p>Kettle &amp; Crumb Ltd<br>27 Castle Street<br>Edinburgh<br>"
                                    "EH2 3DN</p>"),
    },
    expect=Expect("Q", "unverified", location={"street": "27 Castle Street", "city": "Edinburgh", "postcode": "EH2 3DN",
                                               "country": "GB"},
                  evidence=({"kind": "address", "page": "~://www.kettle-and-crumb.co.uk"},
                            {"kind": "source_checked", "value": "~no match"})),
)

OLD_MILL = CorpusSite(
    note="the register lists the company as dissolved: a name+postcode match that must not confirm",
    pages={
        "/": page("Old Mill Bakery", "<h1>Bread from Bath</h1>", shop_items([("Sourdough loaf", "£4.20")]),
                  links=(("/contact", "Contact"),), footer="<p>&copy; 2024 Old Mill Bakery Ltd</p>"),
        "/contact": page("Contact", "<h2>Address</h2><p>Old Mill Bakery Ltd<br>2 Mill Street<br>Bath<br>BA1 1AA</p>"),
    },
    expect=Expect("Q", "unverified", location={"postcode": "BA1 1AA"},
                  evidence=({"kind": "source_checked", "value": "~BA1 1AA: no match"},),
                  absent=({"kind": "confirmation"},)),
)

PINECREST = CorpusSite(
    note="US outfitter, address in running text and a tel: link",
    pages={
        "/": page("Pinecrest Outfitters", "<h1>Gear for the Green Mountains</h1>",
                  shop_items([("Tent", "$299.00"), ("Sleeping bag", "$149.00")], "Add to cart"),
                  links=(("/about-us", "About Us"),), footer="<p>&copy; 2024 Pinecrest Outfitters LLC</p>"),
        "/about-us": page("About Us", "<p>Pinecrest Outfitters LLC<br>48 Elm Street<br>Burlington, VT 05401</p>"
                                      '<p><a href="tel:+18025550188">(802) 555-0188</a></p>'),
    },
    expect=Expect("Q", "unverified", location={"street": "48 Elm Street", "city": "Burlington", "region": "VT",
                                               "postcode": "05401", "country": "US"},
                  evidence=({"kind": "phone", "value": "+18025550188", "page": "/about-us"},)),
)

# windows-1252 (Latin-1 with the euro sign) bytes announced as UTF-8 by the server: the charset sniffer must
# notice and read them as windows-1252, or "Bäckerei Müller" comes out mangled.
_MUELLER_NAV = (("/impressum.html", "Impressum"), ("/kontakt.html", "Kontakt"))
MUELLER = CorpusSite(
    note="German bakery, pages in windows-1252 but the Content-Type says UTF-8 (wrong charset)",
    pages={
        "/": Response(body=page("Bäckerei Müller", "<h1>Brot und Brezen</h1>",
                                shop_items([("Brezn", "0,90 €"), ("Bauernbrot", "4,20 €")], "In den Warenkorb"),
                                links=_MUELLER_NAV, lang="de", charset=None).encode("cp1252"),
                      content_type="text/html; charset=utf-8"),
        "/impressum.html": Response(body=page("Impressum", "<h1>Impressum</h1><p>Angaben gemäß § 5 TMG</p>"
                                                           "<p>Bäckerei Müller GmbH<br>Hauptstraße 12<br>80331 München</p>",
                                              lang="de", charset=None).encode("cp1252"),
                                    content_type="text/html; charset=utf-8"),
    },
    expect=Expect("Q", "unverified", location={"name": "Bäckerei Müller GmbH", "street": "Hauptstraße 12",
                                               "city": "München", "postcode": "80331", "country": "DE"},
                  evidence=({"kind": "name", "value": "Bäckerei Müller GmbH", "page": "/impressum.html"},)),
)

# windows-1252 with no charset anywhere: read as windows-1252 by the fallback.
_MARAIS_NAV = (("/mentions-legales", "Mentions légales"), ("/nous-contacter", "Nous contacter"), ("/panier", "Mon panier"))
MARAIS = CorpusSite(
    note="French bookshop, mentions légales in French, windows-1252 pages without any charset declaration",
    pages={
        "/": Response(body=page("Librairie du Marais", "<h1>Livres anciens et modernes</h1>",
                                shop_items([("Les Misérables", "12,00 €")], "Ajouter au panier"),
                                links=_MARAIS_NAV, lang="fr", charset=None).encode("cp1252"),
                      content_type="text/html"),
        "/mentions-legales": Response(body=page(
            "Mentions légales", "<h1>Mentions légales</h1><p>Raison sociale : Librairie du Marais SARL<br>"
                                "Siège social : 12 rue de la Paix, 75002 Paris<br>RCS Paris B 732 829 320</p>",
            lang="fr", charset=None).encode("cp1252"), content_type="text/html"),
    },
    expect=Expect("Q", "unverified", location={"name": "Librairie du Marais SARL", "street": "12 rue de la Paix",
                                               "city": "Paris", "postcode": "75002", "country": "FR"},
                  evidence=({"kind": "registration", "value": "~732829320", "page": "/mentions-legales"},
                            {"kind": "page", "page": "/mentions-legales", "method": "imprint"})),
)

MAPLE = CorpusSite(
    note="Canadian hardware store, schema.org microdata on the contact page",
    pages={
        "/": page("Maple Leaf Hardware", "<h1>Tools and more</h1>",
                  shop_items([("Hammer", "$24.99"), ("Saw", "$39.99")], "Add to cart"),
                  links=(("/contact", "Contact"),), lang="en-CA"),
        "/contact": page("Contact – Maple Leaf Hardware",
                         '<div itemscope itemtype="https://schema.org/HardwareStore"><h1 itemprop="name">Maple Leaf '
                         'Hardware</h1><meta itemprop="legalName" content="Maple Leaf Hardware Inc.">'
                         '<div itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">'
                         '<span itemprop="streetAddress">100 King St W</span>, <span itemprop="addressLocality">'
                         'Toronto</span>, <span itemprop="addressRegion">ON</span> <span itemprop="postalCode">'
                         'M5X 1A9</span></div><span itemprop="telephone">(416) 555-0199</span></div>', lang="en-CA"),
    },
    expect=Expect("Q", "unverified", location={"street": "100 King St W", "city": "Toronto", "region": "ON",
                                               "postcode": "M5X 1A9", "country": "CA"},
                  evidence=({"kind": "address", "method": "microdata", "page": "/contact"},)),
)

CLOUDY = CorpusSite(
    note="behind a CDN: the OV certificate names Cloudflare, Inc., which must not confirm the shop",
    cert=cdn(),
    pages={
        "/": page("Cloudy Candles", "<h1>Hand-poured candles</h1>", shop_items([("Soy candle", "£14.00")]),
                  links=(("/contact", "Contact"),), footer="<p>&copy; 2024 Cloudy Candles Ltd</p>"),
        "/contact": page("Contact", "<h2>Workshop address</h2><p>Cloudy Candles Ltd<br>8 Bridge Street<br>Cardiff<br>"
                                    "CF10 1EE</p>"),
    },
    expect=Expect("Q", "unverified", location={"postcode": "CF10 1EE"},
                  evidence=({"kind": "certificate", "value": "~Cloudflare, Inc.: a CDN", "method": "OV"},),
                  absent=({"kind": "confirmation"}, {"kind": "certificate", "method": "subject_o"})),
)

RESELLER = CorpusSite(
    note="an OV certificate of some other organisation must not confirm the site's business",
    cert=ov("Totally Different Holdings Ltd", "GB", "Leeds"),
    pages={
        "/": page("Reseller Direct", "<h1>Discount electricals</h1>", shop_items([("Kettle", "£19.99")]),
                  links=(("/contact", "Contact"),), footer="<p>&copy; 2024 Reseller Direct Ltd</p>"),
        "/contact": page("Contact", "<h2>Registered office</h2><p>Reseller Direct Ltd<br>9 Park Row<br>Leeds<br>LS1 5HD</p>"),
    },
    expect=Expect("Q", "unverified", location={"name": "Reseller Direct Ltd", "postcode": "LS1 5HD"},
                  evidence=({"kind": "certificate", "value": "~Totally Different Holdings Ltd: not the organisation"},),
                  absent=({"kind": "confirmation"},)),
)

_ALPEN_NAV = (("/de/impressum", "Impressum"), ("/fr/mentions-legales", "Mentions légales"))
ALPEN = CorpusSite(
    note="Swiss cheese shop with its identity pages in German and in French",
    pages={
        "/": page("Alpen Fromagerie", "<h1>Käse aus den Alpen – Fromages des Alpes</h1>",
                  shop_items([("Gruyère AOP 500 g", "CHF 14.50")], "In den Warenkorb"), links=_ALPEN_NAV, lang="de"),
        "/de/impressum": page("Impressum", "<h1>Impressum</h1><p>Alpen Fromagerie AG<br>Bahnhofstrasse 10<br>"
                                           "8001 Zürich<br>Schweiz</p>", lang="de"),
        "/fr/mentions-legales": page("Mentions légales", "<h1>Mentions légales</h1><p>Raison sociale : Alpen "
                                                         "Fromagerie AG<br>Siège social : Bahnhofstrasse 10, 8001 "
                                                         "Zürich, Suisse</p>", lang="fr"),
    },
    expect=Expect("Q", "unverified", location={"name": "Alpen Fromagerie AG", "street": "Bahnhofstrasse 10",
                                               "postcode": "8001", "country": "CH"},
                  evidence=({"kind": "name", "page": "/de/impressum"}, {"kind": "name", "page": "/fr/mentions-legales"},
                            {"kind": "address", "page": "/fr/mentions-legales"})),
)

RIVERSIDE = CorpusSite(
    note="no identity links on the home page: the pages are found through /sitemap.xml only",
    pages={
        "/": page("Riverside Pottery", "<h1>Stoneware for the kitchen</h1>",
                  shop_items([("Mug", "£16.00"), ("Bowl", "£22.00")])),
        "/sitemap.xml": Dynamic(lambda base: Response(body=sitemap_xml(
            [f"{base}/", f"{base}/shop/mugs", f"{base}/company/contact-us", f"{base}/blog/firing-day"]).encode(),
            content_type="application/xml")),
        "/company/contact-us": page("Contact us", "<h2>Studio address</h2><p>Riverside Pottery Ltd<br>5 Wharf Lane<br>"
                                                  "Bristol<br>BS1 6JQ</p>"),
    },
    expect=Expect("Q", "unverified", location={"street": "5 Wharf Lane", "postcode": "BS1 6JQ"},
                  evidence=({"kind": "sitemap", "page": "/sitemap.xml", "value": "4 URLs"},
                            {"kind": "page", "page": "/company/contact-us", "source": "sitemap"},
                            {"kind": "address", "page": "/company/contact-us"})),
)

OLDTOWN = CorpusSite(
    note="HTTPS is broken (certificate for another name): the site is rated over HTTP",
    cert=wrong_name(),
    pages={
        "/": page("Oldtown Hardware", "<h1>Nails, screws and advice</h1>",
                  shop_items([("Screws, 100", "$6.50")], "Add to cart"), links=(("/contact.html", "Contact"),),
                  footer="<p>&copy; 2024 Oldtown Hardware Co.</p>"),
        "/contact.html": page("Contact", "<p>Oldtown Hardware Co.<br>12 Main Street<br>Springfield, IL 62701</p>"),
    },
    expect=Expect("Q", "unverified", location={"street": "12 Main Street", "region": "IL", "postcode": "62701"},
                  evidence=({"kind": "site", "method": "http"}, {"kind": "fetch_error", "value": "~TLS failure"})),
)

SAVILE = CorpusSite(
    note="only www. resolves: the bare name is not in DNS",
    hosts=("www.savile-tailors.co.uk",),
    pages={
        "/": page("Savile Tailors", "<h1>Bespoke suits</h1>", shop_items([("Suit fitting", "£1,200.00")], "Book now"),
                  links=(("/contact", "Contact"),), footer="<p>&copy; Savile Tailors Ltd</p>"),
        "/contact": page("Contact", "<h2>Address</h2><p>Savile Tailors Ltd<br>14 Savile Row<br>London<br>W1S 3JN</p>"),
    },
    expect=Expect("Q", "unverified", location={"street": "14 Savile Row", "postcode": "W1S 3JN"},
                  evidence=({"kind": "site", "value": "~://www.savile-tailors.co.uk"},
                            {"kind": "fetch_error", "value": "~cannot resolve savile-tailors.co.uk"})),
)

# -- X ----------------------------------------------------------------------------------------------

GADGETHUB = CorpusSite(
    note="a shop with a checkout and no street address anywhere",
    pages={
        "/": page("GadgetHub – Cheap Gadgets", "<h1>Phone chargers</h1>",
                  shop_items([("USB-C charger", "$9.99"), ("Cable", "$4.99")], "Add to cart"),
                  links=(("/cart", "Cart"), ("/pages/contact", "Contact"), ("/pages/about-us", "About")),
                  head='<script src="https://js.stripe.com/v3/"></script>', footer="<p>&copy; 2024 GadgetHub</p>"),
        "/pages/contact": page("Contact", "<p>Questions? Email support@gadgethub-store.com</p>"),
        "/pages/about-us": page("About", "<p>We love gadgets.</p>"),
    },
    expect=Expect("X", "no_location", evidence=({"kind": "commerce", "value": "~commercial"},
                                                 {"kind": "selling", "method": "add_to_cart"}),
                  absent=({"kind": "address"},)),
)

EVIL_BANK = CorpusSite(
    note="on the plain phishing-domain list; looks like a real business (would be Q otherwise)",
    pages={
        "/": page("Evil Bank – Secure Login", "<h1>Sign in to online banking</h1>"
                                              '<form action="/login" method="post"><input name="user"><input '
                                              'type="password" name="pass"></form>',
                  links=(("/contact", "Contact"),), footer="<p>&copy; Evil Bank Ltd</p>"),
        "/contact": page("Contact", "<h2>Head office</h2><p>Evil Bank Ltd<br>1 Threadneedle Street<br>London<br>EC2R 8AH</p>"),
    },
    expect=Expect("X", "negative_info", evidence=({"kind": "blocklist", "source": "phishing-domains",
                                                   "value": "~evil-bank-login-sample.com"},
                                                  {"kind": "address", "page": "/contact"})),
)

ACCOUNT_VERIFY = CorpusSite(
    note="listed by the PhishTank dump; already gone (the name does not resolve): still negative_info",
    hosts=(),
    expect=Expect("X", "negative_info", evidence=({"kind": "blocklist", "source": "phishtank", "value": "~phish_id"},
                                                  {"kind": "fetch_error", "value": "~cannot resolve"})),
)

MEMBERS = CorpusSite(
    note="robots.txt disallows everything to every robot",
    pages={"/robots.txt": Response(body=b"User-agent: *\nDisallow: /\n", content_type="text/plain"),
           "/": page("Members Lounge", "<p>Members only</p>")},
    expect=Expect("X", "blocked", evidence=({"kind": "robots", "source": "robots.txt"},),
                  absent=({"kind": "page"},)),
)

BOTFREE = CorpusSite(
    note="robots.txt disallows SiteTruthBot by name and allows everyone else",
    pages={"/robots.txt": Response(body=b"User-agent: Googlebot\nAllow: /\n\nUser-agent: SiteTruthBot\nDisallow: /\n",
                                   content_type="text/plain"),
           "/": page("Botfree Boutique", shop_items([("Scarf", "$30.00")], "Add to cart"))},
    expect=Expect("X", "blocked", evidence=({"kind": "robots", "value": "~disallows SiteTruthBot"},)),
)

STAFF_ONLY = CorpusSite(
    note="robots.txt itself is refused (HTTP 403): taken as keep-out, as most crawlers do",
    pages={"/robots.txt": Response(403, b"<h1>Forbidden</h1>"), "/": page("Staff portal", "<p>Log in</p>")},
    expect=Expect("X", "blocked", evidence=({"kind": "robots", "value": "~answered HTTP 403"},),
                  absent=({"kind": "page"},)),
)

# -- U ----------------------------------------------------------------------------------------------

GARDEN = CorpusSite(
    note="a personal blog: one price in a post does not make it a shop",
    pages={
        "/": page("Notes from the Garden – a personal blog",
                  jsonld('{"@context":"https://schema.org","@type":"BlogPosting","headline":"Tomatoes in May",'
                         '"author":{"@type":"Person","name":"Jane Doe"}}'),
                  "<h1>Tomatoes in May</h1><p>The seedlings cost me $5 at the farmers market.</p>",
                  links=(("/about", "About me"), ("/archive", "Archive")),
                  head='<meta property="og:site_name" content="Notes from the Garden">',
                  footer="<p>&copy; 2023 Jane Doe. Powered by WordPress.</p>"),
        "/about": page("About me", "<p>I garden in Vermont.</p>"),
    },
    expect=Expect("U", "non_commercial", evidence=({"kind": "page", "page": "/about", "method": "about"},),
                  absent=({"kind": "address"},)),
)

NO_SUCH = CorpusSite(note="the name does not resolve at all", hosts=(),
                     expect=Expect("U", "no_website", evidence=({"kind": "fetch_error", "value": "~cannot resolve"},)))

REFUSED = CorpusSite(
    note="the name resolves (operator mapping) but nothing listens: connection refused on every port",
    address="127.0.0.2",
    expect=Expect("U", "no_website", evidence=({"kind": "fetch_error", "value": "~cannot connect"},)),
)

PARKED = CorpusSite(
    note="a server answers, but the home page is a 404",
    pages={"/robots.txt": ROBOTS_ALLOW},
    expect=Expect("U", "no_website", evidence=({"kind": "fetch_error", "value": "~home page answered HTTP 404"},),
                  absent=({"kind": "page"},)),
)


def _www_redirect(base: str) -> Response:
    """The bare name sends visitors to www.; the www. name serves the home page."""
    scheme, rest = base.split("://", 1)
    if not rest.startswith("www."):
        return Response(301, b"", content_type=None, headers={"Location": f"{scheme}://www.{rest}/"})
    return Response(body=page("Kettle & Crumb", "<h1>Cakes, bakes and tea</h1>",
                              shop_items([("Victoria sponge", "£18.00")]), links=(("/find-us", "Find us"),),
                              footer="<p>&copy; 2024 Kettle &amp; Crumb Ltd</p>").encode())


CORPUS: dict[str, CorpusSite] = {
    "acme-widgets.co.uk": ACME,
    "glencoe-outdoor.co.uk": GLENCOE,
    "brightlamp.com": BRIGHTLAMP,
    "nordwind-technik.de": NORDWIND,
    "harbour-lights.co.uk": HARBOUR,
    "kettle-and-crumb.co.uk": KETTLE,
    "old-mill-bakery.co.uk": OLD_MILL,
    "pinecrest-outfitters.com": PINECREST,
    "baeckerei-mueller.de": MUELLER,
    "librairie-du-marais.fr": MARAIS,
    "mapleleaf-hardware.ca": MAPLE,
    "cloudy-candles.co.uk": CLOUDY,
    "reseller-direct.co.uk": RESELLER,
    "alpen-fromagerie.ch": ALPEN,
    "riverside-pottery.co.uk": RIVERSIDE,
    "oldtown-hardware.com": OLDTOWN,
    "savile-tailors.co.uk": SAVILE,
    "gadgethub-store.com": GADGETHUB,
    "evil-bank-login-sample.com": EVIL_BANK,
    "account-verify-sample.com": ACCOUNT_VERIFY,
    "members-lounge.co.uk": MEMBERS,
    "botfree-boutique.com": BOTFREE,
    "staff-only-portal.com": STAFF_ONLY,
    "notes-from-the-garden.org": GARDEN,
    "no-such-shop.co.uk": NO_SUCH,
    "refused-connection.com": REFUSED,
    "parked-nothing.net": PARKED,
}

# Requests that are not sites at all: what the broker might still send.
NOT_SITES: dict[str, Expect] = {
    "192.0.2.1": Expect("U", "bad_url", evidence=({"kind": "rule", "value": "~IP address literal"},)),
    "co.uk": Expect("U", "no_domain", evidence=({"kind": "rule", "value": "~public suffix"},)),
}

# LEI records the loopback GLEIF API serves (JSON:API, as api.gleif.org/api/v1/lei-records).
GLEIF_RECORDS: tuple[dict, ...] = (
    {"lei": "213800HARBOURLIGHT58", "name": "HARBOUR LIGHTS TRADING LIMITED", "postcode": "PL1 2AB",
     "country": "GB", "city": "Plymouth", "lines": ["3 QUAY ROAD"], "registered_as": "09876543"},
    {"lei": "213800ACMEWIDGET0166", "name": "ACME WIDGETS NORTH LIMITED", "postcode": "LS1 4AP",
     "country": "GB", "city": "Leeds", "lines": ["1 NORTH STREET"], "registered_as": "07654321"},
)
