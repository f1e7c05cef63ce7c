"""The MySQL / MariaDB back end (``mysqlclient``, imported as ``MySQLdb``): production.

Connection settings are on purpose: ``utf8mb4`` (any business name or
traceback fits), autocommit off (every call is one explicit transaction),
a short ``connect_timeout`` and ``read_timeout``/``write_timeout`` so a dead
server costs a caller seconds, not a hung thread; per session a strict
``sql_mode`` (a value that does not fit is an error, never silently cut) and
``innodb_lock_wait_timeout`` of 5 s (lock waits are retried by ``_run``).
The isolation level is the server's (REPEATABLE READ by default); every
read ends its transaction at once, so no connection keeps an old snapshot.

``?unix_socket=/path`` connects through the socket (as ``user@localhost``);
without it, TCP to host:port.
"""

from __future__ import annotations

import math
from typing import Any

from ._base import Fault, Store
from .errors import StoreConfigError, StoreError, StoreUnavailable
from .url import StoreURL

try:
    import MySQLdb
except ImportError:  # the embedded SQLite default must work without it
    MySQLdb = None

__all__ = ["MySQLStore"]

# Client (2xxx) and server error numbers, grouped by what the caller should do.
_LOST = {
    1053,  # server shutdown in progress
    1927,  # ER_CONNECTION_KILLED (MariaDB)
    2006,  # server has gone away
    2013,  # lost connection during query
    2055,  # lost connection at '...', system error
    4031,  # disconnected by the server because of inactivity (MySQL 8)
}
_DOWN = {
    1021,  # disk full
    1040,  # too many connections
    1114,  # table is full
    1203,  # user has too many connections
    2001,  # can't create unix socket
    2002,  # can't connect through the unix socket
    2003,  # can't connect to host:port
    2005,  # unknown host
}
_BUSY = {
    1205,  # lock wait timeout
    1213,  # deadlock; InnoDB rolled the transaction back
}
_CONFIG = {
    1044,  # access denied to database
    1045,  # access denied for user (password)
    1049,  # unknown database
    1130,  # host not allowed to connect
    1251,  # client does not support the server's auth protocol
    2059,  # authentication plugin cannot be loaded
}
_SESSION_SETUP = (
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', "
    "SESSION innodb_lock_wait_timeout = 5"
)
_MIGRATION_LOCK_WAIT = 20  # seconds; under read_timeout so the wait is reported as such


def _connect_args(u: StoreURL, *, with_database: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "user": u.user,
        "password": u.password,
        "charset": "utf8mb4",
        "autocommit": False,
        "connect_timeout": max(1, math.ceil(u.connect_timeout)),
        "read_timeout": max(1, math.ceil(u.read_timeout)),
        "write_timeout": max(1, math.ceil(u.write_timeout)),
    }
    if with_database:
        kwargs["database"] = u.database
    if u.unix_socket:
        # libmysqlclient uses the socket only for host "localhost".
        kwargs.update(host="localhost", unix_socket=u.unix_socket)
    else:
        kwargs.update(host=u.host, port=u.port)
    return kwargs


def server_command(url: StoreURL, statement: str) -> None:
    """Run one administrative statement (CREATE/DROP DATABASE) without selecting a database.

    For ``store.scratch`` (tests, benchmarks); translates driver errors.
    """
    if MySQLdb is None:
        raise StoreConfigError("the MySQL driver (mysqlclient) is not installed: pip install '.[mysql]'")
    try:
        conn = MySQLdb.connect(**_connect_args(url, with_database=False))
        try:
            conn.cursor().execute(statement)
            conn.commit()
        finally:
            conn.close()
    except MySQLdb.Error as e:
        raise StoreUnavailable(f"{statement.split('`')[0].strip()} on {url} failed: {e}") from e


class MySQLStore(Store):
    backend = "mysql"
    _MAX_BUSY_RETRIES = 5
    _ENQUEUE_TAIL = "ON DUPLICATE KEY UPDATE domain = domain"  # a no-op: counts 0 rows, keeps the row
    # VALUES() rather than a row alias: MariaDB has no alias syntax, and
    # MySQL 8 still accepts VALUES() here.
    _UPSERT_TAIL = (
        "ON DUPLICATE KEY UPDATE rating = VALUES(rating), ratinginfo = VALUES(ratinginfo), "
        "location = VALUES(location), evidence = VALUES(evidence), "
        "rated_at = VALUES(rated_at), expires_at = VALUES(expires_at), rated_by = VALUES(rated_by)"
    )

    def __init__(self, url: StoreURL) -> None:
        if MySQLdb is None:
            raise StoreConfigError(
                f"store URL {url} needs the MySQL driver (mysqlclient); "
                "install the mysql extra: pip install '.[mysql]'")
        super().__init__(url)

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s")

    def _connect(self) -> Any:
        conn = MySQLdb.connect(**_connect_args(self._url, with_database=True))
        try:
            conn.cursor().execute(_SESSION_SETUP)
        except BaseException:
            conn.close()
            raise
        return conn

    def connection_id(self) -> int | None:
        """The server's id of the open connection (for ``KILL``; None if not connected)."""
        return None if self._conn is None else int(self._conn.thread_id())

    def _begin(self, cur: Any, write: bool) -> None:
        # autocommit is off: the first statement opens the transaction, and
        # _run ends it; an explicit START TRANSACTION would cost a round trip.
        pass

    def _has_table(self, cur: Any, name: str) -> bool:
        cur.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = %s",
                    (name,))
        return cur.fetchone() is not None

    def _lock_migrations(self, cur: Any) -> None:
        # DDL commits implicitly in MySQL, so a transaction cannot serialise
        # two migrators; a named lock (per database) can.
        cur.execute("SELECT GET_LOCK(%s, %s)", (self._lock_name(), _MIGRATION_LOCK_WAIT))
        if cur.fetchone()[0] != 1:
            raise StoreUnavailable(
                f"migrate: another process has held the migration lock on {self._url} "
                f"for over {_MIGRATION_LOCK_WAIT} s")

    def _unlock_migrations(self, cur: Any, commit: bool) -> None:
        # Commit before releasing: a racing migrator that gets the lock next
        # must see our schema_migrations rows.
        if commit:
            cur.connection.commit()
        try:
            cur.execute("SELECT RELEASE_LOCK(%s)", (self._lock_name(),))
            cur.fetchall()
        except MySQLdb.Error:
            pass  # the connection is gone, and the session's lock with it

    def _lock_name(self) -> str:
        return f"sitetruth.migrate.{self._url.database}"[:64]

    def _broker_lock_name(self) -> str:
        return f"sitetruth.broker.{self._url.database}"[:64]

    def _lock_broker(self, cur: Any, wait: float, timeout: float) -> bool:
        # The lock belongs to this session: it ends when the connection does,
        # and the server ends a connection that has said nothing for
        # wait_timeout seconds. That bounds how long a broker whose host
        # vanished keeps the store from its standby.
        cur.execute("SELECT GET_LOCK(%s, %s)", (self._broker_lock_name(), max(0.0, wait)))
        if cur.fetchone()[0] != 1:
            return False
        cur.execute("SET SESSION wait_timeout = %s", (max(1, math.ceil(timeout)),))
        return True

    def _holds_broker_lock(self, cur: Any) -> bool:
        cur.execute("SELECT IS_USED_LOCK(%s) = CONNECTION_ID()", (self._broker_lock_name(),))
        return cur.fetchone()[0] == 1

    def _classify(self, exc: BaseException, what: str) -> tuple[Fault, StoreError] | None:
        if MySQLdb is None or not isinstance(exc, MySQLdb.Error):
            return None
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        text = exc.args[1] if len(exc.args) > 1 else str(exc)
        where = f"MySQL store {self._url}"
        if isinstance(exc, MySQLdb.InterfaceError) or code in _LOST:
            return Fault.LOST, StoreUnavailable(f"{what}: lost the connection to {where} ({code}: {text})")
        if code in _DOWN:
            return Fault.DOWN, StoreUnavailable(f"{what}: {where} is unavailable ({code}: {text})")
        if code in _BUSY:
            return Fault.BUSY, StoreUnavailable(f"{what}: {where} is contended, gave up after retries ({code}: {text})")
        if code in _CONFIG:
            return Fault.DOWN, StoreConfigError(f"{where}: {text} ({code}); check the --store URL")
        return Fault.FATAL, StoreError(f"{what} failed on {where} ({code}: {text})")
