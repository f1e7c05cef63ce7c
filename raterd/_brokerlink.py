"""A worker's connection to the broker: one DEALER socket, its options, its CURVE keys.

Where it sits: :class:`raterd.worker.Worker` makes a fresh :class:`BrokerLink`
at start and on every reconnect (a half-open connection never recovers by
itself), and reads :meth:`BrokerLink.why_down` when READY cannot be sent.

Several brokers on one store (hot standby, ``--broker A,B``): exactly one is
active; a standby answers any rater message with ``Disconnect(reason="not
active: ...", reregister=False)``. :class:`BrokerEndpoints` is the list and
the one the worker is on; the worker moves to the next on that answer or
when its broker falls silent (transitions of :class:`raterd._registration.Registration`),
and each move is a fresh :class:`BrokerLink` to the new endpoint. With
several brokers, outcomes go out only to one the worker is registered with
(:meth:`BrokerEndpoints.may_deliver`). The same CURVE keys serve every endpoint (the brokers
of one store share the broker key pair).

With CURVE keys (``--curve-secret`` and ``--broker-public-key``) the socket
is a CURVE client of the broker on every connection, reconnects included. A
refused key looks exactly like "no broker" through ``IMMEDIATE`` (sends fail,
nothing arrives), so a :class:`~protocol.security.HandshakeWatch` reads the
socket's handshake events and says which mistake it is, for the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import zmq

from protocol import Disconnect, Message, ProtocolError, decode
from protocol.security import ClientKeys, HandshakeWatch

from ._registration import RegistrationState
from ._workerconfig import WorkerConfig

__all__ = ["BrokerLink", "BrokerEndpoints", "NOT_ACTIVE_PREFIX", "is_not_active"]

log = logging.getLogger("raterd.worker")

# How a standby broker's Disconnect reason starts.
NOT_ACTIVE_PREFIX = "not active"


def is_not_active(msg: Message) -> bool:
    """Whether ``msg`` is a standby broker's answer: register with the next endpoint instead."""
    return isinstance(msg, Disconnect) and not msg.reregister and msg.reason.startswith(NOT_ACTIVE_PREFIX)


class BrokerEndpoints:
    """The brokers a worker may register with, in order, and the one it is on now."""

    def __init__(self, endpoints: tuple[str, ...]) -> None:
        if not endpoints:
            raise ValueError("no broker endpoint")
        self.all = endpoints
        self._at = 0

    @property
    def current(self) -> str:
        return self.all[self._at]

    @property
    def several(self) -> bool:
        return len(self.all) > 1

    def may_deliver(self, state: RegistrationState) -> bool:
        """Whether a job outcome may go out on the current link, given the worker's registration ``state``.

        With one broker, whatever listens there is it (a restarted broker
        takes a result from a rater it does not know yet); with several, a
        link the worker is not registered on may lead to a standby, which
        would drop the result.
        """
        return state is RegistrationState.REGISTERED or not self.several

    def advance(self) -> str:
        """Move to the next endpoint (round robin; with one, it stays) and return it."""
        self._at = (self._at + 1) % len(self.all)
        return self.current


class BrokerLink:
    """The DEALER to one broker ``endpoint``, connected and polled by ``poller``; same thread as the worker loop."""

    def __init__(self, context: zmq.Context, config: WorkerConfig, identity: bytes,
                 curve: ClientKeys | None, endpoint: str, poller: zmq.Poller) -> None:
        self.endpoint = endpoint
        self.watching_writable = False
        sock = context.socket(zmq.DEALER)
        sock.setsockopt(zmq.ROUTING_ID, identity)
        # Sends fail at once when no broker is connected, rather than piling
        # up stale heartbeats and READYs for whichever broker comes next.
        sock.setsockopt(zmq.IMMEDIATE, 1)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RECONNECT_IVL, 250)
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, int(config.reconnect_max * 1000))
        sock.setsockopt(zmq.SNDHWM, 1000)
        sock.setsockopt(zmq.RCVHWM, 1000)
        sock.setsockopt(zmq.MAXMSGSIZE, 2 * 1024 * 1024)   # the broker sends us small messages only
        sock.setsockopt(zmq.TCP_KEEPALIVE, 1)
        sock.setsockopt(zmq.TCP_KEEPALIVE_IDLE, 60)
        self._watch: HandshakeWatch | None = None
        try:
            if curve is not None:
                curve.apply(sock)                 # before connect: libzmq reads them per connection
                self._watch = HandshakeWatch(sock)
            sock.connect(endpoint)
        except zmq.ZMQError:
            self._close(sock, 0)     # an open socket would make Context.term() wait forever
            raise
        self.sock = sock
        self._poller = poller
        poller.register(sock, zmq.POLLIN)
        self.opened = time.monotonic()     # a link silent since then may be half-open: the worker replaces it

    def send(self, frames: list[bytes]) -> bool:
        """Send without waiting; False if no broker is connected (IMMEDIATE) or the pipe is full."""
        try:
            self.sock.send_multipart(frames, zmq.NOBLOCK)
        except zmq.Again:
            return False
        except zmq.ZMQError as e:
            log.warning("send to the broker failed: %s", e)
            return False
        return True

    def receive(self) -> list[bytes] | None:
        """The next message waiting from the broker, or None."""
        try:
            return self.sock.recv_multipart(zmq.NOBLOCK)
        except zmq.Again:
            return None

    def messages(self, limit: int) -> Iterator[Message | None]:
        """Up to ``limit`` messages waiting from the broker, decoded.

        None stands for a malformed one, logged and dropped: it still shows
        that the broker is there.
        """
        for _ in range(limit):
            frames = self.receive()
            if frames is None:
                return
            try:
                yield decode(frames)
            except ProtocolError as e:
                log.warning("malformed message from the broker dropped: %s", e)
                yield None

    def watch_writable(self, on: bool) -> None:
        """With IMMEDIATE a DEALER is writable only once connected: poll for that while READY waits.

        Only while a READY is waiting: a connected socket is always writable,
        so watching it for longer would spin the loop.
        """
        if on != self.watching_writable:
            self.watching_writable = on
            self._poller.modify(self.sock, zmq.POLLIN | (zmq.POLLOUT if on else 0))

    def why_down(self) -> str | None:
        """Why the latest handshake with the broker failed (wrong key, key not admitted...), or None."""
        return self._watch.failure() if self._watch is not None else None

    def close(self, linger: int = 0) -> None:
        self._poller.unregister(self.sock)
        self._close(self.sock, linger)

    def _close(self, sock: zmq.Socket, linger: int) -> None:
        if self._watch is not None:
            self._watch.close()          # before the socket: its monitor is tied to it
            self._watch = None
        sock.close(linger=linger)
