"""The broker: per-client-IP fair queues in memory, durable in the store.

Start here: :mod:`broker.server` (the event loop), :mod:`broker.fairqueue`
(DRR scheduling, pure), :mod:`broker.raters` (liveness and leases, pure),
:mod:`broker.journal` (the thread that owns the store connection),
:mod:`broker.stats` / :mod:`broker.admin` (what operators see and do),
:mod:`broker.cli` (``sitetruth-broker``), :mod:`broker.monitor` (``zmq-monitor``).
"""

from .config import BrokerConfig
from .fairqueue import FairQueue, Job
from .raters import Rater, RaterTable
from .server import Broker

__all__ = ["Broker", "BrokerConfig", "FairQueue", "Job", "Rater", "RaterTable"]
