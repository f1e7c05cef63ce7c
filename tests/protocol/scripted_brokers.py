"""A scripted broker client socket on loopback, for tests of clients that fail over.

A real ROUTER socket in its own thread, bound to a random port, that plays
one of three parts and can be switched between them while a test runs:

* ``active``  answers RATE with every domain queued, STATS with ``stats``,
  ADMIN with ok;
* ``standby`` answers every request ``ErrorReply(code="not_active")``, as a
  hot-standby broker does;
* ``silent``  reads every request and answers nothing (a dead or cut-off host).

Every request received is recorded (endpoint's own view: type and req_id),
so a test can check where a request went and how often it was resent.
With ``curve_secret`` the socket is a CURVE server (any client key accepted).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
import zmq

from protocol import (
    AdminReply,
    AdminRequest,
    DomainStatus,
    ErrorReply,
    JobState,
    RateReply,
    RateRequest,
    StatsReply,
    StatsRequest,
    decode,
)
from protocol.client import NOT_ACTIVE


@dataclass
class ScriptedBroker:
    mode: str = "active"
    stats: dict = field(default_factory=lambda: {"broker": {"host": "scripted"}})
    received: list = field(default_factory=list)
    # The broker's CURVE secret key (z85); None: no security.
    curve_secret: bytes | None = None
    # Seconds an active broker takes to answer (a busy one).
    delay: float = 0.0

    def __post_init__(self) -> None:
        self._context = zmq.Context()
        self._sock = self._context.socket(zmq.ROUTER)
        self._sock.setsockopt(zmq.LINGER, 0)
        if self.curve_secret is not None:
            self._sock.curve_server = True
            self._sock.curve_secretkey = self.curve_secret
        port = self._sock.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = f"tcp://127.0.0.1:{port}"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"scripted-broker-{port}", daemon=True)
        self._thread.start()

    def set_mode(self, mode: str) -> None:
        assert mode in ("active", "standby", "silent")
        with self._lock:
            self.mode = mode

    def requests(self) -> list:
        with self._lock:
            return list(self.received)

    def _serve(self) -> None:
        while not self._stop.is_set():
            if not self._sock.poll(50):
                continue
            ident, *frames = self._sock.recv_multipart()
            request = decode(frames)
            with self._lock:
                self.received.append(request)
                mode = self.mode
            reply = self._answer(request, mode)
            if reply is not None and mode == "active" and self.delay:
                self._stop.wait(self.delay)
            if reply is not None:
                self._sock.send_multipart([ident, *reply.to_frames()])
        self._sock.close(linger=0)
        self._context.term()

    def _answer(self, request, mode: str):
        if mode == "silent":
            return None
        if mode == "standby":
            return ErrorReply(req_id=request.req_id, code=NOT_ACTIVE, message="not active: standby of the store")
        if isinstance(request, RateRequest):
            return RateReply(req_id=request.req_id,
                             items=tuple(DomainStatus(domain=d, state=JobState.QUEUED) for d in request.domains))
        if isinstance(request, StatsRequest):
            return StatsReply(req_id=request.req_id, stats=self.stats)
        if isinstance(request, AdminRequest):
            return AdminReply(req_id=request.req_id, ok=True, detail="done", data={})
        return ErrorReply(req_id=request.req_id, code="bad_request", message="unexpected")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture
def scripted():
    """Call with a mode to get a ScriptedBroker; all are closed after the test."""
    made: list[ScriptedBroker] = []

    def make(mode: str) -> ScriptedBroker:
        broker = ScriptedBroker(mode=mode)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.close()
