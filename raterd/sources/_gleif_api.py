"""Remote business-identity lookup: the GLEIF LEI records API (JSON:API).

As the original rater read BBBonline while it fetched a site's pages, a
worker asks this API about the business it found, in the same thread pool as
the page fetches. The request has its own time limit, bounded in total (the
body is read against a deadline, not per socket read), so a slow or
trickling API costs this lookup and delays nothing else.

Request: ``GET {base}/lei-records?filter[entity.legalName]=NAME
[&filter[entity.legalAddress.country]=CC]&page[size]=N``. The live API's
``legalName`` filter is a prefix match, so the name is sent without its
trailing legal form ("Acme Widgets Ltd" is sent as "Acme Widgets") and the
answers are then held to the same name + postcode/number rule as the local
registers (:mod:`._registry`).

Response: ``{"data": [{"type": "lei-records", "id": LEI, "attributes": {"lei",
"entity": {"legalName": {"name", "language"}, "otherNames": [...],
"legalAddress": {"addressLines", "city", "region", "country", "postalCode"},
"headquartersAddress": {...}, "registeredAs", "status"}, "registration":
{"status"}}}], "meta": {...}}``.

The base URL is set by the operator (``--gleif-url`` / ``SITETRUTH_GLEIF_URL``;
an empty value disables remote lookups), so unlike site URLs it is not
SSRF-checked; only http and https are accepted. Redirects are not followed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import urllib3

from raterd.findings import Confirmation

from ._errors import SourceError, SourceFormatError, SourceUnavailable, warning_level
from ._names import name_key, normalise_country, normalise_postcode, normalise_registration
from ._registry import GLEIF_LIVE_REGISTRATIONS

__all__ = ["GleifClient", "LeiRecord", "make_gleif_client", "DEFAULT_GLEIF_URL", "ENV_GLEIF_URL", "GLEIF_API"]

log = logging.getLogger(__name__)

DEFAULT_GLEIF_URL = "https://api.gleif.org/api/v1"
ENV_GLEIF_URL = "SITETRUTH_GLEIF_URL"
GLEIF_API = "gleif-api"           # Confirmation.source of remote matches
MAX_RESPONSE_BYTES = 2 << 20      # 200 records are ~1 MB; anything far bigger is not an answer
_USER_AGENT = "SiteTruth-rater/0.1 (+business identity check)"
_LEGAL_TAIL_WORDS = re.compile(
    r"[\s,]+(?:ltd|limited|inc|incorporated|llc|plc|llp|corp|corporation|co|company|gmbh|ag|sa|sarl|sas|bv|nv"
    r"|srl|spa|pty|pvt)\.?\s*$", re.I)


@dataclass(frozen=True)
class LeiRecord:
    """One LEI record as the API describes it (the fields a rating uses)."""

    lei: str
    legal_name: str
    language: str = ""
    other_names: tuple[str, ...] = ()
    address_lines: tuple[str, ...] = ()
    city: str = ""
    region: str = ""
    country: str = ""
    postcode: str = ""
    hq_postcode: str = ""
    registered_as: str = ""
    entity_status: str = ""
    registration_status: str = ""

    @property
    def live(self) -> bool:
        """ACTIVE entity with an ISSUED (or in-transfer) registration; see :mod:`._registry`."""
        return self.entity_status == "ACTIVE" and self.registration_status in GLEIF_LIVE_REGISTRATIONS

    @property
    def address(self) -> str:
        return ", ".join(p for p in (*self.address_lines, self.city, self.region, self.postcode, self.country) if p)

    @classmethod
    def from_resource(cls, item: object) -> LeiRecord:
        """Parse one ``data[]`` resource; :class:`SourceFormatError` if it lacks the LEI or name."""
        if not isinstance(item, Mapping):
            raise SourceFormatError("resource is not an object", source=GLEIF_API)
        attributes = _mapping(item.get("attributes"))
        entity = _mapping(attributes.get("entity"))
        legal_name = _mapping(entity.get("legalName"))
        lei = _text(attributes.get("lei")) or _text(item.get("id"))
        name = _text(legal_name.get("name"))
        if not lei or not name:
            raise SourceFormatError("resource without lei or entity.legalName.name", source=GLEIF_API)
        legal = _mapping(entity.get("legalAddress"))
        hq = _mapping(entity.get("headquartersAddress"))
        others = entity.get("otherNames")
        other_names = tuple(
            _text(o.get("name")) for o in (others if isinstance(others, list) else [])
            if isinstance(o, Mapping) and _text(o.get("name")) and _text(o.get("type")) != "PREVIOUS_LEGAL_NAME")
        lines = legal.get("addressLines")
        return cls(
            lei=lei.upper(),
            legal_name=name,
            language=_text(legal_name.get("language")),
            other_names=other_names,
            address_lines=tuple(_text(x) for x in (lines if isinstance(lines, list) else []) if _text(x)),
            city=_text(legal.get("city")),
            region=_text(legal.get("region")),
            country=_text(legal.get("country")),
            postcode=_text(legal.get("postalCode")),
            hq_postcode=_text(hq.get("postalCode")),
            registered_as=_text(entity.get("registeredAs")),
            entity_status=_text(entity.get("status")).upper(),
            registration_status=_text(_mapping(attributes.get("registration")).get("status")).upper(),
        )


def _mapping(value: object) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


class GleifClient:
    """Client of a GLEIF-format LEI records API.

    :meth:`search` raises :class:`SourceError` subclasses; :meth:`confirm`
    never raises for a source problem: it returns ``[]`` and records the
    error in ``last_error`` / ``errors`` (and logs it), because a rating must
    go on without a source that is down. Thread-safe (urllib3 pools are);
    share one client per worker.
    """

    def __init__(self, base_url: str = DEFAULT_GLEIF_URL, timeout: float = 5.0,
                 pool: urllib3.PoolManager | None = None, *, max_bytes: int = MAX_RESPONSE_BYTES) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"GLEIF API URL must be an http or https URL, not {base_url!r}")
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = float(timeout)
        self.max_bytes = max_bytes
        self._pool = pool if pool is not None else urllib3.PoolManager(num_pools=2, maxsize=4)
        self.last_error: SourceError | None = None
        self.errors: deque[SourceError] = deque(maxlen=20)

    def __repr__(self) -> str:
        return f"GleifClient({self.base_url!r}, timeout={self.timeout})"

    def search(self, name: str, country: str | None = None, limit: int = 5) -> list[LeiRecord]:
        """LEI records whose legal name starts with *name* (as the API sees it).

        Resources that cannot be parsed are skipped (logged at debug); a
        response that is not a JSON:API document, an HTTP error or a timeout
        raises :class:`SourceUnavailable` / :class:`SourceFormatError`.
        """
        params = [("filter[entity.legalName]", name)]
        iso = normalise_country(country)
        if len(iso) == 2:
            params.append(("filter[entity.legalAddress.country]", iso))
        params.append(("page[size]", str(max(1, min(int(limit), 200)))))
        url = f"{self.base_url}/lei-records?{urlencode(params)}"
        document = self._get_json(url)
        data = document.get("data") if isinstance(document, Mapping) else None
        if not isinstance(data, list):
            raise SourceFormatError("answer is not a JSON:API document with a data list", source=GLEIF_API,
                                    where=url)
        records = []
        for item in data:
            try:
                records.append(LeiRecord.from_resource(item))
            except SourceFormatError as e:
                log.debug("skipping an LEI resource: %s", e)
        return records

    def confirm(self, name: str, postcode: str | None = None, country: str | None = None,
                registration: str | None = None) -> list[Confirmation]:
        """Confirmations from the API under the local registers' rule: a live
        record whose name key equals *name*'s and whose legal or headquarters
        postcode equals *postcode* (or whose ``registeredAs``/LEI equals
        *registration*). Never raises for a source problem (see the class)."""
        key = name_key(name or "")
        want_postcode = normalise_postcode(postcode)
        want_number = normalise_registration(registration)
        if not key or not (want_postcode or want_number):
            return []
        try:
            records = self.search(_query_name(name), country, limit=10)
        except SourceError as e:
            self._record(e)
            return []
        want_country = normalise_country(country)
        confirmations = []
        for record in records:
            if not record.live:
                continue
            if len(want_country) == 2 and record.country and normalise_country(record.country) != want_country:
                continue
            if key not in {name_key(n) for n in (record.legal_name, *record.other_names)}:
                continue
            agreed = []
            if want_number and want_number in {normalise_registration(record.registered_as), record.lei}:
                agreed.append("registration number")
            if want_postcode and want_postcode in {normalise_postcode(record.postcode),
                                                   normalise_postcode(record.hq_postcode)}:
                agreed.append("postcode")
            if agreed:
                confirmations.append(Confirmation(
                    source=GLEIF_API,
                    detail=(f"{GLEIF_API}: LEI {record.lei} {record.legal_name!r} ({record.entity_status}/"
                            f"{record.registration_status}), {record.address}: name and "
                            f"{' and '.join(agreed)} match"),
                    matched_name=record.legal_name,
                    strength="strong"))
        return confirmations

    def _record(self, error: SourceError) -> None:
        self.last_error = error
        self.errors.append(error)
        log.log(warning_level(error), "GLEIF lookup failed, no confirmation from it: %s", error)

    def _get_json(self, url: str) -> object:
        deadline = time.monotonic() + self.timeout
        try:
            response = self._pool.request(
                "GET", url,
                headers={"Accept": "application/vnd.api+json, application/json", "User-Agent": _USER_AGENT},
                timeout=urllib3.Timeout(total=self.timeout, connect=self.timeout, read=self.timeout),
                retries=False, redirect=False, preload_content=False)
        except urllib3.exceptions.HTTPError as e:
            raise SourceUnavailable(f"request failed: {_reason(e, self.timeout)}", source=GLEIF_API, where=url) from e
        try:
            if response.status != 200:
                raise SourceUnavailable(f"HTTP {response.status}", source=GLEIF_API, where=url)
            body = _read_bounded(response, deadline, self.max_bytes, url, self.timeout)
        except BaseException:
            # A half-read connection must not go back to the pool: the next
            # request would read this answer's leftovers.
            response.close()
            raise
        finally:
            response.release_conn()
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise SourceFormatError(f"answer is not JSON: {e}", source=GLEIF_API, where=url) from e


def _read_bounded(response: urllib3.BaseHTTPResponse, deadline: float, limit: int, url: str,
                  timeout: float) -> bytes:
    """The body, read against *deadline* and *limit*.

    urllib3's read timeout applies to each socket read, so a server that
    trickles a byte at a time could stretch a plain ``read()`` without end.
    A watchdog timer shuts the socket down at the deadline instead, which
    wakes a read blocked in ``recv`` (urllib3 >= 2.3 exposes that through
    ``HTTPResponse.shutdown``; on older releases the deadline is checked
    between reads, so the overrun is at most one read timeout).
    """
    late = SourceUnavailable("answer not complete within the time limit", source=GLEIF_API, where=url)
    fired = threading.Event()

    def cut() -> None:
        fired.set()
        with contextlib.suppress(ValueError, RuntimeError, OSError):  # already closed or released
            response.shutdown()

    watchdog = None
    if hasattr(response, "shutdown"):
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), cut)
        watchdog.daemon = True
        watchdog.start()
    chunks = []
    size = 0
    try:
        while True:
            if time.monotonic() >= deadline:
                raise late
            chunk = response.read1(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise SourceUnavailable(f"answer larger than {limit} bytes", source=GLEIF_API, where=url)
            chunks.append(chunk)
    except (urllib3.exceptions.HTTPError, OSError) as e:
        if fired.is_set():
            raise late from e
        raise SourceUnavailable(f"reading the answer failed: {_reason(e, timeout)}", source=GLEIF_API,
                                where=url) from e
    finally:
        if watchdog is not None:
            watchdog.cancel()
    if fired.is_set():  # the shutdown looked like the end of the body
        raise late
    return b"".join(chunks)


def _reason(error: BaseException, timeout: float) -> str:
    """In words for the details page: never urllib3's text, which names its pool classes and addresses."""
    from raterd.fetch import describe_failure  # the fetch layer's wording; imported late, it is heavier

    return describe_failure(error, timeout=timeout)


def _query_name(name: str) -> str:
    """The name as sent to the prefix filter: trailing legal form removed."""
    text = " ".join(name.split())
    shorter = _LEGAL_TAIL_WORDS.sub("", text).strip(" ,")
    return shorter or text


def make_gleif_client(url: str | None = None, timeout: float = 5.0,
                      pool: urllib3.PoolManager | None = None) -> GleifClient | None:
    """The configured client, or None when remote lookups are disabled.

    *url* None means ``$SITETRUTH_GLEIF_URL`` if set, else the public API;
    an empty string (from the flag or the environment) disables the lookup.
    """
    if url is None:
        url = os.environ.get(ENV_GLEIF_URL, DEFAULT_GLEIF_URL)
    if not url.strip():
        return None
    return GleifClient(url.strip(), timeout=timeout, pool=pool)
