"""``serve_layouts``: put a topic's fixture sites on the loopback server, with registers that know its companies.

Usage in a ``test_<topic>.py``::

    @pytest.fixture(scope="module")
    def outcomes(serve_layouts):
        env = serve_layouts(SITES, companies=COMPANIES)
        with SitePipeline(env.settings(), system_lookup=FakeDNS()) as pipeline:
            return {domain: pipeline.rate(domain) for domain in SITES}

``companies`` are Companies House rows (``CompanyName``, ``CompanyNumber``,
``RegAddress.AddressLine1``, ``RegAddress.PostTown``, ``RegAddress.PostCode``,
``CompanyStatus``...), written in the register's own CSV format next to the
sample file and imported with it, so a site can be confirmed by name and
postcode exactly as in production.
"""

from __future__ import annotations

import csv
import pathlib
from collections.abc import Callable, Iterable, Mapping

import pytest

from raterd.sources import SourceIndex, import_companies_house
from tests.raterd.corpus import CorpusEnv, CorpusSite, serve_corpus
from tests.raterd.corpus.serve import DATA
from tests.raterd.fixtures import FixtureServer, Response

SAMPLE_REGISTER = DATA / "BasicCompanyData-sample.csv"

ServeLayouts = Callable[..., CorpusEnv]


def write_companies_house_csv(path: pathlib.Path, rows: Iterable[Mapping[str, str]]) -> pathlib.Path:
    """*rows* as a BasicCompanyData CSV with the sample file's header (every other column empty)."""
    with SAMPLE_REGISTER.open(encoding="utf-8", newline="") as sample:
        header = next(csv.reader(sample))
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        for row in rows:
            wanted = {key.strip(): value for key, value in row.items()}
            writer.writerow([wanted.get(column.strip(), "") for column in header])
    return path


@pytest.fixture(scope="session")
def serve_layouts(fixture_server: FixtureServer, tmp_path_factory: pytest.TempPathFactory) -> ServeLayouts:
    def serve(sites: Mapping[str, CorpusSite], *, companies: Iterable[Mapping[str, str]] = (),
              catch_all: Mapping[str, Response] | None = None) -> CorpusEnv:
        """Serve *sites*; *catch_all* maps a host to what it answers for every unknown path (a parking lander)."""
        workdir = tmp_path_factory.mktemp("layouts")
        env = serve_corpus(fixture_server, workdir, sites)
        extra = list(companies)
        if extra:
            mine = write_companies_house_csv(workdir / "BasicCompanyData-layouts.csv", extra)
            with SourceIndex(env.sources) as index:
                # One import of all parts: an import replaces the source's previous data.
                import_companies_house(index, [SAMPLE_REGISTER, mine], force=True)
        for host, response in (catch_all or {}).items():
            fixture_server.site(host).not_found = response
        return env

    return serve
