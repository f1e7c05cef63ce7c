"""Feed :class:`broker.metrics.BrokerMetrics` from a broker's client socket, for the metrics tests.

When a scrape wants a snapshot, a thread of its own asks the broker for
STATS exactly as ``zmq-monitor`` does (an ordinary client of the client
socket, its own context and socket, so no ZeroMQ socket crosses threads and
the event loop needs no change) and hands the reply to
:meth:`BrokerMetrics.update`. Nothing is asked while nobody scrapes.

``sitetruth-broker --metrics`` has its own loop feed the metrics; the tests
use this to feed a BrokerMetrics of their own from a broker running
elsewhere. It needs a client socket it may connect to without keys.
"""

from __future__ import annotations

import logging
import re
import threading

import zmq

from protocol import ProtocolError, StatsReply, StatsRequest
from protocol.client import BrokerClient, BrokerUnavailable

from broker.metrics import BrokerMetrics

__all__ = ["StatsPoller", "connect_endpoint"]

log = logging.getLogger(__name__)

# How often the thread looks for a waiting scrape (and for its stop flag).
_POLL = 0.05
_WILDCARD = re.compile(r"^tcp://(?:\*|0\.0\.0\.0):")


def connect_endpoint(bound: str) -> str:
    """An endpoint to connect to for one the broker bound (``tcp://0.0.0.0:7710`` -> loopback)."""
    return _WILDCARD.sub("tcp://127.0.0.1:", bound)


class StatsPoller:
    """A daemon thread answering :meth:`BrokerMetrics.wanted` with STATS fetched from ``endpoint``."""

    def __init__(self, metrics: BrokerMetrics, endpoint: str, timeout: float = 1.5) -> None:
        self.metrics = metrics
        self.endpoint = connect_endpoint(endpoint)
        self.timeout = timeout
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-stats", daemon=True)

    def start(self) -> StatsPoller:
        self._thread.start()
        return self

    def _run(self) -> None:
        context = zmq.Context()
        client = BrokerClient(self.endpoint, timeout=self.timeout, context=context)
        try:
            while not self._stop.is_set():
                if not self.metrics.wanted():
                    self._stop.wait(_POLL)
                    continue
                try:
                    reply = client.call(lambda i: StatsRequest(req_id=i, recent=0))
                except (BrokerUnavailable, ProtocolError) as e:
                    # The scrape shows the last snapshot and its age; try again at the next one.
                    self.failures += 1
                    log.warning("metrics: no STATS from %s: %s", self.endpoint, e)
                    self._stop.wait(0.5)
                    continue
                if isinstance(reply, StatsReply) and isinstance(reply.stats, dict):
                    self.metrics.update(reply.stats)
                else:
                    self.failures += 1
                    log.warning("metrics: unexpected reply %s to STATS", type(reply).__name__)
                    self._stop.wait(0.5)
        finally:
            client.close()
            context.term()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
