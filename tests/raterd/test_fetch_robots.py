"""robots.txt: rules honoured for SiteTruthBot, and what each unavailable answer means."""

from __future__ import annotations

import pytest

from raterd.fetch import (
    BlockedAddress,
    ConnectFailed,
    Deadline,
    Fetcher,
    Resolver,
    RobotsPolicy,
    fetch_robots,
)
from raterd.fetch.robots import ROBOTS_MAX_BYTES
from tests.raterd.fixtures import FakeDNS, FixtureServer, Response, Site, closed_port, hostile

RULES = """\
# comments are fine
User-agent: *
Disallow: /

User-agent: SiteTruthBot
Disallow: /private/
Allow: /private/contact
Disallow: /*.pdf$

Sitemap: https://rules.example.com/sitemap.xml
"""


def _robots(status: int = 200, body: bytes = b"", content_type: str = "text/plain") -> Site:
    return Site({"/robots.txt": Response(status, body, content_type=content_type)})


CASES = {
    "rules.example.com": _robots(200, RULES.encode()),
    "everything-off.example.com": _robots(200, b"User-agent: *\nDisallow: /\n"),
    "no-robots.example.com": Site(),  # 404
    "gone.example.com": _robots(410, b"gone"),
    "forbidden.example.com": _robots(403, b"no"),
    "unauthorised.example.com": _robots(401, b"login"),
    "too-many.example.com": _robots(429, b"slow down"),
    "broken.example.com": _robots(500, b"oops"),
    "unavailable.example.com": _robots(503, b"maintenance"),
    "binary.example.com": _robots(200, b"\x89PNG\r\n\x1a\n", content_type="image/png"),
    "html.example.com": _robots(200, b"<html><body>Welcome!</body></html>", content_type="text/html"),
    "moved.example.com": Site({"/robots.txt": hostile.redirect("/real-robots.txt"),
                               "/real-robots.txt": Response(body=b"User-agent: *\nDisallow: /secret\n",
                                                            content_type="text/plain")}),
    "huge.example.com": _robots(200, b"User-agent: *\nDisallow: /first\n" + b"# padding\n" * 60_000
                                + b"Disallow: /beyond-the-cap\n"),
}


@pytest.fixture(scope="module")
def sites(fixture_server: FixtureServer) -> FixtureServer:
    for host, site in CASES.items():
        fixture_server.add_site(host, site)
    fixture_server.add_site("to-private.example.com", Site({"/robots.txt": hostile.redirect(
        f"http://private.evil.example.com:{fixture_server.http_port}/robots.txt")}))
    return fixture_server


@pytest.fixture
def fetcher(sites: FixtureServer):
    dns = FakeDNS({"private.evil.example.com": ["10.0.0.1"]})
    resolver = Resolver(sites.resolver_overrides(), default_ports=sites.ports, system_lookup=dns)
    with Fetcher(resolver, ca_bundle=sites.ca_bundle) as f:
        yield f


def policy_for(fetcher: Fetcher, sites: FixtureServer, host: str, *, https: bool = False) -> RobotsPolicy:
    return fetch_robots(fetcher, sites.url(host, "/some/page", https=https), Deadline(10))


@pytest.mark.parametrize("https", [False, True])
def test_rules_for_our_token_are_honoured(fetcher: Fetcher, sites: FixtureServer, https: bool) -> None:
    policy = policy_for(fetcher, sites, "rules.example.com", https=https)
    base = sites.url("rules.example.com", "", https=https)
    assert policy.outcome == "parsed" and policy.status == 200
    assert policy.url == base + "/robots.txt"
    assert policy.allowed(base + "/")
    assert policy.allowed(base + "/about")
    assert not policy.allowed(base + "/private/accounts")
    assert policy.allowed(base + "/private/contact")
    assert not policy.allowed(base + "/brochure.pdf")
    assert not policy.allowed(base + "/", user_agent="OtherBot")  # the * group shuts everyone else out
    assert policy.sitemaps == ("https://rules.example.com/sitemap.xml",)


def test_disallow_all(fetcher: Fetcher, sites: FixtureServer) -> None:
    policy = policy_for(fetcher, sites, "everything-off.example.com")
    assert not policy.allowed(sites.url("everything-off.example.com", "/"))


@pytest.mark.parametrize(
    ("host", "outcome", "allowed"),
    [
        ("no-robots.example.com", "missing", True),
        ("gone.example.com", "missing", True),
        ("binary.example.com", "not_text", True),
        ("html.example.com", "parsed", True),
        ("forbidden.example.com", "forbidden", False),
        ("unauthorised.example.com", "forbidden", False),
        ("too-many.example.com", "server_error", False),
        ("broken.example.com", "server_error", False),
        ("unavailable.example.com", "server_error", False),
    ],
)
def test_unavailable_robots_answers(fetcher: Fetcher, sites: FixtureServer, host: str, outcome: str,
                                    allowed: bool) -> None:
    policy = policy_for(fetcher, sites, host)
    assert policy.outcome == outcome
    assert policy.allowed(sites.url(host, "/")) is allowed
    assert policy.allowed(sites.url(host, "/contact")) is allowed


def test_redirected_robots_is_followed(fetcher: Fetcher, sites: FixtureServer) -> None:
    policy = policy_for(fetcher, sites, "moved.example.com")
    assert policy.allowed(sites.url("moved.example.com", "/"))
    assert not policy.allowed(sites.url("moved.example.com", "/secret"))


def test_oversized_robots_is_cut_at_500_kib(fetcher: Fetcher, sites: FixtureServer) -> None:
    policy = policy_for(fetcher, sites, "huge.example.com")
    assert policy.truncated and len(CASES["huge.example.com"].pages["/robots.txt"].body) > ROBOTS_MAX_BYTES
    assert not policy.allowed(sites.url("huge.example.com", "/first"))
    assert policy.allowed(sites.url("huge.example.com", "/beyond-the-cap"))


def test_unreachable_server_disallows_all_and_says_why(sites: FixtureServer) -> None:
    port = closed_port()
    resolver = Resolver(sites.resolver_overrides(), ports={"rules.example.com": [port]}, system_lookup=FakeDNS())
    with Fetcher(resolver) as fetcher:
        policy = fetch_robots(fetcher, f"http://rules.example.com:{port}/", Deadline(10))
    assert policy.outcome == "unreachable" and isinstance(policy.error, ConnectFailed)
    assert not policy.allowed("http://rules.example.com/")


def test_robots_redirect_to_a_private_address_is_unreachable(fetcher: Fetcher, sites: FixtureServer) -> None:
    policy = policy_for(fetcher, sites, "to-private.example.com")
    assert policy.outcome == "unreachable" and isinstance(policy.error, BlockedAddress)
    assert not policy.allowed(sites.url("to-private.example.com", "/"))


def test_base_url_that_is_an_ip_literal_raises(fetcher: Fetcher, sites: FixtureServer) -> None:
    with pytest.raises(BlockedAddress):
        fetch_robots(fetcher, f"http://127.0.0.1:{sites.http_port}/", Deadline(10))
