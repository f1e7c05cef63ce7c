"""Slow clients against the built-in HTTP server and the FastCGI responder, over real loopback sockets.

A slow client is one that sends its request a byte at a time, or not at
all, or never reads the reply. None of them may hold a worker for long or
delay anybody else.
"""

from __future__ import annotations

import http.client
import re
import selectors
import socket
import struct
import sys
import threading
import time

import pytest

from frontend.fastcgi import FastCGIServer
from frontend.httpserver import HTTPServer
from tests.support.fcgi_client import BEGIN_REQUEST, HEADER, PARAMS, RESPONDER, FastCGIClient, nginx_params
from tests.support.processes import Proc

API = "/fcgi/rateapiv3.fcgi"


class Trickler:
    """*n* connections that each send a request head one byte every *every* seconds, reconnecting when cut off."""

    HEAD = b"GET /fcgi/rateapiv3.fcgi?url=example.com HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 10_000

    def __init__(self, port: int, n: int, every: float, duration: float) -> None:
        self.port, self.n, self.every, self.duration = port, n, every, duration
        self.cut_off = 0
        self.bytes_sent = 0
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self) -> tuple[socket.socket, list[int]]:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.setblocking(False)
        return s, [0]

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        conns = [self._connect() for _ in range(self.n)]
        for s, pos in conns:
            sel.register(s, selectors.EVENT_READ, pos)
        self.connected.set()
        end = time.monotonic() + self.duration
        while not self._stop.is_set() and time.monotonic() < end:
            for i, (s, pos) in enumerate(conns):
                try:
                    s.send(self.HEAD[pos[0] % len(self.HEAD):][:1])
                    pos[0] += 1
                    self.bytes_sent += 1
                except OSError:
                    self._replace(sel, conns, i)
            for key, _ in sel.select(self.every):
                try:
                    data = key.fileobj.recv(4096)
                except OSError:
                    data = b""
                if not data:  # the server cut this one off: a real attacker comes back
                    index = next(i for i, (s, _) in enumerate(conns) if s is key.fileobj)
                    self._replace(sel, conns, index)
        for s, _ in conns:
            s.close()
        sel.close()

    def _replace(self, sel, conns, i) -> None:
        self.cut_off += 1
        old, _ = conns[i]
        try:
            sel.unregister(old)
        except (KeyError, ValueError):
            pass
        old.close()
        conns[i] = self._connect()
        sel.register(conns[i][0], selectors.EVENT_READ, conns[i][1])

    def __enter__(self) -> Trickler:
        self._thread.start()
        assert self.connected.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(30)


def test_64_trickling_connections_do_not_delay_200_normal_requests(seeded_sqlite, start_broker, tmp_path):
    """The real frontend process with its default worker count (16), four times fewer than the slow clients."""
    broker = start_broker(seeded_sqlite)
    proc = Proc([sys.executable, "-m", "frontend.cli", "--listen", "127.0.0.1:0", "--store", seeded_sqlite,
                 "--broker", broker.clients], str(tmp_path / "frontend.log"), ready_text="frontend listening on")
    try:
        port = int(re.search(r"frontend listening on http://127\.0\.0\.1:(\d+)", proc.output()).group(1))
        with Trickler(port, n=64, every=0.5, duration=120) as slow:
            time.sleep(1.0)  # every slow connection is in, trickling
            slowest = 0.0
            for i in range(200):
                started = time.monotonic()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2.0)
                try:
                    conn.request("GET", f"{API}?url=example.com&format=json")
                    response = conn.getresponse()
                    body = response.read()
                finally:
                    conn.close()
                took = time.monotonic() - started
                slowest = max(slowest, took)
                assert response.status == 200 and b'"rating": "A"' in body.replace(b'":"', b'": "'), (i, body[:200])
                assert took < 2.0, f"request {i} took {took:.2f} s"
            assert slow.bytes_sent > 64  # they really were trickling all along
        print(f"\n200 requests beside 64 trickling connections: slowest {slowest * 1000:.0f} ms")
    finally:
        assert proc.stop() == 0


def echo_app(environ, start_response):
    body = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {environ.get('HTTP_X_TEST', '')}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def serve():
    servers = []

    def start(app=echo_app, **kw) -> HTTPServer:
        server = HTTPServer(app, "127.0.0.1", 0, kw.pop("threads", 2), **kw)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return server

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(10)
        server.close()


def raw_request(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_the_head_deadline_is_overall_not_per_read(serve):
    server = serve(head_timeout=1.0)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        started = time.monotonic()
        reply = b""
        # One byte every 0.2 s: each read is quick, the head never ends.
        for byte in b"GET / HTTP/1.0\r\nX-Test: " + b"z" * 100:
            try:
                s.send(bytes([byte]))
            except OSError:
                break
            s.settimeout(0.2)
            try:
                got = s.recv(4096)
            except TimeoutError:
                continue
            reply += got
            break
        took = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.0 408"), reply[:80]
    assert 0.9 <= took < 3.0, took


def test_requests_with_a_body_and_bare_lf_heads_are_served(serve):
    server = serve()
    body = b"x" * 1000
    reply = raw_request(server.port, b"POST /p HTTP/1.0\r\nContent-Length: 1000\r\nX-Test: t\r\n\r\n" + body)
    assert reply.startswith(b"HTTP/1.0 200") and reply.endswith(b"POST /p t"), reply[-40:]
    reply = raw_request(server.port, b"GET /lf HTTP/1.0\nX-Test: lf\n\n")
    assert reply.startswith(b"HTTP/1.0 200") and reply.endswith(b"GET /lf lf")


@pytest.mark.parametrize("data,status", [
    (b"POST / HTTP/1.0\r\nContent-Length: 999999\r\n\r\n", b"413"),
    (b"POST / HTTP/1.0\r\nContent-Length: ten\r\n\r\n", b"400"),
    (b"GET / HTTP/1.0\r\n" + b"X-Big: " + b"b" * 60_000 + b"\r\nX-Big2: " + b"b" * 60_000 + b"\r\n\r\n", b"431"),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.0\r\n\r\n", b"414"),
])
def test_oversized_or_broken_requests_are_refused_by_status(serve, data, status):
    server = serve()
    try:
        reply = raw_request(server.port, data)
    except ConnectionResetError:
        pytest.fail("the server reset the connection instead of answering")
    assert reply.split(b" ", 2)[1] == status, reply[:80]


def test_silent_connections_beyond_the_cap_evict_the_oldest_not_the_newcomer(serve):
    server = serve(max_pending=8, head_timeout=30.0)
    silent = []
    try:
        for _ in range(8):
            silent.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
            time.sleep(0.02)  # arrival order is eviction order
        assert wait_for(lambda: server._server.intake.pending() == 8)
        for _ in range(3):
            reply = raw_request(server.port, b"GET /ok HTTP/1.0\r\n\r\n")
            assert reply.startswith(b"HTTP/1.0 200"), reply[:80]
        # The first newcomer found the cap reached and pushed out the oldest
        # silent connection; the next ones found a free place.
        silent[0].settimeout(2)
        assert silent[0].recv(100).startswith(b"HTTP/1.0 408")
        for s in silent[1:]:
            s.settimeout(0.05)
            with pytest.raises(TimeoutError):
                s.recv(100)
        assert server._server.intake.evicted == 1
    finally:
        for s in silent:
            s.close()


def wait_for(predicate, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def test_full_workers_and_queue_answer_503_at_once(serve):
    release = threading.Event()

    def stuck_app(environ, start_response):
        release.wait(20)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"late"]

    server = serve(stuck_app, threads=1, max_waiting=1)
    holders = []
    try:
        for _ in range(2):  # one running, one waiting
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            holders.append(s)
        deadline = time.monotonic() + 5
        while server._server.in_flight() < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        reply = raw_request(server.port, b"GET / HTTP/1.0\r\n\r\n")
        assert reply.startswith(b"HTTP/1.0 503") and time.monotonic() - started < 2.0
        release.set()
        for s in holders:
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            assert data.startswith(b"HTTP/1.0 200") and data.endswith(b"late")
    finally:
        release.set()
        for s in holders:
            s.close()


def test_a_client_that_never_reads_the_reply_loses_its_worker(serve):
    big = b"y" * (8 * 1024 * 1024)

    def big_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [big]

    server = serve(big_app, threads=1, write_timeout=1.0)
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        time.sleep(0.2)
        deadline = time.monotonic() + 5
        while server._server.in_flight() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server._server.in_flight() == 0, "the worker is still writing to a client that does not read"
    finally:
        s.close()


# ---------------------------------------------------------------- FastCGI

def fcgi_record(rtype: int, rid: int, content: bytes) -> bytes:
    return HEADER.pack(1, rtype, rid, len(content), 0) + content


@pytest.fixture
def fcgi(tmp_path):
    made = []

    def start(**kw) -> FastCGIServer:
        server = FastCGIServer(echo_app, str(tmp_path / f"fcgi{len(made)}.sock"), 2, **kw)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        made.append((server, thread))
        return server

    yield start
    for server, thread in made:
        server.shutdown()
        thread.join(10)
        server.close()


def test_fastcgi_request_must_arrive_within_the_head_deadline(fcgi):
    server = fcgi(head_timeout=1.0)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(server.address)
    started = time.monotonic()
    params = fcgi_record(BEGIN_REQUEST, 1, struct.pack("!HB5x", RESPONDER, 0))
    params += fcgi_record(PARAMS, 1, b"\x0b\x01REQUEST_URIx" * 200)
    closed = False
    try:
        for byte in params:
            try:
                s.send(bytes([byte]))
            except OSError:
                closed = True
                break
            s.settimeout(0.1)
            try:
                if s.recv(100) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
    finally:
        s.close()
    took = time.monotonic() - started
    assert closed and 0.9 <= took < 3.0, (closed, took)
    # A well-behaved web server is served as before.
    with FastCGIClient(server.address) as c:
        r = c.request(nginx_params("/hello"))
    assert r.status == 200 and r.body.startswith(b"GET /hello")


def test_fastcgi_keeps_its_web_server_address_check(fcgi, monkeypatch):
    monkeypatch.setenv("FCGI_WEB_SERVER_ADDRS", "127.0.0.2")
    server = FastCGIServer(echo_app, "127.0.0.1:0", 1)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.address.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(fcgi_record(BEGIN_REQUEST, 1, struct.pack("!HB5x", RESPONDER, 0)))
            assert s.recv(100) == b""  # refused: closed without a word
    finally:
        server.shutdown()
        thread.join(10)
        server.close()
