"""The SSRF guard's name resolution: address classification, overrides, hosts files, --resolve.

Pure logic: no traffic is sent; public addresses such as 8.8.8.8 are only
classified.  Hostile DNS answers come from FakeDNS.
"""

from __future__ import annotations

import pickle
import time

import pytest

from raterd.fetch import (
    Address,
    BadURL,
    BlockedAddress,
    Deadline,
    DeadlineExceeded,
    NameNotFound,
    Resolver,
    ResolverConfigError,
    canonical_host,
    is_public_address,
    load_hosts_file,
    parse_resolve_option,
)
from tests.raterd.fixtures import FakeDNS

NON_PUBLIC = [
    # IPv4 ranges
    "0.0.0.0", "0.1.2.3",
    "10.0.0.1", "10.255.255.255",
    "100.64.0.1", "100.127.255.255",
    "127.0.0.1", "127.255.255.254",
    "169.254.169.254", "169.254.0.1",
    "172.16.0.1", "172.31.255.255",
    "192.0.0.8",
    "192.0.2.1", "198.51.100.7", "203.0.113.9",
    "192.88.99.1",
    "192.168.1.1",
    "198.18.0.1", "198.19.255.255",
    "224.0.0.1", "239.255.255.250",
    "240.0.0.1", "255.255.255.255",
    # IPv6 ranges
    "::", "::1",
    "fe80::1", "fe80::1%eth0",
    "fc00::1", "fd12:3456:789a::1",
    "fec0::1",
    "ff02::1", "ff05::2",
    "100::1",
    "2001:db8::1", "3fff::1",
    "2001:2::1", "2001:10::1",
    "64:ff9b:1::1",
    # IPv6 carrying a non-public IPv4
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:100.64.0.1",
    "::127.0.0.1", "::10.0.0.1",  # IPv4-compatible (deprecated)
    "64:ff9b::10.0.0.1", "64:ff9b::7f00:1",  # NAT64
    "2002:a00:1::1", "2002:7f00:1::",  # 6to4 of 10.0.0.1 / 127.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "2001:0:a00:1::1",  # Teredo, server 10.0.0.1
    # not an address at all
    "not-an-ip", "",
]

PUBLIC = [
    "8.8.8.8", "1.1.1.1", "93.184.216.34", "11.0.0.1",
    "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0", "192.169.0.1", "198.20.0.1",
    "2606:4700::1111", "2001:4860:4860::8888", "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
]


@pytest.mark.parametrize("ip", NON_PUBLIC)
def test_non_public_addresses_are_refused(ip: str) -> None:
    assert not is_public_address(ip)


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_addresses_are_accepted(ip: str) -> None:
    assert is_public_address(ip)


@pytest.mark.parametrize("ip", ["10.0.0.1", "169.254.169.254", "100.64.0.1", "::ffff:127.0.0.1", "127.0.0.1", "fd00::1"])
def test_name_resolving_to_a_non_public_address_is_refused(ip: str) -> None:
    resolver = Resolver(system_lookup=FakeDNS({"evil.example.com": [ip]}))
    with pytest.raises(BlockedAddress) as caught:
        resolver.resolve("evil.example.com", 80)
    assert caught.value.host == "evil.example.com"
    assert caught.value.address == ip
    assert caught.value.reason  # says which range


def test_single_label_names_go_to_the_resolver_and_are_checked() -> None:
    resolver = Resolver(system_lookup=FakeDNS({"localhost": ["127.0.0.1", "::1"]}))
    with pytest.raises(BlockedAddress):
        resolver.resolve("localhost", 80)


def test_one_private_address_among_public_ones_refuses_the_name() -> None:
    resolver = Resolver(system_lookup=FakeDNS({"mixed.example.com": ["8.8.8.8", "10.0.0.1", "1.1.1.1"]}))
    with pytest.raises(BlockedAddress) as caught:
        resolver.resolve("mixed.example.com", 443)
    assert caught.value.address == "10.0.0.1"


def test_public_answers_are_returned_untrusted_in_order() -> None:
    resolver = Resolver(system_lookup=FakeDNS({"good.example.com": ["2606:4700::1111", "8.8.8.8", "8.8.8.8"]}))
    assert resolver.resolve("GOOD.example.com.", 80) == [Address("2606:4700::1111", False), Address("8.8.8.8", False)]


def test_overrides_are_trusted_and_the_only_answer() -> None:
    dns = FakeDNS({"site.example.com": ["8.8.8.8"]})
    resolver = Resolver({"Site.Example.com": ["127.0.0.1", "::1"]}, system_lookup=dns)
    assert resolver.resolve("site.example.com", 80) == [Address("127.0.0.1", True), Address("::1", True)]
    assert dns.calls == []  # the system resolver is never asked about an overridden name
    assert resolver.is_overridden("SITE.example.com")


@pytest.mark.parametrize("port", [80, 443])
def test_a_mapping_is_trusted_on_the_default_ports(port: int) -> None:
    resolver = Resolver({"site.example.com": ["10.0.0.5"]})
    assert resolver.resolve("site.example.com", port) == [Address("10.0.0.5", True)]
    assert resolver.trusted_ports("site.example.com") == {80, 443}
    assert resolver.trusted_ports("other.example.com") == frozenset()


@pytest.mark.parametrize("port", [22, 6379, 8080])
def test_a_mapping_is_not_trusted_on_other_ports(port: int) -> None:
    resolver = Resolver({"site.example.com": ["10.0.0.5"]})
    with pytest.raises(BlockedAddress, match=f"trusted only on its own ports, and port {port} is not one") as caught:
        resolver.resolve("site.example.com", port)
    assert (caught.value.host, caught.value.address) == ("site.example.com", "10.0.0.5")
    assert "10.0.0.5" not in caught.value.message  # the operator's internal address stays off the details page


def test_a_mapping_is_trusted_on_the_ports_it_names_and_the_configured_defaults() -> None:
    resolver = Resolver.from_options(["site.example.com:10.0.0.5:8443", "site.example.com:10.0.0.5:9000"],
                                     default_ports=(80, 443, 18080))
    for port in (80, 443, 8443, 9000, 18080):
        assert resolver.resolve("site.example.com", port) == [Address("10.0.0.5", True)]
    with pytest.raises(BlockedAddress):
        resolver.resolve("site.example.com", 9001)
    # The ports belong to the name they were given for.
    other = Resolver.from_options(["a.example.com:10.0.0.5:8443", "b.example.com:10.0.0.6"])
    with pytest.raises(BlockedAddress):
        other.resolve("b.example.com", 8443)


def test_a_mapping_is_not_trusted_for_a_redirect_from_another_site() -> None:
    resolver = Resolver({"site.example.com": ["10.0.0.5"], "public.example.com": ["8.8.8.8"]})
    with pytest.raises(BlockedAddress, match="not when it is reached by a redirect from another site"):
        resolver.resolve("site.example.com", 443, trust_mapping=False)
    # Untrusted, a mapping to a public address still works: it is checked like a DNS answer.
    assert resolver.resolve("public.example.com", 443, trust_mapping=False) == [Address("8.8.8.8", False)]
    assert resolver.resolve("public.example.com", 22) == [Address("8.8.8.8", False)]


def test_hosts_file_names_are_trusted_on_the_default_ports_only(tmp_path) -> None:
    path = tmp_path / "hosts"
    path.write_text("10.0.0.7 registry.internal\n")
    resolver = Resolver.from_options([], str(path))
    assert resolver.resolve("registry.internal", 443) == [Address("10.0.0.7", True)]
    with pytest.raises(BlockedAddress):
        resolver.resolve("registry.internal", 5432)


def test_overrides_may_name_hosts_outside_the_public_suffix_list() -> None:
    resolver = Resolver({"registry.internal": ["10.1.2.3"]})
    assert resolver.resolve("registry.internal", 80) == [Address("10.1.2.3", True)]


@pytest.mark.parametrize("host", ["127.0.0.1", "8.8.8.8", "[::1]", "::1", "127.1", "0x7f.0.0.1", "2130706433", "[2606:4700::1111]"])
def test_ip_literals_are_always_refused(host: str) -> None:
    resolver = Resolver({"site.example.com": ["127.0.0.1"]}, system_lookup=FakeDNS())
    with pytest.raises(BlockedAddress):
        resolver.resolve(host, 80)


def test_ip_literal_cannot_be_an_override_name() -> None:
    with pytest.raises(ResolverConfigError):
        Resolver({"127.0.0.1": ["127.0.0.1"]})


def test_unknown_name_and_empty_answer_are_name_not_found() -> None:
    resolver = Resolver(system_lookup=FakeDNS({"empty.example.com": []}))
    with pytest.raises(NameNotFound):
        resolver.resolve("missing.example.com", 80)
    with pytest.raises(NameNotFound):
        resolver.resolve("empty.example.com", 80)


def test_unusable_host_name_is_bad_url() -> None:
    resolver = Resolver(system_lookup=FakeDNS())
    with pytest.raises(BadURL):
        resolver.resolve("bad_name!.example.com", 80)


def test_international_names_are_resolved_as_punycode() -> None:
    dns = FakeDNS({"xn--bcher-kva.example.com": ["8.8.8.8"]})
    resolver = Resolver(system_lookup=dns)
    assert resolver.resolve("Bücher.example.com", 80) == [Address("8.8.8.8", False)]
    assert canonical_host("BÜCHER.example.com") == "xn--bcher-kva.example.com"


def test_slow_system_resolver_is_cut_at_the_deadline() -> None:
    resolver = Resolver(system_lookup=FakeDNS({"slow.example.com": ["8.8.8.8"]}, delay=5.0))
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        resolver.resolve("slow.example.com", 80, deadline=Deadline(0.3))
    assert time.monotonic() - started < 2.0


def test_answers_are_cached_but_checked_every_time() -> None:
    dns = FakeDNS({"cached.example.com": ["8.8.8.8"]})
    resolver = Resolver(system_lookup=dns)
    resolver.resolve("cached.example.com", 80)
    resolver.resolve("cached.example.com", 443)
    assert dns.calls == ["cached.example.com"]
    uncached = Resolver(system_lookup=dns, cache_ttl=0)
    uncached.resolve("cached.example.com", 80)
    uncached.resolve("cached.example.com", 80)
    assert dns.calls == ["cached.example.com"] * 3


# -- --resolve and --hosts ----------------------------------------------------


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("shop.example.com:127.0.0.1", ("shop.example.com", "127.0.0.1", None)),
        ("Shop.Example.COM.:10.0.0.5", ("shop.example.com", "10.0.0.5", None)),
        ("shop.example.com:[::1]", ("shop.example.com", "::1", None)),
        ("shop.example.com:::1", ("shop.example.com", "::1", None)),
        ("shop.example.com:[2001:DB8::0:1]", ("shop.example.com", "2001:db8::1", None)),
        ("bücher.example.com:127.0.0.1", ("xn--bcher-kva.example.com", "127.0.0.1", None)),
        ("shop.example.com:127.0.0.1:8443", ("shop.example.com", "127.0.0.1", 8443)),
        ("shop.example.com:[::1]:8080", ("shop.example.com", "::1", 8080)),
    ],
)
def test_parse_resolve_option(option: str, expected: tuple[str, str, int | None]) -> None:
    assert parse_resolve_option(option) == expected


@pytest.mark.parametrize(
    "option",
    ["shop.example.com", "shop.example.com:", ":127.0.0.1", "shop.example.com:not-an-ip",
     "shop.example.com:443:127.0.0.1", "shop.example.com:[::1", "127.0.0.1:127.0.0.1",
     "shop.example.com:127.0.0.1:0", "shop.example.com:127.0.0.1:70000", "shop.example.com:127.0.0.1:http",
     "shop.example.com:[::1]:"],
)
def test_bad_resolve_options_are_refused(option: str) -> None:
    with pytest.raises(ResolverConfigError) as caught:
        parse_resolve_option(option)
    assert option in str(caught.value)


def test_curl_style_option_gets_a_hint() -> None:
    with pytest.raises(ResolverConfigError, match="NAME:PORT:ADDR"):
        parse_resolve_option("shop.example.com:443:127.0.0.1")


def test_hosts_file(tmp_path) -> None:
    path = tmp_path / "hosts"
    path.write_text(
        "# fixture hosts\n"
        "\n"
        "127.0.0.1   shop.example.com  www.shop.example.com   # two names\n"
        "::1         shop.example.com\n"
        "10.0.0.7\tregistry.internal\n"
        "   127.0.0.2 Other.Example.NET.\n"
    )
    assert load_hosts_file(str(path)) == {
        "shop.example.com": ["127.0.0.1", "::1"],
        "www.shop.example.com": ["127.0.0.1"],
        "registry.internal": ["10.0.0.7"],
        "other.example.net": ["127.0.0.2"],
    }


@pytest.mark.parametrize("line", ["300.1.1.1 bad.example.com", "127.0.0.1", "127.0.0.1 bad_name!"])
def test_bad_hosts_file_line_names_file_and_line(tmp_path, line: str) -> None:
    path = tmp_path / "hosts"
    path.write_text(f"127.0.0.1 ok.example.com\n{line}\n")
    with pytest.raises(ResolverConfigError, match=r"hosts:2"):
        load_hosts_file(str(path))


def test_missing_hosts_file() -> None:
    with pytest.raises(ResolverConfigError):
        load_hosts_file("/nonexistent/hosts")


def test_from_options_command_line_replaces_hosts_file_entry(tmp_path) -> None:
    path = tmp_path / "hosts"
    path.write_text("127.0.0.1 a.example.com b.example.com\n")
    resolver = Resolver.from_options(
        ["b.example.com:127.0.0.5", "b.example.com:[::1]"], str(path), system_lookup=FakeDNS()
    )
    assert resolver.overrides == {"a.example.com": ("127.0.0.1",), "b.example.com": ("127.0.0.5", "::1")}
    assert resolver.resolve("b.example.com", 80) == [Address("127.0.0.5", True), Address("::1", True)]


def test_blocked_address_error_survives_pickling() -> None:
    error = BlockedAddress("x resolves to 10.0.0.1", url="http://x.example.com/", host="x.example.com",
                           address="10.0.0.1", reason="private")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.url, copy.host, copy.address, copy.reason, str(copy)) == (
        BlockedAddress, error.url, error.host, error.address, error.reason, str(error))


# -- Deadline -----------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_deadline_counts_down_and_expires() -> None:
    clock = FakeClock()
    deadline = Deadline(30, clock=clock)
    assert deadline.remaining() == 30 and not deadline.expired
    clock.now += 29.5
    assert deadline.remaining() == pytest.approx(0.5)
    deadline.check("http://a.example.com/")
    clock.now += 1
    assert deadline.expired and deadline.remaining() == 0
    with pytest.raises(DeadlineExceeded) as caught:
        deadline.check("http://a.example.com/")
    assert caught.value.url == "http://a.example.com/"


def test_sub_deadline_never_outlives_its_parent() -> None:
    clock = FakeClock()
    parent = Deadline(10, clock=clock)
    assert parent.sub(3).remaining() == 3
    clock.now += 8
    assert parent.sub(5).remaining() == pytest.approx(2)


def test_deadline_refuses_negative_seconds() -> None:
    with pytest.raises(ValueError):
        Deadline(-1)


def test_public_urls_name_mapped_sites_on_the_default_port() -> None:
    resolver = Resolver({"shop.example.com": ["10.0.0.5"]})
    text = ("https://shop.example.com:8443/contact, http://other.example.net:8080/x, "
            "http://www.other.example.net:18080/ and https://shop.example.com/")
    assert resolver.public_urls(text, {"http": 18080, "https": 443}) == (
        "https://shop.example.com/contact, http://other.example.net:8080/x, "
        "http://www.other.example.net/ and https://shop.example.com/")
    assert resolver.public_urls("no links here") == "no links here"
