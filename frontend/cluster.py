"""``sitetruth-cluster``: a whole single-machine cluster in one command.

Examples::

    sitetruth-cluster --demo                  # SQLite ./sitetruth.db, demo sites on loopback
    sitetruth-cluster --workers 4             # rate real sites (needs internet access)
    sitetruth-cluster --store mysql://st:pw@127.0.0.1/sitetruth --listen 0.0.0.0:8080

It migrates the store, starts ``sitetruth-broker``, ``sitetruth-raterd
--workers N`` and ``sitetruth-frontend`` as child processes (their output
is shown with a ``[name]`` prefix), prints the URLs, and on Ctrl-C or SIGTERM
stops them in order (frontend, raters, broker) and waits for each. If any
child dies, the others are stopped and the exit code is 1.

``--demo`` also serves a few small businesses' sites on a loopback port and
points the raters at them (``--resolve NAME:127.0.0.1`` plus the port), and
imports a one-company business register, so the ratings A, Q, X and U can be
seen without any internet access (see :mod:`frontend.demo`).

This module starts the other components only as commands: it imports
nothing of theirs, as the layout rules require.

Exit codes: 0 clean stop, 1 a component failed, 2 usage, 3 store unavailable.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from protocol.config import parse_args
from store import DEFAULT_STORE_URL, StoreConfigError, StoreError, open_store

from .demo import DEMO_REGISTER_CSV, DEMO_SITES, DemoSites

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STORE = 0, 1, 2, 3
_READY_TIMEOUT = 60.0
_STOP_TIMEOUT = 20.0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sitetruth-cluster", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", default=DEFAULT_STORE_URL, help="store URL (default %(default)s)")
    p.add_argument("--workers", type=int, default=2, help="rater worker processes (default %(default)s)")
    p.add_argument("--demo", action="store_true", help="serve demo sites on loopback and rate those")
    p.add_argument("--listen", default="127.0.0.1:8080", help="frontend HTTP address (default %(default)s)")
    p.add_argument("--bind-clients", default="tcp://127.0.0.1:7710", help="broker client endpoint (default %(default)s)")
    p.add_argument("--bind-raters", default="tcp://127.0.0.1:7711", help="broker rater endpoint (default %(default)s)")
    p.add_argument("--max-jobs", type=int, default=100, help="ratings per worker before it is recycled (default %(default)s)")
    p.add_argument("--nice", type=int, default=10, help="niceness of rater workers (default %(default)s)")
    p.add_argument("--resolve", action="append", default=[], metavar="NAME:ADDR",
                   help="map a site name to an address for the raters (repeatable)")
    p.add_argument("--hosts", default="", metavar="FILE", help="hosts-format file of name mappings for the raters")
    p.add_argument("--ca-bundle", default="", metavar="FILE", help="extra trusted CAs for the raters")
    p.add_argument("--log-level", default="INFO", help="log level of every component (default %(default)s)")
    return p


class _Child:
    """One component process; its output is echoed with a prefix and watched for a ready line."""

    def __init__(self, name: str, args: list[str], ready_text: str | None) -> None:
        self.name = name
        self.ready = threading.Event()
        self.ready_text = ready_text
        self.ready_line = ""
        # A session of its own: Ctrl-C in the terminal reaches only us, and we
        # stop the children one by one in order (a second signal would make
        # raterd's supervisor kill its workers at once).
        self.popen = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, text=True, errors="replace", bufsize=1,
                                      env=dict(os.environ, PYTHONUNBUFFERED="1"), start_new_session=True)
        if ready_text is None:
            self.ready.set()
        self._reader = threading.Thread(target=self._echo, name=f"echo-{name}", daemon=True)
        self._reader.start()

    def _echo(self) -> None:
        for line in self.popen.stdout:
            line = line.rstrip("\n")
            print(f"[{self.name}] {line}", flush=True)
            if self.ready_text and not self.ready.is_set() and self.ready_text in line:
                self.ready_line = line
                self.ready.set()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float) -> int | None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            print(f"[cluster] {self.name} did not stop within {timeout:.0f} s: killing it", flush=True)
            self.popen.kill()
            self.popen.wait(5)
        self._reader.join(2)
        return self.popen.returncode


def _closed_port() -> int:
    """A loopback port with nothing listening (the demo has no HTTPS: raters fall back to http)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare_demo(workdir: str) -> tuple[DemoSites, list[str]]:
    sites = DemoSites().start()
    register = os.path.join(workdir, "demo-register.csv")
    with open(register, "w", encoding="utf-8") as f:
        f.write(DEMO_REGISTER_CSV)
    sources = os.path.join(workdir, "demo-sources.db")
    subprocess.run([sys.executable, "-m", "raterd.sources.cli", "--sources", sources, "-q",
                    "import", "companies-house", register], check=True, timeout=60)
    rater_args = ["--sources", sources, "--http-port", str(sites.port), "--https-port", str(_closed_port()),
                  "--gleif-url", ""]
    for name in DEMO_SITES:
        rater_args += ["--resolve", f"{name}:127.0.0.1", "--resolve", f"www.{name}:127.0.0.1"]
    return sites, rater_args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(build_parser(), argv)
    try:
        with open_store(args.store) as store:
            applied = store.migrate()
    except StoreConfigError as e:
        print(f"sitetruth-cluster: {e}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as e:
        print(f"sitetruth-cluster: store unavailable: {e}", file=sys.stderr)
        return EXIT_STORE
    print(f"[cluster] store {args.store} ready" + (f" (migrations {applied} applied)" if applied else ""),
          flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    workdir = tempfile.mkdtemp(prefix="sitetruth-cluster-")
    demo: DemoSites | None = None
    children: list[_Child] = []
    py = sys.executable
    try:
        rater_extra: list[str] = []
        if args.demo:
            demo, rater_extra = _prepare_demo(workdir)
            print(f"[cluster] demo sites on http://127.0.0.1:{demo.port}: {', '.join(DEMO_SITES)}", flush=True)
        for mapping in args.resolve:
            rater_extra += ["--resolve", mapping]
        for flag, value in (("--hosts", args.hosts), ("--ca-bundle", args.ca_bundle)):
            if value:
                rater_extra += [flag, value]
        log = ["--log-level", args.log_level]
        children.append(_Child("broker", [py, "-m", "broker.cli", "--store", args.store,
                                          "--bind-clients", args.bind_clients, "--bind-raters", args.bind_raters,
                                          *log], "broker listening"))
        if not _wait_ready(children, stop):
            return _shutdown(children, demo, EXIT_FAILED)
        children.append(_Child("raterd", [py, "-m", "raterd.cli", "--broker", _connectable(args.bind_raters),
                                          "--workers", str(args.workers), "--max-jobs", str(args.max_jobs),
                                          "--nice", str(args.nice), *rater_extra, *log], None))
        children.append(_Child("frontend", [py, "-m", "frontend.cli", "--listen", args.listen,
                                            "--broker", _connectable(args.bind_clients), "--store", args.store,
                                            *log], "frontend listening on"))
        if not _wait_ready(children, stop):
            return _shutdown(children, demo, EXIT_FAILED)
        url = children[-1].ready_line.split("frontend listening on", 1)[1].strip()
        example = next(iter(DEMO_SITES)) if args.demo else "example.com"
        print(f"""
SiteTruth cluster is up (Ctrl-C stops it):
  API      {url}/api/v3/rate?url={example}&format=json
  status   {url}/status
  details  {url}/rating/{example}
  monitor  zmq-monitor --broker {_connectable(args.bind_clients)}
""", flush=True)
        while not stop.is_set():
            for child in children:
                if not child.alive():
                    print(f"[cluster] {child.name} exited with {child.popen.returncode}: stopping the cluster",
                          flush=True)
                    return _shutdown(children, demo, EXIT_FAILED)
            stop.wait(0.5)
        return _shutdown(children, demo, EXIT_OK)
    except subprocess.SubprocessError as e:
        print(f"sitetruth-cluster: {e}", file=sys.stderr)
        return _shutdown(children, demo, EXIT_FAILED)


def _connectable(endpoint: str) -> str:
    """A bind endpoint as peers connect to it (``tcp://*:7710`` -> ``tcp://127.0.0.1:7710``)."""
    return endpoint.replace("://*:", "://127.0.0.1:").replace("://0.0.0.0:", "://127.0.0.1:")


def _wait_ready(children: list[_Child], stop: threading.Event) -> bool:
    end = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < end and not stop.is_set():
        if all(c.ready.is_set() for c in children):
            return True
        for c in children:
            if not c.alive():
                print(f"[cluster] {c.name} exited with {c.popen.returncode} while starting", flush=True)
                return False
        time.sleep(0.05)
    if not stop.is_set():
        late = [c.name for c in children if not c.ready.is_set()]
        print(f"[cluster] {', '.join(late)} not ready after {_READY_TIMEOUT:.0f} s", flush=True)
    return False


def _shutdown(children: list[_Child], demo: DemoSites | None, code: int) -> int:
    for child in reversed(children):          # frontend, raters, then the broker flushes its journal
        rc = child.stop(_STOP_TIMEOUT)
        print(f"[cluster] {child.name} stopped ({rc})", flush=True)
    if demo is not None:
        demo.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
