"""The broker: per-client-IP fair queues in memory, durable in the store.

Start here: :mod:`broker.server` (the event loop: sockets only),
:mod:`broker.core` (acknowledgements, waiters, retries, leases: pure),
:mod:`broker.fairqueue` (DRR scheduling, pure), :mod:`broker.raters`
(liveness and leases, pure), :mod:`broker.ops` (the journal's typed
operations and their write order, pure), :mod:`broker.journal` (the thread
that owns the store connection), :mod:`broker.stats` / :mod:`broker.admin`
(what operators see and do), :mod:`broker.cli` (``sitetruth-broker``),
:mod:`broker.monitor` (``zmq-monitor``).
"""

from .config import BrokerConfig
from .core import BrokerCore
from .fairqueue import FairQueue, Job
from .raters import Rater, RaterTable
from .server import Broker, JournalStopped

__all__ = ["Broker", "BrokerConfig", "BrokerCore", "FairQueue", "Job", "JournalStopped", "Rater", "RaterTable"]
