"""The private line between the raterd supervisor and each of its workers.

Not part of the broker protocol: this never leaves the machine. The
supervisor makes a ``socketpair`` per worker and passes one end to the child
(``--control-fd``); both sides exchange one JSON object per line::

    worker -> supervisor   {"event": "registered", "pid": ...}    the broker has answered our READY
                           {"event": "retiring", "reason": "max_jobs" | "max_rss", ...}
                           {"event": "job"}                        a rating has started
                           {"event": "rated", "rating", "ratinginfo", "seconds", "fetch_errors": {kind: n}}
                           {"event": "rated", "failed": true, "seconds", "fetch_errors": {}}
                                                                   a rating has ended (see rated_message)
    supervisor -> worker   {"cmd": "leave"}                        your replacement is registered
                           {"cmd": "report", "component", "message", "traceback", "process"}
                                                                   forward an ErrorReport to the broker

Why a socketpair and not a ZeroMQ socket: end-of-file is the signal we want
when either side dies (a worker whose supervisor vanished leaves gracefully
instead of lingering as an orphan), and it needs no endpoint on disk.
The worker's ZeroMQ poller and the supervisor's selector both poll the raw
file descriptor; reads are non-blocking and split on newlines here.
"""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

__all__ = ["ControlChannel", "ControlClosed", "JOB_STARTED", "rated_message"]

log = logging.getLogger(__name__)

# A line longer than this is a bug on the other side, not a message.
_MAX_LINE = 1 << 20


JOB_STARTED = {"event": "job"}


def rated_message(outcome: Any, seconds: float, error: str | None) -> dict[str, Any]:
    """The facts of one finished rating the supervisor counts (:mod:`raterd.metrics`): small and flat.

    *outcome* is the pipeline's RatingOutcome (None when the rating failed),
    *seconds* the time from JOB to outcome, *error* set when the rating
    could not be sent as a RESULT.
    """
    from .metrics import fetch_error_counts    # the worker needs only the classifier, not a registry

    message: dict[str, Any] = {"event": "rated", "seconds": round(max(0.0, float(seconds)), 4)}
    if error is not None or outcome is None:
        message["failed"] = True
    else:
        message["rating"] = str(getattr(outcome, "rating", ""))
        message["ratinginfo"] = str(getattr(outcome, "ratinginfo", ""))
    try:
        message["fetch_errors"] = fetch_error_counts(getattr(outcome, "evidence", None) or ())
    except TypeError:
        message["fetch_errors"] = {}
    return message


class ControlClosed(Exception):
    """The other end of the control channel has gone away."""


class ControlChannel:
    """One end of a supervisor <-> worker socketpair carrying JSON lines."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.setblocking(False)
        self._buffer = b""
        self.closed = False

    @classmethod
    def from_fd(cls, fd: int) -> ControlChannel:
        return cls(socket.socket(fileno=fd))

    def fileno(self) -> int:
        return self.sock.fileno()

    def send(self, message: dict[str, Any]) -> None:
        """Send one message; raises ControlClosed if the peer is gone.

        Messages are tiny and rare, so a full socket buffer means the peer has
        stopped reading for good: that counts as closed rather than blocking.
        """
        if self.closed:
            raise ControlClosed("control channel already closed")
        data = json.dumps(message, separators=(",", ":")).encode() + b"\n"
        try:
            self.sock.sendall(data)
        except (BlockingIOError, BrokenPipeError, ConnectionResetError, OSError) as e:
            self.closed = True
            raise ControlClosed(f"control channel send failed: {e}") from e

    def receive(self) -> list[dict[str, Any]]:
        """Every complete message readable now (never blocks); ControlClosed at EOF."""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except BlockingIOError:
                break
            except (ConnectionResetError, OSError) as e:
                self.closed = True
                raise ControlClosed(f"control channel read failed: {e}") from e
            if not chunk:
                self.closed = True
                messages = self._split()
                if messages:
                    # Deliver what arrived before EOF; the next call reports the close.
                    return messages
                raise ControlClosed("control channel closed by peer")
            self._buffer += chunk
            if len(self._buffer) > _MAX_LINE and b"\n" not in self._buffer:
                self.closed = True
                raise ControlClosed("control channel line too long")
        return self._split()

    def _split(self) -> list[dict[str, Any]]:
        out = []
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError:
                log.warning("unreadable control message dropped: %r", line[:200])
                continue
            if isinstance(message, dict):
                out.append(message)
        return out

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass
