"""``zmq-monitor``: a live, top-like view of a running broker.

Examples::

    zmq-monitor                                  # live view of tcp://127.0.0.1:7710
    zmq-monitor --broker tcp://broker1:7710 --once          # one plain-text snapshot
    zmq-monitor --once --json | jq .totals                  # for scripts
    zmq-monitor admin drain --arg rater=node7               # operator actions
    zmq-monitor admin cancel --arg domains=spam.example,junk.example

It is an ordinary client of the broker's client socket (STATS and ADMIN
requests); it needs no database access. The live view uses ``rich``.

Exit codes: 0 ok, 2 usage, 3 broker unavailable, 4 admin action refused.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from protocol import AdminRequest, ErrorReply, ProtocolError, StatsReply, StatsRequest
from protocol.client import BrokerClient, BrokerUnavailable
from protocol.config import parse_args

__all__ = ["main", "render_text"]

EXIT_OK, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_REFUSED = 0, 2, 3, 4


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zmq-monitor", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--broker", default="tcp://127.0.0.1:7710", help="broker client endpoint (default %(default)s)")
    p.add_argument("--once", action="store_true", help="print one snapshot and exit")
    p.add_argument("--json", action="store_true", help="with --once: the raw stats as one JSON object")
    p.add_argument("--interval", type=float, default=1.0, help="live refresh interval s (default %(default)s)")
    p.add_argument("--timeout", type=float, default=3.0, help="broker answer timeout s (default %(default)s)")
    p.add_argument("--recent", type=int, default=15, help="recent completions to show (default %(default)s)")
    p.add_argument("command", nargs="*", metavar="admin ACTION",
                   help="run an operator action instead: admin pause|resume|drain|undrain|cancel|weight")
    p.add_argument("--arg", action="append", default=[], metavar="KEY=VALUE",
                   help="argument of the admin action (repeatable; comma lists for domains)")
    return p


def fetch_stats(client: BrokerClient, recent: int) -> dict:
    reply = client.call(lambda i: StatsRequest(req_id=i, recent=recent))
    if not isinstance(reply, StatsReply):
        raise ProtocolError(f"unexpected reply {type(reply).__name__}")
    return reply.stats


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"


def render_text(stats: dict) -> str:
    """Plain-text snapshot (``--once`` without ``--json``)."""
    b, t = stats["broker"], stats["totals"]
    lines = [
        f"broker {b['host']} pid {b['pid']} up {_age(b['uptime'])}"
        f"  store {'ok' if b['store_ok'] else 'DOWN: ' + b['store_error']}{'  PAUSED' if b['paused'] else ''}",
        f"jobs: {t['live']} live, {t['queued']} queued, {t['in_flight']} in flight;"
        f" raters {t['raters']} ({t['free_slots']} free slots);"
        f" {stats['rates']['completed_per_min']} completed in the last minute",
        "",
        f"{'CLIENT IP':<40} {'QUEUED':>8} {'OWNED':>8} {'OLDEST':>8}",
    ]
    for q in stats["queues"]:
        lines.append(f"{q['ip']:<40} {q['queued']:>8} {q['outstanding']:>8} {_age(q['oldest_age']):>8}")
    lines += ["", f"{'RATER':<32} {'STATE':<9} {'JOB':<30} {'PROGRESS':<28} {'DONE':>6} {'SEEN':>7}"]
    for r in stats["raters"]:
        lines.append(f"{r['host'] + '/' + r['worker']:<32} {r['state']:<9} {r['job'][:30]:<30} "
                     f"{r['progress'][:28]:<28} {r['jobs_done']:>6} {_age(r['last_seen_age']):>7}")
    lines += ["", "RECENT"]
    for c in stats["recent"]:
        lines.append(f"  {c['domain']:<40} {c['rating']} {c['ratinginfo']:<15} {c['elapsed']:>7.2f}s {c['rater']}")
    counters = stats["counters"]
    lines += ["", "counters: " + ", ".join(f"{k}={counters[k]}" for k in sorted(counters))]
    return "\n".join(lines)


def _render_rich(stats: dict):
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    b, t = stats["broker"], stats["totals"]
    head = Text(f"SiteTruth broker {b['host']} pid {b['pid']}  up {_age(b['uptime'])}  ", style="bold")
    head.append("store ok" if b["store_ok"] else f"STORE DOWN: {b['store_error']}",
                style="green" if b["store_ok"] else "bold red")
    if b["paused"]:
        head.append("  PAUSED", style="bold yellow")
    summary = Text(f"{t['live']} jobs live, {t['queued']} queued, {t['in_flight']} in flight; "
                   f"{t['raters']} raters, {t['free_slots']} free; "
                   f"{stats['rates']['completed_per_min']}/min completed")
    queues = Table(title="queues per client IP", expand=True)
    for col in ("client ip", "queued", "owned", "oldest"):
        queues.add_column(col, justify="right" if col != "client ip" else "left")
    for q in stats["queues"][:15]:
        queues.add_row(q["ip"], str(q["queued"]), str(q["outstanding"]), _age(q["oldest_age"]))
    raters = Table(title="raters", expand=True)
    for col in ("rater", "state", "job", "progress", "done", "seen"):
        raters.add_column(col)
    colours = {"busy": "yellow", "free": "green", "draining": "magenta"}
    for r in stats["raters"]:
        raters.add_row(f"{r['host']}/{r['worker']}", Text(r["state"], style=colours.get(r["state"], "")),
                       r["job"], r["progress"], str(r["jobs_done"]), _age(r["last_seen_age"]))
    recent = Table(title="recent ratings", expand=True)
    for col in ("domain", "rating", "info", "secs", "rater"):
        recent.add_column(col)
    for c in stats["recent"]:
        recent.add_row(c["domain"], c["rating"], c["ratinginfo"], f"{c['elapsed']:.2f}", c["rater"])
    return Group(head, summary, queues, raters, recent)


def _admin(client: BrokerClient, command: list[str], pairs: list[str]) -> int:
    if len(command) != 2 or command[0] != "admin":
        print("zmq-monitor: expected 'admin ACTION'", file=sys.stderr)
        return EXIT_USAGE
    args: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            print(f"zmq-monitor: --arg needs KEY=VALUE, got {pair!r}", file=sys.stderr)
            return EXIT_USAGE
        if key == "domains":
            args[key] = [d for d in value.split(",") if d]
        elif key == "weight":
            args[key] = int(value)
        elif key == "all":
            args[key] = value.lower() in ("1", "true", "yes")
        else:
            args[key] = value
    reply = client.call(lambda i: AdminRequest(req_id=i, action=command[1], args=args))
    if isinstance(reply, ErrorReply):
        print(f"zmq-monitor: broker refused: {reply.message}", file=sys.stderr)
        return EXIT_REFUSED
    print(reply.detail)
    return EXIT_OK if reply.ok else EXIT_REFUSED


def main(argv: list[str] | None = None) -> int:
    args = parse_args(build_parser(), argv)
    client = BrokerClient(args.broker, timeout=args.timeout)
    try:
        if args.command:
            return _admin(client, args.command, args.arg)
        if args.once:
            stats = fetch_stats(client, args.recent)
            print(json.dumps(stats, indent=2, sort_keys=True) if args.json else render_text(stats))
            return EXIT_OK
        return _live(client, args)
    except BrokerUnavailable as e:
        print(f"zmq-monitor: {e}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except ProtocolError as e:
        print(f"zmq-monitor: bad reply from broker: {e}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    finally:
        client.close()


def _live(client: BrokerClient, args) -> int:
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    console = Console()
    with Live(Text("connecting..."), console=console, screen=False, auto_refresh=False) as live:
        try:
            while True:
                try:
                    live.update(_render_rich(fetch_stats(client, args.recent)), refresh=True)
                except BrokerUnavailable as e:
                    live.update(Text(f"broker unavailable: {e} (retrying)", style="bold red"), refresh=True)
                time.sleep(args.interval)
        except KeyboardInterrupt:
            return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
