"""Client addresses: REMOTE_ADDR unless a trusted proxy vouches, right-most untrusted hop wins."""

from __future__ import annotations

import ipaddress

import pytest

from frontend.clientip import ClientIPResolver, parse_ip
from frontend.config import parse_networks
from frontend.errors import FrontendConfigError


def resolver(*trusted: str, prefix: int = 64) -> ClientIPResolver:
    return ClientIPResolver(parse_networks(trusted, "--trusted-proxy"), prefix)


def key(r: ClientIPResolver, remote: str, xff: str | None = None) -> str:
    return r.queue_key(r.resolve(remote, xff))


def test_forwarded_for_ignored_without_trusted_proxies():
    assert key(resolver(), "198.51.100.7", "203.0.113.9") == "198.51.100.7"


def test_forwarded_for_ignored_from_an_untrusted_peer():
    assert key(resolver("10.0.0.0/8"), "198.51.100.7", "203.0.113.9") == "198.51.100.7"


def test_trusted_proxy_right_most_untrusted_wins():
    r = resolver("10.0.0.0/8", "192.0.2.1")
    # forged, real client, then our own proxies
    assert key(r, "10.1.1.1", "1.1.1.1, 203.0.113.9, 192.0.2.1, 10.2.2.2") == "203.0.113.9"


def test_all_hops_trusted_gives_the_left_most():
    assert key(resolver("10.0.0.0/8"), "10.1.1.1", "10.9.9.9, 10.2.2.2") == "10.9.9.9"


def test_garbage_in_the_chain_stops_at_the_last_trusted_hop():
    assert key(resolver("10.0.0.0/8"), "10.1.1.1", "203.0.113.9, not-an-ip, 10.2.2.2") == "10.2.2.2"


def test_ports_brackets_and_mapped_addresses():
    r = resolver("127.0.0.1")
    assert key(r, "127.0.0.1", "203.0.113.9:4711") == "203.0.113.9"
    assert key(r, "127.0.0.1", "[2001:db8::1]:443") == "2001:db8::/64"
    assert key(r, "::ffff:198.51.100.7") == "198.51.100.7"


def test_ipv6_grouped_by_prefix():
    assert key(resolver(), "2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert key(resolver(), "2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert key(resolver(prefix=128), "2001:db8:1:2:aaaa::1") == "2001:db8:1:2:aaaa::1"


def test_unreadable_remote_address():
    assert key(resolver(), "") == "unknown"
    assert parse_ip("unix:/run/x") is None
    assert parse_ip("1.2.3.4") == ipaddress.ip_address("1.2.3.4")


def test_bad_trusted_proxy_spec_is_a_config_error():
    with pytest.raises(FrontendConfigError, match="--trusted-proxy"):
        parse_networks(("10.0.0.0/33",), "--trusted-proxy")
