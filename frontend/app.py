"""The frontend's WSGI application: routing, the API v3 endpoint, pages, errors.

Where it sits: every server (the built-in one in :mod:`frontend.httpserver`,
gunicorn through :mod:`frontend.wsgi`, the FastCGI responder in
:mod:`frontend.fastcgi`) calls one :class:`FrontendApp`; the app reads the
request, asks :class:`~frontend.ratings.RatingService` and writes the reply.

==============================  ==========================================================
``GET /fcgi/rateapiv3.fcgi``    SiteTruth API v3 (also ``/api/v3/rate``): see
                                :mod:`frontend.query` and :mod:`frontend.render`
``GET /rating/<domain>``        rating details (``?format=popup`` compact, ``=json``); a
                                domain never rated is queued as the API would queue it
                                for this client, and its page reloads until it is rated
``GET /status``                 cluster status page (internal), data at ``/status.json``
``GET /metrics``                Prometheus text format (internal)
``GET /healthz``                200 when the read store answers at the current schema
                                version; the body also says whether the broker answers,
                                takes new work and commits (its journal's state), which
                                is not required: stored ratings are served without it
==============================  ==========================================================

"Internal" pages answer 403 unless the client address (after trusted
proxies) is in ``internal_allow``: they show client IPs and tracebacks.
Pages are rendered from templates (:mod:`frontend._html`); nothing here
builds HTML.
Every error is a ``text/plain`` reply with a one-line explanation; an
unexpected exception is a 500, logged, and written to the store's error log
(at most once per exception type per minute, so a bug can't flood it).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from protocol import DomainError, JobState, registrable_domain
from store import LATEST_VERSION, ErrorRecord, Store, StoreError, open_store

from . import pages, status
from ._assets import ASSETS
from ._html import CSP, HTML_TYPE, render
from ._perthread import PerThread
from .clientip import ClientIPResolver, IPAddress
from .config import FrontendConfig, parse_networks
from .errors import HTTPError
from .metrics import CONTENT_TYPE as METRICS_TYPE
from .metrics import FrontendMetrics
from .query import DEFAULT_PRIORITY, parse_rate_query
from .ratings import RatingService
from .render import STATUS_PENDING, render_json, render_xml

__all__ = ["FrontendApp", "make_app", "API_PATHS", "XML_TYPE", "JSON_TYPE"]

log = logging.getLogger(__name__)

API_PATHS = ("/fcgi/rateapiv3.fcgi", "/api/v3/rate")
XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
_ERROR_LOG_EVERY = 60.0
_HEALTH_BROKER_TIMEOUT = 0.5


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]] = field(default_factory=list)


def text_response(status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(status, (message.rstrip("\n") + "\n").encode("utf-8"), TEXT_TYPE,
                    [("Cache-Control", "no-store"), *headers])


def _html(status: int, body: bytes, *extra: tuple[str, str], cache: str = "no-cache") -> Response:
    return Response(status, body, HTML_TYPE, [("Content-Security-Policy", CSP), ("Cache-Control", cache), *extra])


def _path(environ: dict[str, Any]) -> str:
    # PEP 3333: PATH_INFO holds the percent-decoded bytes as latin-1; paths
    # with UTF-8 (an IDN in /rating/...) need the bytes read again.
    raw = environ.get("PATH_INFO", "") or "/"
    try:
        return raw.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return raw


class FrontendApp:
    """A WSGI callable. Thread-safe; one per process is plenty."""

    def __init__(self, config: FrontendConfig) -> None:
        self.config = config.check()
        self.metrics = FrontendMetrics()
        self.service = RatingService(config, self.metrics)
        self.resolver = ClientIPResolver(parse_networks(config.trusted_proxies, "--trusted-proxy"),
                                         config.ipv6_prefix)
        self.internal = parse_networks(config.internal_allow, "--internal-allow")
        self.keys = frozenset(config.keys)
        self.started_at = time.time()
        self._write_stores: PerThread[Store] = PerThread(lambda: open_store(config.store), lambda s: s.close())
        self._error_log_next: dict[str, float] = {}
        self._error_log_lock = threading.Lock()
        self._routes: dict[str, tuple[str, Callable[[dict[str, Any], str], Response], bool]] = {
            "/": ("other", self._index, False),
            "/status": ("status", self._status, True),
            "/status.json": ("status_json", self._status_json, True),
            "/metrics": ("metrics", self._metrics, True),
            "/healthz": ("healthz", self._healthz, False),
        }
        for p in API_PATHS:
            self._routes[p] = ("rate", self._rate, False)

    def close(self) -> None:
        """Close every thread's store connection and broker socket (call after the server stopped)."""
        self.service.close()
        self._write_stores.close_all()

    # ------------------------------------------------------------ WSGI
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD", "GET")
        path = _path(environ)
        endpoint = "other"
        try:
            endpoint, handler, internal = self._route(path)
            if method not in ("GET", "HEAD"):
                raise HTTPError(405, f"Method not allowed: {method[:20]} (use GET).", [("Allow", "GET, HEAD")])
            if internal:
                self._check_internal(environ)
            response = handler(environ, path)
        except HTTPError as e:
            response = text_response(e.status, e.message, e.headers)
        except Exception as e:  # noqa: BLE001 - the last-resort handler of a request
            log.exception("error answering %s %s", method, path[:200])
            self._record_error(e, path)
            response = text_response(500, "Internal error: the request could not be answered. "
                                          "It has been logged; please try again later.")
        reason = HTTPStatus(response.status).phrase
        headers = [("Content-Type", response.content_type), ("Content-Length", str(len(response.body))),
                   ("X-Content-Type-Options", "nosniff"), *response.headers]
        start_response(f"{response.status} {reason}", headers)
        self.metrics.observe(endpoint, response.status, time.perf_counter() - started)
        return [b"" if method == "HEAD" else response.body]

    def _route(self, path: str) -> tuple[str, Callable[[dict[str, Any], str], Response], bool]:
        route = self._routes.get(path)
        if route is not None:
            return route
        if path.startswith("/rating/"):
            return "rating", self._details, False
        if path.startswith("/static/") and path[8:] in ASSETS:
            return "other", self._static, False
        raise HTTPError(404, "Not found.")

    def client_address(self, environ: dict[str, Any]) -> IPAddress | None:
        return self.resolver.resolve(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"))

    def is_internal(self, environ: dict[str, Any]) -> bool:
        """Whether the client (after trusted proxies) is on the operators' network."""
        addr = self.client_address(environ)
        return addr is not None and any(addr.version == n.version and addr in n for n in self.internal)

    def _check_internal(self, environ: dict[str, Any]) -> None:
        if not self.is_internal(environ):
            raise HTTPError(403, "Forbidden: this page is for the operators' network only.")

    @staticmethod
    def _base(environ: dict[str, Any]) -> str:
        return environ.get("SCRIPT_NAME", "").rstrip("/")

    # ------------------------------------------------------------ the API
    def _rate(self, environ: dict[str, Any], path: str) -> Response:
        query = parse_rate_query(environ.get("QUERY_STRING", ""), max_urls=self.config.max_urls,
                                 max_query_bytes=self.config.max_query_bytes)
        if self.keys and query.key not in self.keys:
            raise HTTPError(403, "Forbidden: the application key was not accepted.")
        client = self.resolver.queue_key(self.client_address(environ))
        items = self.service.rate(query.urls, client, query.priority)
        if query.format == "json":
            body, ctype = render_json(items), JSON_TYPE
        else:
            body, ctype = render_xml(items), XML_TYPE
        pending = any(item.status == STATUS_PENDING for item in items)
        cache = "no-store" if pending else f"public, max-age={self.config.cache_max_age}"
        # The API is public and takes no credentials: any web page may call it.
        return Response(200, body, ctype, [("Cache-Control", cache), ("Access-Control-Allow-Origin", "*")])

    # ------------------------------------------------------------ pages
    def _details(self, environ: dict[str, Any], path: str) -> Response:
        fmt = (parse_qs(environ.get("QUERY_STRING", "")).get("format") or ["html"])[0].lower()
        if fmt not in ("html", "popup", "json"):
            raise HTTPError(400, "Bad request: format must be html, popup or json.")
        popup, base = fmt == "popup", self._base(environ)
        text = path[len("/rating/"):]
        try:
            domain = registrable_domain(text)
        except DomainError:
            if fmt == "json":
                raise HTTPError(404, "Not found: that is not a domain name.") from None
            return _html(404, pages.render_not_rated(text[:253], "This is not a domain name that can be rated.",
                                                      popup=popup, base=base))
        try:
            rating = self.service.details(domain)
        except StoreError as e:
            self.metrics.store_errors.labels("details").inc()
            log.warning("store unavailable for the details of %s: %s", domain, e)
            raise HTTPError(503, "Service unavailable: ratings cannot be read right now; try again shortly.",
                            [("Retry-After", str(self.config.retry_after))]) from None
        client = self.resolver.queue_key(self.client_address(environ))
        if rating is None:
            return self._first_rating(domain, client, fmt, base)
        if rating.expired(time.time()):
            # The page says the rating is being refreshed: make it so (coalesced at the broker).
            self.service.refresh(domain, client, DEFAULT_PRIORITY)
        if fmt == "json":
            return Response(200, pages.details_json(rating), JSON_TYPE, [("Cache-Control", "no-cache")])
        return _html(200, pages.render_details(rating, time.time(), popup=popup, base=base,
                                               internal=self.is_internal(environ)))

    def _first_rating(self, domain: str, client: str, fmt: str, base: str) -> Response:
        """A domain with no rating: queue it (as the API would for this client) and say where it stands.

        202 while queued or being rated; the broker's 502/503 when it cannot
        take the job. The HTML page reloads itself either way, so a person
        sees the rating appear; a program polls ``?format=json``.
        """
        status, headers = 202, [("Cache-Control", "no-store")]
        try:
            state = self.service.queue(domain, client, DEFAULT_PRIORITY)
        except HTTPError as e:
            status, headers = e.status, [*headers, *e.headers]
            pending = pages.Pending("unavailable", message=e.message)
        else:
            if state.state is JobState.INVALID:
                if fmt == "json":
                    raise HTTPError(404, "Not found: that domain cannot be rated.")
                return _html(404, pages.render_not_rated(domain, "This domain name cannot be rated.",
                                                          popup=fmt == "popup", base=base))
            pending = pages.Pending(state.state.value, state.position, state.progress)
        if fmt == "json":
            body = json.dumps({"domain": domain, "rating": "W", "status": str(status), "state": pending.state,
                               "position": pending.position, "progress": pending.progress,
                               "message": pending.message}, ensure_ascii=True).encode("ascii")
            return Response(status, body, JSON_TYPE, headers)
        return _html(status, pages.render_pending(domain, pending, popup=fmt == "popup", base=base),
                     *[h for h in headers if h[0] != "Cache-Control"], cache="no-store")

    def _index(self, environ: dict[str, Any], path: str) -> Response:
        return _html(200, render("index.html", base=self._base(environ), internal=self.is_internal(environ)))

    def _static(self, environ: dict[str, Any], path: str) -> Response:
        ctype, data = ASSETS[path[8:]]
        return Response(200, data, ctype, [("Cache-Control", "public, max-age=3600")])

    def _status(self, environ: dict[str, Any], path: str) -> Response:
        return _html(200, status.render_status(status.snapshot(self), base=self._base(environ)),
                     ("X-Frame-Options", "DENY"))

    def _status_json(self, environ: dict[str, Any], path: str) -> Response:
        body = json.dumps(status.snapshot(self), ensure_ascii=True, default=str).encode("ascii")
        return Response(200, body, JSON_TYPE, [("Cache-Control", "no-store")])

    def _metrics(self, environ: dict[str, Any], path: str) -> Response:
        self.metrics.cache_entries.set(len(self.service.cache))
        return Response(200, self.metrics.render(), METRICS_TYPE, [("Cache-Control", "no-store")])

    def _healthz(self, environ: dict[str, Any], path: str) -> Response:
        try:
            version = self.service.stores.get().schema_version()
        except StoreError as e:
            self.metrics.store_errors.labels("healthz").inc()
            return text_response(503, f"store: unavailable ({type(e).__name__})")
        if version != LATEST_VERSION:
            return text_response(503, f"store: schema version {version}, this code needs {LATEST_VERSION} "
                                      f"(run sitetruth-db migrate)")
        return text_response(200, f"ok\nstore: ok (schema {version})\n{self._broker_health()}")

    def _broker_health(self) -> str:
        """The broker's lines of /healthz: whether it answers, takes work, and commits."""
        stats = self.service.broker_stats(_HEALTH_BROKER_TIMEOUT)
        if stats is None:
            return "broker: not answering (stored ratings are still served)"
        info, journal = stats.get("broker", {}), stats.get("journal", {})
        if info.get("accepting", True):
            broker = "broker: ok"
        else:
            broker = f"broker: not taking new work ({info.get('refusal') or 'no reason given'})"
        if not journal.get("alive", True):
            return f"{broker}\njournal: dead ({journal.get('error', '')[:200]})"
        age = journal.get("last_commit_age")
        stalled = journal.get("stalled_for") or 0.0
        state = f"stalled for {stalled:.0f} s" if stalled >= 1.0 else "ok"
        committed = "never committed" if age is None else f"last commit {age:.1f} s ago"
        return f"{broker}\njournal: {state}, {committed}, backlog {journal.get('backlog', 0)}"

    # ------------------------------------------------------------ errors
    def _record_error(self, exc: BaseException, path: str) -> None:
        """Put an unexpected exception in the store's error log, at most once a minute per type."""
        kind = type(exc).__name__
        now = time.monotonic()
        with self._error_log_lock:
            if now < self._error_log_next.get(kind, 0.0):
                return
            self._error_log_next[kind] = now + _ERROR_LOG_EVERY
        try:
            self._write_stores.get().append_errors([ErrorRecord(
                at=time.time(), host=socket.gethostname(), process=f"frontend[{os.getpid()}]",
                component="frontend", message=f"{kind}: {exc} (while answering {path[:200]})"[:2000],
                traceback=traceback.format_exc())])
        except StoreError as e:
            log.error("could not write the error to the store's error log: %s", e)


def make_app(config: FrontendConfig | None = None) -> FrontendApp:
    """The WSGI application for ``config`` (default: every default)."""
    return FrontendApp(config or FrontendConfig())

