"""Finding the site of one rating: which origin answers, its robots.txt and the page to rate as the home page.

One :class:`SiteSearch` runs as one task of a rating's thread pool
(:class:`raterd._rating.SiteRating` submits it first and merges its
:class:`Home` when it is done).  The broker sends a registrable domain; the
site is looked for at, in order::

    https://DOMAIN   https://www.DOMAIN   http://DOMAIN   http://www.DOMAIN

(on the rater's ``https_port``/``http_port``; a name mapped with
``--resolve NAME:ADDR:PORT`` is looked for on PORT under both schemes, which
is how a demo or test serves a few sites on a high port while every other
site is still looked for on 80/443). https first because most sites are served there and it gives the
certificate; the bare name before ``www.`` because it is the name we were
given (a redirect to ``www.`` is followed anyway).  For each origin
robots.txt and the home page are asked for together (one round trip
instead of two; the page is thrown away unread if robots.txt forbids it).
If robots.txt cannot be reached (no such name, refused, TLS failure, SSRF
refusal) the next origin is tried, and a name that does not resolve or is
refused by the SSRF guard is not tried again under the other scheme.
robots.txt answering 5xx, a home page with an HTTP error, a redirect loop or
a home page that is not readable HTML also move on to the next origin.

A home page that only sends the browser on (a meta refresh or a one-line
script, :mod:`raterd.fetch.client_redirect`) is followed, like a browser
would, within the same site (registrable domain) and for at most
:data:`MAX_CLIENT_REDIRECTS` hops, each target checked against its own
origin's robots.txt; the page it ends on is the one rated.  A redirect to
another site, a loop, or a longer chain leaves the rating on the page
itself, with a note in the evidence.

The first origin that gives a readable HTML home page is the site; if
robots.txt refuses us its home page the rating is ``X/blocked``; if none
answers it is ``U/no_website``.  The rating's deadline ends the search at
once.  Pool-thread code: nothing here touches the findings or the progress
callback (events go through a queue the coordinator drains).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from functools import lru_cache
from urllib.parse import urlsplit

from protocol.domains import registrable_domain
from protocol.errors import DomainError
from raterd.extract import PageFindings, extract_page
from raterd.fetch import (
    ROBOTS_TOKEN,
    BadURL,
    BlockedAddress,
    Deadline,
    DeadlineExceeded,
    Fetcher,
    FetchError,
    NameNotFound,
    Page,
    RobotsPolicy,
    parse_resolve_option,
    client_redirect,
)

if TYPE_CHECKING:
    from raterd.pipeline import RaterSettings

__all__ = ["Home", "SiteSearch", "MAX_CLIENT_REDIRECTS", "fetch_words", "fetch_where", "site_of", "origin_of"]

MAX_CLIENT_REDIRECTS = 3  # meta refresh / script hops followed from the home page


@dataclass
class Home:
    """What finding the site gave: the origin, its robots.txt and the home page, or why not."""

    failures: list[tuple[str, str]] = field(default_factory=list)  # (URL, what went wrong, in words)
    origin: str | None = None
    robots: RobotsPolicy | None = None
    blocked: bool = False
    page: Page | None = None
    findings: PageFindings | None = None
    link_domain: str = ""
    client_redirects: list[tuple[str, str, str]] = field(default_factory=list)  # (from, to, how)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (page, what): redirects not followed


def fetch_words(error: BaseException | None) -> str:
    """A fetch error as the details page says it (the URL goes in the evidence's ``page``)."""
    return error.message if isinstance(error, FetchError) else str(error or "")


def fetch_where(error: BaseException | None, fallback: str) -> str:
    """The URL a fetch error happened at (a redirect's hop, not the first URL)."""
    return (error.url if isinstance(error, FetchError) else "") or fallback


def site_of(host: str) -> str:
    """The registrable domain of *host*, or ``""`` (an IP literal, an unknown suffix)."""
    try:
        return registrable_domain(host)
    except DomainError:
        return ""


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@lru_cache(maxsize=8)
def mapped_site_ports(resolve: tuple[str, ...]) -> dict[str, int]:
    """Names whose ``--resolve`` entry names a port: the port their site is served on."""
    ports = {}
    for entry in resolve:
        option = parse_resolve_option(entry)
        if option.port is not None:
            ports[option.name] = option.port
    return ports


class SiteSearch:
    """Find the site of *site* (see the module docstring); one use, on a pool thread.

    ``robots_for(origin)`` is the rating's shared robots.txt cache, ``events``
    its queue of progress events, ``trying`` where it reads what the search
    is waiting for when the deadline comes.
    """

    def __init__(self, fetcher: Fetcher, site: str, work: Deadline, settings: RaterSettings,
                 robots_for: Callable[[str], RobotsPolicy], events: queue.SimpleQueue[tuple[str, str]],
                 trying: list[str]) -> None:
        self.fetcher = fetcher
        self.site = site
        self.work = work
        self.settings = settings
        self.robots_for = robots_for
        self.events = events
        self.trying = trying

    def _candidates(self) -> list[str]:
        hosts = [self.site] if self.site.startswith("www.") else [self.site, f"www.{self.site}"]
        mapped = mapped_site_ports(tuple(self.settings.resolve))
        out = []
        for scheme, port, default in (("https", self.settings.https_port, 443), ("http", self.settings.http_port, 80)):
            for host in hosts:
                here = mapped.get(host, port)
                out.append(f"{scheme}://{host}" + ("" if here == default else f":{here}"))
        return out

    def run(self) -> Home:
        home = Home()
        dead_hosts: set[str] = set()
        for origin in self._candidates():
            host = urlsplit(origin).hostname or ""
            if host in dead_hosts:
                continue
            if self.work.expired:
                home.failures.append((origin + "/", "not tried: the rating's deadline had passed"))
                break
            home_url = origin + "/"
            self.trying.append(origin + "/robots.txt")
            # robots.txt and the home page are asked for together: one round
            # trip instead of two on every site.  The page is thrown away
            # unread if robots.txt turns out to forbid it.
            early = self._fetch_in_background(home_url)
            policy = self.robots_for(origin)
            self.events.put(("robots", f"{policy.url}: {policy.outcome}"))
            if policy.outcome == "unreachable":
                error = policy.error
                home.failures.append((fetch_where(error, policy.url), fetch_words(error)))
                if isinstance(error, DeadlineExceeded):
                    break
                if isinstance(error, NameNotFound | BlockedAddress | BadURL) and urlsplit(error.url).hostname == host:
                    dead_hosts.add(host)  # the other scheme asks the same DNS the same question
                continue
            if policy.outcome == "server_error":
                home.failures.append((policy.url, f"robots.txt answered HTTP {policy.status}: the site is failing"))
                continue
            if not policy.allowed(home_url, ROBOTS_TOKEN):
                home.origin, home.robots, home.blocked = origin, policy, True
                return home
            self.trying.append(home_url)
            try:
                page = self._result_of(early, home_url)
            except FetchError as error:
                home.failures.append((fetch_where(error, home_url), fetch_words(error)))
                if isinstance(error, DeadlineExceeded):
                    break
                continue
            failure = self._home_page_failure(page)
            if failure:
                home.failures.append(failure)
                continue
            followed = self._follow_client_redirects(home, origin, policy, page)
            if followed is None:
                home.client_redirects.clear()
                continue  # the page it leads to failed: try the next origin
            if home.blocked:
                return home
            origin, policy, page = followed
            home.origin, home.robots, home.page = origin, policy, page
            final_site = site_of(urlsplit(page.url).hostname or "") or self.site
            home.link_domain = final_site
            home.findings = extract_page(page.text or "", page.url, final_site, link_limit=self.settings.max_pages)
            return home
        return home

    @staticmethod
    def _home_page_failure(page: Page) -> tuple[str, str] | None:
        """(URL, why) *page* cannot be the site's home page, or None."""
        if not 200 <= page.status < 300:
            return page.url, f"home page answered HTTP {page.status}"
        if page.text is None:
            what = f"unreadable ({page.unreadable})" if page.unreadable else f"{page.content_type or 'binary'}, not HTML"
            return page.url, f"home page is {what}"
        return None

    def _follow_client_redirects(self, home: Home, origin: str, policy: RobotsPolicy,
                                 page: Page) -> tuple[str, RobotsPolicy, Page] | None:
        """The page a home page leads to by meta refresh or script, within the site and a few hops.

        Returns (origin, robots policy, page) of the page to rate: *page*
        itself when it does not redirect, or redirects where we do not
        follow (another site, too many hops, a loop).  None when the page it
        leads to cannot be fetched (recorded in ``home.failures``); sets
        ``home.blocked`` when that page's robots.txt forbids it.
        """
        visited = {page.url.split("#", 1)[0]}
        for _ in range(MAX_CLIENT_REDIRECTS + 1):
            redirect = client_redirect(page.text or "", page.url)
            if redirect is None:
                return origin, policy, page
            target = redirect.url
            page_site = site_of(urlsplit(page.url).hostname or "") or self.site
            if site_of(urlsplit(target).hostname or "") != page_site:
                home.notes.append((page.url, f"home page sends the browser ({redirect.how}) to another site, "
                                             f"{target}: not followed, the page itself is rated"))
                return origin, policy, page
            if target.split("#", 1)[0] in visited or len(visited) > MAX_CLIENT_REDIRECTS:
                home.notes.append((page.url, f"home page {redirect.how} to {target} not followed: "
                                             f"a loop or more than {MAX_CLIENT_REDIRECTS} hops"))
                return origin, policy, page
            visited.add(target.split("#", 1)[0])
            target_origin = origin_of(target)
            if target_origin != origin:
                policy = self.robots_for(target_origin)
                origin = target_origin
            if not policy.allowed(target, ROBOTS_TOKEN):
                if policy.outcome in ("unreachable", "server_error"):
                    home.failures.append((target, f"not fetched: robots.txt of {origin} could not be read"))
                    return None
                home.origin, home.robots, home.blocked = origin, policy, True
                return origin, policy, page
            self.trying.append(target)
            try:
                next_page = self.fetcher.get(target, self.work, site=self.site)
            except FetchError as error:
                home.failures.append((fetch_where(error, target), fetch_words(error)))
                return None
            failure = self._home_page_failure(next_page)
            if failure:
                home.failures.append(failure)
                return None
            home.client_redirects.append((page.url, next_page.url, redirect.how))
            page = next_page
        return origin, policy, page

    def _fetch_in_background(self, url: str) -> Future:
        """Start fetching *url* on a thread of its own (the pool may have a single thread)."""
        future: Future = Future()

        def run() -> None:
            try:
                future.set_result(self.fetcher.get(url, self.work, site=self.site))
            except BaseException as error:  # handed to whoever waits for it
                future.set_exception(error)

        threading.Thread(target=run, name=f"home {url}", daemon=True).start()
        return future

    def _result_of(self, future: Future, url: str) -> Page:
        """The page a background fetch got; its errors raised here. The fetcher ends it by the deadline."""
        try:
            return future.result(timeout=self.work.remaining() + 1.0)
        except FutureTimeout:
            raise DeadlineExceeded("deadline passed waiting for the page", url=url) from None
