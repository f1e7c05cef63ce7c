"""Name resolution with the SSRF guard: the only way the fetcher learns an address.

Flow: :class:`~raterd.fetch.fetcher.Fetcher` asks :meth:`Resolver.resolve`
for every hop of every fetch (redirects included) and connects to exactly the
addresses it gets back, never letting urllib3 resolve the name again, so a
DNS answer that changes between check and connect (DNS rebinding) cannot
slip a private address in.

Two sources of addresses:

* **Operator overrides** (``--resolve NAME:ADDR[:PORT]``, ``--hosts FILE``):
  the name resolves *only* to the mapped addresses.  They are trusted
  (loopback and private ranges allowed: the operator said so) only for what
  the operator said: that name, asked for directly (the fetcher passes
  ``trust_mapping=False`` for a hop that a redirect from another site led
  to), on the ports the mapping names or the default ports (80 and 443, and
  the ports the rater looks for sites on).  Anywhere else the mapped
  addresses are checked like any DNS answer, so a public site cannot use an
  operator's mapping to reach an internal service by redirecting to it or
  linking to another port of it.  Tests map their fixture sites to
  127.0.0.1 this way.
* **The system resolver** (``getaddrinfo``, injectable as ``system_lookup``):
  every address must be public (:func:`is_public_address`); if any one is
  not, the whole name is refused, because a public address next to a private
  one is a classic rebinding set-up, not an accident.

IP literals as hosts are always refused: a rating is for a site with a name.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from protocol.domains import normalise_host
from protocol.errors import DomainError
from protocol.vocabulary import RatingInfo

from ._addresses import is_public_address, non_public_reason, parse_ip
from .deadline import Deadline
from .errors import BadURL, BlockedAddress, DeadlineExceeded, NameNotFound, ResolverConfigError

__all__ = [
    "Address",
    "DEFAULT_PORTS",
    "ResolveOption",
    "Resolver",
    "SystemLookup",
    "canonical_host",
    "is_public_address",
    "load_hosts_file",
    "parse_resolve_option",
]

log = logging.getLogger(__name__)

SystemLookup = Callable[[str, int], list[str]]

_LDH_NAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
# A last label that is a number makes the whole host an IPv4 address in some
# spelling ("127.1", "0x7f.1", "2130706433"), as getaddrinfo would read it.
_NUMERIC_LABEL = re.compile(r"(?:[0-9]+|0x[0-9a-f]*)\Z", re.IGNORECASE)
_CACHE_MAX = 1024
# An absolute URL with an explicit port, up to the end of the port.
_URL_WITH_PORT = re.compile(r"\b(https?)://([A-Za-z0-9.-]+):([0-9]{1,5})(?![0-9])")
DEFAULT_PORTS = frozenset({80, 443})


@dataclass(frozen=True, slots=True)
class Address:
    """A checked address to connect to. ``trusted``: it came from an operator override."""

    ip: str
    trusted: bool


def canonical_host(text: str, *, url: str = "") -> str:
    """The lower-case ASCII (punycode) form of a host name, no trailing dot.

    Raises :class:`BlockedAddress` for IP literals in any spelling and
    :class:`BadURL` for text that is not a host name.  Names are normalised
    with :func:`protocol.domains.normalise_host`, so the rater fetches a site
    under the same name the frontend and broker used; a plain LDH name that
    it refuses only for not being under a known public suffix
    (``registry.internal``, a TLD newer than our Public Suffix List) is still
    accepted here, because whether a name may be fetched is the SSRF guard's
    call, made on its addresses, not the suffix list's.
    """
    host = text.strip()
    if host.startswith("[") or parse_ip(host) is not None:
        raise BlockedAddress(f"blocked: IP address literal {host!r} as host", url=url, host=host, address=host.strip("[]"),
                             reason="IP literal")
    bare = host.rstrip(".")
    if bare and _NUMERIC_LABEL.match(bare.rpartition(".")[2]):
        raise BlockedAddress(f"blocked: IP address literal {host!r} as host", url=url, host=host, address=host,
                             reason="IP literal (numeric spelling)")
    try:
        return normalise_host(host)
    except DomainError as error:
        lowered = bare.lower()
        if error.ratinginfo == RatingInfo.NO_DOMAIN and lowered.isascii() and _LDH_NAME.match(lowered) \
                and len(lowered) <= 253:
            return lowered
        raise BadURL(f"unusable host name: {error}", url=url, ratinginfo=error.ratinginfo.value) from error


_GAI_WORDS = {
    getattr(socket, name): words for name, words in (
        ("EAI_NONAME", "no such name"), ("EAI_NODATA", "no address records"),
        ("EAI_AGAIN", "temporary failure of the DNS; try again later"), ("EAI_FAIL", "the DNS failed to answer"),
        ("EAI_ADDRFAMILY", "no address records"),
    ) if hasattr(socket, name)
}


def _lookup_reason(error: BaseException) -> str:
    """A resolver failure in words (``getaddrinfo``'s errors are numbered, its text varies by libc)."""
    if isinstance(error, socket.gaierror) and error.errno in _GAI_WORDS:
        return _GAI_WORDS[error.errno]
    if isinstance(error, UnicodeError):
        return "the name cannot be encoded for the DNS"
    return "lookup failed"


def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class Resolver:
    """Turns a host name into checked :class:`Address` es; thread-safe.

    ``overrides`` maps names to the only addresses they resolve to, trusted
    on ``default_ports`` and on the ports ``ports`` lists for the name (see
    the module docstring).  ``system_lookup(host, port) -> [ip, ...]``
    defaults to ``getaddrinfo``;
    tests inject a fake to play hostile DNS.  Positive system answers are
    cached for ``cache_ttl`` seconds (a rating asks for the same name some
    twenty times); the cache holds addresses, and every answer is checked
    again on every call.
    """

    def __init__(
        self,
        overrides: Mapping[str, Sequence[str]] | None = None,
        *,
        ports: Mapping[str, Iterable[int]] | None = None,
        default_ports: Iterable[int] = DEFAULT_PORTS,
        system_lookup: SystemLookup | None = None,
        cache_ttl: float = 30.0,
    ) -> None:
        self._default_ports = frozenset(_config_port(p, where="default ports") for p in default_ports)
        self._ports: dict[str, frozenset[int]] = {}
        for name, numbers in (ports or {}).items():
            key = _config_name(name, where=f"ports of {name!r}")
            self._ports[key] = self._ports.get(key, frozenset()) | {_config_port(p, where=f"ports of {name!r}")
                                                                     for p in numbers}
        self._overrides: dict[str, tuple[str, ...]] = {}
        for name, addresses in (overrides or {}).items():
            key = _config_name(name, where=f"override {name!r}")
            if isinstance(addresses, str):
                addresses = [addresses]
            ips = [_config_address(ip, where=f"override {name!r}") for ip in addresses]
            if not ips:
                raise ResolverConfigError(f"override {name!r} maps to no address")
            self._overrides[key] = tuple(dict.fromkeys(self._overrides.get(key, ()) + tuple(ips)))
        self._lookup: SystemLookup = system_lookup or _getaddrinfo
        self._cache_ttl = cache_ttl
        self._cache: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_options(
        cls,
        resolve: Iterable[str] = (),
        hosts_file: str | None = None,
        *,
        default_ports: Iterable[int] = DEFAULT_PORTS,
        system_lookup: SystemLookup | None = None,
    ) -> Resolver:
        """From the ``--resolve NAME:ADDR[:PORT]`` options and the ``--hosts FILE``.

        A name given with ``--resolve`` replaces that name's hosts-file entry
        (the command line is the more specific statement); several
        ``--resolve`` options for one name add up, addresses and ports.
        Hosts-file names are trusted on the default ports only.
        """
        mapping: dict[str, list[str]] = dict(load_hosts_file(hosts_file)) if hosts_file else {}
        from_command_line: dict[str, list[str]] = {}
        ports: dict[str, set[int]] = {}
        for option in resolve:
            name, address, port = parse_resolve_option(option)
            from_command_line.setdefault(name, []).append(address)
            if port is not None:
                ports.setdefault(name, set()).add(port)
        mapping.update(from_command_line)
        return cls(mapping, ports=ports, default_ports=default_ports, system_lookup=system_lookup)

    @property
    def overrides(self) -> Mapping[str, tuple[str, ...]]:
        """A copy of the operator's name -> addresses map (canonical names)."""
        return dict(self._overrides)

    def public_urls(self, text: str, site_ports: Mapping[str, int] | None = None) -> str:
        """*text* with every ``scheme://host:port`` of a mapped host as ``scheme://host``.

        What a person can follow: a site the operator mapped (to a test
        server, a demo port, an internal address) is named as asked, on its
        scheme's default port, not by the port the rater reached it on.
        *site_ports* (scheme -> port) are where the rater looks for sites
        (``--http-port``/``--https-port``): a URL on one of those is shown
        on the default port too, mapped or not.  Other URLs are left as
        they are.
        """
        if "://" not in text or not (self._overrides or site_ports):
            return text
        ports = site_ports or {}

        def public(match: re.Match[str]) -> str:
            scheme, host, port = match.group(1), match.group(2).lower().rstrip("."), int(match.group(3))
            if host in self._overrides or ports.get(scheme) == port:
                return f"{scheme}://{host}"
            return match.group(0)

        return _URL_WITH_PORT.sub(public, text)

    def trusted_ports(self, host: str) -> frozenset[int]:
        """The ports on which *host*'s mapping is trusted (empty if the operator did not map it)."""
        try:
            name = canonical_host(host)
        except (BadURL, BlockedAddress):
            return frozenset()
        if name not in self._overrides:
            return frozenset()
        return self._default_ports | self._ports.get(name, frozenset())

    def is_overridden(self, host: str) -> bool:
        try:
            return canonical_host(host) in self._overrides
        except (BadURL, BlockedAddress):
            return False

    def resolve(self, host: str, port: int, *, deadline: Deadline | None = None, url: str = "",
                trust_mapping: bool = True) -> list[Address]:
        """The checked addresses of *host*, in the order to try them.

        ``trust_mapping=False`` (a hop a redirect from another site led to)
        checks an operator's mapping like a DNS answer, as does a *port* the
        mapping is not trusted on.  Raises :class:`BlockedAddress` (IP
        literal, or a non-public address that is not trusted),
        :class:`BadURL` (not a host name), :class:`NameNotFound`, or
        :class:`DeadlineExceeded` when the system resolver has not answered
        by the deadline.
        """
        name = canonical_host(host, url=url)
        mapped = self._overrides.get(name)
        if mapped is not None:
            allowed = self._default_ports | self._ports.get(name, frozenset())
            if trust_mapping and port in allowed:
                return [Address(ip, True) for ip in mapped]
            # The message goes on a public details page: it names neither the
            # operator's internal address nor the ports it is trusted on.
            because = ("only when that site is rated, not when it is reached by a redirect from another site"
                       if not trust_mapping else f"only on its own ports, and port {port} is not one of them")
            return self._check(name, mapped, url, f"blocked: {name} is mapped by the operator to a non-public "
                                                  f"address, trusted {because}")
        ips = self._cached(name)
        if ips is None:
            ips = self._system_lookup(name, port, deadline, url)
            self._remember(name, ips)
        return self._check(name, ips, url, "")

    @staticmethod
    def _check(name: str, ips: Iterable[str], url: str, context: str) -> list[Address]:
        """Untrusted addresses: all must be public, or the name is refused (with *context* as the message)."""
        checked = []
        for ip in ips:
            why = non_public_reason(ip)
            if why is not None:
                log.info("refusing %s: it resolves to %s (%s%s)", name, ip, why, f"; {context}" if context else "")
                message = context or f"blocked: {name} resolves to non-public address {ip} ({why})"
                raise BlockedAddress(message, url=url, host=name, address=ip, reason=why)
            checked.append(Address(str(parse_ip(ip)), False))
        return checked

    def _system_lookup(self, name: str, port: int, deadline: Deadline | None, url: str) -> tuple[str, ...]:
        if deadline is None:
            raw = self._call_lookup(name, port, url)
        else:
            raw = self._lookup_with_deadline(name, port, deadline, url)
        ips = tuple(dict.fromkeys(str(ip) for ip in raw))
        if not ips:
            raise NameNotFound(f"DNS: {name} has no addresses", url=url)
        return ips

    def _call_lookup(self, name: str, port: int, url: str) -> list[str]:
        try:
            return list(self._lookup(name, port))
        except (OSError, UnicodeError, ValueError) as error:
            raise NameNotFound(f"DNS: cannot resolve {name} ({_lookup_reason(error)})", url=url) from error

    def _lookup_with_deadline(self, name: str, port: int, deadline: Deadline, url: str) -> list[str]:
        # getaddrinfo cannot be interrupted, so it runs on a daemon thread we
        # stop waiting for at the deadline; the system resolver's own
        # timeouts bound how long the abandoned thread lives.
        outcome: list[object] = []

        def run() -> None:
            try:
                outcome.append(self._call_lookup(name, port, url))
            except NameNotFound as error:
                outcome.append(error)

        deadline.check(url)
        thread = threading.Thread(target=run, name=f"resolve {name}", daemon=True)
        thread.start()
        thread.join(deadline.remaining())
        if not outcome:
            raise DeadlineExceeded(f"DNS: no answer from the resolver for {name} before the rating's deadline", url=url)
        result = outcome[0]
        if isinstance(result, NameNotFound):
            raise result
        return result  # type: ignore[return-value]

    def _cached(self, name: str) -> tuple[str, ...] | None:
        if self._cache_ttl <= 0:
            return None
        with self._lock:
            entry = self._cache.get(name)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def _remember(self, name: str, ips: tuple[str, ...]) -> None:
        if self._cache_ttl <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._cache) >= _CACHE_MAX:
                live = {k: v for k, v in self._cache.items() if v[0] >= now}
                # Still full of live entries: keep the newer half (insertion order).
                self._cache = dict(list(live.items())[len(live) // 2:]) if len(live) >= _CACHE_MAX else live
            self._cache[name] = (now + self._cache_ttl, ips)


def _config_name(name: str, *, where: str) -> str:
    try:
        return canonical_host(name)
    except (BadURL, BlockedAddress) as error:
        raise ResolverConfigError(f"{where}: {name!r} is not a host name ({error.message})") from error


def _config_address(text: str, *, where: str) -> str:
    address = parse_ip(text)
    if address is None:
        raise ResolverConfigError(f"{where}: {text!r} is not an IP address")
    return str(address)


def _config_port(value: object, *, where: str) -> int:
    try:
        port = int(str(value), 10)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise ResolverConfigError(f"{where}: {value!r} is not a TCP port")
    return port


class ResolveOption(NamedTuple):
    """One ``--resolve`` option: canonical name, address, and the port it names (None: default ports only)."""

    name: str
    address: str
    port: int | None = None


def parse_resolve_option(text: str) -> ResolveOption:
    """``"NAME:ADDR[:PORT]"`` -> :class:`ResolveOption`; ADDR may be ``[v6]``, or bare IPv6 without a port.

    >>> parse_resolve_option("shop.example.com:[::1]:8443")
    ResolveOption(name='shop.example.com', address='::1', port=8443)
    """
    name, sep, rest = text.strip().partition(":")
    where = f"--resolve {text!r}"
    if not sep or not name or not rest:
        raise ResolverConfigError(f"{where}: expected NAME:ADDR or NAME:ADDR:PORT")
    address, port = rest, None
    if parse_ip(rest) is None:
        if rest.startswith("[") and "]:" in rest:
            address, _, port = rest.partition("]:")
            address += "]"
        elif rest.count(":") == 1 and not rest.startswith("["):
            address, _, port = rest.partition(":")
    if address.startswith("[") != address.endswith("]"):
        raise ResolverConfigError(f"{where}: unbalanced brackets around the address")
    if parse_ip(address) is None:
        hint = " (curl's NAME:PORT:ADDR form is not accepted: write NAME:ADDR:PORT)" \
            if re.match(r"[0-9]+:", rest) else ""
        raise ResolverConfigError(f"{where}: {address!r} is not an IP address{hint}")
    return ResolveOption(_config_name(name, where=where), _config_address(address, where=where),
                         None if port is None else _config_port(port, where=where))


def load_hosts_file(path: str) -> dict[str, list[str]]:
    """Read a hosts(5) file: ``ADDR NAME [NAME...]`` per line, ``#`` comments.

    A name on several lines keeps all its addresses, in file order.  An
    unreadable address or name raises :class:`ResolverConfigError` naming
    ``file:line``: a mapping the operator meant but we silently dropped would
    send the rater to the real DNS instead.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ResolverConfigError(f"cannot read hosts file {path}: {error}") from error
    mapping: dict[str, list[str]] = {}
    for number, raw in enumerate(lines, 1):
        line = raw.partition("#")[0].strip()
        if not line:
            continue
        fields = line.split()
        where = f"{path}:{number}"
        if len(fields) < 2:
            raise ResolverConfigError(f"{where}: expected an address and at least one name")
        address = _config_address(fields[0], where=where)
        for name in fields[1:]:
            addresses = mapping.setdefault(_config_name(name, where=where), [])
            if address not in addresses:
                addresses.append(address)
    return mapping
