"""Who may talk to the broker, and what each may say.

Two gates, both decided from the CURVE key a peer authenticated with, never
from anything the peer writes in a message:

1. **At the handshake** (:class:`BrokerAuth`): pyzmq's ZAP authenticator runs
   in a thread of the broker's context. The rater socket's ZAP domain admits
   rater keys only; the client socket's admits client and admin keys. A peer
   with no key, an unknown key, or a key of the wrong role never completes
   its handshake, so it cannot deliver a single frame. An admitted
   connection's frames carry the ZAP User-Id ``"role:name"`` (the key file's
   stem), which :func:`peer_of` reads back.
2. **Per message** (:func:`allowed`): a pure table of which role may send
   which command, e.g. a client key may RATE but not ADMIN.

:func:`bind_policy` is the insecure-mode rule: with no keys the broker runs
only on loopback (or ipc/inproc) endpoints; anything reachable from another
machine needs keys, or an explicit ``--insecure``.

:class:`Refusals` counts refused handshakes and messages for stats and keeps
the log to one line per peer per minute, so a peer hammering the broker
cannot flood its log.

Order matters in libzmq: a CURVE server whose context has no ZAP handler
accepts *any* client key. :meth:`BrokerAuth.secure` therefore refuses to
configure a socket unless the authenticator thread is running, and the
authenticator must be started on the same context as the sockets.

Typical wiring in the broker::

    auth = BrokerAuth(context, keyset)   # starts the ZAP thread
    auth.secure(raters_sock, RATER_DOMAIN)
    auth.secure(clients_sock, CLIENT_DOMAIN)
    failures = auth.watch(raters_sock)   # its .socket goes in the poller; .drain() when readable
    ...
    gate = Gate(secure=True, refusals=auth.refusals)   # secure=False without keys
    frames = sock.recv_multipart(copy=False)           # copy=False: frames carry the User-Id
    peer = gate.check(frames, command)                 # None: refused, counted, dropped
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

import zmq
import zmq.auth.thread
from zmq.utils import z85
from zmq.utils.monitor import recv_monitor_message

from protocol.security import KeyFileError, KeySet, Peer, Role, SecurityError
from protocol.wire import Command

__all__ = [
    "RATER_DOMAIN",
    "CLIENT_DOMAIN",
    "DOMAIN_ROLES",
    "LOCAL_PEER",
    "ROLE_COMMANDS",
    "InsecureBindError",
    "BrokerAuth",
    "HandshakeFailures",
    "Gate",
    "Refusals",
    "allowed",
    "may_declare_client_ip",
    "peer_of",
    "is_loopback_endpoint",
    "bind_policy",
]

log = logging.getLogger(__name__)

# ZAP domains: set on each broker socket, so the authenticator knows which
# socket a handshake is for and admits only the roles that belong there.
RATER_DOMAIN = "sitetruth-raters"
CLIENT_DOMAIN = "sitetruth-clients"
DOMAIN_ROLES: dict[str, frozenset[Role]] = {
    RATER_DOMAIN: frozenset({Role.RATER}),
    CLIENT_DOMAIN: frozenset({Role.CLIENT, Role.ADMIN}),
}

# The peer of every message in insecure mode (no keys: loopback only).
LOCAL_PEER = Peer(Role.LOCAL, "local")

_RATER_COMMANDS = frozenset({Command.READY, Command.PULSE, Command.RESULT, Command.FAILED, Command.HEARTBEAT,
                             Command.ERROR_REPORT, Command.DISCONNECT})
ROLE_COMMANDS: dict[Role, frozenset[Command]] = {
    Role.RATER: _RATER_COMMANDS,
    # Frontends ask for ratings and read stats (their status page).
    Role.CLIENT: frozenset({Command.RATE, Command.STATS}),
    # Operators steer and watch; they do not ask for ratings as a client IP.
    Role.ADMIN: frozenset({Command.ADMIN, Command.STATS}),
}
ROLE_COMMANDS[Role.LOCAL] = frozenset().union(*ROLE_COMMANDS.values())


class InsecureBindError(SecurityError, ValueError):
    """A broker endpoint other machines could reach, and no keys to guard it."""


def allowed(role: Role, command: int) -> bool:
    """May a peer of *role* send *command* to the broker? (Pure; replies the broker sends are never allowed.)"""
    try:
        return Command(command) in ROLE_COMMANDS.get(role, frozenset())
    except ValueError:
        return False


def may_declare_client_ip(role: Role) -> bool:
    """Only a frontend speaks for end users' IPs (the per-IP caps rely on it)."""
    return role in (Role.CLIENT, Role.LOCAL)


def peer_of(frames: Sequence[Any]) -> Peer:
    """Who sent this message: the Peer in the ZAP User-Id of a frame received with ``copy=False``.

    Read from the last frame, which libzmq always received from the peer's
    connection (the identity frame a ROUTER adds is made locally). A frame
    without a User-Id means the socket is not secured (a wiring bug):
    :class:`SecurityError`, never a guess.
    """
    if not frames:
        raise SecurityError("no frames to read a User-Id from")
    frame = frames[-1]
    if not isinstance(frame, zmq.Frame):
        raise SecurityError("the User-Id needs frames received with copy=False")
    try:
        user_id = frame.get("User-Id")
    except zmq.ZMQError as e:
        raise SecurityError("message without a ZAP User-Id: is CURVE configured on this socket?") from e
    if isinstance(user_id, bytes):
        user_id = user_id.decode("utf-8", "replace")
    return Peer.from_user_id(str(user_id))


class Gate:
    """The per-message check in one call: who sent it (or the local peer, without keys), and may they?

    ``gate.check(frames, command)`` returns the sender's Peer, or None after
    counting and (rate-limited) logging the refusal; the broker then drops
    the message without a reply, so a refused peer learns nothing.
    """

    def __init__(self, *, secure: bool, refusals: Refusals) -> None:
        self.secure = secure
        self.refusals = refusals

    def check(self, frames: Sequence[Any], command: int) -> Peer | None:
        if not self.secure:
            peer = LOCAL_PEER
        else:
            try:
                peer = peer_of(frames)
            except SecurityError as e:
                self.refusals.refused("a peer without a User-Id", "command", str(e))
                return None
        if allowed(peer.role, command):
            return peer
        try:
            name = Command(command).name
        except ValueError:
            name = f"0x{int(command):02x}"
        self.refusals.refused(peer.user_id, "command", f"{peer.role.value} may not send {name}")
        return None


class Refusals:
    """Counts of refused handshakes and messages, and a log limited to one line per peer per minute.

    Thread-safe (the ZAP thread and the broker loop both report). Memory is
    bounded: at most *max_peers* peers are remembered for log limiting; the
    least recently logged is forgotten first.
    """

    def __init__(self, *, interval: float = 60.0, max_peers: int = 10_000, clock=time.monotonic) -> None:
        self.interval = interval
        self.max_peers = max_peers
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._last_logged: OrderedDict[str, float] = OrderedDict()

    def refused(self, peer: str, kind: str, reason: str) -> bool:
        """Count one refusal of *kind* (e.g. "handshake", "command"); True if it was logged."""
        now = self._clock()
        with self._lock:
            key = f"{kind}:{reason}"
            self._counts[key] = self._counts.get(key, 0) + 1
            last = self._last_logged.get(peer)
            if last is not None and now - last < self.interval:
                return False
            self._last_logged[peer] = now
            self._last_logged.move_to_end(peer)
            while len(self._last_logged) > self.max_peers:
                self._last_logged.popitem(last=False)
        log.warning("refused %s from %s: %s (logged at most once a minute per peer)", kind, peer, reason)
        return True

    def counts(self) -> dict[str, int]:
        """``{"kind:reason": n}`` since start, for the broker's stats."""
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


class _KeyRing:
    """The allowed keys, re-read when a role directory changes (adding a key needs no restart).

    Runs in the ZAP thread. A directory that became unreadable or holds a bad
    file keeps the last good set (logged): a typo while rotating keys must
    not lock every rater out.
    """

    def __init__(self, keyset: KeySet) -> None:
        self._keyset = keyset
        self._stamp = self._stamps()
        self.peers: dict[bytes, Peer] = keyset.peers()

    def _stamps(self) -> tuple:
        # Directory mtimes catch added and removed files; each key file's
        # mtime and size catch one copied over another of the same name.
        stamps: list = []
        for directory in self._keyset.directories().values():
            try:
                with os.scandir(directory) as entries:
                    files = sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries
                                   if e.name.endswith(".key"))
                stamps.append((os.stat(directory).st_mtime_ns, tuple(files)))
            except OSError:
                stamps.append(None)
        return tuple(stamps)

    def refresh(self) -> None:
        stamp = self._stamps()
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            self.peers = self._keyset.peers()
        except KeyFileError as e:
            log.error("key directories changed but cannot be read, keeping the previous keys: %s", e)
        else:
            log.info("key directories re-read: %d keys", len(self.peers))


class _CurveAuthenticator(zmq.auth.thread.ThreadAuthenticator):
    """pyzmq's ZAP thread, admitting keys by role and naming them ``role:name``."""

    def __init__(self, context: zmq.Context, ring: _KeyRing, refusals: Refusals) -> None:
        super().__init__(context=context, log=logging.getLogger(__name__ + ".zap"))
        self._ring = ring
        self._refusals = refusals

    # The credentials provider interface: called by pyzmq with the z85 key.
    def callback(self, domain: str, z85_key: bytes) -> bool:
        self._ring.refresh()
        peer = self._ring.peers.get(bytes(z85_key))
        roles = DOMAIN_ROLES.get(domain, frozenset())
        if peer is not None and peer.role in roles:
            return True
        if peer is None:
            who, reason = f"unknown key {bytes(z85_key).decode('ascii', 'replace')}", "unknown key"
        else:
            who, reason = peer.user_id, f"{peer.role.value} key on the {domain} socket"
        self._refusals.refused(who, "handshake", reason)
        return False

    def curve_user_id(self, client_public_key: bytes) -> str:
        # Only called after callback() admitted this key, in the same thread,
        # against the same key map.
        return self._ring.peers[z85.encode(client_public_key)].user_id


class BrokerAuth:
    """The broker's ZAP authenticator on *context*, started at once; :meth:`stop` at shutdown."""

    def __init__(self, context: zmq.Context, keyset: KeySet, refusals: Refusals | None = None) -> None:
        self.keyset = keyset
        self.refusals = refusals or Refusals()
        self._ring = _KeyRing(keyset)
        self._auth = _CurveAuthenticator(context, self._ring, self.refusals)
        self._context = context
        self._auth.start()
        for domain in DOMAIN_ROLES:
            self._auth.configure_curve_callback(domain, credentials_provider=self._auth)

    @property
    def running(self) -> bool:
        return self._auth.is_alive()

    def secure(self, sock: zmq.Socket, domain: str) -> None:
        """Make *sock* a CURVE server whose peers are checked for *domain*; call before ``bind``."""
        if domain not in DOMAIN_ROLES:
            raise SecurityError(f"unknown ZAP domain {domain!r}")
        if not self.running:
            # Without a ZAP handler libzmq would admit any CURVE key.
            raise SecurityError("the ZAP authenticator is not running: refusing to serve CURVE without it")
        if sock.context is not self._context:
            raise SecurityError("socket and authenticator are on different contexts: ZAP would not see it")
        sock.zap_domain = domain.encode()
        sock.curve_secretkey = self.keyset.server.secret
        sock.curve_publickey = self.keyset.server.public
        sock.curve_server = True

    def known_keys(self) -> dict[str, int]:
        """How many keys each role has now (for the broker's start-up line and stats)."""
        counts = {role.value: 0 for role in self.keyset.directories()}
        for peer in self._ring.peers.values():
            counts[peer.role.value] += 1
        return counts

    def watch(self, sock: zmq.Socket) -> HandshakeFailures:
        """Count the handshakes of *sock* that fail before ZAP sees a key (see :class:`HandshakeFailures`)."""
        return HandshakeFailures(sock, self.refusals)

    def stop(self) -> None:
        self._auth.stop()


class HandshakeFailures:
    """Counts refused handshakes that never reach the authenticator: no key, or the wrong broker key.

    libzmq refuses those itself (a NULL peer against a CURVE server, a
    handshake that does not decrypt) and reports them only as monitor
    events, without the peer's address. Use from the broker's own thread:
    register :attr:`socket` in its poller and call :meth:`drain` when it is
    readable (or once per loop turn; it never blocks).
    """

    _EVENTS = zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
    _MAX_PER_DRAIN = 1000  # each failure is one event; bound the work of one call

    def __init__(self, sock: zmq.Socket, refusals: Refusals) -> None:
        self._sock = sock
        self._refusals = refusals
        self.socket = sock.get_monitor_socket(events=self._EVENTS)

    def drain(self) -> int:
        """Count the failures reported so far; returns how many were read."""
        n = 0
        while n < self._MAX_PER_DRAIN:
            try:
                event = recv_monitor_message(self.socket, zmq.NOBLOCK)
            except zmq.Again:
                break
            n += 1
            endpoint = bytes(event.get("endpoint") or b"").decode("utf-8", "replace")
            self._refusals.refused(f"a peer of {endpoint}", "handshake", _failure_reason(event))
        return n

    def close(self) -> None:
        try:
            self._sock.disable_monitor()
        except zmq.ZMQError:
            pass
        self.socket.close(linger=0)


def _failure_reason(event: dict) -> str:
    value = int(event.get("value", 0))
    if int(event.get("event", 0)) == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
        if value == zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
            return "no CURVE key"
        if value == zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
            return "wrong broker public key"
    return "handshake failed"


# ---------------------------------------------------------------- insecure mode

def is_loopback_endpoint(endpoint: str) -> bool:
    """Can only processes on this machine reach *endpoint*? (tcp on 127/8, ::1, localhost, lo; ipc; inproc)."""
    scheme, sep, rest = endpoint.partition("://")
    if not sep:
        return False
    if scheme in ("ipc", "inproc"):
        return True
    if scheme != "tcp":
        return False
    rest = rest.rpartition(";")[2]  # "tcp://source;dest" names the destination last
    if rest.startswith("["):
        host, _, _ = rest[1:].partition("]")
    else:
        host = rest.rpartition(":")[0]
    if host in ("localhost", "lo"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # "*", an interface name, a host name: may be reachable from elsewhere
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def bind_policy(endpoints: Iterable[str], *, secure: bool, insecure: bool = False) -> str | None:
    """The insecure-mode rule, checked before the broker binds.

    Returns the line to log at start when the broker runs without keys, None
    when it runs with them. Raises :class:`InsecureBindError` for an endpoint
    other machines could reach, with no keys and no explicit *insecure*.
    """
    if secure:
        return None
    endpoints = list(endpoints)
    exposed = [e for e in endpoints if not is_loopback_endpoint(e)]
    if exposed and not insecure:
        raise InsecureBindError(
            f"refusing to bind {', '.join(exposed)} without CURVE keys: anyone who can reach it could "
            "store ratings and steer the broker. Give --curve-secret and the --rater-keys/--client-keys/"
            "--admin-keys directories (make keys with sitetruth-keygen), bind a loopback address, "
            "or pass --insecure on a network you trust completely")
    if exposed:
        return (f"INSECURE: no CURVE keys and --insecure given: {', '.join(exposed)} accept any peer "
                "in any role")
    return f"no CURVE keys: insecure mode, loopback endpoints only ({', '.join(endpoints)})"
