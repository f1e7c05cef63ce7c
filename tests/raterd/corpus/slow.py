"""A site whose identity pages each answer after a delay, and a count of how many were in flight at once.

Acceptance 2 of the rater: ten identity pages that take a second each are
fetched concurrently, so the rating takes about one or two seconds, not ten.
The test checks the behaviour (the server saw the requests overlap); the
benchmark (``scripts/bench_rater.py``) reports the times.
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
    in_flight: int = 0
    max_in_flight: int = 0
    served: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.in_flight = self.max_in_flight = 0
            self.served.clear()

    def _slow(self, body: str):
        def handler(request: Request) -> Response:
            with self._lock:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                self.stop.wait(self.delay)  # the server's handler thread: a slow back end
            finally:
                with self._lock:
                    self.in_flight -= 1
                    self.served.append(request.path)
            return Response(body=body.encode())
        return handler

    def site(self) -> Site:
        footer = " ".join(f'<a href="{path}">{text}</a>' for text, path in SLOW_LINKS)
        pages: dict = {"/": page("Slowpoke Supplies", "<h1>Everything, eventually</h1>",
                                 '<p class="price">£5.00</p><button>Add to basket</button>', footer=footer)}
        for text, path in SLOW_LINKS:
            body = f"<h1>{text}</h1><p>Slowpoke Supplies Ltd<br>10 Snail Lane<br>Norwich<br>NR1 1AA</p>"
            pages[path] = self._slow(page(text, body))
        return Site(pages)
