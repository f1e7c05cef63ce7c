"""A site whose pages each answer after a delay, and a count of how many were in flight at once.

Ten identity pages that take a second each are fetched concurrently, so the
rating takes about one or two seconds, not ten.  With ``everything=True``
robots.txt, the home page and every unknown path (``/sitemap.xml``) are slow
too: robots.txt and the home page are fetched together, then the identity
pages in as few rounds as the per-host connection limit allows, so the
whole rating takes about three delays.  The tests check the behaviour (the
server saw the requests overlap); the benchmark (``scripts/bench_rater.py``)
reports the times.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from tests.raterd.fixtures import Request, Response, Site

from ._html import page

__all__ = ["SlowPages", "SLOW_LINKS"]

# Ten identity pages, as a shop's footer links them (text, path).
SLOW_LINKS = (
    ("Contact us", "/contact"), ("About us", "/about-us"), ("Impressum", "/impressum"),
    ("Legal notice", "/legal-notice"), ("Privacy policy", "/privacy-policy"), ("Terms and conditions", "/terms"),
    ("Shipping", "/shipping"), ("Returns", "/returns"), ("Company information", "/company-information"),
    ("Customer service", "/customer-service"),
)


@dataclass
class SlowPages:
    """Builds the site and records ``in_flight``/``max_in_flight`` of its slow pages."""

    delay: float = 1.0
    everything: bool = False
    in_flight: int = 0
    max_in_flight: int = 0
    served: list[str] = field(default_factory=list)
    overlaps: list[tuple[str, ...]] = field(default_factory=list)  # paths in flight together, when >1
    stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    _current: list[str] = field(default_factory=list)

    def reset(self) -> None:
        with self._lock:
            self.in_flight = self.max_in_flight = 0
            self.served.clear()
            self.overlaps.clear()

    def _slow(self, body: str, status: int = 200, content_type: str = "text/html; charset=utf-8"):
        def handler(request: Request) -> Response:
            with self._lock:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                self._current.append(request.path)
                if len(self._current) > 1:
                    self.overlaps.append(tuple(self._current))
            try:
                self.stop.wait(self.delay)  # the server's handler thread: a slow back end
            finally:
                with self._lock:
                    self.in_flight -= 1
                    self._current.remove(request.path)
                    self.served.append(request.path)
            return Response(status, body.encode(), content_type=content_type)
        return handler

    def together(self, *paths: str) -> bool:
        """True if the server was answering all *paths* at one moment."""
        with self._lock:
            return any(set(paths) <= set(seen) for seen in self.overlaps)

    def site(self) -> Site:
        footer = " ".join(f'<a href="{path}">{text}</a>' for text, path in SLOW_LINKS)
        pages: dict = {"/": page("Slowpoke Supplies", "<h1>Everything, eventually</h1>",
                                 '<p class="price">£5.00</p><button>Add to basket</button>', footer=footer)}
        for text, path in SLOW_LINKS:
            body = f"<h1>{text}</h1><p>Slowpoke Supplies Ltd<br>10 Snail Lane<br>Norwich<br>NR1 1AA</p>"
            pages[path] = self._slow(page(text, body))
        if not self.everything:
            return Site(pages)
        pages["/"] = self._slow(pages["/"])
        pages["/robots.txt"] = self._slow("User-agent: *\nAllow: /\n", content_type="text/plain")
        slow_not_found = self._slow("<h1>Not found</h1>", 404)
        return _EverythingSlow(pages, slow_not_found)


class _EverythingSlow(Site):
    """A site whose unknown paths are slow too (the 404 of ``/sitemap.xml`` costs a delay)."""

    def __init__(self, pages: dict, not_found) -> None:
        super().__init__(pages)
        self._slow_not_found = not_found

    def respond(self, request: Request) -> Response:
        if request.target in self.pages or request.path in self.pages:
            return super().respond(request)
        self.hits.append(request.target)
        return self._slow_not_found(request)
