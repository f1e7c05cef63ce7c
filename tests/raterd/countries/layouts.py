"""Shops whose pages are laid out the hard ways: credits for the web host or designer with *their*
address, addresses in label/value tables, host blocks in an imprint.

A host's or agency's address is not the shop's: a shop that shows only
that is rated as having no address (``X``/``no_location``), and a shop that
shows both is located at its own.
"""

from __future__ import annotations

from ._shop import copyright_line as cr, shop

LAYOUT_SHOPS = [
    shop("sunny-soaps.co.uk", "", "", "en-GB", "Sunny Soaps | Handmade soap",
         [("Lavender soap", "£5.50"), ("Oat & honey soap", "£5.50"), ("Gift box", "£18.00")],
         "<h1>Contact us</h1><p>Email hello@sunny-soaps.co.uk and we will reply within a day.</p>",
         footer="<p>&copy; 2025 Sunny Soaps. Website designed and hosted by Pixelworks Ltd, 14 Harbour Road, "
                "Plymouth PL1 2AB.</p>", rating="X",
         note="only the web agency's address is on the site"),
    shop("kerzen-manufaktur.de", "DE", "79098", "de", "Kerzenmanufaktur Freiburg",
         [("Bienenwachskerze", "12,90 €"), ("Duftkerze", "16,50 €")],
         "<h1>Kontakt</h1><p>Kerzenmanufaktur Freiburg GmbH<br>Kaiser-Joseph-Straße 210<br>79098 Freiburg</p>",
         footer="<div class=\"credit\">Powered by Hostbox GmbH<br>Rechenzentrumstraße 5<br>90402 Nürnberg</div>"
                + cr("Kerzenmanufaktur Freiburg GmbH", "de"),
         note="the platform's address in a 'powered by' credit on every page"),
    shop("confiturerie-alsace.fr", "FR", "67000", "fr", "Confiturerie d'Alsace",
         [("Confiture de quetsches", "6,90 €"), ("Miel de sapin", "9,50 €")],
         "<h1>Mentions légales</h1><p>Éditeur : Confiturerie d'Alsace SARL, 8 rue des Frères, 67000 Strasbourg</p>"
         "<p>Hébergeur : OVH SAS, 2 rue Kellermann, 59100 Roubaix</p>", contact_path="/mentions-legales",
         footer=cr("Confiturerie d'Alsace SARL", "fr")),
    shop("pine-street-books.com", "US", "98101", "en", "Pine Street Books",
         [("Signed first edition", "$45.00"), ("Tote bag", "$18.00")],
         "<h1>Contact</h1><table class=\"info\"><tr><th>Company</th><td>Pine Street Books LLC</td></tr>"
         "<tr><th>Street</th><td>500 Pine Street, Suite 12</td></tr><tr><th>City</th><td>Seattle</td></tr>"
         "<tr><th>State</th><td>WA</td></tr><tr><th>ZIP</th><td>98101</td></tr></table>",
         footer=cr("Pine Street Books LLC", "en"), note="label/value table, US order"),
    shop("harbour-tackle.co.uk", "GB", "YO21 3DP", "en-GB", "Harbour Tackle",
         [("Sea rod", "£89.00"), ("Reel", "£54.00")],
         "<h1>Contact</h1><dl><dt>Company</dt><dd>Harbour Tackle Ltd</dd><dt>Address</dt><dd>45 Church Street</dd>"
         "<dt>Town</dt><dd>Whitby</dd><dt>Postcode</dt><dd>YO21 3DP</dd></dl>",
         footer=cr("Harbour Tackle Ltd", "en-GB"), note="definition list"),
]
