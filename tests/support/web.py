"""Helpers for the frontend tests: call a WSGI app, seed a store, script a broker peer.

* ``call(app, path, query)`` runs one request through the WSGI app with a
  hand-made environ, so tests control every byte of the query string and
  the connection's address (``remote``) exactly;
* ``seed(url)`` puts a few known ratings (fresh, expired, with hostile
  evidence) in a store;
* ``ScriptedBroker(answer)`` is a ROUTER socket that answers each request
  with ``answer(request)``: for broker replies a real broker only gives in
  rare states (Unavailable, ErrorReply, garbage) and to see exactly what the
  frontend sent.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import zmq

from protocol import decode, join_envelope, split_envelope
from store import StoredRating, open_store

EVIL = '<script>alert("x")</script>&amp;'


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    header_list: list[tuple[str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def call(app: Any, path: str, query: str | bytes = "", *, method: str = "GET", remote: str = "127.0.0.1",
         headers: dict[str, str] | None = None, script_name: str = "") -> Reply:
    """One request through ``app``; ``query`` bytes are handed over as PEP 3333 latin-1."""
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": script_name, "PATH_INFO": path, "QUERY_STRING": query,
        "REMOTE_ADDR": remote, "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    seen: dict[str, Any] = {}

    def start_response(status: str, hdrs: list[tuple[str, str]], exc_info: Any = None) -> Callable:
        seen["status"], seen["headers"] = status, hdrs
        return lambda data: None

    body = b"".join(app(environ, start_response))
    hdrs = seen["headers"]
    for name, value in hdrs:  # what a real server would refuse to send
        assert name.isascii() and value.isascii() and "\n" not in value and "\r" not in value
    return Reply(int(seen["status"].split()[0]), {k.lower(): v for k, v in hdrs}, body, hdrs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dead_endpoint() -> str:
    """A loopback endpoint nobody listens on."""
    return f"tcp://127.0.0.1:{free_port()}"


LOCATION = {"name": "Example Widgets Ltd", "street": "1 High Street", "city": "Springfield",
            "region": "IL", "postcode": "62701", "country": "US"}


def seed(url: str) -> None:
    """Known ratings: fresh A (full location, hostile evidence), fresh X, expired Q."""
    s = open_store(url)
    try:
        s.migrate()
        now = time.time()
        s.complete([
            StoredRating.new("example.com", "A", "", LOCATION, [
                {"kind": "confirmation", "value": "Companies House 01234567", "page": "", "method": "strong",
                 "source": "companies_house"},
                {"kind": "name", "value": EVIL, "page": "https://www.example.com/about", "method": "jsonld",
                 "source": ""},
                {"kind": "address", "value": "1 High Street, Springfield", "page": "javascript:alert(1)",
                 "method": "label", "source": ""},
                {"kind": "rule", "value": "5: identified and confirmed", "page": "", "method": "",
                 "source": "rules"},
            ]),
            StoredRating.new("shadyshop.org", "X", "no_location", None, []),
            StoredRating.new("oldshop.net", "Q", "unverified", {"name": "Old Shop"}, [],
                             rated_at=now - 40 * 86400),
        ])
    finally:
        s.close()


class ScriptedBroker:
    """A ROUTER socket on loopback answering each request with ``answer(msg)`` (None: stay silent)."""

    def __init__(self, answer: Callable[[Any], Any]) -> None:
        self.answer = answer
        self.requests: list[Any] = []
        self.context = zmq.Context()
        self.sock = self.context.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = f"tcp://127.0.0.1:{port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scripted-broker", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.sock.poll(50):
                continue
            identity, frames = split_envelope(self.sock.recv_multipart())
            msg = decode(frames)
            self.requests.append(msg)
            reply = self.answer(msg)
            if reply is None:
                continue
            if isinstance(reply, list):  # raw frames, possibly garbage
                self.sock.send_multipart([identity, *reply])
            else:
                self.sock.send_multipart(join_envelope(identity, reply.to_frames()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close(0)
        self.context.term()


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
