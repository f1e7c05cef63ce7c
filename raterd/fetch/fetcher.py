"""The rater's HTTP client: fetch one page safely, within the rating's deadline.

Flow: the pipeline's per-rating thread pool calls :meth:`Fetcher.get` for
the home page, robots.txt (:mod:`raterd.fetch.robots`) and the identity
pages, all with the rating's one :class:`~raterd.fetch.deadline.Deadline`.
For each hop of a redirect chain the fetcher

1. parses the URL (:mod:`raterd.fetch._urls`: http/https only, no IP literals),
2. resolves and checks the host (:class:`~raterd.fetch.resolver.Resolver`),
3. connects to a *checked address* through a urllib3 pool keyed by
   ``(scheme, address, port, host name)`` -- urllib3 never resolves the name
   itself -- sending the name in ``Host``, SNI and certificate verification,
4. reads the body under a watchdog (:mod:`raterd.fetch._guard`), per-read
   timeouts and a decoded-size cap (:mod:`raterd.fetch._body`),
5. and turns it into text (:mod:`raterd.fetch._charset`).

Redirects are followed here, not by urllib3, so every hop is re-resolved and
re-checked.  Everything that goes wrong is a :class:`FetchError` subclass.
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from http.client import HTTPException
from typing import Any

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    EmptyPoolError,
    HTTPError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.util import Timeout

from protocol.domains import registrable_domain
from protocol.errors import DomainError

from . import tls
from ._body import CHUNK, read_limited
from ._charset import decode_text, parse_content_type
from ._wording import broken_reason, connect_reason, tls_reason
from ._guard import DeadlineGuard, GuardedHTTPConnectionPool, GuardedHTTPSConnectionPool
from ._urls import Target, join_location, parse_target
from .deadline import Deadline
from .errors import (
    BrokenResponse,
    ConnectFailed,
    ContentDecodingError,
    DeadlineExceeded,
    FetchError,
    ReadTimeout,
    TLSFailure,
    TooManyRedirects,
)
from .resolver import Address, Resolver
from .tls import CertInfo

__all__ = ["Fetcher", "Page", "DEFAULT_USER_AGENT", "HTML_TYPES"]

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "SiteTruthBot/3 (+https://www.sitetruth.com/bot)"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Read from a redirect or a non-text response before giving up on reusing
# its connection: enough for any sane error page, no more.
_DISCARD_CAP = 64 * 1024
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"RIFF", b"OggS")
# Real HTML compresses 5-20 fold, a long table of identical rows about 340
# fold; a run of one short string 680 fold and more (deflate's limit is
# about 1030).  A body that expands past the cap at more than this ratio is
# a decompression bomb, whatever it claims to be.
_BOMB_RATIO = 500
# Control characters (other than tab, newlines, form feed) in the first
# characters of a decoded page: a few are sloppiness, this share is binary.
_CONTROL_SHARE = 0.1
_CONTROL_SAMPLE = 4096
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Page:
    """One fetched page.

    ``url`` is the final URL after redirects, ``requested_url`` the one asked
    for, ``redirects`` the URLs that answered with a redirect, in order.
    ``content_type`` is the media type without parameters, lower case (sniffed
    when the server sent none).  ``text`` is the decoded body for HTML (and,
    with ``accept_non_html``, other textual types), else ``None``;
    ``encoding`` the codec used to decode it.  ``bytes_read`` counts decoded
    body bytes kept (at most the cap), ``wire_bytes`` raw bytes received;
    ``truncated`` means the body was longer than the cap and was cut.
    ``unreadable`` says why a body declared (or sniffed) as text is not
    read as text after all (a decompression bomb, binary data); ``text`` is
    then ``None``.
    ``certificate`` is the server's certificate for https pages.  ``headers``
    has lower-case names; repeated headers are joined with ", ".
    """

    url: str
    requested_url: str
    status: int
    content_type: str
    encoding: str | None
    text: str | None
    bytes_read: int
    truncated: bool
    redirects: tuple[str, ...]
    elapsed: float
    certificate: CertInfo | None
    headers: dict[str, str] = field(default_factory=dict)
    wire_bytes: int = 0
    unreadable: str = ""


@dataclass(slots=True)
class _Outcome:
    """One exchange: a redirect to follow or the final page's parts."""

    status: int
    headers: dict[str, str]
    certificate: CertInfo | None
    location: str | None = None
    content_type: str = ""
    encoding: str | None = None
    text: str | None = None
    bytes_read: int = 0
    truncated: bool = False
    wire_bytes: int = 0
    unreadable: str = ""


def _site_of(host: str) -> str:
    """The registrable domain of *host*; the host itself when it has none (``registry.internal``)."""
    try:
        return registrable_domain(host)
    except DomainError:
        return host


def _is_textual(mime: str) -> bool:
    return (
        mime.startswith("text/")
        or mime in ("application/json", "application/xml", "application/javascript")
        or mime.endswith(("+json", "+xml"))
    )


def _sniff(body: bytes) -> str:
    """A media type for a body sent without Content-Type (HTML unless it is plainly binary)."""
    head = body[:1024]
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        return "application/octet-stream"
    return "text/html"


def _ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()  # system trust store, TLS >= 1.2
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as error:
            raise ValueError(f"cannot load CA bundle {ca_bundle}: {error}") from error
    # We connect to an address, so OpenSSL's own name check would see the
    # address; urllib3 checks the certificate against assert_hostname (the
    # name) instead, after OpenSSL has verified the chain.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class Fetcher:
    """Fetches pages for one worker; thread-safe, shared by a rating's thread pool.

    ``ca_bundle`` is a PEM file of extra trusted CAs, added to the system
    trust store.  ``max_bytes`` caps each page's decoded body (longer pages
    are truncated, not refused).  ``connections_per_host`` bounds concurrent
    connections per (address, name); a fetch waits for a free one, but never
    past its deadline.  ``read_timeout`` caps any single wait for the server,
    so one stalled page cannot use up a rating's whole deadline.
    """

    def __init__(
        self,
        resolver: Resolver,
        *,
        ca_bundle: str | None = None,
        max_bytes: int = 1_000_000,
        max_redirects: int = 5,
        connections_per_host: int = 4,
        user_agent: str = DEFAULT_USER_AGENT,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_pools: int = 64,
    ) -> None:
        if max_bytes < 1 or max_redirects < 0 or connections_per_host < 1:
            raise ValueError("max_bytes and connections_per_host must be >= 1, max_redirects >= 0")
        self.resolver = resolver
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.connections_per_host = connections_per_host
        self.user_agent = user_agent
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._max_pools = max_pools
        self._ssl = _ssl_context(ca_bundle)
        self._pools: OrderedDict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = OrderedDict()
        self._lock = threading.Lock()
        self._closed = False

    # -- lifecycle -----------------------------------------------------------

    def close(self) -> None:
        """Close every pooled connection. Fetches still running fail or finish on their own."""
        with self._lock:
            self._closed = True
            pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            pool.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the API -------------------------------------------------------------

    def get(
        self,
        url: str,
        deadline: Deadline,
        *,
        accept_non_html: bool = False,
        max_bytes: int | None = None,
        site: str | None = None,
    ) -> Page:
        """Fetch *url*, following redirects; raises a :class:`FetchError` subclass.

        With ``accept_non_html`` plain text (and JSON, XML and other textual
        types) is decoded too; otherwise only HTML/XHTML is.  ``max_bytes``
        overrides the fetcher's cap for this call (robots.txt uses 500 KiB).
        ``site`` is the registrable domain the fetch is made for (default:
        *url*'s): an operator's mapping is trusted only for hosts of that site
        reached without passing through another site (see
        :mod:`raterd.fetch.resolver`).
        """
        started = time.monotonic()
        cap = self.max_bytes if max_bytes is None else max_bytes
        chain: list[str] = []
        current = url
        home_site: str | None = site
        left_site = False
        while True:
            target = parse_target(current)
            if target.url in chain:
                raise TooManyRedirects("HTTP: redirect loop", url=target.url, chain=(*chain, target.url))
            deadline.check(target.url)
            hop_site = _site_of(target.host)
            if home_site is None:
                home_site = hop_site
            left_site = left_site or hop_site != home_site
            addresses = self.resolver.resolve(target.host, target.port, deadline=deadline, url=target.url,
                                              trust_mapping=not left_site)
            outcome = self._exchange(target, addresses, deadline, accept_non_html, cap)
            if outcome.location is None:
                return Page(
                    url=target.url,
                    requested_url=url,
                    status=outcome.status,
                    content_type=outcome.content_type,
                    encoding=outcome.encoding,
                    text=outcome.text,
                    bytes_read=outcome.bytes_read,
                    truncated=outcome.truncated,
                    redirects=tuple(chain),
                    elapsed=time.monotonic() - started,
                    certificate=outcome.certificate,
                    headers=outcome.headers,
                    wire_bytes=outcome.wire_bytes,
                    unreadable=outcome.unreadable,
                )
            chain.append(target.url)
            if len(chain) > self.max_redirects:
                raise TooManyRedirects(f"HTTP: more than {self.max_redirects} redirects", url=target.url,
                                       chain=tuple(chain))
            log.debug("redirect %s -> %s", target.url, outcome.location)
            current = outcome.location

    # -- one hop -------------------------------------------------------------

    def _exchange(self, target: Target, addresses: list[Address], deadline: Deadline,
                  accept_non_html: bool, cap: int) -> _Outcome:
        """Try the checked addresses in order until one connects."""
        failure: ConnectFailed | None = None
        for address in addresses:
            try:
                return self._request(target, address, deadline, accept_non_html, cap)
            except ConnectFailed as error:
                log.debug("%s", error)
                failure = error
        raise failure or ConnectFailed("cannot connect to the server: no address to connect to", url=target.url)

    def _request(self, target: Target, address: Address, deadline: Deadline,
                 accept_non_html: bool, cap: int) -> _Outcome:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise DeadlineExceeded(f"stopped at the rating's deadline of {deadline.seconds:g} s", url=target.url)
        pool = self._pool(target, address)
        headers = {
            "Host": target.host_header,
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.5",
            "Accept-Encoding": "gzip, deflate",
            "Accept-Language": "en;q=1.0, *;q=0.5",
        }
        timeout = Timeout(connect=min(self.connect_timeout, remaining), read=min(self.read_timeout, remaining))
        response: Any = None
        complete = False
        guard = DeadlineGuard(remaining)
        try:
            with guard:
                try:
                    response = pool.urlopen(
                        "GET", target.request_target, headers=headers, retries=False, redirect=False,
                        assert_same_host=False, timeout=timeout, pool_timeout=remaining,
                        preload_content=False, decode_content=False, release_conn=False,
                    )
                except (HTTPError, HTTPException, OSError) as error:
                    raise self._translate(error, target, address, deadline, guard) from error
                outcome = self._consume(response, target, address, deadline, guard, accept_non_html, cap)
                complete = response.isclosed()
        finally:
            # The guard is disarmed here, so it cannot cut this connection
            # after it goes back to the pool for another fetch.
            if response is not None:
                if not complete or guard.fired:
                    response.close()  # unread body left: the connection is not reusable
                response.release_conn()
        return outcome

    def _consume(self, response: Any, target: Target, address: Address, deadline: Deadline,
                 guard: DeadlineGuard, accept_non_html: bool, cap: int) -> _Outcome:
        headers = {name.lower(): response.headers[name] for name in response.headers}
        outcome = _Outcome(response.status, headers, self._certificate(response, target))

        def read_raw(amount: int) -> bytes:
            return self._read_raw(response, amount, target, address, deadline, guard)

        location = headers.get("location")
        if response.status in _REDIRECT_STATUSES and location:
            self._discard(read_raw)
            outcome.location = join_location(target.url, location)
            return outcome

        mime, charset = parse_content_type(headers.get("content-type"))
        if mime and not (mime in HTML_TYPES or (accept_non_html and _is_textual(mime))):
            outcome.content_type = mime
            outcome.wire_bytes = self._discard(read_raw)
            return outcome

        coding = headers.get("content-encoding", "").strip().lower()
        if coding in ("", "identity"):
            coding_name = None
        elif coding in ("gzip", "x-gzip", "deflate"):
            coding_name = "deflate" if coding == "deflate" else "gzip"
        else:
            raise ContentDecodingError(f"unsupported content-coding {coding!r}", url=target.url)
        body = read_limited(read_raw, coding_name, cap, url=target.url)
        outcome.bytes_read, outcome.truncated, outcome.wire_bytes = len(body.data), body.truncated, body.wire_bytes
        if not mime:
            mime = _sniff(body.data)
            if mime not in HTML_TYPES:
                outcome.content_type = mime
                return outcome
        outcome.content_type = mime
        if coding_name is not None and body.truncated and body.expansion > _BOMB_RATIO:
            outcome.unreadable = (f"a decompression bomb: {body.used_bytes} compressed bytes decode past "
                                  f"the {cap}-byte cap")
            return outcome
        text, encoding = decode_text(body.data, charset, truncated=body.truncated)
        sample = text[:_CONTROL_SAMPLE]
        if sample and len(_CONTROLS.findall(sample)) > _CONTROL_SHARE * len(sample):
            outcome.unreadable = "binary data, not text"
            return outcome
        outcome.text, outcome.encoding = text, encoding
        return outcome

    def _read_raw(self, response: Any, amount: int, target: Target, address: Address,
                  deadline: Deadline, guard: DeadlineGuard) -> bytes:
        deadline.check(target.url)
        sock = getattr(response.connection, "sock", None)
        if sock is not None:
            # Each wait is bounded by what is left of the deadline; the
            # guard covers the case where the server keeps each wait short.
            sock.settimeout(max(0.01, min(self.read_timeout, deadline.remaining())))
        try:
            return response.read1(amount, decode_content=False) or b""
        except (HTTPError, HTTPException, OSError) as error:
            raise self._translate(error, target, address, deadline, guard) from error

    @staticmethod
    def _discard(read_raw: Any) -> int:
        """Read and drop up to the discard cap, so a small body's connection can be reused."""
        seen = 0
        while seen <= _DISCARD_CAP:
            chunk = read_raw(CHUNK)
            if not chunk:
                break
            seen += len(chunk)
        return seen

    def _certificate(self, response: Any, target: Target) -> CertInfo | None:
        if target.scheme != "https":
            return None
        connection = response.connection
        info = getattr(connection, "cert_info", None)
        if info is None:
            der = getattr(connection, "peer_certificate", None)
            if not der:
                return None
            info = tls.classify_certificate(der)
            connection.cert_info = info  # one classification per connection
        return info

    def _translate(self, error: BaseException, target: Target, address: Address, deadline: Deadline,
                   guard: DeadlineGuard) -> FetchError:
        """The fetch error for a urllib3/ssl/socket exception, worded for the rating's details page.

        The words say what happened ("HTTPS: connection refused"), never
        which connection object or internal address it happened on: the
        page is read by people, and with an operator's mapping the address
        is an internal one.  The original exception is chained (``from``)
        and logged at debug level for whoever needs it.
        """
        log.debug("%s via %s:%s: %r", target.url, address.ip, target.port, error)
        proto = target.scheme.upper()
        if guard.fired or deadline.expired:
            return DeadlineExceeded(f"{proto}: stopped at the rating's deadline of {deadline.seconds:g} s",
                                    url=target.url)
        if isinstance(error, EmptyPoolError):
            return DeadlineExceeded(f"{proto}: no free connection to the server before the rating's deadline",
                                    url=target.url)
        if isinstance(error, Urllib3SSLError | ssl.SSLError | ssl.CertificateError):
            return TLSFailure(f"TLS failure: {tls_reason(error)}", url=target.url)
        if isinstance(error, ConnectTimeoutError):  # also NewConnectionError (refused, unreachable)
            return ConnectFailed(f"{proto}: {connect_reason(error, self.connect_timeout)}", url=target.url)
        if isinstance(error, ReadTimeoutError | TimeoutError):
            return ReadTimeout(f"{proto}: timed out after {self.read_timeout:g} s "
                               "(the server sent nothing for the read timeout)", url=target.url)
        if isinstance(error, ProtocolError | HTTPException | HTTPError | OSError):
            return BrokenResponse(f"{proto}: broken response ({broken_reason(error)})", url=target.url)
        return FetchError(f"{proto}: fetch failed ({type(error).__name__})", url=target.url)

    def _pool(self, target: Target, address: Address) -> urllib3.HTTPConnectionPool:
        key = (target.scheme, address.ip, target.port, target.host)
        with self._lock:
            if self._closed:
                raise RuntimeError("Fetcher is closed")
            pool = self._pools.get(key)
            if pool is not None:
                self._pools.move_to_end(key)
                return pool
            common: dict[str, Any] = dict(
                host=address.ip, port=target.port, maxsize=self.connections_per_host, block=True, retries=False,
            )
            if target.scheme == "https":
                pool = GuardedHTTPSConnectionPool(
                    **common, ssl_context=self._ssl, server_hostname=target.host, assert_hostname=target.host,
                )
            else:
                pool = GuardedHTTPConnectionPool(**common)
            self._pools[key] = pool
            evicted = self._pools.popitem(last=False)[1] if len(self._pools) > self._max_pools else None
        if evicted is not None:
            evicted.close()  # connections in use are closed when they come back
        return pool
