"""The frontend's exceptions: one base under ``SiteTruthError``, one kind per thing a caller does about it.

- :class:`HTTPError` -- the request gets this HTTP status and short text body
  (400 unreadable request, 403 bad key, 414 too many/too long, 502 overload,
  503 broker or store unavailable). Raised by the request parser and the
  rating service; turned into a reply by :mod:`frontend.app`, nowhere else.
- :class:`FrontendConfigError` -- a person must fix the configuration (a bad
  CIDR, an unreadable keys file, an unusable listen address).
- :class:`FastCGIError` -- a FastCGI peer broke the protocol; the responder
  closes that connection and carries on with the others.
"""

from __future__ import annotations

from protocol.config import ConfigError
from protocol.errors import SiteTruthError

__all__ = ["FrontendError", "HTTPError", "FrontendConfigError", "FastCGIError"]


class FrontendError(SiteTruthError):
    """Root of every error the frontend raises (under the project's ``SiteTruthError``)."""


class HTTPError(FrontendError):
    """End this request with ``status`` and a short human-readable ``message``.

    ``headers`` are extra reply headers (``Retry-After`` on a 503, ``Allow``
    on a 405). The message is shown to the client: it must never carry a
    traceback, a store URL or anything else internal.
    """

    def __init__(self, status: int, message: str, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.headers = list(headers or [])


class FrontendConfigError(FrontendError, ConfigError):
    """The frontend's configuration is unusable; the message says what to fix (a ``ConfigError``, a ``ValueError``)."""


class FastCGIError(FrontendError):
    """A FastCGI peer sent something the protocol does not allow."""
