"""Run one component of ``sitetruth-cluster`` so that it ends when the launcher dies.

``python frontend/_childguard.py PARENT_PID MODULE [ARGS...]`` arms the
guard, then runs ``python -m MODULE ARGS...`` in this same process. The
launcher stops its children in order when it is asked to; this is for when
it cannot be asked (SIGKILL, a crash): its children must not run on as
orphans holding the ports and the store.

* On Linux the kernel sends SIGTERM when the launcher dies
  (``prctl(PR_SET_PDEATHSIG)``), so each component stops the way it does on
  any SIGTERM (the broker flushes its journal, raterd hands back its jobs).
* Elsewhere, and in case the launcher died before the guard was armed, a
  daemon thread watches the parent process id: once the child has been
  handed to another parent it sends itself the same SIGTERM.

It is run as a file (``python -P``, so its own directory is not searched
for modules), not as ``-m frontend._childguard``, so the broker and the
raters do not import the frontend package; it puts the project root at the
head of ``sys.path``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import runpy
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
_WATCH_INTERVAL = 0.5


def _arm_parent_death_signal() -> bool:
    """Ask Linux for SIGTERM when our parent dies; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_WATCH_INTERVAL)
    os.kill(os.getpid(), signal.SIGTERM)


def main(argv: list[str]) -> None:
    if len(argv) < 2 or not argv[0].isdigit():
        sys.exit("usage: _childguard.py PARENT_PID MODULE [ARGS...]")
    parent, module, args = int(argv[0]), argv[1], argv[2:]
    armed = _arm_parent_death_signal()
    if os.getppid() != parent:
        sys.exit(1)                     # the launcher is gone already: nobody to serve
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), name="parent-watch", daemon=True).start()
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
