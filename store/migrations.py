"""The one schema, as an ordered list of versioned migrations per dialect.

``sitetruth-db migrate`` (``Store.migrate``) applies, in order, every
migration whose version is not yet in ``schema_migrations``. Each migration
carries the same change written for SQLite and for MySQL/MariaDB; the two
must stay equivalent (the test suite runs every API call on both).

Rules for adding one: append, never edit a released migration; give it the
next version; write statements that can be re-run (``IF NOT EXISTS``),
because MySQL DDL commits implicitly, so a crash between a MySQL migration's
DDL and its ``schema_migrations`` row leaves work that the next run repeats.
SQLite DDL is transactional and a migration there is all-or-nothing.

Tables (times are epoch seconds, DOUBLE/REAL):

- ``ratings``: the system of record, one row per registrable domain.
- ``rating_queue``: the durable copy of the broker's queue, one row per
  domain; ``seq`` keeps enqueue order for the reload after a restart.
- ``error_log``: last-resort tracebacks of every process.

``ratings.rated_by`` (version 2) names the rater that produced each rating.

``broker_lease`` (version 3): one row naming the broker that last became
active on this store and its epoch, a number every new active broker
increments (see ``Store.take_broker_lease``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Migration", "MIGRATIONS", "LATEST_VERSION", "BOOTSTRAP", "TABLES"]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sqlite: tuple[str, ...]
    mysql: tuple[str, ...]


# The bookkeeping table itself; created before any migration runs.
BOOTSTRAP = {
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER NOT NULL PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " applied_at REAL NOT NULL)"
    ),
    "mysql": (
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INT NOT NULL PRIMARY KEY,"
        " name VARCHAR(100) NOT NULL,"
        " applied_at DOUBLE NOT NULL"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
    ),
}

# MySQL notes: domains are ASCII (IDNA-encoded by protocol) and compared
# byte-wise (ascii_bin) so MySQL and SQLite agree on what "the same domain"
# is; free text is utf8mb4 so any traceback or business name fits.
_V1_SQLITE = (
    """CREATE TABLE IF NOT EXISTS ratings (
        domain TEXT NOT NULL PRIMARY KEY CHECK (length(domain) BETWEEN 1 AND 253),
        rating TEXT NOT NULL CHECK (rating IN ('A', 'Q', 'X', 'U')),
        ratinginfo TEXT NOT NULL DEFAULT '' CHECK (length(ratinginfo) <= 32),
        location TEXT,
        evidence TEXT NOT NULL DEFAULT '[]',
        rated_at REAL NOT NULL,
        expires_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS ratings_expires_at ON ratings (expires_at)",
    "CREATE INDEX IF NOT EXISTS ratings_rated_at ON ratings (rated_at)",
    # No AUTOINCREMENT: a rowid alias already grows past every live row,
    # which is all enqueue order needs, without the sqlite_sequence write.
    """CREATE TABLE IF NOT EXISTS rating_queue (
        seq INTEGER PRIMARY KEY,
        domain TEXT NOT NULL UNIQUE CHECK (length(domain) BETWEEN 1 AND 253),
        client_ip TEXT NOT NULL,
        priority INTEGER NOT NULL,
        enqueued_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX IF NOT EXISTS rating_queue_client_ip ON rating_queue (client_ip)",
    """CREATE TABLE IF NOT EXISTS error_log (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        host TEXT NOT NULL,
        process TEXT NOT NULL,
        component TEXT NOT NULL,
        domain TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL,
        traceback TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS error_log_at ON error_log (at)",
)

_V1_MYSQL = (
    """CREATE TABLE IF NOT EXISTS ratings (
        domain VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        rating CHAR(1) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        ratinginfo VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
        location TEXT NULL,
        evidence MEDIUMTEXT NOT NULL,
        rated_at DOUBLE NOT NULL,
        expires_at DOUBLE NOT NULL,
        PRIMARY KEY (domain),
        KEY ratings_expires_at (expires_at),
        KEY ratings_rated_at (rated_at),
        CONSTRAINT ratings_letter CHECK (rating IN ('A', 'Q', 'X', 'U'))
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
    """CREATE TABLE IF NOT EXISTS rating_queue (
        seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        domain VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        client_ip VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        priority INT NOT NULL,
        enqueued_at DOUBLE NOT NULL,
        attempts INT NOT NULL DEFAULT 0,
        PRIMARY KEY (seq),
        UNIQUE KEY rating_queue_domain (domain),
        KEY rating_queue_client_ip (client_ip)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
    """CREATE TABLE IF NOT EXISTS error_log (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        at DOUBLE NOT NULL,
        host VARCHAR(255) NOT NULL,
        process VARCHAR(64) NOT NULL,
        component VARCHAR(64) NOT NULL,
        domain VARCHAR(255) NOT NULL DEFAULT '',
        message TEXT NOT NULL,
        traceback MEDIUMTEXT NOT NULL,
        PRIMARY KEY (id),
        KEY error_log_at (at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
)

# Version 2: the audit column. Who produced each rating (the rater's key
# name), so everything a compromised key rated can be found and re-rated.
# SQLite's ADD COLUMN cannot say IF NOT EXISTS, but its migration is one
# transaction; MariaDB's can (its DDL commits implicitly, so it may re-run).
_V2_SQLITE = (
    "ALTER TABLE ratings ADD COLUMN rated_by VARCHAR(255) NOT NULL DEFAULT ''",
    "CREATE INDEX IF NOT EXISTS ratings_rated_by ON ratings (rated_by)",
)
_V2_MYSQL = (
    "ALTER TABLE ratings ADD COLUMN IF NOT EXISTS rated_by VARCHAR(255) NOT NULL DEFAULT ''",
    "CREATE INDEX IF NOT EXISTS ratings_rated_by ON ratings (rated_by)",
)

# Version 3: the active broker's lease. The lock itself lives outside the
# tables (GET_LOCK on MariaDB, a file lock beside an SQLite file); the row
# carries the epoch, so a broker that lost its lock and got it back can tell
# whether another broker was active in between.
_V3_SQLITE = (
    """CREATE TABLE IF NOT EXISTS broker_lease (
        name TEXT NOT NULL PRIMARY KEY,
        epoch INTEGER NOT NULL,
        holder TEXT NOT NULL,
        since REAL NOT NULL)""",
)
_V3_MYSQL = (
    """CREATE TABLE IF NOT EXISTS broker_lease (
        name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        epoch BIGINT NOT NULL,
        holder VARCHAR(255) NOT NULL,
        since DOUBLE NOT NULL,
        PRIMARY KEY (name)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "ratings, rating_queue, error_log", _V1_SQLITE, _V1_MYSQL),
    Migration(2, "ratings.rated_by (audit)", _V2_SQLITE, _V2_MYSQL),
    Migration(3, "broker_lease (hot standby)", _V3_SQLITE, _V3_MYSQL),
)

LATEST_VERSION = MIGRATIONS[-1].version

# Tables whose row counts `sitetruth-db status` reports.
TABLES = ("ratings", "rating_queue", "error_log")

# Column sizes the codec clips or checks against (characters unless *_BYTES).
MAX_DOMAIN = 253
MAX_CLIENT_IP = 64
MAX_RATINGINFO = 32
MAX_HOST = 255
MAX_PROCESS = 64
MAX_COMPONENT = 64
MAX_ERROR_DOMAIN = 255
MAX_RATED_BY = 255
TEXT_BYTES = 65_535
MEDIUMTEXT_BYTES = 16_777_215


def _check() -> None:
    versions = [m.version for m in MIGRATIONS]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migration versions must be 1..n in order, got {versions}")


_check()
