"""Synchronous request/reply to the broker: QNX-style send / receive / reply.

Frontends, ``zmq-monitor``, benchmarks and tests talk to the broker's client
socket through :class:`BrokerClient`. It lives in ``protocol`` because it is
about what crosses a socket and several components need it (the frontend may
not import ``broker``).

A DEALER socket carries a ``req_id`` in every request; a reply with another
id (a late answer to a request that already timed out) is discarded. After a
timeout the socket is closed and a fresh one made, so a dead broker costs one
timeout, never a wedged socket. ``IMMEDIATE`` makes a send fail at once
when no broker is connected, so callers learn "unavailable" without waiting.

With ``curve=ClientKeys`` (see :mod:`protocol.security`) the socket
authenticates to the broker with CURVE; when the broker refuses the
handshake, :class:`BrokerUnavailable` says why (refused key, wrong broker
key, keys on one side only) instead of only "no broker connected".

Not thread-safe: ZeroMQ sockets never cross threads; make one client per thread.
"""

from __future__ import annotations

import itertools
import os
import time

import zmq

from .errors import ProtocolError, SiteTruthError
from .messages import decode
from .security import ClientKeys, HandshakeWatch

__all__ = ["BrokerClient", "BrokerUnavailable"]


class BrokerUnavailable(SiteTruthError):
    """The broker did not answer in time, or no broker is connected."""


class BrokerClient:
    def __init__(self, endpoint: str, timeout: float = 2.0, context: zmq.Context | None = None,
                 connect_grace: float = 0.5, *, curve: ClientKeys | None = None) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        # How long a fresh socket waits for its TCP connection before a send
        # is declared impossible (IMMEDIATE would otherwise fail instantly).
        self.connect_grace = connect_grace
        self._context = context or zmq.Context.instance()
        self._pid = os.getpid()
        self._ids = itertools.count(1)
        self._sock: zmq.Socket | None = None
        self.curve = curve
        self._watch: HandshakeWatch | None = None

    def _socket(self) -> zmq.Socket:
        if self._pid != os.getpid():
            # Forked (e.g. a pre-forking WSGI server): contexts don't survive fork.
            self._context = zmq.Context()
            self._sock = None
            self._watch = None
            self._pid = os.getpid()
        if self._sock is None:
            sock = self._context.socket(zmq.DEALER)
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.IMMEDIATE, 1)
            sock.setsockopt(zmq.RECONNECT_IVL, 100)
            sock.setsockopt(zmq.RECONNECT_IVL_MAX, 2000)
            sock.setsockopt(zmq.MAXMSGSIZE, 4 * 1024 * 1024)
            if self.curve is not None:
                self.curve.apply(sock)
            self._watch = HandshakeWatch(sock)
            sock.connect(self.endpoint)
            self._sock = sock
        return self._sock

    def _reset(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        if self._sock is not None:
            self._sock.close(linger=0)
            self._sock = None

    def next_id(self) -> int:
        return next(self._ids)

    def call(self, make_request, timeout: float | None = None):
        """Send ``make_request(req_id)`` and return the decoded reply.

        ``make_request`` is a callable taking the request id (e.g.
        ``lambda i: StatsRequest(req_id=i)``) so the id is always fresh.
        Raises :class:`BrokerUnavailable` or :class:`ProtocolError`.
        """
        timeout = self.timeout if timeout is None else timeout
        req_id = self.next_id()
        request = make_request(req_id)
        sock = self._socket()
        deadline = time.monotonic() + timeout
        sent = False
        grace_end = time.monotonic() + min(self.connect_grace, timeout)
        while not sent:
            try:
                sock.send_multipart(request.to_frames(), zmq.NOBLOCK)
                sent = True
            except zmq.Again:
                if time.monotonic() >= grace_end:
                    why = self._watch.failure() if self._watch is not None else None
                    self._reset()
                    raise BrokerUnavailable(f"no broker connected at {self.endpoint}"
                                            + (f": {why}" if why else "")) from None
                time.sleep(0.005)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sock.poll(remaining * 1000, zmq.POLLIN):
                self._reset()
                raise BrokerUnavailable(f"broker at {self.endpoint} did not answer within {timeout:.1f} s")
            frames = sock.recv_multipart()
            try:
                reply = decode(frames)
            except ProtocolError:
                self._reset()
                raise
            if getattr(reply, "req_id", None) == req_id:
                return reply
            # A late reply to an earlier, timed-out request: ignore it.

    def close(self) -> None:
        self._reset()

    def __enter__(self) -> BrokerClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
