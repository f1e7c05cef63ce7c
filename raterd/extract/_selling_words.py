"""The words shops use for "add to cart", "cart", "checkout", "buy" and "order", per language.

Read by :mod:`raterd.extract.commerce`, which matches the *whole* text of
a button or link (not a substring) against these sets, after folding both
sides with :func:`fold_words`: "In den Warenkorb" and "IN DEN WARENKORB",
"Añadir al carrito" and "Anadir al carrito", "Læg i kurv" and "Laeg i kurv"
are one phrase.  Whole-text matching is what keeps a news article that says
"add to cart" in a sentence from looking like a shop.

The phrases are what the shop software of each market prints on its
buttons (Shopify, WooCommerce, Shopware, PrestaShop, Magento and the local
platforms: Cafe24 and Godomall in Korea, UNAS and ShopRenter in Hungary,
Nuvemshop and VTEX in Brazil, Shoptet in Czechia and Slovakia, Shoper and
IdoSell in Poland, MakeShop and BASE in Japan, Shopline in Hong Kong).

Three strengths, matching the signal weights in ``commerce.py``:

* ``ADD_TO_CART``: a phrase that only a shop prints ("Lägg i varukorgen",
  "장바구니 담기", "カートに入れる");
* ``BUY_VERBS``: a bare "buy" ("Köp", "Kup", "Comprar", "구매하기", "購入する"):
  on a button it is a shop's add-to-cart; as a link it may be an author's
  "buy" link to somebody else's shop, so it only counts as an order link;
* ``CART`` (link texts to the cart or checkout) and ``ORDER`` ("Order now",
  "Bestil", "Objednat", "주문하기").
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold_words", "ADD_TO_CART", "BUY_VERBS", "CART", "ORDER", "CART_PATH_WORDS"]

# Letters NFKD does not decompose, spelled the way a keyboard without them would.
_LETTERS = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ł": "l", "Ł": "l",
                          "đ": "d", "Đ": "d", "ß": "ss", "ẞ": "ss", "þ": "th", "ı": "i"})
_NOT_WORD = re.compile(r"[\W_]+")


def fold_words(text: str) -> str:
    """Case-, accent- and punctuation-blind form that keeps every script's letters.

    ``"Kosárba  teszem!"`` -> ``"kosarba teszem"``; ``"장바구니 담기"`` stays
    ``"장바구니 담기"``; full-width and half-width forms become ordinary ones.
    """
    if text.isascii():  # most buttons: nothing to decompose
        return " ".join(_NOT_WORD.sub(" ", text.lower()).split())
    text = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    # NFC puts Hangul syllables back together after NFKD took them apart.
    return " ".join(_NOT_WORD.sub(" ", unicodedata.normalize("NFC", text)).split())


def _phrases(*groups: str) -> frozenset[str]:
    """One phrase per line of each group, folded."""
    return frozenset(fold_words(line) for group in groups for line in group.strip().splitlines() if line.strip())


ADD_TO_CART = _phrases(
    # English: US, GB, CA, IE, NZ, AU, SG, ZA, HK
    """
    add to cart
    add to basket
    add to bag
    add to trolley
    add to shopping cart
    add to shopping bag
    add to shopping basket
    add to order
    buy now
    buy it now
    purchase now
    """,
    # German: DE, AT, CH, LU
    """
    in den warenkorb
    in den warenkorb legen
    zum warenkorb hinzufügen
    in den einkaufswagen
    in die einkaufstasche
    jetzt kaufen
    sofort kaufen
    """,
    # French: FR, CA, CH, BE, LU
    """
    ajouter au panier
    ajouter au chariot
    ajouter à mon panier
    mettre au panier
    acheter maintenant
    acheter tout de suite
    """,
    # Italian: IT, CH
    """
    aggiungi al carrello
    metti nel carrello
    acquista ora
    acquista subito
    compra ora
    compra subito
    """,
    # Spanish: ES, MX
    """
    añadir al carrito
    agregar al carrito
    añadir a la cesta
    agregar a la bolsa
    añadir a la bolsa
    comprar ahora
    comprar ya
    """,
    # Dutch: NL, BE
    """
    in winkelwagen
    in winkelmand
    in mijn winkelwagen
    in winkelwagentje
    toevoegen aan winkelwagen
    toevoegen aan winkelmand
    voeg toe aan winkelwagen
    koop nu
    bestel nu
    """,
    # Portuguese: PT, BR
    """
    adicionar ao carrinho
    adicionar ao cesto
    adicionar à sacola
    adicionar ao saco
    comprar agora
    """,
    # Swedish, Danish, Norwegian, Finnish
    """
    lägg i varukorgen
    lägg i varukorg
    lägg i korgen
    lägg till i varukorgen
    köp nu
    læg i kurv
    læg i kurven
    læg i indkøbskurv
    tilføj til kurv
    køb nu
    legg i handlekurv
    legg i handlekurven
    legg i handlevogn
    legg i kurv
    kjøp nå
    lisää ostoskoriin
    lisää koriin
    osta nyt
    """,
    # Polish, Czech, Slovak, Hungarian
    """
    dodaj do koszyka
    do koszyka
    kup teraz
    přidat do košíku
    vložit do košíku
    do košíku
    koupit nyní
    pridať do košíka
    vložiť do košíka
    do košíka
    kúpiť teraz
    kosárba
    kosárba teszem
    kosárba rakom
    kosárba tesz
    a kosárba
    hozzáadás a kosárhoz
    """,
    # Afrikaans (ZA)
    """
    voeg by mandjie
    voeg by trollie
    koop nou
    """,
    # Korean, Chinese (Traditional: HK, TW; Simplified), Japanese
    """
    장바구니 담기
    장바구니에 담기
    장바구니에 추가
    카트에 추가
    카트에 담기
    바로구매
    바로 구매
    바로구매하기
    바로 구매하기
    加入購物車
    加入購物籃
    放入購物車
    立即購買
    馬上購買
    加入购物车
    立即购买
    カートに入れる
    カートに追加
    カートに追加する
    買い物かごに入れる
    買い物カゴに入れる
    かごに入れる
    今すぐ購入
    """,
)

BUY_VERBS = _phrases(
    """
    buy
    purchase
    kaufen
    acheter
    acquista
    compra
    comprar
    kopen
    koop
    köp
    køb
    kjøp
    osta
    kup
    kupuję
    koupit
    kúpiť
    megveszem
    megrendelem
    구매
    구매하기
    購買
    购买
    購入
    購入する
    """,
)

CART = _phrases(
    """
    cart
    basket
    bag
    trolley
    my cart
    my basket
    my bag
    my trolley
    your cart
    your basket
    your bag
    view cart
    view basket
    view bag
    shopping cart
    shopping basket
    shopping bag
    checkout
    check out
    proceed to checkout
    go to checkout
    secure checkout
    """,
    """
    warenkorb
    mein warenkorb
    zum warenkorb
    warenkorb anzeigen
    einkaufswagen
    kasse
    zur kasse
    zur kasse gehen
    """,
    """
    panier
    mon panier
    voir le panier
    voir mon panier
    chariot
    mon chariot
    caisse
    passer la commande
    passer commande
    valider mon panier
    valider la commande
    commander
    """,
    """
    carrello
    il mio carrello
    vai al carrello
    cassa
    vai alla cassa
    procedi all'acquisto
    procedi al checkout
    concludi ordine
    """,
    """
    carrito
    mi carrito
    ver carrito
    cesta
    mi cesta
    ver cesta
    mi bolsa
    tramitar pedido
    finalizar compra
    finalizar pedido
    ir a pagar
    """,
    """
    winkelwagen
    winkelmand
    winkelmandje
    winkelwagentje
    mijn winkelwagen
    afrekenen
    naar de kassa
    """,
    """
    carrinho
    meu carrinho
    ver carrinho
    o meu carrinho
    cesto
    o meu cesto
    sacola
    minha sacola
    finalizar a compra
    ir para o carrinho
    """,
    """
    varukorg
    varukorgen
    kundvagn
    kassa
    kassan
    till kassan
    gå till kassan
    kurv
    kurven
    indkøbskurv
    din kurv
    kassen
    til kassen
    gå til kassen
    handlekurv
    handlekurven
    handlevogn
    ostoskori
    ostoskorisi
    kori
    kassalle
    siirry kassalle
    """,
    """
    koszyk
    mój koszyk
    twój koszyk
    przejdź do kasy
    do kasy
    kasa
    košík
    nákupní košík
    pokladna
    k pokladně
    přejít k pokladně
    nákupný košík
    pokladňa
    k pokladni
    prejsť k pokladni
    kosár
    kosaram
    a kosaram
    kosár megtekintése
    pénztár
    tovább a pénztárhoz
    megrendelés
    """,
    """
    mandjie
    my mandjie
    trollie
    betaalpunt
    """,
    """
    장바구니
    카트
    카트 보기
    결제하기
    購物車
    購物籃
    我的購物車
    檢視購物車
    結帳
    前往結帳
    购物车
    结算
    去结算
    カート
    カートを見る
    ショッピングカート
    買い物かご
    買い物カゴ
    レジに進む
    ご購入手続きへ
    購入手続きへ
    """,
)

ORDER = _phrases(
    """
    order now
    order online
    order here
    pre order
    preorder
    bestellen
    jetzt bestellen
    zahlungspflichtig bestellen
    commandez
    commander maintenant
    ordina
    ordina ora
    pedir
    pide ya
    hacer pedido
    realizar pedido
    bestel
    nu bestellen
    encomendar
    encomende já
    fazer pedido
    peça já
    beställ
    beställ nu
    bestil
    bestil nu
    bestill
    bestill nå
    tilaa
    tilaa nyt
    zamów
    zamów teraz
    zamawiam i płacę
    kupuję i płacę
    objednat
    objednat nyní
    závazně objednat
    objednať
    objednať s povinnosťou platby
    rendelés
    rendelés leadása
    rendelj most
    bestel nou
    주문하기
    주문
    立即訂購
    訂購
    注文する
    ご注文
    """,
)

# Path segments of cart and checkout pages, as the shop software of each
# market names them (Cafe24 "/order/basket.html", Shoptet "/kosik/",
# UNAS "/shop_cart.php", VTEX "/checkout/#/cart").
CART_PATH_WORDS = (
    "cart", "basket", "checkout", "shopping-cart", "shoppingcart", "shop_cart", "bag", "trolley",
    "warenkorb", "kasse", "panier", "commande", "carrito", "cesta", "carrello", "cassa", "winkelwagen",
    "winkelmand", "afrekenen", "carrinho", "sacola", "varukorg", "kassa", "kundvagn", "kurv",
    "indkobskurv", "handlekurv", "ostoskori", "koszyk", "kosik", "pokladna", "kosar",
    "penztar", "mandjie", "orderform",
)
