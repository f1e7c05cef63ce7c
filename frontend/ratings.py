"""The fast path: answer every ``url`` of a request from cache, store, or broker.

Where it sits: between the request parser (:mod:`frontend.query`) and the
reply renderer (:mod:`frontend.render`)::

    urls ──▶ hosts, registrable domains ──▶ TTL cache ──misses──▶ store (one batch query)
                                               │                    │
                                               ▼                    ▼
                                   fresh: final letter    missing or expired ──▶ broker
                                                          (ONE RateRequest per HTTP request)

What each url is answered with:

* unreadable url: ``U`` + ``bad_url``/``no_domain``, status ``200``;
* a stored, unexpired rating: its letter, status ``200``;
* a stored but expired rating: its *old* letter, status ``200``, while the
  broker re-rates it. The old letter is still the best answer there is and
  clients cache ``200`` answers for days; a ``202`` would make every client
  poll for a minute or two for a site we already know;
* no rating: ``W``, status ``202`` ("ask again in 5 s"), with the broker's
  queue position / progress when it gave one; a domain the broker refuses
  is ``U``/``no_domain``.

Each item carries the host the client asked about (``domain``) and the
registrable domain whose rating answers it (``rated_domain``).

Broker trouble only matters for domains with no rating at all: when every
item can be answered from the store, the reply is a normal 200 even with the
broker down (an expired rating's refresh is simply asked for again by the
next request). When some domains are known and others are not, the known
ones get their letters and the others ``W``/``202`` (the client asks again).
Only when no domain of the request is known does no answer / bad answer /
refusal give HTTP 503 with ``Retry-After``; the broker's per-IP overload
is HTTP 502 whenever something was to be queued. After a broker
failure, requests skip the broker for ``broker_backoff`` seconds instead of
each waiting for a timeout.

``--broker`` may list several brokers on one store (hot standby): each
thread's :class:`~protocol.client.BrokerClient` sends to the one that
answered last and moves on past a "not active" answer or a silence, within
``broker_timeout``. No broker active is the same as the broker down: 503.

A store failure makes every domain a miss (the broker still queues them);
it is counted and logged, never shown to the client as such, and the store
is left alone for a second before the next try.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from protocol import (
    DomainError,
    DomainStatus,
    ErrorReply,
    JobState,
    Message,
    Overload,
    ProtocolError,
    RateReply,
    RateRequest,
    StatsRequest,
    Unavailable,
)
from protocol.client import BrokerClient, BrokerUnavailable
from protocol.vocabulary import Rating, RatingInfo
from store import Store, StoredRating, StoreError, open_store

from ._perthread import PerThread
from .cache import TTLCache
from .config import FrontendConfig
from .errors import HTTPError
from .metrics import FrontendMetrics
from .query import UrlField, host_and_domain
from .render import STATUS_FINAL, STATUS_PENDING, Item

__all__ = ["RatingService", "Resolved"]

log = logging.getLogger(__name__)

# Don't log the same kind of outage more often than this (seconds).
_LOG_EVERY = 30.0
# After a store failure, lookups skip the store this long: a dead database
# server costs a connect timeout per call, and requests must stay fast.
_STORE_BACKOFF = 1.0


@dataclass(frozen=True, slots=True)
class Resolved:
    """A url reduced to its domain, or the reason it has none."""

    field: UrlField
    host: str  # as the client asked (normalised); "" when unreadable
    domain: str | None  # the registrable domain whose rating answers it
    error: RatingInfo | None = None


def _domain_of(text: str) -> tuple[str, str | None, RatingInfo | None]:
    try:
        host, domain = host_and_domain(text)
        return host, domain, None
    except DomainError as e:
        return "", None, e.ratinginfo


# Clients ask for the same few thousand hosts all day; parsing one (IDNA,
# public suffix list) costs more than the rest of its lookup.
_cached_domain_of = functools.lru_cache(maxsize=65536)(_domain_of)
_CACHE_URLS_UP_TO = 256  # characters: long URLs are rare and would bloat the cache


def resolve(fields: Sequence[UrlField]) -> list[Resolved]:
    out = []
    for f in fields:
        if f.text is None:
            out.append(Resolved(f, "", None, RatingInfo.BAD_URL))
            continue
        lookup = _cached_domain_of if len(f.text) <= _CACHE_URLS_UP_TO else _domain_of
        out.append(Resolved(f, *lookup(f.text)))
    return out


class _Throttle:
    """Log a recurring failure once per period, counting how often it was suppressed."""

    def __init__(self, every: float = _LOG_EVERY) -> None:
        self.every = every
        self._next: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, kind: str, message: str, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self._next.get(kind, 0.0):
                self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
                return
            self._next[kind] = now + self.every
            skipped = self._suppressed.pop(kind, 0)
        log.warning(message + (" (%d similar since the last report)" if skipped else ""),
                    *args, *((skipped,) if skipped else ()))


class RatingService:
    """Cache + store + broker, as the module docstring says. Safe to call from many threads."""

    def __init__(self, config: FrontendConfig, metrics: FrontendMetrics) -> None:
        self.config = config
        self.metrics = metrics
        self.cache: TTLCache[str, StoredRating] = TTLCache(config.cache_ttl, config.cache_size)
        self.stores: PerThread[Store] = PerThread(lambda: open_store(config.read_store), lambda s: s.close())
        self.brokers: PerThread[BrokerClient] = PerThread(
            lambda: BrokerClient(config.broker_list, timeout=config.broker_timeout,
                                 connect_grace=min(0.5, config.broker_timeout), curve=config.broker_keys),
            lambda c: c.close())
        self._broker_down_until = 0.0  # monotonic; written by whichever thread saw the failure
        self._store_down_until = 0.0
        self._warn = _Throttle()

    def close(self) -> None:
        self.stores.close_all()
        self.brokers.close_all()

    # ------------------------------------------------------------ lookups
    def lookup(self, domains: Sequence[str]) -> dict[str, StoredRating]:
        """Stored ratings of ``domains`` (expired included); only the cached ones on a store failure.

        Unexpired ratings read from the store are cached (without their
        evidence: the API never shows it) until ``cache_ttl`` or their own
        expiry, whichever comes first, so a cached rating is never stale.
        """
        found = self.cache.get_many(domains)
        misses = [d for d in domains if d not in found]
        self.metrics.cache.labels("hit").inc(len(found))
        self.metrics.cache.labels("miss").inc(len(misses))
        if not misses:
            return found
        if time.monotonic() < self._store_down_until:
            self.metrics.store_errors.labels("backoff").inc()
            return found
        try:
            stored = self.stores.get().lookup_ratings(misses)
        except StoreError as e:
            self._store_down_until = time.monotonic() + _STORE_BACKOFF
            self.metrics.store_errors.labels("lookup_ratings").inc()
            self._warn("store", "store lookup failed, treating %d domain(s) as misses: %s", len(misses), e)
            return found
        now = time.time()
        for domain, rating in stored.items():
            found[domain] = rating
            if not rating.expired(now):
                self.cache.put(domain, replace(rating, evidence=[]), max_age=rating.expires_at - now)
        self.metrics.cache_entries.set(len(self.cache))
        return found

    def details(self, domain: str) -> StoredRating | None:
        """The full stored rating (with evidence) for the details page; StoreError propagates."""
        return self.stores.get().lookup_ratings([domain]).get(domain)

    # ------------------------------------------------------------ the request
    def rate(self, fields: Sequence[UrlField], client_ip: str, priority: int) -> list[Item]:
        """One item per field, in order; HTTPError 502/503 as the module docstring says."""
        resolved = resolve(fields)
        domains = list(dict.fromkeys(r.domain for r in resolved if r.domain is not None))
        ratings = self.lookup(domains) if domains else {}
        now = time.time()
        missing = [d for d in domains if d not in ratings]
        stale = [d for d in domains if d in ratings and ratings[d].expired(now)]
        states: dict[str, DomainStatus] = {}
        if missing or stale:
            # The broker is required only when nothing in the request is known:
            # with some ratings to give, the rest are W/202 and the client asks
            # again for those, as it would for any queued domain.
            states = self._ask_broker(missing + stale, client_ip, priority,
                                      required=bool(missing), partial=bool(ratings))

        items = []
        counts: Counter[tuple[str, str]] = Counter()
        for r in resolved:
            if r.domain is None:
                item = Item(r.field.echo, "", "", Rating.U.value, (r.error or RatingInfo.BAD_URL).value,
                            STATUS_FINAL)
            elif r.domain in ratings:
                stored = ratings[r.domain]
                item = Item(r.field.echo, r.host, r.domain, stored.rating, stored.ratinginfo, STATUS_FINAL,
                            location=stored.location or {})
            else:
                state = states.get(r.domain)
                if state is not None and state.state is JobState.INVALID:
                    item = Item(r.field.echo, r.host, r.domain, Rating.U.value, RatingInfo.NO_DOMAIN.value,
                                STATUS_FINAL)
                else:
                    item = Item(r.field.echo, r.host, r.domain, Rating.W.value, RatingInfo.NONE.value,
                                STATUS_PENDING, position=state.position if state else 0,
                                progress=state.progress if state else "")
            counts[item.rating, item.status] += 1
            items.append(item)
        for (rating, status), n in counts.items():
            self.metrics.items.labels(rating, status).inc(n)
        return items

    # ------------------------------------------------------------ one domain (the details page)
    def queue(self, domain: str, client_ip: str, priority: int) -> DomainStatus:
        """Ask the broker to rate ``domain`` for ``client_ip``, as an API request would; HTTPError 502/503."""
        states = self._ask_broker([domain], client_ip, priority, required=True)
        return states.get(domain) or DomainStatus(domain, JobState.QUEUED)

    def refresh(self, domain: str, client_ip: str, priority: int) -> None:
        """Ask for an expired rating to be refreshed; broker trouble is counted, never raised."""
        self._ask_broker([domain], client_ip, priority, required=False)

    # ------------------------------------------------------------ the broker
    def broker_call(self, make_request: Callable[[int], Message], timeout: float) -> Message:
        """This thread's ``BrokerClient.call``, failing at once while backing off after a failure."""
        if time.monotonic() < self._broker_down_until:
            raise BrokerUnavailable(f"broker {self.config.broker} failed moments ago; not asking again yet")
        try:
            return self.brokers.get().call(make_request, timeout=timeout)
        except BrokerUnavailable:
            self._broker_down_until = time.monotonic() + self.config.broker_backoff
            raise

    def broker_stats(self, timeout: float) -> dict | None:
        """The broker's STATS now (without recent ratings), or None when it does not answer."""
        try:
            return self.broker_call(lambda i: StatsRequest(req_id=i, recent=0), timeout).stats
        except (BrokerUnavailable, ProtocolError):
            return None

    def _retry_after(self, seconds: float | None = None) -> list[tuple[str, str]]:
        value = self.config.retry_after if seconds is None or seconds <= 0 else seconds
        return [("Retry-After", str(max(1, math.ceil(value))))]

    def _fail(self, kind: str, required: bool, partial: bool, status: int, message: str,
              retry_after: float | None = None) -> dict[str, DomainStatus]:
        """Raise the request's HTTP error, or return no states when the reply can do without the broker.

        Overload (502) is the client's own doing and is always reported when
        something was to be queued; an unavailable broker (503) only when no
        item of the request could be answered.
        """
        self.metrics.broker_errors.labels(kind).inc()
        if not required or (partial and status == 503):
            return {}
        headers = self._retry_after(retry_after) if status == 503 else []
        raise HTTPError(status, message, headers)

    def _ask_broker(self, domains: list[str], client_ip: str, priority: int,
                    required: bool, partial: bool = False) -> dict[str, DomainStatus]:
        unavailable = ("Service unavailable: the rating queue cannot be reached. Ratings already known "
                       "are still served; ask again for the others in a few seconds.")
        if time.monotonic() < self._broker_down_until:
            return self._fail("backoff", required, partial, 503, unavailable)
        try:
            reply = self.broker_call(lambda i: RateRequest(req_id=i, client_ip=client_ip, priority=priority,
                                                           domains=tuple(domains)), self.config.broker_timeout)
        except BrokerUnavailable as e:
            self._warn("broker", "broker unavailable: %s", e)
            return self._fail("unreachable", required, partial, 503, unavailable)
        except ProtocolError as e:
            self._warn("broker-protocol", "unreadable reply from the broker: %s", e)
            return self._fail("protocol", required, partial, 503, unavailable)
        if isinstance(reply, RateReply):
            return {s.domain: s for s in reply.items}
        if isinstance(reply, Overload):
            return self._fail("overload", required, partial, 502,
                              f"Overload: {reply.outstanding} ratings are already outstanding for your "
                              f"address (the limit is {reply.limit}). Wait for them to complete before "
                              f"asking for more.")
        if isinstance(reply, Unavailable):
            self._warn("broker-unavailable", "broker cannot take work: %s", reply.reason)
            return self._fail("refused", required, partial, 503,
                              "Service unavailable: the rating queue is not accepting work right now. "
                              "Ratings already known are still served; ask again later.",
                              retry_after=reply.retry_after)
        if isinstance(reply, ErrorReply):
            log.error("broker refused our rate request: %s: %s", reply.code, reply.message)
        else:
            log.error("unexpected %s in answer to a rate request", type(reply).__name__)
        return self._fail("protocol", required, partial, 503, unavailable)
