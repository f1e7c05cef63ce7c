"""``sitetruth-db``: create or upgrade the store's schema, and show its state.

Run by deployment scripts before the broker and frontend start (``migrate``)
and by operators or health checks (``status``). Talks to the store only
through the Store API.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from protocol.config import add_options, option, parse_args, program_parser

from . import open_store
from .errors import SchemaError, StoreConfigError, StoreError, StoreUnavailable
from .migrations import LATEST_VERSION
from .records import BrokerLease, StoreStatus
from .url import DEFAULT_STORE_URL, STORE_ENV, StoreURL, parse_store_url

__all__ = ["main", "ExitCode"]

PROG = "sitetruth-db"


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1        # any other store error
    USAGE = 2          # bad arguments, bad URL, missing driver, bad credentials
    UNAVAILABLE = 3    # the database cannot be reached or is locked
    SCHEMA = 4         # not migrated / schema newer than this code (status: not up to date, or no SQLite file)


EPILOG = f"""\
The store URL comes from --store, else ${STORE_ENV}, else {DEFAULT_STORE_URL}.

examples:
  {PROG} migrate                                   # the default SQLite file
  {PROG} --store 'mysql://sitetruth:secret@db1:3306/sitetruth' migrate
  {PROG} --store 'mysql://root@localhost/sitetruth?unix_socket=/run/mysqld/mysqld.sock' status
  {STORE_ENV}=sqlite:////var/lib/sitetruth/store.db {PROG} status --json

exit codes: 0 ok, 1 other store error, 2 usage or configuration error,
3 store unavailable, 4 schema not migrated or newer than this code
(status exits 4 when the schema is not at this code's version, and when
the SQLite file does not exist: status never creates one)."""


@dataclass(frozen=True)
class DbOptions:
    """sitetruth-db's options; accepted before or after the command."""

    store: str = option(DEFAULT_STORE_URL, metavar="URL", help=f"store URL (env {STORE_ENV})")
    json: bool = option(False, help="print one JSON object instead of text")
    verbose: bool = option(False, short="-v", help="log what is being done")


def _parser() -> argparse.ArgumentParser:
    parser = program_parser(PROG, __doc__, log_levels=False)
    parser.epilog = EPILOG + "\n\n" + parser.epilog.rsplit("\n\n", 1)[-1]
    add_options(parser, DbOptions)
    commands = parser.add_subparsers(dest="command", metavar="{migrate,status}", required=True)
    migrate = commands.add_parser(
        "migrate", help="apply pending schema migrations",
        description="Apply pending schema migrations (safe to run repeatedly and concurrently).")
    status = commands.add_parser(
        "status", help="show back end, schema version and row counts",
        description="Show back end, URL (password hidden), schema version and row counts. "
                    "A missing SQLite file is reported, not created.")
    for sub in (migrate, status):
        add_options(sub, DbOptions, defaults=False)
    return parser


def _missing_sqlite_file(url: str) -> StoreURL | None:
    """The parsed URL when it names an SQLite file that does not exist (opening it would create it)."""
    parsed = parse_store_url(url)
    if parsed.backend == "sqlite" and parsed.path != ":memory:" and not os.path.exists(parsed.path):
        return parsed
    return None


def _report_missing(parsed: StoreURL, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"backend": parsed.backend, "url": parsed.redacted(), "exists": False,
                          "schema_version": 0, "latest_version": LATEST_VERSION, "up_to_date": False,
                          "counts": {}}))
    else:
        print(f"backend  {parsed.backend}\nurl      {parsed.redacted()}\n"
              f"schema   none: no such file  <- run `sitetruth-db migrate` to create it")
    print(f"{PROG}: error: no SQLite store at {parsed.path} (nothing was created)", file=sys.stderr)
    return ExitCode.SCHEMA


def _lease_text(lease: BrokerLease | None) -> str:
    if lease is None:
        return "none yet"
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(lease.since))
    return f"{lease.holder} (epoch {lease.epoch}, since {since})"


def _print_status(status: StoreStatus, lease: BrokerLease | None) -> None:
    rows = [("backend", status.backend), ("url", status.url),
            ("schema", f"{status.schema_version} (latest {status.latest_version})"
                       + ("" if status.up_to_date else "  <- run `sitetruth-db migrate`"
                          if status.schema_version < status.latest_version else "  <- newer than this code"))]
    rows += [(f"{table} rows", f"{count:,}") for table, count in status.counts.items()]
    # The last broker to become active (it still is, unless it has stopped or lost the store since).
    rows.append(("active broker", _lease_text(lease)))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(_parser(), argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format=f"{PROG}: %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "status":
            missing = _missing_sqlite_file(args.store)
            if missing is not None:
                return _report_missing(missing, args.json)
        with open_store(args.store) as store:
            if args.command == "migrate":
                applied = store.migrate()
                version = store.schema_version()
                if args.json:
                    print(json.dumps({"applied": applied, "schema_version": version}))
                elif applied:
                    print(f"applied migrations {', '.join(map(str, applied))}; schema version is now {version}")
                else:
                    print(f"schema already at version {version}; nothing to apply")
                return ExitCode.OK
            status = store.status()
            lease = store.broker_lease()
            if args.json:
                print(json.dumps({"backend": status.backend, "url": status.url,
                                  "schema_version": status.schema_version,
                                  "latest_version": status.latest_version,
                                  "up_to_date": status.up_to_date, "counts": status.counts,
                                  "broker_lease": None if lease is None else
                                  {"epoch": lease.epoch, "holder": lease.holder, "since": lease.since}}))
            else:
                _print_status(status, lease)
            return ExitCode.OK if status.up_to_date else ExitCode.SCHEMA
    except StoreConfigError as e:
        return _fail(ExitCode.USAGE, e)
    except StoreUnavailable as e:
        return _fail(ExitCode.UNAVAILABLE, e)
    except SchemaError as e:
        return _fail(ExitCode.SCHEMA, e)
    except StoreError as e:
        return _fail(ExitCode.FAILURE, e)


def _fail(code: ExitCode, error: Exception) -> int:
    print(f"{PROG}: error: {error}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
