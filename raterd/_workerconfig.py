"""What a raterd worker process is told at start, and how it finds its rating pipeline.

The supervisor serialises one :class:`WorkerConfig` per worker to JSON and
passes it on the worker's command line (``python -m raterd.worker
--config-json ...``): a worker is a fresh interpreter (its ZeroMQ context
is made after it starts, never inherited through ``fork``), so everything
it needs must travel as plain data. Raters hold no secrets, so the config
being visible in ``ps`` is fine.

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

from protocol.errors import SiteTruthError

__all__ = ["WorkerConfig", "WorkerError", "PipelineLoadError", "load_pipeline"]


class WorkerError(SiteTruthError):
    """Root of the raterd process machinery's errors (worker and supervisor)."""


class PipelineLoadError(WorkerError):
    """The rating pipeline could not be built (bad factory name, bad settings, missing data)."""


@dataclass(frozen=True)
class WorkerConfig:
    """Everything one worker process needs; defaults are the documented ones of ``sitetruth-raterd``."""

    broker: str = "tcp://127.0.0.1:7711"
    name: str = "w0"                 # readable part of the ROUTING_ID: host/name/pid
    max_jobs: int = 100              # ratings before the worker retires (0: never)
    max_rss: float = 500.0           # MiB of resident memory past which it retires, checked between jobs (0: off)
    nice: int | None = 10            # absolute nice value set at start (None: leave as inherited)
    heartbeat: float = 1.0           # seconds between heartbeats to the broker
    liveness: float = 5.0            # broker silence (s) after which we reconnect and re-register
    grace: float = 10.0              # on SIGTERM, how long the current job may take before it is handed back
    overrun: float = 15.0            # seconds past a job's deadline before the rating counts as wedged
    reconnect_max: float = 5.0       # cap (s) of the READY retry backoff and of ZeroMQ's reconnect interval
    pulses_per_second: float = 10.0  # progress PULSEs are coalesced to at most this rate
    pipeline: str | None = None      # "module:factory" (tests only); None: raterd.pipeline.SitePipeline
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

    def with_name(self, name: str) -> WorkerConfig:
        return dataclasses.replace(self, name=name)


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
