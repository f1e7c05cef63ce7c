"""Store URLs: which back end, where, and as whom.

Forms accepted (the ``--store`` flag and ``SITETRUTH_STORE``)::

    mysql://user:pass@host:port/db            TCP (port defaults to 3306)
    mysql://user@host/db?unix_socket=/path    through the server's socket
    sqlite:///relative/path.db                path after the third slash
    sqlite:////absolute/path.db
    sqlite:///:memory:                        private, throw-away (tests)

``mariadb://`` is accepted as a synonym of ``mysql://``. User and password
are percent-decoded (``p%40ss`` -> ``p@ss``), as is the SQLite path. Query
options: MySQL ``connect_timeout``, ``read_timeout``, ``write_timeout``
(seconds) and ``unix_socket``; SQLite ``busy_timeout`` (seconds). Unknown
options are refused, so a typo does not silently fall back to a default.

A :class:`StoreURL` never shows its password: ``str()`` and ``repr()`` are
redacted, and :meth:`StoreURL.geturl` is the only way to get it back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from .errors import StoreConfigError

__all__ = ["StoreURL", "parse_store_url", "DEFAULT_STORE_URL", "STORE_ENV"]

DEFAULT_STORE_URL = "sqlite:///./sitetruth.db"
STORE_ENV = "SITETRUTH_STORE"

# Defaults chosen so a dead server fails a call in seconds instead of hanging
# a broker thread; read_timeout must outlast innodb_lock_wait_timeout (10 s,
# set per session) so a lock wait is reported as such, not as a lost link.
MYSQL_DEFAULT_PORT = 3306
MYSQL_CONNECT_TIMEOUT = 5
MYSQL_READ_TIMEOUT = 30
MYSQL_WRITE_TIMEOUT = 30
SQLITE_BUSY_TIMEOUT = 10.0

_MYSQL_OPTIONS = {"unix_socket", "connect_timeout", "read_timeout", "write_timeout"}
_SQLITE_OPTIONS = {"busy_timeout"}
# Database names we are willing to put between backticks in DDL.
_DB_NAME = re.compile(r"^[A-Za-z0-9_$-]{1,64}$")


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL. ``backend`` is ``"mysql"`` or ``"sqlite"``."""

    backend: str
    # MySQL
    host: str = ""
    port: int = MYSQL_DEFAULT_PORT
    user: str = ""
    password: str = field(default="", repr=False)
    database: str = ""
    unix_socket: str = ""
    connect_timeout: float = MYSQL_CONNECT_TIMEOUT
    read_timeout: float = MYSQL_READ_TIMEOUT
    write_timeout: float = MYSQL_WRITE_TIMEOUT
    # SQLite
    path: str = ""
    busy_timeout: float = SQLITE_BUSY_TIMEOUT

    def geturl(self, *, redact: bool = False) -> str:
        """The URL back as a string (with the password unless ``redact``)."""
        if self.backend == "sqlite":
            query = f"?busy_timeout={_num(self.busy_timeout)}" if self.busy_timeout != SQLITE_BUSY_TIMEOUT else ""
            return f"sqlite:///{quote(self.path, safe='/:.~_-')}{query}"
        cred = quote(self.user, safe="")
        if self.password:
            cred += ":" + ("***" if redact else quote(self.password, safe=""))
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = f"{cred}@{host}" if cred else host
        if self.port != MYSQL_DEFAULT_PORT:
            netloc += f":{self.port}"
        opts = []
        if self.unix_socket:
            opts.append(f"unix_socket={quote(self.unix_socket, safe='/')}")
        for name, default in (("connect_timeout", MYSQL_CONNECT_TIMEOUT),
                              ("read_timeout", MYSQL_READ_TIMEOUT),
                              ("write_timeout", MYSQL_WRITE_TIMEOUT)):
            if getattr(self, name) != default:
                opts.append(f"{name}={_num(getattr(self, name))}")
        query = ("?" + "&".join(opts)) if opts else ""
        return f"mysql://{netloc}/{self.database}{query}"

    def redacted(self) -> str:
        """The URL with the password replaced by ``***``: safe for logs."""
        return self.geturl(redact=True)

    def with_database(self, name: str) -> StoreURL:
        """The same server, another database (tests and benchmarks use scratch ones)."""
        if self.backend != "mysql":
            raise StoreConfigError("with_database() only applies to mysql:// URLs")
        _check_db_name(name)
        return replace(self, database=name)

    def __str__(self) -> str:
        return self.redacted()


def parse_store_url(url: str) -> StoreURL:
    """Parse a store URL; raise :class:`StoreConfigError` saying what is wrong."""
    if not isinstance(url, str) or not url.strip():
        raise StoreConfigError("empty store URL; expected mysql://... or sqlite:///path")
    url = url.strip()
    scheme, sep, _ = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise StoreConfigError(f"store URL {_safe(url)!r} has no scheme; expected mysql://... or sqlite:///path")
    if scheme == "sqlite":
        return _parse_sqlite(url)
    if scheme in ("mysql", "mariadb"):
        return _parse_mysql(url)
    raise StoreConfigError(f"unsupported store URL scheme {scheme!r}; expected mysql:// or sqlite:///")


def _parse_sqlite(url: str) -> StoreURL:
    rest = url[len("sqlite://"):]
    if not rest.startswith("/"):
        raise StoreConfigError(
            f"SQLite URL {url!r} names a host; use sqlite:///relative/path or sqlite:////absolute/path")
    body, _, query = rest[1:].partition("?")
    path = unquote(body)
    if not path:
        raise StoreConfigError(f"SQLite URL {url!r} has no file path (e.g. sqlite:///./sitetruth.db)")
    options = _options(query, _SQLITE_OPTIONS, url)
    busy = _seconds(options, "busy_timeout", SQLITE_BUSY_TIMEOUT, url)
    return StoreURL(backend="sqlite", path=path, busy_timeout=busy)


def _parse_mysql(url: str) -> StoreURL:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise StoreConfigError(f"bad MySQL URL {_safe(url)!r}: {e}") from e
    if parts.fragment:
        raise StoreConfigError(f"bad MySQL URL {_safe(url)!r}: unexpected '#' fragment")
    options = _options(parts.query, _MYSQL_OPTIONS, _safe(url))
    socket = options.get("unix_socket", "")
    host = parts.hostname or ""
    if not host and not socket:
        raise StoreConfigError(f"MySQL URL {_safe(url)!r} names no host (or ?unix_socket=)")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise StoreConfigError(f"MySQL URL {_safe(url)!r} names no database (mysql://user@host/DB)")
    _check_db_name(database)
    return StoreURL(
        backend="mysql",
        host=host or "localhost",
        port=port or MYSQL_DEFAULT_PORT,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=database,
        unix_socket=socket,
        connect_timeout=_seconds(options, "connect_timeout", MYSQL_CONNECT_TIMEOUT, _safe(url)),
        read_timeout=_seconds(options, "read_timeout", MYSQL_READ_TIMEOUT, _safe(url)),
        write_timeout=_seconds(options, "write_timeout", MYSQL_WRITE_TIMEOUT, _safe(url)),
    )


def _options(query: str, allowed: set[str], url: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as e:
        raise StoreConfigError(f"bad query string in store URL {url!r}: {e}") from e
    options: dict[str, str] = {}
    for key, value in pairs:
        if key not in allowed:
            raise StoreConfigError(
                f"unknown option {key!r} in store URL {url!r}; known: {', '.join(sorted(allowed))}")
        options[key] = value
    return options


def _seconds(options: dict[str, str], name: str, default: float, url: str) -> float:
    if name not in options:
        return default
    try:
        value = float(options[name])
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise StoreConfigError(f"option {name}={options[name]!r} in {url!r} must be seconds in (0, 3600]")
    return value


def _check_db_name(name: str) -> None:
    if not _DB_NAME.match(name):
        raise StoreConfigError(
            f"database name {name!r} must be 1-64 characters of letters, digits, '_', '$' or '-'")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _safe(url: str) -> str:
    """``url`` with any password masked, for error messages about unparsable URLs."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)
