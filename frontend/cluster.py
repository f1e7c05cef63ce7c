"""sitetruth-cluster: a whole single-machine cluster in one command.

Examples:

  sitetruth-cluster --demo              demo sites on loopback, rated without internet access
  sitetruth-cluster --workers 4         rate real sites (needs internet access)
  sitetruth-cluster --store mysql://st:pw@127.0.0.1/sitetruth --listen 0.0.0.0:8080

It migrates the store and starts sitetruth-broker, sitetruth-raterd and
sitetruth-frontend as child processes. Every line of their output is shown
prefixed with the process it came from ("broker   | ..."), each prints one
"listening" line, and once a rater has registered the launcher prints the
URLs of the API, the status page and the metrics, a curl command to try
and the zmq-monitor command, each working as printed. Ctrl-C or SIGTERM
stops the children in order (frontend, raters, broker) and waits for each;
if any child dies the others are stopped and the exit code is 1. The
children also stop by themselves if the launcher is killed outright.

The processes talk CURVE: on first start a key set is made in the state
directory (keys/: the broker's pair, one pair per role, the broker's role
directories), reused afterwards; the printed zmq-monitor and add-node
commands carry the flags for it (docs/security.md).

--demo serves a few small businesses' sites on loopback and imports a
one-company business register, so the ratings A, Q, X and U can be seen
without any internet access. Its store (demo.db) and files live in the
launcher's state directory, --state-dir (default $XDG_STATE_HOME/sitetruth-cluster,
else ~/.local/state/sitetruth-cluster), never in ./sitetruth.db, unless --store
is given. Only the demo's own names
are mapped to the demo sites: any other domain is fetched from the internet.
The demo sites listen on port 80 of a loopback address of their own when
this process may bind it (root or CAP_NET_BIND_SERVICE); otherwise they use
a high port, and each demo name is mapped with that port (--resolve
NAME:ADDR:PORT), so the raters look for the demo's sites there and for every
other site on 80/443 as usual.

Exit codes: 0 clean stop, 1 a component failed, 2 usage, 3 store unavailable.
"""

from __future__ import annotations

import argparse
import collections
import os
import shlex
import signal
import subprocess
import sys
import threading
import time

from protocol.config import parse_args, program_parser
from protocol.keygen import ensure_cluster_keys
from protocol.security import SecurityError
from store import DEFAULT_STORE_URL, StoreConfigError, StoreError, open_store

from .demo import DEMO_REGISTER_CSV, DEMO_SITES, DemoSites

__all__ = ["main", "build_parser", "default_state_dir"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_STORE = 0, 1, 2, 3
_READY_TIMEOUT = 60.0
_STOP_TIMEOUT = 20.0
_GUARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_childguard.py")
_PREFIX_WIDTH = 8
# Loopback addresses tried for the demo sites on port 80 (one each, so a
# second demo on the same machine takes the next one).
_DEMO_ADDRESSES = tuple(f"127.83.0.{i}" for i in range(1, 9))
_print_lock = threading.Lock()


def default_state_dir() -> str:
    """Where the launcher keeps its own files (the demo's store and sources) unless --state-dir says."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "sitetruth-cluster")


def build_parser() -> argparse.ArgumentParser:
    p = program_parser("sitetruth-cluster", __doc__)
    p.add_argument("--store", default=None, metavar="URL",
                   help=f"store URL (default: {DEFAULT_STORE_URL}; with --demo, demo.db in --state-dir)")
    p.add_argument("--workers", type=int, default=2, metavar="N",
                   help="rater worker processes (default: %(default)s)")
    p.add_argument("--demo", action="store_true", help="serve demo sites on loopback and rate those")
    p.add_argument("--state-dir", default=None, metavar="DIR",
                   help="the launcher's own files: the demo's store, register and sources index "
                        "(default: $XDG_STATE_HOME/sitetruth-cluster or ~/.local/state/sitetruth-cluster)")
    p.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT",
                   help="frontend HTTP address (default: %(default)s)")
    p.add_argument("--bind-clients", default="tcp://127.0.0.1:7710", metavar="ENDPOINT",
                   help="broker client endpoint (default: %(default)s)")
    p.add_argument("--bind-raters", default="tcp://127.0.0.1:7711", metavar="ENDPOINT",
                   help="broker rater endpoint (default: %(default)s)")
    p.add_argument("--max-jobs", type=int, default=100, metavar="N",
                   help="ratings per worker before it is recycled (default: %(default)s)")
    p.add_argument("--nice", type=int, default=10, metavar="N", help="niceness of rater workers (default: %(default)s)")
    p.add_argument("--resolve", action="append", default=[], metavar="NAME:ADDR[:PORT]",
                   help="map a site name to an address for the raters (repeatable; trusted only for that site)")
    p.add_argument("--hosts", default="", metavar="FILE", help="hosts-format file of name mappings for the raters")
    p.add_argument("--ca-bundle", default="", metavar="FILE", help="extra trusted CAs for the raters")
    p.add_argument("--raterd-metrics", default="127.0.0.1:0", metavar="HOST:PORT",
                   help="the rater node's Prometheus endpoint (default: %(default)s, any free port; '' for none)")
    return p


def say(name: str, text: str) -> None:
    """One line of the cluster's log, prefixed with the process it came from."""
    with _print_lock:
        print(f"{name:<{_PREFIX_WIDTH}} | {text}", flush=True)


def command_path(script: str, module: str) -> str:
    """How to run one of our commands from any shell: the venv's script by full path, or ``python -m``."""
    path = os.path.join(os.path.dirname(sys.executable), script)
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return shlex.quote(path)
    return f"{shlex.quote(sys.executable)} -m {module}"


class _Child:
    """One component process; its output is echoed with a prefix and watched for a ready line."""

    def __init__(self, name: str, module: str, args: list[str], ready_text: str | None) -> None:
        self.name = name
        self.ready = threading.Event()
        self.ready_text = ready_text
        self.ready_line = ""
        self._lines: collections.deque[str] = collections.deque(maxlen=200)
        # A session of its own: Ctrl-C in the terminal reaches only us, and we
        # stop the children one by one in order (a second signal would make
        # raterd's supervisor kill its workers at once). The guard makes it
        # stop by itself if we are killed (see frontend/_childguard.py).
        command = [sys.executable, "-P", _GUARD, str(os.getpid()), module, *args]
        self.popen = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, text=True, errors="replace", bufsize=1,
                                      env=dict(os.environ, PYTHONUNBUFFERED="1"), start_new_session=True)
        if ready_text is None:
            self.ready.set()
        self._reader = threading.Thread(target=self._echo, name=f"echo-{name}", daemon=True)
        self._reader.start()

    def _echo(self) -> None:
        for line in self.popen.stdout:
            line = line.rstrip("\n")
            self._lines.append(line)
            say(self.name, line)
            if self.ready_text and not self.ready.is_set() and self.ready_text in line:
                self.ready_line = line
                self.ready.set()

    def seen(self) -> list[str]:
        """The last lines it printed."""
        return list(self._lines)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float) -> int | None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            say("cluster", f"{self.name} did not stop within {timeout:.0f} s: killing it")
            self.popen.kill()
            self.popen.wait(5)
        self._reader.join(2)
        return self.popen.returncode


def _start_demo_sites() -> DemoSites:
    """The demo sites on port 80 of a loopback address of their own if we may bind it, else a high port."""
    for address in _DEMO_ADDRESSES:
        try:
            return DemoSites(port=80, address=address).start()
        except PermissionError:
            break                                  # not privileged: no port 80 on any address
        except OSError:
            continue                               # taken (another demo) or no such address here
    return DemoSites().start()


def _prepare_demo(state_dir: str, hosts_file: bool) -> tuple[DemoSites, list[str]]:
    """Start the demo sites and build their sources index; the raterd flags that point at them.

    With *hosts_file* the demo names go into ``demo-hosts`` in the state
    directory (one ``--hosts`` flag, short enough to print for a second
    node); otherwise into ``--resolve`` flags.
    """
    os.makedirs(state_dir, exist_ok=True)
    register = os.path.join(state_dir, "demo-register.csv")
    with open(register, "w", encoding="utf-8") as f:
        f.write(DEMO_REGISTER_CSV)
    sources = os.path.join(state_dir, "demo-sources.db")
    # Built afresh every run from the register above (it is tiny), so an
    # interrupted import last time leaves nothing behind to trip over.
    for stale in (sources, *(sources + suffix for suffix in ("-journal", "-wal", "-shm", ".import-lock"))):
        if os.path.exists(stale):
            os.unlink(stale)
    done = subprocess.run([sys.executable, "-m", "raterd.sources.cli", "--sources", sources, "-q",
                           "import", "companies-house", register], capture_output=True, text=True, timeout=120)
    for line in (done.stdout + done.stderr).splitlines():
        say("demo", line)
    if done.returncode != 0:
        raise subprocess.SubprocessError(f"importing the demo register failed with status {done.returncode}")
    sites = _start_demo_sites()
    rater_args = ["--sources", sources, "--gleif-url", ""]
    if sites.port != 80:
        # A hosts file names no ports: each demo name is mapped with the port its site is
        # served on, and every other site is still looked for on 80/443.
        for name in DEMO_SITES:
            rater_args += ["--resolve", f"{name}:{sites.address}:{sites.port}",
                           "--resolve", f"www.{name}:{sites.address}:{sites.port}"]
    elif hosts_file:
        hosts = os.path.join(state_dir, "demo-hosts")
        with open(hosts, "w", encoding="utf-8") as f:
            f.write("# the demo sites of sitetruth-cluster --demo (rewritten at every start)\n")
            f.writelines(f"{sites.address} {name} www.{name}\n" for name in DEMO_SITES)
        rater_args += ["--hosts", hosts]
    else:
        for name in DEMO_SITES:
            rater_args += ["--resolve", f"{name}:{sites.address}", "--resolve", f"www.{name}:{sites.address}"]
    return sites, rater_args


def _store_url(args: argparse.Namespace) -> str:
    if args.store:
        return args.store
    if args.demo:
        return "sqlite:///" + os.path.abspath(os.path.join(args.state_dir, "demo.db"))
    return DEFAULT_STORE_URL


def main(argv: list[str] | None = None) -> int:
    args = parse_args(build_parser(), argv)
    if args.workers < 1:
        print("sitetruth-cluster: --workers must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    args.state_dir = os.path.abspath(args.state_dir or default_state_dir())
    store = _store_url(args)
    try:
        if args.demo and not args.store:
            os.makedirs(args.state_dir, exist_ok=True)
        with open_store(store) as opened:
            applied = opened.migrate()
    except StoreConfigError as e:
        print(f"sitetruth-cluster: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (StoreError, OSError) as e:
        print(f"sitetruth-cluster: store unavailable: {e}", file=sys.stderr)
        return EXIT_STORE
    say("cluster", f"store {store} ready" + (f" (migrations {applied} applied)" if applied else ""))
    try:
        # CURVE between every process, with a key set made here on first start.
        keys = ensure_cluster_keys(args.state_dir)
    except (SecurityError, OSError) as e:
        print(f"sitetruth-cluster: cannot make or read the key set in {args.state_dir}/keys: {e}", file=sys.stderr)
        return EXIT_FAILED
    say("cluster", f"CURVE keys in {keys.rater_keys.parent}")
    cluster = _Cluster(args, store, keys)
    signal.signal(signal.SIGTERM, lambda *_: cluster.stop.set())
    signal.signal(signal.SIGINT, lambda *_: cluster.stop.set())
    try:
        return cluster.run()
    except (subprocess.SubprocessError, OSError) as e:
        say("cluster", f"cannot start: {e}")
        return EXIT_FAILED
    finally:
        cluster.shutdown()


class _Cluster:
    """The children and the demo sites of one run; :meth:`shutdown` undoes whatever :meth:`run` got to."""

    def __init__(self, args: argparse.Namespace, store: str, keys) -> None:
        self.args, self.store, self.keys = args, store, keys
        self.stop = threading.Event()
        self.children: list[_Child] = []
        self.demo: DemoSites | None = None
        self.demo_flags: list[str] = []     # what another rater node needs to rate the demo sites

    def run(self) -> int:
        args = self.args
        rater_extra: list[str] = []
        if args.demo:
            self.demo, rater_extra = _prepare_demo(args.state_dir, hosts_file=not args.hosts)
            self.demo_flags = list(rater_extra)
            say("demo", f"listening on http://{self.demo.address}:{self.demo.port}: {', '.join(DEMO_SITES)}")
            if self.demo.port != 80:
                say("demo", f"port 80 could not be bound: the demo's names are mapped to port {self.demo.port}, "
                            "every other site is looked for on 80/443 as usual")
        for mapping in args.resolve:
            rater_extra += ["--resolve", mapping]
        for flag, value in (("--hosts", args.hosts), ("--ca-bundle", args.ca_bundle),
                            ("--metrics", args.raterd_metrics)):
            if value:
                rater_extra += [flag, value]
        log = ["--log-level", args.log_level]
        clients, raters = _connectable(args.bind_clients), _connectable(args.bind_raters)
        keys = self.keys
        broker_keys = ["--curve-secret", str(keys.broker_secret), "--rater-keys", str(keys.rater_keys),
                       "--client-keys", str(keys.client_keys), "--admin-keys", str(keys.admin_keys)]
        self.children.append(_Child("broker", "broker.cli", [
            "--store", self.store, "--bind-clients", args.bind_clients, "--bind-raters", args.bind_raters,
            *broker_keys, *log], "broker listening"))
        if not _wait_ready(self.children, self.stop):
            return EXIT_OK if self.stop.is_set() else EXIT_FAILED
        raterd = _Child("raterd", "raterd.cli", [
            "--broker", raters, "--workers", str(args.workers), "--max-jobs", str(args.max_jobs),
            "--nice", str(args.nice), *rater_extra, *_peer_keys(keys.rater_secret, keys), *log],
            "registered with the broker")
        self.children.append(raterd)
        self.children.append(_Child("frontend", "frontend.cli", [
            "--listen", args.listen, "--broker", clients, "--store", self.store,
            *_peer_keys(keys.client_secret, keys), *log], "frontend listening on"))
        if not _wait_ready(self.children, self.stop):
            return EXIT_OK if self.stop.is_set() else EXIT_FAILED
        url = self.children[-1].ready_line.split("frontend listening on", 1)[1].strip()
        metrics = [f"{url}/metrics (frontend)"]
        for line in raterd.seen():
            if "/metrics" in line and "http://" in line:
                metrics.append("http://" + line.split("http://", 1)[1].split()[0] + " (raterd)")
                break
        _banner(args, self.store, url, clients, metrics,
                _node_flags(args, self.demo_flags, raters) + _peer_keys(keys.rater_secret, keys),
                _peer_keys(keys.admin_secret, keys))
        while not self.stop.is_set():
            for child in self.children:
                if not child.alive():
                    say("cluster", f"{child.name} exited with {child.popen.returncode}: stopping the cluster")
                    return EXIT_FAILED
            self.stop.wait(0.5)
        return EXIT_OK

    def shutdown(self) -> None:
        for child in reversed(self.children):      # frontend, raters, then the broker flushes its journal
            rc = child.stop(_STOP_TIMEOUT)
            say("cluster", f"{child.name} stopped ({rc})")
        self.children.clear()
        if self.demo is not None:
            self.demo.stop()
            self.demo = None


def _peer_keys(secret, keys) -> list[str]:
    """The flags a peer (raterd, frontend, zmq-monitor) needs to talk to this cluster's broker."""
    return ["--curve-secret", str(secret), "--broker-public-key", str(keys.broker_public)]


def _node_flags(args: argparse.Namespace, demo_flags: list[str], raters: str) -> list[str]:
    """The sitetruth-raterd flags a second node needs to rate what this cluster's node rates."""
    flags = ["--broker", raters, *demo_flags]
    for mapping in args.resolve:
        flags += ["--resolve", mapping]
    for flag, value in (("--hosts", args.hosts), ("--ca-bundle", args.ca_bundle)):
        if value:
            flags += [flag, value]
    return flags


def _banner(args: argparse.Namespace, store: str, url: str, clients: str, metrics: list[str],
            node_flags: list[str], monitor_flags: list[str]) -> None:
    if args.demo:
        names = list(DEMO_SITES)
        query = "&".join(f"url={n}" for n in names[:2])
        example = names[0]
    else:
        query, example = "url=example.com", "example.com"
    monitor = command_path("zmq-monitor", "broker.monitor")
    lines = [
        "SiteTruth cluster is up (Ctrl-C stops it)",
        f"  API      {url}/api/v3/rate?{query}&format=json",
        f"  try      curl '{url}/api/v3/rate?{query}&format=json'",
        "           (first answer W / status 202: being rated; ask again in a few seconds for the letter)",
        f"  details  {url}/rating/{example}",
        f"  status   {url}/status",
        f"  metrics  {', '.join(metrics)}",
        f"  monitor  {monitor} --broker {clients} {shlex.join(monitor_flags)}",
        f"  add node {command_path('sitetruth-raterd', 'raterd.cli')} --node-name node2 --workers 1 "
        + shlex.join(node_flags),
        f"  store    {store}",
    ]
    if args.demo and not args.store:
        lines.append(f"  demo     files in {args.state_dir} (delete demo.db there to start afresh)")
    for line in lines:
        say("cluster", line)


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
                say("cluster", f"{c.name} exited with {c.popen.returncode} while starting")
                return False
        time.sleep(0.05)
    if not stop.is_set():
        late = [c.name for c in children if not c.ready.is_set()]
        say("cluster", f"{', '.join(late)} not ready after {_READY_TIMEOUT:.0f} s")
    return False


if __name__ == "__main__":
    sys.exit(main())
