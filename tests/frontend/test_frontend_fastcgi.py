"""The FastCGI responder, spoken to as a web server would (tests/support/fcgi_client.py)."""

from __future__ import annotations

import os
import socket
import stat
import struct
import threading

import pytest
from lxml import etree

from frontend import FastCGIServer, FrontendConfigError
from frontend.render import NAMESPACE
from tests.support.fcgi_client import (
    ABORT_REQUEST,
    AUTHORIZER,
    END_REQUEST,
    GET_VALUES,
    GET_VALUES_RESULT,
    PARAMS,
    STDIN,
    STDOUT,
    UNKNOWN_TYPE,
    FastCGIClient,
    nginx_params,
    pairs,
    unpairs,
)

NS = {"st": NAMESPACE}
API = "/fcgi/rateapiv3.fcgi"


@pytest.fixture
def fcgi(seeded_sqlite, frontend_app, tmp_path):
    """A FastCGI server on a UNIX socket in a thread; yields its socket path."""
    servers = []

    def start(address: str | None = None, **config) -> FastCGIServer:
        app = frontend_app(store=seeded_sqlite, **config)
        server = FastCGIServer(app, address or str(tmp_path / "fcgi.sock"), threads=4)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return server

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(10)
        server.close()


def ratings(body: bytes) -> list[dict[str, str]]:
    return [dict(e.attrib) for e in etree.fromstring(body).findall("st:rating", NS)]


def test_api_request_with_nginx_params(fcgi):
    server = fcgi()
    with FastCGIClient(server.address) as c:
        r = c.request(nginx_params(f"{API}?url=www.example.com&url=1.2.3.4&key=guest"))
    assert (r.status, r.protocol_status, r.app_status) == (200, 0, 0)
    assert r.headers["content-type"] == "text/xml; charset=utf-8"
    assert int(r.headers["content-length"]) == len(r.body)
    assert [(i["domain"], i["rated_domain"], i["rating"]) for i in ratings(r.body)] == [
        ("www.example.com", "example.com", "A"), ("", "", "U")]
    assert r.records[-2] == (STDOUT, 1, b"")  # the stream is closed before END_REQUEST


def test_keep_conn_serves_several_requests_on_one_connection(fcgi):
    server = fcgi()
    with FastCGIClient(server.address) as c:
        for rid in (1, 2, 7):
            r = c.request(nginx_params(f"{API}?url=example.com&format=json"), rid=rid, keep=True)
            assert r.status == 200 and b'"rating":"A"' in r.body
        c.sock.settimeout(0.2)  # kept open: nothing to read, no EOF
        with pytest.raises(TimeoutError):
            c.sock.recv(1)
        c.sock.settimeout(10)
        r = c.request(nginx_params("/static/frontend.css"), rid=8, keep=False)
        assert r.status == 200
        assert c.closed_by_peer()


def test_params_split_across_records_and_long_values(fcgi):
    server = fcgi()
    params = nginx_params(f"{API}?" + "&".join(["url=example.com"] * 50))
    params["HTTP_X_LONG"] = "v" * 70000  # a 4-byte length, spanning two records
    with FastCGIClient(server.address) as c:
        r = c.request(params, params_chunk=1000)
    assert r.status == 200 and len(ratings(r.body)) == 50


def test_reply_larger_than_one_record(fcgi):
    server = fcgi()
    url = "https://www.example.com/" + "p" * 550
    with FastCGIClient(server.address) as c:
        r = c.request(nginx_params(f"{API}?" + "&".join([f"url={url}"] * 100)))
    assert len(r.body) > 65535
    assert sum(1 for t, _, content in r.records if t == STDOUT and content) >= 2
    assert [i["url"] for i in ratings(r.body)] == [url] * 100


def test_remote_addr_is_the_client_and_head_has_no_body(fcgi):
    server = fcgi()
    with FastCGIClient(server.address) as c:
        assert c.request(nginx_params("/status", remote="203.0.113.5")).status == 403
    with FastCGIClient(server.address) as c:
        assert c.request(nginx_params("/status", remote="127.0.0.1")).status == 200
    with FastCGIClient(server.address) as c:
        r = c.request(nginx_params(f"{API}?url=example.com", method="HEAD"))
        assert r.status == 200 and r.body == b"" and int(r.headers["content-length"]) > 0


def test_get_values_and_unknown_management_records(fcgi):
    server = fcgi()
    with FastCGIClient(server.address) as c:
        c.send(GET_VALUES, 0, pairs([(b"FCGI_MPXS_CONNS", b""), (b"FCGI_MAX_CONNS", b""), (b"NOPE", b"")]))
        rtype, rid, content = c.read_record()
        assert (rtype, rid) == (GET_VALUES_RESULT, 0)
        assert unpairs(content) == {b"FCGI_MPXS_CONNS": b"0", b"FCGI_MAX_CONNS": b"4"}
        c.send(42, 0, b"x")
        rtype, rid, content = c.read_record()
        assert (rtype, rid, content[0]) == (UNKNOWN_TYPE, 0, 42)
        # The connection is still good for a request.
        assert c.request(nginx_params("/static/frontend.css")).status == 200


def test_unknown_role_and_no_multiplexing(fcgi):
    server = fcgi()
    with FastCGIClient(server.address) as c:
        c.begin(1, role=AUTHORIZER, keep=True)
        rtype, rid, content = c.read_record()
        assert (rtype, rid, content[4]) == (END_REQUEST, 1, 3)  # FCGI_UNKNOWN_ROLE
        c.begin(2, keep=True)
        c.begin(3, keep=True)  # while 2 is open
        rtype, rid, content = c.read_record()
        assert (rtype, rid, content[4]) == (END_REQUEST, 3, 1)  # FCGI_CANT_MPX_CONN
        c.send_stream(PARAMS, 2, pairs(nginx_params("/static/frontend.css")))
        c.send_stream(STDIN, 2, b"")
        assert c.response(2).status == 200


def test_abort_ends_the_request_without_output(fcgi):
    server = fcgi()
    with FastCGIClient(server.address) as c:
        c.begin(5, keep=True)
        c.send(PARAMS, 5, pairs(nginx_params("/static/frontend.css")))
        c.send(ABORT_REQUEST, 5)
        rtype, rid, content = c.read_record()
        assert (rtype, rid) == (END_REQUEST, 5)
        assert c.request(nginx_params("/static/frontend.css"), rid=6).status == 200


def test_request_body_over_the_limit_is_413(fcgi):
    server = fcgi()
    with FastCGIClient(server.address) as c:
        r = c.request(nginx_params(API, method="POST"), stdin=b"x" * (1024 * 1024 + 10))
    assert r.status == 413


@pytest.mark.parametrize("garbage", [
    struct.pack("!BBHHBx", 9, 1, 1, 0, 0),          # wrong version
    struct.pack("!BBHHBx", 1, 5, 1, 4, 0) + b"ab",  # record cut short, then EOF
    struct.pack("!BBHHBx", 1, 1, 1, 3, 0) + b"abc",  # BEGIN_REQUEST body of the wrong size
])
def test_protocol_garbage_closes_that_connection_only(fcgi, garbage):
    server = fcgi()
    with FastCGIClient(server.address) as bad:
        bad.sock.sendall(garbage)
        bad.sock.shutdown(socket.SHUT_WR)
        assert bad.closed_by_peer()
    with FastCGIClient(server.address) as c:
        assert c.request(nginx_params("/static/frontend.css")).status == 200


def test_socket_file_mode_stale_file_and_socket_in_use(fcgi, tmp_path):
    path = str(tmp_path / "s.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()  # a socket file nobody listens on: left by a crash
    server = fcgi(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
    with pytest.raises(FrontendConfigError, match="in use"):
        FastCGIServer(lambda e, s: [], path)
    plain = tmp_path / "not-a-socket"
    plain.write_text("x")
    with pytest.raises(FrontendConfigError, match="not a socket"):
        FastCGIServer(lambda e, s: [], str(plain))
    server.shutdown()
    server.close()
    assert not os.path.exists(path)


def test_tcp_with_web_server_address_list(fcgi, monkeypatch):
    server = fcgi("127.0.0.1:0")
    host, port = server.address.rsplit(":", 1)
    with FastCGIClient((host, int(port))) as c:
        assert c.request(nginx_params("/static/frontend.css")).status == 200
    monkeypatch.setenv("FCGI_WEB_SERVER_ADDRS", "127.0.0.2")
    with FastCGIClient((host, int(port))) as c:
        assert c.closed_by_peer()
