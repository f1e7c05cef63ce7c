"""Page layouts around addresses: other companies' credits to leave out, label/value tables to read.

* A web host's or designer's address is not the site's: imprints name the
  host by law (``Hébergeur : OVH SAS, 2 rue Kellermann ...``) and footers
  credit the platform or agency (``Hosted by …``, ``Powered by …``,
  ``Website by …``).  :func:`without_hosting_blocks` blanks labelled host
  blocks; :func:`credit_lines` finds credit lines in the DOM (from the credit
  phrase to the end of its block) so :func:`without_credits` can cut them out
  of the page's lines.  Text before the phrase in the same block (the shop's
  own ``© Acme Ltd, 1 High St …``) stays.
* Addresses laid out as label/value pairs, ``<th>Street</th><td>…</td>``
  or ``<dt>PLZ</dt><dd>…</dd>``, in the languages we read:
  :func:`label_value_blocks` turns each table or list into address lines
  (street, postcode and city, region, country) for the address reader.
"""

from __future__ import annotations

import re

from lxml import etree

from raterd.extract._dom import fold, fold_keep, text_lines, visible_text

__all__ = ["without_hosting_blocks", "credit_lines", "without_credits", "label_value_blocks"]

# Web hosts are named with their address in many imprints (French law requires
# it); that is the host's address, not the site owner's.
_HOSTING = re.compile(
    r"^\s*(?:h[ée]bergeur|h[ée]bergement|hosting(?:\s+provider)?|hosted\s+by|web\s*host(?:ing)?|hoster|"
    r"webhosting|technischer\s+dienstleister|alojamiento|proveedor\s+de\s+alojamiento|hosting\s+provider|"
    r"fornitore\s+hosting|hostingpartij|hostingprovider)\b",
    re.I,
)
# Credits for another company, anywhere in a line (matched on fold_keep'd text).
_CREDIT = re.compile(
    r"\b(?:hosted\s+(?:by|with|at)|hosting\s+(?:by|provided\s+by)|powered\s+by|website\s+by|site\s+by|"
    r"web\s*design\s+(?:by|:)|(?:web)?site\s+designed\s+(?:and\s+(?:built|developed)\s+)?by|"
    r"website\s+(?:designed|developed|built)\s+by|theme\s+by|shop\s+system\s+by|"
    r"heberge\s+par|site\s+heberge\s+(?:par|chez)|realisation\s*(?:du\s+site)?\s*:|conception\s+et\s+realisation|"
    r"gehostet\s+(?:von|bei)|webdesign\s*(?:von|:)|umsetzung\s*(?:von|:)|realisiert\s+von|"
    r"alojado\s+(?:por|en)|desarrollado\s+por|diseno\s+web\s*(?:por|:)|realizzato\s+da|ospitato\s+da|"
    r"sviluppato\s+da|gehost\s+(?:door|bij)|ontwikkeld\s+door|hospedado\s+(?:por|em)|desenvolvido\s+por)",
)
# A cheap first look (substring tests run in C): most pages carry no credit at all, and folding
# every text node costs.
_CREDIT_STEMS = ("hosted", "hosting", "powered", "website", "site by", "designed", "theme by", "shop system",
                 "héberg", "heberg", "réalis", "realis", "conception", "gehostet", "webdesign", "umsetzung",
                 "alojado", "desarrollado", "diseño web", "diseno web", "realizzato", "ospitato", "sviluppato",
                 "gehost", "ontwikkeld", "hospedado", "desenvolvido")


def _may_credit(text: str) -> bool:
    low = text.lower()
    return any(stem in low for stem in _CREDIT_STEMS)


_CREDIT_BLOCKS = frozenset({"p", "div", "li", "td", "dd", "section", "footer", "address", "small", "aside"})


def without_hosting_blocks(lines: list[str]) -> list[str]:
    """The lines minus "Hébergeur : OVH SAS, 2 rue Kellermann ..." blocks (blanked, so indexes keep)."""
    out = list(lines)
    for i, line in enumerate(lines):
        match = _HOSTING.match(line)
        if match:
            out[i] = ""
            if not line[match.end():].strip(" :-–"):
                for j in range(i + 1, min(i + 5, len(lines))):  # label alone: its block follows
                    out[j] = ""
    return out


def credit_lines(doc: etree._Element, text: str | None = None) -> dict[str, int]:
    """Lines of credit blocks: line text -> offset where the credit starts (0: the whole line is credit).

    ``text``: the page's visible text, if the caller has it; a page without
    any credit word in it is done with at once.
    """
    credits: dict[str, int] = {}
    if text is not None and not _may_credit(text):
        return credits
    seen: set[int] = set()
    for el in doc.iter():
        if len(credits) > 50:
            break
        for text in (el.text, el.tail):
            if not text or not _may_credit(text) or not _CREDIT.search(fold_keep(text)):
                continue
            block = el if text is el.text else el.getparent()
            while block is not None and (not isinstance(block.tag, str) or block.tag.lower() not in _CREDIT_BLOCKS):
                block = block.getparent()
            if block is None or id(block) in seen:
                continue
            seen.add(id(block))
            lines = text_lines(visible_text(block, limit=2000))
            started = False
            for line in lines[:12]:
                match = _CREDIT.search(fold_keep(line))
                if match and not started:
                    started = True
                    credits[line] = match.start()
                elif started:
                    credits[line] = 0
    return credits


def without_credits(lines: list[str], credits: dict[str, int]) -> list[str]:
    """The lines with every credit cut out (the part of a line before its credit phrase stays)."""
    if not credits:
        return lines
    return [line[: credits[line]] if line in credits else line for line in lines]


# -- label/value tables ---------------------------------------------------------------------------

_FIELDS = {
    "street": {"street", "street address", "address", "address line 1", "strasse", "str", "anschrift", "adresse",
               "rue", "adres", "straat", "straat en huisnummer", "indirizzo", "via", "calle", "direccion", "domicilio",
               "rua", "endereco", "morada", "gatuadress", "besoksadress", "adress", "gateadresse", "adresse",
               "ulica", "ulice", "ulica a cislo", "utca", "cim", "utca hazszam", "katuosoite", "osoite", "address 1"},
    "postcode": {"zip", "zip code", "zipcode", "postcode", "post code", "postal code", "plz", "postleitzahl",
                 "code postal", "cp", "c p", "npa", "cap", "codigo postal", "cep", "postnummer", "postnr", "kod pocztowy",
                 "psc", "irsz", "iranyitoszam", "postinumero", "eircode"},
    "city": {"city", "town", "suburb", "ort", "stadt", "ville", "localite", "plaats", "woonplaats", "citta",
             "localita", "comune", "ciudad", "localidad", "poblacion", "municipio", "cidade", "localidade", "postort",
             "by", "poststed", "sted", "miasto", "miejscowosc", "mesto", "obec", "varos", "telepules", "kaupunki",
             "postitoimipaikka", "paikkakunta"},
    "postcode city": {"plz ort", "plz und ort", "postcode city", "postcode and city", "zip city", "npa localite",
                      "code postal ville", "cap citta", "cp ciudad", "cp poblacion", "cep cidade", "postnummer ort",
                      "postnr by", "postnummer og sted", "postnummer sted", "kod pocztowy miejscowosc",
                      "psc mesto", "psc obec", "irsz varos", "postinumero ja toimipaikka", "postcode plaats",
                      "postcode en plaats"},
    "region": {"state", "province", "region", "county", "bundesland", "kanton", "provincia", "estado", "uf",
               "provincie", "wojewodztwo", "kraj", "megye", "departement"},
    "country": {"country", "land", "pays", "pais", "paese", "nazione", "maa", "kraj", "stat", "orszag", "staat"},
}
_FIELD_OF = {label: field for field, labels in _FIELDS.items() for label in labels}


def _field(label: str) -> str | None:
    key = fold(label)
    return _FIELD_OF.get(key) or _FIELD_OF.get(key.removesuffix(" nr").strip())


def _pairs(container: etree._Element) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if container.tag == "dl":
        label = ""
        for child in container:
            tag = child.tag.lower() if isinstance(child.tag, str) else ""
            if tag == "dt":
                label = " ".join((child.text_content() or "").split())
            elif tag == "dd" and label:
                pairs.append((label, " ".join(text_lines(visible_text(child, limit=500)))))
                label = ""
        return pairs
    for row in container.iter("tr"):
        cells = [c for c in row if isinstance(c.tag, str) and c.tag.lower() in ("th", "td")]
        if len(cells) == 2:
            pairs.append((" ".join((cells[0].text_content() or "").split()),
                          " ".join(text_lines(visible_text(cells[1], limit=500)))))
    return pairs


def label_value_blocks(doc: etree._Element, limit: int = 20) -> list[list[str]]:
    """Address lines from each ``<table>`` / ``<dl>`` whose labels name address fields."""
    blocks: list[list[str]] = []
    for container in doc.iter("table", "dl"):
        if len(blocks) >= limit:
            break
        fields: dict[str, str] = {}
        for label, value in _pairs(container)[:40]:
            field = _field(label.rstrip(" :："))
            if field and value and field not in fields:
                fields[field] = value[:200]
        has_place = "postcode" in fields or "postcode city" in fields
        if "street" not in fields or not has_place:
            continue
        tail = [fields["country"]] if "country" in fields else []
        if "postcode city" in fields:
            place = fields["postcode city"]
        elif "region" in fields or fields.get("postcode", "")[:1].isalpha():
            # a state field ("City, ST 12345": US, CA, AU) or a British/Irish/Canadian postcode: city first
            place = " ".join(p for p in (f"{fields.get('city', '')},", fields.get("region"), fields.get("postcode")) if p)
        else:
            place = " ".join(p for p in (fields.get("postcode"), fields.get("city")) if p)
        blocks.append([fields["street"], place.strip(" ,"), *tail])
    return blocks
