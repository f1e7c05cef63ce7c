"""Headless Chromium (Debian's package, driven by Playwright) on /status and /rating/<domain>.

Served through nginx and FastCGI like the rest of the end-to-end tests.
Asserts what a person would notice: the pages load with no console errors
and no failed requests, the live data is on screen, and /status refreshes
itself. Screenshots are kept in ``artifacts/screenshots/`` (CI keeps
``artifacts/``).
"""

from __future__ import annotations

import os
import re
import shutil
import time

import pytest

from tests.e2e.conftest import require
from tests.support.processes import ROOT

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
SHOTS = os.path.join(ROOT, "artifacts", "screenshots")
# As the workplace notes say: without these, Chromium phones home at start
# and its connections are refused on a closed network.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    require(CHROMIUM, "chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(None, "playwright (pip install '.[test]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Watched:
    """A page that records console errors and failed or erroring requests."""

    def __init__(self, browser) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type in ("error", "warning") and self.problems.append(f"console {m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} {r.failure}"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))

    def shot(self, name: str) -> None:
        os.makedirs(SHOTS, exist_ok=True)
        self.page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def _until(predicate, what: str, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def _rated(stack, domain: str) -> None:
    path = f"/api/v3/rate?url={domain}&format=json"
    end = time.monotonic() + 60
    while time.monotonic() < end:
        status, _, body = stack.get(path)
        if status == 200 and b'"status":"200"' in body.replace(b" ", b""):
            return
        time.sleep(0.3)
    pytest.fail(f"{domain} not rated in 60 s\n" + stack.logs())


def test_status_page_shows_live_data_and_refreshes(stack, browser):
    _rated(stack, "harbour-books.com")
    w = Watched(browser)
    w.page.goto(stack.url + "/status", wait_until="networkidle")
    raters = w.page.locator("#raters")
    assert raters.count() == 1
    # Two raterd workers registered: their rows are on screen. (Polled from
    # here: the page's Content-Security-Policy rightly forbids eval, which
    # Playwright's wait_for_function would need.)
    _until(lambda: w.page.locator("#raters tbody tr").count() >= 2, "two rater rows")
    assert "harbour-books.com" in w.page.inner_text("body")
    first = w.page.inner_text("#updated")
    _until(lambda: w.page.inner_text("#updated") != first, "the page to refresh itself")
    # After the script's refresh: the same units and coloured letters as the server wrote.
    uptime = w.page.inner_text("dd[data-path='frontend.uptime']")
    assert re.fullmatch(r"[0-9.]+ s|[0-9]+ min( [0-9]+ s)?|[0-9]+ h( [0-9]+ min)?", uptime), uptime
    assert w.page.inner_text("dd[data-path='frontend.requests_per_min']").endswith(" / min")
    assert w.page.locator("#ratings .letter").count() >= 1
    colour = w.page.locator("#ratings .letter").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour not in ("", "rgba(0, 0, 0, 0)"), colour
    assert w.page.locator("nav.ops a[href$='/metrics']").count() == 1
    w.shot("status.png")
    assert w.problems == []


def test_rating_details_page_shows_the_evidence(stack, browser):
    _rated(stack, "acme-widgets.co.uk")
    w = Watched(browser)
    w.page.goto(stack.url + "/rating/acme-widgets.co.uk", wait_until="networkidle")
    text = w.page.inner_text("body")
    for expected in ("acme-widgets.co.uk", "Acme Widgets", "HX7 8AB", "companies-house"):
        assert expected.lower() in text.lower(), (expected, text[:2000])
    w.shot("rating-acme-widgets.png")
    w.page.goto(stack.url + "/rating/acme-widgets.co.uk?format=popup", wait_until="networkidle")
    assert "HX7 8AB" in w.page.inner_text("body")
    w.shot("rating-acme-widgets-popup.png")
    assert w.problems == []


def _text_or_empty(page, selector: str) -> str:
    """Text of ``selector``, or "" while the page is between two loads (its reload is the point)."""
    try:
        return page.inner_text(selector, timeout=1000)
    except Exception:  # noqa: BLE001 - a navigation in progress or the element gone
        return ""


def test_unrated_domain_page_queues_it_and_shows_the_rating_without_a_manual_reload(stack, browser):
    domain = "quiet-notes.org"
    w = Watched(browser)
    first = w.page.goto(stack.url + f"/rating/{domain}", wait_until="load")
    # The visit queued it (nothing else in this module asks for this site).
    assert first is not None and first.status == 202, (first and first.status, stack.logs())
    state = w.page.get_attribute("#pending", "data-state")
    assert state in ("queued", "rating"), w.page.inner_text("body")
    assert w.page.locator("h1 .letter-W").count() == 1
    w.shot("rating-pending.png")
    # No goto/reload from here on: the page reloads itself until the letter is there.
    _until(lambda: _text_or_empty(w.page, "h1 .letter") not in ("", "W"), "the rating to appear", timeout=90)
    assert w.page.locator("#pending").count() == 0
    assert domain in w.page.inner_text("h1")
    w.shot("rating-arrived.png")
    assert w.problems == [], w.problems
