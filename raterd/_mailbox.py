"""Rating thread -> worker loop: a wake-up mailbox, and the rating thread's stack for reports.

The worker's main thread owns every ZeroMQ socket. The rating thread (and
any thread of the pipeline's pool calling the progress callback) must not
touch them, so it posts tuples to a :class:`Mailbox`: a thread-safe queue
whose every arrival also writes a byte to a pipe the main thread's ZeroMQ
poller watches. No socket crosses a thread and nothing waits on a timer.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import traceback

__all__ = ["Mailbox", "thread_stack"]


class Mailbox:
    """Rating side -> loop thread: a thread-safe queue whose arrivals wake the ZeroMQ poller."""

    def __init__(self) -> None:
        self._items: queue.SimpleQueue[tuple] = queue.SimpleQueue()
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        os.set_blocking(self._write_fd, False)
        self._closed = False

    def fileno(self) -> int:
        return self._read_fd

    def put(self, item: tuple) -> None:
        if self._closed:
            return          # a rating outliving the worker loop: nobody is listening
        self._items.put(item)
        try:
            os.write(self._write_fd, b"!")
        except BlockingIOError:
            pass            # the pipe is full of wake-ups already: the loop will come

    def drain(self) -> list[tuple]:
        try:
            while os.read(self._read_fd, 4096):
                pass
        except BlockingIOError:
            pass
        out = []
        while True:
            try:
                out.append(self._items.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        self._closed = True
        for fd in (self._read_fd, self._write_fd):
            try:
                os.close(fd)
            except OSError:
                pass


def thread_stack(thread: threading.Thread | None) -> str:
    frame = sys._current_frames().get(thread.ident) if thread is not None and thread.ident else None
    if frame is None:
        return "(rating thread stack not available)"
    return "Stack of the rating thread (most recent call last):\n" + "".join(traceback.format_stack(frame))
