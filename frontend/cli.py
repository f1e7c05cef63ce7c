"""``sitetruth-frontend``: serve the API v3, details and status pages until SIGTERM or Ctrl-C.

Examples::

    sitetruth-frontend                                       # http://127.0.0.1:8080, SQLite ./sitetruth.db
    sitetruth-frontend --listen 0.0.0.0:8080 --broker tcp://broker1:7710 \\
        --store mysql://st:pw@db1/sitetruth --store-read mysql://st:pw@db2/sitetruth
    sitetruth-frontend --fastcgi /run/sitetruth/fcgi.sock    # behind nginx: fastcgi_pass unix:/run/...
    sitetruth-frontend --key adrater --key guest --trusted-proxy 10.0.0.0/8
    SITETRUTH_KEYS_FILE=/etc/sitetruth/keys sitetruth-frontend

It prints ``frontend listening on URL`` once it accepts connections. With
``--fastcgi`` it serves FastCGI only (no HTTP listener).

Exit codes: 0 clean stop, 2 usage or configuration error (including an
address it cannot listen on), 1 anything else (its traceback goes to the
store's error log).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback

from protocol.config import parse_args
from store import ErrorRecord, StoreError, open_store, parse_store_url

from .app import make_app
from .config import FrontendConfig, load_keys
from .errors import FrontendConfigError
from .fastcgi import FastCGIServer
from .httpserver import HTTPServer, parse_listen

__all__ = ["main", "build_parser", "config_from_args"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

log = logging.getLogger("frontend")


def _octal(text: str) -> int:
    try:
        value = int(str(text), 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an octal file mode (e.g. 660)") from None
    if not 0 <= value <= 0o777:
        raise argparse.ArgumentTypeError(f"{text!r} is not a file mode")
    return value


def build_parser() -> argparse.ArgumentParser:
    d = FrontendConfig()
    p = argparse.ArgumentParser(
        prog="sitetruth-frontend", description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1] + "\nEvery option has a SITETRUTH_* environment twin "
               "(--cache-ttl -> SITETRUTH_CACHE_TTL; lists comma-separated).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", default=d.listen, help="HTTP address HOST:PORT (default %(default)s)")
    p.add_argument("--broker", default=d.broker, help="the broker's client endpoint (default %(default)s)")
    p.add_argument("--store", default=d.store, help="store URL (default %(default)s)")
    p.add_argument("--store-read", default="", metavar="URL",
                   help="read replica for lookups and pages (default: --store)")
    p.add_argument("--fastcgi", default="", metavar="SOCKET",
                   help="serve FastCGI on a UNIX socket path (or unix:PATH, or HOST:PORT) instead of HTTP")
    p.add_argument("--fastcgi-mode", type=_octal, default=d.fastcgi_mode, metavar="MODE",
                   help="permissions of the FastCGI socket file (default %(default)o)")
    p.add_argument("--key", action="append", default=None, metavar="KEY",
                   help="accepted application key (repeatable); without any, every key is accepted")
    p.add_argument("--keys-file", default="", metavar="FILE", help="file of accepted keys, one per line")
    p.add_argument("--trusted-proxy", action="append", default=None, metavar="CIDR",
                   help="believe X-Forwarded-For from this proxy address or network (repeatable)")
    p.add_argument("--internal-allow", action="append", default=None, metavar="CIDR",
                   help="networks that may see /status and /metrics (repeatable; "
                        "default loopback and private ranges)")
    p.add_argument("--cache-ttl", type=float, default=d.cache_ttl,
                   help="seconds a rating stays in the in-process cache (default %(default)s; 0 = off)")
    p.add_argument("--cache-size", type=int, default=d.cache_size,
                   help="entries in the in-process cache (default %(default)s)")
    p.add_argument("--broker-timeout", type=float, default=d.broker_timeout,
                   help="seconds to wait for the broker's reply (default %(default)s)")
    p.add_argument("--broker-backoff", type=float, default=d.broker_backoff,
                   help="after a broker failure, answer 503 at once for this long (default %(default)s s)")
    p.add_argument("--retry-after", type=int, default=d.retry_after,
                   help="Retry-After seconds on 503 replies (default %(default)s)")
    p.add_argument("--max-urls", type=int, default=d.max_urls,
                   help="url fields per request before 414 (default %(default)s)")
    p.add_argument("--max-query-bytes", type=int, default=d.max_query_bytes,
                   help="query string bytes before 414 (default %(default)s)")
    p.add_argument("--threads", type=int, default=d.threads,
                   help="worker threads of the HTTP or FastCGI server (default %(default)s)")
    p.add_argument("--ipv6-prefix", type=int, default=d.ipv6_prefix,
                   help="IPv6 clients are queued per prefix of this length (default %(default)s)")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING... (default %(default)s)")
    return p


def config_from_args(args: argparse.Namespace) -> FrontendConfig:
    """A checked FrontendConfig; FrontendConfigError for values that cannot work."""
    keys = set(k.strip() for k in (args.key or []) if k.strip())
    if args.keys_file:
        keys |= load_keys(args.keys_file)
    d = FrontendConfig()
    return FrontendConfig(
        listen=args.listen, broker=args.broker, store=args.store, store_read=args.store_read,
        fastcgi=args.fastcgi, fastcgi_mode=args.fastcgi_mode, keys=frozenset(keys),
        trusted_proxies=tuple(args.trusted_proxy or ()),
        internal_allow=tuple(args.internal_allow) if args.internal_allow else d.internal_allow,
        cache_ttl=args.cache_ttl, cache_size=args.cache_size, broker_timeout=args.broker_timeout,
        broker_backoff=args.broker_backoff, retry_after=args.retry_after, max_urls=args.max_urls,
        max_query_bytes=args.max_query_bytes, threads=args.threads, ipv6_prefix=args.ipv6_prefix,
    ).check()


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
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        config = config_from_args(args)
        app = make_app(config)
        if config.fastcgi:
            server: HTTPServer | FastCGIServer = FastCGIServer(app, config.fastcgi, config.threads,
                                                               config.fastcgi_mode)
        else:
            host, port = parse_listen(config.listen)
            server = HTTPServer(app, host, port, config.threads)
    except FrontendConfigError as e:
        print(f"sitetruth-frontend: {e}", file=sys.stderr)
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
    log.info("broker %s, store %s", config.broker, parse_store_url(config.read_store).redacted())
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
