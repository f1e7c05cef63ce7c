"""``sitetruth-raterd``: run a rater node (a supervisor and N worker processes) until SIGTERM or Ctrl-C.

Examples::

    sitetruth-raterd                                        # one worker per CPU, broker on tcp://127.0.0.1:7711
    sitetruth-raterd --broker tcp://broker1:7711 --workers 8 --nice 15 --max-rss 800
    sitetruth-raterd --resolve shop.example.com:127.0.0.1 --hosts ./test-hosts --ca-bundle ./test-ca.pem
    SITETRUTH_BROKER=tcp://broker1:7711 SITETRUTH_WORKERS=4 sitetruth-raterd --config raterd.toml
    sitetruth-raterd --node-name vm-b --broker tcp://broker1:7711   # a second node on the same host
    sitetruth-raterd --broker tcp://broker1:7711 \\
        --curve-secret /etc/sitetruth/keys/node7.key_secret --broker-public-key /etc/sitetruth/keys/broker.key

    sitetruth-raterd --broker tcp://broker-a:7711,tcp://broker-b:7711   # hot-standby brokers on one store

Adding capacity is starting another node pointed at the same broker. Raters
hold no database credentials: results, progress and errors go to the broker.
With several brokers on one store, each worker registers with the active one
and follows it when another takes over (a standby answers "not active").

Exit codes: 0 stopped on request (jobs finished or handed back), 2 usage,
78 configuration (the rating pipeline cannot be built), 70 internal error.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import logging
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


from protocol.client import checked_endpoints
from protocol.config import add_options, from_args, option, parse_args, program_parser
from protocol.messages import MAX_IDENT_LEN
from protocol.security import KeyFileError

from ._proc import ExitCode
from ._workerconfig import WorkerConfig
from .metrics import metrics_listen
from .supervisor import Supervisor, SupervisorConfig

__all__ = ["main", "build_parser", "config_from_args", "ExitCode", "NodeOptions", "PipelineOptions"]

log = logging.getLogger("raterd")

# Leaves room in the 255-byte ROUTING_ID for "/w12/4194304".
_MAX_NODE_NAME = min(64, MAX_IDENT_LEN)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:          # not Linux
        return os.cpu_count() or 1


_FETCH = "fetching and sources (passed to the rating pipeline)"
_SUPERVISOR = "worker restarts and stopping"


def _pipeline_default(name: str) -> Callable[[], str]:
    """The rating pipeline's own default of ``name``, for --help (the pipeline keeps it in one place)."""
    def text() -> str:
        try:
            from .pipeline import RaterSettings
        except ImportError:     # --help must work even where the pipeline cannot load
            return ""
        value = {f.name: f.default for f in dataclasses.fields(RaterSettings)}[name]
        return "" if value in (None, "", ()) else str(value)

    return text


@dataclass(frozen=True)
class NodeOptions:
    """Options of the node as a whole: fields of the same name in SupervisorConfig."""

    workers: int | None = option(None, metavar="N", default_text=lambda: f"number of CPUs, here {_cpus()}",
                                 help="worker processes")
    node_link: bool = option(False, help="one broker connection for the whole node instead of one per worker: "
                                         "the broker hears one heartbeat per node (for large fleets)")
    metrics: str = option("", metavar="HOST:PORT", parse=metrics_listen, default_text="off",
                          help="serve the node's Prometheus metrics on http://HOST:PORT/metrics")
    # Restart backoff of a crashing worker, and how long a stop may take:
    # tuning for operators whose service manager has its own stop timeout.
    stop_timeout: float | None = option(None, metavar="S", group=_SUPERVISOR, default_text="--grace + 5",
                                        help="on SIGTERM, time before workers still running are killed")
    restart_base: float = option(0.5, metavar="S", group=_SUPERVISOR,
                                 help="first delay before a crashed worker is restarted (doubles per crash)")
    restart_cap: float = option(30.0, metavar="S", group=_SUPERVISOR, help="longest delay between restarts")
    healthy_after: float = option(60.0, metavar="S", group=_SUPERVISOR,
                                  help="a worker up this long has its restart delay reset")


@dataclass(frozen=True)
class PipelineOptions:
    """The rating pipeline's settings (RaterSettings fields); only those given reach it.

    None means "not given": RaterSettings keeps its own defaults, shown in --help.
    """

    resolve: tuple[str, ...] = option((), metavar="NAME:ADDR[:PORT]", group=_FETCH,
                                      help="map NAME to ADDR (repeatable); trusted even if not public, but only "
                                           "while NAME's own site is rated and only on 80/443, the site ports "
                                           "and PORT")
    hosts_file: str | None = option(None, flag="--hosts", metavar="FILE", group=_FETCH,
                                    help="hosts(5)-format file of trusted name mappings")
    ca_bundle: str | None = option(None, metavar="FILE", group=_FETCH,
                                   help="PEM file of extra trusted CA certificates")
    sources: str | None = option(None, metavar="PATH", group=_FETCH, default_text="./sitetruth-sources.db",
                                 help="sources index made by sitetruth-sources import (missing: matches nothing)")
    gleif_url: str | None = option(None, metavar="URL", group=_FETCH, default_text="the public GLEIF API",
                                   help="base URL of the GLEIF LEI records API ('' turns the remote lookup off)")
    gleif_timeout: float | None = option(None, metavar="S", group=_FETCH, default_text=_pipeline_default(
        "gleif_timeout"), help="time limit of one GLEIF lookup")
    deadline: float | None = option(None, metavar="S", group=_FETCH, default_text=_pipeline_default("deadline"),
                                    help="overall deadline of one rating")
    threads: int | None = option(None, metavar="N", group=_FETCH, default_text=_pipeline_default("threads"),
                                 help="fetch threads per rating")
    connections_per_host: int | None = option(None, metavar="N", group=_FETCH,
                                              default_text=_pipeline_default("connections_per_host"),
                                              help="connections one rating opens to one server at once")
    max_pages: int | None = option(None, metavar="N", group=_FETCH, default_text=_pipeline_default("max_pages"),
                                   help="HTML pages read per site, home page included")
    max_bytes: int | None = option(None, metavar="BYTES", group=_FETCH,
                                   default_text=_pipeline_default("max_bytes"), help="bytes read of one page")
    user_agent: str | None = option(None, metavar="TEXT", group=_FETCH,
                                    default_text=_pipeline_default("user_agent"), help="User-Agent of page fetches")
    http_port: int | None = option(None, metavar="PORT", group=_FETCH, default_text=_pipeline_default("http_port"),
                                   help="port sites are looked for over http (demo clusters and fixture sites "
                                        "use others)")
    https_port: int | None = option(None, metavar="PORT", group=_FETCH,
                                    default_text=_pipeline_default("https_port"),
                                    help="port sites are looked for over https")

    def settings(self) -> dict[str, Any]:
        """RaterSettings keyword arguments: only what was given, so its own defaults stay in one place."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value not in (None, ()):
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


def build_parser() -> argparse.ArgumentParser:
    """The flags of NodeOptions, WorkerConfig and PipelineOptions, plus --config and --log-level."""
    parser = program_parser("sitetruth-raterd", __doc__)
    add_options(parser, NodeOptions)
    add_options(parser, WorkerConfig)
    add_options(parser, PipelineOptions)
    return parser


def _check_settings(pipeline: PipelineOptions, parser: argparse.ArgumentParser) -> None:
    """Files and mappings the workers would fail on, reported once here as usage errors."""
    from .fetch import ResolverConfigError, load_hosts_file, parse_resolve_option

    try:
        for entry in pipeline.resolve:
            parse_resolve_option(entry)
        if pipeline.hosts_file:
            load_hosts_file(pipeline.hosts_file)
    except ResolverConfigError as e:
        parser.error(str(e))
    if pipeline.ca_bundle and not os.path.isfile(pipeline.ca_bundle):
        parser.error(f"--ca-bundle {pipeline.ca_bundle}: no such file")


def _check_endpoint(endpoints: str, parser: argparse.ArgumentParser) -> None:
    """A malformed --broker (or one entry of the list) is a usage error here, not N workers failing one by one."""
    try:
        checked_endpoints(endpoints, example="tcp://127.0.0.1:7711")
    except ValueError as e:
        parser.error(f"--broker {e}")


def _check_keys(worker: WorkerConfig, parser: argparse.ArgumentParser) -> WorkerConfig:
    """Key files read once here, so a bad one is one clear usage error, not N workers failing their handshake.

    The paths are made absolute: workers read the files themselves, and
    nothing ties their working directory to the one the operator typed in.
    """
    try:
        keys = worker.client_keys()
    except KeyFileError as e:
        parser.error(str(e))
    if keys is None:
        return dataclasses.replace(worker, curve_secret=None, broker_public_key=None)
    return dataclasses.replace(worker, curve_secret=os.path.abspath(worker.curve_secret),
                               broker_public_key=os.path.abspath(worker.broker_public_key))


def _check_node_name(name: str, parser: argparse.ArgumentParser) -> str:
    # The name is the first part of "node/w0/pid" identities and of names
    # operators type into zmq-monitor: no separator, nothing unprintable.
    if not name or len(name) > _MAX_NODE_NAME or "/" in name or not name.isprintable() or name != name.strip():
        parser.error(f"--node-name {name!r}: must be 1 to {_MAX_NODE_NAME} printable characters without '/' "
                     "or surrounding spaces")
    return name


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> SupervisorConfig:
    """The node's SupervisorConfig (with the WorkerConfig each worker gets); usage errors exit 2."""
    node = from_args(NodeOptions, args)
    pipeline = from_args(PipelineOptions, args)
    for flag, value, low in (("--workers", node.workers, 1), ("--max-jobs", args.max_jobs, 0)):
        if value is not None and value < low:
            parser.error(f"{flag} must be at least {low}")
    for flag, value in (("--grace", args.grace), ("--liveness", args.liveness), ("--overrun", args.overrun),
                        ("--max-rss", args.max_rss), ("--deadline", pipeline.deadline or 0)):
        if value < 0:
            parser.error(f"{flag} must not be negative")
    for flag, value in (("--heartbeat", args.heartbeat), ("--reconnect-max", args.reconnect_max),
                        ("--pulses-per-second", args.pulses_per_second), ("--restart-base", node.restart_base),
                        ("--restart-cap", node.restart_cap), ("--healthy-after", node.healthy_after),
                        ("--stop-timeout", 1 if node.stop_timeout is None else node.stop_timeout)):
        if not value > 0:
            parser.error(f"{flag} must be more than 0")
    _check_endpoint(args.broker, parser)
    _check_settings(pipeline, parser)
    worker = from_args(WorkerConfig, args, pipeline=args.pipeline or None, settings=pipeline.settings(),
                       log_level=args.log_level,
                       node_name=_check_node_name(args.node_name or socket.gethostname(), parser))
    worker = _check_keys(worker, parser)
    values = {f.name: getattr(node, f.name) for f in dataclasses.fields(node)}
    values["workers"] = node.workers or _cpus()
    return SupervisorConfig(worker=worker, **values)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_args(parser, argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s raterd-supervisor[%(process)d] %(name)s: %(message)s")
    config = config_from_args(args, parser)
    if config.worker.pipeline is None and importlib.util.find_spec("raterd.pipeline") is None:
        print("sitetruth-raterd: the rating pipeline (raterd.pipeline) is not installed", file=sys.stderr)
        return ExitCode.CONFIG
    if config.worker.curve_secret:
        log.info("broker %s with CURVE: own key %s, broker key %s", config.worker.broker,
                 config.worker.curve_secret, config.worker.broker_public_key)
    else:
        log.info("broker %s without keys (a broker accepts that on loopback or with --insecure only)",
                 config.worker.broker)
    try:
        return int(Supervisor(config).run())
    except Exception:
        log.critical("supervisor crashed", exc_info=True)
        return ExitCode.SOFTWARE


if __name__ == "__main__":
    sys.exit(main())
