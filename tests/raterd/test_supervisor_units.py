"""Unit tests of the raterd process machinery's pure parts: backoff, control channel, message building, CLI."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import pytest

from protocol import Failed, Job, Result, decode
from protocol.config import parse_args
from protocol.vocabulary import Rating, RatingInfo
from raterd._control import ControlChannel, ControlClosed
from raterd._outcome import outcome_frames, pulse_message
from raterd._proc import describe_exit
from raterd.cli import build_parser, config_from_args, main
from raterd.supervisor import RestartPolicy
from raterd.worker import WorkerConfig, WorkerError


def test_restart_delays_double_up_to_the_cap_and_reset_after_a_healthy_run():
    policy = RestartPolicy(base=0.5, cap=4.0, healthy_after=60)
    assert [policy.next_delay(lifetime=1) for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert policy.next_delay(lifetime=61) == 0.5        # it ran fine for a minute: start over
    assert policy.next_delay(lifetime=2) == 1.0


def test_control_channel_carries_json_lines_and_reports_the_peer_going_away():
    a, b = socket.socketpair()
    left, right = ControlChannel(a), ControlChannel(b)
    left.send({"event": "registered", "pid": 1})
    left.send({"cmd": "leave"})
    assert right.receive() == [{"event": "registered", "pid": 1}, {"cmd": "leave"}]
    assert right.receive() == []                           # nothing more: no blocking, no message
    a.sendall(b'{"half": ')                                # a partial line waits for the rest
    assert right.receive() == []
    a.sendall(b'true}\nnot json\n')
    assert right.receive() == [{"half": True}]              # the unreadable line is dropped, not raised
    left.send({"last": 1})
    left.close()
    assert right.receive() == [{"last": 1}]                 # what came before EOF is still delivered
    with pytest.raises(ControlClosed):
        right.receive()
    with pytest.raises(ControlClosed):
        right.send({"cmd": "leave"})
    right.close()


@dataclass
class _Outcome:
    domain: str
    rating: Rating
    ratinginfo: RatingInfo
    location: dict | None
    evidence: tuple
    elapsed: float


_JOB = Job(job_id="j1", domain="shop.example", attempt=1, lease=20.0, deadline=30.0)


def test_outcome_becomes_a_result_for_the_jobs_domain():
    frames, error = outcome_frames(_JOB, _Outcome("SHOP.example", Rating.Q, RatingInfo.UNVERIFIED,
                                                  {"name": "Shop Ltd"}, ({"kind": "name", "value": "Shop"},), 1.5))
    msg = decode(frames)
    assert error is None and isinstance(msg, Result)
    assert (msg.domain, msg.rating, msg.location, msg.elapsed) == ("shop.example", Rating.Q, {"name": "Shop Ltd"}, 1.5)


def test_too_much_evidence_is_trimmed_rather_than_losing_the_rating():
    evidence = tuple({"kind": "page", "value": "x" * 70_000} for _ in range(600))
    frames, error = outcome_frames(_JOB, _Outcome("shop.example", Rating.X, RatingInfo.NO_LOCATION, None,
                                                  evidence, 2.0))
    msg = decode(frames)
    assert error is None and isinstance(msg, Result) and msg.rating == Rating.X
    assert len(msg.evidence) == 101 and msg.evidence[-1]["kind"] == "note"
    assert all(len(item["value"]) <= 2000 for item in msg.evidence)


def test_an_unusable_outcome_becomes_failed_with_the_reason():
    frames, error = outcome_frames(_JOB, object())
    msg = decode(frames)
    assert isinstance(msg, Failed) and msg.job_id == "j1" and "unusable outcome" in msg.error and error
    frames, error = outcome_frames(_JOB, _Outcome("shop.example", Rating.W, RatingInfo.NONE, None, (), 1.0))
    assert isinstance(decode(frames), Failed) and "cannot be sent" in error      # W is not a final rating


def test_progress_reports_are_coerced_into_valid_pulses_or_dropped():
    pulse = pulse_message("j1", "", "/about", "3", -1)
    assert (pulse.stage, pulse.detail, pulse.done, pulse.total) == ("working", "/about", 3, 0)
    assert pulse_message("j1", "fetched", "x" * 10_000, 1, 2).detail == "x" * 2000
    assert pulse_message("j1", "fetched", "", "many", 2) is None


def test_worker_config_travels_as_json_and_refuses_unknown_keys():
    config = WorkerConfig(broker="tcp://127.0.0.1:1", name="w3", settings={"resolve": ["a.example:127.0.0.1"]})
    assert WorkerConfig.from_json(config.to_json()) == config
    with pytest.raises(WorkerError, match="unknown worker config key"):
        WorkerConfig.from_json('{"brokr": "tcp://x"}')
    with pytest.raises(WorkerError, match="not JSON"):
        WorkerConfig.from_json("{")


def test_exit_statuses_are_described_for_people():
    assert describe_exit(-9) == "killed by signal 9 (SIGKILL)"
    assert describe_exit(78) == "exited with status 78 (CONFIG)"
    assert describe_exit(3) == "exited with status 3"


def test_cli_help_shows_examples_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "Examples" in out and "Exit codes" in out and "--max-jobs" in out and "SITETRUTH_" in out


@pytest.mark.parametrize("argv", [["--resolve", "shop.example"], ["--workers", "0"], ["--max-jobs", "-1"],
                                  ["--resolve", "shop.example:80:127.0.0.1"], ["--log-level", "LOUD"],
                                  ["--broker", "tcp://no-port"]])
def test_cli_refuses_bad_flags_with_usage_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "sitetruth-raterd: error:" in capsys.readouterr().err


def test_cli_flags_env_twins_and_defaults_become_the_worker_config(tmp_path):
    parser = build_parser()
    args = parse_args(parser, ["--workers", "3", "--resolve", "shop.example:127.0.0.1", "--nice", "5"],
                      environ={"SITETRUTH_MAX_JOBS": "7", "SITETRUTH_BROKER": "tcp://10.1.2.3:7711",
                               "SITETRUTH_DEADLINE": "12"})
    config = config_from_args(args, parser)
    assert config.workers == 3
    w = config.worker
    assert (w.broker, w.max_jobs, w.nice, w.max_rss, w.grace) == ("tcp://10.1.2.3:7711", 7, 5, 500.0, 10.0)
    # Only what was given reaches RaterSettings: its own defaults stay in one place.
    assert w.settings == {"resolve": ["shop.example:127.0.0.1"], "deadline": 12.0}
    assert w.pipeline is None


def test_cli_default_workers_is_the_number_of_cpus():
    import os

    parser = build_parser()
    config = config_from_args(parse_args(parser, [], environ={}), parser)
    assert config.workers == len(os.sched_getaffinity(0))
    assert (config.worker.broker, config.worker.max_jobs, config.worker.nice) == ("tcp://127.0.0.1:7711", 100, 10)
