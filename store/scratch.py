"""Throw-away stores for tests and benchmarks: a fresh, empty database, removed after.

SQLite: a file in a new temporary directory (or the one given). MySQL: a
uniquely named database created on the server of a given URL (whose own
database is left alone) and dropped afterwards. Not used by the daemons.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import StoreConfigError
from .url import parse_store_url

__all__ = ["scratch_store_url"]


@contextmanager
def scratch_store_url(backend: str, *, mysql_url: str | None = None, directory: str | None = None,
                      prefix: str = "sitetruth_scratch") -> Iterator[str]:
    """Yield the URL of a new empty store of ``backend`` (``"sqlite"`` or ``"mysql"``)."""
    if backend == "sqlite":
        owned = directory is None
        where = tempfile.mkdtemp(prefix=prefix + "_") if owned else directory
        path = os.path.join(os.path.abspath(where), f"{prefix}_{secrets.token_hex(4)}.db")
        try:
            yield f"sqlite:///{path}"
        finally:
            if owned:
                shutil.rmtree(where, ignore_errors=True)
            else:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    try:
                        os.unlink(path + suffix)
                    except FileNotFoundError:
                        pass
        return
    if backend != "mysql":
        raise StoreConfigError(f"unknown back end {backend!r}; expected 'sqlite' or 'mysql'")
    if not mysql_url:
        raise StoreConfigError("a scratch MySQL database needs the URL of a server")
    from ._mysql import server_command

    base = parse_store_url(mysql_url)
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    url = base.with_database(name)
    server_command(base, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        yield url.geturl()
    finally:
        server_command(base, f"DROP DATABASE IF EXISTS `{name}`")
