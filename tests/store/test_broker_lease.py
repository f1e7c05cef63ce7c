"""The store's broker lease: one holder at a time, epochs that grow, and no write after the lock was lost.

A broker is active while its Store holds the lease (MariaDB: GET_LOCK on
that connection; SQLite: a file lock). These tests drive the Store API
directly, on both back ends where the behaviour is shared, and use the
server's KILL for what only a MariaDB session can lose.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from store import LATEST_VERSION, LeaseLost, QueuedJob, StoredRating, open_store


def test_one_holder_at_a_time_and_each_new_one_gets_the_next_epoch(store_url):
    a, b = open_store(store_url), open_store(store_url)
    try:
        first = a.take_broker_lease("broker-a", wait=0.2)
        assert first is not None and first.epoch == 1 and first.holder == "broker-a"
        assert a.schema_version() == LATEST_VERSION          # taking it migrates a fresh store
        started = time.monotonic()
        assert b.take_broker_lease("broker-b", wait=0.3) is None
        assert time.monotonic() - started >= 0.25              # it waited for the lock
        assert b.broker_lease() == first                       # and can say who is active
        assert a.take_broker_lease("broker-a", wait=0) == first   # holding it already: the same lease
        a.release_broker_lease()
        second = b.take_broker_lease("broker-b", wait=0.2)
        assert second is not None and second.epoch == 2 and b.holds_broker_lease == second
        assert a.broker_lease() == second
    finally:
        a.close()
        b.close()


def test_closing_the_store_gives_the_lease_up(store_url):
    a, b = open_store(store_url), open_store(store_url)
    try:
        assert a.take_broker_lease("broker-a", wait=0.2) is not None
        a.close()
        lease = b.take_broker_lease("broker-b", wait=0.5)
        assert lease is not None and lease.epoch == 2
    finally:
        b.close()


def test_an_sqlite_lease_ends_with_its_process_however_it_ends(tmp_path):
    url = f"sqlite:///{tmp_path}/lease.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from store import open_store\n"
         "s = open_store(sys.argv[1]); print(s.take_broker_lease('other-process', wait=1).epoch, flush=True)\n"
         "time.sleep(60)\n", url],
        stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    try:
        assert holder.stdout.readline().strip() == "1"
        with open_store(url) as s:
            assert s.take_broker_lease("me", wait=0.3) is None
            holder.send_signal(signal.SIGKILL)
            holder.wait(10)
            lease = s.take_broker_lease("me", wait=2)
            assert lease is not None and lease.epoch == 2
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def _lock_owner(store) -> int:
    """The server connection id that holds the broker lock of ``store``'s database."""
    def body(cur):
        cur.execute("SELECT IS_USED_LOCK(%s)", (f"sitetruth.broker.{store.url.database}"[:64],))
        return cur.fetchone()[0]
    return store._run("who holds the lock", body, write=False, schema=False)


def _kill(admin, connection_id: int) -> None:
    admin._run("kill", lambda cur: cur.execute(f"KILL {int(connection_id)}"), write=False, schema=False)


@pytest.mark.mysql
def test_a_lost_connection_is_taken_up_again_when_nobody_else_was_active(mysql_store_url):
    holder, admin = open_store(mysql_store_url), open_store(mysql_store_url)
    try:
        lease = holder.take_broker_lease("broker-a", wait=0.5)
        owner = _lock_owner(admin)
        assert owner == holder.connection_id()
        _kill(admin, owner)                                   # a server restart or a network blip
        holder.enqueue([QueuedJob("after-blip.com", "192.0.2.1", 1, time.time())])
        assert holder.holds_broker_lease == lease
        assert _lock_owner(admin) == holder.connection_id() != owner
        assert [j.domain for j in admin.load_queue()] == ["after-blip.com"]
    finally:
        holder.close()
        admin.close()


@pytest.mark.mysql
def test_a_holder_whose_lock_another_broker_took_writes_nothing(mysql_store_url):
    holder, other, admin = open_store(mysql_store_url), open_store(mysql_store_url), open_store(mysql_store_url)
    try:
        assert holder.take_broker_lease("broker-a", wait=0.5).epoch == 1
        _kill(admin, _lock_owner(admin))
        assert other.take_broker_lease("broker-b", wait=0.5).epoch == 2
        with pytest.raises(LeaseLost, match="another broker holds"):
            holder.complete([StoredRating.new("late.com", "Q", rated_at=time.time())])
        assert holder.holds_broker_lease is None
        # Even once the other broker has gone again, the epoch says it was there.
        other.release_broker_lease()
        again = open_store(mysql_store_url)
        try:
            assert again.take_broker_lease("broker-a again", wait=0.5).epoch == 3
        finally:
            again.close()
        assert admin.lookup_ratings(["late.com"]) == {}
    finally:
        for s in (holder, other, admin):
            s.close()


@pytest.mark.mysql
def test_a_holder_that_gets_the_lock_back_after_another_broker_ran_writes_nothing(mysql_store_url):
    holder, other, admin = open_store(mysql_store_url), open_store(mysql_store_url), open_store(mysql_store_url)
    try:
        holder.take_broker_lease("broker-a", wait=0.5)
        _kill(admin, _lock_owner(admin))
        other.take_broker_lease("broker-b", wait=0.5)
        other.release_broker_lease()                         # the lock is free, but the epoch moved on
        with pytest.raises(LeaseLost, match="another broker was active meanwhile"):
            holder.enqueue([QueuedJob("stale.com", "192.0.2.1", 1, time.time())])
        assert admin.load_queue() == []
        assert _lock_owner(admin) is None                    # it let the lock go again
    finally:
        for s in (holder, other, admin):
            s.close()


@pytest.mark.mysql
def test_the_server_frees_the_lock_of_a_silent_holder_after_the_lock_timeout(mysql_store_url):
    holder, other = open_store(mysql_store_url), open_store(mysql_store_url)
    try:
        holder.take_broker_lease("broker-a", wait=0.5, timeout=2)
        assert other.take_broker_lease("broker-b", wait=0.5) is None
        # The holder says nothing (as if its host had vanished): the server
        # ends its session after wait_timeout, and the lock with it.
        lease = other.take_broker_lease("broker-b", wait=6)
        assert lease is not None and lease.epoch == 2
    finally:
        holder.close()
        other.close()
