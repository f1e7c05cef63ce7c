"""A worker's connection to the broker: one DEALER socket, its options, its CURVE keys.

Where it sits: :class:`raterd.worker.Worker` makes a fresh :class:`BrokerLink`
at start and on every reconnect (a half-open connection never recovers by
itself), and reads :meth:`BrokerLink.why_down` when READY cannot be sent.

With CURVE keys (``--curve-secret`` and ``--broker-public-key``) the socket
is a CURVE client of the broker on every connection, reconnects included. A
refused key looks exactly like "no broker" through ``IMMEDIATE`` (sends fail,
nothing arrives), so a :class:`~protocol.security.HandshakeWatch` reads the
socket's handshake events and says which mistake it is, for the log.
"""

from __future__ import annotations

import zmq

from protocol.security import ClientKeys, HandshakeWatch

from ._workerconfig import WorkerConfig

__all__ = ["BrokerLink"]


class BrokerLink:
    """The DEALER to ``config.broker``, connected; same thread as the worker loop."""

    def __init__(self, context: zmq.Context, config: WorkerConfig, identity: bytes,
                 curve: ClientKeys | None) -> None:
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
            sock.connect(config.broker)
        except zmq.ZMQError:
            self._close(sock, 0)     # an open socket would make Context.term() wait forever
            raise
        self.sock = sock

    def why_down(self) -> str | None:
        """Why the latest handshake with the broker failed (wrong key, key not admitted...), or None."""
        return self._watch.failure() if self._watch is not None else None

    def close(self, linger: int = 0) -> None:
        self._close(self.sock, linger)

    def _close(self, sock: zmq.Socket, linger: int) -> None:
        if self._watch is not None:
            self._watch.close()          # before the socket: its monitor is tied to it
            self._watch = None
        sock.close(linger=linger)
