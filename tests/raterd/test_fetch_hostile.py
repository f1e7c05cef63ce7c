"""Hostile sites: each gives a defined result within the deadline, and the fetcher survives.

Trickling servers (body and headers), servers that never answer, a 50 MB
page, a 10 GiB gzip bomb, redirects to private addresses and to IP literals,
names that a hostile DNS points at 10.x, 169.254.169.254, 100.64.x,
::ffff:127.0.0.1 and 127.0.0.1.
"""

from __future__ import annotations

import gzip
import time
import tracemalloc

import pytest

from raterd.fetch import (
    BlockedAddress,
    Deadline,
    DeadlineExceeded,
    Fetcher,
    ReadTimeout,
    Resolver,
)
from tests.raterd.fixtures import FakeDNS, FixtureServer, Response, Site, hostile

HOSTILE = "hostile.example.com"
MAX_BYTES = 1_000_000
# A long, very repetitive but real page: it compresses far more than most, and must still be read.
REPETITIVE = b"<html><body><table>" + b"<tr><td>Widget</td><td>\xc2\xa35.00</td></tr>\n" * 40_000 + b"</table>"

EVIL_DNS = {
    "ten.evil.example.com": ["10.0.0.1"],
    "metadata.evil.example.com": ["169.254.169.254"],
    "cgnat.evil.example.com": ["100.64.0.1"],
    "mapped.evil.example.com": ["::ffff:127.0.0.1"],
    "loopback.evil.example.com": ["127.0.0.1"],  # untrusted: from DNS, not from the operator
    "mixed.evil.example.com": ["8.8.8.8", "10.0.0.1"],
}


@pytest.fixture(scope="module")
def sites(fixture_server: FixtureServer) -> FixtureServer:
    server = fixture_server
    port = server.http_port
    pages: dict = {
        "/": "<p>hostile home</p>",
        "/trickle": hostile.trickle(b"<html><body>" + b"x" * 60 + b"</body></html>", rate=1.0),
        "/trickle-headers": hostile.trickle(b"<p>never mind</p>", rate=1.0, headers_too=True),
        "/stall": Response(body=b"<p>too late</p>", delay=60.0),
        "/huge": hostile.huge_page(50 * hostile.MIB),
        "/bomb": hostile.gzip_bomb(),
        "/repetitive": Response(body=gzip.compress(REPETITIVE), headers={"Content-Encoding": "gzip"}),
        "/nul": Response(body=b"<html><body>" + bytes(3000) + b"</body></html>"),
        "/utf16": Response(body="<html><body><p>Acme Widgets Ltd</p></body></html>".encode("utf-16"),
                           content_type="text/html; charset=utf-16"),
        "/stray-nul": Response(body=b"<html><body><p>Acme\x00 Widgets Ltd, 1 Main St</p></body></html>"),
        "/to-literal": hostile.redirect(f"http://127.0.0.1:{port}/"),
        "/to-literal-v6": hostile.redirect(f"http://[::1]:{port}/"),
        "/to-decimal-literal": hostile.redirect(f"http://2130706433:{port}/"),
        **hostile.redirect_chain(3, f"http://127.0.0.1:{port}/", prefix="/chain-to-literal"),
    }
    for name in EVIL_DNS:
        pages[f"/to/{name}"] = hostile.redirect(f"http://{name}:{port}/")
    server.add_site(HOSTILE, Site(pages))
    return server


@pytest.fixture
def fetcher(sites: FixtureServer):
    resolver = Resolver(sites.resolver_overrides(), default_ports=sites.ports, system_lookup=FakeDNS(EVIL_DNS))
    with Fetcher(resolver, ca_bundle=sites.ca_bundle, max_bytes=MAX_BYTES) as fetcher:
        yield fetcher


@pytest.mark.timeout(15)
def test_trickled_body_ends_at_the_deadline(fetcher: Fetcher, sites: FixtureServer) -> None:
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        fetcher.get(sites.url(HOSTILE, "/trickle"), Deadline(3))
    assert time.monotonic() - started < 4.0


@pytest.mark.timeout(15)
def test_trickled_headers_end_at_the_deadline(fetcher: Fetcher, sites: FixtureServer) -> None:
    # Every single read succeeds within a second, so only the watchdog can stop this.
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        fetcher.get(sites.url(HOSTILE, "/trickle-headers"), Deadline(3))
    assert time.monotonic() - started < 4.0


@pytest.mark.timeout(15)
def test_server_that_never_answers_ends_at_the_deadline(fetcher: Fetcher, sites: FixtureServer) -> None:
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        fetcher.get(sites.url(HOSTILE, "/stall"), Deadline(2))
    assert time.monotonic() - started < 3.0


@pytest.mark.timeout(15)
def test_stalled_page_gives_up_at_the_read_timeout_before_the_deadline(sites: FixtureServer) -> None:
    resolver = Resolver(sites.resolver_overrides(), default_ports=sites.ports, system_lookup=FakeDNS())
    with Fetcher(resolver, read_timeout=1.0) as fetcher:
        rating = Deadline(10)
        with pytest.raises(ReadTimeout):
            fetcher.get(sites.url(HOSTILE, "/stall"), rating)
        assert rating.remaining() > 7  # the rest of the rating's time is still there


@pytest.mark.timeout(15)
def test_deadline_is_shared_by_all_fetches_of_a_rating(fetcher: Fetcher, sites: FixtureServer) -> None:
    rating = Deadline(2)
    with pytest.raises(DeadlineExceeded):
        fetcher.get(sites.url(HOSTILE, "/stall"), rating)
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        fetcher.get(sites.url(HOSTILE, "/"), rating)  # a fast page, but the rating's time is up
    assert time.monotonic() - started < 0.5


@pytest.mark.timeout(30)
def test_fifty_megabyte_page_is_truncated_in_bounded_memory(fetcher: Fetcher, sites: FixtureServer) -> None:
    tracemalloc.start()
    try:
        page = fetcher.get(sites.url(HOSTILE, "/huge"), Deadline(20))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert page.status == 200 and page.truncated
    assert page.bytes_read == MAX_BYTES and len(page.text) == MAX_BYTES
    assert page.text.startswith("<!DOCTYPE html>")
    assert page.wire_bytes <= MAX_BYTES + 64 * 1024
    assert peak < 10 * MAX_BYTES  # a fraction of the 50 MB


@pytest.mark.timeout(30)
def test_gzip_bomb_is_truncated_after_little_input(fetcher: Fetcher, sites: FixtureServer) -> None:
    tracemalloc.start()
    try:
        page = fetcher.get(sites.url(HOSTILE, "/bomb"), Deadline(20))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert page.truncated and page.bytes_read == MAX_BYTES
    assert page.text is None and page.unreadable.startswith("a decompression bomb")
    assert page.wire_bytes < 200_000  # ~1 KB of wire per MiB of zeros
    assert peak < 10 * MAX_BYTES


def test_a_compressed_page_that_is_only_long_is_read_up_to_the_cap(fetcher: Fetcher, sites: FixtureServer) -> None:
    page = fetcher.get(sites.url(HOSTILE, "/repetitive"), Deadline(10))
    assert page.truncated and page.unreadable == "" and page.text is not None
    assert page.text.startswith("<html><body><table><tr><td>Widget</td><td>£5.00")


@pytest.mark.parametrize(("path", "readable"), [("/nul", False), ("/utf16", True), ("/stray-nul", True)])
def test_binary_data_declared_as_html_is_not_read_as_text(fetcher: Fetcher, sites: FixtureServer, path: str,
                                                          readable: bool) -> None:
    page = fetcher.get(sites.url(HOSTILE, path), Deadline(5))
    assert (page.text is not None) == readable
    assert page.unreadable == ("" if readable else "binary data, not text")
    if readable:
        assert "Acme" in page.text


def test_fetcher_survives_the_hostile_pages(fetcher: Fetcher, sites: FixtureServer) -> None:
    for path in ("/huge", "/bomb"):
        fetcher.get(sites.url(HOSTILE, path), Deadline(20))
    assert fetcher.get(sites.url(HOSTILE, "/"), Deadline(5)).text == "<p>hostile home</p>"


@pytest.mark.parametrize(
    ("name", "address"),
    [(name, addresses[-1]) for name, addresses in EVIL_DNS.items()],
)
def test_redirect_to_a_name_with_a_private_address_is_refused_at_the_hop(
    fetcher: Fetcher, sites: FixtureServer, name: str, address: str
) -> None:
    with pytest.raises(BlockedAddress) as caught:
        fetcher.get(sites.url(HOSTILE, f"/to/{name}"), Deadline(5))
    assert caught.value.host == name and caught.value.address == address
    assert caught.value.url == f"http://{name}:{sites.http_port}/"


@pytest.mark.parametrize("path", ["/to-literal", "/to-literal-v6", "/to-decimal-literal"])
def test_redirect_to_an_ip_literal_is_refused(fetcher: Fetcher, sites: FixtureServer, path: str) -> None:
    with pytest.raises(BlockedAddress):
        fetcher.get(sites.url(HOSTILE, path), Deadline(5))


def test_redirect_chain_to_an_ip_literal_is_followed_then_refused(fetcher: Fetcher, sites: FixtureServer) -> None:
    site = sites.site(HOSTILE)
    before = len(site.hits)
    with pytest.raises(BlockedAddress) as caught:
        fetcher.get(sites.url(HOSTILE, "/chain-to-literal/0"), Deadline(5))
    assert caught.value.url == f"http://127.0.0.1:{sites.http_port}/"
    assert site.hits[before:] == ["/chain-to-literal/0", "/chain-to-literal/1", "/chain-to-literal/2"]


@pytest.mark.parametrize("name", sorted(EVIL_DNS))
def test_names_resolving_privately_are_refused_directly(fetcher: Fetcher, sites: FixtureServer, name: str) -> None:
    with pytest.raises(BlockedAddress):
        fetcher.get(f"http://{name}:{sites.http_port}/", Deadline(5))
