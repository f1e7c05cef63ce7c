"""The rater's fixture corpus: 20+ web sites with known owners, served on loopback, and their expected ratings.

:mod:`.sites` holds the corpus as data (site -> pages, certificate, expected
rating and evidence); :mod:`.serve` puts it on a
:class:`~tests.raterd.fixtures.FixtureServer` with a sources index and a
GLEIF-format API, and checks outcomes against expectations.  Used by
``tests/raterd/test_pipeline_corpus.py`` and ``scripts/bench_rater.py``.
"""

from .serve import (
    BLOCKLIST_NAME,
    GLEIF_PATH,
    SLOW_GLEIF_PATH,
    CorpusEnv,
    build_sources,
    gleif_site,
    matches,
    problems,
    serve_corpus,
)
from .sites import CORPUS, GLEIF_RECORDS, NOT_SITES, CorpusSite, Dynamic, Expect

__all__ = [
    "CORPUS",
    "NOT_SITES",
    "GLEIF_RECORDS",
    "CorpusSite",
    "Expect",
    "Dynamic",
    "CorpusEnv",
    "serve_corpus",
    "build_sources",
    "gleif_site",
    "problems",
    "matches",
    "BLOCKLIST_NAME",
    "GLEIF_PATH",
    "SLOW_GLEIF_PATH",
]
