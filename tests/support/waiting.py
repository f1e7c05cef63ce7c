"""Bounded waiting: on any condition (``wait_until``) and on a broker's stats (``wait_for_stats``)."""

from __future__ import annotations

import time

from protocol import StatsRequest
from protocol.client import BrokerClient, BrokerUnavailable


def wait_until(predicate, timeout: float, what: str, interval: float = 0.02):
    """Poll ``predicate()`` until it returns something true (returned); AssertionError after ``timeout``."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def stats_of(client: BrokerClient, recent: int = 100) -> dict:
    return client.call(lambda i: StatsRequest(req_id=i, recent=recent)).stats


def wait_for_stats(client: BrokerClient, predicate, timeout: float, what: str, interval: float = 0.05) -> dict:
    """Poll STATS until ``predicate(stats)`` holds; AssertionError with the last stats after ``timeout``.

    A broker that does not answer (still starting, restarting) is polled again.
    """
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = stats_of(client)
            if predicate(last):
                return last
        except BrokerUnavailable:
            pass
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last stats: "
                         f"totals={last and last['totals']} counters={last and last['counters']}")
