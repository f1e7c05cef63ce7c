"""Frontend settings: every option declared once, with the reason for its default.

:class:`FrontendConfig` is what :func:`frontend.app.make_app` and the servers
take. Each field declared with :func:`protocol.config.option` is a flag of
``sitetruth-frontend`` (:mod:`frontend.cli`), a ``SITETRUTH_*`` environment
twin (the only source for the gunicorn entry point, :mod:`frontend.wsgi`)
and a key of the ``--config`` TOML file; see :mod:`protocol.config` for how
to add one. Tests build a FrontendConfig directly.
"""

from __future__ import annotations

import argparse
import functools
import ipaddress
from dataclasses import dataclass

from protocol.client import broker_endpoints, endpoint_list
from protocol.config import option
from protocol.messages import MAX_DOMAINS_PER_REQUEST
from protocol.security import ClientKeys, KeyFileError, client_keys_from_options
from store import DEFAULT_STORE_URL, StoreConfigError, parse_store_url

from .errors import FrontendConfigError

__all__ = ["FrontendConfig", "load_keys", "octal_mode", "parse_networks", "DEFAULT_INTERNAL_ALLOW", "GUEST_KEY"]

# The key the public documentation tells casual clients to use.
GUEST_KEY = "guest"

# Who may see the internal pages (/status, /status.json, /metrics): they show
# client IPs and tracebacks. Loopback and private ranges by default, so an
# operator's browser on the LAN and a Prometheus scraper work out of the box
# while the internet does not.
DEFAULT_INTERNAL_ALLOW = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")


def octal_mode(text: str) -> int:
    """``"660"`` -> 0o660: a file mode as operators write it."""
    try:
        value = int(str(text), 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an octal file mode (e.g. 660)") from None
    if not 0 <= value <= 0o777:
        raise argparse.ArgumentTypeError(f"{text!r} is not a file mode")
    return value


_SERVER, _ACCESS, _LIMITS = "serving", "who may do what", "limits and timing"
_SECURITY = "security (CURVE keys; see docs/security.md)"


@dataclass(frozen=True)
class FrontendConfig:
    # Where the built-in HTTP server listens (HOST:PORT, [v6]:PORT).
    listen: str = option("127.0.0.1:8080", metavar="HOST:PORT", group=_SERVER, help="HTTP address")
    # The broker's client endpoint; with hot-standby brokers all of them,
    # comma-separated: a standby answers "not active" and the request moves
    # on to the next (protocol.client.BrokerClient); the CURVE keys below
    # apply to every one.
    broker: str = option("tcp://127.0.0.1:7710", metavar="ENDPOINT[,ENDPOINT...]", parse=broker_endpoints,
                         help="the broker's client endpoint, or those of several brokers on one store "
                              "(comma-separated; requests go to whichever is active)")
    # The system of record, and a read replica for rating lookups and pages
    # ("" = the same as ``store``). The frontend never writes.
    store: str = option(DEFAULT_STORE_URL, metavar="URL",
                        help="store URL: mysql://user:pass@host/db or sqlite:///path")
    store_read: str = option("", metavar="URL", default_text="--store",
                             help="read replica for rating lookups and pages")
    # FastCGI instead of HTTP: a UNIX socket path or HOST:PORT ("" = off).
    fastcgi: str = option("", metavar="SOCKET", group=_SERVER,
                          help="serve FastCGI on a UNIX socket path (or unix:PATH, or HOST:PORT) instead of HTTP")
    # Permissions of the FastCGI UNIX socket: the web server's user must be
    # able to write to it; group access is the safe default.
    fastcgi_mode: int = option(0o660, metavar="MODE", parse=octal_mode, default_text="660", group=_SERVER,
                               help="permissions of the FastCGI socket file")
    # One common-log-format line per request, for operators used to reading
    # web server logs ("" = off, "-" = standard output).
    access_log: str = option("", metavar="FILE|-", group=_SERVER,
                             help="write an access log in common log format to FILE (- for standard output)")
    # Accepted application keys; empty = every key is accepted (the default
    # configuration, in which "guest" and the add-ons' own keys all work). A
    # request without a key counts as "guest".
    keys: frozenset[str] = option(frozenset(), flag="--key", metavar="KEY", group=_ACCESS,
                                  help="accepted application key (repeatable); without any, every key is accepted")
    # Read at start and added to ``keys``: lets the keys stay out of ``ps``.
    keys_file: str = option("", metavar="FILE", group=_ACCESS, help="file of accepted keys, one per line")
    # Proxies whose X-Forwarded-For is believed (addresses or CIDRs).
    trusted_proxies: tuple[str, ...] = option((), flag="--trusted-proxy", metavar="CIDR", group=_ACCESS,
                                              help="believe X-Forwarded-For from this address or network "
                                                   "(repeatable)")
    # Client networks that may read the internal pages.
    internal_allow: tuple[str, ...] = option(DEFAULT_INTERNAL_ALLOW, metavar="CIDR", group=_ACCESS,
                                             default_text="loopback and private ranges",
                                             help="networks that may see /status and /metrics (repeatable)")
    # In-process cache in front of the store. Short, so a rating the broker
    # just stored (or an operator's correction) shows within seconds, yet
    # long enough that a hot domain costs one query per TTL per process.
    cache_ttl: float = option(30.0, metavar="S", group=_LIMITS,
                              help="seconds a rating stays in the in-process cache (0 = off)")
    cache_size: int = option(50_000, metavar="N", group=_LIMITS, help="entries in the in-process cache")
    # A broker reply normally takes milliseconds (one group commit); a
    # request that has to wait longer is answered 503 rather than held.
    broker_timeout: float = option(2.0, metavar="S", group=_LIMITS, help="seconds to wait for the broker's reply")
    # After the broker failed, requests with misses get 503 at once for this
    # long instead of each paying a timeout (one probe per period).
    broker_backoff: float = option(1.0, metavar="S", group=_LIMITS,
                                   help="after a broker failure, answer 503 at once for this many seconds")
    # Retry-After (s) on our own 503s; the broker's value wins when it sends one.
    retry_after: int = option(5, metavar="S", group=_LIMITS, help="Retry-After seconds on 503 replies")
    # Request limits: more url fields, or a longer query string, is HTTP 414.
    # 100 is five times the documented minimum of 20; 64 KiB is what
    # Python's HTTP servers accept as a request line anyway.
    max_urls: int = option(100, metavar="N", group=_LIMITS, help="url fields per request before 414")
    max_query_bytes: int = option(64 * 1024, metavar="BYTES", group=_LIMITS,
                                  help="query string bytes before 414")
    # Worker threads of the built-in HTTP and FastCGI servers.
    threads: int = option(16, metavar="N", group=_SERVER, help="worker threads of the HTTP or FastCGI server")
    # IPv6 clients are queued per /64: one subscriber usually holds a whole
    # /64 and could otherwise rotate addresses past the per-IP cap.
    ipv6_prefix: int = option(64, metavar="BITS", group=_LIMITS,
                              help="IPv6 clients are queued per prefix of this length")
    # Cache-Control max-age for replies whose items are all final; replies
    # with any W/202 item are "no-store".
    cache_max_age: int = option(600, metavar="S", group=_LIMITS,
                                help="Cache-Control max-age of replies whose ratings are all final")
    # The whole request head (request line and headers, or a FastCGI
    # request's params) must arrive within this time, however it trickles:
    # a client sending a byte every few seconds must not hold a connection
    # slot for ever. Real clients send a head in one packet; 10 s leaves
    # room for a slow mobile link.
    head_timeout: float = option(10.0, metavar="S", group=_LIMITS,
                                 help="seconds a connection has to send its whole request head")
    # This frontend's key pair and the broker's public key (sitetruth-keygen
    # makes both); both or neither. Without them the broker socket has no
    # security, which a broker accepts on loopback or with --insecure only.
    curve_secret: str | None = option(None, metavar="FILE", group=_SECURITY,
                                      help="this frontend's CURVE secret key file (NAME.key_secret, mode 0600); "
                                           "needs --broker-public-key")
    broker_public_key: str | None = option(None, metavar="FILE", group=_SECURITY,
                                           help="the broker's public key file (broker.key); needs --curve-secret")

    @property
    def read_store(self) -> str:
        return self.store_read or self.store

    @property
    def broker_list(self) -> tuple[str, ...]:
        """``broker`` as the endpoints it names (one, or several hot-standby brokers)."""
        return endpoint_list(self.broker)

    @functools.cached_property
    def broker_keys(self) -> ClientKeys | None:
        """The CURVE keys of every broker socket, read from their files once; None without keys.

        FrontendConfigError with the loader's message (names the file and the
        fix) for a missing, unreadable or open secret file, or one of the two
        flags without the other. :meth:`check` reads them, so a server never
        starts with keys it cannot use.
        """
        try:
            # An empty value (SITETRUTH_CURVE_SECRET= in a unit file) means "not given".
            return client_keys_from_options(self.curve_secret or None, self.broker_public_key or None)
        except KeyFileError as e:
            raise FrontendConfigError(str(e)) from e

    def check(self) -> FrontendConfig:
        """Raise FrontendConfigError for values no server could run with; return self."""
        try:
            endpoint_list(self.broker)
        except ValueError as e:
            raise FrontendConfigError(f"--broker {self.broker!r}: {e}") from None
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
        if self.cache_max_age < 0:
            raise FrontendConfigError("--cache-max-age must be >= 0")
        if not self.head_timeout > 0:
            raise FrontendConfigError("--head-timeout must be > 0")
        self.broker_keys  # noqa: B018 - read now: a bad key file is a start-up error
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
