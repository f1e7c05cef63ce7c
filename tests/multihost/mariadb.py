"""MariaDB servers on rig hosts: a primary and a replica joined by real replication.

Each server is a private ``mariadbd`` in a temporary data directory, started
inside its host's namespace and listening on that host's address. The test
process itself talks to a server through its UNIX socket (the filesystem is
shared by every namespace), so it can read either side and pause the
replica without going through the rig's network.

Replication is MariaDB's own: binary log with row events on the primary,
``CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos`` on the replica.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass

import MySQLdb

from .rig import Rig

__all__ = ["Server", "start_server", "replicate", "APP_USER", "APP_PASSWORD"]

APP_USER, APP_PASSWORD = "sitetruth", "rig-app-pw"
REPL_USER, REPL_PASSWORD = "replicator", "rig-repl-pw"
PORT = 3306


def _bin(*names: str) -> str:
    for n in names:
        path = shutil.which(n) or (f"/usr/sbin/{n}" if os.path.exists(f"/usr/sbin/{n}") else None)
        if path:
            return path
    raise RuntimeError(f"none of {names} found: install mariadb-server")


@dataclass
class Server:
    host: str
    addr: str
    datadir: str
    socket: str

    def url(self, database: str = "sitetruth") -> str:
        """The store URL a process on another rig host uses."""
        return f"mysql://{APP_USER}:{APP_PASSWORD}@{self.addr}:{PORT}/{database}"

    def connect(self):
        """A root connection over the UNIX socket, from the test process."""
        return MySQLdb.connect(unix_socket=self.socket, user="root", charset="utf8mb4", autocommit=True)

    def execute(self, sql: str, args=None) -> list[tuple]:
        conn = self.connect()
        try:
            cur = conn.cursor()
            cur.execute(sql, args)
            return list(cur.fetchall()) if cur.description else []
        finally:
            conn.close()


def start_server(rig: Rig, host: str, server_id: int) -> Server:
    """Install and start a server on ``host``; returns once it answers."""
    base = os.path.join(rig.workdir, f"mariadb-{host}")
    datadir, sock = os.path.join(base, "data"), os.path.join(base, "mysqld.sock")
    os.makedirs(base, exist_ok=True)
    subprocess.run([_bin("mariadb-install-db", "mysql_install_db"), "--user=root", f"--datadir={datadir}",
                    "--auth-root-authentication-method=normal", "--skip-test-db"],
                   check=True, capture_output=True, timeout=120)
    addr = rig.hosts[host].addr
    rig.start(host, [_bin("mariadbd", "mysqld"), "--no-defaults", "--user=root", f"--datadir={datadir}",
                     f"--socket={sock}", f"--pid-file={base}/mysqld.pid", f"--port={PORT}",
                     f"--bind-address={addr}", "--skip-name-resolve", f"--server-id={server_id}",
                     f"--log-bin={base}/binlog", "--binlog-format=ROW", "--log-slave-updates",
                     "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
                     "--innodb-buffer-pool-size=64M", f"--log-error={base}/error.log"],
              f"mariadb-{host}")
    server = Server(host, addr, datadir, sock)
    end = time.monotonic() + 60
    while True:
        try:
            server.execute("SELECT 1")
            break
        except MySQLdb.Error:
            if time.monotonic() > end:
                raise RuntimeError(f"MariaDB on {host} did not start: see {base}/error.log")
            time.sleep(0.2)
    # Accounts are made on each server without logging them, so the replica
    # does not try to create them a second time from the primary's binlog.
    server.execute("SET sql_log_bin = 0")
    for sql in (f"CREATE USER '{APP_USER}'@'%' IDENTIFIED BY '{APP_PASSWORD}'",
                f"GRANT ALL ON *.* TO '{APP_USER}'@'%'",
                f"CREATE USER '{REPL_USER}'@'%' IDENTIFIED BY '{REPL_PASSWORD}'",
                f"GRANT REPLICATION SLAVE ON *.* TO '{REPL_USER}'@'%'"):
        conn = server.connect()
        try:
            cur = conn.cursor()
            cur.execute("SET sql_log_bin = 0")
            cur.execute(sql)
        finally:
            conn.close()
    return server


def replicate(primary: Server, replica: Server) -> None:
    """Make ``replica`` follow ``primary`` from the primary's current position."""
    replica.execute(
        "CHANGE MASTER TO MASTER_HOST=%s, MASTER_PORT=%s, MASTER_USER=%s, MASTER_PASSWORD=%s, "
        "MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
        (primary.addr, PORT, REPL_USER, REPL_PASSWORD))
    replica.execute("START SLAVE")
    end = time.monotonic() + 30
    while time.monotonic() < end:
        conn = replica.connect()
        try:
            cur = conn.cursor(MySQLdb.cursors.DictCursor)
            cur.execute("SHOW SLAVE STATUS")
            row = cur.fetchone() or {}
        finally:
            conn.close()
        if row.get("Slave_IO_Running") == "Yes" and row.get("Slave_SQL_Running") == "Yes":
            return
        time.sleep(0.2)
    raise RuntimeError(f"replica on {replica.host} did not start replicating: {row.get('Last_IO_Error')}")


def pause(replica: Server) -> None:
    """Stop applying the primary's changes (they keep arriving in the relay log)."""
    replica.execute("STOP SLAVE SQL_THREAD")


def resume(replica: Server) -> None:
    replica.execute("START SLAVE SQL_THREAD")
