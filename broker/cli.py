"""``sitetruth-broker``: run the broker until SIGTERM or Ctrl-C.

Examples::

    sitetruth-broker                                   # SQLite ./sitetruth.db, loopback ports 7710/7711
    sitetruth-broker --store mysql://st:pw@db1/sitetruth --bind-clients tcp://*:7710 --bind-raters tcp://*:7711
    SITETRUTH_STORE=mysql://... sitetruth-broker --max-per-ip 200
    sitetruth-broker --config /etc/sitetruth/cluster.toml      # [sitetruth-broker] table: max-unacked = 5000

Exit codes: 0 clean stop, 2 usage, 3 store unavailable at start, 4 schema
error, 1 anything else (its traceback is written to the store's error log).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

import zmq

from protocol.config import ConfigError, add_options, from_args, parse_args, program_parser
from store import SchemaError, StoreConfigError, StoreUnavailable

from .config import BrokerConfig
from .errorlog import write_fatal
from .server import Broker

__all__ = ["main", "build_parser", "config_from_args"]

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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_args(parser, argv)
    try:
        config = config_from_args(args)
    except ConfigError as e:
        parser.error(str(e))
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    broker = Broker(config)
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
