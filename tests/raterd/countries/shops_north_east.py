"""Shops in Finland, Sweden, Denmark, Norway, Poland, Czechia, Slovakia and Hungary, each address as
that country's post prints it."""

from __future__ import annotations

from ._shop import copyright_line as cr, shop

SHOPS = [
    # -- Finland -----------------------------------------------------------------------------------
    shop("kahvipaahtimo-helsinki.fi", "FI", "00100", "fi", "Kahvipaahtimo Helsinki",
         [("Tumma paahto 500 g", "12,90 €"), ("Vaalea paahto 250 g", "7,90 €")],
         "<h1>Yhteystiedot</h1><p>Kahvipaahtimo Helsinki Oy<br>Mannerheimintie 12 B 5<br>00100 Helsinki</p>"
         "<p>Y-tunnus 1234567-8</p>", contact_path="/yhteystiedot", footer=cr("Kahvipaahtimo Helsinki Oy", "fi")),
    shop("puutarha-tampere.fi", "FI", "33200", "fi", "Puutarhakauppa Tampere",
         [("Kukkamulta 50 l", "9,90 €"), ("Ruukku", "14,90 €")],
         "<h1>Ota yhteyttä</h1><p>Puutarhakauppa Tampere Oy, Hämeenkatu 25, 33200 Tampere, Suomi</p>",
         contact_path="/ota-yhteytta", footer=cr("Puutarhakauppa Tampere Oy", "fi")),
    shop("nordic-knits.com", "FI", "00100", "fi", "Nordic Knits",
         [("Villasukat", "29,00 €"), ("Pipo", "35,00 €")],
         "<h1>Yhteystiedot</h1><address>Nordic Knits Oy Ab<br>Aleksanterinkatu 52<br>FI-00100 Helsinki<br>"
         "Finland</address>", contact_path="/yhteystiedot", footer=cr("Nordic Knits Oy Ab", "fi")),
    # -- Sweden ----------------------------------------------------------------------------------------
    shop("kaffebonor.se", "SE", "111 21", "sv", "Kaffebönor – rosteri i Stockholm",
         [("Mellanrost 450 g", "129 kr"), ("Espresso 1 kg", "279 kr")],
         "<h1>Kontakta oss</h1><p>Kaffebönor i Sverige AB<br>Drottninggatan 53<br>111 21 Stockholm</p>"
         "<p>Org.nr 556123-4567</p>", contact_path="/kontakt", footer=cr("Kaffebönor i Sverige AB", "sv")),
    shop("glasbruket-vaxjo.se", "SE", "352 31", "sv", "Glasbruket Växjö",
         [("Vinglas 4-pack", "595 kr"), ("Skål i glas", "349 kr")],
         "<h1>Kontakt</h1><p>Glasbruket i Växjö AB, Storgatan 14, 352 31 Växjö, Sverige</p>",
         contact_path="/kontakt", footer=cr("Glasbruket i Växjö AB", "sv")),
    shop("fjallutrustning.com", "SE", "981 31", "sv", "Fjällutrustning Norr",
         [("Ryggsäck 45 l", "1 495 kr"), ("Vindjacka", "2 195 kr")],
         "<h1>Kontakta oss</h1><p>Fjällutrustning Norr AB</p><p>Postadress: Box 45, 981 21 Kiruna</p>"
         "<p>Besöksadress: Kungsvägen 8, 981 31 Kiruna</p>", contact_path="/kontakt",
         footer=cr("Fjällutrustning Norr AB", "sv"), note="a PO box line next to the visiting address"),
    # -- Denmark -------------------------------------------------------------------------------------------
    shop("smorrebrod-kbh.dk", "DK", "1620", "da", "Smørrebrød København",
         [("Smørrebrød-kasse", "249,00 kr."), ("Rugbrød", "45,00 kr.")],
         "<h1>Kontakt os</h1><p>Smørrebrød København ApS<br>Vesterbrogade 34, 2. th.<br>1620 København V</p>"
         "<p>CVR 12345678</p>", footer=cr("Smørrebrød København ApS", "da")),
    shop("designmoebler-aarhus.dk", "DK", "8000", "da", "Designmøbler Aarhus",
         [("Spisebordsstol", "1.895,00 kr."), ("Sofabord i eg", "4.495,00 kr.")],
         "<h1>Kontakt</h1><p>Designmøbler Aarhus ApS · Nørregade 18 · 8000 Aarhus C · Danmark</p>",
         footer=cr("Designmøbler Aarhus ApS", "da")),
    shop("nordic-ceramics.com", "DK", "2900", "da", "Nordic Ceramics",
         [("Kop i stentøj", "189,00 kr."), ("Tallerken", "229,00 kr.")],
         "<h1>Kontakt os</h1><address>Nordic Ceramics A/S<br>Strandvejen 101<br>DK-2900 Hellerup<br>Denmark"
         "</address>", footer=cr("Nordic Ceramics A/S", "da")),
    # -- Norway -------------------------------------------------------------------------------------------------
    shop("strikkebutikken.no", "NO", "0154", "no", "Strikkebutikken",
         [("Ullgarn 50 g", "kr 89,-"), ("Strikkepinner", "kr 129,-")],
         "<h1>Kontakt oss</h1><p>Strikkebutikken AS<br>Karl Johans gate 14<br>0154 Oslo</p>"
         "<p>Org.nr. 912 345 678 MVA</p>", footer=cr("Strikkebutikken AS", "no")),
    shop("fjordfisk.no", "NO", "5003", "no", "Fjordfisk – fersk sjømat",
         [("Røkt laks 200 g", "kr 129,00"), ("Fiskesuppe", "kr 99,00")],
         "<h1>Kontakt</h1><p>Fjordfisk AS, Bryggen 7, 5003 Bergen, Norge</p>", footer=cr("Fjordfisk AS", "no")),
    shop("nordlys-design.com", "NO", "9008", "no", "Nordlys Design",
         [("Pledd i ull", "kr 1 290,-"), ("Lysestake", "kr 349,-")],
         "<h1>Kontakt oss</h1><p>Nordlys Design AS · Storgata 45 · 9008 Tromsø · Norge</p>",
         footer=cr("Nordlys Design AS", "no"), note="Norge, not Austria"),
    # -- Poland ------------------------------------------------------------------------------------------------
    shop("herbaciarnia-warszawska.pl", "PL", "00-029", "pl", "Herbaciarnia Warszawska",
         [("Herbata zielona 100 g", "24,99 zł"), ("Imbryk żeliwny", "149,00 zł")],
         "<h1>Kontakt</h1><p>Herbaciarnia Warszawska Sp. z o.o.<br>ul. Nowy Świat 35 lok. 4<br>00-029 Warszawa</p>"
         "<p>NIP 5261234567</p>", footer=cr("Herbaciarnia Warszawska Sp. z o.o.", "pl")),
    shop("ceramika-boleslawiec.pl", "PL", "59-700", "pl", "Ceramika Bolesławiec",
         [("Kubek 350 ml", "59,00 zł"), ("Talerz obiadowy", "89,00 zł")],
         "<h1>Kontakt</h1><p>Ceramika Artystyczna Sp. z o.o., ul. Kościuszki 12, 59-700 Bolesławiec, Polska</p>",
         footer=cr("Ceramika Artystyczna Sp. z o.o.", "pl")),
    shop("bursztyn-gdansk.com", "PL", "80-831", "pl", "Bursztyn Gdańsk",
         [("Wisiorek z bursztynem", "189,00 zł"), ("Bransoletka", "249,00 zł")],
         "<h1>Kontakt</h1><address>Bursztyn Gdańsk s.c.<br>Długa 22/24<br>80-831 Gdańsk</address>",
         footer=cr("Bursztyn Gdańsk s.c.", "pl")),
    # -- Czechia -------------------------------------------------------------------------------------------------
    shop("kavarna-praha.cz", "CZ", "110 00", "cs", "Kavárna Praha – pražírna",
         [("Káva Brazílie 250 g", "249 Kč"), ("Moka konvička", "690 Kč")],
         "<h1>Kontakt</h1><p>Kavárna Praha s.r.o.<br>Vodičkova 681/18<br>110 00 Praha 1</p><p>IČO: 12345678</p>",
         footer=cr("Kavárna Praha s.r.o.", "cs")),
    shop("sklo-bohemia.cz", "CZ", "120 00", "cs", "Sklo Bohemia",
         [("Sada sklenic", "1 290 Kč"), ("Váza", "890 Kč")],
         "<h1>Kontakt</h1><p>Sklo Bohemia s.r.o., náměstí Míru 15, 120 00 Praha 2, Česká republika</p>",
         footer=cr("Sklo Bohemia s.r.o.", "cs")),
    shop("pivovar-brno.com", "CZ", "602 00", "cs", "Pivovar Brno – e-shop",
         [("Ležák 12° 6 × 0,5 l", "299 Kč"), ("Dárkové balení", "549 Kč")],
         "<h1>Kontakt</h1><p>Pivovar Brno, spol. s r.o.<br>Hybešova 42<br>602 00 Brno<br>Czech Republic</p>",
         footer=cr("Pivovar Brno, spol. s r.o.", "cs")),
    # -- Slovakia --------------------------------------------------------------------------------------------------
    shop("vinarstvo-modra.sk", "SK", "900 01", "sk", "Vinárstvo Modra",
         [("Frankovka modrá 0,75 l", "9,90 €"), ("Rizling rýnsky", "8,50 €")],
         "<h1>Kontakt</h1><p>Vinárstvo Modra s.r.o.<br>Štúrova 59<br>900 01 Modra</p><p>IČO: 12345678</p>",
         footer=cr("Vinárstvo Modra s.r.o.", "sk")),
    shop("drevene-hracky.sk", "SK", "811 06", "sk", "Drevené hračky",
         [("Drevené autíčko", "19,90 €"), ("Stavebnica", "34,90 €")],
         "<h1>Kontakt</h1><p>Drevené hračky s.r.o., Obchodná 12, 811 06 Bratislava, Slovensko</p>",
         footer=cr("Drevené hračky s.r.o.", "sk")),
    shop("tatra-honey.com", "SK", "080 01", "sk", "Tatranský med",
         [("Lipový med 500 g", "7,90 €"), ("Medovina", "12,50 €")],
         "<h1>Kontakt</h1><address>Tatranský med s. r. o.<br>Hlavná 45<br>080 01 Prešov<br>Slovenská republika"
         "</address>", footer=cr("Tatranský med s. r. o.", "sk")),
    # -- Hungary -----------------------------------------------------------------------------------------------------
    shop("szegedi-paprika.hu", "HU", "6720", "hu", "Szegedi Paprika",
         [("Édesnemes paprika 100 g", "1 290 Ft"), ("Csípős paprikakrém", "990 Ft")],
         "<h1>Kapcsolat</h1><p>Szegedi Paprika Kft.<br>6720 Szeged, Kárász utca 8.</p><p>Adószám: 12345678-2-06</p>",
         contact_path="/kapcsolat", footer=cr("Szegedi Paprika Kft.", "hu")),
    shop("budapest-porcelan.hu", "HU", "1052", "hu", "Budapest Porcelán",
         [("Kávéscsésze", "8 900 Ft"), ("Tányér", "12 500 Ft")],
         "<h1>Impresszum</h1><p>Cégnév: Budapest Porcelán Kft.</p><p>Székhely: 1052 Budapest, Váci utca 12. "
         "II. em. 3.</p>", contact_path="/impresszum", footer=cr("Budapest Porcelán Kft.", "hu")),
    shop("tokaji-borok.com", "HU", "3910", "hu", "Tokaji Borház",
         [("Tokaji Aszú 5 puttonyos", "9 990 Ft"), ("Furmint", "3 490 Ft")],
         "<h1>Kapcsolat</h1><p>Tokaji Borház Kft. · 3910 Tokaj, Rákóczi út 41. · Magyarország</p>",
         contact_path="/kapcsolat", footer=cr("Tokaji Borház Kft.", "hu")),
]
