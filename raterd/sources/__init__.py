"""Outside sources a rater checks: business registers, blocklists, remote lookups.

Where this sits: the operator imports published files into a node-local
SQLite index with ``sitetruth-sources import ...`` (see :mod:`.cli`); each
rater worker opens that index read-only and, while rating a site, asks
:func:`registry_match` whether the business it found is a live registered
company at the postcode (or with the number) the site gives, and
:func:`blocklist_hits` whether the domain is on a phishing list. A remote
register (:class:`GleifClient`, GLEIF LEI API format) is queried over HTTP
in the same thread pool as the page fetches. Raters hold no cluster-store
credentials, so none of this touches the store.

Typical use in a worker::

    index = open_readonly(path)            # after fork; missing file = matches nothing
    gleif = make_gleif_client(url)         # None when disabled
    findings.blocklisted += blocklist_hits(index, domain)
    findings.confirmations += registry_match(index, name, postcode, registration, country)
    if gleif:
        findings.confirmations += gleif.confirm(name, postcode, country)
"""

from ._blocklist import PHISHTANK, SHARED_HOSTS, blocklist_hits, import_blocklist, import_phishtank
from ._errors import (
    ImportRefused,
    SourceError,
    SourceFileError,
    SourceFormatError,
    SourceIndexError,
    SourceUnavailable,
)
from ._gleif_api import DEFAULT_GLEIF_URL, ENV_GLEIF_URL, GLEIF_API, GleifClient, LeiRecord, make_gleif_client
from ._index import (
    DEFAULT_PATH,
    ENV_PATH,
    ImportProgress,
    ImportReport,
    SourceIndex,
    default_path,
    open_readonly,
    remove_source,
    status,
)
from ._names import name_key
from ._registry import COMPANIES_HOUSE, GLEIF, import_companies_house, import_gleif_csv, registry_match

__all__ = [
    # the index
    "SourceIndex",
    "open_readonly",
    "default_path",
    "status",
    "remove_source",
    "DEFAULT_PATH",
    "ENV_PATH",
    # importers
    "import_companies_house",
    "import_gleif_csv",
    "import_blocklist",
    "import_phishtank",
    "ImportReport",
    "ImportProgress",
    "COMPANIES_HOUSE",
    "GLEIF",
    "PHISHTANK",
    "SHARED_HOSTS",
    # lookups
    "registry_match",
    "blocklist_hits",
    "name_key",
    # remote
    "GleifClient",
    "LeiRecord",
    "make_gleif_client",
    "DEFAULT_GLEIF_URL",
    "ENV_GLEIF_URL",
    "GLEIF_API",
    # errors
    "SourceError",
    "SourceFileError",
    "SourceFormatError",
    "ImportRefused",
    "SourceIndexError",
    "SourceUnavailable",
]
