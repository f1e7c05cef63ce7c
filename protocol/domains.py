"""What a "domain" is: reducing a URL or host name to the site we rate.

The frontend turns every ``url`` field of an API request into a registrable
domain with :func:`registrable_domain` (``https://www.shop.example.co.uk/x``
-> ``example.co.uk``) before it looks in the store or asks the broker; the
broker re-checks what arrives on the wire with :func:`is_registrable_domain`;
raters use :func:`normalise_host` to fetch a site under the name it was given.
All three share one parser, so the processes can't disagree about a name.

The parsing follows what a browser would do with the text typed in its
address bar, as far as the host is concerned (WHATWG URL standard): the
scheme is optional, ``http``-like schemes tolerate missing or extra slashes,
userinfo and port are dropped, percent-escapes in the host are decoded, IDNs
are mapped with UTS 46 and turned into punycode, and a host whose last label
is a number is an IPv4 address in one of its many spellings (``127.1``,
``0x7f.0.0.1``, ``2130706433``).  The registrable domain comes from the Public
Suffix List shipped in the ``publicsuffixlist`` wheel (ICANN and private
sections; nothing is downloaded), with unknown TLDs refused.

Failures raise DomainError with the API's ratinginfo code:

* ``bad_url``: not readable as a URL, no host (``mailto:``), an invalid port,
  an IP literal, control characters, empty, over 4096 characters;
* ``no_domain``: readable, but the host is not a registrable domain: a public
  suffix itself (``co.uk``), a single label (``localhost``), an unknown TLD,
  or an invalid label (characters, length, hyphens, bad punycode).
"""

from __future__ import annotations

import re
import threading
from urllib.parse import unquote_to_bytes

import idna
from publicsuffixlist import PublicSuffixList

from .errors import DomainError
from .vocabulary import RatingInfo

__all__ = ["registrable_domain", "normalise_host", "is_registrable_domain", "MAX_URL_LEN"]

MAX_URL_LEN = 4096
_MAX_HOST_LEN = 253

# Schemes for which browsers ignore the slashes after the colon ("http:/x").
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_PORT_AFTER_HOST = re.compile(r"[0-9]+(?:[/\\?#]|\Z)")
_AUTHORITY_END = re.compile(r"[/\\?#]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
_NUMBER_LABEL = re.compile(r"(?:[0-9]+|0x[0-9a-f]*)\Z")

_psl_instance: PublicSuffixList | None = None
_psl_lock = threading.Lock()


def _psl() -> PublicSuffixList:
    # Parsing the list takes a noticeable fraction of a second: do it once,
    # on first use, not at import (most importers of protocol never need it).
    global _psl_instance
    psl = _psl_instance
    if psl is None:
        with _psl_lock:
            if _psl_instance is None:
                _psl_instance = PublicSuffixList(accept_unknown=False)
            psl = _psl_instance
    return psl


def _bad_url(text: str, reason: str) -> DomainError:
    return DomainError(RatingInfo.BAD_URL, text, reason)


def _no_domain(text: str, reason: str) -> DomainError:
    return DomainError(RatingInfo.NO_DOMAIN, text, reason)


def _authority(text: str) -> str:
    """The ``[userinfo@]host[:port]`` part of a URL, with or without scheme."""
    rest = text
    m = _SCHEME.match(text)
    if m:
        scheme = m.group(1)
        after = text[m.end() :]
        if scheme.lower() in _SPECIAL_SCHEMES:
            rest = after.lstrip("/\\")
        elif after.startswith("//"):
            rest = after[2:]
        elif "." in scheme or _PORT_AFTER_HOST.match(after):
            rest = text  # not a scheme: "example.com:8080", "localhost:80/x"
        else:
            raise _bad_url(text, f"URL with scheme {scheme.lower()!r} has no host")
    elif text[:2] in ("//", "\\\\", "/\\", "\\/"):
        rest = text[2:]  # scheme-relative "//example.com/x"
    elif text[:1] in ("/", "\\"):
        raise _bad_url(text, "a path with no host")
    m_end = _AUTHORITY_END.search(rest)
    return rest[: m_end.start()] if m_end else rest


def _host(text: str) -> str:
    """The host of *text*, percent-decoded, not yet validated."""
    authority = _authority(text).rpartition("@")[2]  # browsers split at the last '@'
    if authority.startswith("["):
        raise _bad_url(text, "IPv6 address literal")
    host, colon, port = authority.partition(":")
    if colon and port and not (port.isascii() and port.isdigit() and int(port) <= 65535):
        raise _bad_url(text, "invalid port")
    if "%" in host:
        try:
            host = unquote_to_bytes(host).decode("utf-8")
        except UnicodeDecodeError:
            raise _bad_url(text, "percent-escapes in the host are not UTF-8") from None
        if _CONTROL.search(host):
            raise _bad_url(text, "control character in the host")
    if not host:
        raise _bad_url(text, "no host")
    return host


def _ascii_label(label: str, text: str) -> str:
    if label.startswith("xn--"):
        # Punycode must decode to a valid IDN label and be its canonical
        # encoding, or two spellings of one name would rate twice.
        try:
            unicode_label = idna.ulabel(label)
            canonical = idna.alabel(unicode_label).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            raise _no_domain(text, f"invalid punycode label {label[:63]!r}") from None
        if canonical != label:
            raise _no_domain(text, f"non-canonical punycode label {label[:63]!r}")
        return label
    # Plain LDH rules only: "r3---sn-x.googlevideo.com" is a fine host name
    # even though IDNA 2008 would refuse its "--" in positions 3-4.
    if not _LDH_LABEL.match(label):
        raise _no_domain(text, f"invalid label {label[:63]!r}")
    return label


def _unicode_label(label: str, text: str) -> str:
    try:
        return idna.alabel(label).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        raise _no_domain(text, f"invalid international label {label[:63]!r}") from None


def _parse(text: str) -> tuple[str, str]:
    """``(host, registrable domain)`` of *text*, or DomainError."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    if len(text) > MAX_URL_LEN:
        raise _bad_url(text, f"longer than {MAX_URL_LEN} characters")
    stripped = text.strip()
    if not stripped:
        raise _bad_url(text, "empty")
    if _CONTROL.search(stripped):
        raise _bad_url(text, "control character")

    host = _host(stripped)
    if host.isascii():
        host = host.lower()
    else:
        try:
            # UTS 46: case folding, full-width forms, ideographic full stops.
            host = idna.uts46_remap(host, std3_rules=False, transitional=False)
        except (idna.IDNAError, UnicodeError, ValueError):
            raise _no_domain(text, "character not allowed in a host name") from None
    if host.endswith("."):
        host = host[:-1]  # the root label: "example.com." is "example.com"
    labels = host.split(".")
    if _NUMBER_LABEL.match(labels[-1]):
        # A browser parses such a host as IPv4 (or rejects it): never a domain.
        raise _bad_url(text, "IP address literal")
    if not host:
        raise _no_domain(text, "empty host name")
    if len(labels) == 1:
        raise _no_domain(text, "a single label, not a domain")
    out = []
    for label in labels:
        if not label:
            raise _no_domain(text, "empty label")
        out.append(_ascii_label(label, text) if label.isascii() else _unicode_label(label, text))
    host = ".".join(out)
    if len(host) > _MAX_HOST_LEN:
        raise _no_domain(text, f"host name longer than {_MAX_HOST_LEN} characters")

    psl = _psl()
    registrable = psl.privatesuffix(host)
    if registrable is None:
        if psl.publicsuffix(host) is None:
            raise _no_domain(text, f"unknown top-level domain {labels[-1][:63]!r}")
        raise _no_domain(text, "a public suffix, not a registrable domain")
    return host, registrable


def registrable_domain(text: str) -> str:
    """The registrable domain of a URL or host name (``www.a.example.co.uk`` -> ``example.co.uk``).

    Lower case, punycode, no trailing dot.  Raises DomainError whose
    ``ratinginfo`` is BAD_URL or NO_DOMAIN.
    """
    return _parse(text)[1]


def normalise_host(text: str) -> str:
    """The full host name of a URL or host name, normalised as by :func:`registrable_domain`.

    ``https://WWW.Bücher.de:443/x`` -> ``www.xn--bcher-kva.de``.  Same errors:
    a host with no registrable domain is refused here too.
    """
    return _parse(text)[0]


def is_registrable_domain(domain: str) -> bool:
    """True iff *domain* is already a registrable domain in canonical form.

    For checking domains that arrive on the wire; never raises.
    """
    if not isinstance(domain, str):
        return False
    try:
        return registrable_domain(domain) == domain
    except DomainError:
        return False
