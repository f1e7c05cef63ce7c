"""How the broker's own errors reach the store's error log.

* :class:`JournalLogHandler` — every ERROR log record of the broker process
  (with its traceback) goes through the journal, like any other write, so
  logging never blocks the event loop on the database.
* :func:`write_fatal` — the last-resort handler: when the broker itself is
  dying, it opens a fresh store connection and writes the traceback there
  (the journal may be the thing that broke).

Errors that raters report (FAILED, ERROR_REPORT) are journalled by the event
loop through :mod:`broker.core`.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from typing import TYPE_CHECKING

from store import ErrorRecord, StoreError, open_store

from .ops import AppendErrors

if TYPE_CHECKING:
    from .server import Broker

__all__ = ["JournalLogHandler", "write_fatal"]

log = logging.getLogger(__name__)


class JournalLogHandler(logging.Handler):
    """Puts the broker's own ERROR log records into the store's error log."""

    def __init__(self, broker: Broker) -> None:
        super().__init__(logging.ERROR)
        self.broker = broker
        self.host = socket.gethostname()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tb = "".join(traceback.format_exception(*record.exc_info)) if record.exc_info else ""
            self.broker.journal.submit(AppendErrors((ErrorRecord(
                at=record.created, host=self.host, process=f"broker[{os.getpid()}]",
                component=record.name, message=record.getMessage()[:60000], traceback=tb),)))
        except Exception:  # logging must never raise
            self.handleError(record)


def write_fatal(store_url: str, component: str) -> None:
    """Last-resort handler: put the current exception's traceback in the error log."""
    tb = traceback.format_exc()
    try:
        store = open_store(store_url)
        try:
            store.append_errors([ErrorRecord(at=time.time(), host=socket.gethostname(),
                                             process=f"{component}[{os.getpid()}]", component=component,
                                             message="fatal error: process exiting", traceback=tb)])
        finally:
            store.close()
    except StoreError as e:
        log.error("could not record the fatal error in the store: %s", e)
