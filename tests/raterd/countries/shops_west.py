"""Shops in Great Britain, Ireland, France, Belgium, Luxembourg, the Netherlands, Germany, Austria,
Switzerland, Italy, Spain and Portugal, each address as that country's post prints it."""

from __future__ import annotations

from ._shop import copyright_line as cr, shop

_LD = '<script type="application/ld+json">{}</script>'

SHOPS = [
    # -- Great Britain ------------------------------------------------------------------------
    shop("tidemark-prints.co.uk", "GB", "BS3 4EN", "en-GB", "Tidemark Prints | Art prints",
         [("Harbour at dusk, A3 print", "£24.00"), ("Clifton bridge, A4 print", "£16.50")],
         "<h1>Get in touch</h1><p>Tidemark Prints Ltd<br>Unit 4, Riverside Business Park<br>Mill Lane<br>"
         "Bristol<br>BS3 4EN</p><p>Tel: 0117 496 0321</p>",
         footer=cr("Tidemark Prints Ltd", "en-GB"), note="street line without number under a unit line"),
    shop("hollin-hill-gin.co.uk", "GB", "YO17 7AB", "en-GB", "Hollin Hill Distillery",
         [("Hollin Hill Dry Gin 70cl", "£34.95"), ("Rhubarb Gin 50cl", "£28.00")],
         "<h1>Contact</h1><p>Questions about an order? Email hello@hollin-hill-gin.co.uk.</p>",
         footer="<p>Hollin Hill Distillery Ltd, 12 Station Road, Malton, North Yorkshire, YO17 7AB. "
                "Registered in England &amp; Wales no. 09876543.</p>"),
    shop("bramble-and-wick.co.uk", "GB", "EH2 3NH", "en-GB", "Bramble & Wick candles",
         [("Bramble candle", "£18.00"), ("Sea salt wax melt", "£6.50")],
         "<h2>Our studio</h2><address>Bramble &amp; Wick Ltd<br>Flat 2, 45 Queen Street<br>Edinburgh<br>"
         "EH2 3NH<br>Scotland</address>", footer=cr("Bramble & Wick Ltd", "en-GB")),
    # -- Ireland --------------------------------------------------------------------------------
    shop("wicklow-wool.ie", "IE", "A67 X2F3", "en", "Wicklow Wool | Knitwear",
         [("Aran jumper", "€129.00"), ("Wool scarf", "€45.00")],
         "<h1>Contact us</h1><p>Wicklow Wool Ltd<br>Unit 7, Ballyhenry Business Park<br>Ashford<br>"
         "Co. Wicklow<br>A67 X2F3</p>", footer=cr("Wicklow Wool Ltd", "en")),
    shop("dublin-coffee.ie", "IE", "D02 XE80", "en", "Dublin Coffee Roasters",
         [("House blend 250g", "€11.50"), ("Decaf 250g", "€12.00")],
         "<h1>Find us</h1><p>Dublin Coffee Roasters Ltd, 14 Camden Street Lower, Dublin 2, D02 XE80</p>",
         footer=cr("Dublin Coffee Roasters Ltd", "en")),
    shop("galway-crafts.com", "IE", "H91 DX47", "en", "Galway Crafts",
         [("Claddagh ring", "€89.00"), ("Connemara marble bowl", "€42.00")],
         "<h1>Contact</h1><address>Galway Crafts Ltd<br>3 Quay Street<br>Galway<br>H91 DX47<br>Ireland</address>",
         footer=cr("Galway Crafts Ltd", "en")),
    # -- France -----------------------------------------------------------------------------------
    shop("savonnerie-du-midi.fr", "FR", "13002", "fr", "Savonnerie du Midi",
         [("Savon de Marseille 300 g", "6,90 €"), ("Coffret lavande", "24,50 €")],
         "<h1>Nous contacter</h1><p>Savonnerie du Midi SARL<br>14, rue des Tanneurs<br>13002 Marseille</p>",
         footer=cr("Savonnerie du Midi SARL", "fr")),
    shop("cave-bordelaise.fr", "FR", "33000", "fr", "Cave Bordelaise – vins de Bordeaux",
         [("Saint-Émilion Grand Cru 2019", "32,00 €"), ("Pessac-Léognan blanc", "27,50 €")],
         "<h1>Mentions légales</h1><p>Cave Bordelaise SAS – 27 bis cours de l'Intendance – 33000 Bordeaux – "
         "France</p><p>RCS Bordeaux 812 345 678</p>", contact_path="/mentions-legales",
         footer=cr("Cave Bordelaise SAS", "fr")),
    shop("atelier-lin.com", "FR", "69007", "fr", "Atelier Lin – linge de maison",
         [("Nappe en lin lavé", "89,00 €"), ("Housse de couette", "149,00 €")],
         "<h1>Contact</h1><p>Atelier Lin<br>Bâtiment B, 3e étage<br>5 allée des Tilleuls<br>69007 Lyon<br>FRANCE</p>",
         footer=cr("Atelier Lin SAS", "fr")),
    # -- Belgium ----------------------------------------------------------------------------------
    shop("chocolaterie-bruxelloise.be", "BE", "1050", "fr", "Chocolaterie Bruxelloise",
         [("Ballotin 500 g", "32,00 €"), ("Tablette noire 72 %", "6,50 €")],
         "<h1>Contact</h1><p>Chocolaterie Bruxelloise SRL<br>Chaussée de Wavre 214<br>1050 Ixelles</p>"
         "<p>TVA BE 0123.456.789</p>", footer=cr("Chocolaterie Bruxelloise SRL", "fr")),
    shop("bierhuis-gent.be", "BE", "9000", "nl", "Bierhuis Gent – Belgische bieren",
         [("Tripel 33 cl", "€ 2,95"), ("Geschenkdoos 6 bieren", "€ 19,95")],
         "<h1>Contact</h1><p>Bierhuis Gent BV · Korenmarkt 12 · 9000 Gent · België</p>",
         footer=cr("Bierhuis Gent BV", "nl")),
    shop("dentelles-de-bruxelles.com", "BE", "1000", "fr", "Dentelles de Bruxelles",
         [("Napperon en dentelle", "45,00 €"), ("Mouchoir brodé", "18,00 €")],
         "<h1>Nous trouver</h1><address>Dentelles de Bruxelles SRL<br>Rue Royale 120 bte 3<br>B-1000 Bruxelles<br>"
         "Belgique</address>", footer=cr("Dentelles de Bruxelles SRL", "fr")),
    # -- Luxembourg ---------------------------------------------------------------------------------
    shop("chocolats-luxembourg.lu", "LU", "1611", "fr", "Chocolats du Luxembourg",
         [("Pralines assorties", "29,00 €"), ("Tablette au lait", "5,50 €")],
         "<h1>Contact</h1><p>Chocolats du Luxembourg S.à r.l.<br>12, rue de la Gare<br>L-1611 Luxembourg</p>",
         footer=cr("Chocolats du Luxembourg S.à r.l.", "fr")),
    shop("vins-moselle.lu", "LU", "5401", "fr", "Domaine de la Moselle",
         [("Riesling Grand Premier Cru", "16,50 €"), ("Crémant de Luxembourg", "14,00 €")],
         "<h1>Contact</h1><p>Domaine de la Moselle S.A.<br>Route du Vin 42<br>L-5401 Ahn<br>Luxembourg</p>",
         footer=cr("Domaine de la Moselle S.A.", "fr")),
    shop("bicherbuttek.com", "LU", "9530", "de", "Bicherbuttek Wiltz",
         [("Lëtzebuerger Kachbuch", "29,90 €"), ("Kannerbuch", "14,50 €")],
         "<h1>Kontakt</h1><p>Bicherbuttek Sàrl · 5, Grand-Rue · L-9530 Wiltz · Grand-Duché de Luxembourg</p>",
         footer=cr("Bicherbuttek Sàrl", "de")),
    # -- Netherlands ----------------------------------------------------------------------------------
    shop("fietsenhuis-utrecht.nl", "NL", "3511 AW", "nl", "Fietsenhuis Utrecht",
         [("Stadsfiets Oma", "€ 549,00"), ("Fietsslot", "€ 39,95")],
         "<h1>Contact</h1><p>Fietsenhuis Utrecht B.V.<br>Oudegracht 112<br>3511 AW Utrecht</p>",
         footer=cr("Fietsenhuis Utrecht B.V.", "nl")),
    shop("kaasmeester.nl", "NL", "1017 GA", "nl", "De Kaasmeester",
         [("Oude Gouda 500 g", "€ 9,95"), ("Boerenkaas met komijn", "€ 7,50")],
         "<h1>Klantenservice</h1><p>Kaasmeester B.V., Kerkstraat 7-9, 1017 GA Amsterdam, Nederland</p>",
         footer=cr("Kaasmeester B.V.", "nl")),
    shop("dutchdesignlamps.com", "NL", "5611 EM", "nl", "Dutch Design Lamps",
         [("Hanglamp Bol", "€ 189,00"), ("Tafellamp Mini", "€ 79,00")],
         "<h1>Contact</h1><table><tr><th>Bedrijf</th><td>Dutch Design Lamps B.V.</td></tr>"
         "<tr><th>Adres</th><td>Hooghuisstraat 18a</td></tr><tr><th>Postcode</th><td>5611 EM</td></tr>"
         "<tr><th>Plaats</th><td>Eindhoven</td></tr><tr><th>KvK</th><td>12345678</td></tr></table>",
         footer=cr("Dutch Design Lamps B.V.", "nl"), note="label/value table"),
    # -- Germany ------------------------------------------------------------------------------------
    shop("kaffeeroesterei-lindner.de", "DE", "10961", "de", "Kaffeerösterei Lindner",
         [("Espresso Bohnen 500 g", "14,90 €"), ("Filterkaffee 250 g", "8,50 €")],
         "<h1>Impressum</h1><p>Angaben gemäß § 5 DDG</p><p>Kaffeerösterei Lindner GmbH<br>Bergmannstraße 42<br>"
         "10961 Berlin</p><p>Handelsregister: HRB 123456 B</p>", contact_path="/impressum",
         footer=cr("Kaffeerösterei Lindner GmbH", "de")),
    shop("holzwerk-allgaeu.de", "DE", "87509", "de", "Holzwerk Allgäu",
         [("Schneidebrett Eiche", "39,00 €"), ("Gewürzregal", "59,00 €")],
         "<h1>Kontakt</h1><table><tr><td>Firma</td><td>Holzwerk Allgäu GmbH</td></tr>"
         "<tr><td>Straße</td><td>Kemptener Str. 17</td></tr><tr><td>PLZ</td><td>87509</td></tr>"
         "<tr><td>Ort</td><td>Immenstadt im Allgäu</td></tr><tr><td>Telefon</td><td>08323 123456</td></tr></table>",
         footer=cr("Holzwerk Allgäu GmbH", "de"), note="label/value table"),
    shop("fahrradteile-kramer.com", "DE", "28217", "de", "Fahrradteile Kramer",
         [("Kette 11-fach", "24,95 €"), ("Bremsbeläge", "12,90 €")],
         "<h1>Kontakt</h1><p>Kramer Fahrradteile e.K. · Am Hafen 3 · D-28217 Bremen · Deutschland</p>",
         footer=cr("Kramer Fahrradteile e.K.", "de")),
    # -- Austria --------------------------------------------------------------------------------------
    shop("alpenkraut.at", "AT", "1070", "de", "Alpenkraut – Kräuter aus Österreich",
         [("Bergkräutertee", "€ 6,90"), ("Zirbenkissen", "€ 34,00")],
         "<h1>Impressum</h1><p>Alpenkraut GmbH<br>Mariahilfer Straße 88/2/14<br>1070 Wien</p>"
         "<p>FN 123456a, Handelsgericht Wien</p>", contact_path="/impressum", footer=cr("Alpenkraut GmbH", "de")),
    shop("tiroler-speck-shop.at", "AT", "6020", "de", "Tiroler Speck Shop",
         [("Speck 500 g", "€ 15,90"), ("Kaminwurzen", "€ 8,40")],
         "<h1>Kontakt</h1><p>Tiroler Speck Handels GmbH, Hauptplatz 5, 6020 Innsbruck, Österreich</p>",
         footer=cr("Tiroler Speck Handels GmbH", "de")),
    shop("steirerkraft.com", "AT", "8010", "de", "Steirerkraft Kürbiskernöl",
         [("Kürbiskernöl 0,5 l", "€ 14,50"), ("Kürbiskerne geröstet", "€ 5,90")],
         "<h1>Impressum</h1><dl><dt>Firma</dt><dd>Steirerkraft GmbH</dd><dt>Anschrift</dt>"
         "<dd>Grazer Straße 21a</dd><dt>PLZ/Ort</dt><dd>8010 Graz</dd><dt>Land</dt><dd>Österreich</dd></dl>",
         contact_path="/impressum", footer=cr("Steirerkraft GmbH", "de"), note="definition list"),
    # -- Switzerland ------------------------------------------------------------------------------------
    shop("kaeserei-emmental.ch", "CH", "3550", "de", "Käserei Emmental",
         [("Emmentaler AOP 500 g", "CHF 12.90"), ("Fondue-Mischung", "CHF 16.50")],
         "<h1>Kontakt</h1><p>Käserei Emmental AG<br>Dorfstrasse 12<br>3550 Langnau im Emmental</p>",
         footer=cr("Käserei Emmental AG", "de")),
    shop("montres-leman.ch", "CH", "1204", "fr", "Montres Léman",
         [("Montre automatique Léman", "CHF 890.–"), ("Bracelet cuir", "CHF 79.–")],
         "<h1>Contact</h1><p>Montres Léman SA, Rue du Rhône 48, 1204 Genève, Suisse</p>",
         footer=cr("Montres Léman SA", "fr")),
    shop("velo-ticino.ch", "CH", "6900", "it", "Velo Ticino",
         [("Bici da corsa", "CHF 2'490.00"), ("Casco", "CHF 129.00")],
         "<h1>Contatti</h1><address>Velo Ticino Sagl<br>Via Cantonale 24<br>CH-6900 Lugano</address>",
         footer=cr("Velo Ticino Sagl", "it")),
    # -- Italy ---------------------------------------------------------------------------------------------
    shop("pastificio-romano.it", "IT", "00186", "it", "Pastificio Romano",
         [("Rigatoni 500 g", "€ 3,90"), ("Tonnarelli 500 g", "€ 4,50")],
         "<h1>Contatti</h1><p>Pastificio Romano S.r.l.<br>Via dei Coronari 45<br>00186 Roma (RM)</p>"
         "<p>P.IVA 01234567890</p>", footer=cr("Pastificio Romano S.r.l.", "it")),
    shop("ceramiche-vietri.it", "IT", "84019", "it", "Ceramiche Vietri",
         [("Piatto dipinto a mano", "€ 38,00"), ("Tazza", "€ 14,00")],
         "<h1>Contatti</h1><p>Siamo aperti dal lunedì al sabato.</p>",
         footer="<p>Ceramiche Vietri S.n.c. - Corso Umberto I, 27 - 84019 Vietri sul Mare (SA) - "
                "P.IVA 01234567891</p>"),
    shop("olio-toscano.com", "IT", "53024", "it", "Frantoio Toscano – olio extravergine",
         [("Olio EVO 1 l", "€ 18,00"), ("Olio EVO 5 l", "€ 79,00")],
         "<h1>Dove siamo</h1><address>Frantoio Toscano Società Agricola<br>Località Poggio alle Mura, 12<br>"
         "53024 Montalcino SI<br>Italia</address>", footer=cr("Frantoio Toscano S.r.l.", "it")),
    # -- Spain -----------------------------------------------------------------------------------------------
    shop("jamones-salamanca.es", "ES", "37002", "es", "Jamones Salamanca",
         [("Jamón ibérico de bellota", "389,00 €"), ("Lomo ibérico", "29,90 €")],
         "<h1>Contacto</h1><p>Jamones Salamanca S.L.<br>Calle de Toro, 23, 2º B<br>37002 Salamanca</p>",
         footer=cr("Jamones Salamanca S.L.", "es")),
    shop("ceramica-sevilla.es", "ES", "41010", "es", "Cerámica Sevilla – Triana",
         [("Azulejo pintado", "12,00 €"), ("Plato de Triana", "35,00 €")],
         "<h1>Contacto</h1><p>Cerámica Triana S.L. · C/ Betis, 41 · 41010 Sevilla · España</p>",
         footer=cr("Cerámica Triana S.L.", "es")),
    shop("vinos-rioja.com", "ES", "26001", "es", "Vinos de Rioja",
         [("Crianza 2020", "12,50 €"), ("Reserva 2017", "22,00 €")],
         "<h1>Aviso legal</h1><p>Titular: Bodegas del Ebro S.L.<br>Avda. de Portugal 12, bajo<br>26001 Logroño "
         "(La Rioja)</p>", contact_path="/aviso-legal", footer=cr("Bodegas del Ebro S.L.", "es"),
         contact_head=_LD.format('{"@context":"https://schema.org","@type":"Store","name":"Bodegas del Ebro S.L.",'
                                 '"address":{"@type":"PostalAddress","streetAddress":"Avda. de Portugal 12, bajo",'
                                 '"postalCode":"26001","addressLocality":"Logroño","addressRegion":"La Rioja"}}')),
    # -- Portugal --------------------------------------------------------------------------------------------
    shop("conservas-lisboa.pt", "PT", "1100-068", "pt", "Conservas de Lisboa",
         [("Sardinhas em azeite", "3,95 €"), ("Atum posta", "4,50 €")],
         "<h1>Contactos</h1><p>Conservas de Lisboa, Lda.<br>Rua dos Bacalhoeiros, 34<br>1100-068 Lisboa</p>",
         footer=cr("Conservas de Lisboa, Lda.", "pt")),
    shop("azulejos-porto.pt", "PT", "4000-447", "pt", "Azulejos do Porto",
         [("Azulejo 15x15", "9,00 €"), ("Painel de azulejos", "120,00 €")],
         "<h1>Contactos</h1><p>Azulejos do Porto Unipessoal Lda · Rua de Santa Catarina 215, 2.º Esq. · "
         "4000-447 Porto · Portugal</p>", footer=cr("Azulejos do Porto Unipessoal Lda", "pt")),
    shop("cortica-alentejo.com", "PT", "7000-532", "pt", "Cortiça do Alentejo",
         [("Carteira de cortiça", "29,00 €"), ("Base para tachos", "8,50 €")],
         "<h1>Onde estamos</h1><address>Cortiça do Alentejo, Lda.<br>Travessa do Carmo, n.º 8<br>7000-532 Évora"
         "</address>", footer=cr("Cortiça do Alentejo, Lda.", "pt")),
]
