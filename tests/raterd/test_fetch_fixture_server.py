"""The fixture web server itself: routing by Host, and a shutdown that is bounded whatever it is serving."""

from __future__ import annotations

import http.client
import threading
import time

import pytest

from tests.raterd.fixtures import FixtureServer, Response, Site, hostile


def _get(port: int, host: str, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": f"{host}:{port}"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_requests_are_routed_by_host_header() -> None:
    with FixtureServer({"a.example.com": Site({"/": "site a"}), "b.example.com": Site({"/": "site b"})}) as server:
        assert _get(server.http_port, "a.example.com", "/") == (200, b"site a")
        assert _get(server.http_port, "B.Example.com", "/") == (200, b"site b")
        status, body = _get(server.http_port, "c.example.com", "/")
        assert status == 404 and b"c.example.com" in body
        assert server.site("a.example.com").hits == ["/"]


def test_handler_callables_see_the_request() -> None:
    site = Site({"/who": lambda request: Response(body=f"{request.host} {request.query}".encode())})
    with FixtureServer({"h.example.com": site}) as server:
        assert _get(server.http_port, "h.example.com", "/who?x=1") == (200, b"h.example.com x=1")


@pytest.mark.timeout(20)
def test_stop_is_bounded_while_responses_trickle_and_wait() -> None:
    server = FixtureServer({"slow.example.com": Site({
        "/trickle": hostile.trickle(b"x" * 1000, rate=1.0),
        "/wait": Response(body=b"late", delay=60.0),
    })}).start()
    clients = [
        threading.Thread(target=lambda p=path: _swallow(lambda: _get(server.http_port, "slow.example.com", p, 30)),
                         daemon=True)
        for path in ("/trickle", "/wait")
    ]
    for client in clients:
        client.start()
    time.sleep(0.5)  # both responses are now in progress
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2.0
    for client in clients:
        client.join(5)
        assert not client.is_alive()  # their connections were shut down, not left hanging


def _swallow(call) -> None:
    try:
        call()
    except (OSError, http.client.HTTPException):
        pass
