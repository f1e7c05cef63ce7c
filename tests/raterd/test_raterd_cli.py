"""sitetruth-raterd's options: the node name that tells nodes apart, and the pipeline flags.

The node-name test runs two real nodes (supervisor + worker processes, the
fake pipeline) against a ROUTER socket of our own on loopback, and reads
the READY messages their workers send: what the broker and zmq-monitor see.
"""

from __future__ import annotations

import socket
import time

import pytest
import zmq

from protocol import Ready
from protocol.config import parse_args
from protocol.messages import decode
from raterd.cli import build_parser, config_from_args, main
from tests.raterd.raterd_harness import raterd  # noqa: F401  (pytest fixture)


def _config(argv: list[str], environ: dict[str, str] | None = None):
    parser = build_parser()
    return config_from_args(parse_args(parser, argv, environ=environ or {}), parser)


def _readies(router: zmq.Socket, want: int, timeout: float) -> dict[bytes, Ready]:
    """READY messages by sender identity until ``want`` senders were seen (bounded wait)."""
    seen: dict[bytes, Ready] = {}
    end = time.monotonic() + timeout
    while len(seen) < want and time.monotonic() < end:
        if not router.poll(200):
            continue
        identity, *frames = router.recv_multipart()
        message = decode(frames)
        if isinstance(message, Ready):
            seen[identity] = message
    return seen


def test_two_nodes_on_one_host_register_under_their_own_names(raterd):  # noqa: F811
    context = zmq.Context()
    router = context.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 0)
    try:
        port = router.bind_to_random_port("tcp://127.0.0.1")
        endpoint = f"tcp://127.0.0.1:{port}"
        node_a = raterd(endpoint, "--workers", "1", "--node-name", "node-a", name="a")
        # The env twin sets it as well.
        node_b = raterd(endpoint, "--workers", "1", env={"SITETRUTH_NODE_NAME": "node-b"}, name="b")
        seen = _readies(router, 2, timeout=60)
        assert len(seen) == 2, node_a.output() + node_b.output()
        by_node = {ready.host: (identity, ready) for identity, ready in seen.items()}
        assert sorted(by_node) == ["node-a", "node-b"]
        for node, (identity, ready) in by_node.items():
            assert ready.worker == "w0"
            assert identity.startswith(f"{node}/w0/".encode())
    finally:
        router.close()
        context.term()


def test_the_node_name_defaults_to_the_host_name():
    assert _config([]).worker.node_name == socket.gethostname()
    assert _config(["--node-name", "rack2-vm"]).worker.node_name == "rack2-vm"


@pytest.mark.parametrize("name", ["a/b", " padded", "x" * 65, "tab\there"])
def test_an_unusable_node_name_is_a_usage_error(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--node-name", name])
    assert exit_info.value.code == 2
    assert "--node-name" in capsys.readouterr().err


def test_every_pipeline_setting_has_a_flag_and_reaches_the_workers_only_when_given():
    from dataclasses import fields

    from raterd.cli import PipelineOptions
    from raterd.pipeline import RaterSettings

    # Every RaterSettings field can be set from the command line.
    assert {f.name for f in fields(PipelineOptions)} == {f.name for f in fields(RaterSettings)}
    config = _config(["--max-bytes", "5000", "--connections-per-host", "2", "--gleif-timeout", "1.5"],
                     environ={"SITETRUTH_USER_AGENT": "TestBot/1"})
    assert config.worker.settings == {"max_bytes": 5000, "connections_per_host": 2, "gleif_timeout": 1.5,
                                      "user_agent": "TestBot/1"}
    # What reaches the workers builds real settings.
    RaterSettings(**config.worker.settings)


def test_process_tuning_flags_reach_the_worker_config(tmp_path):
    conf = tmp_path / "raterd.toml"
    conf.write_text('[sitetruth-raterd]\nheartbeat = 0.5\nreconnect-max = 2\n')
    config = _config(["--config", str(conf), "--pulses-per-second", "4"])
    w = config.worker
    assert (w.heartbeat, w.reconnect_max, w.pulses_per_second) == (0.5, 2.0, 4.0)


@pytest.mark.parametrize("argv", [["--heartbeat", "0"], ["--pulses-per-second", "-1"], ["--log-level", "loud"]])
def test_bad_tuning_values_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert argv[0] in capsys.readouterr().err


def test_supervisor_tuning_flags_reach_the_supervisor_config():
    config = _config(["--stop-timeout", "40", "--restart-cap", "10"], environ={"SITETRUTH_HEALTHY_AFTER": "30"})
    assert (config.stop_timeout, config.restart_cap, config.healthy_after, config.restart_base) == (40.0, 10.0,
                                                                                                   30.0, 0.5)
    assert _config([]).stop_timeout is None      # the supervisor's own rule: --grace + 5 s


def test_every_node_option_is_a_supervisor_config_field():
    # NodeOptions fields are passed to SupervisorConfig by name.
    from dataclasses import fields

    from raterd.cli import NodeOptions
    from raterd.supervisor import SupervisorConfig

    assert {f.name for f in fields(NodeOptions)} <= {f.name for f in fields(SupervisorConfig)}
