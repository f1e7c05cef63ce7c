"""One rating in progress: find the site, fetch its identity pages and ask the sources, concurrently.

:class:`SiteRating` is made by :meth:`raterd.pipeline.SitePipeline.rate` for
one domain and thrown away afterwards.  Its thread (the worker's) is the
coordinator: it submits tasks to a per-rating thread pool, waits for them
with a timeout, merges each result into the ``SiteFindings`` as it arrives,
schedules what the result makes possible (the pages a page links to, the
register lookups a new name or postcode allows) and calls the progress
callback.  Pool threads only fetch, extract and look up; they never touch
the findings or the callback, so neither needs a lock and the callback may
send on a ZeroMQ socket that must not cross threads.

Finding the site is the first pool task (:class:`raterd._site_search.SiteSearch`,
which documents the order of origins, robots.txt and the home page fetched
together, and the meta-refresh/script redirects it follows).

Every other page is checked against the robots.txt of its own origin (read
once per origin, shared by the pool); the targets of redirects are not
re-checked.  Links found on identity pages are followed too while the page
budget lasts; ``sitemap.xml`` (the site's and those robots.txt names, at
most three documents) is read when the home page's links did not fill the
budget, and the identity pages it lists join the queue.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from raterd._confirm import Query, judge_certificate, plan_queries
from raterd._site_search import Home, SiteSearch, fetch_words, origin_of, site_of
from raterd.extract import IdentityLink, PageFindings, extract_page, rank_urls, sitemap_urls
from raterd.fetch import (
    ROBOTS_TOKEN,
    CertInfo,
    Deadline,
    DeadlineExceeded,
    FetchError,
    Page,
    RobotsPolicy,
    fetch_robots,
)
from raterd.findings import Confirmation, Evidence, SiteFindings
from raterd.rules import Decision, decide
from raterd.sources import GLEIF_API, blocklist_hits, registry_match

if TYPE_CHECKING:
    from raterd.pipeline import ProgressFn, SitePipeline

__all__ = ["SiteRating"]

log = logging.getLogger(__name__)

_PULSE_EVERY = 1.0  # seconds of silence before a "waiting" pulse (leases are renewed by pulses)
_MAX_SITEMAPS = 3  # sitemap documents read per rating (an index and two of its parts)
_MAX_REMOTE_LOOKUPS = 3  # remote (GLEIF) requests per rating: it is someone else's server
_DETAIL = 500  # characters of a pulse's detail


@dataclass
class _Fetched:
    """One identity page or sitemap: the page and its findings, or why it was not used."""

    url: str
    kind: str
    page: Page | None = None
    findings: PageFindings | None = None
    urls: list[str] = field(default_factory=list)  # a sitemap's <loc>s
    error: str = ""
    skipped: str = ""  # robots.txt said no


def _page_key(url: str) -> tuple[str, str, str]:
    """The same page for our purposes: scheme, port, ``www.`` and a trailing ``/`` ignored."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    return host, parts.path.rstrip("/").lower() or "/", parts.query


def _is_sitemap(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(".xml")


class SiteRating:
    """The coordinator of one rating (see the module docstring); use once."""

    def __init__(self, pipeline: SitePipeline, site: str, work: Deadline, report: ProgressFn,
                 grace: float = 0.0) -> None:
        self.pipeline = pipeline
        self.settings = pipeline.settings
        self.fetcher = pipeline.fetcher
        self.site = site
        self.link_domain = site  # the site whose pages we follow (differs if the home page redirects away)
        self.work = work
        # Fetches still running at the deadline are cut by the fetcher's
        # watchdog at that moment; waiting a little longer lets them report
        # *why* (a slow server, say) instead of only "unfinished".
        self._stop_at = time.monotonic() + work.remaining() + max(0.0, grace)
        self._report = report
        self.findings = SiteFindings(domain=site)
        self.extra: list[Evidence] = []
        self.pool = ThreadPoolExecutor(max_workers=self.settings.threads, thread_name_prefix=f"rate {site}")
        self.pending: dict[Future, tuple[int, str, Any]] = {}
        self.events: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self._sequence = 0
        self._last_pulse = time.monotonic()
        self._robots: dict[str, Future] = {}
        self._robots_lock = threading.Lock()
        self.seen_pages: set[tuple[str, str, str]] = set()
        self.seen_sitemaps: set[tuple[str, str, str]] = set()
        self.pages_planned = 0
        self.pages_done = 0
        self.pages_ok = 0
        self.queries: set[tuple[str, str, str, str]] = set()
        self.lookups_planned = 0
        self.lookups_done = 0
        self.remote_lookups = 0
        self.certificate: CertInfo | None = None
        self._blocklist_checked: set[str] = set()
        self._trying: list[str] = []  # the origin the site search is on (appended by the pool thread)

    # -- the coordinator -------------------------------------------------------

    def run(self) -> tuple[Decision, list[Evidence], dict[str, Any]]:
        self._check_blocklist(self.site)
        search = SiteSearch(self.fetcher, self.site, self.work, self.settings, self._robots_for, self.events,
                            self._trying)
        self._submit("home", None, search.run)
        self._loop()
        if self.pending:
            kinds = sorted({kind for _, kind, _ in self.pending.values()})
            if "home" in kinds:
                where = self._trying[-1] if self._trying else self.site
                self.findings.fetch_error = f"no home page before the deadline (still waiting for {where})"
                self.extra.append(Evidence(kind="fetch_error", value=self.findings.fetch_error, method="find_site",
                                           source="pipeline"))
            self.extra.append(Evidence(kind="deadline", source="pipeline", value=(
                f"{len(self.pending)} unfinished at the deadline of {self.work.seconds:g} s ({', '.join(kinds)})")))
        self._judge_certificate()
        decision = decide(self.findings)
        stats = {
            "pages": self.pages_ok, "pages_planned": self.pages_planned, "lookups": self.lookups_done,
            "remote_lookups": self.remote_lookups, "unfinished": len(self.pending),
        }
        return decision, self.extra, stats

    def close(self) -> None:
        # Threads still blocked are cut by the fetcher's watchdog at the
        # deadline; nothing waits for them here.
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _submit(self, kind: str, arg: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._sequence += 1
        self.pending[self.pool.submit(fn, *args, **kwargs)] = (self._sequence, kind, arg)

    def _loop(self) -> None:
        handlers: dict[str, Callable[[Any, Any], None]] = {
            "home": self._on_home, "page": self._on_page, "sitemap": self._on_sitemap,
            "registry": self._on_registry, "gleif": self._on_gleif,
        }
        while self.pending:
            remaining = self._stop_at - time.monotonic()
            if remaining <= 0:
                break
            done, _ = wait(list(self.pending), timeout=min(remaining, _PULSE_EVERY), return_when=FIRST_COMPLETED)
            self._drain_events()
            for future in sorted(done, key=lambda f: self.pending[f][0]):  # in submission order: deterministic
                _, kind, arg = self.pending.pop(future)
                handlers[kind](future.result(), arg)  # a task's exception is a bug: let it out
            if not done and time.monotonic() - self._last_pulse >= _PULSE_EVERY:
                self._pulse("waiting", f"{len(self.pending)} fetches and lookups in flight",
                            self.pages_done, self.pages_planned)
        self._drain_events()

    def _pulse(self, stage: str, detail: str, done: int, total: int) -> None:
        self._last_pulse = time.monotonic()
        # The monitor shows these: the same public URLs as the evidence.
        self._report(stage, self.pipeline.public_urls(detail)[:_DETAIL], done, total)

    def _drain_events(self) -> None:
        while True:
            try:
                stage, detail = self.events.get_nowait()
            except queue.Empty:
                return
            self._pulse(stage, detail, self.pages_done, self.pages_planned)

    # -- pool tasks (no findings, no callback in here) -----------------------------

    def _robots_for(self, origin: str) -> RobotsPolicy:
        """The robots.txt policy of *origin*, fetched once per rating whichever thread asks first."""
        with self._robots_lock:
            entry = self._robots.get(origin)
            owner = entry is None
            if owner:
                entry = self._robots[origin] = Future()
        if not owner:
            try:
                return entry.result(timeout=self.work.remaining() + 0.1)
            except FutureTimeout:
                error = DeadlineExceeded("deadline passed waiting for robots.txt", url=origin + "/robots.txt")
                return RobotsPolicy.disallow_all(origin + "/robots.txt", "unreachable", error=error)
        try:
            policy = fetch_robots(self.fetcher, origin + "/", self.work, site=self.site)
        except FetchError as error:  # the origin itself is unusable (IP literal, bad port)
            policy = RobotsPolicy.disallow_all(origin + "/robots.txt", "unreachable", error=error)
        except BaseException as error:
            entry.set_exception(error)
            raise
        entry.set_result(policy)
        return policy

    def _fetch(self, url: str, kind: str, *, sitemap: bool = False) -> _Fetched:
        result = _Fetched(url, kind)
        policy = self._robots_for(origin_of(url))
        if not policy.allowed(url, ROBOTS_TOKEN):
            result.skipped = (f"not fetched: robots.txt unreachable ({fetch_words(policy.error)})" if policy.error is not None
                              else f"robots.txt ({policy.outcome}) disallows it")
            return result
        try:
            page = self.fetcher.get(url, self.work, accept_non_html=sitemap, site=self.site)
        except FetchError as error:
            result.error = fetch_words(error)
            return result
        result.page = page
        if not 200 <= page.status < 300:
            result.error = f"HTTP {page.status}"
        elif page.unreadable:
            result.error = f"unreadable ({page.unreadable})"
        elif page.text is None:
            result.error = f"not {'text' if sitemap else 'HTML'} ({page.content_type or 'binary'})"
        elif sitemap:
            result.urls = sitemap_urls(page.text)
        else:
            result.findings = extract_page(page.text, page.url, self.link_domain, link_limit=self.settings.max_pages)
        return result

    def _registry_lookups(self, queries: list[Query]) -> list[tuple[Query, list[Confirmation]]]:
        index = self.pipeline.index
        return [(q, registry_match(index, q.name, q.postcode or None, q.registration or None, q.country or None))
                for q in queries]

    def _gleif_lookup(self, query: Query) -> tuple[list[Confirmation], str]:
        # Its own time limit, never past the rating's: a slow API costs this
        # lookup only.
        client = self.pipeline.gleif_for(self.work.remaining())
        if client is None:
            return [], "no time left before the deadline"
        found = client.confirm(query.name, query.postcode or None, query.country or None, query.registration or None)
        return found, str(client.last_error) if client.last_error else ""

    # -- results, in the coordinator -------------------------------------------------

    def _on_home(self, home: Home, _: None) -> None:
        for url, what in home.failures:
            self.extra.append(Evidence(kind="fetch_error", value=what, page=url, method="find_site", source="pipeline"))
        if home.origin is None:
            log.debug("%s: no home page: %s", self.site, home.failures)
            more = f" (and {len(home.failures) - 1} more, below)" if len(home.failures) > 1 else ""
            first = f"{home.failures[0][1]} at {home.failures[0][0]}" if home.failures else "nothing answered"
            self.findings.fetch_error = f"no home page: {first}{more}"
            return
        scheme = urlsplit(home.origin).scheme
        self.extra.append(Evidence(kind="site", value=home.origin, page=home.origin + "/", method=scheme,
                                   source="pipeline"))
        if home.blocked:
            # robots.txt answered, so there is a web site; it just won't be read.
            self.findings.reachable = True
            self.findings.robots_blocked = True
            robots = home.robots
            if robots is not None and robots.outcome == "forbidden":
                why = f"robots.txt answered HTTP {robots.status}: taken as disallowing everything"
            else:
                why = f"robots.txt disallows {ROBOTS_TOKEN} the home page"
            self.extra.append(Evidence(kind="robots", value=why, page=robots.url if robots else "",
                                       source="robots.txt"))
            return
        for source_page, note in home.notes:
            self.extra.append(Evidence(kind="redirect", value=note, page=source_page, source="pipeline"))
        for source_page, target, how in home.client_redirects:
            self.extra.append(Evidence(kind="redirect", value=f"home page sends the browser ({how}) to {target}",
                                       page=source_page, method=how, source="pipeline"))
            self.seen_pages.add(_page_key(source_page))
        page, found = home.page, home.findings
        if page is None or found is None:  # cannot happen: the search sets both or neither
            raise RuntimeError("home page without findings")
        if home.link_domain != self.site:
            self.link_domain = home.link_domain
            self.extra.append(Evidence(kind="redirect", value=f"home page redirects to {home.link_domain}",
                                       page=page.url, source="pipeline"))
            self._check_blocklist(home.link_domain)
        self.pages_planned += 1
        self.seen_pages.update({_page_key(page.url), _page_key(page.requested_url)})
        self._merge(found, page, "home", "")
        self._follow(found.links, "home")
        if self.pages_planned < self.settings.max_pages and home.robots is not None:
            for url in [*home.robots.sitemaps, home.origin + "/sitemap.xml"]:
                self._plan_sitemap(url)

    def _on_page(self, result: _Fetched, via: str) -> None:
        self.pages_done += 1
        if result.findings is None or result.page is None:
            self._page_failed(result, via)
            return
        self._merge(result.findings, result.page, result.kind, via)
        self._follow(result.findings.links, result.kind)

    def _on_sitemap(self, result: _Fetched, via: str) -> None:
        if result.error or result.skipped:
            # Most sites have no sitemap: worth a line on the details page, not an error.
            self.extra.append(Evidence(kind="robots" if result.skipped else "sitemap", page=result.url,
                                       value=result.skipped or f"not read: {result.error}", method="sitemap",
                                       source=via))
            return
        self._pulse("sitemap", f"{result.url}: {len(result.urls)} URLs", self.pages_done, self.pages_planned)
        self.extra.append(Evidence(kind="sitemap", value=f"{len(result.urls)} URLs", page=result.url,
                                   method="sitemap", source=via))
        for url in result.urls:
            if _is_sitemap(url):
                self._plan_sitemap(url)  # a sitemap index: its parts
        self._follow(rank_urls(result.urls, self.link_domain, limit=self.settings.max_pages), "sitemap")

    def _on_registry(self, results: list[tuple[Query, list[Confirmation]]], _: None) -> None:
        for query, confirmations in results:
            self.lookups_done += 1
            self._confirmed(query, confirmations, "registers")

    def _on_gleif(self, result: tuple[list[Confirmation], str], query: Query) -> None:
        confirmations, error = result
        self.lookups_done += 1
        if error:
            self.extra.append(Evidence(kind="source_error", value=error, source=GLEIF_API, method="remote"))
        self._confirmed(query, confirmations, GLEIF_API)

    # -- helpers of the coordinator ------------------------------------------------------

    def _check_blocklist(self, domain: str) -> None:
        if domain in self._blocklist_checked:
            return
        self._blocklist_checked.add(domain)
        hits = blocklist_hits(self.pipeline.index, domain)
        self.findings.blocklisted.extend(hits)
        detail = f"{domain}: listed by {', '.join(sorted({h.source for h in hits}))}" if hits else f"{domain}: not listed"
        self._pulse("blocklist", detail, 0, 0)

    def _merge(self, found: PageFindings, page: Page, kind: str, via: str) -> None:
        self.findings.merge_page(found)
        if page.certificate is not None and self.certificate is None:
            self.certificate = page.certificate
        self.pages_ok += 1
        if kind == "home":
            self.pages_done += 1
        size = f"{page.bytes_read} bytes" + (", truncated" if page.truncated else "")
        self.extra.append(Evidence(kind="page", value=f"HTTP {page.status}, {size}", page=page.url, method=kind,
                                   source=via or "pipeline"))
        self._pulse("fetched", page.url, self.pages_done, self.pages_planned)
        self._plan_lookups()

    def _page_failed(self, result: _Fetched, via: str) -> None:
        kind = "robots" if result.skipped else "page_error"
        self.extra.append(Evidence(kind=kind, value=result.skipped or result.error, page=result.url,
                                   method=result.kind, source=via))
        self._pulse("fetched", f"{result.url} ({result.skipped or result.error})", self.pages_done,
                    self.pages_planned)

    def _follow(self, links: list[IdentityLink], via: str) -> None:
        """Queue the identity pages among *links* (best first) while the page budget lasts."""
        for link in links:
            if _is_sitemap(link.url):
                self._plan_sitemap(link.url)
                continue
            if self.pages_planned >= self.settings.max_pages:
                break
            key = _page_key(link.url)
            if key in self.seen_pages:
                continue
            self.seen_pages.add(key)
            self.pages_planned += 1
            self._submit("page", via, self._fetch, link.url, link.kind)

    def _plan_sitemap(self, url: str) -> None:
        key = _page_key(url)
        if (len(self.seen_sitemaps) >= _MAX_SITEMAPS or key in self.seen_sitemaps
                or self.pages_planned >= self.settings.max_pages
                or site_of(urlsplit(url).hostname or "") != self.link_domain):
            return
        self.seen_sitemaps.add(key)
        self._submit("sitemap", "sitemap", self._fetch, url, "sitemap", sitemap=True)

    def _plan_lookups(self) -> None:
        """Submit the register lookups that the findings so far make possible and that are not done yet."""
        new = plan_queries(self.findings, self.queries)
        if not new:
            return
        self.lookups_planned += len(new)
        self._submit("registry", None, self._registry_lookups, new)
        for query in new:
            if self.pipeline.gleif is None or self.remote_lookups >= _MAX_REMOTE_LOOKUPS:
                break
            self.remote_lookups += 1
            self.lookups_planned += 1
            self._submit("gleif", query, self._gleif_lookup, query)

    def _confirmed(self, query: Query, confirmations: list[Confirmation], asked: str) -> None:
        known = {(c.source, c.detail) for c in self.findings.confirmations}
        for confirmation in confirmations:
            if (confirmation.source, confirmation.detail) not in known:
                self.findings.confirmations.append(confirmation)
        sources = sorted({c.source for c in confirmations})
        verdict = f"confirmed by {', '.join(sources)}" if confirmations else "no match"
        self.extra.append(Evidence(kind="source_checked", value=f"{query.label}: {verdict}", source=asked,
                                   method="registration" if query.registration else "postcode"))
        self._pulse("source", f"{asked}: {query.label}: {verdict}", self.lookups_done, self.lookups_planned)

    def _judge_certificate(self) -> None:
        if self.certificate is None:
            return
        confirmation, evidence = judge_certificate(self.findings, self.certificate)
        if confirmation is not None:
            self.findings.confirmations.append(confirmation)
        if evidence is not None:
            self.extra.append(evidence)
