"""robots.txt: whether the site lets SiteTruthBot read a page.

Flow: before the home page, the pipeline calls :func:`fetch_robots` once per
origin and asks :meth:`RobotsPolicy.allowed` for every URL it means to fetch;
a home page that is not allowed makes the rating X/``blocked``.  Parsing and
matching are done by ``protego`` (RFC 9309 groups, longest match, ``*`` and
``$`` wildcards); this module decides what an unavailable file means, after
RFC 9309 section 2.3.1:

==========================================  ==============  =================
robots.txt answer                           ``outcome``     policy
==========================================  ==============  =================
2xx with text (HTML too: parsed as text)    ``parsed``      its rules
2xx with a binary media type                ``not_text``    allow all
404, 410 and other 4xx; too many redirects  ``missing``     allow all
401, 403                                    ``forbidden``   **disallow all**
429, 5xx                                    ``server_error``  disallow all
network error, TLS failure, deadline        ``unreachable``   disallow all
==========================================  ==============  =================

One deliberate deviation: RFC 9309 treats 401/403 like any other 4xx
("unavailable": allow all).  We follow the older convention of treating them
as "keep out" (:data:`FORBIDDEN_DISALLOWS`), because a site that refuses us
its robots.txt almost always refuses us its pages too, and reporting that as
``blocked`` is both politer and more accurate than a failed rating.  429 is
handled as a server error, as the big crawlers do.

Errors about the base URL itself (not http/https, an IP literal) are raised;
failures fetching robots.txt are recorded in ``RobotsPolicy.error`` so the
pipeline can tell "the site is down" (``no_website``) from "robots.txt says
no" (``blocked``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from protego import Protego

from ._urls import parse_target
from .deadline import Deadline
from .errors import FetchError, TooManyRedirects
from .fetcher import Fetcher

__all__ = ["RobotsPolicy", "fetch_robots", "ROBOTS_TOKEN", "ROBOTS_MAX_BYTES", "FORBIDDEN_DISALLOWS"]

log = logging.getLogger(__name__)

ROBOTS_TOKEN = "SiteTruthBot"
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: parse at least 500 KiB
FORBIDDEN_DISALLOWS = True


@dataclass(frozen=True)
class RobotsPolicy:
    """The rules of one origin's robots.txt (or what stands in for them)."""

    url: str  # the robots.txt URL
    outcome: str  # parsed | not_text | missing | forbidden | server_error | unreachable
    status: int | None = None  # HTTP status, None when none was received
    error: FetchError | None = None  # why it was unreachable
    truncated: bool = False  # longer than ROBOTS_MAX_BYTES; the rest was ignored
    _parser: Protego | None = None
    _default: bool = True  # the answer when there are no rules

    @classmethod
    def allow_all(cls, url: str, outcome: str, **context: object) -> RobotsPolicy:
        return cls(url, outcome, _default=True, **context)  # type: ignore[arg-type]

    @classmethod
    def disallow_all(cls, url: str, outcome: str, **context: object) -> RobotsPolicy:
        return cls(url, outcome, _default=False, **context)  # type: ignore[arg-type]

    @classmethod
    def parse(cls, url: str, text: str, *, status: int | None = 200, truncated: bool = False) -> RobotsPolicy:
        if truncated:
            text = text.rpartition("\n")[0]  # the last line was cut in the middle
        return cls(url, "parsed", status=status, truncated=truncated, _parser=Protego.parse(text))

    def allowed(self, url: str, user_agent: str = ROBOTS_TOKEN) -> bool:
        """May *user_agent* fetch *url*? (*url* on the origin this policy is for.)"""
        if self._parser is None:
            return self._default
        return bool(self._parser.can_fetch(url, user_agent))

    @property
    def sitemaps(self) -> tuple[str, ...]:
        return tuple(self._parser.sitemaps) if self._parser is not None else ()

    def crawl_delay(self, user_agent: str = ROBOTS_TOKEN) -> float | None:
        if self._parser is None:
            return None
        delay = self._parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None


def fetch_robots(fetcher: Fetcher, base_url: str, deadline: Deadline, *, site: str | None = None) -> RobotsPolicy:
    """Fetch and interpret ``/robots.txt`` of *base_url*'s origin (see the module table).

    *site* is the site the rating is for (see :meth:`Fetcher.get`).
    """
    url = parse_target(base_url).origin + "/robots.txt"
    try:
        page = fetcher.get(url, deadline, accept_non_html=True, max_bytes=ROBOTS_MAX_BYTES, site=site)
    except TooManyRedirects as error:
        return RobotsPolicy.allow_all(url, "missing", error=error)
    except FetchError as error:
        log.info("robots.txt unreachable, disallowing all: %s", error)
        return RobotsPolicy.disallow_all(url, "unreachable", error=error)
    status = page.status
    if 200 <= status < 300:
        if page.text is None:
            return RobotsPolicy.allow_all(url, "not_text", status=status)
        return RobotsPolicy.parse(url, page.text, status=status, truncated=page.truncated)
    if status in (401, 403):
        if FORBIDDEN_DISALLOWS:
            return RobotsPolicy.disallow_all(url, "forbidden", status=status)
        return RobotsPolicy.allow_all(url, "forbidden", status=status)
    if status == 429 or status >= 500:
        return RobotsPolicy.disallow_all(url, "server_error", status=status)
    return RobotsPolicy.allow_all(url, "missing", status=status)
