"""``sitetruth-sources``: import and inspect a rater node's outside sources.

Run on each rater machine (by hand or from cron) to load registers and
blocklists from their published files into the node-local index that the
node's workers read. An import replaces that source's previous data in one
swap; a failed import leaves the old data serving and exits non-zero.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from enum import IntEnum
from typing import TextIO

from protocol.config import parse_args

from . import _blocklist, _registry
from ._errors import (
    ImportRefused,
    SourceError,
    SourceFileError,
    SourceFormatError,
    SourceIndexError,
)
from ._gleif_api import GLEIF_API, make_gleif_client
from ._index import DEFAULT_PATH, ImportProgress, SourceIndex, open_readonly, remove_source, status

__all__ = ["main", "ExitCode"]

log = logging.getLogger(__name__)


class ExitCode(IntEnum):
    OK = 0
    NOT_FOUND = 1       # check: nothing matched; remove: no such source
    USAGE = 2           # bad command line (argparse's own code)
    NO_INPUT = 3        # an input file is missing or unreadable
    BAD_FORMAT = 4      # an input is not in the expected format, or corrupt; old data kept
    REFUSED = 5         # read, but a safety check refused to swap it in; old data kept
    INDEX_ERROR = 6     # the sources index cannot be opened or written
    SOURCE_ERROR = 7    # any other source failure (e.g. the remote API)


_IMPORTERS = {
    "companies-house": ("UK Companies House BasicCompanyData CSV (plain or zip; all parts in one go)",
                        _registry.COMPANIES_HOUSE),
    "gleif": ("GLEIF LEI-CDF golden copy CSV (plain or zip)", _registry.GLEIF),
    "blocklist": ("one domain / URL / hosts-file line per line (needs --name)", None),
    "phishtank": ("PhishTank online-valid.json dump (plain, gz or bz2)", _blocklist.PHISHTANK),
}

_EPILOG = """\
examples:
  sitetruth-sources import companies-house BasicCompanyDataAsOneFile-2024-05-01.zip
  sitetruth-sources import companies-house BasicCompanyData-2024-05-01-part*.csv
  sitetruth-sources import gleif 20240501-0800-gleif-goldencopy-lei2-golden-copy.csv.zip
  sitetruth-sources import blocklist --name openphish feed.txt
  sitetruth-sources import phishtank online-valid.json.bz2
  sitetruth-sources status --json
  sitetruth-sources check --domain secure-login.example.co.uk
  sitetruth-sources check --company "Acme Widgets Ltd" --postcode "SW1A 1AA" --remote

exit codes: 0 ok, 1 nothing found, 2 usage, 3 input file unreadable, 4 bad or
corrupt input (old data kept), 5 import refused by a safety check (old data
kept), 6 index error, 7 other source error.

Every top-level flag has an environment twin: --sources SITETRUTH_SOURCES,
--gleif-url SITETRUTH_GLEIF_URL.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sitetruth-sources",
        description="Import registers and blocklists from their published files into this rater node's "
                    "sources index, and inspect it. An import replaces that source's data in one swap; "
                    "a failed import leaves the old data serving.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", metavar="PATH", default=DEFAULT_PATH,
                        help=f"the node-local sources index (default {DEFAULT_PATH})")
    parser.add_argument("--gleif-url", metavar="URL", default=None,
                        help="GLEIF-format LEI API base URL for 'check --remote' (default the public API; "
                             "empty disables)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every skipped row")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def sub(name: str, help_text: str) -> argparse.ArgumentParser:
        p = commands.add_parser(name, help=help_text, description=help_text)
        # Accept the index path after the command too, without overriding the
        # top-level value when it is not given here.
        p.add_argument("--sources", metavar="PATH", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return p

    p = sub("import", "import a source file, replacing that source's previous data")
    p.add_argument("kind", choices=sorted(_IMPORTERS),
                   help="; ".join(f"{k}: {v[0]}" for k, v in sorted(_IMPORTERS.items())))
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--name", help="source name (required for blocklist; default the kind's own name)")
    p.add_argument("--force", action="store_true",
                   help="import a register even if it shrank by more than half since the last import")

    p = sub("status", "list imported sources with row counts and import times")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub("check", "look a domain or a business up in the imported sources")
    p.add_argument("--domain", help="a domain, host or URL to check against the blocklists")
    p.add_argument("--company", help="business name to match against the registers")
    p.add_argument("--postcode")
    p.add_argument("--registration", help="company registration number")
    p.add_argument("--country")
    p.add_argument("--remote", action="store_true", help="also ask the GLEIF-format API")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub("remove", "forget an imported source and its data")
    p.add_argument("name")
    return parser


class _ProgressLine:
    """One self-overwriting line on a terminal; a line every 10 s otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = time.monotonic()
        self.shown = False

    def __call__(self, p: ImportProgress) -> None:
        if p.done:
            self.abandon(clear=True)  # the summary line follows
            return
        now = time.monotonic()
        if now - self.last < (0.25 if self.tty else 10.0):
            return
        self.last = now
        fraction = p.fraction
        pct = f" {fraction * 100:5.1f}%" if fraction is not None else ""
        rate = p.rows / p.seconds if p.seconds > 0 else 0.0
        text = (f"{p.source}:{pct} {p.rows:,} rows, {p.skipped:,} skipped, {rate:,.0f} rows/s, "
                f"{p.seconds:.0f} s")
        self.stream.write(("\r\x1b[K" + text) if self.tty else (text + "\n"))
        self.stream.flush()
        self.shown = self.tty

    def abandon(self, clear: bool = False) -> None:
        """End the self-overwriting line: wipe it, or keep it and move on."""
        if self.shown:
            self.stream.write("\r\x1b[K" if clear else "\n")
            self.stream.flush()
        self.shown = False


def _cmd_import(args: argparse.Namespace) -> int:
    name = args.name or _IMPORTERS[args.kind][1]
    if name is None:
        print("sitetruth-sources: import blocklist needs --name (e.g. --name openphish)", file=sys.stderr)
        return ExitCode.USAGE
    progress = None if args.quiet else _ProgressLine(sys.stderr)
    index = SourceIndex(args.sources)
    try:
        if args.kind == "companies-house":
            report = _registry.import_companies_house(index, args.files, progress, name=name, force=args.force)
        elif args.kind == "gleif":
            report = _registry.import_gleif_csv(index, args.files, progress, name=name, force=args.force)
        elif args.kind == "phishtank":
            report = _blocklist.import_phishtank(index, args.files, name, progress)
        else:
            report = _blocklist.import_blocklist(index, args.files, name, progress)
    except BaseException:
        if progress is not None:
            progress.abandon()
        raise
    finally:
        index.close()
    print(f"{report.source}: imported {report.rows:,} rows, skipped {report.skipped:,} in {report.seconds:.1f} s")
    return ExitCode.OK


def _cmd_status(args: argparse.Namespace) -> int:
    with open_readonly(args.sources) as index:
        rows = status(index)
    if args.json:
        print(json.dumps(rows, indent=2))
        return ExitCode.OK
    if not rows:
        print(f"no sources imported in {args.sources}")
        return ExitCode.OK
    headers = ("NAME", "KIND", "FORMAT", "ROWS", "SKIPPED", "IMPORTED (UTC)", "SECONDS", "FILES")
    table = [(r["name"], r["kind"], r["format"], f"{r['rows']:,}", f"{r['skipped']:,}",
              str(r["imported_at"]).replace("+00:00", ""), f"{r['seconds']:.1f}", r["files"]) for r in rows]
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *table)]
    for line in (headers, *table):
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())
    return ExitCode.OK


def _cmd_check(args: argparse.Namespace) -> int:
    if not args.domain and not args.company:
        print("sitetruth-sources: check needs --domain and/or --company", file=sys.stderr)
        return ExitCode.USAGE
    result: dict[str, list[dict[str, str]]] = {}
    with open_readonly(args.sources) as index:
        if args.domain:
            result["blocklist"] = [e.to_dict() for e in _blocklist.blocklist_hits(index, args.domain)]
        if args.company:
            found = _registry.registry_match(index, args.company, args.postcode, args.registration, args.country)
            result["registry"] = [dataclasses.asdict(c) for c in found]
    if args.company and args.remote:
        client = make_gleif_client(args.gleif_url)
        if client is None:
            print("sitetruth-sources: remote lookups are disabled (empty --gleif-url)", file=sys.stderr)
        else:
            found = client.confirm(args.company, args.postcode, args.country, args.registration)
            result[GLEIF_API] = [dataclasses.asdict(c) for c in found]
            if client.last_error is not None:
                print(f"sitetruth-sources: {client.last_error}", file=sys.stderr)
                if not any(result.values()):
                    return ExitCode.SOURCE_ERROR
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for section, items in result.items():
            print(f"{section}: {len(items)} found")
            for item in items:
                print("  " + (item.get("detail") or f"{item['source']}: {item['value']}"))
    return ExitCode.OK if any(result.values()) else ExitCode.NOT_FOUND


def _cmd_remove(args: argparse.Namespace) -> int:
    with SourceIndex(args.sources) as index:
        removed = remove_source(index, args.name)
    print(f"{args.name}: {'removed' if removed else 'no such source'}")
    return ExitCode.OK if removed else ExitCode.NOT_FOUND


_COMMANDS = {"import": _cmd_import, "status": _cmd_status, "check": _cmd_check, "remove": _cmd_remove}

_EXIT_FOR = (
    (SourceFileError, ExitCode.NO_INPUT),
    (SourceFormatError, ExitCode.BAD_FORMAT),
    (ImportRefused, ExitCode.REFUSED),
    (SourceIndexError, ExitCode.INDEX_ERROR),
    (SourceError, ExitCode.SOURCE_ERROR),
)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (the console script exits with it)."""
    args = parse_args(_parser(), argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(_COMMANDS[args.command](args))
    except SourceError as e:
        print(f"sitetruth-sources: {e}", file=sys.stderr)
        return int(next(code for cls, code in _EXIT_FOR if isinstance(e, cls)))
    except ValueError as e:  # a bad --name, a bad --gleif-url
        print(f"sitetruth-sources: {e}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        print("sitetruth-sources: interrupted; the previous data still serves", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
