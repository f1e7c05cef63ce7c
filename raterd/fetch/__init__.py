"""The rater's network layer: safe, deadline-bound page fetching.

Used by the rating pipeline of a raterd worker: one :class:`Resolver` and
one :class:`Fetcher` per worker process, one :class:`Deadline` per rating
shared by all its fetches, :func:`fetch_robots` once per site, and the
:class:`~raterd.fetch.tls.CertInfo` of each https page as evidence.

SSRF guard, hard deadlines, byte caps and charset handling are described in
the modules: :mod:`.resolver`, :mod:`.fetcher`, :mod:`.deadline`,
:mod:`.robots`, :mod:`.tls`, :mod:`.errors`; redirects a page makes in the
browser (meta refresh, a one-line script) are found by
:mod:`.client_redirect`.
"""

from .client_redirect import ClientRedirect, client_redirect
from .deadline import DEFAULT_RATING_SECONDS, Deadline
from .errors import (
    BadScheme,
    BadURL,
    BlockedAddress,
    BrokenResponse,
    ConnectFailed,
    ContentDecodingError,
    DeadlineExceeded,
    FetchError,
    NameNotFound,
    ReadTimeout,
    ResolverConfigError,
    TLSFailure,
    TooManyRedirects,
)
from ._wording import describe_failure
from .fetcher import DEFAULT_USER_AGENT, Fetcher, Page
from .resolver import Address, Resolver, canonical_host, is_public_address, load_hosts_file, parse_resolve_option
from .robots import ROBOTS_TOKEN, RobotsPolicy, fetch_robots
from .tls import CDN_HOST_ORGANISATIONS, CertInfo, classify_certificate, is_cdn_organisation

__all__ = [
    "Address",
    "BadScheme",
    "BadURL",
    "BlockedAddress",
    "BrokenResponse",
    "CDN_HOST_ORGANISATIONS",
    "CertInfo",
    "ClientRedirect",
    "ConnectFailed",
    "ContentDecodingError",
    "DEFAULT_RATING_SECONDS",
    "DEFAULT_USER_AGENT",
    "Deadline",
    "DeadlineExceeded",
    "FetchError",
    "Fetcher",
    "NameNotFound",
    "Page",
    "ROBOTS_TOKEN",
    "ReadTimeout",
    "Resolver",
    "ResolverConfigError",
    "RobotsPolicy",
    "TLSFailure",
    "TooManyRedirects",
    "canonical_host",
    "classify_certificate",
    "describe_failure",
    "client_redirect",
    "fetch_robots",
    "is_cdn_organisation",
    "is_public_address",
    "load_hosts_file",
    "parse_resolve_option",
]
