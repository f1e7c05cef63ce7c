"""sitetruth-raterd with CURVE keys: refused at start when the keys are unusable, admitted by a CURVE broker.

Real ``python -m raterd.cli`` processes (supervisor and workers, the fake
pipeline) against a ROUTER of our own on loopback TCP, secured with the
broker's own authenticator (:class:`broker.auth.BrokerAuth`) and keys made by
``sitetruth-keygen``: the READY a worker sends arrives with the key name the
broker would audit, a key the broker does not hold never gets a frame
through, and a reconnecting worker authenticates again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import zmq

from broker.auth import RATER_DOMAIN, BrokerAuth, peer_of
from protocol import Heartbeat, Ready
from protocol.config import parse_args
from protocol.keygen import make_key_pair
from protocol.messages import decode
from protocol.security import KeySet
from protocol.wire import join_envelope
from raterd.cli import build_parser, config_from_args
from tests.raterd.raterd_harness import raterd  # noqa: F401  (pytest fixture)
from tests.support.processes import ROOT, free_port


@pytest.fixture
def keys(tmp_path):
    """Keys as the README lays them out: the broker's pair, node7's pair, node7.key in the broker's raters/."""
    broker_dir, node_dir, raters = tmp_path / "broker-keys", tmp_path / "node-keys", tmp_path / "raters"
    done = subprocess.run([sys.executable, "-m", "protocol.keygen", str(broker_dir), "broker"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    make_key_pair(node_dir, "node7")
    make_key_pair(node_dir, "stranger")          # a pair the broker was never given
    raters.mkdir()
    (raters / "node7.key").write_bytes((node_dir / "node7.key").read_bytes())
    return {"broker_secret": broker_dir / "broker.key_secret", "broker_public": broker_dir / "broker.key",
            "raters": raters, "node7": node_dir / "node7.key_secret", "stranger": node_dir / "stranger.key_secret"}


class CurveRouter:
    """The broker's rater socket as far as the handshake goes: CURVE, ZAP-checked rater keys, HEARTBEAT answers."""

    def __init__(self, keyset: KeySet, port: int) -> None:
        self.context = zmq.Context()
        self.auth = BrokerAuth(self.context, keyset)
        self.sock = self.context.socket(zmq.ROUTER)
        self.sock.linger = 0
        self.auth.secure(self.sock, RATER_DOMAIN)
        self.sock.bind(f"tcp://127.0.0.1:{port}")
        self.endpoint = f"tcp://127.0.0.1:{port}"

    def readies(self, timeout: float) -> list[tuple[str, Ready]]:
        """(User-Id, READY) of each READY received within ``timeout`` (answered, so the worker registers)."""
        seen = []
        end = time.monotonic() + timeout
        while time.monotonic() < end and not seen:
            if not self.sock.poll(100):
                continue
            frames = self.sock.recv_multipart(copy=False)
            message = decode(frames[1:])
            if isinstance(message, Ready):
                seen.append((peer_of(frames).user_id, message))
                self.sock.send_multipart(join_envelope(frames[0].bytes, Heartbeat().to_frames()))
        return seen

    def close(self) -> None:
        self.sock.close(linger=0)
        self.auth.stop()
        self.context.term()


@pytest.fixture
def routers():
    made: list[CurveRouter] = []

    def make(keyset: KeySet, port: int) -> CurveRouter:
        made.append(CurveRouter(keyset, port))
        return made[-1]

    yield make
    for router in made:
        router.close()


def _keyset(keys) -> KeySet:
    return KeySet.load(keys["broker_secret"], raters=keys["raters"], clients=None, admins=None)


def _run_cli(tmp_path, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("SITETRUTH_")}
    full["PYTHONPATH"] = ROOT
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "raterd.cli", "--broker", f"tcp://127.0.0.1:{free_port()}",
                           "--workers", "1", *argv], env=full, cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=60)


def test_key_paths_travel_to_each_worker_absolute(keys, tmp_path, monkeypatch):
    monkeypatch.chdir(keys["node7"].parent)
    parser = build_parser()
    config = config_from_args(parse_args(parser, ["--curve-secret", "node7.key_secret"], environ={
        "SITETRUTH_BROKER_PUBLIC_KEY": str(keys["broker_public"])}), parser)
    assert config.worker.curve_secret == str(keys["node7"])
    assert config.worker.broker_public_key == str(keys["broker_public"])
    assert config.worker.client_keys().own.path == keys["node7"]
    # Without keys both stay unset (an empty env value means "not given").
    plain = config_from_args(parse_args(parser, [], environ={"SITETRUTH_CURVE_SECRET": ""}), parser)
    assert (plain.worker.curve_secret, plain.worker.broker_public_key, plain.worker.client_keys()) == (None, None, None)


@pytest.mark.parametrize("which", ["secret only", "public only", "public via env only"])
def test_half_a_key_configuration_is_refused_at_start(keys, tmp_path, which):
    if which == "secret only":
        done = _run_cli(tmp_path, "--curve-secret", str(keys["node7"]))
        expected = "--curve-secret needs --broker-public-key too"
    elif which == "public only":
        done = _run_cli(tmp_path, "--broker-public-key", str(keys["broker_public"]))
        expected = "--broker-public-key needs --curve-secret too"
    else:
        done = _run_cli(tmp_path, env={"SITETRUTH_BROKER_PUBLIC_KEY": str(keys["broker_public"])})
        expected = "--broker-public-key needs --curve-secret too"
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr and "Traceback" not in done.stderr


def test_a_secret_file_others_can_read_is_refused_with_the_fix(keys, tmp_path):
    os.chmod(keys["node7"], 0o644)
    done = _run_cli(tmp_path, "--curve-secret", str(keys["node7"]), "--broker-public-key", str(keys["broker_public"]))
    assert done.returncode == 2, done.stderr
    assert f"chmod 600 {keys['node7']}" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("problem,expected", [
    ("missing", "does not exist (make one with: sitetruth-keygen DIR NAME)"),
    ("directory", "is not a regular file"),
    ("public given as secret", "holds no secret key: it is a public certificate"),
    ("secret given as broker key", "holds a secret key"),
])
def test_unusable_key_files_are_refused_with_the_loaders_message(keys, tmp_path, problem, expected):
    secret, public = str(keys["node7"]), str(keys["broker_public"])
    if problem == "missing":
        secret = str(tmp_path / "nowhere.key_secret")
    elif problem == "directory":
        secret = str(tmp_path)
    elif problem == "public given as secret":
        secret = str(keys["broker_public"])
    else:
        public = str(keys["broker_secret"])
    done = _run_cli(tmp_path, "--curve-secret", secret, "--broker-public-key", public)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr and "Traceback" not in done.stderr


def test_worker_with_keys_is_admitted_by_a_curve_broker_under_its_key_name(keys, routers, raterd):  # noqa: F811
    router = routers(_keyset(keys), free_port())
    node = raterd(router.endpoint, "--workers", "1", "--node-name", "vm7",
                  "--curve-secret", str(keys["node7"]), "--broker-public-key", str(keys["broker_public"]))
    seen = router.readies(timeout=60)
    assert seen, node.output()[-3000:]
    user_id, ready = seen[0]
    assert user_id == "rater:node7"
    assert (ready.host, ready.worker) == ("vm7", "w0")
    assert router.auth.refusals.total() == 0


def test_worker_whose_key_the_broker_does_not_hold_never_gets_a_frame_through(keys, routers, raterd):  # noqa: F811
    router = routers(_keyset(keys), free_port())
    node = raterd(router.endpoint, "--workers", "1", "--reconnect-max", "1",
                  "--curve-secret", str(keys["stranger"]), "--broker-public-key", str(keys["broker_public"]))
    assert router.readies(timeout=6) == []
    assert router.auth.refusals.counts().get("handshake:unknown key", 0) >= 1
    # The worker's log says why, so the operator knows to copy the key over.
    end = time.monotonic() + 20
    while "refused our key" not in node.output() and time.monotonic() < end:
        time.sleep(0.2)
    assert "refused our key" in node.output(), node.output()[-3000:]


def test_worker_without_keys_is_not_admitted_by_a_curve_broker(keys, routers, raterd):  # noqa: F811
    router = routers(_keyset(keys), free_port())
    raterd(router.endpoint, "--workers", "1")
    assert router.readies(timeout=5) == []


def test_a_reconnecting_worker_authenticates_again(keys, routers, raterd):  # noqa: F811
    port = free_port()
    keyset = _keyset(keys)
    first = routers(keyset, port)
    node = raterd(first.endpoint, "--workers", "1", "--heartbeat", "0.2", "--liveness", "1",
                  "--reconnect-max", "0.5",
                  "--curve-secret", str(keys["node7"]), "--broker-public-key", str(keys["broker_public"]))
    assert first.readies(timeout=60), node.output()[-3000:]
    first.close()
    # A new broker on the same port (a restart): the worker goes silent-broker, reconnects, says READY again.
    second = routers(keyset, port)
    seen = second.readies(timeout=30)
    assert seen and seen[0][0] == "rater:node7", node.output()[-3000:]


def test_a_worker_whose_key_file_went_bad_after_the_check_stops_with_a_configuration_error(keys, raterd):  # noqa: F811
    from raterd._proc import ExitCode
    from raterd.worker import WorkerConfig
    from tests.raterd.raterd_harness import FAKE

    os.chmod(keys["node7"], 0o644)        # opened up after sitetruth-raterd checked it
    worker = raterd.worker(WorkerConfig(broker=f"tcp://127.0.0.1:{free_port()}", pipeline=FAKE, nice=None,
                                        curve_secret=str(keys["node7"]),
                                        broker_public_key=str(keys["broker_public"])))
    assert worker.wait(30) == ExitCode.CONFIG, worker.output()[-3000:]
    assert f"CURVE keys: secret key file {keys['node7']} is readable or writable by others" in worker.output()


def test_a_node_link_is_admitted_under_the_node_key_and_its_workers_hold_no_key(keys, routers, raterd):  # noqa: F811
    """--node-link: one READY for the node, under its key; the key paths never reach a worker's command line."""
    router = routers(_keyset(keys), free_port())
    node = raterd(router.endpoint, "--workers", "2", "--node-name", "vm7", "--node-link",
                  "--curve-secret", str(keys["node7"]), "--broker-public-key", str(keys["broker_public"]))
    seen = router.readies(timeout=60)
    assert seen, node.output()[-3000:]
    user_id, ready = seen[0]
    assert user_id == "rater:node7"
    assert (ready.host, ready.worker, ready.pid) == ("vm7", "node", node.pid)
    assert router.auth.refusals.total() == 0
    end = time.monotonic() + 20
    while len(node.workers()) < 2 and time.monotonic() < end:
        time.sleep(0.1)
    for pid in node.workers():
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().decode()
        assert "ipc://" in argv and "node7" not in argv and "broker.key" not in argv, argv
