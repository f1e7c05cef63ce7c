"""Shops from 30+ countries rated through the real pipeline: letter, postcode and country per shop.

Every shop is served over HTTP(S) on loopback by the fixture server (the
same way as the main corpus), rated once by one ``SitePipeline`` and
compared with what a correct rating says.  A table per country (sites,
fully right) is printed and written to ``artifacts/country-corpus.txt``.
"""

from __future__ import annotations

import pathlib
from collections import defaultdict
from collections.abc import Iterator

import pytest

from raterd.pipeline import RatingOutcome, SitePipeline
from tests.raterd.corpus import problems, serve_corpus
from tests.raterd.fixtures import FakeDNS, FixtureServer

from . import LAYOUTS, SHOPS

ARTIFACT = pathlib.Path(__file__).resolve().parents[3] / "artifacts" / "country-corpus.txt"
CORPUS = {domain: shop.corpus_site() for domain, shop in {**SHOPS, **LAYOUTS}.items()}

# Shops whose address is read but whose rating still misses for a reason outside the address reader.
# Strict: each entry fails the suite once the reason is gone, so the list cannot go stale.
KNOWN_MISSES: dict[str, str] = {}  # domain -> the cause; none at present
# The countries the corpus must cover, each with at least two of its three shops fully right.
REQUIRED = {"US", "GB", "DE", "FR", "CA", "CH", "AT", "NL", "IT", "ES", "FI", "SE", "PT", "BE", "IE", "DK",
            "HK", "SK", "NZ", "PL", "NO", "CZ", "ZA", "LU", "AU", "SG", "KR", "HU", "BR", "MX", "JP"}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RatingOutcome]]:
    with FixtureServer() as server:
        env = serve_corpus(server, tmp_path_factory.mktemp("countries"), corpus=CORPUS)
        with SitePipeline(env.settings(), system_lookup=FakeDNS()) as pipeline:
            yield {domain: pipeline.rate(domain) for domain in CORPUS}


def _table(outcomes: dict[str, RatingOutcome]) -> tuple[str, dict[str, tuple[int, int]]]:
    per_country: dict[str, list[bool]] = defaultdict(list)
    misses = []
    for domain, shop in SHOPS.items():
        found = problems(outcomes[domain], CORPUS[domain].expect)
        per_country[shop.country].append(not found)
        if found:
            cause = f" [{KNOWN_MISSES[domain]}]" if domain in KNOWN_MISSES else ""
            misses.append(f"  {domain}: {'; '.join(found)}{cause}")
    counts = {cc: (len(results), sum(results)) for cc, results in sorted(per_country.items())}
    total, right = len(SHOPS), sum(r for _, r in counts.values())
    lines = [f"{'country':8} {'sites':>5} {'fully right':>12}"]
    lines += [f"{cc:8} {n:>5} {r:>12}" for cc, (n, r) in counts.items()]
    lines.append(f"{'all':8} {total:>5} {right:>12}   ({100.0 * right / total:.1f} %)")
    if misses:
        lines += ["", "not fully right:", *misses]
    return "\n".join(lines) + "\n", counts


def test_the_corpus_has_three_shops_in_each_of_thirty_countries() -> None:
    per_country: dict[str, int] = defaultdict(int)
    for shop in SHOPS.values():
        per_country[shop.country] += 1
    assert len(per_country) >= 30 and min(per_country.values()) >= 3
    assert REQUIRED <= set(per_country)


def test_country_table_meets_the_bar(outcomes: dict[str, RatingOutcome]) -> None:
    text, counts = _table(outcomes)
    print("\n" + text)
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(text, encoding="utf-8")
    total = sum(n for n, _ in counts.values())
    right = sum(r for _, r in counts.values())
    assert right >= 0.95 * total, text
    assert all(counts[country][1] >= 2 for country in REQUIRED), text
    # The further countries likewise; one may fall short only through known misses whose cause is
    # outside the address reader (listed, with the cause, in KNOWN_MISSES).
    for country, (_, r) in counts.items():
        excused = sum(1 for d, shop in SHOPS.items() if shop.country == country and d in KNOWN_MISSES)
        assert r + excused >= 2, f"{country}\n{text}"


def _param(domain: str):
    reason = KNOWN_MISSES.get(domain)
    return pytest.param(domain, marks=pytest.mark.xfail(strict=True, reason=reason)) if reason else domain


@pytest.mark.parametrize("domain", [_param(d) for d in SHOPS])
def test_shop_gets_its_letter_postcode_and_country(outcomes: dict[str, RatingOutcome], domain: str) -> None:
    assert problems(outcomes[domain], CORPUS[domain].expect) == [], SHOPS[domain].note


@pytest.mark.parametrize("domain", list(LAYOUTS))
def test_layout_shop_is_located_at_its_own_address(outcomes: dict[str, RatingOutcome], domain: str) -> None:
    assert problems(outcomes[domain], CORPUS[domain].expect) == [], LAYOUTS[domain].note
