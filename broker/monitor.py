"""zmq-monitor: a live, top-like view of a running broker.

Examples:

  zmq-monitor                                       live view of tcp://127.0.0.1:7710
  zmq-monitor --broker tcp://broker1:7710 --once    one plain-text snapshot
  zmq-monitor --broker tcp://b1:7710,tcp://b2:7710  brokers on one store: shows the active one
  zmq-monitor --once --json | jq .totals            the raw stats as JSON, for scripts
  zmq-monitor admin pause                           stop dispatching (queueing goes on)
  zmq-monitor admin drain --arg rater=node7/w0      a rater finishes its job and gets no more
  zmq-monitor admin cancel --arg domains=spam.example,junk.example

Admin actions and their arguments:

  pause | resume                       no arguments
  drain | undrain                      --arg rater=NAME (a rater as listed, its id or host) or --arg all=true
  cancel                               --arg domains=D1,D2,...
  weight                               --arg ip=IP --arg weight=N (N >= 1)
  rerate                               --arg rater=NAME (a key name): rate afresh all it rated

It is an ordinary client of the broker's client socket (STATS and ADMIN
requests) and needs no database access. Raters are listed by the name the
broker reports (node name and worker, e.g. node7/w0) and their process id.
--json needs --once (or an admin action, whose reply it prints as JSON):
a live view has no JSON form. Output piped into a command that stops
reading early (head) ends quietly.

Several brokers on one store (hot standby): give all their endpoints,
comma-separated. A standby answers "not active" and the request goes to the
next one, each tried at most once within --timeout; the snapshot says which
endpoint answered ("answered_by" in the JSON).

Exit codes: 0 ok, 2 usage, 3 broker unavailable, 4 admin action refused.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from protocol import AdminRequest, ErrorReply, ProtocolError, StatsReply, StatsRequest
from protocol.client import BrokerClient, BrokerUnavailable, checked_endpoints
from protocol.config import parse_args
from protocol.security import SecurityError, client_keys_from_options

__all__ = ["main", "render_text", "rater_label", "rater_state", "ADMIN_USAGE"]

EXIT_OK, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_REFUSED = 0, 2, 3, 4

# Each action's arguments as the broker expects them, checked here so a
# mistake is a usage line before anything is sent.
ADMIN_USAGE = {
    "pause": "admin pause",
    "resume": "admin resume",
    "drain": "admin drain --arg rater=NAME | --arg all=true",
    "undrain": "admin undrain --arg rater=NAME | --arg all=true",
    "cancel": "admin cancel --arg domains=D1,D2,...",
    "weight": "admin weight --arg ip=IP --arg weight=N",
    "rerate": "admin rerate --arg rater=NAME",
}


class UsageError(Exception):
    """A command line that cannot be run: printed with the usage line, exit 2."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zmq-monitor", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--broker", default="tcp://127.0.0.1:7710", metavar="ENDPOINT[,ENDPOINT...]",
                   help="the broker's client endpoint, or those of several brokers on one store, "
                        "comma-separated (default %(default)s)")
    p.add_argument("--once", action="store_true", help="print one snapshot and exit")
    p.add_argument("--json", action="store_true",
                   help="with --once: the raw stats as one JSON object; with admin: the reply as JSON")
    p.add_argument("--interval", type=float, default=1.0, metavar="S",
                   help="live view refresh interval in seconds (default %(default)s)")
    p.add_argument("--timeout", type=float, default=3.0, metavar="S",
                   help="how long to wait for the broker's answer (default %(default)s)")
    p.add_argument("--recent", type=int, default=15, metavar="N",
                   help="recent ratings to show (default %(default)s)")
    p.add_argument("--curve-secret", default=None, metavar="FILE",
                   help="this operator's CURVE secret key file (NAME.key_secret; its public file in the "
                        "broker's --admin-keys); needs --broker-public-key")
    p.add_argument("--broker-public-key", default=None, metavar="FILE",
                   help="the broker's public key file (broker.key); needs --curve-secret")
    p.add_argument("command", nargs="*", metavar="admin ACTION",
                   help="run an operator action instead: admin " + "|".join(ADMIN_USAGE))
    p.add_argument("--arg", action="append", default=[], metavar="KEY=VALUE",
                   help="argument of the admin action (repeatable; comma lists for domains)")
    return p


def fetch_stats(client: BrokerClient, recent: int) -> dict:
    reply = client.call(lambda i: StatsRequest(req_id=i, recent=recent))
    if not isinstance(reply, StatsReply):
        raise ProtocolError(f"unexpected reply {type(reply).__name__}")
    return reply.stats


def rater_label(rater: dict) -> str:
    """How a rater is shown: the name the broker reports, without the process id.

    A rater's id is ``NODE/WORKER/PID`` (the node name defaults to the host
    name; ``sitetruth-raterd --node-name`` sets it), so two nodes on one host
    are told apart by their node names; the PID is shown in its own column.
    """
    ident = str(rater.get("id") or "")
    pid = str(rater.get("pid", ""))
    head, sep, tail = ident.rpartition("/")
    if sep and head and tail == pid:
        return head
    return ident or f"{rater.get('host', '?')}/{rater.get('worker', '?')}"


def rater_state(rater: dict) -> str:
    """busy/free/draining; with the jobs held out of the capacity for a node connection (``busy 3/25``)."""
    state = rater["state"]
    if rater.get("capacity", 1) > 1:
        state += f" {rater.get('jobs', 0)}/{rater['capacity']}"
    return state


def _by_name(raters: list[dict]) -> list[dict]:
    return sorted(raters, key=lambda r: (rater_label(r), str(r.get("pid", ""))))


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"


def _tenure(b: dict) -> str:
    """", active (epoch 3) for 2 h 5 min": how long this broker has held the store's lease."""
    if b.get("role") != "active" or "epoch" not in b:
        return ""
    return f", active (epoch {b['epoch']}) for {_age(b.get('role_age', 0.0))}"


def journal_line(stats: dict) -> str:
    """Whether the broker takes new work and commits: what an operator checks first when ratings stall."""
    b, j = stats["broker"], stats.get("journal", {})
    work = "taking new work" if b.get("accepting", True) else f"NOT TAKING NEW WORK: {b.get('refusal', '')}"
    if not j.get("alive", True):
        return f"journal DEAD: {j.get('error', '')[:200]}; {work}"
    age = j.get("last_commit_age")
    stalled = j.get("stalled_for") or 0.0
    state = f"STALLED for {_age(stalled)}" if stalled >= 1.0 else "ok"
    committed = "no commit yet" if age is None else f"last commit {_age(age)} ago"
    return f"journal {state}, {committed}, backlog {j.get('backlog', 0)}; {work}"


def render_text(stats: dict, endpoint: str | None = None) -> str:
    """Plain-text snapshot (``--once`` without ``--json``); ``endpoint``: the one that answered."""
    b, t = stats["broker"], stats["totals"]
    lines = [f"answered by {endpoint}"] if endpoint else []
    lines += [
        f"broker {b['host']} pid {b['pid']} up {_age(b['uptime'])}{_tenure(b)}"
        f"  store {'ok' if b['store_ok'] else 'DOWN: ' + b['store_error']}{'  PAUSED' if b['paused'] else ''}",
        f"jobs: {t['live']} live, {t['queued']} queued, {t['in_flight']} in flight;"
        f" raters {t['raters']} ({t['free_slots']} free slots);"
        f" {stats['rates']['completed_per_min']} completed in the last minute",
        journal_line(stats),
        "",
        f"{'CLIENT IP':<40} {'QUEUED':>8} {'OWNED':>8} {'OLDEST':>8}",
    ]
    for q in stats["queues"]:
        lines.append(f"{q['ip']:<40} {q['queued']:>8} {q['outstanding']:>8} {_age(q['oldest_age']):>8}")
    lines += ["", f"{'RATER':<28} {'PID':>7} {'STATE':<12} {'JOB':<30} {'PROGRESS':<24} {'DONE':>6} {'SEEN':>7}"]
    for r in _by_name(stats["raters"]):
        state = rater_state(r) + ("*" if r.get("draining") and r["state"] != "draining" else "")
        lines.append(f"{rater_label(r)[:28]:<28} {r['pid']:>7} {state:<12} {r['job'][:30]:<30} "
                     f"{r['progress'][:24]:<24} {r['jobs_done']:>6} {_age(r['last_seen_age']):>7}")
    if t["raters"] > len(stats["raters"]):
        lines.append(f"... and {t['raters'] - len(stats['raters'])} more raters")
    lines += ["", "RECENT"]
    for c in stats["recent"]:
        lines.append(f"  {c['domain']:<40} {c['rating']} {c['ratinginfo']:<15} {c['elapsed']:>7.2f}s {c['rater']}")
    counters = stats["counters"]
    lines += ["", "counters: " + ", ".join(f"{k}={counters[k]}" for k in sorted(counters))]
    return "\n".join(lines)


def _render_rich(stats: dict, endpoint: str | None = None):
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    b, t = stats["broker"], stats["totals"]
    head = Text(f"SiteTruth broker {b['host']} pid {b['pid']}  up {_age(b['uptime'])}{_tenure(b)}  ", style="bold")
    head.append("store ok" if b["store_ok"] else f"STORE DOWN: {b['store_error']}",
                style="green" if b["store_ok"] else "bold red")
    if b["paused"]:
        head.append("  PAUSED", style="bold yellow")
    if endpoint:
        head.append(f"  at {endpoint}")
    summary = Text(f"{t['live']} jobs live, {t['queued']} queued, {t['in_flight']} in flight; "
                   f"{t['raters']} raters, {t['free_slots']} free; "
                   f"{stats['rates']['completed_per_min']}/min completed")
    line = journal_line(stats)
    journal = Text(line, style="bold red" if any(w in line for w in ("DEAD", "STALLED", "NOT TAKING")) else "green")
    queues = Table(title="queues per client IP", expand=True)
    for col in ("client ip", "queued", "owned", "oldest"):
        queues.add_column(col, justify="right" if col != "client ip" else "left")
    for q in stats["queues"][:15]:
        queues.add_row(q["ip"], str(q["queued"]), str(q["outstanding"]), _age(q["oldest_age"]))
    unlisted = t["raters"] - len(stats["raters"])
    raters = Table(title="raters (node/worker)" + (f", {unlisted} more not listed" if unlisted > 0 else ""),
                   expand=True)
    for col in ("rater", "pid", "state", "job", "progress", "done", "seen"):
        raters.add_column(col)
    colours = {"busy": "yellow", "free": "green", "draining": "magenta"}
    for r in _by_name(stats["raters"]):
        raters.add_row(rater_label(r), str(r["pid"]), Text(rater_state(r), style=colours.get(r["state"], "")),
                       r["job"], r["progress"], str(r["jobs_done"]), _age(r["last_seen_age"]))
    recent = Table(title="recent ratings", expand=True)
    for col in ("domain", "rating", "info", "secs", "rater"):
        recent.add_column(col)
    for c in stats["recent"]:
        recent.add_row(c["domain"], c["rating"], c["ratinginfo"], f"{c['elapsed']:.2f}", c["rater"])
    return Group(head, summary, journal, queues, raters, recent)


def admin_request(command: list[str], pairs: list[str]) -> tuple[str, dict]:
    """``admin ACTION`` and its ``--arg KEY=VALUE`` pairs as (action, args); UsageError if they don't fit."""
    if not command or command[0] != "admin" or len(command) != 2:
        raise UsageError("expected 'admin ACTION' (ACTION one of " + ", ".join(ADMIN_USAGE) + ")")
    action = command[1]
    if action not in ADMIN_USAGE:
        raise UsageError(f"unknown admin action {action!r}; known: {', '.join(ADMIN_USAGE)}")
    usage = f"usage: zmq-monitor {ADMIN_USAGE[action]}"
    args: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--arg needs KEY=VALUE, got {pair!r}\n{usage}")
        if key == "domains":
            args[key] = [d.strip() for d in value.split(",") if d.strip()]
        elif key == "weight":
            try:
                args[key] = int(value)
            except ValueError:
                raise UsageError(f"--arg weight={value}: not a whole number\n{usage}") from None
        elif key == "all":
            args[key] = value.lower() in ("1", "true", "yes")
        else:
            args[key] = value
    allowed = {"pause": set(), "resume": set(), "drain": {"rater", "all"}, "undrain": {"rater", "all"},
               "cancel": {"domains"}, "weight": {"ip", "weight"}, "rerate": {"rater"}}[action]
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise UsageError(f"admin {action} takes no {', '.join(unknown)} argument\n{usage}")
    complete = {"drain": bool(args.get("rater")) or args.get("all") is True,
                "cancel": bool(args.get("domains")),
                "weight": bool(args.get("ip")) and "weight" in args,
                "rerate": bool(args.get("rater"))}
    complete["undrain"] = complete["drain"]
    if not complete.get(action, True):
        raise UsageError(usage)
    if action == "weight" and args["weight"] < 1:
        raise UsageError(f"--arg weight must be at least 1\n{usage}")
    return action, args


def _admin(client: BrokerClient, action: str, args: dict, as_json: bool) -> int:
    targets = [args]
    if action in ("drain", "undrain") and args.get("rater"):
        # A rater as listed (node/worker) is one or more full ids at the broker.
        named = args["rater"]
        ids = [r["id"] for r in fetch_stats(client, 0)["raters"] if rater_label(r) == named and r["id"] != named]
        if ids:
            targets = [dict(args, rater=rid) for rid in ids]
    replies = []
    for target in targets:
        reply = client.call(lambda i, a=target: AdminRequest(req_id=i, action=action, args=a))
        if isinstance(reply, ErrorReply):
            print(f"zmq-monitor: broker refused: {reply.message}", file=sys.stderr)
            return EXIT_REFUSED
        replies.append(reply)
    ok = all(r.ok for r in replies)
    for reply in replies:
        if as_json:
            print(json.dumps({"ok": reply.ok, "detail": reply.detail, "data": reply.data}, sort_keys=True))
        else:
            print(reply.detail)
    return EXIT_OK if ok else EXIT_REFUSED


def _check_endpoints(text: str) -> tuple[str, ...]:
    """A malformed --broker (or one entry of the list) is a usage error, not a ZMQError traceback."""
    try:
        return checked_endpoints(text)
    except ValueError as e:
        raise UsageError(f"--broker {e}") from None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parse_args(parser, argv)
    try:
        return _run(args)
    except UsageError as e:
        print(f"zmq-monitor: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (``| head``): nothing left to say to it. Point
        # stdout at /dev/null so the interpreter's final flush is quiet too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    action = None
    if args.command:
        action, admin_args = admin_request(args.command, args.arg)
    elif args.arg:
        raise UsageError("--arg belongs to an admin action (zmq-monitor admin ACTION --arg KEY=VALUE)")
    if args.json and not (args.once or action):
        raise UsageError("--json needs --once (a live view has no JSON form): zmq-monitor --once --json")
    if args.timeout <= 0 or args.interval <= 0:
        raise UsageError("--timeout and --interval must be positive")
    try:
        curve = client_keys_from_options(args.curve_secret or None, args.broker_public_key or None)
    except SecurityError as e:
        raise UsageError(str(e)) from None
    client = BrokerClient(_check_endpoints(args.broker), timeout=args.timeout, curve=curve)
    try:
        if action:
            return _admin(client, action, admin_args, args.json)
        if args.once:
            stats = fetch_stats(client, args.recent)
            # The client remembers the endpoint that answered: with several brokers, the active one.
            if args.json:
                text = json.dumps({**stats, "answered_by": client.endpoint}, indent=2, sort_keys=True)
            else:
                text = render_text(stats, client.endpoint)
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
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
                    stats = fetch_stats(client, args.recent)
                    live.update(_render_rich(stats, client.endpoint), refresh=True)
                except BrokerUnavailable as e:
                    live.update(Text(f"broker unavailable: {e} (retrying)", style="bold red"), refresh=True)
                time.sleep(args.interval)
        except KeyboardInterrupt:
            return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
