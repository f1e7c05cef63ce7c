"""Small operating-system helpers shared by the raterd supervisor, its workers and the CLI.

Exit codes are named here because the supervisor reads the worker's: a
worker that retired or was told to stop exits ``OK``; anything else is a
crash to report to the broker and to restart with backoff.
"""

from __future__ import annotations

import errno
import logging
import os
import resource
import signal
from enum import IntEnum

__all__ = ["ExitCode", "rss_mb", "set_niceness", "niceness", "describe_exit"]

log = logging.getLogger(__name__)


class ExitCode(IntEnum):
    """Exit statuses of ``sitetruth-raterd`` and of its worker processes (sysexits where one fits)."""

    OK = 0            # stopped on request (signal, retirement): all work finished or handed back
    USAGE = 2         # bad command line (argparse's own code)
    SOFTWARE = 70     # EX_SOFTWARE: an internal error escaped (traceback on stderr and to the broker)
    WEDGED = 75       # EX_TEMPFAIL: a rating overran its deadline and could not be stopped; restart me
    CONFIG = 78       # EX_CONFIG: the rating pipeline cannot be built from this configuration


def rss_mb() -> float:
    """Resident set size of this process in MiB (current, from /proc; peak where /proc is missing)."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) / 1024.0     # reported in kB
    except (OSError, ValueError, IndexError):
        pass
    # Not Linux: the peak is the best the portable API offers (kB on Linux, bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if peak > 1 << 30 else peak / 1024.0


def niceness(pid: int = 0) -> int:
    """The nice value of *pid* (0: this process)."""
    return os.getpriority(os.PRIO_PROCESS, pid)


def set_niceness(value: int) -> int:
    """Set this process's nice value to *value* (absolute, not an increment); returns the value in effect.

    Absolute so that "--nice 10" means 10 whatever the supervisor runs at.
    Lowering the value needs privilege: without it we keep the current,
    lower priority and say so, rather than failing the worker.
    """
    value = max(-20, min(19, value))
    try:
        os.setpriority(os.PRIO_PROCESS, 0, value)
    except OSError as e:
        if e.errno not in (errno.EACCES, errno.EPERM):
            raise
        log.warning("cannot set niceness %d (currently %d): %s", value, niceness(), e.strerror)
    return niceness()


def describe_exit(returncode: int | None) -> str:
    """``-9`` -> "killed by signal 9 (SIGKILL)", ``78`` -> "exited with status 78 (CONFIG)"."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {-returncode} ({name})"
    try:
        name = ExitCode(returncode).name
    except ValueError:
        return f"exited with status {returncode}"
    return f"exited with status {returncode} ({name})"
