"""What a raterd worker process is told at start, and how it finds its rating pipeline.

The supervisor serialises one :class:`WorkerConfig` per worker to JSON and
passes it on the worker's command line (``python -m raterd.worker
--config-json ...``): a worker is a fresh interpreter (its ZeroMQ context
is made after it starts, never inherited through ``fork``), so everything
it needs must travel as plain data. The config is visible in ``ps``, so it
holds no secret: with CURVE it carries the *paths* of the node's secret key
file and of the broker's public key, and each worker reads the files itself
(``sitetruth-raterd`` checked them once at start).

The rating pipeline is :class:`raterd.pipeline.SitePipeline` built from
``RaterSettings(**settings)``. Tests of the process machinery (recycling,
crashes, signals) may name another factory with ``pipeline =
"module:callable"`` (``sitetruth-raterd --pipeline`` / ``SITETRUTH_PIPELINE``):
it is called with the settings as a dict and must return an object with
the same ``rate(domain, *, deadline, progress)`` and ``close()`` methods.
That hook is for tests only; production runs leave it unset.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from protocol.client import broker_endpoints, endpoint_list
from protocol.config import option
from protocol.errors import SiteTruthError
from protocol.security import ClientKeys, client_keys_from_options

__all__ = ["WorkerConfig", "WorkerError", "PipelineLoadError", "load_pipeline"]


class WorkerError(SiteTruthError):
    """Root of the raterd process machinery's errors (worker and supervisor)."""


class PipelineLoadError(WorkerError):
    """The rating pipeline could not be built (bad factory name, bad settings, missing data)."""


_PROCESS = "process tuning"
_SECURITY = "security (CURVE keys; see docs/security.md)"


@dataclass(frozen=True)
class WorkerConfig:
    """Everything one worker process needs; defaults are the documented ones of ``sitetruth-raterd``.

    Fields declared with :func:`~protocol.config.option` are flags of
    ``sitetruth-raterd`` (and env twins, config-file keys); the others are
    filled in by the CLI and the supervisor.
    """

    # One broker's rater endpoint, or those of several brokers on one store
    # (hot standby), comma-separated: a worker is on one at a time and moves
    # to the next when told "not active" or when its broker falls silent.
    broker: str = option("tcp://127.0.0.1:7711", metavar="ENDPOINT[,ENDPOINT...]", parse=broker_endpoints,
                         help="the broker's rater endpoint, or those of several brokers on one store "
                              "(comma-separated; workers register with whichever is active)")
    # Readable parts of the ROUTING_ID (node/name/pid) and of what zmq-monitor
    # shows (node/name): two nodes on one host need different node names.
    name: str = "w0"
    node_name: str = option("", metavar="NAME", default_text="this host's name",
                            help="name of this node, shown with each worker (node/w0) and used by "
                                 "zmq-monitor admin drain; give two nodes on one host different names")
    # Ratings before the worker retires (0: never): a fresh process every
    # hundred ratings bounds what a leak or a fragmented heap can cost.
    max_jobs: int = option(100, metavar="N", help="ratings before a worker is replaced by a fresh one, 0 = never")
    # MiB of resident memory past which it retires, checked between jobs (0: off).
    max_rss: float = option(500.0, metavar="MB",
                            help="resident memory (MiB) past which a worker is replaced, 0 = off")
    # Absolute nice value set at start (None: leave as inherited): rating is
    # background work and must not starve the broker on a shared machine.
    nice: int | None = option(10, metavar="N", help="nice value of the workers")
    heartbeat: float = option(1.0, metavar="S", group=_PROCESS, help="seconds between heartbeats to the broker")
    liveness: float = option(5.0, metavar="S", group=_PROCESS,
                             help="broker silence after which workers reconnect and re-register")
    grace: float = option(10.0, metavar="S", group=_PROCESS,
                          help="on SIGTERM, time a running job gets before it is handed back")
    overrun: float = option(15.0, metavar="S", group=_PROCESS,
                            help="time past its deadline before a stuck rating restarts its worker")
    # Cap of the READY retry backoff and of ZeroMQ's reconnect interval.
    reconnect_max: float = option(5.0, metavar="S", group=_PROCESS,
                                  help="longest wait between reconnection attempts to the broker")
    # Progress PULSEs are coalesced to at most this rate.
    pulses_per_second: float = option(10.0, metavar="N", group=_PROCESS,
                                      help="progress messages per second a worker sends at most")
    # "module:factory" (tests of the process machinery only); None: raterd.pipeline.SitePipeline.
    pipeline: str | None = option(None, metavar="MODULE:FACTORY", group=_PROCESS,
                                  help="tests only: build the rating pipeline with this factory")
    # The node's own key pair and the broker's public key (sitetruth-keygen
    # makes both); both or neither. Without them the workers connect with no
    # security, which a broker only accepts on loopback or with --insecure.
    curve_secret: str | None = option(None, metavar="FILE", group=_SECURITY,
                                      help="this node's CURVE secret key file (NAME.key_secret, mode 0600); "
                                           "needs --broker-public-key")
    broker_public_key: str | None = option(None, metavar="FILE", group=_SECURITY,
                                           help="the broker's public key file (broker.key); needs --curve-secret")
    settings: dict[str, Any] = field(default_factory=dict)   # RaterSettings keyword arguments
    log_level: str = "INFO"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WorkerConfig:
        try:
            data = json.loads(text)
        except ValueError as e:
            raise WorkerError(f"worker config is not JSON: {e}") from e
        if not isinstance(data, dict):
            raise WorkerError("worker config must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise WorkerError(f"unknown worker config key(s): {', '.join(unknown)}")
        try:
            return cls(**data)
        except TypeError as e:
            raise WorkerError(f"bad worker config: {e}") from e

    @property
    def broker_list(self) -> tuple[str, ...]:
        """``broker`` as the endpoints it names; WorkerError for a malformed list."""
        try:
            return endpoint_list(self.broker)
        except ValueError as e:
            raise WorkerError(f"broker endpoint(s) {self.broker!r}: {e}") from None

    def with_name(self, name: str) -> WorkerConfig:
        return dataclasses.replace(self, name=name)

    def client_keys(self) -> ClientKeys | None:
        """The CURVE keys to put on the broker socket, read from their files now; None without keys.

        Raises :class:`~protocol.security.KeyFileError` (missing, unreadable
        or open secret file, one flag without the other) with the loader's
        message, which names the file and what to do.
        """
        # An empty value (SITETRUTH_CURVE_SECRET= in a unit file) means "not given".
        return client_keys_from_options(self.curve_secret or None, self.broker_public_key or None)


def load_pipeline(spec: str | None, settings: Mapping[str, Any]) -> Any:
    """Build the rating pipeline: the real one, or the test factory *spec* names."""
    kwargs = dict(settings)
    if "resolve" in kwargs:
        kwargs["resolve"] = tuple(kwargs["resolve"])      # JSON turned the tuple into a list
    if not spec:
        from .pipeline import RaterSettings, SitePipeline

        try:
            return SitePipeline(RaterSettings(**kwargs))
        except (TypeError, ValueError, OSError) as e:
            raise PipelineLoadError(f"cannot build the rating pipeline: {e}") from e
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise PipelineLoadError(f"pipeline factory must be 'module:callable', got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as e:
        raise PipelineLoadError(f"cannot load pipeline factory {spec!r}: {e}") from e
    return factory(kwargs)
