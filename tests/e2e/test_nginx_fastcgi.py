"""End to end, as deployed: nginx -> FastCGI -> frontend -> broker -> raters -> site."""

from __future__ import annotations

import json
import time

import pytest
from lxml import etree

from frontend import NAMESPACE

pytestmark = pytest.mark.slow


def test_first_reply_is_w_202_then_the_final_letter(stack):
    path = "/fcgi/rateapiv3.fcgi?url=http://www.acme-widgets.co.uk/contact&url=harbour-books.com&key=guest"
    status, headers, body = stack.get(path)
    assert status == 200, stack.logs()
    assert headers["Content-Type"].startswith("text/xml") or headers["Content-Type"].startswith("application/xml")
    root = etree.fromstring(body)
    items = root.findall(f"{{{NAMESPACE}}}rating")
    # Each item is filed under the host asked about; the rating is the registrable domain's.
    assert [(i.get("domain"), i.get("rated_domain"), i.get("rating"), i.get("status")) for i in items] == [
        ("www.acme-widgets.co.uk", "acme-widgets.co.uk", "W", "202"),
        ("harbour-books.com", "harbour-books.com", "W", "202")]
    end = time.monotonic() + 60
    while time.monotonic() < end:
        items = etree.fromstring(stack.get(path)[2]).findall(f"{{{NAMESPACE}}}rating")
        if all(i.get("status") == "200" for i in items):
            break
        time.sleep(0.5)
    else:
        pytest.fail("no final rating within 60 s\n" + stack.logs())
    acme, books = items
    assert (acme.get("rating"), acme.get("ratinginfo"), acme.get("postcode")) == ("A", "", "HX7 8AB")
    assert (books.get("rating"), books.get("ratinginfo"), books.get("city")) == ("Q", "unverified", "Portland")


def test_json_api_path_and_errors_through_nginx(stack):
    status, _, body = stack.get("/api/v3/rate?url=cheap-gadgets-online.com&url=127.0.0.1&format=json")
    assert status == 200
    items = json.loads(body)
    assert items[1]["rating"] == "U" and items[1]["ratinginfo"] == "bad_url"
    status, _, body = stack.get("/api/v3/rate?format=json")
    assert status == 400 and body.strip()
    status, _, body = stack.get("/api/v3/rate?url=a.com&format=yaml")
    assert status == 400
    status, _, _ = stack.get("/healthz")
    assert status == 200
