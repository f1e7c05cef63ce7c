"""``sitetruth-broker``: run the broker until SIGTERM or Ctrl-C.

Examples::

    sitetruth-broker                                   # SQLite ./sitetruth.db, loopback ports 7710/7711
    sitetruth-broker --store mysql://st:pw@db1/sitetruth --bind-clients tcp://*:7710 --bind-raters tcp://*:7711 \\
        --curve-secret /etc/sitetruth/keys/broker.key_secret --rater-keys /etc/sitetruth/raters \\
        --client-keys /etc/sitetruth/clients --admin-keys /etc/sitetruth/admins
    SITETRUTH_STORE=mysql://... sitetruth-broker --max-per-ip 200
    sitetruth-broker --config /etc/sitetruth/cluster.toml      # [sitetruth-broker] table: max-unacked = 5000
    sitetruth-broker --metrics 127.0.0.1:9102                  # Prometheus: http://127.0.0.1:9102/metrics

Security: with --curve-secret and at least one of --rater-keys,
--client-keys, --admin-keys, both sockets use CURVE and admit only the keys
in those directories (make them with sitetruth-keygen; see
docs/security.md). Without keys the broker runs in insecure mode and binds
loopback endpoints only; an endpoint other machines can reach is refused
(exit 2) unless --insecure is given. The first log line says which mode runs.

Metrics: --metrics HOST:PORT serves Prometheus metrics on
http://HOST:PORT/metrics (queue depth per client IP, raters by state,
completions by letter, the journal's backlog...; the list is in
broker/metrics.py and the README). A port in use is a usage error (exit 2)
before the store is touched.

Exit codes: 0 clean stop, 2 usage (including unusable key files and an
exposed endpoint without keys), 3 store unavailable at start, 4 schema
error, 1 anything else (its traceback is written to the store's error log).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

import zmq

from protocol.config import ConfigError, add_options, from_args, parse_args, program_parser
from protocol.security import KeySet
from store import SchemaError, StoreConfigError, StoreUnavailable

from .auth import InsecureBindError, bind_policy
from .config import BrokerConfig
from .errorlog import write_fatal
from .metrics import BrokerMetrics, MetricsError
from .server import Broker

__all__ = ["main", "build_parser", "config_from_args", "security_line", "make_broker"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_STORE, EXIT_SCHEMA = 0, 1, 2, 3, 4

log = logging.getLogger("broker")


def build_parser() -> argparse.ArgumentParser:
    """The flags of every option declared on BrokerConfig, plus --config and --log-level."""
    parser = program_parser("sitetruth-broker", __doc__)
    add_options(parser, BrokerConfig)
    return parser


def config_from_args(args: argparse.Namespace) -> BrokerConfig:
    """A checked BrokerConfig (ConfigError for values no broker could run with)."""
    return from_args(BrokerConfig, args).check()


def security_line(config: BrokerConfig, keyset: KeySet | None) -> str:
    """The start-up line saying how the broker is secured; InsecureBindError for an exposed endpoint without keys."""
    endpoints = (config.bind_clients, config.bind_raters)
    insecure = bind_policy(endpoints, secure=keyset is not None, insecure=config.insecure)
    if insecure is not None:
        return insecure
    counts: dict[str, int] = {role.value: 0 for role in keyset.directories()}
    for peer in keyset.peers().values():
        counts[peer.role.value] += 1
    known = ", ".join(f"{n} {role} key{'s' if n != 1 else ''}" for role, n in counts.items())
    return f"CURVE on both sockets ({', '.join(endpoints)}): {known}"


def make_broker(config: BrokerConfig, keyset: KeySet | None, metrics: BrokerMetrics | None = None) -> Broker:
    """The Broker, securing its sockets with *keyset* (None: insecure mode), its loop feeding *metrics*."""
    return Broker(config, keyset=keyset, metrics=metrics)


def start_metrics(config: BrokerConfig) -> BrokerMetrics | None:
    """The metrics endpoint listening (None without --metrics); MetricsError for a bad or busy address.

    Started before the broker binds or opens its store, so a busy metrics
    port leaves nothing behind.
    """
    if not config.metrics:
        return None
    metrics = BrokerMetrics()
    address = metrics.serve(config.metrics)
    log.info("metrics listening on http://%s/metrics", address)
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_args(parser, argv)
    try:
        config = config_from_args(args)
        keyset = config.load_keyset()
        line = security_line(config, keyset)
    except (ConfigError, InsecureBindError) as e:
        parser.error(str(e))
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Exposed without keys is worth a warning in every log; loopback-only is the one-command default.
    (log.warning if line.startswith("INSECURE") else log.info)("%s", line)
    try:
        metrics = start_metrics(config)
    except MetricsError as e:
        print(f"sitetruth-broker: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        broker = make_broker(config, keyset, metrics)
    except ConfigError as e:
        if metrics is not None:
            metrics.close()
        parser.error(str(e))
    try:
        return _serve(config, broker, metrics)
    finally:
        if metrics is not None:
            metrics.close()


def _serve(config: BrokerConfig, broker: Broker, metrics: BrokerMetrics | None) -> int:
    signal.signal(signal.SIGTERM, lambda *_: broker.stop())
    signal.signal(signal.SIGINT, lambda *_: broker.stop())
    try:
        broker.start()
    except StoreConfigError as e:
        print(f"sitetruth-broker: {e}", file=sys.stderr)
        return EXIT_USAGE
    except StoreUnavailable as e:
        print(f"sitetruth-broker: store unavailable: {e}", file=sys.stderr)
        return EXIT_STORE
    except SchemaError as e:
        print(f"sitetruth-broker: {e}", file=sys.stderr)
        return EXIT_SCHEMA
    except zmq.ZMQError as e:
        print(f"sitetruth-broker: cannot bind: {e}", file=sys.stderr)
        return EXIT_USAGE
    # Tell whoever started us where we listen (tests bind port 0... see README).
    print(f"broker listening: clients {broker.client_endpoint} raters {broker.rater_endpoint}", flush=True)
    try:
        broker.run()
    except Exception:
        log.critical("broker crashed", exc_info=True)
        write_fatal(config.store, "broker")
        return EXIT_ERROR
    finally:
        broker.close()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
