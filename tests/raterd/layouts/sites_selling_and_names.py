"""Fixture sites: parked and for-sale domains, businesses named without a legal form, shops in Korean, Hungarian,
Brazilian Portuguese, Japanese and Traditional Chinese.

Written the way such sites are: a domain marketplace's lander with its price,
"Buy now" and its operator's imprint; a parking page of sponsored listings;
small shops whose contact block is headed by their trading name with no
"Ltd" in sight; shops whose only selling words are in their own language.
The registers know two of the companies (``COMPANIES``): one is the site's
own business, the other a stockist that a site merely lists.
"""

from __future__ import annotations

from html import escape

from tests.raterd.corpus import CorpusSite, Expect
from tests.raterd.fixtures import Response


def doc(title: str, body: str, *, lang: str = "en", head: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
            f"{head}</head>\n<body>{body}</body></html>\n")


ROBOTS = Response(body=b"User-agent: *\nDisallow: /cart\nDisallow: /checkout\n", content_type="text/plain")

# -- parked and for-sale domains ----------------------------------------------------------------------

# A domain marketplace's lander: the same page for every path, a price, "Buy now", the operator's imprint
# (whose address and legal form would make a Q if the page were taken for the site's own).
DAN_LANDER = doc("kayak-corner.com is for sale", """
<header><a class="logo" href="https://dan.com/">dan.com</a></header>
<main class="lander">
  <h1>kayak-corner.com</h1>
  <p class="lead">This domain is for sale!</p>
  <section class="price-box">
    <div class="option"><span class="label">Buy now</span><strong class="amount">$2,999</strong> <span>USD</span></div>
    <div class="option"><span class="label">Lease to own</span><strong class="amount">$125</strong>/month</div>
    <form action="https://dan.com/buy-domain/kayak-corner.com" method="get">
      <input type="hidden" name="redirected" value="true">
      <button type="submit" class="btn btn-primary">Buy now</button>
    </form>
    <p><a href="https://dan.com/buy-domain/kayak-corner.com?make_offer=1">Make an offer</a></p>
  </section>
  <ul class="usp"><li>Buyer Protection program</li><li>Fast &amp; easy transfers</li><li>Hassle free payments</li></ul>
</main>
<footer>
  <nav><a href="/privacy">Privacy policy</a> · <a href="/terms">Terms</a> · <a href="/contact">Contact</a></nav>
  <p>Undeveloped BV · Keizersgracht 123 · 1015 CJ Amsterdam · The Netherlands</p>
</footer>""", head='<link rel="stylesheet" href="https://dan.com/lander/css/app.css">')

PARKED_FOR_SALE = CorpusSite(
    note="a domain marketplace's for-sale lander with a price and a Buy now button, served for every path",
    pages={"/robots.txt": ROBOTS, "/": DAN_LANDER},
    expect=Expect("U", "non_commercial",
                  evidence=({"kind": "parked", "method": "for_sale", "page": "/"},
                            {"kind": "rule", "value": "~parked or for-sale"},
                            {"kind": "selling", "method": "add_to_cart"},
                            {"kind": "commerce", "value": "~not commercial: parked domain"}),
                  absent=({"kind": "confirmation"},)),
)

SPONSORED_LISTINGS = doc("blue-lagoon-travel.net", """
<div id="container">
  <div id="domain"><h1>blue-lagoon-travel.net</h1>
    <p>This domain may be for sale. <a href="https://sedo.com/search/details/?partnerid=324561&amp;domain=blue-lagoon-travel.net">Inquire now</a></p>
  </div>
  <div id="ads">
    <h2>Related Searches</h2>
    <ul>
      <li><a href="/?q=Cheap+Flights&amp;afdToken=x1">Cheap Flights</a><span>Fly to Iceland from £49</span></li>
      <li><a href="/?q=Holiday+Packages&amp;afdToken=x2">Holiday Packages</a><span>All inclusive from £299</span></li>
      <li><a href="/?q=Spa+Hotels&amp;afdToken=x3">Spa Hotels</a><span>Two nights from £189</span></li>
      <li><a href="/?q=Car+Rental&amp;afdToken=x4">Car Rental</a></li>
    </ul>
  </div>
  <p class="disclaimer">The Sponsored Listings displayed above are served automatically by a third party.
  Neither the service provider nor the domain owner maintain any relationship with the advertisers.</p>
  <p><a href="/privacy.html">Privacy Policy</a></p>
</div>
<script type="text/javascript" src="//www.google.com/adsense/domains/caf.js"></script>""")

PARKED_ADS = CorpusSite(
    note="a parking page of sponsored listings with prices in the ads",
    pages={"/robots.txt": ROBOTS, "/": SPONSORED_LISTINGS},
    expect=Expect("U", "non_commercial",
                  evidence=({"kind": "parked", "method": "parking_ads", "page": "/"},
                            {"kind": "parked", "method": "for_sale", "value": "this domain may be for sale"},
                            {"kind": "parked", "method": "parking_service", "value": "sedo.com/search"})),
)

# -- businesses named without a legal form ---------------------------------------------------------------

_BH_NAV = ('<nav><a href="/">Home</a> <a href="/shop">Shop</a> <a href="/rentals">Rentals</a> '
           '<a href="/about">About</a> <a href="/contact">Contact</a> <a href="/cart">Cart (0)</a></nav>')
BLUE_HERON = CorpusSite(
    note="a US shop whose contact block is headed by its name, 'Blue Heron Kayak Company', with no legal form",
    pages={
        "/robots.txt": ROBOTS,
        "/": doc("Blue Heron Kayaks – Sea kayaks & touring gear", f"""<header>{_BH_NAV}</header>
<main><h1>Sea kayaks for the Salish Sea</h1>
<div class="grid">
  <div class="card"><h2>Touring kayak 16'</h2><p class="price">$2,450.00</p><button class="add">Add to cart</button></div>
  <div class="card"><h2>Carbon paddle</h2><p class="price">$329.00</p><button class="add">Add to cart</button></div>
  <div class="card"><h2>Spray skirt</h2><p class="price">$119.00</p><button class="add">Add to cart</button></div>
</div></main>
<footer><p>Free shipping on paddles over $150.</p><p>&copy; 2024 All rights reserved.</p></footer>"""),
        "/contact": doc("Contact", f"""<header>{_BH_NAV}</header>
<main><h1>Contact us</h1>
<p>Questions about a boat or a rental? Call us or drop by the shop.</p>
<div class="contact-block">
  <h2>Blue Heron Kayak Company</h2>
  <p>112 Harbor Road<br>Port Townsend, WA 98368<br>United States</p>
  <p>Phone: <a href="tel:+13605550147">(360) 555-0147</a></p>
  <h3>Opening hours</h3><p>Tuesday to Saturday, 10am to 6pm</p>
</div></main>"""),
        "/about": doc("About", f"<header>{_BH_NAV}</header><main><h1>About</h1><p>Paddlers since 1994.</p></main>"),
    },
    expect=Expect("Q", "unverified",
                  location={"name": "Blue Heron Kayak Company", "street": "112 Harbor Road", "city": "Port Townsend",
                            "region": "WA", "postcode": "98368", "country": "US"},
                  evidence=({"kind": "name", "value": "Blue Heron Kayak Company", "method": "address_heading",
                             "page": "/contact"},
                            {"kind": "source_checked", "value": "~98368: no match"})),
)

_TT_NAV = ('<nav><a href="/">Home</a> <a href="/teas">Our teas</a> <a href="/contact-us">Contact us</a> '
           '<a href="/basket">Basket</a></nav>')
TAMARISK = CorpusSite(
    note="a UK tea shop named without 'Limited'; Companies House has TAMARISK TEA COMPANY LIMITED at its postcode",
    pages={
        "/": doc("Tamarisk Tea – loose leaf tea from Yorkshire", f"""<header>{_TT_NAV}</header>
<main><h1>Loose leaf tea, blended in Hebden Bridge</h1>
<ul class="products">
  <li><h2>Yorkshire Breakfast, 100 g</h2><span class="price">£6.50</span><button>Add to basket</button></li>
  <li><h2>Moorland Green, 100 g</h2><span class="price">£7.25</span><button>Add to basket</button></li>
</ul></main><footer><p>Orders before 2pm ship the same day.</p></footer>""", lang="en-GB"),
        "/contact-us": doc("Contact us", f"""<header>{_TT_NAV}</header>
<main><h1>Get in touch</h1>
<section><h2>Tamarisk Tea Company</h2><p>3 Crown Street<br>Hebden Bridge<br>HX7 8EH</p>
<p>Shop open Wednesday to Sunday.</p></section></main>""", lang="en-GB"),
    },
    expect=Expect("A", "",
                  location={"name": "Tamarisk Tea Company", "street": "3 Crown Street", "postcode": "HX7 8EH",
                            "country": "GB"},
                  evidence=({"kind": "confirmation", "source": "companies-house", "value": "~11223344"},
                            {"kind": "name", "method": "address_heading", "page": "/contact-us"})),
)

NORDLYS = CorpusSite(
    note="a Norwegian ceramics shop; its <address> starts with its name, 'Nordlys Keramikk', with no 'AS'",
    pages={
        "/": doc("Nordlys Keramikk – håndlaget keramikk fra Oslo", """
<header><nav><a href="/">Hjem</a> <a href="/butikk">Butikk</a> <a href="/om-oss">Om oss</a> <a href="/kontakt">Kontakt</a>
<a href="/handlekurv">Handlekurv (0)</a></nav></header>
<main><h1>Håndlaget keramikk</h1>
<div class="produkt"><h2>Kopp, nordlysglasur</h2><p class="pris">kr 449,-</p><button>Legg i handlekurv</button></div>
<div class="produkt"><h2>Serveringsfat</h2><p class="pris">1 290,00 kr</p><button>Legg i handlekurv</button></div>
</main><footer><p>Fri frakt over kr 1 000</p></footer>""", lang="nb"),
        "/kontakt": doc("Kontakt", """
<header><nav><a href="/">Hjem</a> <a href="/kontakt">Kontakt</a></nav></header>
<main><h1>Kontakt oss</h1>
<address><strong>Nordlys Keramikk</strong><br>Storgata 12<br>0155 Oslo<br>Norge</address>
<p>Telefon: <a href="tel:+4722123456">22 12 34 56</a></p></main>""", lang="nb"),
    },
    expect=Expect("Q", "unverified",
                  location={"name": "Nordlys Keramikk", "street": "Storgata 12", "postcode": "0155", "country": "NO"},
                  evidence=({"kind": "name", "value": "Nordlys Keramikk", "method": "address_heading",
                             "page": "/kontakt"},)),
)

_HC_NAV = ('<nav><a href="/">Home</a> <a href="/canoes">Canoes</a> <a href="/about-us">About us</a> '
           '<a href="/contact">Contact</a> <a href="/basket">Basket</a></nav>')
HARBOURSIDE = CorpusSite(
    note="a canoe maker that lists its stockists (one of them registered) next to its own name and address",
    pages={
        "/": doc("Harbourside Canoes – handmade canoes from Bristol", f"""<header>{_HC_NAV}</header>
<main><h1>Cedar-strip canoes, built by hand</h1>
<div class="product"><h2>Prospector 16</h2><p>£3,950.00</p><button>Add to basket</button></div>
<div class="product"><h2>Canoe paddle, ash</h2><p>£145.00</p><button>Add to basket</button></div></main>
<footer><p>Harbourside Canoes · 7 Quay Street · Bristol BS1 4DB</p></footer>""", lang="en-GB"),
        "/contact": doc("Contact", f"""<header>{_HC_NAV}</header>
<main><h1>Contact</h1><h2>Harbourside Canoes</h2><p>7 Quay Street<br>Bristol<br>BS1 4DB</p>
<p>Workshop visits by appointment.</p></main>""", lang="en-GB"),
        "/about-us": doc("About us", f"""<header>{_HC_NAV}</header>
<main><h1>About us</h1><p>We have built canoes on Bristol's harbourside since 2009.</p>
<p>You can also try and buy our canoes at these shops:</p>
<h3>Riverside Paddle Sports</h3><p>22 Canal Street<br>Manchester<br>M1 3HE</p>
<h3>Lakeland Kayaks</h3><p>5 Lake Road<br>Bowness-on-Windermere<br>LA23 3AP</p></main>""", lang="en-GB"),
    },
    expect=Expect("Q", "unverified",
                  location={"name": "Harbourside Canoes", "street": "7 Quay Street", "postcode": "BS1 4DB",
                            "country": "GB"},
                  evidence=({"kind": "source_checked", "value": "~'Harbourside Canoes' + M1 3HE: no match"},),
                  absent=({"kind": "confirmation"}, {"kind": "name", "value": "Riverside Paddle Sports"})),
)

# -- shops whose selling words are in their own language ---------------------------------------------------

HANEUL = CorpusSite(
    note="a Korean tea shop: 장바구니 담기 / 바로구매 buttons, prices in 원 and ₩, the legally required footer",
    pages={
        "/": doc("하늘다원 - 제주 유기농 녹차", """
<div id="top"><ul class="util"><li><a href="/member/login.html">로그인</a></li><li><a href="/member/join.html">회원가입</a></li>
<li><a href="/order/basket.html">장바구니 <span class="count">0</span></a></li><li><a href="/myshop/order/list.html">주문조회</a></li></ul></div>
<div id="contents"><h2>이달의 추천 상품</h2>
<ul class="prdList">
  <li><p class="name">제주 유기농 녹차 50g</p><p class="price">18,000원</p>
      <div class="btn"><button type="button">장바구니 담기</button><button type="button">바로구매</button></div></li>
  <li><p class="name">세작 선물세트</p><p class="price">₩32,000</p>
      <div class="btn"><button type="button">장바구니 담기</button><button type="button">바로구매</button></div></li>
  <li><p class="name">현미녹차 티백 25입</p><p class="price">9,900원</p></li>
</ul></div>
<div id="footer"><p>상호: 하늘다원 | 대표: 김민준 | 사업자등록번호: 123-45-67890 | 통신판매업신고: 제2024-서울마포-1234호</p>
<p>주소: 서울특별시 마포구 월드컵북로 396 (우: 04001) | 고객센터: 02-1234-5678</p>
<p><a href="/member/agreement.html">이용약관</a> <a href="/member/privacy.html">개인정보처리방침</a></p></div>""", lang="ko"),
    },
    expect=Expect("X", "no_location",  # the test accepts Q as well: the address is another extractor's
                  evidence=({"kind": "selling", "method": "add_to_cart", "value": "장바구니 담기"},
                            {"kind": "selling", "method": "price", "value": "18,000원"})),
)

ZOLDTEA = CorpusSite(
    note="a Hungarian tea shop: Kosárba buttons, prices in Ft, Kosár and Pénztár links",
    pages={
        "/": doc("Zöldtea Ház – prémium teák webáruháza", """
<header><nav><a href="/">Főoldal</a> <a href="/teak">Teák</a> <a href="/kapcsolat">Kapcsolat</a>
<a href="/kosar">Kosár (0)</a> <a href="/penztar">Pénztár</a></nav></header>
<main><h1>Prémium zöld teák</h1>
<div class="termek"><h2>Sencha Kagoshima, 100 g</h2><span class="ar">4 990 Ft</span><button type="submit">Kosárba</button></div>
<div class="termek"><h2>Gyokuro, 50 g</h2><span class="ar">7 490 Ft</span><button type="submit">Kosárba</button></div>
<div class="termek"><h2>Matcha, 30 g</h2><span class="ar">5 290 Ft</span><button type="submit">Kosárba</button></div>
</main>
<footer><p>Zöldtea Ház Kft. · 1052 Budapest, Váci utca 12. · Adószám: 12345678-2-41</p>
<p>Ingyenes szállítás 15 000 Ft felett</p></footer>""", lang="hu"),
    },
    expect=Expect("X", "no_location",  # the test accepts Q as well
                  evidence=({"kind": "selling", "method": "add_to_cart", "value": "kosarba"},
                            {"kind": "selling", "method": "cart_link", "value": "/kosar"},
                            {"kind": "selling", "method": "price", "value": "4 990 Ft"})),
)

SERRA_AZUL = CorpusSite(
    note="a Brazilian coffee shop: Adicionar ao carrinho, R$ prices, Meu carrinho and Finalizar compra",
    pages={
        "/": doc("Café Serra Azul | Cafés especiais da Mantiqueira", """
<header><nav><a href="/">Início</a> <a href="/cafes">Cafés</a> <a href="/contato">Contato</a>
<a href="/carrinho">Meu carrinho</a></nav></header>
<main><h1>Cafés especiais direto da fazenda</h1>
<div class="produto"><h2>Café em grãos Bourbon Amarelo 250g</h2><p class="preco">R$ 49,90</p>
  <p class="parcelas">ou 3x de R$ 16,63 sem juros</p><button type="submit">Adicionar ao carrinho</button></div>
<div class="produto"><h2>Café moído Catuaí 500g</h2><p class="preco">R$ 72,00</p>
  <button type="submit">Comprar</button></div>
<p><a class="btn" href="/checkout/v3/start">Finalizar compra</a></p>
</main>
<footer><p>Café Serra Azul Comércio de Alimentos Ltda. · CNPJ 12.345.678/0001-90</p>
<p>Rua Augusta, 1500 – Consolação, São Paulo – SP, CEP 01304-001</p></footer>""", lang="pt-BR"),
    },
    expect=Expect("X", "no_location",  # the test accepts Q as well
                  evidence=({"kind": "selling", "method": "add_to_cart", "value": "adicionar ao carrinho"},
                            {"kind": "selling", "method": "price", "value": "R$ 49,90"})),
)

MIDORI = CorpusSite(
    note="a Japanese tea shop: カートに入れる buttons, prices as ¥3,980(税込) and 1,620円, a カート link",
    pages={
        "/": doc("緑茶園オンラインショップ｜静岡の深蒸し茶", """
<header><nav><a href="/">ホーム</a> <a href="/shop/">商品一覧</a> <a href="/company/">会社概要</a>
<a href="/cart/">カート</a></nav></header>
<main><h1>静岡・牧之原の深蒸し茶</h1>
<div class="item"><h2>特上深蒸し煎茶 100g</h2><p class="price">¥3,980(税込)</p>
  <form action="/cart/add/" method="post"><button type="submit">カートに入れる</button></form></div>
<div class="item"><h2>ほうじ茶ティーバッグ 20包</h2><p class="price">1,620円（税込）</p>
  <form action="/cart/add/" method="post"><button type="submit">カートに入れる</button></form></div>
</main><footer><p>5,400円以上のご購入で送料無料</p></footer>""", lang="ja"),
    },
    expect=Expect("X", "no_location",  # the test accepts Q as well
                  evidence=({"kind": "selling", "method": "add_to_cart", "value": "カートに入れる"},
                            {"kind": "selling", "method": "price", "value": "¥3,980"})),
)

TAI_PING = CorpusSite(
    note="a Hong Kong tea shop in Traditional Chinese: 加入購物車 buttons, HK$ prices, a 購物車 link",
    pages={
        "/": doc("太平茶莊 | 網上商店", """
<header><nav><a href="/">主頁</a> <a href="/products">所有產品</a> <a href="/pages/contact">聯絡我們</a>
<a href="/cart">購物車 (0)</a></nav></header>
<main><h1>雲南普洱茶</h1>
<div class="product"><h2>熟普洱茶餅 357克</h2><span class="price">HK$380.00</span><button>加入購物車</button></div>
<div class="product"><h2>鐵觀音 150克</h2><span class="price">HK$168.00</span><button>加入購物車</button></div>
</main><footer><p>訂單滿HK$500免運費</p></footer>""", lang="zh-Hant-HK"),
    },
    expect=Expect("X", "no_location",  # the test accepts Q as well
                  evidence=({"kind": "selling", "method": "add_to_cart", "value": "加入購物車"},
                            {"kind": "selling", "method": "price", "value": "HK$380.00"})),
)

SITES: dict[str, CorpusSite] = {
    "kayak-corner.com": PARKED_FOR_SALE,
    "blue-lagoon-travel.net": PARKED_ADS,
    "blueheron-kayaks.com": BLUE_HERON,
    "tamarisk-tea.co.uk": TAMARISK,
    "nordlys-keramikk.no": NORDLYS,
    "harbourside-canoes.co.uk": HARBOURSIDE,
    "haneul-dawon.co.kr": HANEUL,
    "zoldtea-haz.hu": ZOLDTEA,
    "cafeserraazul.com.br": SERRA_AZUL,
    "midori-chaen.jp": MIDORI,
    "taiping-tea.com.hk": TAI_PING,
}
# Every path of a parked domain answers with the lander, as parking services do.
CATCH_ALL = {"kayak-corner.com": Response(body=DAN_LANDER.encode("utf-8")),
             "blue-lagoon-travel.net": Response(body=SPONSORED_LISTINGS.encode("utf-8"))}
SHOPS_IN_THEIR_LANGUAGE = ("haneul-dawon.co.kr", "zoldtea-haz.hu", "cafeserraazul.com.br", "midori-chaen.jp",
                           "taiping-tea.com.hk")

# Companies House rows: the tea shop's own company, and a stockist that another site lists.
_ROW = {"CompanyCategory": "Private Limited Company", "CompanyStatus": "Active", "CountryOfOrigin": "United Kingdom",
        "RegAddress.Country": "ENGLAND", "IncorporationDate": "14/03/2016"}
COMPANIES = (
    {**_ROW, "CompanyName": "TAMARISK TEA COMPANY LIMITED", "CompanyNumber": "11223344",
     "RegAddress.AddressLine1": "3 CROWN STREET", "RegAddress.PostTown": "HEBDEN BRIDGE", "RegAddress.PostCode": "HX7 8EH"},
    {**_ROW, "CompanyName": "RIVERSIDE PADDLE SPORTS LIMITED", "CompanyNumber": "10987654",
     "RegAddress.AddressLine1": "22 CANAL STREET", "RegAddress.PostTown": "MANCHESTER", "RegAddress.PostCode": "M1 3HE"},
)
