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
from collections.abc import Sequence
from enum import IntEnum

from . import open_store
from .errors import SchemaError, StoreConfigError, StoreError, StoreUnavailable
from .records import StoreStatus
from .url import DEFAULT_STORE_URL, STORE_ENV

__all__ = ["main", "ExitCode"]

PROG = "sitetruth-db"


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1        # any other store error
    USAGE = 2          # bad arguments, bad URL, missing driver, bad credentials
    UNAVAILABLE = 3    # the database cannot be reached or is locked
    SCHEMA = 4         # not migrated / schema newer than this code (status: not up to date)


EPILOG = f"""\
The store URL comes from --store, else ${STORE_ENV}, else {DEFAULT_STORE_URL}.

examples:
  {PROG} migrate                                   # the default SQLite file
  {PROG} --store 'mysql://sitetruth:secret@db1:3306/sitetruth' migrate
  {PROG} --store 'mysql://root@localhost/sitetruth?unix_socket=/run/mysqld/mysqld.sock' status
  {STORE_ENV}=sqlite:////var/lib/sitetruth/store.db {PROG} status --json

exit codes: 0 ok, 1 other store error, 2 usage or configuration error,
3 store unavailable, 4 schema not migrated or newer than this code
(`status` exits 4 when the schema is not at this code's version)."""


def _add_common(parser: argparse.ArgumentParser, top: bool) -> None:
    # Accepted before or after the command. Below the top level the default
    # is SUPPRESS, so a sub-command does not overwrite a value given before it.
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    parser.add_argument("--store", metavar="URL", default=default(os.environ.get(STORE_ENV) or DEFAULT_STORE_URL),
                        help=f"store URL (env {STORE_ENV}; default {DEFAULT_STORE_URL})")
    parser.add_argument("--json", action="store_true", default=default(False),
                        help="print one JSON object instead of text")
    parser.add_argument("-v", "--verbose", action="store_true", default=default(False),
                        help="log what is being done")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Create or upgrade the SiteTruth store schema, and show its state.")
    _add_common(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="{migrate,status}", required=True)
    migrate = commands.add_parser(
        "migrate", help="apply pending schema migrations",
        description="Apply pending schema migrations (safe to run repeatedly and concurrently).")
    status = commands.add_parser(
        "status", help="show back end, schema version and row counts",
        description="Show back end, URL (password hidden), schema version and row counts.")
    for sub in (migrate, status):
        _add_common(sub, top=False)
    return parser


def _print_status(status: StoreStatus) -> None:
    rows = [("backend", status.backend), ("url", status.url),
            ("schema", f"{status.schema_version} (latest {status.latest_version})"
                       + ("" if status.up_to_date else "  <- run `sitetruth-db migrate`"
                          if status.schema_version < status.latest_version else "  <- newer than this code"))]
    rows += [(f"{table} rows", f"{count:,}") for table, count in status.counts.items()]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format=f"{PROG}: %(levelname)s %(name)s: %(message)s")
    try:
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
            if args.json:
                print(json.dumps({"backend": status.backend, "url": status.url,
                                  "schema_version": status.schema_version,
                                  "latest_version": status.latest_version,
                                  "up_to_date": status.up_to_date, "counts": status.counts}))
            else:
                _print_status(status)
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
