"""sitetruth-frontend with CURVE keys, and the request-head deadline, in real processes on loopback.

A ROUTER of our own plays the broker's client socket, secured with the
broker's authenticator (:class:`broker.auth.BrokerAuth`), and answers RATE
and STATS with the User-Id it authenticated: the frontend's requests (built-in
server and gunicorn) reach it as the frontend's key, and a frontend whose key
the broker does not hold gets nothing through (503, and the log says why).
Key configurations a frontend cannot use are refused at start, exit 2.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time

import pytest
import zmq

from broker.auth import CLIENT_DOMAIN, BrokerAuth, peer_of
from frontend.cli import build_parser, config_from_args
from frontend.errors import FrontendConfigError
from protocol import DomainStatus, JobState, RateReply, RateRequest, StatsReply, StatsRequest
from protocol.config import parse_args
from protocol.keygen import make_key_pair
from protocol.messages import decode
from protocol.security import KeySet
from protocol.wire import join_envelope
from tests.frontend.test_frontend_cli import API, frontends, get  # noqa: F401  (fixture)
from tests.support.processes import free_port
from tests.support.web import dead_endpoint, seed


@pytest.fixture
def keys(tmp_path):
    """The broker's pair, web1's pair (web1.key in the broker's clients/) and a stranger's pair."""
    make_key_pair(tmp_path / "broker-keys", "broker")
    make_key_pair(tmp_path / "web-keys", "web1")
    make_key_pair(tmp_path / "web-keys", "stranger")
    (tmp_path / "clients").mkdir()
    (tmp_path / "clients" / "web1.key").write_bytes((tmp_path / "web-keys" / "web1.key").read_bytes())
    return {"broker_secret": tmp_path / "broker-keys" / "broker.key_secret",
            "broker_public": tmp_path / "broker-keys" / "broker.key", "clients": tmp_path / "clients",
            "web1": tmp_path / "web-keys" / "web1.key_secret", "stranger": tmp_path / "web-keys" / "stranger.key_secret"}


class CurveClientSocket:
    """The broker's client socket as far as keys go: answers RATE (queued) and STATS, records who asked."""

    def __init__(self, keyset: KeySet) -> None:
        self.context = zmq.Context()
        self.auth = BrokerAuth(self.context, keyset)
        self.sock = self.context.socket(zmq.ROUTER)
        self.sock.linger = 0
        self.auth.secure(self.sock, CLIENT_DOMAIN)
        self.endpoint = f"tcp://127.0.0.1:{self.sock.bind_to_random_port('tcp://127.0.0.1')}"
        self.seen: list[tuple[str, str]] = []      # (User-Id, message type)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.sock.poll(50):
                continue
            frames = self.sock.recv_multipart(copy=False)
            who = peer_of(frames).user_id
            request = decode(frames[1:])
            self.seen.append((who, type(request).__name__))
            if isinstance(request, RateRequest):
                reply = RateReply(req_id=request.req_id, items=tuple(
                    DomainStatus(domain=d, state=JobState.QUEUED, position=7) for d in request.domains))
            elif isinstance(request, StatsRequest):
                reply = StatsReply(req_id=request.req_id, stats={"asked_by": who})
            else:
                continue
            self.sock.send_multipart(join_envelope(frames[0].bytes, reply.to_frames()))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close(linger=0)
        self.auth.stop()
        self.context.term()


@pytest.fixture
def broker_socket(keys):
    sock = CurveClientSocket(KeySet.load(keys["broker_secret"], raters=None, clients=keys["clients"], admins=None))
    yield sock
    sock.close()


@pytest.fixture
def store(tmp_path) -> str:
    url = f"sqlite:///{tmp_path}/st.db"
    seed(url)
    return url


def _key_flags(keys, who: str = "web1") -> list[str]:
    return ["--curve-secret", str(keys[who]), "--broker-public-key", str(keys["broker_public"])]


# ------------------------------------------------------------ refused at start


def test_the_keys_are_read_once_from_flags_env_or_file(keys, tmp_path):
    conf = tmp_path / "fe.toml"
    conf.write_text(f'[sitetruth-frontend]\nbroker-public-key = "{keys["broker_public"]}"\n')
    config = config_from_args(parse_args(build_parser(), ["--config", str(conf)],
                                         environ={"SITETRUTH_CURVE_SECRET": str(keys["web1"])}))
    assert config.broker_keys.own.path == keys["web1"]
    assert config.broker_keys is config.broker_keys          # read once, not per broker socket
    assert config_from_args(parse_args(build_parser(), [], environ={})).broker_keys is None
    with pytest.raises(FrontendConfigError, match="--curve-secret needs --broker-public-key"):
        config_from_args(parse_args(build_parser(), ["--curve-secret", str(keys["web1"])], environ={}))


@pytest.mark.parametrize("which,expected", [
    ("secret only", "--curve-secret needs --broker-public-key too"),
    ("public only", "--broker-public-key needs --curve-secret too"),
])
def test_half_a_key_configuration_is_refused_with_exit_2(frontends, keys, store, which, expected):
    flags = ["--curve-secret", str(keys["web1"])] if which == "secret only" else \
        ["--broker-public-key", str(keys["broker_public"])]
    proc = frontends("--listen", "127.0.0.1:0", "--store", store, "--broker", dead_endpoint(), *flags)
    assert proc.exit_code() == 2, proc.output()
    assert f"sitetruth-frontend: {expected}" in proc.output() and "Traceback" not in proc.output()


def test_a_secret_file_others_can_read_is_refused_with_exit_2_and_the_fix(frontends, keys, store):
    keys["web1"].chmod(0o640)
    proc = frontends("--listen", "127.0.0.1:0", "--store", store, "--broker", dead_endpoint(), *_key_flags(keys))
    assert proc.exit_code() == 2, proc.output()
    assert f"chmod 600 {keys['web1']}" in proc.output() and "Traceback" not in proc.output()


def test_a_missing_secret_file_is_refused_with_exit_2(frontends, keys, store, tmp_path):
    proc = frontends("--listen", "127.0.0.1:0", "--store", store, "--broker", dead_endpoint(),
                     "--curve-secret", str(tmp_path / "typo.key_secret"),
                     "--broker-public-key", str(keys["broker_public"]))
    assert proc.exit_code() == 2, proc.output()
    assert "typo.key_secret does not exist" in proc.output() and "Traceback" not in proc.output()


def test_gunicorn_refuses_half_a_key_configuration_from_the_environment(frontends, keys, store):
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{free_port()}", "--timeout", "20",
               "frontend.wsgi:application"]
    proc = frontends(env={"SITETRUTH_STORE": store, "SITETRUTH_BROKER": dead_endpoint(),
                          "SITETRUTH_CURVE_SECRET": str(keys["web1"])}, command=command, name="gunicorn")
    assert proc.exit_code(60) != 0
    assert "--curve-secret needs --broker-public-key too" in proc.output()


# ------------------------------------------------------------ talking to a CURVE broker


def _wait_seen(broker_socket: CurveClientSocket, kind: str, timeout: float = 10) -> list[str]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        who = [user for user, seen in list(broker_socket.seen) if seen == kind]
        if who:
            return who
        time.sleep(0.05)
    return []


def _queued(status: int | None, body: bytes) -> bool:
    """The reply says W (queued, ask again): only a broker that answered the RATE gives that."""
    if status != 200:
        return False
    [item] = json.loads(body)
    return (item["rating"], item["status"]) == ("W", "202")


def test_frontend_with_keys_queues_through_a_curve_broker_as_its_key(frontends, keys, store, broker_socket):
    port = free_port()
    proc = frontends("--listen", f"127.0.0.1:{port}", "--store", store, "--broker", broker_socket.endpoint,
                     "--broker-timeout", "5", *_key_flags(keys))
    proc.wait_ready()
    assert "CURVE, own key" in proc.output()
    status, _, body = get(port, f"{API}?url=new-shop.com&format=json")
    assert _queued(status, body), body
    assert _wait_seen(broker_socket, "RateRequest") == ["client:web1"]
    # The status page asks the broker too, with the same key.
    status, _, body = get(port, "/status.json")
    assert status == 200 and json.loads(body)["broker"] == {"asked_by": "client:web1"}
    assert broker_socket.auth.refusals.total() == 0
    assert proc.stop() == 0


def test_frontend_under_gunicorn_uses_the_keys_from_the_environment(frontends, keys, store, broker_socket):
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "2", "-b", f"127.0.0.1:{port}",
               "--timeout", "20", "frontend.wsgi:application"]
    proc = frontends(env={"SITETRUTH_STORE": store, "SITETRUTH_BROKER": broker_socket.endpoint,
                          "SITETRUTH_BROKER_TIMEOUT": "5", "SITETRUTH_CURVE_SECRET": str(keys["web1"]),
                          "SITETRUTH_BROKER_PUBLIC_KEY": str(keys["broker_public"])},
                     command=command, name="gunicorn")
    proc.wait_ready("Booting worker", timeout=60)
    status, body = None, b""
    end = time.monotonic() + 30
    while time.monotonic() < end:
        try:
            status, _, body = get(port, f"{API}?url=new-shop.com&format=json")
            break
        except OSError:
            time.sleep(0.2)
    assert _queued(status, body), (status, body, proc.output()[-2000:])
    assert _wait_seen(broker_socket, "RateRequest") == ["client:web1"]


def test_frontend_whose_key_the_broker_does_not_hold_gets_nothing_through(frontends, keys, store, broker_socket):
    port = free_port()
    proc = frontends("--listen", f"127.0.0.1:{port}", "--store", store, "--broker", broker_socket.endpoint,
                     "--broker-timeout", "2", *_key_flags(keys, "stranger"))
    proc.wait_ready()
    status, headers, _ = get(port, f"{API}?url=new-shop.com")
    assert status == 503 and int(headers["retry-after"]) >= 1
    # Known ratings are still served from the store.
    status, _, body = get(port, f"{API}?url=example.com")
    assert status == 200 and b'rating="A"' in body
    assert broker_socket.seen == []
    assert broker_socket.auth.refusals.counts().get("handshake:unknown key", 0) >= 1
    end = time.monotonic() + 10
    while "refused our key" not in proc.output() and time.monotonic() < end:
        time.sleep(0.1)
    assert "refused our key" in proc.output(), proc.output()[-2000:]
    assert proc.stop() == 0


# ------------------------------------------------------------ request-head deadline


def _trickle_until_closed(port: int, limit: float) -> bool:
    """Send a request head one byte every 0.2 s; True if the server closed the connection within ``limit`` s."""
    head = b"GET /fcgi/rateapiv3.fcgi?url=example.com HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 400
    end = time.monotonic() + limit
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.settimeout(0.2)
        for byte in head:
            if time.monotonic() > end:
                return False
            try:
                s.sendall(bytes([byte]))
                if s.recv(4096) == b"":
                    return True
            except socket.timeout:
                continue
            except OSError:
                return True
    return False


@pytest.mark.parametrize("how", ["flag", "env"])
def test_head_timeout_bounds_a_trickling_request_head(frontends, store, how):
    port = free_port()
    args = ["--listen", f"127.0.0.1:{port}", "--store", store, "--broker", dead_endpoint()]
    env = None
    if how == "flag":
        args += ["--head-timeout", "1"]
    else:
        env = {"SITETRUTH_HEAD_TIMEOUT": "1"}
    proc = frontends(*args, env=env)
    proc.wait_ready()
    # With the default 10 s the trickle would still be going after 6 s: the option reached the server.
    assert _trickle_until_closed(port, limit=6.0)
    status, _, body = get(port, f"{API}?url=example.com")
    assert status == 200 and b'rating="A"' in body
    assert proc.stop() == 0


def test_head_timeout_must_be_positive(frontends, store):
    proc = frontends("--listen", "127.0.0.1:0", "--store", store, "--broker", dead_endpoint(), "--head-timeout", "0")
    assert proc.exit_code() == 2, proc.output()
    assert "--head-timeout must be > 0" in proc.output()
