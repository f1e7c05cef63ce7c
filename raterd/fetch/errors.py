"""Errors of the fetch layer: one root, one subclass per way a fetch can fail.

The rating pipeline maps these to outcomes (``BlockedAddress`` and
``BadURL`` -> ``bad_url``/``blocked``, ``NameNotFound``/``ConnectFailed`` ->
``no_website``, ``DeadlineExceeded`` -> whatever was found in time), so each
carries the URL it was fetching and enough context to put in the evidence
and the error log.  urllib3, ``ssl`` and ``socket`` exceptions are
translated where they enter (:mod:`raterd.fetch.fetcher`) and chained with
``from``; nothing of urllib3 leaks out of this package.

The classes pickle with their context, because a worker's errors travel to
the broker inside its error reports.
"""

from __future__ import annotations

from protocol.errors import SiteTruthError

__all__ = [
    "FetchError",
    "BadURL",
    "BadScheme",
    "BlockedAddress",
    "NameNotFound",
    "ConnectFailed",
    "TLSFailure",
    "BrokenResponse",
    "ReadTimeout",
    "ContentDecodingError",
    "TooManyRedirects",
    "DeadlineExceeded",
    "ResolverConfigError",
]


class FetchError(SiteTruthError):
    """A page could not be fetched.  ``url`` is the URL being fetched when it
    failed (for a redirect chain: the hop that failed, not the first URL)."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.url = url

    def __str__(self) -> str:
        return f"{self.message} [{self.url}]" if self.url else self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments are lost by the default exception pickling.
        return (_rebuild, (type(self), self.message, self.url, self.__dict__.copy()))


def _rebuild(cls: type[FetchError], message: str, url: str, state: dict[str, object]) -> FetchError:
    error = cls.__new__(cls)
    FetchError.__init__(error, message, url=url)
    error.__dict__.update(state)
    return error


class BadURL(FetchError):
    """The URL cannot be fetched as written: no host, an unusable host name,
    a bad port.  ``ratinginfo`` is the API code the pipeline should report
    (``bad_url`` or ``no_domain``) when the page was the site's home page."""

    def __init__(self, message: str, *, url: str = "", ratinginfo: str = "bad_url") -> None:
        super().__init__(message, url=url)
        self.ratinginfo = ratinginfo


class BadScheme(BadURL):
    """Only ``http`` and ``https`` are fetched (also for redirect targets)."""


class BlockedAddress(FetchError):
    """SSRF guard: the host is an IP literal, or resolves to an address that
    is not public.  ``host`` is the name, ``address`` the offending address
    (the literal itself for IP literals) and ``reason`` the range it is in."""

    def __init__(self, message: str, *, url: str = "", host: str = "", address: str = "", reason: str = "") -> None:
        super().__init__(message, url=url)
        self.host = host
        self.address = address
        self.reason = reason


class NameNotFound(FetchError):
    """The host name does not resolve (NXDOMAIN, no address records, resolver failure)."""


class ConnectFailed(FetchError):
    """No checked address of the host accepted a TCP connection in time."""


class TLSFailure(FetchError):
    """The TLS handshake failed: certificate not trusted, wrong name, expired,
    or no common protocol."""


class BrokenResponse(FetchError):
    """The server closed or reset the connection, or sent something that is
    not HTTP, before a complete response was read."""


class ReadTimeout(FetchError):
    """The server sent nothing for the per-read cap while time remained on the
    deadline: one stalled page must not use up the whole rating."""


class ContentDecodingError(FetchError):
    """The body uses a content-coding we did not offer, or its compressed
    data is corrupt."""


class TooManyRedirects(FetchError):
    """More redirects than the cap, or a redirect back to a URL already seen
    in the chain.  ``chain`` is the URLs visited, in order."""

    def __init__(self, message: str, *, url: str = "", chain: tuple[str, ...] = ()) -> None:
        super().__init__(message, url=url)
        self.chain = chain


class DeadlineExceeded(FetchError):
    """The rating's deadline passed before the page was complete."""


class ResolverConfigError(FetchError, ValueError):
    """An operator's ``--resolve`` option or ``--hosts`` file cannot be read.
    ``url`` is empty; the message names the option text or ``file:line``."""
