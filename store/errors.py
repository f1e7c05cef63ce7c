"""The store's exceptions: one base under ``SiteTruthError``, a subclass per kind of failure.

Every driver exception (``sqlite3.Error``, ``MySQLdb.Error``) is translated
where it enters the store (``raise StoreUnavailable(...) from e``), so callers
in the broker and the frontend never import a database driver to handle
failures. The split is by what the caller should *do*:

- :class:`StoreUnavailable` -- try again later (back off, keep serving from
  memory or cache). Nothing was written.
- :class:`StoreConfigError` -- a person must fix the configuration (bad URL,
  missing driver, wrong credentials, missing database). Retrying won't help.
- :class:`SchemaError` -- the database is not at this code's schema version:
  run ``sitetruth-db migrate`` (or upgrade the code).
- :class:`LeaseLost` -- this process was the store's active broker and is
  no longer: another broker may be writing. Stop writing; never retry.
- :class:`InvalidRecord` -- the caller handed the store a value it cannot
  hold (a rating letter outside the contract, a 300-character domain...).
"""

from __future__ import annotations

from protocol.errors import SiteTruthError

__all__ = [
    "StoreError",
    "StoreUnavailable",
    "StoreConfigError",
    "SchemaError",
    "InvalidRecord",
    "LeaseLost",
]


class StoreError(SiteTruthError):
    """Root of every error the store raises (under the project's ``SiteTruthError``)."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or used right now; retrying later may work.

    Raised for: cannot connect, connection lost (and not transparently
    recovered), server shutting down, too many connections, lock wait or
    deadlock still failing after retries, SQLite "database is locked" after
    the busy timeout, disk full or I/O errors. The transaction that was
    running has been rolled back, except where the message says the
    connection was lost *during COMMIT*: then the outcome is unknown, and the
    caller may simply repeat the call (every write except ``append_errors``
    is idempotent).
    """


class StoreConfigError(StoreError):
    """The store is configured wrongly: bad URL, missing driver, bad credentials."""


class SchemaError(StoreError):
    """The database schema is missing, out of date, or newer than this code."""


class InvalidRecord(StoreError, ValueError):
    """A record handed to the store has a value the schema cannot hold."""


class LeaseLost(StoreError):
    """The broker lease held through this Store is gone (its lock was lost and another broker took it).

    Raised by the first call after the connection that held the lock was
    lost, when the lock cannot be taken again or the lease's epoch moved on.
    Nothing of that call was written.
    """
