"""The rating pipeline: one registrable domain in, one rating (letter, ``ratinginfo``, location, evidence) out.

Where it sits: a raterd worker process builds one :class:`SitePipeline` from
its :class:`RaterSettings` (the CLI parses flags into those once), then for
every JOB the broker sends calls :meth:`SitePipeline.rate` and turns the
:class:`RatingOutcome` into a RESULT message; the ``progress`` callback it
passes becomes PULSE messages.  Nothing here talks to the broker or the
store.

Flow of one rating, all inside one :class:`~raterd.fetch.Deadline` (default
30 s) that nothing can stretch (the fetcher's watchdog cuts sockets at the
deadline, remote sources get a shorter sub-deadline, and ``rate`` stops
waiting for its thread pool when time is up):

1. the domain is checked (:func:`protocol.domains.registrable_domain`): an IP
   literal or an unreadable name is ``U/bad_url``, a name that is not a
   registrable domain ``U/no_domain``;
2. the node-local blocklists (:func:`raterd.sources.blocklist_hits`): a hit
   does not stop the rating (its evidence is still gathered) but the rules
   make it ``X/negative_info`` whatever else is found;
3. the site is found (:mod:`raterd._site_search`, which documents the order
   of ``https``/``http`` and bare/``www.`` names and what each failure
   means): robots.txt and the home page are asked for together, and a home
   page that only sends the browser on (meta refresh, a one-line script) is
   followed within the site; nothing answering, or only an unreadable page
   (a decompression bomb, binary data), is ``U/no_website``; robots.txt
   refusing us the home page is ``X/blocked``;
4. the identity pages the home page links to (and ``/sitemap.xml`` when the
   home page did not fill the page budget) are fetched concurrently in a
   per-rating thread pool, as many at once as ``connections_per_host``
   allows, and extracted as they arrive (:func:`raterd.extract.extract_page`);
5. in the same pool, as soon as a name and a postcode (or a registration
   number) are known: the node-local registers (:func:`raterd.sources.registry_match`)
   and the remote GLEIF API (:class:`raterd.sources.GleifClient`, its own
   timeout), so a slow source delays nothing else;
6. the TLS certificate: an OV/EV certificate that is not a CDN's and names
   the organisation the site names is a strong confirmation;
7. :func:`raterd.rules.decide` turns the findings into the rating; the
   pipeline adds what it did (pages fetched, errors, sources asked) to the
   evidence, capped for the wire.  Every URL in the evidence is one a
   person can follow: a site reached through an operator's mapping
   (``--resolve``, ``--hosts``) is named as asked, on the default port,
   never by the internal port it was fetched on; fetch errors are words
   ("HTTPS: connection refused"), with the URL in the item's ``page``.

Decisions taken here (documented because the API contract leaves them open):

* a site whose name resolves only to non-public addresses (the SSRF guard
  refuses it) is ``U/no_website``: there is no public web site to rate, and
  ``bad_url`` means the *request* was unreadable, which it was not;
* a home page that is not HTML (a PDF, an image) or that answers with an HTTP
  error is "no home page": ``U/no_website``;
* robots.txt answering 5xx (or 429) is a failing site, ``U/no_website``, not
  ``X/blocked``: RFC 9309 forbids crawling it, so we read nothing, but a
  30-day "blocked" rating for a site that was merely down would be wrong;
  401/403 is ``X/blocked`` (see :mod:`raterd.fetch.robots`).

``rate`` never raises for anything a site (or a source) can do; it raises
only for programming errors, which the worker reports as FAILED with the
traceback.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import urllib3

from protocol.domains import registrable_domain
from protocol.errors import DomainError
from protocol.messages import MAX_EVIDENCE_ITEMS, Result
from protocol.vocabulary import LOCATION_FIELDS, Rating, RatingInfo
from raterd._rating import SiteRating
from raterd.fetch import DEFAULT_RATING_SECONDS, DEFAULT_USER_AGENT, Deadline, Fetcher, Resolver
from raterd.fetch.resolver import DEFAULT_PORTS, SystemLookup
from raterd.findings import Evidence
from raterd.sources import GleifClient, SourceIndex, make_gleif_client, open_readonly

__all__ = ["RaterSettings", "RatingOutcome", "ProgressFn", "SitePipeline", "MAX_OUTCOME_EVIDENCE"]

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, str, int, int], None]
"""``progress(stage, detail, done, total)``: called from the thread that called
:meth:`SitePipeline.rate` only (never from the pool), so the worker may send a
PULSE on its socket from it.  Stages: ``rating``, ``blocklist``, ``robots``,
``fetched``, ``sitemap``, ``source``, ``waiting``, ``decided``."""

# Evidence items in one outcome: well under the protocol's limit, because
# the details page shows them all and the store keeps them for 30 days.
MAX_OUTCOME_EVIDENCE = min(200, MAX_EVIDENCE_ITEMS)


@dataclass(frozen=True)
class RaterSettings:
    """Everything a worker needs to rate sites, built once by the CLI from flags.

    ``resolve`` (``--resolve NAME:ADDR[:PORT]``) and ``hosts_file``
    (``--hosts``) map names to addresses, trusted for those names asked for
    directly, on 80/443, ``http_port``/``https_port`` and the ports an option
    names (:mod:`raterd.fetch.resolver`); ``ca_bundle`` adds trusted CAs;
    ``sources`` is the node-local index (None: ``$SITETRUTH_SOURCES`` or
    ``./sitetruth-sources.db``); ``gleif_url`` None means
    ``$SITETRUTH_GLEIF_URL`` or the public API, ``""`` disables the remote
    lookup.  ``deadline`` bounds one rating; ``max_pages`` the HTML pages
    read per site, home page included (robots.txt and sitemaps not
    counted); ``max_bytes`` each page.  ``threads`` is the per-rating pool,
    ``connections_per_host`` what the fetcher opens to one server at once:
    6, like a browser, so ten slow identity pages take two rounds, not three.
    ``http_port``/``https_port`` are where sites are looked for (always 80
    and 443 in production; fixture sites and demo clusters use others).
    ``gleif_timeout`` is the remote lookup's own limit (never past the
    rating's deadline).
    """

    resolve: tuple[str, ...] = ()
    hosts_file: str | None = None
    ca_bundle: str | None = None
    sources: str | None = None
    gleif_url: str | None = None
    deadline: float = DEFAULT_RATING_SECONDS
    max_pages: int = 20
    max_bytes: int = 1_000_000
    threads: int = 8
    connections_per_host: int = 6
    user_agent: str = DEFAULT_USER_AGENT
    gleif_timeout: float = 5.0
    http_port: int = 80
    https_port: int = 443

    def __post_init__(self) -> None:
        if isinstance(self.resolve, str):
            raise TypeError("RaterSettings.resolve is a tuple of NAME:ADDR strings, not one string")
        object.__setattr__(self, "resolve", tuple(self.resolve))
        if not (self.deadline > 0 and math.isfinite(self.deadline)):
            raise ValueError(f"deadline must be a positive number of seconds, not {self.deadline!r}")
        if not self.gleif_timeout > 0:
            raise ValueError(f"gleif_timeout must be positive, not {self.gleif_timeout!r}")
        for name in ("max_pages", "max_bytes", "threads", "connections_per_host"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)!r}")
        for name in ("http_port", "https_port"):
            if not 0 < getattr(self, name) < 65536:
                raise ValueError(f"{name} must be a TCP port, not {getattr(self, name)!r}")


@dataclass(frozen=True)
class RatingOutcome:
    """A finished rating, ready to become a RESULT message (see :meth:`to_result`).

    ``evidence`` items are dicts of five short strings (``kind``, ``value``,
    ``page``, ``method``, ``source``); ``location`` has exactly the keys of
    ``LOCATION_FIELDS`` (given for A and Q only).  ``stats`` is for logs and
    benchmarks (pages fetched, lookups made...), not for the wire.
    """

    domain: str
    rating: Rating
    ratinginfo: RatingInfo
    location: dict[str, str] | None
    evidence: tuple[dict, ...]
    elapsed: float
    stats: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_result(self, job_id: str) -> Result:
        """The RESULT message for job *job_id*."""
        return Result(job_id=job_id, domain=self.domain, rating=self.rating, ratinginfo=self.ratinginfo,
                      location=dict(self.location) if self.location else None, evidence=self.evidence,
                      elapsed=round(self.elapsed, 3))


def _no_progress(stage: str, detail: str, done: int, total: int) -> None:
    pass


class SitePipeline:
    """Rates sites one at a time for one worker process; reused across jobs.

    Builds the resolver, the fetcher (its connection pools are kept between
    ratings), opens the sources index read-only and makes the GLEIF client.
    Build it after ``fork``: it holds sockets and an SQLite connection.
    ``system_lookup`` replaces ``getaddrinfo`` (tests play DNS with it).
    """

    def __init__(self, settings: RaterSettings, *, system_lookup: SystemLookup | None = None) -> None:
        self.settings = settings
        # Everything that can refuse the settings comes first, before anything
        # that holds a file or a socket.
        # Mappings are trusted on 80/443 and on the ports sites are looked for
        # (a demo or test cluster serves its sites elsewhere), plus the ports
        # each --resolve names.
        self.resolver = Resolver.from_options(settings.resolve, settings.hosts_file, system_lookup=system_lookup,
                                              default_ports=DEFAULT_PORTS | {settings.http_port, settings.https_port})
        self._gleif_pool = urllib3.PoolManager(num_pools=2, maxsize=max(2, settings.threads))
        self.gleif: GleifClient | None = make_gleif_client(settings.gleif_url, timeout=settings.gleif_timeout,
                                                           pool=self._gleif_pool)
        # Connection pools are kept across ratings (a site's pages reuse them),
        # but only a few sites' worth: a rated site is not visited again for
        # weeks, and every pool may hold connections_per_host idle sockets.
        self.fetcher = Fetcher(self.resolver, ca_bundle=settings.ca_bundle, max_bytes=settings.max_bytes,
                               connections_per_host=settings.connections_per_host,
                               user_agent=settings.user_agent, max_pools=16)
        self.index: SourceIndex = open_readonly(settings.sources)
        self._site_ports = {"http": settings.http_port, "https": settings.https_port}
        self._closed = False

    def public_urls(self, text: str) -> str:
        """*text* with the URLs of mapped sites, and of sites on the rater's site ports, on the default port."""
        return self.resolver.public_urls(text, self._site_ports)

    def gleif_for(self, seconds: float) -> GleifClient | None:
        """A GLEIF client whose requests give up after *seconds* (sharing the pool).

        One per lookup, because the limit is the lesser of the configured
        timeout and what is left of that rating's deadline.
        """
        if self.gleif is None or seconds <= 0:
            return None
        return GleifClient(self.gleif.base_url, timeout=min(seconds, self.settings.gleif_timeout),
                           pool=self._gleif_pool)

    # -- rating --------------------------------------------------------------

    def rate(self, domain: str, *, deadline: float | None = None,
             progress: ProgressFn | None = None) -> RatingOutcome:
        """Rate *domain* (a registrable domain) within *deadline* seconds (default: the settings').

        Returns within the deadline (plus the time to build the outcome)
        whatever the site does; see the module docstring for the flow.
        """
        if self._closed:
            raise RuntimeError("SitePipeline is closed")
        started = time.monotonic()
        seconds = self.settings.deadline if deadline is None else float(deadline)
        if not seconds > 0:
            raise ValueError(f"deadline must be positive, not {deadline!r}")
        # The fetches get all but a small margin, so there is time to decide
        # and hand the result back before the caller's deadline.
        margin = min(0.5, 0.05 * seconds)
        work = Deadline(max(0.0, seconds - margin))
        report = progress or _no_progress
        report("rating", domain, 0, 0)
        try:
            site = registrable_domain(domain)
        except DomainError as error:
            evidence = [Evidence(kind="rule", value=f"not a rateable domain: {error.reason}", source="pipeline")]
            outcome = RatingOutcome(domain, Rating.U, RatingInfo(error.ratinginfo), None,
                                    tuple(e.to_dict() for e in evidence), time.monotonic() - started)
            report("decided", f"{outcome.rating}/{outcome.ratinginfo}", 0, 0)
            return outcome
        rating = SiteRating(self, site, work, report, grace=margin / 2)
        try:
            decision, extra, stats = rating.run()
        finally:
            rating.close()
        evidence = _public(_merge_evidence(decision.evidence, extra), self.public_urls)
        location = {key: decision.location.get(key, "") for key in LOCATION_FIELDS} if decision.location else None
        elapsed = time.monotonic() - started
        outcome = RatingOutcome(domain, decision.rating, decision.ratinginfo, location, evidence, elapsed, stats)
        log.info("rated %s: %s/%s in %.2f s (%d pages)", domain, outcome.rating, outcome.ratinginfo or "-",
                 elapsed, stats.get("pages", 0))
        report("decided", f"{outcome.rating}/{outcome.ratinginfo}", stats.get("pages", 0), stats.get("pages", 0))
        return outcome

    def close(self) -> None:
        """Close connection pools and the sources index; the pipeline cannot rate after this."""
        if self._closed:
            return
        self._closed = True
        self.fetcher.close()
        self.index.close()
        self._gleif_pool.clear()

    def __enter__(self) -> SitePipeline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _public(evidence: tuple[dict, ...], public_urls: Callable[[str], str]) -> tuple[dict, ...]:
    """Evidence whose links a person can follow (:meth:`SitePipeline.public_urls` on every string)."""
    return tuple({key: public_urls(value) if isinstance(value, str) else value
                  for key, value in item.items()} for item in evidence)


def _merge_evidence(decided: list[dict[str, str]], extra: list[Evidence]) -> tuple[dict, ...]:
    """The rules' evidence first (it explains the rating), then what the pipeline did; capped."""
    out = list(decided[:MAX_OUTCOME_EVIDENCE])
    seen = {tuple(e.values()) for e in out}
    for item in extra:
        if len(out) >= MAX_OUTCOME_EVIDENCE:
            break
        wire = item.to_dict()
        key = tuple(wire.values())
        if key not in seen:
            seen.add(key)
            out.append(wire)
    return tuple(out)
