"""Shops in Slovenia, Croatia, Greece and Estonia, each address as that country's post prints it
(Greek in Greek script on two of them)."""

from __future__ import annotations

from ._shop import copyright_line as cr, shop

SHOPS = [
    # -- Slovenia --------------------------------------------------------------------------------
    shop("cebelarstvo-bled.si", "SI", "4260", "sl", "Čebelarstvo Bled",
         [("Cvetlični med 900 g", "12,90 €"), ("Medica 0,5 l", "14,50 €")],
         "<h1>Kontakt</h1><p>Čebelarstvo Bled d.o.o.<br>Ljubljanska cesta 7<br>4260 Bled</p>",
         footer=cr("Čebelarstvo Bled d.o.o.", "sl")),
    shop("vinoteka-maribor.si", "SI", "2000", "sl", "Vinoteka Maribor",
         [("Šipon 0,75 l", "9,90 €"), ("Modra frankinja", "12,50 €")],
         "<h1>Kontakt</h1><p>Vinoteka Maribor d.o.o., Slovenska ulica 14, 2000 Maribor, Slovenija</p>",
         footer=cr("Vinoteka Maribor d.o.o.", "sl")),
    shop("ljubljana-design.com", "SI", "1000", "sl", "Ljubljana Design",
         [("Lesena skleda", "39,00 €"), ("Platnena torba", "19,00 €")],
         "<h1>Kontakt</h1><address>Ljubljana Design d.o.o.<br>Trubarjeva 21<br>SI-1000 Ljubljana</address>",
         footer=cr("Ljubljana Design d.o.o.", "sl")),
    # -- Croatia --------------------------------------------------------------------------------------
    shop("istarsko-ulje.hr", "HR", "52210", "hr", "Istarsko maslinovo ulje",
         [("Maslinovo ulje 0,5 l", "18,00 €"), ("Tartufi 50 g", "24,00 €")],
         "<h1>Kontakt</h1><p>Istarsko Ulje d.o.o.<br>Ulica Pino Budicin 5<br>52210 Rovinj</p>",
         footer=cr("Istarsko Ulje d.o.o.", "hr")),
    shop("split-suveniri.hr", "HR", "21000", "hr", "Split Suveniri",
         [("Licitarsko srce", "9,00 €"), ("Kravata", "35,00 €")],
         "<h1>Kontakt</h1><p>Split Suveniri d.o.o., Marmontova ulica 3, 21000 Split, Hrvatska</p>",
         footer=cr("Split Suveniri d.o.o.", "hr")),
    shop("zagreb-kava.com", "HR", "10000", "hr", "Zagreb Kava",
         [("Espresso 250 g", "8,90 €"), ("Džezva", "22,00 €")],
         "<h1>Kontakt</h1><p>Zagreb Kava d.o.o., Ilica 42, HR-10000 Zagreb</p>", footer=cr("Zagreb Kava d.o.o.", "hr")),
    # -- Greece -------------------------------------------------------------------------------------------
    shop("meli-kritis.gr", "GR", "713 06", "el", "Μέλι Κρήτης",
         [("Θυμαρίσιο μέλι 450 g", "9,80 €"), ("Μέλι ελάτης", "11,50 €")],
         "<h1>Επικοινωνία</h1><p>Μέλι Κρήτης Α.Ε.<br>Λεωφόρος Κνωσού 45<br>713 06 Ηράκλειο</p>",
         footer=cr("Μέλι Κρήτης Α.Ε.", "el")),
    shop("elaiolado-athina.gr", "GR", "105 63", "el", "Ελαιόλαδο Αθήνα",
         [("Ελαιόλαδο 1 l", "14,00 €"), ("Ελιές Καλαμών", "6,50 €")],
         "<h1>Επικοινωνία</h1><p>Ελαιόλαδο Αθήνα Ο.Ε., Ερμού 25, 105 63 Αθήνα, Ελλάδα</p>",
         footer=cr("Ελαιόλαδο Αθήνα Ο.Ε.", "el")),
    shop("greek-sandals.com", "GR", "105 55", "el", "Greek Sandals",
         [("Δερμάτινα σανδάλια", "79,00 €"), ("Τσάντα", "59,00 €")],
         "<h1>Contact</h1><address>Greek Sandals S.A.<br>12 Pandrossou Street<br>105 55 Athens<br>Greece</address>",
         footer=cr("Greek Sandals S.A.", "el")),
    # -- Estonia --------------------------------------------------------------------------------------------
    shop("tallinna-kasitoo.ee", "EE", "10140", "et", "Tallinna Käsitöö",
         [("Villased sokid", "24,00 €"), ("Puidust lusikas", "12,00 €")],
         "<h1>Kontakt</h1><p>Tallinna Käsitöö OÜ<br>Viru tn 12<br>10140 Tallinn</p>",
         footer=cr("Tallinna Käsitöö OÜ", "et")),
    shop("tartu-raamat.ee", "EE", "51007", "et", "Tartu Raamat",
         [("Eesti luule", "18,90 €"), ("Kaart", "4,50 €")],
         "<h1>Kontakt</h1><p>Tartu Raamat OÜ, Rüütli 5, 51007 Tartu, Eesti</p>", footer=cr("Tartu Raamat OÜ", "et")),
    shop("saaremaa-mesi.com", "EE", "93815", "et", "Saaremaa Mesi",
         [("Kanarbikumesi", "9,50 €"), ("Kärjemesi", "12,00 €")],
         "<h1>Kontakt</h1><address>Saaremaa Mesi OÜ<br>Tallinna mnt 15<br>93815 Kuressaare<br>Estonia</address>",
         footer=cr("Saaremaa Mesi OÜ", "et")),
]
