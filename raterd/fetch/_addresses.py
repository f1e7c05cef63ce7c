"""Which IP addresses a rater may connect to: the heart of the SSRF guard.

A rated site is chosen by whoever asks for a rating, so its DNS is hostile
until proven otherwise: a name that resolves to 127.0.0.1, 10.x or the cloud
metadata address 169.254.169.254 would turn the rater into a proxy into our
own network.  :func:`non_public_reason` says why an address is refused, or
``None`` for an address on the public Internet.

IPv4 uses a deny list (the IANA special-purpose registry entries that are not
globally reachable).  IPv6 uses an allow list: only global unicast 2000::/3
is considered, minus its special ranges, plus the transition formats that
carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo),
which are judged by the IPv4 address inside them.  We keep our own tables
rather than ``ipaddress.is_global`` because its answers have changed between
Python releases, and a guard must not change with the interpreter.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

__all__ = ["is_public_address", "non_public_reason", "parse_ip"]

_V4_BLOCKED: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), why)
    for net, why in (
        ("0.0.0.0/8", "'this network' / unspecified"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation (TEST-NET-1)"),
        ("192.88.99.0/24", "6to4 relay anycast (deprecated)"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation (TEST-NET-2)"),
        ("203.0.113.0/24", "documentation (TEST-NET-3)"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved / broadcast"),
    )
)

_V6_GLOBAL_UNICAST = IPv6Network("2000::/3")
_V6_MAPPED = IPv6Network("::ffff:0:0/96")
_V6_COMPATIBLE = IPv6Network("::/96")
_V6_NAT64 = IPv6Network("64:ff9b::/96")
_V6_6TO4 = IPv6Network("2002::/16")
_V6_TEREDO = IPv6Network("2001::/32")

# Inside 2000::/3, the ranges that are not globally reachable.
_V6_BLOCKED: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), why)
    for net, why in (
        ("2001:2::/48", "benchmarking"),
        ("2001:10::/28", "ORCHID (deprecated)"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
    )
)

# Outside 2000::/3, names for the refusal message (anything else there is
# "not global unicast").
_V6_NAMED: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), why)
    for net, why in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("fc00::/7", "unique-local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"),
        ("ff00::/8", "multicast"),
    )
)


def parse_ip(text: str) -> IPv4Address | IPv6Address | None:
    """The address in *text* (an IPv6 zone ``%eth0`` is dropped), or None."""
    candidate = text.strip()
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    candidate = candidate.partition("%")[0]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def _v4_reason(address: IPv4Address) -> str | None:
    for network, why in _V4_BLOCKED:
        if address in network:
            return f"{why} {network}"
    return None


def _v6_reason(address: IPv6Address) -> str | None:
    embedded: IPv4Address | None = None
    carrier = ""
    if address in _V6_MAPPED:
        embedded, carrier = address.ipv4_mapped, "IPv4-mapped"
    elif address in _V6_NAT64:
        embedded, carrier = IPv4Address(int(address) & 0xFFFFFFFF), "NAT64"
    elif address in _V6_COMPATIBLE and int(address) > 1:
        embedded, carrier = IPv4Address(int(address) & 0xFFFFFFFF), "IPv4-compatible"
    elif address in _V6_6TO4:
        embedded, carrier = address.sixtofour, "6to4"
    elif address in _V6_TEREDO:
        # Teredo carries two IPv4 addresses: the server's and the (obfuscated)
        # client's. Either one pointing inside is enough to refuse.
        for inner in address.teredo or ():
            why = _v4_reason(inner)
            if why:
                return f"Teredo carrying {inner} ({why})"
        return None
    if embedded is not None:
        why = _v4_reason(embedded)
        return f"{carrier} carrying {embedded} ({why})" if why else None

    if address not in _V6_GLOBAL_UNICAST:
        for network, why in _V6_NAMED:
            if address in network:
                return f"{why} {network}"
        return "not IPv6 global unicast (outside 2000::/3)"
    for network, why in _V6_BLOCKED:
        if address in network:
            return f"{why} {network}"
    return None


def non_public_reason(ip: str | IPv4Address | IPv6Address) -> str | None:
    """Why *ip* must not be connected to, or None if it is a public address.

    Text that is not an IP address at all is refused too (never connect to
    what we could not classify).
    """
    address = ip if isinstance(ip, (IPv4Address, IPv6Address)) else parse_ip(ip)
    if address is None:
        return "not an IP address"
    if isinstance(address, IPv4Address):
        return _v4_reason(address)
    return _v6_reason(address)


def is_public_address(ip: str) -> bool:
    """True iff *ip* is an address on the public Internet we may connect to."""
    return non_public_reason(ip) is None
