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

Several brokers, one active (hot standby). The client may be given a list
of endpoints (``tcp://a:7710,tcp://b:7710`` or a sequence); the same CURVE
keys apply to every one. Exactly one broker on a store is active; a standby
answers every client request (RATE, STATS, ADMIN) with
``ErrorReply(req_id, code="not_active", message=...)``. On such an answer,
or when an endpoint stays silent or has no connection, the call moves to
the next endpoint on a fresh socket and sends the same request again:

- at most once per endpoint, and always within the call's timeout. An
  attempt may use what is left but a reserve for each endpoint still to try
  (``connect_grace``, at most half an equal share of the timeout), and never
  less than an equal share: a busy active broker that answers slowly is
  still waited for, and a silent one still leaves the others time to answer;
- the endpoint that answered last is where the next call starts, so in the
  steady state a call costs one round trip to the active broker;
- when no endpoint gives an answer, :class:`BrokerUnavailable` names what
  each one did (a frontend answers 503). A request is therefore answered or
  raises, never silently lost. Resending is safe: RATE is coalesced by the
  broker, STATS reads, and ADMIN actions are idempotent.

With one endpoint everything is as it always was: one attempt with the whole
timeout, and a ``not_active`` answer raises :class:`BrokerUnavailable`.

Not thread-safe: ZeroMQ sockets never cross threads; make one client per thread.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Sequence

import zmq

from .errors import ProtocolError, SiteTruthError
from .messages import ErrorReply, decode
from .security import ClientKeys, HandshakeWatch

__all__ = ["BrokerClient", "BrokerUnavailable", "NOT_ACTIVE", "endpoint_list", "checked_endpoints",
           "broker_endpoints"]

# The ErrorReply code a standby broker answers every client request with.
NOT_ACTIVE = "not_active"


class BrokerUnavailable(SiteTruthError):
    """The broker did not answer in time, or no broker is connected."""


def endpoint_list(value: str | Sequence[str]) -> tuple[str, ...]:
    """``"tcp://a:1, tcp://b:1"`` or a sequence -> ``("tcp://a:1", "tcp://b:1")``.

    Raises ValueError (with what is wrong) for an empty list, an empty entry,
    an entry without a transport (``host:port``) or the same endpoint twice.
    """
    parts = value.split(",") if isinstance(value, str) else list(value)
    endpoints = tuple(str(p).strip() for p in parts)
    if not endpoints or endpoints == ("",):
        raise ValueError("no broker endpoint given")
    for endpoint in endpoints:
        if not endpoint:
            raise ValueError(f"empty entry in the endpoint list {value!r}")
        if "://" not in endpoint:
            raise ValueError(f"{endpoint!r} is not a ZeroMQ endpoint (expected e.g. tcp://host:7710)")
    if len(set(endpoints)) != len(endpoints):
        raise ValueError(f"an endpoint is listed twice in {value!r}")
    return endpoints


def checked_endpoints(text: str, example: str = "tcp://127.0.0.1:7710") -> tuple[str, ...]:
    """:func:`endpoint_list`, plus what only libzmq can tell: that each entry can be connected to.

    For a program's start-up, so a malformed ``--broker`` is a usage error
    there, not a ZMQError later. ValueError's message starts with what is
    wrong: the whole *text* for a bad list, the one bad entry otherwise.
    """
    try:
        endpoints = endpoint_list(text)
    except ValueError as e:
        raise ValueError(f"{text}: {e}") from None
    context = zmq.Context.instance()
    for endpoint in endpoints:
        sock = context.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        try:
            sock.connect(endpoint)
        except zmq.ZMQError as e:
            raise ValueError(f"{endpoint}: {e.strerror} (expected e.g. {example})") from None
        finally:
            sock.close()
    return endpoints


def broker_endpoints(text: str) -> str:
    """Option parser for ``--broker``: one endpoint or a comma-separated list, normalised (``a,b``)."""
    return ",".join(endpoint_list(text))


class BrokerClient:
    def __init__(self, endpoint: str | Sequence[str], timeout: float = 2.0, context: zmq.Context | None = None,
                 connect_grace: float = 0.5, *, curve: ClientKeys | None = None) -> None:
        self.endpoints = endpoint_list(endpoint)
        self._at = 0          # index of the endpoint that answered last: where the next call starts
        self.timeout = timeout
        # How long a fresh socket waits for its TCP connection before a send
        # is declared impossible (IMMEDIATE would otherwise fail instantly).
        self.connect_grace = connect_grace
        self._context = context or zmq.Context.instance()
        self._pid = os.getpid()
        self._ids = itertools.count(1)
        self._sock: zmq.Socket | None = None
        self._sock_endpoint: str | None = None
        self.curve = curve
        self._watch: HandshakeWatch | None = None

    @property
    def endpoint(self) -> str:
        """The endpoint the next call starts with: the one that answered last."""
        return self.endpoints[self._at]

    def _socket(self, endpoint: str) -> zmq.Socket:
        if self._pid != os.getpid():
            # Forked (e.g. a pre-forking WSGI server): contexts don't survive fork.
            self._context = zmq.Context()
            self._sock = None
            self._watch = None
            self._pid = os.getpid()
        if self._sock is not None and self._sock_endpoint != endpoint:
            self._reset()
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
            sock.connect(endpoint)
            self._sock, self._sock_endpoint = sock, endpoint
        return self._sock

    def _reset(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        if self._sock is not None:
            self._sock.close(linger=0)
            self._sock = None
            self._sock_endpoint = None

    def next_id(self) -> int:
        return next(self._ids)

    def call(self, make_request, timeout: float | None = None):
        """Send ``make_request(req_id)`` and return the decoded reply.

        ``make_request`` is a callable taking the request id (e.g.
        ``lambda i: StatsRequest(req_id=i)``) so the id is always fresh.
        With several endpoints the request goes to the next one after a
        silence or a ``not_active`` answer, once per endpoint, all within
        ``timeout`` (see the module docstring).
        Raises :class:`BrokerUnavailable` or :class:`ProtocolError`.
        """
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        count = len(self.endpoints)
        # Time kept back for each endpoint not tried yet: enough for a fresh
        # connection and an answer from a live broker.
        reserve = min(self.connect_grace, timeout / (2 * count))
        failures: list[str] = []
        for tried in range(count):
            index = (self._at + tried) % count
            endpoint = self.endpoints[index]
            left = deadline - time.monotonic()
            if left <= 0:
                failures.append(f"{endpoint}: not tried, time was up")
                continue
            later = count - tried - 1
            budget = max(left / (later + 1), left - reserve * later)
            reply, why = self._attempt(endpoint, make_request, budget)
            if reply is not None:
                self._at = index
                return reply
            failures.append(why)
        if count == 1:
            raise BrokerUnavailable(failures[0])
        raise BrokerUnavailable(f"no active broker within {timeout:.1f} s: " + "; ".join(failures))

    def _attempt(self, endpoint: str, make_request, budget: float):
        """One request to one endpoint: ``(reply, None)`` or ``(None, why it gave no answer)``."""
        req_id = self.next_id()
        request = make_request(req_id)
        sock = self._socket(endpoint)
        start = time.monotonic()
        deadline = start + budget
        grace_end = start + min(self.connect_grace, budget)
        while True:
            try:
                sock.send_multipart(request.to_frames(), zmq.NOBLOCK)
                break
            except zmq.Again:
                if time.monotonic() >= grace_end:
                    why = self._watch.failure() if self._watch is not None else None
                    self._reset()
                    return None, f"no broker connected at {endpoint}" + (f": {why}" if why else "")
                time.sleep(0.005)
        while True:
            remaining = deadline - time.monotonic()
            # Whole milliseconds, rounded up: pyzmq truncates, which would spin through the last one.
            if remaining <= 0 or not sock.poll(math.ceil(remaining * 1000), zmq.POLLIN):
                self._reset()
                return None, f"broker at {endpoint} did not answer within {budget:.1f} s"
            frames = sock.recv_multipart()
            try:
                reply = decode(frames)
            except ProtocolError:
                self._reset()
                raise
            if getattr(reply, "req_id", None) != req_id:
                continue        # a late reply to an earlier, timed-out request: ignore it
            if isinstance(reply, ErrorReply) and reply.code == NOT_ACTIVE:
                # A standby: its socket is of no further use to us; the next endpoint gets a fresh one.
                self._reset()
                return None, f"broker at {endpoint} is not active ({reply.message})"
            return reply, None

    def close(self) -> None:
        self._reset()

    def __enter__(self) -> BrokerClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
