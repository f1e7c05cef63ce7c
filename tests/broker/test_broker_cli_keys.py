"""sitetruth-broker's key options and the insecure-mode rule, on real broker processes.

Without keys the broker binds loopback endpoints only: an endpoint other
machines could reach is refused at start (exit 2, nothing created) unless
``--insecure`` is given. That case binds ``tcp://0.0.0.0:7710`` for real,
inside a network namespace of its own when the machine allows one (so
nothing outside the test can reach it), and a client in that namespace is
answered. Key files the broker cannot use are refused with the loader's
message; the first log line says which mode runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from broker.cli import build_parser, config_from_args, security_line
from protocol.config import parse_args
from protocol.keygen import make_key_pair
from protocol.security import KeySet
from tests.support.processes import ROOT, Proc, free_port, start_broker_process


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITETRUTH_")}
    env["PYTHONPATH"] = ROOT
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _run(tmp_path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "broker.cli", "--store", f"sqlite:///{tmp_path}/st.db", *argv],
                          env=_clean_env(), cwd=str(tmp_path), capture_output=True, text=True, timeout=60)


@pytest.fixture
def keys(tmp_path):
    """The broker's pair and one public key per role directory, as the README lays them out."""
    root = tmp_path / "keys"
    make_key_pair(root / "own", "broker")
    for role, name in (("raters", "node1"), ("clients", "web1"), ("admins", "ops")):
        make_key_pair(root / "own", name)
        (root / role).mkdir()
        (root / role / f"{name}.key").write_bytes((root / "own" / f"{name}.key").read_bytes())
    return root


def _key_flags(root) -> list[str]:
    return ["--curve-secret", str(root / "own" / "broker.key_secret"), "--rater-keys", str(root / "raters"),
            "--client-keys", str(root / "clients"), "--admin-keys", str(root / "admins")]


# ------------------------------------------------------------ insecure mode


@pytest.mark.parametrize("endpoint", ["tcp://0.0.0.0:7710", "tcp://*:7710", "tcp://eth0:7710"])
def test_an_exposed_endpoint_without_keys_is_refused_and_nothing_is_created(tmp_path, endpoint):
    done = _run(tmp_path, "--bind-clients", endpoint, "--bind-raters", "tcp://127.0.0.1:0")
    assert done.returncode == 2, done.stderr
    assert f"refusing to bind {endpoint} without CURVE keys" in done.stderr
    assert "--insecure" in done.stderr and "sitetruth-keygen" in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_env_twin_of_an_exposed_endpoint_is_refused_too(tmp_path):
    env = _clean_env()
    env["SITETRUTH_BIND_RATERS"] = "tcp://0.0.0.0:7711"
    done = subprocess.run([sys.executable, "-m", "broker.cli", "--store", f"sqlite:///{tmp_path}/st.db",
                           "--bind-clients", "tcp://127.0.0.1:0"], env=env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "refusing to bind tcp://0.0.0.0:7711" in done.stderr, done.stderr


def test_loopback_without_keys_runs_and_says_it_is_insecure_mode(tmp_path):
    broker = start_broker_process(f"sqlite:///{tmp_path}/st.db", tmp_path, free_port(), free_port())
    try:
        assert "no CURVE keys: insecure mode, loopback endpoints only" in broker.output()
    finally:
        assert broker.stop() == 0, broker.output()[-2000:]


def _namespaces_allowed() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    done = subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=30)
    return done.returncode == 0


_ASK_STATS = textwrap.dedent("""
    import sys
    from protocol import StatsReply, StatsRequest
    from protocol.client import BrokerClient
    with BrokerClient(sys.argv[1], timeout=10) as client:
        reply = client.call(lambda i: StatsRequest(req_id=i, recent=0))
    print("answered" if isinstance(reply, StatsReply) else type(reply).__name__)
""")


def test_insecure_binds_an_exposed_endpoint_and_says_so(tmp_path):
    def broker_argv(clients: str, raters: str) -> list[str]:
        return [sys.executable, "-m", "broker.cli", "--store", f"sqlite:///{tmp_path}/st.db",
                "--bind-clients", clients, "--bind-raters", raters, "--insecure"]

    isolated = _namespaces_allowed()
    if isolated:
        # Its own network namespace: 0.0.0.0:7710 is real, yet nothing outside this test can reach it.
        argv = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                *broker_argv("tcp://0.0.0.0:7710", "tcp://127.0.0.1:7711")]
        endpoint = "tcp://127.0.0.1:7710"
    else:
        port = free_port()
        argv = broker_argv(f"tcp://0.0.0.0:{port}", f"tcp://127.0.0.1:{free_port()}")
        endpoint = f"tcp://127.0.0.1:{port}"
    broker = Proc(argv, str(tmp_path / "broker.log"), ready_text="broker listening", env=_clean_env())
    try:
        out = broker.output()
        assert "WARNING" in out and "INSECURE: no CURVE keys and --insecure given: tcp://0.0.0.0:" in out
        ask = [sys.executable, "-c", _ASK_STATS, endpoint]
        if isolated:
            ask = ["nsenter", f"--net=/proc/{broker.popen.pid}/ns/net", *ask]
        done = subprocess.run(ask, env=_clean_env(), capture_output=True, text=True, timeout=60)
        assert done.stdout.strip() == "answered", done.stderr[-2000:]
    finally:
        assert broker.stop() == 0, broker.output()[-2000:]


# ------------------------------------------------------------ key options


@pytest.mark.parametrize("make_argv,message", [
    (lambda k: ["--curve-secret", str(k / "own" / "broker.key_secret")],
     "--curve-secret without --rater-keys, --client-keys or --admin-keys"),
    (lambda k: ["--rater-keys", str(k / "raters")], "--rater-keys need --curve-secret too"),
    (lambda k: ["--curve-secret", str(k / "own" / "broker.key_secret"), "--rater-keys", str(k / "nowhere")],
     "rater key directory"),
    (lambda k: ["--curve-secret", str(k / "own" / "missing.key_secret"), "--rater-keys", str(k / "raters")],
     "missing.key_secret does not exist"),
    (lambda k: ["--curve-secret", str(k / "own" / "broker.key"), "--client-keys", str(k / "clients")],
     "holds no secret key"),
])
def test_unusable_key_options_are_refused_with_the_loaders_message(tmp_path, keys, make_argv, message):
    done = _run(tmp_path, "--bind-clients", "tcp://127.0.0.1:0", "--bind-raters", "tcp://127.0.0.1:0",
                *make_argv(keys))
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "st.db").exists()


def test_a_broker_secret_file_others_can_read_is_refused_with_the_fix(tmp_path, keys):
    secret = keys / "own" / "broker.key_secret"
    secret.chmod(0o644)
    done = _run(tmp_path, "--bind-clients", "tcp://127.0.0.1:0", "--bind-raters", "tcp://127.0.0.1:0",
                *_key_flags(keys))
    assert done.returncode == 2 and f"chmod 600 {secret}" in done.stderr, done.stderr


def test_key_options_from_env_and_file_make_the_keyset(tmp_path, keys):
    conf = tmp_path / "cluster.toml"
    conf.write_text(f'[sitetruth-broker]\nrater-keys = "{keys / "raters"}"\nadmin-keys = "{keys / "admins"}"\n')
    args = parse_args(build_parser(), ["--config", str(conf)],
                      environ={"SITETRUTH_CURVE_SECRET": str(keys / "own" / "broker.key_secret"),
                               "SITETRUTH_BIND_CLIENTS": "tcp://0.0.0.0:7710"})
    config = config_from_args(args)
    keyset = config.load_keyset()
    assert isinstance(keyset, KeySet)
    assert (keyset.raters, keyset.clients, keyset.admins) == (keys / "raters", None, keys / "admins")
    # With keys an exposed endpoint is fine, and the line says what is admitted.
    line = security_line(config, keyset)
    assert line.startswith("CURVE on both sockets (tcp://0.0.0.0:7710, tcp://127.0.0.1:7711)")
    assert "1 rater key" in line and "1 admin key" in line
    assert config_from_args(parse_args(build_parser(), [], environ={})).load_keyset() is None


def test_keys_given_on_the_command_line_reach_the_broker(tmp_path, keys):
    """Never a broker that was given keys yet admits anyone: it serves CURVE with them."""
    config = config_from_args(parse_args(build_parser(), _key_flags(keys), environ={}))
    assert isinstance(config.load_keyset(), KeySet)
    clients, raters = free_port(), free_port()
    broker = start_broker_process(f"sqlite:///{tmp_path}/st.db", tmp_path, clients, raters, *_key_flags(keys),
                                  env=_clean_env())
    try:
        assert "CURVE on both sockets" in broker.output()
        from protocol import StatsReply, StatsRequest
        from protocol.client import BrokerClient, BrokerUnavailable
        from protocol.security import load_client_keys

        web1 = load_client_keys(keys / "own" / "web1.key_secret", keys / "own" / "broker.key")
        with BrokerClient(f"tcp://127.0.0.1:{clients}", timeout=10, connect_grace=3.0, curve=web1) as client:
            assert isinstance(client.call(lambda i: StatsRequest(req_id=i, recent=0)), StatsReply)
        with BrokerClient(f"tcp://127.0.0.1:{clients}", timeout=2, connect_grace=1.0) as client:
            with pytest.raises(BrokerUnavailable):
                client.call(lambda i: StatsRequest(req_id=i, recent=0))
    finally:
        assert broker.stop() == 0, broker.output()[-2000:]
