"""Errors of the outside-sources package (registries, blocklists, remote lookups).

``SourceError`` is the one base (under the project's ``SiteTruthError``): the importer CLI maps each subclass to a
named exit code, and the lookup side (:func:`registry_match`,
:meth:`GleifClient.confirm`) records these instead of raising, so a broken
source costs a rating its confirmation, never the worker.
"""

from __future__ import annotations

import logging
import time

from protocol.errors import SiteTruthError

__all__ = [
    "SourceError",
    "SourceFileError",
    "SourceFormatError",
    "ImportRefused",
    "SourceIndexError",
    "SourceUnavailable",
    "warning_level",
]


class SourceError(SiteTruthError):
    """Something is wrong with an outside source.

    ``source`` names the source (``"companies-house"``, a blocklist name,
    ``"gleif-api"``); ``where`` says where in its input (a file and line, a
    URL) when that is known.
    """

    def __init__(self, message: str, *, source: str = "", where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.where = where

    def __str__(self) -> str:
        context = ", ".join(part for part in (self.source, self.where) if part)
        return f"{self.message} [{context}]" if context else self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments don't survive the default pickling of exceptions,
        # and these cross process boundaries inside worker error reports.
        return (_rebuild, (type(self), self.message, self.source, self.where))


def _rebuild(cls: type[SourceError], message: str, source: str, where: str) -> SourceError:
    return cls(message, source=source, where=where)


class SourceFileError(SourceError):
    """An input file cannot be opened or read (missing, permissions, I/O error)."""


class SourceFormatError(SourceError):
    """An input is not in the published format it claims to be, or is corrupt."""


class ImportRefused(SourceError):
    """An import was read but a safety check refused to swap it in.

    Raised for an import with no usable rows, and for a registry that shrank
    by more than half since its last import (a truncated download would
    otherwise silently remove companies); ``force=True`` overrides the latter.
    """


class SourceIndexError(SourceError):
    """The node-local SQLite index cannot be opened, read or written."""


class SourceUnavailable(SourceError):
    """A remote source did not answer usably (refused, timed out, HTTP error)."""


# When each error text was last logged as a warning (see warning_level).
_last_warned: dict[str, float] = {}
QUIET_SECONDS = 60.0


def warning_level(error: SourceError) -> int:
    """``WARNING`` the first time an error text is seen in a minute, ``DEBUG`` after.

    A source that is down fails every lookup of every rating; one warning a
    minute says so without burying the rest of the log.
    """
    now = time.monotonic()
    text = str(error)
    if now - _last_warned.get(text, -QUIET_SECONDS) < QUIET_SECONDS:
        return logging.DEBUG
    if len(_last_warned) > 200:  # texts carry URLs and names; keep the memo small
        _last_warned.clear()
    _last_warned[text] = now
    return logging.WARNING
