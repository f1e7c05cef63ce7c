"""Broker fixtures: a real broker on loopback (random ports) in a thread (tests/support/running_broker.py)."""

from tests.support.running_broker import start_broker  # noqa: F401  (pytest fixture)
