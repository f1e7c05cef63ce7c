"""Shops in the Americas, Africa, Oceania and Asia, each address as that country's post prints it.

Hong Kong has no postcodes (its location's postcode is empty); the Japanese
shops publish their address on the 特定商取引法に基づく表記 / 会社概要 pages
that Japanese law and custom require.
"""

from __future__ import annotations

from ._shop import contact, copyright_line as cr, shop

_LD = '<script type="application/ld+json">{}</script>'

SHOPS = [
    # -- United States ------------------------------------------------------------------------------
    shop("harborview-candles.com", "US", "75201", "en", "Harborview Candle Co.",
         [("Cedar & sage candle", "$28.00"), ("Gift set", "$64.00")],
         "<h1>Contact</h1><address>Harborview Candle Co.<br>1423 Commerce St Ste 210<br>Dallas, TX 75201</address>",
         footer=cr("Harborview Candle Co.", "en")),
    shop("pinecrest-outfitters.com", "US", "59715", "en", "Pinecrest Outfitters",
         [("Fly rod 9ft", "$249.99"), ("Waders", "$189.00")],
         "<h1>Contact us</h1><p>Call us at (406) 555-0199.</p>",
         footer="<p>Pinecrest Outfitters LLC · 880 W Main Street · Bozeman, MT 59715 · (406) 555-0199</p>"),
    shop("copperkettle-tea.us", "US", "97211", "en", "Copper Kettle Tea",
         [("Earl Grey 4 oz", "$14.00"), ("Matcha 1 oz", "$22.00")],
         "<h1>Visit us</h1><p>Copper Kettle Tea Company, Inc.<br>2200 NE Alberta St, Suite 4B<br>Portland, OR 97211</p>",
         footer=cr("Copper Kettle Tea Company, Inc.", "en"),
         contact_head=_LD.format('{"@context":"https://schema.org","@type":"Store","name":"Copper Kettle Tea Company",'
                                 '"address":{"@type":"PostalAddress","streetAddress":"2200 NE Alberta St, Suite 4B",'
                                 '"addressLocality":"Portland","addressRegion":"OR","postalCode":"97211",'
                                 '"addressCountry":"US"}}')),
    # -- Canada -------------------------------------------------------------------------------------
    shop("maplecrest-syrup.ca", "CA", "H3H 1M6", "fr", "Érablière Maplecrest",
         [("Sirop d'érable 540 ml", "14,95 $"), ("Beurre d'érable", "9,50 $")],
         "<h1>Contact</h1><p>Érablière Maplecrest inc.<br>2150, rue Sainte-Catherine Ouest<br>"
         "Montréal (Québec)  H3H 1M6</p>", footer=cr("Érablière Maplecrest inc.", "fr")),
    shop("northshore-paddle.ca", "CA", "V7P 1T2", "en", "Northshore Paddle Co.",
         [("Touring kayak", "$1,899.00"), ("Paddle", "$179.00")],
         "<h1>Contact us</h1><p>Northshore Paddle Co. Ltd.<br>Unit 5 - 1280 Marine Drive<br>North Vancouver, BC  V7P 1T2"
         "</p>", footer=cr("Northshore Paddle Co. Ltd.", "en")),
    shop("prairie-leather.com", "CA", "T5J 4G8", "en", "Prairie Leather Goods",
         [("Leather belt", "$79.00"), ("Wallet", "$59.00")],
         "<h1>Contact</h1><address>Prairie Leather Goods Ltd.<br>10125 102 St NW<br>Edmonton AB  T5J 4G8<br>Canada"
         "</address>", footer=cr("Prairie Leather Goods Ltd.", "en")),
    # -- Mexico -----------------------------------------------------------------------------------------
    shop("cafe-chiapas.com.mx", "MX", "03920", "es-MX", "Café de Chiapas",
         [("Café de altura 500 g", "$189.00 MXN"), ("Café molido 1 kg", "$349.00 MXN")],
         "<h1>Contáctanos</h1><p>Café de Chiapas S.A. de C.V.<br>Av. Insurgentes Sur 1457, Piso 3<br>"
         "Col. Insurgentes Mixcoac<br>03920 Ciudad de México, CDMX</p>", contact_path="/contacto",
         footer=cr("Café de Chiapas S.A. de C.V.", "es-MX")),
    shop("talavera-puebla.mx", "MX", "72000", "es-MX", "Talavera de Puebla",
         [("Plato de talavera", "$450.00"), ("Jarrón", "$1,200.00")],
         "<h1>Contacto</h1><p>Talavera Poblana S.A. de C.V., Calle 6 Norte 403, Centro, 72000 Puebla, Pue., México</p>",
         contact_path="/contacto", footer=cr("Talavera Poblana S.A. de C.V.", "es-MX")),
    shop("tequila-los-altos.com", "MX", "44160", "es-MX", "Tequilera Los Altos",
         [("Tequila reposado 750 ml", "$599.00"), ("Tequila añejo", "$899.00")],
         "<h1>Contacto</h1><p>Tequilera Los Altos, S. de R.L. de C.V.<br>Av. Vallarta 1234, Col. Americana<br>"
         "C.P. 44160, Guadalajara, Jal.</p>", contact_path="/contacto",
         footer=cr("Tequilera Los Altos, S. de R.L. de C.V.", "es-MX"),
         note="Spanish-looking address; the state and the TLD-less .com must not make it Spanish"),
    # -- Brazil ------------------------------------------------------------------------------------------
    shop("cafe-mineiro.com.br", "BR", "30160-011", "pt-BR", "Café Mineiro",
         [("Café especial 250 g", "R$ 39,90"), ("Kit degustação", "R$ 119,90")],
         "<h1>Fale conosco</h1><p>Café Mineiro Ltda.<br>Rua da Bahia, 1148 - Sala 1201 - Centro<br>"
         "Belo Horizonte - MG<br>CEP 30160-011</p>", contact_path="/contato", footer=cr("Café Mineiro Ltda.", "pt-BR")),
    shop("moda-paulista.com.br", "BR", "01310-200", "pt-BR", "Moda Paulista",
         [("Vestido midi", "R$ 189,90"), ("Camisa de linho", "R$ 149,90")],
         "<h1>Contato</h1><p>Moda Paulista Comércio de Roupas Ltda. - Av. Paulista, 1578 - Bela Vista, "
         "São Paulo - SP, 01310-200, Brasil</p>", contact_path="/contato",
         footer=cr("Moda Paulista Comércio de Roupas Ltda.", "pt-BR")),
    shop("artesanato-bahia.com", "BR", "40025-060", "pt-BR", "Artesanato Bahia",
         [("Fitas do Senhor do Bonfim", "R$ 15,00"), ("Cesto de palha", "R$ 89,00")],
         "<h1>Contato</h1><address>Artesanato Bahia Ltda. ME<br>Rua Gregório de Matos, 45, Pelourinho<br>"
         "Salvador/BA – CEP: 40025-060</address>", contact_path="/contato",
         footer=cr("Artesanato Bahia Ltda.", "pt-BR")),
    # -- Australia ---------------------------------------------------------------------------------------
    shop("bondi-surfwax.com.au", "AU", "2026", "en", "Bondi Surf Wax",
         [("Surf wax 4-pack", "$14.95"), ("Leash", "$39.95")],
         "<h1>Contact</h1><p>Bondi Surf Wax Pty Ltd<br>Shop 3, 180 Campbell Parade<br>Bondi Beach NSW 2026</p>"
         "<p>ABN 12 345 678 901</p>", footer=cr("Bondi Surf Wax Pty Ltd", "en")),
    shop("melbourne-brew.com.au", "AU", "3000", "en", "Melbourne Brew Supplies",
         [("Home brew kit", "$129.00"), ("Hops 100g", "$12.50")],
         "<h1>Contact us</h1><p>Melbourne Brew Supplies Pty Ltd, Level 2, 123 Little Collins Street, "
         "Melbourne VIC 3000</p>", footer=cr("Melbourne Brew Supplies Pty Ltd", "en")),
    shop("outback-leather.com", "AU", "0870", "en", "Outback Leather",
         [("Stockman hat", "AU$149.00"), ("Leather belt", "AU$69.00")],
         "<h1>Contact</h1><address>Outback Leather Pty Ltd<br>45 Todd Street<br>Alice Springs NT 0870<br>Australia"
         "</address>", footer=cr("Outback Leather Pty Ltd", "en")),
    # -- New Zealand ---------------------------------------------------------------------------------------
    shop("kiwi-woollens.co.nz", "NZ", "1010", "en", "Kiwi Woollens",
         [("Merino jersey", "NZ$189.00"), ("Possum-merino beanie", "NZ$49.00")],
         "<h1>Contact us</h1><p>Kiwi Woollens Limited<br>Level 1, 45 Queen Street<br>Auckland Central<br>"
         "Auckland 1010</p>", footer=cr("Kiwi Woollens Limited", "en")),
    shop("southern-alps-honey.co.nz", "NZ", "7300", "en", "Southern Alps Honey",
         [("Manuka honey 250g", "$39.90"), ("Clover honey 500g", "$14.90")],
         "<h1>Contact</h1><p>Southern Alps Honey Ltd, 12 Beach Road, Kaikōura 7300, New Zealand</p>",
         footer=cr("Southern Alps Honey Ltd", "en")),
    shop("wellington-roasters.nz", "NZ", "6011", "en", "Wellington Roasters",
         [("Flat white blend 1kg", "$52.00"), ("Cold brew bottles", "$24.00")],
         "<h1>Find us</h1><address>Wellington Roasters Ltd<br>87 Cuba Street<br>Te Aro<br>Wellington 6011</address>",
         footer=cr("Wellington Roasters Ltd", "en")),
    # -- South Africa ------------------------------------------------------------------------------------------
    shop("cape-vineyards.co.za", "ZA", "7600", "en", "Cape Vineyards",
         [("Pinotage 2021", "R 189.00"), ("Chenin Blanc 2023", "R 129.00")],
         "<h1>Contact us</h1><p>Cape Vineyards (Pty) Ltd<br>12 Dorp Street<br>Stellenbosch<br>7600</p>",
         footer=cr("Cape Vineyards (Pty) Ltd", "en")),
    shop("joburg-leather.co.za", "ZA", "2196", "en", "Joburg Leather",
         [("Leather satchel", "R 1 450.00"), ("Card holder", "R 249.00")],
         "<h1>Contact</h1><p>Joburg Leather (Pty) Ltd, Shop 14, Rosebank Mall, 50 Bath Avenue, Rosebank, "
         "Johannesburg, 2196</p>", footer=cr("Joburg Leather (Pty) Ltd", "en")),
    shop("durban-spice.com", "ZA", "4001", "en", "Durban Spice Traders",
         [("Mother-in-law masala 500g", "R 79.00"), ("Curry gift box", "R 249.00")],
         "<h1>Contact us</h1><address>Durban Spice Traders CC<br>45 Florida Road<br>Morningside<br>Durban<br>4001<br>"
         "South Africa</address>", footer=cr("Durban Spice Traders CC", "en")),
    # -- Singapore ---------------------------------------------------------------------------------------------------
    shop("kopi-traders.com.sg", "SG", "079903", "en", "Kopi Traders",
         [("Kopi powder 500g", "S$12.90"), ("Kaya jam", "S$6.50")],
         "<h1>Contact us</h1><p>Kopi Traders Pte. Ltd.<br>10 Anson Road<br>#12-34 International Plaza<br>"
         "Singapore 079903</p>", footer=cr("Kopi Traders Pte. Ltd.", "en")),
    shop("orchid-gifts.sg", "SG", "560123", "en", "Orchid Gifts",
         [("Gold-plated orchid", "S$88.00"), ("Orchid brooch", "S$45.00")],
         "<h1>Contact</h1><p>Orchid Gifts Pte Ltd, Blk 123 Ang Mo Kio Avenue 3, #01-1234, Singapore 560123</p>",
         footer=cr("Orchid Gifts Pte Ltd", "en")),
    shop("lion-city-tech.com", "SG", "048616", "en", "Lion City Tech",
         [("USB-C hub", "S$59.00"), ("Wireless charger", "S$39.00")],
         "<h1>Contact</h1><address>Lion City Tech Pte Ltd<br>1 Raffles Place<br>#20-61 One Raffles Place Tower 2<br>"
         "Singapore 048616</address>", footer=cr("Lion City Tech Pte Ltd", "en")),
    # -- Hong Kong (no postcodes) ------------------------------------------------------------------------------------
    shop("lungcheong-tea.com.hk", "HK", "", "en", "Lung Cheong Tea House",
         [("Tieguanyin 150g", "HK$168"), ("Pu'er cake", "HK$388")],
         "<h1>Contact us</h1><p>Lung Cheong Tea House Limited<br>Shop 12, G/F, Wing On Plaza<br>62 Mody Road<br>"
         "Tsim Sha Tsui, Kowloon<br>Hong Kong</p>", footer=cr("Lung Cheong Tea House Limited", "en")),
    shop("mongkok-cameras.hk", "HK", "", "zh-HK", "旺角相機行 Mongkok Cameras",
         [("菲林相機", "HK$1,280"), ("鏡頭", "HK$2,980")],
         "<h1>聯絡我們</h1><p>旺角相機行有限公司</p><p>地址：香港九龍旺角彌敦道688號旺角中心1期12樓1205室</p>"
         "<p>電話：2388 1234</p>", footer=cr("Mongkok Cameras Limited", "en")),
    shop("harbour-prints.com", "HK", "", "en", "Harbour Prints",
         [("Star Ferry print", "HK$450"), ("Neon sign print", "HK$520")],
         "<h1>Contact</h1><p>Harbour Prints Limited, Unit 1503, 15/F, Tower 2, Lippo Centre, 89 Queensway, "
         "Admiralty, Hong Kong</p>", footer=cr("Harbour Prints Limited", "en")),
    # -- South Korea ------------------------------------------------------------------------------------------------
    shop("hanok-tea.co.kr", "KR", "03055", "ko", "한옥다원 HANOK DAWON",
         [("녹차 티백 20입", "12,000원"), ("다기 세트", "89,000원")],
         "<h1>고객센터</h1><p>평일 10:00-18:00</p>",
         footer="<p>상호명: (주)한옥다원 | 대표: 김민수 | 사업자등록번호: 123-45-67890<br>"
                "주소: (03055) 서울특별시 종로구 북촌로 31, 2층 | 통신판매업신고: 2024-서울종로-0123</p>"
                "<p>Copyright © 2025 HANOK DAWON. All rights reserved.</p>"),
    shop("busan-seafood.kr", "KR", "48094", "ko", "부산수산 BUSAN SEAFOOD",
         [("손질 고등어 1kg", "15,900원"), ("명란젓 500g", "29,000원")],
         "<h1>회사소개</h1><table><tr><th>상호</th><td>주식회사 부산수산</td></tr>"
         "<tr><th>주소</th><td>부산광역시 해운대구 해운대해변로 264 (우동)</td></tr><tr><th>우편번호</th><td>48094</td>"
         "</tr></table>", contact_path="/company", footer="<p>Copyright © 2025 BUSAN SEAFOOD Co., Ltd.</p>"),
    shop("jeju-citrus.com", "KR", "63122", "ko", "제주감귤농장 JEJU CITRUS",
         [("한라봉 3kg", "32,000원"), ("감귤 5kg", "25,000원")],
         "<h1>고객센터</h1><address>제주감귤농장<br>(63122) 제주특별자치도 제주시 중앙로 123<br>대한민국</address>",
         footer="<p>Copyright © 2025 JEJU CITRUS FARM. All rights reserved.</p>"),
    # -- Japan --------------------------------------------------------------------------------------------------------
    shop("kyoto-matcha.jp", "JP", "604-8005", "ja", "京都抹茶本舗 | Kyoto Matcha Honpo",
         [("宇治抹茶 30g", "¥2,480"), ("抹茶茶碗", "¥6,800")],
         "<h1>お問い合わせ</h1><p>お問い合わせフォームをご利用ください。</p>",
         footer='<p><a href="/law">特定商取引法に基づく表記</a></p><p>© 2025 Kyoto Matcha Honpo Co., Ltd.</p>',
         extra_pages={"/law": contact(
             "ja", "特定商取引法に基づく表記",
             "<h1>特定商取引法に基づく表記</h1><table><tr><th>販売業者</th><td>株式会社京都抹茶本舗</td></tr>"
             "<tr><th>運営統括責任者</th><td>山田 太郎</td></tr><tr><th>所在地</th><td>〒604-8005 京都府京都市中京区"
             "河原町通三条上る恵比須町123</td></tr><tr><th>電話番号</th><td>075-123-4567</td></tr>"
             "<tr><th>販売価格</th><td>各商品ページに記載</td></tr></table>")},
         note="address only on the disclosure page linked by its Japanese title"),
    shop("tokyo-knives.co.jp", "JP", "111-0036", "ja", "東京刃物 Tokyo Knives",
         [("三徳包丁 170mm", "12,800円（税込）"), ("砥石 #1000", "3,300円（税込）")],
         "<h1>会社概要</h1><dl><dt>会社名</dt><dd>株式会社東京刃物</dd><dt>所在地</dt>"
         "<dd>〒111-0036<br>東京都台東区松が谷2丁目21番5号</dd><dt>設立</dt><dd>1998年4月</dd></dl>",
         contact_path="/company", footer="<p>Copyright © Tokyo Knives Co., Ltd. All Rights Reserved.</p>"),
    shop("osaka-kimono.com", "JP", "542-0076", "ja", "大阪着物 Osaka Kimono",
         [("浴衣セット", "¥9,800"), ("帯", "¥4,500")],
         "<h1>お問い合わせ</h1><p>メールでお問い合わせください。</p>",
         footer='<p><a href="/tokushoho">特商法表記</a></p><p>© 2025 Osaka Kimono Inc.</p>',
         extra_pages={"/tokushoho": contact(
             "ja", "特商法表記", "<h1>特定商取引法に基づく表記</h1><p>事業者名：株式会社大阪着物</p>"
             "<p>住所：〒542-0076 大阪府大阪市中央区難波3-4-5 なんばビル5F</p><p>電話：06-1234-5678</p>")}),
]
