"""sitetruth-broker's options: every BrokerConfig setting has a flag, and the flags take effect.

The TTL test runs the real broker process with ``--rating-ttl`` and
``--error-ttl`` and reads the ratings it stored: one rated by a rater,
one given up on after ``--max-attempts 1`` failures.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time

import pytest

from broker.cli import build_parser, config_from_args
from broker.config import BrokerConfig
from protocol import RateReply, RateRequest
from protocol.client import BrokerClient
from protocol.config import parse_args
from store import open_store
from tests.support.fake_rater import FakeRater
from tests.support.processes import free_port, start_broker_process

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_every_broker_setting_has_a_flag_with_an_env_twin():
    parser = build_parser()
    flags = {s for action in parser._actions for s in action.option_strings}
    for f in dataclasses.fields(BrokerConfig):
        assert "--" + f.name.replace("_", "-") in flags, f.name
    # Every number from its env twin (all 7s; those 7 would break get values of their own:
    # liveness must exceed the heartbeat, a message fit a body, a share be at most 1, a
    # traceback and the error buffer keep a useful minimum, a commit wait no second).
    special = {"heartbeat": None, "max_message": None, "key_share": "0.7", "max_traceback": "700",
               "error_buffer_bytes": "700000", "commit_delay": "0.7"}
    numbers = [f.name for f in dataclasses.fields(BrokerConfig) if f.type in ("int", "float")]
    env = {"SITETRUTH_" + name.upper(): special.get(name, "7") for name in numbers if special.get(name, "7")}
    config = config_from_args(parse_args(build_parser(), [], environ=env))
    expected = {name: float(special.get(name, "7")) for name in numbers if special.get(name, "7")}
    assert {name: getattr(config, name) for name in expected} == expected


def test_new_flags_reach_the_config_and_keep_precedence(tmp_path):
    conf = tmp_path / "cluster.toml"
    conf.write_text('[sitetruth-broker]\nmax-unacked = 500\nrating-ttl = 86400\nerror-ttl = 600\n')
    args = parse_args(build_parser(), ["--config", str(conf), "--error-ttl", "60"],
                      environ={"SITETRUTH_RATING_TTL": "7200"})
    config = config_from_args(args)
    assert (config.max_unacked, config.rating_ttl, config.error_ttl) == (500, 7200.0, 60.0)
    assert config_from_args(parse_args(build_parser(), [], environ={})) == BrokerConfig()


@pytest.mark.parametrize("argv,message", [
    (["--max-unacked", "0"], "--max-unacked must be at least 1"),
    (["--commit-delay", "2"], "--commit-delay must be between 0 and 1 second"),
    (["--rating-ttl", "-5"], "--rating-ttl must be more than 0"),
    (["--liveness", "1", "--heartbeat", "2"], "must be longer than --heartbeat"),
    (["--max-message", "1000"], "--max-message must be at least"),
    (["--max-per-ip", "lots"], "invalid value 'lots'"),
    (["--max-live-jobs", "0"], "--max-live-jobs must be at least 1"),
    (["--key-share", "1.5"], "--key-share must be more than 0 and at most 1"),
    (["--error-log-days", "0"], "--error-log-days must be more than 0"),
])
def test_unusable_values_exit_2_before_anything_is_created(tmp_path, argv, message):
    store = tmp_path / "st.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITETRUTH_")}
    env["PYTHONPATH"] = ROOT
    done = subprocess.run([sys.executable, "-m", "broker.cli", "--store", f"sqlite:///{store}",
                           "--bind-clients", "tcp://127.0.0.1:0", "--bind-raters", "tcp://127.0.0.1:0", *argv],
                          env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def _wait_for_rating(url: str, domain: str, timeout: float = 30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open_store(url) as store:
            found = store.lookup_ratings([domain]).get(domain)
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no rating stored for {domain} in {timeout} s")


def test_rating_and_error_ttls_from_the_command_line_are_what_the_store_gets(tmp_path):
    url = f"sqlite:///{tmp_path}/st.db"
    clients, raters = free_port(), free_port()
    broker = start_broker_process(url, tmp_path, clients, raters, "--rating-ttl", "3600", "--error-ttl", "120",
                                  "--max-attempts", "1", "--heartbeat", "0.2", "--liveness", "2")
    client = BrokerClient(f"tcp://127.0.0.1:{clients}", timeout=10)
    try:
        for domain, mode, ttl, letter in (("rated-site.com", "noop", 3600, "Q"),
                                          ("failing-site.com", "fail", 120, "U")):
            with FakeRater(f"tcp://127.0.0.1:{raters}", f"r-{mode}", mode=mode):
                reply = client.call(lambda i, d=domain: RateRequest(req_id=i, client_ip="192.0.2.7", priority=1,
                                                                    domains=(d,)))
                assert isinstance(reply, RateReply), reply
                rating = _wait_for_rating(url, domain)
            assert rating.rating == letter
            assert rating.expires_at - rating.rated_at == pytest.approx(ttl, abs=1)
    finally:
        client._reset()
        assert broker.stop() == 0, broker.output()[-2000:]
