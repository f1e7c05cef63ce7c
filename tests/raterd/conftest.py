"""Shared fixtures for the rater tests: the loopback fixture web server and a fake DNS.

The server is started once per session; each test module registers its own
sites (unique host names under ``example.com`` / ``example.net``) before it
builds a resolver, because a :class:`~raterd.fetch.Resolver` copies its
override map when it is created.  Nothing touches the real DNS: names that
are not fixture sites go to :class:`~tests.raterd.fixtures.dns.FakeDNS`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.raterd.fixtures import FixtureServer
from tests.raterd.fixtures.dns import FakeDNS


@pytest.fixture(scope="session")
def fixture_server() -> Iterator[FixtureServer]:
    with FixtureServer() as server:
        yield server


@pytest.fixture
def fake_dns() -> FakeDNS:
    return FakeDNS()
