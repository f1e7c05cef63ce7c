"""Which client a request comes from: the key of its fair-queue share at the broker.

The broker queues work per client IP and caps what one IP may have
outstanding, so the address the frontend reports must be one the client
cannot choose. That is the connection's own address (``REMOTE_ADDR``);
``X-Forwarded-For`` is believed only when the connection comes from a
configured trusted proxy, and then only as far as the chain of trusted
proxies goes: reading the header from the right, the first address that is
not itself a trusted proxy is the client (anything left of it may be forged).

IPv6 clients are grouped by prefix (``/64`` by default) for the broker's
queues, because one subscriber normally holds a whole /64. Behind FastCGI,
``REMOTE_ADDR`` is what the web server says the peer was, which is the same
thing one hop earlier.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ["ClientIPResolver", "IPAddress", "parse_ip", "UNKNOWN_CLIENT"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Queue key for a connection without a usable address (e.g. a UNIX socket).
UNKNOWN_CLIENT = "unknown"
# More forwarding hops than this is not a real proxy chain.
_MAX_HOPS = 32


def parse_ip(text: str | None) -> IPAddress | None:
    """An address from ``REMOTE_ADDR`` or one X-Forwarded-For entry, or None.

    Accepts ``[v6]``, ``[v6]:port``, ``v4:port`` and zone ids (dropped);
    IPv4-mapped IPv6 (``::ffff:192.0.2.1``) becomes the IPv4 address, so one
    client on a dual-stack socket is one client.
    """
    if not text:
        return None
    text = text.strip()
    if len(text) > 100:
        return None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        text = text[1:end]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]  # IPv4 with a port
    text = text.split("%", 1)[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


class ClientIPResolver:
    """Resolve the client address of a request; see the module docstring for the rules."""

    def __init__(self, trusted: Iterable[Network] = (), ipv6_prefix: int = 64) -> None:
        self.trusted = tuple(trusted)
        self.ipv6_prefix = ipv6_prefix

    def is_trusted(self, addr: IPAddress) -> bool:
        return any(addr.version == net.version and addr in net for net in self.trusted)

    def resolve(self, remote_addr: str | None, forwarded_for: str | None = None) -> IPAddress | None:
        """The client's address, or None when the connection has none we can read."""
        current = parse_ip(remote_addr)
        if current is None or not forwarded_for or not self.trusted or not self.is_trusted(current):
            return current
        hops = [h for h in forwarded_for.split(",")][-_MAX_HOPS:]
        for entry in reversed(hops):
            addr = parse_ip(entry)
            if addr is None:
                # A trusted proxy wrote garbage: nothing left of here can be
                # believed, and the proxy itself is the last address we know.
                return current
            if not self.is_trusted(addr):
                return addr
            current = addr
        return current

    def queue_key(self, addr: IPAddress | None) -> str:
        """The string the broker queues this client under."""
        if addr is None:
            return UNKNOWN_CLIENT
        if isinstance(addr, ipaddress.IPv6Address) and self.ipv6_prefix < 128:
            net = ipaddress.IPv6Network((addr, self.ipv6_prefix), strict=False)
            return str(net)
        return str(addr)
