"""An access log in common log format, as WSGI middleware (``--access-log FILE|-``).

One line per request, written when the response is finished (its body sent
or the client gone), in the format web-log tools read::

    127.0.0.1 - - [27/Nov/2026:16:22:42 +0000] "GET /api/v3/ratings?url=example.com HTTP/1.1" 200 161

The fields are the peer address (``REMOTE_ADDR``: the client itself, or the
proxy in front of us), two unused dashes, the local time, the request line,
the status and the body bytes sent ("-" for none). The request line comes
from the client: quotes, backslashes and control characters in it are
written as ``\\xHH`` so a hostile URL cannot forge or split log lines.

Lines go through a logger of their own (``frontend.access``) with a
:class:`logging.handlers.WatchedFileHandler`: thread-safe, and a file that
logrotate moved away is reopened on the next line. It sits outside the
application, so it logs what the client got, 404s and 503s included.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import quote

from .errors import FrontendConfigError

__all__ = ["AccessLog", "open_access_log", "format_line"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\]|[^\x00-\x7f]')


def _escape(text: str) -> str:
    def hexed(m: re.Match[str]) -> str:
        # WSGI strings carry the request's bytes as latin-1 characters.
        ch = m.group()
        raw = ch.encode("latin-1") if ord(ch) < 256 else ch.encode("utf-8", "surrogateescape")
        return "".join(f"\\x{b:02x}" for b in raw)

    return _UNSAFE.sub(hexed, text)


def _clf_time(now: float) -> str:
    t = time.localtime(now)
    offset = t.tm_gmtoff or 0
    sign = "+" if offset >= 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    return (f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} "
            f"{sign}{hours:02d}{minutes:02d}")


def format_line(environ: dict[str, Any], status: str, size: int, now: float) -> str:
    """The common-log-format line of one finished request."""
    path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if not path:
        # The server percent-decoded the path (PEP 3333: as latin-1); encode it
        # again so the line shows a request as a client would have sent it.
        raw = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1", "replace")
        path = quote(raw, safe="/:@!$&'()*+,;=-._~")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
    request = f"{environ.get('REQUEST_METHOD', '-')} {path} {environ.get('SERVER_PROTOCOL', '-')}"
    code = status.split(" ", 1)[0] if status else "-"
    return (f"{environ.get('REMOTE_ADDR') or '-'} - - [{_clf_time(now)}] \"{_escape(request)}\" "
            f"{code} {size if size else '-'}")


def open_access_log(target: str) -> logging.Logger:
    """A logger that writes bare lines to ``target`` (a file path, or "-" for standard output)."""
    if target == "-":
        handler: logging.Handler = logging.StreamHandler(sys.stdout)
        name = "frontend.access.stdout"
    else:
        try:
            handler = logging.handlers.WatchedFileHandler(target, encoding="utf-8")
        except OSError as e:
            raise FrontendConfigError(f"--access-log {target}: {e.strerror}") from e
        name = f"frontend.access.{target}"
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(name)
    for old in list(logger.handlers):     # a second app in one process (tests) must not double lines
        logger.removeHandler(old)
        old.close()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False              # not mixed into the daemon's own log
    return logger


class AccessLog:
    """Wraps a WSGI application; logs each request once its response is finished."""

    def __init__(self, app: Any, target: str | logging.Logger) -> None:
        self.app = app
        self.logger = open_access_log(target) if isinstance(target, str) else target

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen: dict[str, str] = {}

        def recording_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            body = self.app(environ, recording_start_response)
        except BaseException:
            self._log(environ, seen.get("status") or "500", 0)
            raise
        return _Counted(body, lambda size: self._log(environ, seen.get("status", ""), size))

    def _log(self, environ: dict[str, Any], status: str, size: int) -> None:
        self.logger.info("%s", format_line(environ, status, size, time.time()))

    def close(self) -> None:
        close = getattr(self.app, "close", None)
        if close is not None:
            close()
        for handler in self.logger.handlers:
            handler.flush()

    def __getattr__(self, name: str) -> Any:
        # The servers and tests reach the application's own attributes (config, metrics...).
        return getattr(self.app, name)


class _Counted:
    """The response body, counted as the server sends it; logs once on close (PEP 3333)."""

    def __init__(self, body: Iterable[bytes], done: Callable[[int], None]) -> None:
        self._body = body
        self._done = done
        self._size = 0
        self._logged = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._size += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            if not self._logged:
                self._logged = True
                self._done(self._size)
