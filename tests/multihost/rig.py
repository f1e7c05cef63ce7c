"""Several "hosts" on one machine: network namespaces joined by veth pairs and a bridge.

Each host is a network namespace with one interface, ``eth0``, whose peer
sits on a bridge in a switch namespace of its own. Nothing is added to the
machine's own namespace, so no process of the rig can reach anything but the
rig's hosts, and nothing outside can reach them. Addresses come from
198.18.0.0/15 (RFC 2544, set aside for benchmark networks) and exist only
inside the rig.

A host's link is cut by taking its port on the bridge down: its processes
keep running and see the network disappear, which is what a pulled cable or
a failed switch port looks like. The path between two hosts alone is cut by
a blackhole route on each side (packets between them vanish, both ways,
while each still reaches every other host): a broken route or a firewall
rule in the middle. (``tc netem`` is not used: the kernels these tests run
on may lack it.)

Filesystem, process ids and UTS names are shared with the machine: a UNIX
socket (MariaDB's) is reachable from the test process directly, and
processes tell their nodes apart by ``--node-name``, not by ``hostname``.

Needs root and ``ip`` (iproute2). Every namespace, link and process is
removed by :meth:`Rig.close`, also after a failed test.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from tests.support.processes import ROOT, Proc

__all__ = ["Host", "Rig", "rig_available", "SUBNET"]

SUBNET = "198.18.77"


def rig_available() -> str | None:
    """None if the rig can be built here, else the reason it cannot."""
    if os.geteuid() != 0:
        return "the multi-host rig needs root (network namespaces)"
    if shutil.which("ip") is None:
        return "the multi-host rig needs iproute2 (ip)"
    return None


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20, check=check)


@dataclass(frozen=True)
class Host:
    name: str      # the role in the rig: "db", "broker-a", "rater-1", ...
    ns: str        # its network namespace
    addr: str      # its one address
    port: str      # its port on the bridge (in the switch namespace)


class Rig:
    """The hosts of one test. Use as a context manager."""

    def __init__(self, names: list[str], workdir: str) -> None:
        self.workdir = workdir
        tag = f"st{os.getpid() % 100000}"
        self._switch = f"{tag}-sw"
        self.hosts: dict[str, Host] = {}
        for i, name in enumerate(names, start=10):
            self.hosts[name] = Host(name, f"{tag}-{name}", f"{SUBNET}.{i}", f"{tag}p{i}")
        self._procs: list[Proc] = []

    # -- building and tearing down ----------------------------------------------

    def __enter__(self) -> "Rig":
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _build(self) -> None:
        _ip("netns", "add", self._switch)
        _ip("-n", self._switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self._switch, "link", "set", "br0", "up")
        for h in self.hosts.values():
            _ip("netns", "add", h.ns)
            _ip("link", "add", f"{h.port}e", "type", "veth", "peer", "name", h.port)
            _ip("link", "set", f"{h.port}e", "netns", h.ns)
            _ip("link", "set", h.port, "netns", self._switch)
            _ip("-n", self._switch, "link", "set", h.port, "master", "br0", "up")
            _ip("-n", h.ns, "link", "set", f"{h.port}e", "name", "eth0")
            _ip("-n", h.ns, "addr", "add", f"{h.addr}/24", "dev", "eth0")
            _ip("-n", h.ns, "link", "set", "eth0", "up")
            _ip("-n", h.ns, "link", "set", "lo", "up")

    def close(self) -> None:
        for p in self._procs:
            p.kill()
        for ns in [h.ns for h in self.hosts.values()] + [self._switch]:
            # Anything still running in the namespace (a child a test forgot) goes first.
            pids = _ip("netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            _ip("netns", "del", ns, check=False)

    # -- processes --------------------------------------------------------------

    def command(self, host: str, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.hosts[host].ns, *argv]

    def start(self, host: str, argv: list[str], name: str, ready_text: str | None = None,
              timeout: float = 30.0) -> Proc:
        """Start a long-running process on ``host``; its output goes to ``workdir/name.log``."""
        proc = Proc(self.command(host, argv), os.path.join(self.workdir, f"{name}.log"),
                    ready_text=ready_text, timeout=timeout)
        self._procs.append(proc)
        return proc

    def python(self, host: str, code: str, *args: str, timeout: float = 30.0) -> str:
        """Run a short Python program on ``host`` and return its standard output."""
        env = dict(os.environ, PYTHONPATH=ROOT)
        proc = subprocess.run(self.command(host, [sys.executable, "-c", code, *args]),
                              capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
        if proc.returncode != 0:
            raise RuntimeError(f"python on {host} failed: {proc.stderr[-2000:]}")
        return proc.stdout

    def module(self, module: str, *args: str) -> list[str]:
        """argv that runs one of our modules with this interpreter."""
        return [sys.executable, "-m", module, *args]

    # -- faults -----------------------------------------------------------------

    def cut(self, host: str) -> None:
        """Take ``host``'s port on the bridge down: it is alive but unreachable."""
        _ip("-n", self._switch, "link", "set", self.hosts[host].port, "down")

    def restore(self, host: str) -> None:
        _ip("-n", self._switch, "link", "set", self.hosts[host].port, "up")
        # The port needs a moment before the bridge forwards again.
        time.sleep(0.2)

    def cut_between(self, a: str, b: str) -> None:
        """Drop everything between hosts ``a`` and ``b`` (both ways); both stay reachable from the others."""
        _ip("-n", self.hosts[a].ns, "route", "add", "blackhole", f"{self.hosts[b].addr}/32")
        _ip("-n", self.hosts[b].ns, "route", "add", "blackhole", f"{self.hosts[a].addr}/32")

    def restore_between(self, a: str, b: str) -> None:
        _ip("-n", self.hosts[a].ns, "route", "del", "blackhole", f"{self.hosts[b].addr}/32", check=False)
        _ip("-n", self.hosts[b].ns, "route", "del", "blackhole", f"{self.hosts[a].addr}/32", check=False)

    def host_of_pid(self, pid: int) -> str | None:
        """Which rig host a process runs on (by its network namespace)."""
        for h in self.hosts.values():
            if str(pid) in _ip("netns", "pids", h.ns, check=False).stdout.split():
                return h.name
        return None
