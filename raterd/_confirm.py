"""Independent confirmation of a site's business: which register lookups to make, and what its certificate says.

Pure logic for the rating coordinator (:mod:`raterd._rating`), apart from
its threads so it can be tested with plain ``SiteFindings``:

* :func:`plan_queries`: as pages arrive, the names and postcodes (or
  registration numbers) found so far give register lookups; each pair is
  asked once per rating.  Only names that count as identified
  (``NAME_MIN_SCORE``) are looked up, at most a few of each, because a
  register match on a name the rules would not accept proves nothing.
* :func:`judge_certificate`: an OV/EV certificate whose subject organisation
  is not a CDN or host and equals (normalised, legal form ignored) the name
  the site gives is a strong confirmation: a CA checked that organisation's
  papers.  Any other certificate is only evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from raterd.extract import normalise_org_name, strip_legal_form
from raterd.fetch import CertInfo
from raterd.findings import NAME_MIN_SCORE, Confirmation, Evidence, SiteFindings
from raterd.sources import name_key

__all__ = ["Query", "plan_queries", "judge_certificate", "TLS_SOURCE", "MAX_LOOKUP_NAMES", "MAX_LOOKUP_PLACES"]

TLS_SOURCE = "tls-certificate"  # Confirmation.source of an OV/EV certificate naming the site's organisation
MAX_LOOKUP_NAMES = 3  # name groups looked up in the registers
MAX_LOOKUP_PLACES = 3  # postcodes, and registration numbers, per name


@dataclass(frozen=True)
class Query:
    """One register lookup: a name with a postcode or a registration number (and the country, if known)."""

    name: str
    postcode: str = ""
    registration: str = ""
    country: str = ""

    @property
    def label(self) -> str:
        return f"{self.name!r} + {self.postcode or self.registration}"

    def key(self) -> tuple[str, str, str, str]:
        """Two queries with the same key would get the same answer."""
        return (name_key(self.name), "".join(self.postcode.split()).casefold(), self.registration, self.country)


def plan_queries(findings: SiteFindings, asked: set[tuple[str, str, str, str]]) -> list[Query]:
    """The lookups the findings allow that are not in *asked* (which is updated), best name first."""
    names = [rep.name for score, rep, _ in findings.name_groups() if score >= NAME_MIN_SCORE]
    if not names:
        return []
    places = [(addr.postcode, "", addr.country)
              for _, addr, _ in findings.address_groups()[:MAX_LOOKUP_PLACES] if addr.postcode]
    # VAT numbers are tax identifiers, not what a company register is keyed by.
    numbers = list(dict.fromkeys(r.value for r in findings.registrations if r.scheme != "vat"))
    places += [("", number, "") for number in numbers[:MAX_LOOKUP_PLACES]]
    new = []
    for name in names[:MAX_LOOKUP_NAMES]:
        for postcode, number, country in places:
            query = Query(name, postcode, number, country)
            key = query.key()
            if key[0] and key not in asked:
                asked.add(key)
                new.append(query)
    return new


def _org_key(name: str) -> str:
    normalised = normalise_org_name(name)
    return strip_legal_form(normalised) or normalised


def judge_certificate(findings: SiteFindings, cert: CertInfo) -> tuple[Confirmation | None, Evidence | None]:
    """What *cert* adds: a confirmation, or an evidence line saying why it does not count.

    Sets ``findings.certificate_org`` for an OV/EV certificate that is not a
    CDN's, before choosing the site's name, because the rules let a name the
    certificate agrees with win over other candidates.
    """
    issuer = cert.issuer_organisation or "unknown CA"
    if not cert.names_organisation:
        if cert.validation in ("EV", "OV") and cert.organisation:
            value = f"{cert.organisation}: a CDN or hosting company's certificate, not the site owner's"
        else:
            value = f"{cert.validation} certificate: names no organisation"
        return None, Evidence(kind="certificate", value=value, method=cert.validation, source=issuer)
    organisation = cert.organisation or ""
    findings.certificate_org = organisation
    best = findings.best_name()
    if best is None or _org_key(best.name) != _org_key(organisation):
        named = best.name if best is not None else "no name"
        return None, Evidence(kind="certificate", method=cert.validation, source=issuer,
                              value=f"{organisation}: not the organisation the site names ({named})")
    place = ", ".join(p for p in (cert.locality, cert.country) if p)
    return Confirmation(
        source=TLS_SOURCE, matched_name=organisation, strength="strong",
        detail=f"{cert.validation} certificate issued by {issuer} to {organisation!r}"
               f"{f' ({place})' if place else ''}: the organisation the site names"), None
