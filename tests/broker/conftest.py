"""Broker fixtures: a real broker on loopback (random ports) in a thread (tests/support/running_broker.py),
and a CURVE key set with one key per role."""

import pytest

from tests.support.running_broker import start_broker  # noqa: F401  (pytest fixture)
from tests.support.keys import broker_keyset, lay_out_keys, peer_keys


@pytest.fixture
def keys(tmp_path):
    """A broker key set (raters node1 and node2, client fe1, admin ops) and ``own(name)``: that peer's
    client keys; "stranger" has a key pair the broker does not know."""
    lay_out_keys(tmp_path, (("raters", "node1"), ("raters", "node2"), ("clients", "fe1"), ("admins", "ops"),
                            (None, "stranger")))
    return broker_keyset(tmp_path), lambda name: peer_keys(tmp_path, name)
