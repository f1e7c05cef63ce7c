"""Reading an API v3 rating request: the query string in, a :class:`RateQuery` out.

Where it sits: first step of ``GET /fcgi/rateapiv3.fcgi`` (and
``/api/v3/rate``), before any lookup. Works on the raw bytes of the query
string (WSGI hands them over as a latin-1 string), so no byte a client sends
can make parsing itself fail:

* fields are split on ``&``, ``+`` is a space, ``%XX`` escapes are decoded to
  bytes and the bytes read as UTF-8; a ``url`` that is not valid UTF-8 (or
  holds control characters) is answered as ``U``/``bad_url``, not refused;
* ``url`` may repeat (also ``url1``, ``url2``...: the original documentation
  says the fields "all begin with url"), order is kept;
* ``priority``, ``key`` and ``format`` are read from their first occurrence;
  unknown fields are ignored.

Request-level errors (:class:`~frontend.errors.HTTPError`): 414 when the
query string is longer than ``max_query_bytes`` or holds more than
``max_urls`` urls; 400 when there is no ``url`` at all, the priority is not
an integer in ``[0, 2**31-1]``, or the format is neither ``xml`` nor ``json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from protocol import normalise_host, registrable_domain
from protocol.messages import MAX_PRIORITY

from .config import GUEST_KEY
from .errors import HTTPError
from .render import xml_safe

__all__ = ["RateQuery", "UrlField", "parse_rate_query", "raw_query", "host_and_domain", "DEFAULT_PRIORITY",
           "FORMATS"]

DEFAULT_PRIORITY = 1
FORMATS = ("xml", "json")
_URL_NAME = re.compile(rb"url[0-9]*\Z")
_DIGITS = re.compile(r"[0-9]{1,10}\Z")


@dataclass(frozen=True, slots=True)
class UrlField:
    """One ``url`` value: ``echo`` goes back to the client, ``text`` is parsed (None: unreadable)."""

    echo: str
    text: str | None


@dataclass(frozen=True, slots=True)
class RateQuery:
    urls: tuple[UrlField, ...]
    priority: int
    key: str
    format: str


def host_and_domain(text: str) -> tuple[str, str]:
    """``(host as asked, registrable domain)`` of a url field; DomainError as :func:`registrable_domain`.

    The reply echoes the host (lower case, punycode, no port, userinfo, path or
    trailing dot): the Ad Limiter add-on reduces hosts with its own rule
    (``shop.example.de``) and files each reply item under that string. The
    rating is the registrable domain's, which the reply also carries.
    """
    host = normalise_host(text)
    # The host is already canonical, so this second parse cannot disagree.
    return host, registrable_domain(host)


def raw_query(query_string: str) -> bytes:
    """The bytes behind a WSGI ``QUERY_STRING`` (latin-1 by PEP 3333; tolerate servers that decode UTF-8)."""
    try:
        return query_string.encode("latin-1")
    except UnicodeEncodeError:
        return query_string.encode("utf-8", "surrogateescape") if _only_escapes(query_string) \
            else query_string.encode("utf-8", "replace")


def _only_escapes(text: str) -> bool:
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in text)


def _decode(value: bytes) -> bytes:
    return unquote_to_bytes(value.replace(b"+", b" "))


def _url_field(value: bytes) -> UrlField:
    data = _decode(value)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return UrlField(xml_safe(data.decode("utf-8", "replace")), None)
    return UrlField(xml_safe(text), text)


def parse_rate_query(query_string: str, *, max_urls: int, max_query_bytes: int) -> RateQuery:
    """Read a rating request; raise HTTPError 400/414 as the module docstring says."""
    raw = raw_query(query_string or "")
    if len(raw) > max_query_bytes:
        raise HTTPError(414, f"Request too long: the query string is {len(raw)} bytes; "
                             f"at most {max_query_bytes} are accepted.")
    urls: list[UrlField] = []
    first: dict[bytes, bytes] = {}
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        name = _decode(name)
        if _URL_NAME.match(name):
            if len(urls) >= max_urls:
                raise HTTPError(414, f"Request too long: more than {max_urls} url fields; "
                                     f"split the request.")
            urls.append(_url_field(value))
        elif name in (b"priority", b"key", b"format"):
            first.setdefault(name, value)
    if not urls:
        raise HTTPError(400, "Bad request: no url field. Send one or more url=DOMAIN fields.")

    priority = DEFAULT_PRIORITY
    if b"priority" in first:
        text = _decode(first[b"priority"]).decode("utf-8", "replace").strip()
        if text:
            if not _DIGITS.match(text) or int(text) > MAX_PRIORITY:
                raise HTTPError(400, f"Bad request: priority must be an integer from 0 to {MAX_PRIORITY}.")
            priority = int(text)

    fmt = "xml"
    if b"format" in first:
        fmt = _decode(first[b"format"]).decode("utf-8", "replace").strip().lower() or "xml"
        if fmt not in FORMATS:
            raise HTTPError(400, "Bad request: format must be xml or json.")

    key = GUEST_KEY
    if b"key" in first:
        key = _decode(first[b"key"]).decode("utf-8", "replace").strip() or GUEST_KEY
    return RateQuery(urls=tuple(urls), priority=priority, key=key, format=fmt)
