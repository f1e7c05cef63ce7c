"""CURVE authentication and roles on real ZeroMQ sockets over loopback TCP.

A ROUTER secured by BrokerAuth plays each broker socket; real DEALER peers
connect with no key, an unknown key, the wrong role's key or a valid one.
A refused peer never delivers a frame; an admitted one's frames carry
"role:name" from its key file.
"""

from __future__ import annotations

import time

import pytest
import zmq

from broker.auth import (
    CLIENT_DOMAIN,
    LOCAL_PEER,
    RATER_DOMAIN,
    BrokerAuth,
    Gate,
    InsecureBindError,
    Refusals,
    allowed,
    bind_policy,
    is_loopback_endpoint,
    may_declare_client_ip,
    peer_of,
)
from protocol import AdminRequest, Heartbeat, RateRequest, Ready, StatsRequest
from protocol.security import ClientKeys, Peer, Role, SecurityError
from protocol.wire import Command
from tests.support.keys import broker_keyset, lay_out_keys, peer_keys

WAIT = 5.0


@pytest.fixture
def keys(tmp_path):
    """A broker key set with rater node1, client fe1, admin ops; plus a stranger's pair in no directory."""
    lay_out_keys(tmp_path, (("raters", "node1"), ("clients", "fe1"), ("admins", "ops"), (None, "stranger")))
    return broker_keyset(tmp_path), lambda name: peer_keys(tmp_path, name), tmp_path


@pytest.fixture
def ctx():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def secured(ctx, keys):
    """(auth, rater ROUTER endpoint + socket, client ROUTER endpoint + socket)."""
    keyset, _, _ = keys
    auth = BrokerAuth(ctx, keyset)
    socks = {}
    for domain in (RATER_DOMAIN, CLIENT_DOMAIN):
        sock = ctx.socket(zmq.ROUTER)
        sock.linger = 0
        auth.secure(sock, domain)
        port = sock.bind_to_random_port("tcp://127.0.0.1")
        socks[domain] = (sock, f"tcp://127.0.0.1:{port}")
    yield auth, socks
    for sock, _ in socks.values():
        sock.close(linger=0)
    auth.stop()


def ready(capacity: int) -> Ready:
    return Ready(capacity=capacity, host="node", pid=1, worker="w0", version="test")


def peer(ctx, endpoint: str, keys: ClientKeys | None = None, *, server_key: bytes | None = None) -> zmq.Socket:
    sock = ctx.socket(zmq.DEALER)
    sock.linger = 0
    if keys is not None:
        keys.apply(sock)
    if server_key is not None:
        sock.curve_serverkey = server_key
    sock.connect(endpoint)
    return sock


def receive(sock: zmq.Socket, timeout: float = WAIT) -> list[zmq.Frame] | None:
    if not sock.poll(timeout * 1000):
        return None
    return sock.recv_multipart(copy=False)


def wait_for(predicate, timeout: float = WAIT) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_rater_socket_admits_only_rater_keys(ctx, keys, secured):
    _, client, _ = keys
    auth, socks = secured
    router, endpoint = socks[RATER_DOMAIN]
    intruders = {
        "no key": peer(ctx, endpoint),
        "unknown key": peer(ctx, endpoint, client("stranger")),
        "client key": peer(ctx, endpoint, client("fe1")),
        "admin key": peer(ctx, endpoint, client("ops")),
        # the rater's own key, but not talking to our broker's key
        "wrong server key": peer(ctx, endpoint, client("node1"), server_key=client("stranger").own.public),
    }
    for name, sock in intruders.items():
        try:
            sock.send_multipart(ready(1000).to_frames(), zmq.NOBLOCK)
        except zmq.Again:
            pass  # queued nowhere: fine, nothing may arrive either way
    rater = peer(ctx, endpoint, client("node1"))
    rater.send_multipart(ready(2).to_frames())
    frames = receive(router)
    assert frames is not None, "the rater with a valid key was not admitted"
    assert peer_of(frames) == Peer(Role.RATER, "node1")
    assert frames[-1].get("User-Id") == "rater:node1"
    # Nobody else ever gets a frame through, however long they retry.
    assert receive(router, 1.5) is None
    # Refusals at the ZAP stage are counted (the ones with a key that reached ZAP).
    assert wait_for(lambda: auth.refusals.counts().get("handshake:unknown key", 0) >= 1)
    assert wait_for(lambda: auth.refusals.counts().get(f"handshake:client key on the {RATER_DOMAIN} socket", 0) >= 1)
    assert wait_for(lambda: auth.refusals.counts().get(f"handshake:admin key on the {RATER_DOMAIN} socket", 0) >= 1)
    for sock in (*intruders.values(), rater):
        sock.close(linger=0)


def test_client_socket_admits_clients_and_admins_with_their_roles(ctx, keys, secured):
    _, client, _ = keys
    auth, socks = secured
    router, endpoint = socks[CLIENT_DOMAIN]
    intruders = [peer(ctx, endpoint), peer(ctx, endpoint, client("node1")), peer(ctx, endpoint, client("stranger"))]
    for sock in intruders:
        try:
            sock.send_multipart(AdminRequest(req_id=1, action="pause", args={}).to_frames(), zmq.NOBLOCK)
        except zmq.Again:
            pass
    frontend = peer(ctx, endpoint, client("fe1"))
    operator = peer(ctx, endpoint, client("ops"))
    frontend.send_multipart(AdminRequest(req_id=7, action="pause", args={}).to_frames())
    operator.send_multipart(AdminRequest(req_id=8, action="pause", args={}).to_frames())
    seen = {}
    for _ in range(2):
        frames = receive(router)
        assert frames is not None
        request = AdminRequest.from_frames(frames[1:])
        seen[request.req_id] = peer_of(frames)
    assert seen == {7: Peer(Role.CLIENT, "fe1"), 8: Peer(Role.ADMIN, "ops")}
    # The frontend's ADMIN arrived, but its role may not send it; the operator's may.
    assert not allowed(seen[7].role, Command.ADMIN)
    assert allowed(seen[8].role, Command.ADMIN)
    assert receive(router, 1.5) is None
    assert wait_for(lambda: auth.refusals.counts().get(f"handshake:rater key on the {CLIENT_DOMAIN} socket", 0) >= 1)
    for sock in (*intruders, frontend, operator):
        sock.close(linger=0)


def test_every_frame_of_a_conversation_carries_the_user_id(ctx, keys, secured):
    _, client, _ = keys
    _, socks = secured
    router, endpoint = socks[CLIENT_DOMAIN]
    frontend = peer(ctx, endpoint, client("fe1"))
    for i in range(20):
        frontend.send_multipart(RateRequest(req_id=i, client_ip="192.0.2.1", priority=1,
                                            domains=("example.com",)).to_frames())
    for i in range(20):
        frames = receive(router)
        assert frames is not None
        assert all(f.get("User-Id") == "client:fe1" for f in frames[1:])
        assert peer_of(frames).user_id == "client:fe1"
    frontend.close(linger=0)


def test_a_key_added_to_a_role_directory_is_admitted_without_restart(ctx, keys, secured):
    _, client, tmp_path = keys
    auth, socks = secured
    router, endpoint = socks[RATER_DOMAIN]
    newcomer = peer(ctx, endpoint, client("stranger"))
    newcomer.send_multipart(Heartbeat().to_frames())
    assert receive(router, 1.0) is None
    newcomer.close(linger=0)
    (tmp_path / "raters" / "node2.key").write_bytes((tmp_path / "own" / "stranger.key").read_bytes())
    assert auth.known_keys()["rater"] == 1  # re-read at the next handshake, not before
    newcomer = peer(ctx, endpoint, client("stranger"))
    newcomer.send_multipart(Heartbeat().to_frames())
    frames = receive(router)
    assert frames is not None and peer_of(frames) == Peer(Role.RATER, "node2")
    assert auth.known_keys()["rater"] == 2
    newcomer.close(linger=0)


def test_a_broken_file_dropped_in_a_key_directory_keeps_the_previous_keys(ctx, keys, secured):
    _, client, tmp_path = keys
    _, socks = secured
    router, endpoint = socks[RATER_DOMAIN]
    (tmp_path / "raters" / "broken.key").write_text("not a certificate\n")
    rater = peer(ctx, endpoint, client("node1"))
    rater.send_multipart(Heartbeat().to_frames())
    frames = receive(router)
    assert frames is not None and peer_of(frames) == Peer(Role.RATER, "node1")
    rater.close(linger=0)


def test_secure_refuses_without_a_running_authenticator_or_on_another_context(ctx, keys):
    keyset, _, _ = keys
    auth = BrokerAuth(ctx, keyset)
    other = zmq.Context()
    try:
        foreign = other.socket(zmq.ROUTER)
        with pytest.raises(SecurityError, match="different contexts"):
            auth.secure(foreign, RATER_DOMAIN)
        foreign.close(linger=0)
        sock = ctx.socket(zmq.ROUTER)
        with pytest.raises(SecurityError, match="unknown ZAP domain"):
            auth.secure(sock, "elsewhere")
        auth.stop()
        with pytest.raises(SecurityError, match="not running"):
            auth.secure(sock, RATER_DOMAIN)
        sock.close(linger=0)
    finally:
        auth.stop()
        other.destroy(linger=0)


def test_peer_of_refuses_frames_without_a_user_id(ctx):
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    a.bind("inproc://plain")
    b.connect("inproc://plain")
    a.send_multipart(StatsRequest(req_id=1, recent=0).to_frames())
    frames = b.recv_multipart(copy=False)
    with pytest.raises(SecurityError, match="User-Id"):
        peer_of(frames)
    with pytest.raises(SecurityError, match="copy=False"):
        peer_of([f.bytes for f in frames])
    a.close(linger=0)
    b.close(linger=0)


# ---------------------------------------------------------------- pure rules

@pytest.mark.parametrize("role,commands", [
    (Role.RATER, {"READY", "PULSE", "RESULT", "FAILED", "HEARTBEAT", "ERROR_REPORT", "DISCONNECT"}),
    (Role.CLIENT, {"RATE", "STATS"}),
    (Role.ADMIN, {"ADMIN", "STATS"}),
    (Role.LOCAL, {"READY", "PULSE", "RESULT", "FAILED", "HEARTBEAT", "ERROR_REPORT", "DISCONNECT",
                  "RATE", "STATS", "ADMIN"}),
])
def test_role_table(role, commands):
    assert {c.name for c in Command if allowed(role, c)} == commands
    assert not allowed(role, 0xFF)


def test_only_frontends_declare_client_ips():
    assert may_declare_client_ip(Role.CLIENT) and may_declare_client_ip(LOCAL_PEER.role)
    assert not may_declare_client_ip(Role.ADMIN) and not may_declare_client_ip(Role.RATER)


@pytest.mark.parametrize("endpoint,loopback", [
    ("tcp://127.0.0.1:5555", True), ("tcp://127.1.2.3:*", True), ("tcp://[::1]:5555", True),
    ("tcp://localhost:5555", True), ("tcp://lo:5555", True), ("tcp://[::ffff:127.0.0.1]:5", True),
    ("ipc:///run/sitetruth/broker.sock", True), ("inproc://x", True),
    ("tcp://*:5555", False), ("tcp://0.0.0.0:5555", False), ("tcp://[::]:5555", False),
    ("tcp://192.0.2.7:5555", False), ("tcp://eth0:5555", False), ("tcp://broker.example:5555", False),
    ("ws://127.0.0.1:5555", False), ("epgm://eth0;239.1.1.1:5555", False), ("127.0.0.1:5555", False),
])
def test_loopback_endpoints(endpoint, loopback):
    assert is_loopback_endpoint(endpoint) is loopback


def test_insecure_mode_rule():
    assert bind_policy(["tcp://0.0.0.0:5555"], secure=True) is None
    notice = bind_policy(["tcp://127.0.0.1:5555", "ipc:///tmp/r"], secure=False)
    assert "loopback endpoints only" in notice
    with pytest.raises(InsecureBindError, match=r"tcp://\*:5556 without CURVE keys.*--insecure"):
        bind_policy(["tcp://127.0.0.1:5555", "tcp://*:5556"], secure=False)
    assert "INSECURE" in bind_policy(["tcp://*:5556"], secure=False, insecure=True)


def test_refusals_log_once_per_peer_per_minute_and_count_everything():
    now = [1000.0]
    r = Refusals(clock=lambda: now[0], max_peers=2)
    assert r.refused("client:fe1", "command", "ADMIN")
    assert not r.refused("client:fe1", "command", "ADMIN")
    assert r.refused("rater:node1", "command", "RATE")
    now[0] += 61
    assert r.refused("client:fe1", "command", "ADMIN")
    assert r.counts() == {"command:ADMIN": 3, "command:RATE": 1} and r.total() == 4
    r.refused("a", "handshake", "unknown key")
    r.refused("b", "handshake", "unknown key")
    assert len(r._last_logged) == 2  # bounded memory


# ---------------------------------------------------------------- BrokerClient with keys

@pytest.fixture
def answering(ctx, secured):
    """The client ROUTER answers every STATS with the sender's User-Id, from a thread of its own."""
    import threading

    from protocol import StatsReply, decode
    from protocol.wire import join_envelope

    _, socks = secured
    router, endpoint = socks[CLIENT_DOMAIN]
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            if not router.poll(50):
                continue
            frames = router.recv_multipart(copy=False)
            request = decode(frames[1:])
            reply = StatsReply(req_id=request.req_id, stats={"you": peer_of(frames).user_id})
            router.send_multipart(join_envelope(frames[0].bytes, reply.to_frames()))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield endpoint
    stop.set()
    thread.join(5)


def test_broker_client_with_keys_is_answered_and_known_by_its_key_name(ctx, keys, answering):
    from protocol.client import BrokerClient

    _, client, _ = keys
    with BrokerClient(answering, timeout=5.0, context=ctx, connect_grace=3.0, curve=client("ops")) as c:
        assert c.call(lambda i: StatsRequest(req_id=i, recent=0)).stats == {"you": "admin:ops"}


@pytest.mark.parametrize("who,why", [
    ("stranger", "refused our key"),
    ("node1", "refused our key"),        # a rater key on the client socket
    (None, "security mismatch"),         # no keys against a CURVE broker
    ("wrong-broker", "broker public key"),
])
def test_broker_client_says_why_the_broker_refused_it(ctx, keys, answering, who, why):
    from protocol.client import BrokerClient, BrokerUnavailable

    _, client, _ = keys
    if who == "wrong-broker":
        keys_ = client("fe1")
        keys_ = ClientKeys(own=keys_.own, server_public=client("stranger").own.public)
    else:
        keys_ = client(who) if who else None
    with BrokerClient(answering, timeout=2.0, context=ctx, connect_grace=1.0, curve=keys_) as c:
        with pytest.raises(BrokerUnavailable, match=why):
            c.call(lambda i: StatsRequest(req_id=i, recent=0))


def test_handshakes_refused_before_zap_are_counted(ctx, keys, secured):
    _, client, _ = keys
    auth, socks = secured
    router, endpoint = socks[RATER_DOMAIN]
    failures = auth.watch(router)
    try:
        plain = peer(ctx, endpoint)
        wrong = peer(ctx, endpoint, client("node1"), server_key=client("stranger").own.public)

        def counted() -> bool:
            failures.drain()
            counts = auth.refusals.counts()
            return counts.get("handshake:no CURVE key", 0) >= 1 and \
                counts.get("handshake:wrong broker public key", 0) >= 1

        assert wait_for(counted), auth.refusals.counts()
        assert receive(router, 0.2) is None
        plain.close(linger=0)
        wrong.close(linger=0)
    finally:
        failures.close()


def test_a_key_file_replaced_under_the_same_name_takes_effect(ctx, keys, secured):
    _, client, tmp_path = keys
    _, socks = secured
    router, endpoint = socks[RATER_DOMAIN]
    # node1's public file is overwritten with the stranger's key (a rotation by copying over).
    old = peer(ctx, endpoint, client("node1"))
    old.send_multipart(Heartbeat().to_frames())
    assert receive(router) is not None
    old.close(linger=0)
    target = tmp_path / "raters" / "node1.key"
    target.write_bytes((tmp_path / "own" / "stranger.key").read_bytes())
    new = peer(ctx, endpoint, client("stranger"))
    new.send_multipart(Heartbeat().to_frames())
    frames = receive(router)
    assert frames is not None and peer_of(frames) == Peer(Role.RATER, "node1")
    stale = peer(ctx, endpoint, client("node1"))
    stale.send_multipart(Heartbeat().to_frames())
    assert receive(router, 1.0) is None
    new.close(linger=0)
    stale.close(linger=0)


def test_the_gate_passes_allowed_messages_and_counts_the_rest(ctx, keys, secured):
    _, client, _ = keys
    auth, socks = secured
    router, endpoint = socks[CLIENT_DOMAIN]
    gate = Gate(secure=True, refusals=auth.refusals)
    frontend, operator = peer(ctx, endpoint, client("fe1")), peer(ctx, endpoint, client("ops"))
    sent = [(frontend, AdminRequest(req_id=1, action="drain", args={})),
            (frontend, StatsRequest(req_id=2, recent=0)),
            (operator, AdminRequest(req_id=3, action="drain", args={})),
            (operator, RateRequest(req_id=4, client_ip="198.51.100.9", priority=1, domains=("example.com",)))]
    for sock, message in sent:
        sock.send_multipart(message.to_frames())
    verdicts = {}
    for _ in sent:
        frames = receive(router)
        assert frames is not None
        command = frames[2].bytes[0]
        verdicts[Command(command).name, frames[-1].get("User-Id")] = gate.check(frames, command)
    assert verdicts == {
        ("ADMIN", "client:fe1"): None,
        ("STATS", "client:fe1"): Peer(Role.CLIENT, "fe1"),
        ("ADMIN", "admin:ops"): Peer(Role.ADMIN, "ops"),
        ("RATE", "admin:ops"): None,
    }
    counts = auth.refusals.counts()
    assert counts["command:client may not send ADMIN"] == 1 and counts["command:admin may not send RATE"] == 1
    # Without keys every loopback peer is the local peer, with every role.
    assert Gate(secure=False, refusals=Refusals()).check([], Command.ADMIN) == LOCAL_PEER
    frontend.close(linger=0)
    operator.close(linger=0)
