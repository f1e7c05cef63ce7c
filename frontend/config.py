"""Frontend settings: every default in one place, with the reason for it.

:class:`FrontendConfig` is what :func:`frontend.app.make_app` and the servers
take. ``sitetruth-frontend`` (:mod:`frontend.cli`) and the gunicorn entry
point (:mod:`frontend.wsgi`) build one from flags, ``SITETRUTH_*``
environment twins and an optional TOML file; tests build one directly.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from protocol.messages import MAX_DOMAINS_PER_REQUEST
from store import DEFAULT_STORE_URL, StoreConfigError, parse_store_url

from .errors import FrontendConfigError

__all__ = ["FrontendConfig", "load_keys", "parse_networks", "DEFAULT_INTERNAL_ALLOW", "GUEST_KEY"]

# The key the public documentation tells casual clients to use.
GUEST_KEY = "guest"

# Who may see the internal pages (/status, /status.json, /metrics): they show
# client IPs and tracebacks. Loopback and private ranges by default, so an
# operator's browser on the LAN and a Prometheus scraper work out of the box
# while the internet does not.
DEFAULT_INTERNAL_ALLOW = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")


@dataclass(frozen=True)
class FrontendConfig:
    # Where the built-in HTTP server listens (HOST:PORT, [v6]:PORT).
    listen: str = "127.0.0.1:8080"
    # The broker's client endpoint.
    broker: str = "tcp://127.0.0.1:7710"
    # The system of record, and a read replica for rating lookups and pages
    # ("" = the same as ``store``). The frontend never writes.
    store: str = DEFAULT_STORE_URL
    store_read: str = ""
    # FastCGI instead of HTTP: a UNIX socket path or HOST:PORT ("" = off).
    fastcgi: str = ""
    # Permissions of the FastCGI UNIX socket: the web server's user must be
    # able to write to it; group access is the safe default.
    fastcgi_mode: int = 0o660
    # Accepted application keys; empty = every key is accepted (the default
    # configuration, in which "guest" and the add-ons' own keys all work). A
    # request without a key counts as "guest".
    keys: frozenset[str] = frozenset()
    # Proxies whose X-Forwarded-For is believed (addresses or CIDRs).
    trusted_proxies: tuple[str, ...] = ()
    # Client networks that may read the internal pages.
    internal_allow: tuple[str, ...] = DEFAULT_INTERNAL_ALLOW
    # In-process cache in front of the store. Short, so a rating the broker
    # just stored (or an operator's correction) shows within seconds, yet
    # long enough that a hot domain costs one query per TTL per process.
    cache_ttl: float = 30.0
    cache_size: int = 50_000
    # A broker reply normally takes milliseconds (one group commit); a
    # request that has to wait longer is answered 503 rather than held.
    broker_timeout: float = 2.0
    # After the broker failed, requests with misses get 503 at once for this
    # long instead of each paying a timeout (one probe per period).
    broker_backoff: float = 1.0
    # Retry-After (s) on our own 503s; the broker's value wins when it sends one.
    retry_after: int = 5
    # Request limits: more url fields, or a longer query string, is HTTP 414.
    # 100 is five times the documented minimum of 20; 64 KiB is what
    # Python's HTTP servers accept as a request line anyway.
    max_urls: int = 100
    max_query_bytes: int = 64 * 1024
    # Worker threads of the built-in HTTP and FastCGI servers.
    threads: int = 16
    # IPv6 clients are queued per /64: one subscriber usually holds a whole
    # /64 and could otherwise rotate addresses past the per-IP cap.
    ipv6_prefix: int = 64
    # Cache-Control max-age for replies whose items are all final; replies
    # with any W/202 item are "no-store".
    cache_max_age: int = 600

    @property
    def read_store(self) -> str:
        return self.store_read or self.store

    def check(self) -> FrontendConfig:
        """Raise FrontendConfigError for values no server could run with; return self."""
        if self.cache_ttl < 0 or self.cache_size < 0:
            raise FrontendConfigError("--cache-ttl and --cache-size must be >= 0")
        if self.broker_timeout <= 0 or self.broker_backoff < 0:
            raise FrontendConfigError("--broker-timeout must be > 0 and --broker-backoff >= 0")
        if self.retry_after < 1:
            raise FrontendConfigError("--retry-after must be >= 1 second")
        if not 20 <= self.max_urls <= MAX_DOMAINS_PER_REQUEST:
            raise FrontendConfigError(f"--max-urls must be from 20 (the API promises 20 per request) "
                                      f"to {MAX_DOMAINS_PER_REQUEST} (what one broker request carries)")
        if self.max_query_bytes < 1024:
            raise FrontendConfigError("--max-query-bytes must be at least 1024")
        if not 1 <= self.threads <= 1024:
            raise FrontendConfigError("--threads must be between 1 and 1024")
        if not 0 <= self.ipv6_prefix <= 128:
            raise FrontendConfigError("--ipv6-prefix must be between 0 and 128")
        for key in self.keys:
            if not key or not key.isprintable():
                raise FrontendConfigError(f"unusable application key {key[:40]!r}")
        for flag, url in (("--store", self.store), ("--store-read", self.read_store)):
            try:
                parse_store_url(url)
            except StoreConfigError as e:
                raise FrontendConfigError(f"{flag}: {e}") from e
        parse_networks(self.trusted_proxies, "--trusted-proxy")
        parse_networks(self.internal_allow, "--internal-allow")
        return self


def parse_networks(
    specs: tuple[str, ...] | list[str], flag: str
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``("10.0.0.0/8", "::1")`` -> networks; FrontendConfigError naming ``flag``."""
    out = []
    for spec in specs:
        try:
            out.append(ipaddress.ip_network(spec.strip(), strict=False))
        except ValueError as e:
            raise FrontendConfigError(f"{flag}: {spec!r} is not an address or CIDR network ({e})") from e
    return tuple(out)


def load_keys(path: str) -> frozenset[str]:
    """Application keys from a file: one per line, ``#`` starts a comment."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise FrontendConfigError(f"cannot read keys file {path}: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise FrontendConfigError(f"keys file {path} is not UTF-8 text") from e
    keys = set()
    for line in lines:
        key = line.split("#", 1)[0].strip()
        if key:
            keys.add(key)
    if not keys:
        raise FrontendConfigError(f"keys file {path} holds no keys (an empty list would refuse every client)")
    return frozenset(keys)
