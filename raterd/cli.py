"""``sitetruth-raterd``: run a rater node (a supervisor and N worker processes) until SIGTERM or Ctrl-C.

Examples::

    sitetruth-raterd                                        # one worker per CPU, broker on tcp://127.0.0.1:7711
    sitetruth-raterd --broker tcp://broker1:7711 --workers 8 --nice 15 --max-rss 800
    sitetruth-raterd --resolve shop.example.com:127.0.0.1 --hosts ./test-hosts --ca-bundle ./test-ca.pem
    SITETRUTH_BROKER=tcp://broker1:7711 SITETRUTH_WORKERS=4 sitetruth-raterd --config raterd.toml

Adding capacity is starting another node pointed at the same broker. Raters
hold no database credentials: results, progress and errors go to the broker.

Exit codes: 0 stopped on request (jobs finished or handed back), 2 usage,
78 configuration (the rating pipeline cannot be built), 70 internal error.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys

import zmq

from protocol.config import parse_args

from ._proc import ExitCode
from ._workerconfig import WorkerConfig
from .supervisor import Supervisor, SupervisorConfig

__all__ = ["main", "build_parser", "config_from_args", "ExitCode"]

log = logging.getLogger("raterd")


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:          # not Linux
        return os.cpu_count() or 1


def build_parser() -> argparse.ArgumentParser:
    d = WorkerConfig()
    p = argparse.ArgumentParser(
        prog="sitetruth-raterd", description=__doc__.split("\n\n")[0],
        epilog="\n\n".join(__doc__.split("\n\n")[1:])
        + "\n\nEvery option has a SITETRUTH_* environment twin (--max-jobs -> SITETRUTH_MAX_JOBS); "
          "--config FILE reads them from TOML.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--broker", default=d.broker, metavar="ENDPOINT",
                   help="the broker's rater endpoint (default %(default)s)")
    p.add_argument("--workers", type=int, metavar="N",
                   help=f"worker processes (default: number of CPUs, here {_cpus()})")
    p.add_argument("--max-jobs", type=int, default=d.max_jobs, metavar="N",
                   help="ratings before a worker is replaced by a fresh one, 0 = never (default %(default)s)")
    p.add_argument("--nice", type=int, default=d.nice, metavar="N",
                   help="nice value of the workers (default %(default)s)")
    p.add_argument("--max-rss", type=float, default=d.max_rss, metavar="MB",
                   help="resident memory (MiB) past which a worker is replaced, 0 = off (default %(default)s)")
    g = p.add_argument_group("fetching and sources (passed to the rating pipeline)")
    g.add_argument("--resolve", action="append", default=[], metavar="NAME:ADDR",
                   help="map NAME to ADDR, trusted even if not public (repeatable)")
    g.add_argument("--hosts", metavar="FILE", help="hosts(5)-format file of trusted name mappings")
    g.add_argument("--ca-bundle", metavar="FILE", help="PEM file of extra trusted CA certificates")
    g.add_argument("--sources", metavar="PATH",
                   help="sources index made by sitetruth-sources import (missing: matches nothing)")
    g.add_argument("--gleif-url", metavar="URL",
                   help="base URL of the GLEIF LEI records API ('' turns the remote lookup off)")
    g.add_argument("--deadline", type=float, metavar="S", help="overall deadline of one rating (default 30)")
    g.add_argument("--threads", type=int, metavar="N", help="fetch threads per rating")
    g.add_argument("--max-pages", type=int, metavar="N", help="pages read per site")
    g.add_argument("--user-agent", metavar="TEXT", help="User-Agent of page fetches")
    g.add_argument("--http-port", type=int, metavar="PORT",
                   help="port sites are looked for over http (default 80; demo clusters and fixture sites differ)")
    g.add_argument("--https-port", type=int, metavar="PORT",
                   help="port sites are looked for over https (default 443)")
    g = p.add_argument_group("process tuning")
    g.add_argument("--grace", type=float, default=d.grace, metavar="S",
                   help="on SIGTERM, time a running job gets before it is handed back (default %(default)s)")
    g.add_argument("--liveness", type=float, default=d.liveness, metavar="S",
                   help="broker silence after which workers reconnect and re-register (default %(default)s)")
    g.add_argument("--overrun", type=float, default=d.overrun, metavar="S",
                   help="time past its deadline before a stuck rating restarts its worker (default %(default)s)")
    g.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING... (default %(default)s)")
    # For tests of the process machinery only: a stand-in for raterd.pipeline.SitePipeline.
    g.add_argument("--pipeline", metavar="MODULE:FACTORY",
                   help="tests only: build the rating pipeline with this factory instead of SitePipeline")
    return p


def _settings(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict:
    """RaterSettings keyword arguments: only what was given, so its own defaults stay in one place."""
    from .fetch import ResolverConfigError, load_hosts_file, parse_resolve_option

    try:
        for entry in args.resolve:
            parse_resolve_option(entry)
        if args.hosts:
            load_hosts_file(args.hosts)
    except ResolverConfigError as e:
        parser.error(str(e))
    if args.ca_bundle and not os.path.isfile(args.ca_bundle):
        parser.error(f"--ca-bundle {args.ca_bundle}: no such file")
    settings = {"resolve": list(args.resolve), "hosts_file": args.hosts, "ca_bundle": args.ca_bundle,
                "sources": args.sources, "gleif_url": args.gleif_url, "deadline": args.deadline,
                "threads": args.threads, "max_pages": args.max_pages, "user_agent": args.user_agent,
                "http_port": args.http_port, "https_port": args.https_port}
    return {k: v for k, v in settings.items() if v not in (None, [])}


def _check_endpoint(endpoint: str, parser: argparse.ArgumentParser) -> None:
    """A malformed --broker is a usage error here, not N workers failing one by one."""
    context = zmq.Context()
    sock = context.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.connect(endpoint)
    except zmq.ZMQError as e:
        parser.error(f"--broker {endpoint}: {e.strerror} (expected e.g. tcp://127.0.0.1:7711)")
    finally:
        sock.close()
        context.term()


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> SupervisorConfig:
    for flag, value, low in (("--workers", args.workers, 1), ("--max-jobs", args.max_jobs, 0)):
        if value is not None and value < low:
            parser.error(f"{flag} must be at least {low}")
    for flag, value in (("--grace", args.grace), ("--liveness", args.liveness), ("--overrun", args.overrun),
                        ("--max-rss", args.max_rss), ("--deadline", args.deadline or 0)):
        if value < 0:
            parser.error(f"{flag} must not be negative")
    _check_endpoint(args.broker, parser)
    worker = WorkerConfig(
        broker=args.broker, max_jobs=args.max_jobs, max_rss=args.max_rss, nice=args.nice, grace=args.grace,
        liveness=args.liveness, overrun=args.overrun, pipeline=args.pipeline or None,
        settings=_settings(args, parser), log_level=args.log_level.upper())
    return SupervisorConfig(workers=args.workers or _cpus(), worker=worker)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_args(parser, argv)
    level = getattr(logging, args.log_level.upper(), None)
    if not isinstance(level, int):
        parser.error(f"--log-level {args.log_level}: not a logging level")
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s raterd-supervisor[%(process)d] %(name)s: %(message)s")
    config = config_from_args(args, parser)
    if config.worker.pipeline is None and importlib.util.find_spec("raterd.pipeline") is None:
        print("sitetruth-raterd: the rating pipeline (raterd.pipeline) is not installed", file=sys.stderr)
        return ExitCode.CONFIG
    try:
        return int(Supervisor(config).run())
    except Exception:
        log.critical("supervisor crashed", exc_info=True)
        return ExitCode.SOFTWARE


if __name__ == "__main__":
    sys.exit(main())
