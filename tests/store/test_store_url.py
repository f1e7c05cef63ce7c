"""Store URL parsing: the forms operators write in --store / SITETRUTH_STORE."""

from __future__ import annotations

import pytest

from store import DEFAULT_STORE_URL, StoreConfigError, parse_store_url

GOOD = [
    ("mysql://user:pass@db.internal:3307/st",
     dict(backend="mysql", user="user", password="pass", host="db.internal", port=3307, database="st", unix_socket="")),
    ("mysql://user@localhost/st?unix_socket=/run/mysqld/mysqld.sock",
     dict(backend="mysql", user="user", password="", host="localhost", port=3306, database="st",
          unix_socket="/run/mysqld/mysqld.sock")),
    ("mysql://u:p%40ss%3Aw%2Fd@h/db",
     dict(user="u", password="p@ss:w/d", host="h", database="db")),
    ("mysql://bob%20x@h/db?connect_timeout=2&read_timeout=7.5&write_timeout=9",
     dict(user="bob x", connect_timeout=2.0, read_timeout=7.5, write_timeout=9.0)),
    ("mariadb://u@h/db", dict(backend="mysql", host="h", database="db")),
    ("mysql://u@[::1]:3310/db", dict(host="::1", port=3310)),
    ("mysql://u@/db?unix_socket=/tmp/s.sock", dict(host="localhost", unix_socket="/tmp/s.sock")),
    ("sqlite:///./sitetruth.db", dict(backend="sqlite", path="./sitetruth.db")),
    ("sqlite:///relative/dir/x.db", dict(backend="sqlite", path="relative/dir/x.db")),
    ("sqlite:////var/lib/sitetruth/x.db", dict(backend="sqlite", path="/var/lib/sitetruth/x.db")),
    ("sqlite:///:memory:", dict(backend="sqlite", path=":memory:")),
    ("sqlite:///with%20space.db", dict(path="with space.db")),
    ("sqlite:///x.db?busy_timeout=2", dict(path="x.db", busy_timeout=2.0)),
    ("  SQLITE:///x.db  ", dict(backend="sqlite", path="x.db")),
]


@pytest.mark.parametrize("url,expected", GOOD, ids=[u.strip() for u, _ in GOOD])
def test_parses(url, expected):
    parsed = parse_store_url(url)
    for field, value in expected.items():
        assert getattr(parsed, field) == value, field


@pytest.mark.parametrize("url", [u for u, _ in GOOD])
def test_geturl_round_trips(url):
    parsed = parse_store_url(url)
    assert parse_store_url(parsed.geturl()) == parsed


def test_default_is_sqlite_in_cwd():
    assert parse_store_url(DEFAULT_STORE_URL).path == "./sitetruth.db"


BAD = [
    ("", "empty"),
    ("sitetruth.db", "no scheme"),
    ("postgres://u@h/db", "unsupported"),
    ("mysql://u@h", "no database"),
    ("mysql://u@h/", "no database"),
    ("mysql:///db", "no host"),
    ("mysql://u@h:99999/db", "bad MySQL URL"),
    ("mysql://u:s3cret@h:abc/db", "bad MySQL URL"),
    ("mysql://u@h/db?bogus=1", "unknown option 'bogus'"),
    ("mysql://u@h/db?connect_timeout=0", "connect_timeout"),
    ("mysql://u@h/db?connect_timeout=soon", "connect_timeout"),
    ("mysql://u@h/db;drop", "database name"),
    ("mysql://u@h/db#frag", "fragment"),
    ("sqlite://", "names a host"),
    ("sqlite:///", "no file path"),
    ("sqlite://host/x.db", "names a host"),
    ("sqlite:///x.db?timeout=1", "unknown option 'timeout'"),
]


@pytest.mark.parametrize("url,message", BAD, ids=[u or "<empty>" for u, _ in BAD])
def test_rejects_with_a_reason(url, message):
    with pytest.raises(StoreConfigError, match=message) as info:
        parse_store_url(url)
    assert "s3cret" not in str(info.value)


def test_password_never_shown():
    parsed = parse_store_url("mysql://app:s3cret%21@db:3306/st?unix_socket=/s.sock")
    assert parsed.password == "s3cret!"
    assert parsed.redacted() == "mysql://app:***@db/st?unix_socket=/s.sock"
    for shown in (str(parsed), repr(parsed), parsed.redacted()):
        assert "s3cret" not in shown
    assert "s3cret%21" in parsed.geturl()


def test_with_database_swaps_only_the_database():
    base = parse_store_url("mysql://root:pw@127.0.0.1:13306/sitetruth?unix_socket=/x.sock")
    other = base.with_database("scratch_1")
    assert (other.database, other.password, other.unix_socket, other.port) == ("scratch_1", "pw", "/x.sock", 13306)
    with pytest.raises(StoreConfigError):
        base.with_database("bad name`")
