"""``sitetruth-broker``: run the broker until SIGTERM or Ctrl-C.

Examples::

    sitetruth-broker                                   # SQLite ./sitetruth.db, loopback ports 7710/7711
    sitetruth-broker --store mysql://st:pw@db1/sitetruth --bind-clients tcp://*:7710 --bind-raters tcp://*:7711
    SITETRUTH_STORE=mysql://... sitetruth-broker --max-per-ip 200

Exit codes: 0 clean stop, 2 usage, 3 store unavailable at start, 4 schema
error, 1 anything else (its traceback is written to the store's error log).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

import zmq

from protocol.config import parse_args
from store import SchemaError, StoreConfigError, StoreUnavailable

from .config import BrokerConfig
from .errorlog import write_fatal
from .server import Broker

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_STORE, EXIT_SCHEMA = 0, 1, 2, 3, 4

log = logging.getLogger("broker")


def build_parser() -> argparse.ArgumentParser:
    d = BrokerConfig()
    p = argparse.ArgumentParser(
        prog="sitetruth-broker", description=__doc__.split("\n\n")[0],
        epilog="Every option has a SITETRUTH_* environment twin (--max-per-ip -> SITETRUTH_MAX_PER_IP).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", default=d.store, help="store URL (default %(default)s)")
    p.add_argument("--bind-clients", default=d.bind_clients, help="client socket (default %(default)s)")
    p.add_argument("--bind-raters", default=d.bind_raters, help="rater socket (default %(default)s)")
    p.add_argument("--max-per-ip", type=int, default=d.max_per_ip,
                   help="outstanding jobs per client IP before overload (default %(default)s)")
    p.add_argument("--max-attempts", type=int, default=d.max_attempts,
                   help="attempts before a job is stored as U/error (default %(default)s)")
    p.add_argument("--heartbeat", type=float, default=d.heartbeat, help="heartbeat interval s (default %(default)s)")
    p.add_argument("--liveness", type=float, default=d.liveness,
                   help="a rater silent this long is dead (default %(default)s s)")
    p.add_argument("--lease", type=float, default=d.lease,
                   help="a job without PULSE this long is re-queued (default %(default)s s)")
    p.add_argument("--max-job", type=float, default=d.max_job,
                   help="hard ceiling on one rating, pulses or not (default %(default)s s)")
    p.add_argument("--rating-deadline", type=float, default=d.rating_deadline,
                   help="deadline sent to raters with each job (default %(default)s s)")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING... (default %(default)s)")
    return p


def config_from_args(args: argparse.Namespace) -> BrokerConfig:
    return BrokerConfig(
        store=args.store, bind_clients=args.bind_clients, bind_raters=args.bind_raters,
        max_per_ip=args.max_per_ip, max_attempts=args.max_attempts, heartbeat=args.heartbeat,
        liveness=args.liveness, lease=args.lease, max_job=args.max_job,
        rating_deadline=args.rating_deadline)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_args(parser, argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = config_from_args(args)
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
