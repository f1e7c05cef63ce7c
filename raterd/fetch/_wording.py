"""Fetch failures in words a person reads on the rating's details page.

The fetcher (:meth:`raterd.fetch.fetcher.Fetcher._translate`) turns each
urllib3/ssl/socket exception into a :class:`~raterd.fetch.errors.FetchError`
whose message says what happened ("HTTPS: connection refused", "TLS
failure: certificate not valid for this name"); these helpers find the
words by walking the exception chain (errno values, OpenSSL verify codes,
http.client exception types), never by showing an exception's ``repr``,
which names internal connection classes and addresses.
"""

from __future__ import annotations

import errno
import ssl

__all__ = ["connect_reason", "tls_reason", "broken_reason", "describe_failure"]


def _causes(error: BaseException) -> list[BaseException]:
    """*error* and the exceptions it was raised from or while handling, innermost last."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        reason = getattr(current, "reason", None)  # urllib3 wraps some errors in .reason
        current = current.__cause__ or current.__context__ or (reason if isinstance(reason, BaseException) else None)
    return chain


_ERRNO_WORDS = {
    errno.ECONNREFUSED: "cannot connect (connection refused)",
    errno.ECONNRESET: "connection reset",
    errno.ENETUNREACH: "cannot connect to the server: network unreachable",
    errno.EHOSTUNREACH: "cannot connect to the server: host unreachable",
    errno.ETIMEDOUT: "cannot connect to the server: no answer",
    errno.EADDRNOTAVAIL: "cannot connect to the server: address not available",
}


def connect_reason(error: BaseException, seconds: float) -> str:
    for cause in _causes(error):
        if isinstance(cause, OSError) and cause.errno in _ERRNO_WORDS:
            return _ERRNO_WORDS[cause.errno]
    text = str(error).lower()
    if "refused" in text:
        return "cannot connect (connection refused)"
    if "timed out" in text or "timeout" in text:
        return f"cannot connect to the server: no answer within {seconds:g} s"
    return "cannot connect to the server"


def tls_reason(error: BaseException) -> str:
    for cause in _causes(error):
        code = getattr(cause, "verify_code", None)
        if code in (62, 64):  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
            return "certificate not valid for this name"
        if code == 10:
            return "certificate expired"
        if code == 9:
            return "certificate not valid yet"
        if code in (18, 19, 20, 21, 2):
            return "certificate not trusted (certificate verify failed: unknown or self-signed issuer)"
        if isinstance(cause, ssl.CertificateError) and "match" in str(cause):
            return "certificate not valid for this name"
    text = " ".join(str(c) for c in _causes(error)).lower()
    if "doesn't match" in text or "hostname mismatch" in text or "not valid for" in text:
        return "certificate not valid for this name"
    if "expired" in text:
        return "certificate expired"
    if "certificate_verify_failed" in text or "certificate verify failed" in text:
        return "certificate not trusted (certificate verify failed)"
    if "wrong_version_number" in text or "unsupported protocol" in text or "no protocols" in text:
        return "handshake failed: no TLS version in common (or the server does not speak TLS)"
    if "handshake" in text or "alert" in text:
        return "handshake failed: the server refused the connection's terms"
    if "eof" in text:
        return "the server closed the connection during the handshake"
    return "handshake failed"


def broken_reason(error: BaseException) -> str:
    for cause in _causes(error):
        if isinstance(cause, OSError) and cause.errno == errno.ECONNRESET:
            return "connection reset by the server"
        name = type(cause).__name__
        if name in ("RemoteDisconnected", "IncompleteRead") or "IncompleteRead" in str(cause):
            return "the server closed the connection before the response was complete"
        if name in ("BadStatusLine", "LineTooLong", "HeaderParsingError", "LocationParseError"):
            return "the server's answer is not valid HTTP"
    return "the connection failed before the response was complete"


def describe_failure(error: BaseException, *, timeout: float) -> str:
    """Any urllib3/ssl/socket failure of a request in words (for clients other than the fetcher)."""
    from urllib3.exceptions import ConnectTimeoutError, ProtocolError, ReadTimeoutError
    from urllib3.exceptions import SSLError as Urllib3SSLError

    causes = _causes(error)
    if any(isinstance(c, Urllib3SSLError | ssl.SSLError | ssl.CertificateError) for c in causes):
        return f"TLS failure: {tls_reason(error)}"
    if any(isinstance(c, ConnectTimeoutError) for c in causes):  # also NewConnectionError
        return connect_reason(error, timeout)
    if any(isinstance(c, ReadTimeoutError | TimeoutError) for c in causes):
        return f"timed out after {timeout:g} s"
    if any(isinstance(c, ProtocolError | ConnectionError) for c in causes):
        return f"broken response ({broken_reason(error)})"
    return "the request failed"
