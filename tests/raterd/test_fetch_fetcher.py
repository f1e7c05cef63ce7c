"""The fetcher against real loopback sites: HTTP, HTTPS, redirects, bodies, charsets, concurrency.

Hostile sites (trickling, huge, bombs, redirects to private addresses) are in
test_fetch_hostile.py; certificates in test_fetch_tls.py.
"""

from __future__ import annotations

import gzip
import socket
import threading
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from raterd.fetch import (
    BadScheme,
    BadURL,
    BlockedAddress,
    BrokenResponse,
    ConnectFailed,
    ContentDecodingError,
    Deadline,
    DeadlineExceeded,
    FetchError,
    Fetcher,
    Resolver,
    TLSFailure,
    TooManyRedirects,
)
from tests.raterd.fixtures import FakeDNS, FixtureServer, Request, Response, Site, closed_port, hostile

PLAIN = "plain.example.com"
TLS_SITE = "tls.example.com"
WRONG_NAME = "wrongname.example.com"
MULTI = "multi.example.com"

HOME = "<!DOCTYPE html><html><head><title>Acme Widgets</title></head><body><p>Grüße aus Köln</p></body></html>"


def _echo(request: Request) -> Response:
    lines = [f"{name}: {value}" for name, value in sorted(request.headers.items())]
    lines.append(f"scheme: {request.scheme}")
    lines.append(f"target: {request.target}")
    lines.append(f"client port: {request.client_port}")
    return Response(body="\n".join(lines).encode(), content_type="text/plain; charset=utf-8")


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data)


CHARSET_PAGES = {
    # path: (body bytes, content type, expected text fragment, expected codec)
    "/cs/utf8": ("<p>Grüße, Ελλάδα, 日本</p>".encode(), "text/html; charset=UTF-8", "Grüße, Ελλάδα, 日本", "utf-8"),
    "/cs/latin1-undeclared": ("<p>Müller Straße 5, Zürich</p>".encode("latin-1"), "text/html",
                              "Müller Straße 5, Zürich", "cp1252"),
    "/cs/wrong-header": ("<p>Café Müller — “quoted”</p>".encode("cp1252"), "text/html; charset=utf-8",
                         "Café Müller — “quoted”", "cp1252"),
    "/cs/sjis-meta": ('<html><head><meta charset="Shift_JIS"></head><body>株式会社テスト 東京都</body></html>'.encode(
        "shift_jis"), "text/html", "株式会社テスト 東京都", "cp932"),
    "/cs/cp1251-http-equiv": (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head>'
        "<body>ООО Ромашка, Москва</body></html>".encode("cp1251"), "text/html", "ООО Ромашка, Москва", "cp1251"),
    "/cs/latin1-header-utf8-body": ("<p>Grüße aus Köln</p>".encode(), "text/html; charset=ISO-8859-1",
                                    "Grüße aus Köln", "utf-8"),
    "/cs/bom": ("\ufeff<p>naïve café</p>".encode("utf-16-le"), "text/html; charset=iso-8859-1", "naïve café",
                "utf-16-le"),
    "/cs/bogus-label": ("<p>Grüße</p>".encode(), "text/html; charset=x-no-such-charset", "Grüße", "utf-8"),
}


@pytest.fixture(scope="module")
def sites(fixture_server: FixtureServer) -> FixtureServer:
    server = fixture_server
    tls_url = server.url(TLS_SITE, "/", https=True)
    pages: dict = {
        "/": HOME,
        "/echo": _echo,
        "/gzip": Response(body=gzip.compress(HOME.encode()), headers={"Content-Encoding": "gzip"}),
        "/deflate": Response(body=_deflate(HOME.encode()), headers={"Content-Encoding": "deflate"}),
        "/brotli": Response(body=b"\x8b\x03\x80hello\x03", headers={"Content-Encoding": "br"}),
        "/malformed": hostile.malformed_html(),
        "/pdf": hostile.non_html("pdf"),
        "/png-undeclared": hostile.non_html("png", declared=False),
        "/json": hostile.non_html("json"),
        "/text": Response(body=b"User-agent: *\nDisallow:\n", content_type="text/plain"),
        "/no-content-type": Response(body=b"<html><body>bare</body></html>", content_type=None),
        "/error-page": Response(503, b"<html><body>Down for maintenance</body></html>"),
        "/to-ftp": hostile.redirect("ftp://plain.example.com/file"),
        "/to-tls": hostile.redirect(tls_url, 301),
        "/relative": hostile.redirect("../echo?from=relative"),
        "/no-location": Response(302, b"<p>moved, somewhere</p>"),
        "/caf\u00e9": "<p>accented path</p>",
        **hostile.redirect_loop(),
        **hostile.redirect_chain(5, "/", prefix="/chain5"),
        **hostile.redirect_chain(6, "/", prefix="/chain6"),
        **{f"/slow/{i}": Response(body=f"<p>slow page {i}</p>".encode(), delay=1.0) for i in range(10)},
        **{f"/quick/{i}": Response(body=f"<p>quick page {i}</p>".encode(), delay=0.2) for i in range(6)},
    }
    for path, (body, content_type, _, _) in CHARSET_PAGES.items():
        pages[path] = Response(body=body, content_type=content_type)
    server.add_site(PLAIN, Site(pages))
    server.add_site(TLS_SITE, Site({"/": HOME, "/echo": _echo}))
    server.add_site(WRONG_NAME, Site({"/": HOME}), certificate=server.ca.dv(["someone-else.example.com"]))
    server.add_site(MULTI, Site({"/": "<p>multi</p>"}))
    return server


@pytest.fixture
def fetcher(sites: FixtureServer):
    overrides = sites.resolver_overrides()
    overrides[MULTI] = ["127.0.0.2", "127.0.0.1"]  # nothing listens on 127.0.0.2: refused, then the next
    with Fetcher(Resolver(overrides, default_ports=sites.ports, system_lookup=FakeDNS()), ca_bundle=sites.ca_bundle,
                 connections_per_host=10) as fetcher:
        yield fetcher


def deadline(seconds: float = 10.0) -> Deadline:
    return Deadline(seconds)


def test_plain_http_page(fetcher: Fetcher, sites: FixtureServer) -> None:
    url = sites.url(PLAIN, "/")
    page = fetcher.get(url, deadline())
    assert (page.status, page.text, page.content_type, page.encoding) == (200, HOME, "text/html", "utf-8")
    assert page.url == page.requested_url == url
    assert page.redirects == () and not page.truncated and page.certificate is None
    assert page.bytes_read == len(HOME.encode()) and page.headers["content-type"] == "text/html; charset=utf-8"


def test_request_carries_name_port_and_user_agent(fetcher: Fetcher, sites: FixtureServer) -> None:
    page = fetcher.get(sites.url(PLAIN, "/echo"), deadline(), accept_non_html=True)
    assert f"host: {PLAIN}:{sites.http_port}" in page.text
    assert "user-agent: SiteTruthBot/3 (+https://www.sitetruth.com/bot)" in page.text
    assert "accept-encoding: gzip, deflate" in page.text


def test_https_page_verified_through_the_ca_bundle(fetcher: Fetcher, sites: FixtureServer) -> None:
    page = fetcher.get(sites.url(TLS_SITE, "/echo", https=True), deadline(), accept_non_html=True)
    assert page.status == 200
    assert "scheme: https" in page.text and f"host: {TLS_SITE}:{sites.https_port}" in page.text
    assert page.certificate is not None and TLS_SITE in page.certificate.san


def test_https_without_the_ca_bundle_is_a_tls_failure(sites: FixtureServer) -> None:
    resolver = Resolver(sites.resolver_overrides(), default_ports=sites.ports, system_lookup=FakeDNS())
    with Fetcher(resolver) as untrusting:
        with pytest.raises(TLSFailure, match="TLS failure: certificate not trusted"):
            untrusting.get(sites.url(TLS_SITE, "/", https=True), deadline())


def test_certificate_for_another_name_is_a_tls_failure(fetcher: Fetcher, sites: FixtureServer) -> None:
    with pytest.raises(TLSFailure) as caught:
        fetcher.get(sites.url(WRONG_NAME, "/", https=True), deadline())
    assert caught.value.message == "TLS failure: certificate not valid for this name"


def test_fetch_failures_are_said_in_words(sites: FixtureServer) -> None:
    """What the details page shows: what happened, not a connection class or an internal address."""
    port = closed_port()
    resolver = Resolver(sites.resolver_overrides(), ports={PLAIN: [port], TLS_SITE: [port]},
                        default_ports=sites.ports, system_lookup=FakeDNS())
    with Fetcher(resolver, read_timeout=0.5) as fetcher:
        said = {}
        for key, url in (("http refused", f"http://{PLAIN}:{port}/"), ("https refused", f"https://{TLS_SITE}:{port}/"),
                         ("untrusted", sites.url(TLS_SITE, "/", https=True)),
                         ("stalled", sites.url(PLAIN, "/slow/0")), ("no name", "http://nowhere.example.org/")):
            with pytest.raises(FetchError) as caught:
                fetcher.get(url, deadline(5))
            said[key] = caught.value.message
    assert said == {
        "http refused": "HTTP: cannot connect (connection refused)",
        "https refused": "HTTPS: cannot connect (connection refused)",
        "untrusted": "TLS failure: certificate not trusted (certificate verify failed: unknown or self-signed issuer)",
        "stalled": "HTTP: timed out after 0.5 s (the server sent nothing for the read timeout)",
        "no name": "DNS: cannot resolve nowhere.example.org (no such name)",
    }
    for text in said.values():
        assert "127.0.0.1" not in text and "Connection(" not in text and str(port) not in text


def test_redirects_are_followed_and_recorded(fetcher: Fetcher, sites: FixtureServer) -> None:
    page = fetcher.get(sites.url(PLAIN, "/chain5/0"), deadline())
    assert page.text == HOME and page.url == sites.url(PLAIN, "/")
    assert page.redirects == tuple(sites.url(PLAIN, f"/chain5/{i}") for i in range(5))


def test_more_redirects_than_the_cap_fail(fetcher: Fetcher, sites: FixtureServer) -> None:
    with pytest.raises(TooManyRedirects) as caught:
        fetcher.get(sites.url(PLAIN, "/chain6/0"), deadline())
    assert len(caught.value.chain) == 6


def test_redirect_loop_is_detected(fetcher: Fetcher, sites: FixtureServer) -> None:
    with pytest.raises(TooManyRedirects, match="loop") as caught:
        fetcher.get(sites.url(PLAIN, "/loop/a"), deadline())
    assert caught.value.chain[0] == caught.value.chain[-1]
    assert sites.site(PLAIN).hits.count("/loop/a") == 1  # stopped before asking again


def test_cross_host_cross_scheme_redirect(fetcher: Fetcher, sites: FixtureServer) -> None:
    page = fetcher.get(sites.url(PLAIN, "/to-tls"), deadline())
    assert page.url == sites.url(TLS_SITE, "/", https=True) and page.certificate is not None
    assert page.redirects == (sites.url(PLAIN, "/to-tls"),)


def test_relative_redirect(fetcher: Fetcher, sites: FixtureServer) -> None:
    page = fetcher.get(sites.url(PLAIN, "/relative"), deadline(), accept_non_html=True)
    assert page.url == sites.url(PLAIN, "/echo?from=relative")


def test_redirect_without_location_is_the_page(fetcher: Fetcher, sites: FixtureServer) -> None:
    page = fetcher.get(sites.url(PLAIN, "/no-location"), deadline())
    assert page.status == 302 and "moved" in page.text


def test_only_http_and_https(fetcher: Fetcher, sites: FixtureServer) -> None:
    with pytest.raises(BadScheme):
        fetcher.get("ftp://plain.example.com/", deadline())
    with pytest.raises(BadScheme):
        fetcher.get("file:///etc/passwd", deadline())
    with pytest.raises(BadScheme) as caught:
        fetcher.get(sites.url(PLAIN, "/to-ftp"), deadline())
    assert caught.value.url == "ftp://plain.example.com/file"


@pytest.mark.parametrize("url", ["not a url", "http:///nohost", "http://plain.example.com:99999/"])
def test_unreadable_urls(fetcher: Fetcher, url: str) -> None:
    with pytest.raises(BadURL):
        fetcher.get(url, deadline())


def test_ip_literal_url_is_refused_without_connecting(fetcher: Fetcher, sites: FixtureServer) -> None:
    with pytest.raises(BlockedAddress):
        fetcher.get(f"http://127.0.0.1:{sites.http_port}/", deadline())


def test_non_ascii_path_is_percent_encoded(fetcher: Fetcher, sites: FixtureServer) -> None:
    page = fetcher.get(sites.url(PLAIN, "/café"), deadline())
    assert page.text == "<p>accented path</p>" and page.url.endswith("/caf%C3%A9")


def test_error_status_pages_are_returned(fetcher: Fetcher, sites: FixtureServer) -> None:
    assert fetcher.get(sites.url(PLAIN, "/error-page"), deadline()).status == 503
    missing = fetcher.get(sites.url(PLAIN, "/no-such-page"), deadline())
    assert missing.status == 404 and "Not found" in missing.text


@pytest.mark.parametrize("path", ["/gzip", "/deflate"])
def test_compressed_pages_are_decoded(fetcher: Fetcher, sites: FixtureServer, path: str) -> None:
    page = fetcher.get(sites.url(PLAIN, path), deadline())
    assert page.text == HOME and page.bytes_read == len(HOME.encode()) and page.wire_bytes < page.bytes_read + 32


def test_content_coding_we_did_not_offer(fetcher: Fetcher, sites: FixtureServer) -> None:
    with pytest.raises(ContentDecodingError):
        fetcher.get(sites.url(PLAIN, "/brotli"), deadline())


@pytest.mark.parametrize("path", sorted(CHARSET_PAGES))
def test_charsets(fetcher: Fetcher, sites: FixtureServer, path: str) -> None:
    _, _, fragment, codec = CHARSET_PAGES[path]
    page = fetcher.get(sites.url(PLAIN, path), deadline())
    assert fragment in page.text
    assert page.encoding == codec
    assert "\ufffd" not in page.text


def test_malformed_html_is_returned_as_text(fetcher: Fetcher, sites: FixtureServer) -> None:
    page = fetcher.get(sites.url(PLAIN, "/malformed"), deadline())
    assert page.status == 200 and "Broken <i>Widgets</b>" in page.text and "1 Main St" in page.text


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/pdf", "application/pdf"), ("/png-undeclared", "application/octet-stream"), ("/json", "application/json"),
     ("/text", "text/plain")],
)
def test_non_html_is_flagged_not_decoded(fetcher: Fetcher, sites: FixtureServer, path: str, content_type: str) -> None:
    page = fetcher.get(sites.url(PLAIN, path), deadline())
    assert page.text is None and page.encoding is None and page.content_type == content_type


def test_text_and_json_are_decoded_when_asked_for(fetcher: Fetcher, sites: FixtureServer) -> None:
    assert "Disallow" in fetcher.get(sites.url(PLAIN, "/text"), deadline(), accept_non_html=True).text
    assert '"Acme Widgets"' in fetcher.get(sites.url(PLAIN, "/json"), deadline(), accept_non_html=True).text
    assert fetcher.get(sites.url(PLAIN, "/pdf"), deadline(), accept_non_html=True).text is None


def test_missing_content_type_is_sniffed_as_html(fetcher: Fetcher, sites: FixtureServer) -> None:
    page = fetcher.get(sites.url(PLAIN, "/no-content-type"), deadline())
    assert page.content_type == "text/html" and "bare" in page.text


def test_refused_address_falls_through_to_the_next(fetcher: Fetcher, sites: FixtureServer) -> None:
    assert fetcher.get(sites.url(MULTI, "/"), deadline()).text == "<p>multi</p>"


def test_connection_refused(sites: FixtureServer) -> None:
    port = closed_port()
    resolver = Resolver(sites.resolver_overrides(), ports={PLAIN: [port]}, system_lookup=FakeDNS())
    with Fetcher(resolver) as fetcher, pytest.raises(ConnectFailed):
        fetcher.get(f"http://{PLAIN}:{port}/", deadline())


def test_unknown_name(fetcher: Fetcher) -> None:
    from raterd.fetch import NameNotFound

    with pytest.raises(NameNotFound):
        fetcher.get("http://nowhere.example.org/", deadline())


def test_expired_deadline_sends_nothing(fetcher: Fetcher, sites: FixtureServer) -> None:
    before = len(sites.site(PLAIN).hits)
    with pytest.raises(DeadlineExceeded):
        fetcher.get(sites.url(PLAIN, "/"), Deadline(0))
    assert len(sites.site(PLAIN).hits) == before


@pytest.mark.parametrize("https", [False, True])
def test_connections_are_kept_alive(fetcher: Fetcher, sites: FixtureServer, https: bool) -> None:
    site = PLAIN if not https else TLS_SITE
    pages = [fetcher.get(sites.url(site, "/echo", https=https), deadline(), accept_non_html=True) for _ in range(3)]
    ports = {line for page in pages for line in page.text.splitlines() if line.startswith("client port:")}
    assert len(ports) == 1


@pytest.mark.timeout(20)
def test_concurrent_gets_from_a_thread_pool(fetcher: Fetcher, sites: FixtureServer) -> None:
    shared = deadline(15)
    urls = [sites.url(PLAIN, f"/slow/{i}") for i in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        pages = list(pool.map(lambda url: fetcher.get(url, shared), urls))
    assert [page.text for page in pages] == [f"<p>slow page {i}</p>" for i in range(10)]
    assert [page.url for page in pages] == urls


@pytest.mark.timeout(20)
def test_more_threads_than_connections_per_host_wait_their_turn(sites: FixtureServer) -> None:
    resolver = Resolver(sites.resolver_overrides(), default_ports=sites.ports, system_lookup=FakeDNS())
    with Fetcher(resolver, connections_per_host=2) as narrow, ThreadPoolExecutor(max_workers=6) as pool:
        shared = deadline(15)
        pages = list(pool.map(lambda i: narrow.get(sites.url(PLAIN, f"/quick/{i}"), shared), range(6)))
    assert [page.text for page in pages] == [f"<p>quick page {i}</p>" for i in range(6)]


# -- operator mappings are trusted for the mapped name, asked for directly, on its ports ------------------

JUMP = "jump-off.example.net"  # another site (registrable domain) the operator also mapped


@pytest.fixture(scope="module")
def jump(sites: FixtureServer) -> FixtureServer:
    sites.add_site(JUMP, Site({
        "/to-plain": hostile.redirect(sites.url(PLAIN, "/echo")),
        "/to-self": hostile.redirect("/landing"), "/landing": "<p>landed</p>",
    }))
    return sites


@pytest.fixture
def listener() -> Iterator[tuple[int, list]]:
    """A loopback port that accepts connections (and says nothing): ``(port, accepted)``."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join(2)
    server.close()


def test_a_redirect_from_another_site_to_a_mapped_name_is_refused(jump: FixtureServer) -> None:
    jump.site(PLAIN).hits.clear()
    resolver = Resolver(jump.resolver_overrides(), default_ports=jump.ports, system_lookup=FakeDNS())
    with Fetcher(resolver) as fetcher:
        with pytest.raises(BlockedAddress, match="reached by a redirect from another site") as caught:
            fetcher.get(jump.url(JUMP, "/to-plain"), deadline())
        assert caught.value.host == PLAIN and caught.value.address == "127.0.0.1"
        assert "/echo" not in jump.site(PLAIN).hits  # refused before connecting
        # The same name asked for directly, and a redirect within one site, are trusted.
        assert fetcher.get(jump.url(PLAIN, "/"), deadline()).text == HOME
        assert fetcher.get(jump.url(JUMP, "/to-self"), deadline()).text == "<p>landed</p>"


def test_a_fetch_made_for_another_site_does_not_trust_the_mapping(jump: FixtureServer) -> None:
    resolver = Resolver(jump.resolver_overrides(), default_ports=jump.ports, system_lookup=FakeDNS())
    with Fetcher(resolver) as fetcher, pytest.raises(BlockedAddress, match="redirect from another site"):
        fetcher.get(jump.url(PLAIN, "/"), deadline(), site="jump-off.example.net")


def test_a_mapped_name_is_trusted_only_on_the_ports_its_mapping_allows(jump: FixtureServer,
                                                                      listener: tuple[int, list]) -> None:
    port, accepted = listener
    refusing = Resolver(jump.resolver_overrides(), default_ports=jump.ports, system_lookup=FakeDNS())
    with Fetcher(refusing) as fetcher, pytest.raises(BlockedAddress, match=f"port {port} is not one"):
        fetcher.get(f"http://{PLAIN}:{port}/", deadline())
    assert accepted == []  # nothing was sent to the service behind that port
    # Named in the mapping (--resolve NAME:ADDR:PORT), the port is trusted: the fetch connects.
    allowing = Resolver.from_options([f"{PLAIN}:127.0.0.1:{port}"], system_lookup=FakeDNS())
    with Fetcher(allowing) as fetcher, pytest.raises(BrokenResponse):
        fetcher.get(f"http://{PLAIN}:{port}/", deadline(3))
    assert len(accepted) == 1


def test_a_failing_outside_source_is_said_in_the_same_words() -> None:
    from raterd.sources import GleifClient

    port = closed_port()
    client = GleifClient(f"http://127.0.0.1:{port}/api/v1", timeout=1.0)
    assert client.confirm("Acme Widgets Ltd", "SW1A 1AA", "GB") == []
    assert client.last_error is not None
    assert client.last_error.message == "request failed: cannot connect (connection refused)"
    assert "Pool" not in str(client.last_error) and "Error" not in str(client.last_error)
