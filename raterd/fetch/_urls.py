"""What exactly to fetch: an absolute http(s) URL reduced to host, port and request target.

Every URL the fetcher touches (the one asked for and each redirect
``Location``) goes through :func:`parse_target` first, so scheme, host and
port rules are applied in one place: only ``http`` and ``https``; user info
is dropped (we never send credentials from a link); the host is canonical
(:func:`~raterd.fetch.resolver.canonical_host`, which also refuses IP
literals); the path and query are percent-encoded the way a browser sends
them, so a link with a space or a non-ASCII character still works.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from .errors import BadScheme, BadURL
from .resolver import canonical_host

__all__ = ["Target", "parse_target", "join_location"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 3986 pchar plus '/', and '%' so existing escapes survive.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # canonical name, never an IP literal
    port: int
    request_target: str  # "/path?query", percent-encoded
    url: str  # normalised absolute URL, no fragment

    @property
    def host_header(self) -> str:
        return self.host if self.port == _DEFAULT_PORTS[self.scheme] else f"{self.host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host_header}"


def parse_target(url: str) -> Target:
    """Parse an absolute URL; raises BadURL, BadScheme or BlockedAddress (IP literal)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise BadURL(f"unreadable URL: {error}", url=text) from error
    scheme = parts.scheme.lower()
    if not scheme:
        raise BadURL("not an absolute URL", url=text)
    if scheme not in _DEFAULT_PORTS:
        raise BadScheme(f"scheme {scheme!r} is not fetched (only http and https)", url=text)
    hostname = parts.hostname
    if not hostname:
        raise BadURL("URL has no host", url=text)
    if parts.netloc.rpartition("@")[2].startswith("["):
        hostname = f"[{hostname}]"  # keep IPv6 literals recognisable as such
    host = canonical_host(hostname, url=text)
    port = port or _DEFAULT_PORTS[scheme]
    if port == 0:
        raise BadURL("port 0", url=text)
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if not path.startswith("/"):
        path = "/" + path
    query = quote(parts.query, safe=_QUERY_SAFE)
    request_target = f"{path}?{query}" if query else path
    port_part = "" if port == _DEFAULT_PORTS[scheme] else f":{port}"
    return Target(scheme, host, port, request_target, f"{scheme}://{host}{port_part}{request_target}")


def join_location(base: str, location: str) -> str:
    """The absolute URL a ``Location`` header points to from *base*."""
    value = location.strip()
    try:
        # http.client reads header bytes as Latin-1; browsers read a raw
        # UTF-8 Location as UTF-8.
        value = value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return urljoin(base, value)
