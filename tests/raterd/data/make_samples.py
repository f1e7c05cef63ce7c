"""Generator of the sample source files in this directory (run it to rebuild them).

The files imitate the published layouts: Companies House BasicCompanyData
(unquoted header with leading spaces in some names, every value quoted,
CRLF), the GLEIF LEI-CDF golden copy CSV (a subset of its columns, in their
order, with valid ISO 17442 check digits), a phishing-domain feed, and a
PhishTank online-valid.json dump (slashes escaped as PhishTank writes them).
Every company, LEI and domain in them is made up. Each file also carries a
few rows that an importer must skip; the tests count on exactly these.
"""
import csv
import io
import json
import os

OUT = os.path.dirname(os.path.abspath(__file__)) + "/"

# --- Companies House BasicCompanyData: the real header, leading spaces and all.
CH_HEADER = ["CompanyName", " CompanyNumber", "RegAddress.CareOf", "RegAddress.POBox", "RegAddress.AddressLine1",
             " RegAddress.AddressLine2", "RegAddress.PostTown", "RegAddress.County", "RegAddress.Country",
             "RegAddress.PostCode", "CompanyCategory", "CompanyStatus", "CountryOfOrigin", "DissolutionDate",
             "IncorporationDate", "Accounts.AccountRefDay", "Accounts.AccountRefMonth", "Accounts.NextDueDate",
             "Accounts.LastMadeUpDate", "Accounts.AccountCategory", "Returns.NextDueDate", "Returns.LastMadeUpDate",
             "Mortgages.NumMortCharges", "Mortgages.NumMortOutstanding", "Mortgages.NumMortPartSatisfied",
             "Mortgages.NumMortSatisfied", "SICCode.SicText_1", "SICCode.SicText_2", "SICCode.SicText_3",
             "SICCode.SicText_4", "LimitedPartnerships.NumGenPartners", "LimitedPartnerships.NumLimPartners", "URI"]
for i in range(1, 11):
    CH_HEADER += [f"PreviousName_{i}.CONDATE", f" PreviousName_{i}.CompanyName"]
CH_HEADER += ["ConfStmtNextDueDate", " ConfStmtLastMadeUpDate"]


def ch(name, number, line1, town, postcode, status="Active", line2="", county="", country="UNITED KINGDOM",
       careof="", pobox="", dissolved="", prev=""):
    row = dict.fromkeys(CH_HEADER, "")
    row.update({"CompanyName": name, " CompanyNumber": number, "RegAddress.CareOf": careof,
                "RegAddress.POBox": pobox, "RegAddress.AddressLine1": line1, " RegAddress.AddressLine2": line2,
                "RegAddress.PostTown": town, "RegAddress.County": county, "RegAddress.Country": country,
                "RegAddress.PostCode": postcode, "CompanyCategory": "Private Limited Company",
                "CompanyStatus": status, "CountryOfOrigin": "United Kingdom", "DissolutionDate": dissolved,
                "IncorporationDate": "01/02/2010", "Accounts.AccountRefDay": "31", "Accounts.AccountRefMonth": "3",
                "Accounts.NextDueDate": "31/12/2024", "Accounts.LastMadeUpDate": "31/03/2023",
                "Accounts.AccountCategory": "MICRO ENTITY", "Mortgages.NumMortCharges": "0",
                "Mortgages.NumMortOutstanding": "0", "Mortgages.NumMortPartSatisfied": "0",
                "Mortgages.NumMortSatisfied": "0", "SICCode.SicText_1": "47910 - Retail sale via mail order houses or via Internet",
                "LimitedPartnerships.NumGenPartners": "0", "LimitedPartnerships.NumLimPartners": "0",
                "URI": f"http://business.data.gov.uk/id/company/{number}",
                "PreviousName_1.CONDATE": "01/01/2015" if prev else "", " PreviousName_1.CompanyName": prev,
                "ConfStmtNextDueDate": "15/02/2025", " ConfStmtLastMadeUpDate": "01/02/2024"})
    return [row[h] for h in CH_HEADER]


buf = io.StringIO()
w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
buf.write(",".join(CH_HEADER) + "\r\n")  # the published header is unquoted
w.writerow(ch("ACME WIDGETS LIMITED", "01234567", "1 HIGH STREET", "LONDON", "SW1A 1AA", prev="ACME GADGETS LIMITED"))
w.writerow(ch("EXAMPLE TRADING LTD", "1234568", "UNIT 4 RIVERSIDE ESTATE", "LEEDS", "LS1 4AP", county="WEST YORKSHIRE"))
w.writerow(ch("GLENCOE OUTDOOR SUPPLIES LIMITED", "SC123456", "12 STATION ROAD", "FORT WILLIAM", "PH33 6SY", country="SCOTLAND"))
w.writerow(ch("OLD MILL BAKERY LIMITED", "02345678", "THE OLD MILL", "BATH", "BA1 1AA", status="Dissolved", dissolved="01/06/2022"))
w.writerow(ch("STRIKE OFF SOON LIMITED", "03456789", "9 KING STREET", "MANCHESTER", "M2 4LQ", status="Active - Proposal to Strike off"))
w.writerow(ch("BÄCKEREI MÜLLER UK LIMITED", "04567890", "3 DEANSGATE", "MANCHESTER", "M3 2BA"))
w.writerow(ch("SMITH, JONES & CO LTD", "05678901", "C/O SMITH ACCOUNTANTS", "BIRMINGHAM", "B1 1AA", line2="2 COLMORE ROW"))
w.writerow(["BROKEN ROW LIMITED", "06789012", "only a few fields"])
w.writerow(ch("", "07890123", "5 NOWHERE LANE", "YORK", "YO1 7HH"))
w.writerow(ch("NUMBERLESS LIMITED", "N/A", "6 MARKET PLACE", "DERBY", "DE1 3AA"))
w.writerow(ch("NORTHERN LIGHTS LTD", "NI012345", "10 DONEGALL SQUARE", "BELFAST", "BT1 1AA", country="NORTHERN IRELAND"))
w.writerow(ch("FAILING FIRM LIMITED", "08901234", "1 QUAY STREET", "BRISTOL", "BS1 4DB", status="Liquidation"))
open(OUT + "BasicCompanyData-sample.csv", "w", encoding="utf-8", newline="").write(buf.getvalue() + "\r\n")


# --- GLEIF LEI-CDF golden copy CSV (a subset of its ~300 columns, in their order).
def lei(base18):
    digits = "".join(str(int(c, 36)) for c in base18 + "00")
    return base18 + f"{98 - int(digits) % 97:02d}"


addr = ["xmllang", "FirstAddressLine", "AddressNumber", "AddressNumberWithinBuilding", "MailRouting",
        "AdditionalAddressLine.1", "AdditionalAddressLine.2", "AdditionalAddressLine.3", "City", "Region",
        "Country", "PostalCode"]
G_HEADER = ["LEI", "Entity.LegalName", "Entity.LegalName.xmllang"]
for i in (1, 2):
    G_HEADER += [f"Entity.OtherEntityNames.OtherEntityName.{i}", f"Entity.OtherEntityNames.OtherEntityName.{i}.xmllang",
                 f"Entity.OtherEntityNames.OtherEntityName.{i}.type"]
G_HEADER += ["Entity.TransliteratedOtherEntityNames.TransliteratedOtherEntityName.1",
             "Entity.TransliteratedOtherEntityNames.TransliteratedOtherEntityName.1.xmllang",
             "Entity.TransliteratedOtherEntityNames.TransliteratedOtherEntityName.1.type"]
G_HEADER += [f"Entity.LegalAddress.{a}" for a in addr] + [f"Entity.HeadquartersAddress.{a}" for a in addr]
G_HEADER += ["Entity.RegistrationAuthority.RegistrationAuthorityID",
             "Entity.RegistrationAuthority.OtherRegistrationAuthorityID",
             "Entity.RegistrationAuthority.RegistrationAuthorityEntityID", "Entity.LegalJurisdiction",
             "Entity.EntityCategory", "Entity.EntitySubCategory", "Entity.LegalForm.EntityLegalFormCode",
             "Entity.LegalForm.OtherLegalForm", "Entity.EntityStatus", "Entity.EntityCreationDate",
             "Registration.InitialRegistrationDate", "Registration.LastUpdateDate",
             "Registration.RegistrationStatus", "Registration.NextRenewalDate", "Registration.ManagingLOU",
             "Registration.ValidationSources", "Registration.ValidationAuthority.ValidationAuthorityID",
             "Registration.ValidationAuthority.ValidationAuthorityEntityID"]


def g(code, name, lang, line1, city, region, country, postcode, ra, number, status, regstatus,
      other=(), translit=None, hq=None):
    row = dict.fromkeys(G_HEADER, "")
    row.update({"LEI": lei(code), "Entity.LegalName": name, "Entity.LegalName.xmllang": lang})
    for i, (oname, olang, otype) in enumerate(other, 1):
        row[f"Entity.OtherEntityNames.OtherEntityName.{i}"] = oname
        row[f"Entity.OtherEntityNames.OtherEntityName.{i}.xmllang"] = olang
        row[f"Entity.OtherEntityNames.OtherEntityName.{i}.type"] = otype
    if translit:
        row["Entity.TransliteratedOtherEntityNames.TransliteratedOtherEntityName.1"] = translit
        row["Entity.TransliteratedOtherEntityNames.TransliteratedOtherEntityName.1.xmllang"] = "en"
        row["Entity.TransliteratedOtherEntityNames.TransliteratedOtherEntityName.1.type"] = "AUTO_ASCII_TRANSLITERATED_LEGAL_NAME"
    for prefix, (l1, c, r, co, pc) in (("Entity.LegalAddress.", (line1, city, region, country, postcode)),
                                        ("Entity.HeadquartersAddress.", hq or (line1, city, region, country, postcode))):
        row.update({prefix + "xmllang": lang, prefix + "FirstAddressLine": l1, prefix + "City": c,
                    prefix + "Region": r, prefix + "Country": co, prefix + "PostalCode": pc})
    row.update({"Entity.RegistrationAuthority.RegistrationAuthorityID": ra,
                "Entity.RegistrationAuthority.RegistrationAuthorityEntityID": number,
                "Entity.LegalJurisdiction": country, "Entity.EntityCategory": "GENERAL",
                "Entity.LegalForm.EntityLegalFormCode": "8888", "Entity.EntityStatus": status,
                "Entity.EntityCreationDate": "2010-02-01T00:00:00Z",
                "Registration.InitialRegistrationDate": "2015-03-04T10:00:00Z",
                "Registration.LastUpdateDate": "2024-03-04T10:00:00Z",
                "Registration.RegistrationStatus": regstatus, "Registration.NextRenewalDate": "2025-03-04T10:00:00Z",
                "Registration.ManagingLOU": "213800WAVVOPS85N2205", "Registration.ValidationSources": "FULLY_CORROBORATED",
                "Registration.ValidationAuthority.ValidationAuthorityID": ra,
                "Registration.ValidationAuthority.ValidationAuthorityEntityID": number})
    return [row[h] for h in G_HEADER]


buf = io.StringIO()
w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
w.writerow(G_HEADER)
w.writerow(g("213800ACMEWIDGET01", "Acme Widgets Limited", "en", "1 High Street", "London", "GB-LND", "GB", "SW1A 1AA",
             "RA000585", "01234567", "ACTIVE", "ISSUED", other=[("Acme Online", "en", "TRADING_OR_OPERATING_NAME")]))
w.writerow(g("529900MUELLERPRAZ2", "Müller Präzisionstechnik GmbH", "de", "Leopoldstraße 12", "München", "DE-BY", "DE",
             "80802", "RA000473", "HRB 123456", "ACTIVE", "ISSUED", translit="Mueller Praezisionstechnik GmbH"))
w.writerow(g("213800LAPSEDHOLDI3", "Lapsed Holdings PLC", "en", "20 Aldersgate Street", "London", "GB-LND", "GB",
             "EC1A 4JA", "RA000585", "09876543", "ACTIVE", "LAPSED"))
w.writerow(g("549300GONEAWAYINC4", "Gone Away Inc.", "en", "350 Fifth Avenue", "New York", "US-NY", "US", "10118",
             "RA000628", "1234567", "INACTIVE", "RETIRED"))
w.writerow(g("549300EXAMPLECORP5", "Example Corp", "en", "1209 Orange Street", "Wilmington", "US-DE", "US",
             "19801-1234", "RA000602", "7654321", "ACTIVE", "ISSUED",
             other=[("Old Example Corporation", "en", "PREVIOUS_LEGAL_NAME")],
             hq=("100 Market Street", "San Francisco", "US-CA", "US", "94105")))
w.writerow(["NOT-A-LEI", "Shifted Columns Ltd"] + [""] * (len(G_HEADER) - 2))
w.writerow([lei("213800SHORTROWXXX6"), "Short Row Ltd", "en"])
w.writerow(g("213800NONAMEXXXXX7", "", "en", "1 Nowhere", "London", "GB-LND", "GB", "N1 9GU", "RA000585", "00000001",
             "ACTIVE", "ISSUED"))
w.writerow(g("353800SAMPLEKKXXX8", "株式会社サンプル", "ja", "千代田区千代田1-1", "東京都", "JP-13", "JP", "100-0001",
             "RA000412", "0100-01-000001", "ACTIVE", "ISSUED", translit="Sample Kabushiki Kaisha"))
open(OUT + "gleif-goldencopy-lei2-sample.csv", "w", encoding="utf-8", newline="").write(buf.getvalue())

# --- A phishing-domain feed: comments, blanks, URLs, hosts-file and adblock lines.
open(OUT + "phishing-domains-sample.txt", "w", encoding="utf-8").write("""\
# Phishing domains feed (sample in the published layout)
# Updated: 2024-05-01 00:00:00 UTC
# One entry per line. Lines starting with # are comments.

evil-bank-login-sample.com
secure-login.phish-sample-bank.co.uk
http://paypa1-verify-sample.net/signin/index.php?acct=1#step2
https://203.0.113.7/login.php
0.0.0.0 tracker-phish-sample.net
127.0.0.1 localhost
||adblock-style-sample.org^
*.wildcard-phish-sample.info
sites.google.com/view/fake-bank-sample
this line is not an entry
EVIL-BANK-LOGIN-SAMPLE.COM.   # duplicate, other case; trailing comment
co.uk
раураl-sample.com
""")

# --- PhishTank online-valid.json: one JSON array, slashes escaped as PhishTank does.
def pt(pid, url, target, verified="yes", online="yes"):
    return {"phish_id": str(pid), "url": url,
            "phish_detail_url": f"http://www.phishtank.com/phish_detail.php?phish_id={pid}",
            "submission_time": "2024-04-30T21:14:03+00:00", "verified": verified,
            "verification_time": "2024-04-30T21:30:11+00:00", "online": online,
            "details": [{"ip_address": "198.51.100.23", "cidr_block": "198.51.100.0/24",
                         "announcing_network": "64500", "rir": "ripencc", "country": "GB",
                         "detail_time": "2024-04-30T21:30:12+00:00"}],
            "target": target}

items = [
    pt(8400001, "https://login.account-verify-sample.com/secure/", "PayPal"),
    pt(8400002, "http://www.account-verify-sample.com/other/page.html", "PayPal"),
    pt(8400003, "https://mail.office-update-sample.co.uk/owa/auth.php", "Microsoft"),
    pt(8400004, "https://docs.google.com/forms/d/e/1FAIpQLSfake/viewform", "Other"),
    pt(8400005, "http://xn--pypal-4ve.com/webscr", "Société Générale"),
    pt(8400006, "http://unverified-sample.com/", "Other", verified="no"),
    {"phish_id": "8400007", "phish_detail_url": "http://www.phishtank.com/phish_detail.php?phish_id=8400007"},
    pt(8400008, "http://198.51.100.23/bank/", "Other"),
]
text = json.dumps(items, ensure_ascii=False).replace("/", "\\/")
open(OUT + "online-valid-sample.json", "w", encoding="utf-8").write(text)
