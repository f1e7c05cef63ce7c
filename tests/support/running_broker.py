"""A real broker on loopback (random ports) in a thread, for the broker, frontend and raterd tests."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest
import zmq

from broker import Broker, BrokerConfig
from protocol import RateRequest
from protocol.client import BrokerClient
from tests.support.waiting import stats_of, wait_for_stats

__all__ = ["RunningBroker", "start_broker"]


class RunningBroker:
    def __init__(self, config: BrokerConfig, **broker_kwargs: Any) -> None:
        self.context = zmq.Context()
        self.broker = Broker(config, context=self.context, **broker_kwargs)
        self.broker.start()
        self.clients = self.broker.client_endpoint
        self.raters = self.broker.rater_endpoint
        self._thread = threading.Thread(target=self.broker.run, name="broker", daemon=True)
        self._thread.start()
        self._clients: list[BrokerClient] = []

    def client(self, timeout: float = 5.0) -> BrokerClient:
        c = BrokerClient(self.clients, timeout=timeout, context=self.context)
        self._clients.append(c)
        return c

    def rate(self, client: BrokerClient, ip: str, domains, priority: int = 1):
        return client.call(lambda i: RateRequest(req_id=i, client_ip=ip, priority=priority, domains=tuple(domains)))

    def stats(self, client: BrokerClient | None = None) -> dict:
        return stats_of(client or self.client())

    def wait_for(self, predicate, timeout: float = 20.0, what: str = "condition"):
        """Poll broker stats until ``predicate(stats)`` is true (bounded)."""
        return wait_for_stats(self.client(), predicate, timeout, what)

    def stop(self) -> None:
        for c in self._clients:
            c.close()
        self.broker.stop()
        self._thread.join(10)
        self.broker.close()
        self.context.term()


@pytest.fixture
def start_broker():
    """Call with a store URL (and BrokerConfig overrides) to get a RunningBroker; all stopped after the test.

    ``broker_kwargs`` go to the Broker constructor (``stall_after``, ``rater_hwm``).
    """
    running: list[RunningBroker] = []

    def start(store_url: str, broker_kwargs: dict | None = None, **overrides: Any) -> RunningBroker:
        settings = {"bind_clients": "tcp://127.0.0.1:*", "bind_raters": "tcp://127.0.0.1:*", **overrides}
        rb = RunningBroker(dataclasses.replace(BrokerConfig(), store=store_url, **settings), **(broker_kwargs or {}))
        running.append(rb)
        return rb

    yield start
    for rb in running:
        rb.stop()
