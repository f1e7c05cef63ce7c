"""Serving the corpus: its sites on a FixtureServer, its sources in a temporary index, a loopback GLEIF API.

Used by the corpus tests and by ``scripts/bench_rater.py``::

    with FixtureServer() as server:
        env = serve_corpus(server, workdir)       # sites, GLEIF API, sources index
        with SitePipeline(env.settings(), system_lookup=FakeDNS()) as pipeline:
            outcome = pipeline.rate("acme-widgets.co.uk")
            assert not problems(outcome, CORPUS["acme-widgets.co.uk"].expect)

Names that are not mapped go to a :class:`~tests.raterd.fixtures.FakeDNS`
that knows nothing, so nothing here ever touches the real DNS.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from raterd.pipeline import RaterSettings, RatingOutcome
from raterd.sources import SourceIndex, import_blocklist, import_companies_house, import_phishtank
from tests.raterd.fixtures import FixtureServer, Request, Response, Site

from .sites import CORPUS, GLEIF_RECORDS, CorpusSite, Dynamic, Expect

__all__ = ["CorpusEnv", "serve_corpus", "build_sources", "gleif_site", "problems", "matches", "DATA",
           "BLOCKLIST_NAME", "GLEIF_PATH", "SLOW_GLEIF_PATH"]

DATA = pathlib.Path(__file__).resolve().parent.parent / "data"
BLOCKLIST_NAME = "phishing-domains"
GLEIF_HOST = "127.0.0.1"  # the GLEIF client is configured by URL, like the real one
GLEIF_PATH = "/api/v1"
SLOW_GLEIF_PATH = "/slow/api/v1"  # answers after SLOW_GLEIF_SECONDS: for "a slow source delays nothing"
SLOW_GLEIF_SECONDS = 30.0


@dataclass
class CorpusEnv:
    """Where the served corpus is: what a RaterSettings needs to reach it."""

    server: FixtureServer
    resolve: tuple[str, ...]
    sources: str
    gleif_url: str
    slow_gleif_url: str
    gleif_queries: list[str]

    def settings(self, **overrides: Any) -> RaterSettings:
        base = RaterSettings(resolve=self.resolve, ca_bundle=self.server.ca_bundle, sources=self.sources,
                             gleif_url=self.gleif_url, http_port=self.server.http_port,
                             https_port=self.server.https_port, deadline=15.0)
        return dataclasses.replace(base, **overrides)


def _hosts(domain: str, site: CorpusSite) -> tuple[str, ...]:
    return (domain,) if site.hosts is None else site.hosts


def _entry(entry: Any, server: FixtureServer) -> Any:
    if not isinstance(entry, Dynamic):
        return entry

    def handler(request: Request) -> Response:
        port = server.https_port if request.scheme == "https" else server.http_port
        built = entry.build(f"{request.scheme}://{request.host}:{port}")
        return built if isinstance(built, Response) else Response(body=built.encode("utf-8"))

    return handler


def serve_corpus(server: FixtureServer, workdir: str | os.PathLike[str],
                 corpus: Mapping[str, CorpusSite] = CORPUS) -> CorpusEnv:
    """Register every corpus site (and the GLEIF API) on *server*; build the sources index in *workdir*."""
    resolve: list[str] = []
    for domain, site in corpus.items():
        hosts = _hosts(domain, site)
        for host in hosts:
            resolve.append(f"{host}:{site.address}")
        if not hosts or site.address != "127.0.0.1":
            continue
        pages = {path: _entry(entry, server) for path, entry in site.pages.items()}
        certificate = site.cert(server.ca, list(hosts)) if site.cert else None
        for host in hosts:
            # One Site object per name; they share the page table.
            server.add_site(host, Site(pages), certificate=certificate)
    queries: list[str] = []
    server.add_site(GLEIF_HOST, gleif_site(GLEIF_RECORDS, queries))
    base = f"http://{GLEIF_HOST}:{server.http_port}"
    return CorpusEnv(server, tuple(resolve), build_sources(os.path.join(os.fspath(workdir), "sources.db")),
                     base + GLEIF_PATH, base + SLOW_GLEIF_PATH, queries)


def build_sources(path: str) -> str:
    """A node-local index with the sample files in their published formats imported."""
    with SourceIndex(path) as index:
        import_companies_house(index, DATA / "BasicCompanyData-sample.csv")
        import_blocklist(index, DATA / "phishing-domains-sample.txt", BLOCKLIST_NAME)
        import_phishtank(index, DATA / "online-valid-sample.json")
    return path


# -- the GLEIF API, JSON:API format --------------------------------------------------------------

def _resource(record: Mapping[str, Any]) -> dict[str, Any]:
    address = {"language": "en", "addressLines": list(record["lines"]), "city": record["city"], "region": None,
               "country": record["country"], "postalCode": record["postcode"]}
    return {
        "type": "lei-records", "id": record["lei"],
        "attributes": {
            "lei": record["lei"],
            "entity": {"legalName": {"name": record["name"], "language": "en"}, "otherNames": [],
                       "legalAddress": address, "headquartersAddress": dict(address),
                       "registeredAs": record.get("registered_as", ""), "jurisdiction": record["country"],
                       "status": record.get("status", "ACTIVE")},
            "registration": {"status": record.get("registration", "ISSUED")},
        },
        "links": {"self": f"https://api.gleif.org/api/v1/lei-records/{record['lei']}"},
    }


def gleif_site(records: tuple[Mapping[str, Any], ...], queries: list[str]) -> Site:
    """``GET .../lei-records?filter[entity.legalName]=PREFIX[&filter[entity.legalAddress.country]=CC]``.

    The legal-name filter is a case-insensitive prefix match, as the live
    API's is.  Every query's name is appended to *queries*.
    """
    lock = threading.Lock()

    def search(request: Request) -> Response:
        params = parse_qs(request.query)
        name = (params.get("filter[entity.legalName]") or [""])[0]
        country = (params.get("filter[entity.legalAddress.country]") or [""])[0]
        with lock:
            queries.append(name)
        found = [_resource(r) for r in records
                 if r["name"].casefold().startswith(name.casefold()) and (not country or r["country"] == country)]
        body = {"meta": {"pagination": {"total": len(found)}}, "data": found}
        return Response(body=json.dumps(body).encode(), content_type="application/vnd.api+json")

    def slow(request: Request) -> Response:
        answer = search(request)
        return dataclasses.replace(answer, delay=SLOW_GLEIF_SECONDS)

    return Site({f"{GLEIF_PATH}/lei-records": search, f"{SLOW_GLEIF_PATH}/lei-records": slow})


# -- checking an outcome against an Expect --------------------------------------------------------

def _field_matches(key: str, want: str, have: str) -> bool:
    if want.startswith("~"):
        return want[1:].casefold() in have.casefold()
    if key == "page":
        return urlsplit(have).path == want
    return have == want


def matches(pattern: Mapping[str, str], item: Mapping[str, Any]) -> bool:
    return all(_field_matches(k, v, str(item.get(k, ""))) for k, v in pattern.items())


def problems(outcome: RatingOutcome, expect: Expect) -> list[str]:
    """What is wrong with *outcome* for *expect*, one line each (empty: all as expected)."""
    found = []
    if (str(outcome.rating), str(outcome.ratinginfo)) != (expect.rating, expect.ratinginfo):
        found.append(f"rated {outcome.rating}/{outcome.ratinginfo}, expected {expect.rating}/{expect.ratinginfo}")
    location = outcome.location or {}
    for key, value in expect.location.items():
        if location.get(key) != value:
            found.append(f"location {key} is {location.get(key)!r}, expected {value!r}")
    for pattern in expect.evidence:
        if not any(matches(pattern, item) for item in outcome.evidence):
            found.append(f"no evidence like {dict(pattern)}")
    for pattern in expect.absent:
        hits = [item for item in outcome.evidence if matches(pattern, item)]
        if hits:
            found.append(f"unexpected evidence {hits[0]}")
    return found
