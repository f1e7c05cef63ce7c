"""``sitetruth-frontend``: serve the API v3, details and status pages until SIGTERM or Ctrl-C.

Examples::

    sitetruth-frontend                                       # http://127.0.0.1:8080, SQLite ./sitetruth.db
    sitetruth-frontend --listen 0.0.0.0:8080 --broker tcp://broker1:7710 \\
        --store mysql://st:pw@db1/sitetruth --store-read mysql://st:pw@db2/sitetruth
    sitetruth-frontend --fastcgi /run/sitetruth/fcgi.sock    # behind nginx: fastcgi_pass unix:/run/...
    sitetruth-frontend --key adrater --key guest --trusted-proxy 10.0.0.0/8
    SITETRUTH_KEYS_FILE=/etc/sitetruth/keys sitetruth-frontend
    sitetruth-frontend --access-log /var/log/sitetruth/access.log   # common log format; - for stdout
    sitetruth-frontend --broker tcp://broker1:7710 \\
        --curve-secret /etc/sitetruth/keys/web1.key_secret --broker-public-key /etc/sitetruth/keys/broker.key

It prints ``frontend listening on URL`` once it accepts connections. With
``--fastcgi`` it serves FastCGI only (no HTTP listener). It refuses to start
on a store it cannot serve from (a missing SQLite file, a database without
the schema) or with CURVE key files it cannot use (exit 2, naming the file);
a database that is down at start is ridden out like an outage.

Exit codes: 0 clean stop, 2 usage or configuration error (including an
address it cannot listen on and a store without the schema), 1 anything
else (its traceback goes to the store's error log).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from typing import Any

from protocol.config import add_options, from_args, parse_args, program_parser
from store import LATEST_VERSION, ErrorRecord, StoreError, StoreUnavailable, open_store, parse_store_url

from .accesslog import AccessLog
from .app import FrontendApp, make_app
from .config import FrontendConfig, load_keys
from .errors import FrontendConfigError
from .fastcgi import FastCGIServer
from .httpserver import HTTPServer, parse_listen

__all__ = ["main", "build_parser", "config_from_args", "check_store", "wrap_access_log"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

log = logging.getLogger("frontend")


def build_parser() -> argparse.ArgumentParser:
    """The flags of every option declared on FrontendConfig, plus --config and --log-level."""
    parser = program_parser("sitetruth-frontend", __doc__)
    add_options(parser, FrontendConfig)
    return parser


def config_from_args(args: argparse.Namespace) -> FrontendConfig:
    """A checked FrontendConfig; FrontendConfigError for values that cannot work."""
    config = from_args(FrontendConfig, args)
    keys = {k.strip() for k in config.keys if k.strip()}
    if config.keys_file:
        keys |= load_keys(config.keys_file)
    return dataclasses.replace(config, keys=frozenset(keys)).check()


def check_store(config: FrontendConfig) -> None:
    """Refuse to start on a store that cannot serve ratings (FrontendConfigError says why).

    A missing SQLite file or a database without our schema would otherwise
    look like an empty store: every rated domain answered W/202 and queued
    again. Opening it must not create it, so a missing SQLite file is
    checked before the store is touched. A database that is merely down
    (StoreUnavailable) is not refused: that is the outage the frontend
    rides out at run time (cached ratings, 503 with Retry-After).
    """
    urls = dict.fromkeys((("--store", config.store), ("--store-read", config.read_store)))
    for flag, url in urls:
        parsed = parse_store_url(url)
        if parsed.backend == "sqlite" and parsed.path != ":memory:" and not os.path.isfile(parsed.path):
            raise FrontendConfigError(f"{flag} {parsed.redacted()}: no such SQLite file "
                                      f"(create it with `sitetruth-db --store URL migrate`)")
        try:
            with open_store(parsed) as store:
                version = store.schema_version()
        except StoreUnavailable as e:
            log.warning("store %s unavailable at start (%s); serving anyway", parsed.redacted(), e)
            continue
        except StoreError as e:
            raise FrontendConfigError(f"{flag}: {e}") from e     # the store's message names the URL
        if version != LATEST_VERSION:
            hint = ("run `sitetruth-db --store URL migrate`" if version < LATEST_VERSION
                    else "upgrade sitetruth, or point it at another database")
            state = "has no schema" if version == 0 else f"is at schema version {version}"
            raise FrontendConfigError(f"{flag} {parsed.redacted()}: the store {state}, this code needs "
                                      f"{LATEST_VERSION} ({hint})")


def wrap_access_log(app: FrontendApp, config: FrontendConfig) -> Any:
    """The application, behind the access log when --access-log is set."""
    return AccessLog(app, config.access_log) if config.access_log else app


def _write_fatal(store_url: str) -> None:
    """Last-resort handler: the traceback of the exception being handled goes to the error log."""
    try:
        store = open_store(store_url)
        try:
            store.append_errors([ErrorRecord(
                at=time.time(), host=socket.gethostname(), process=f"frontend[{os.getpid()}]",
                component="frontend", message="fatal error: process exiting", traceback=traceback.format_exc())])
        finally:
            store.close()
    except StoreError as e:
        log.error("could not record the fatal error in the store: %s", e)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_args(parser, argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        config = config_from_args(args)
        app = wrap_access_log(make_app(config), config)
        if config.fastcgi:
            server: HTTPServer | FastCGIServer = FastCGIServer(app, config.fastcgi, config.threads,
                                                               config.fastcgi_mode,
                                                               head_timeout=config.head_timeout)
        else:
            host, port = parse_listen(config.listen)
            server = HTTPServer(app, host, port, config.threads, head_timeout=config.head_timeout)
    except FrontendConfigError as e:
        print(f"sitetruth-frontend: {e}", file=sys.stderr)
        return EXIT_USAGE
    # Checked once the address is ours: a busy port is reported as such, and
    # nothing is opened in a store we will not use.
    try:
        check_store(config)
    except FrontendConfigError as e:
        print(f"sitetruth-frontend: {e}", file=sys.stderr)
        server.close()
        app.close()
        return EXIT_USAGE
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    failed: list[BaseException] = []

    def serve() -> None:
        try:
            server.serve_forever()
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            failed.append(e)
            log.critical("server loop crashed", exc_info=True)
            _write_fatal(config.store)
            stop.set()

    thread = threading.Thread(target=serve, name="serve", daemon=True)
    thread.start()
    print(f"frontend listening on {server.url}", flush=True)
    log.info("broker %s (%s), store %s", config.broker,
             "CURVE, own key " + str(config.curve_secret) if config.broker_keys else "no keys",
             parse_store_url(config.read_store).redacted())
    while not stop.wait(0.5):
        pass
    log.info("stopping")
    server.shutdown()
    thread.join(30)
    server.close()
    app.close()
    return EXIT_ERROR if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
