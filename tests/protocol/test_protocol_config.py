"""protocol.config: command line beats environment beats config file beats default."""

from __future__ import annotations

import argparse

import pytest

from protocol.config import env_name, parse_args


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="demo")
    p.add_argument("--bind-clients", default="tcp://127.0.0.1:7710")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--demo", action="store_true")
    p.add_argument("--resolve", action="append", default=[])
    return p


def test_env_name():
    assert env_name("bind_clients") == "SITETRUTH_BIND_CLIENTS"


def test_defaults_when_nothing_is_set():
    args = parse_args(parser(), [], environ={})
    assert (args.bind_clients, args.workers, args.demo, args.resolve) == ("tcp://127.0.0.1:7710", 2, False, [])


def test_precedence_cli_over_env_over_file(tmp_path):
    conf = tmp_path / "st.toml"
    conf.write_text('[sitetruth]\nworkers = 7\nbind-clients = "tcp://*:1"\ndemo = true\n')
    env = {"SITETRUTH_CONFIG": str(conf), "SITETRUTH_BIND_CLIENTS": "tcp://*:2"}
    args = parse_args(parser(), [], environ=env)
    assert (args.workers, args.bind_clients, args.demo) == (7, "tcp://*:2", True)
    args = parse_args(parser(), ["--workers", "3", "--bind-clients=tcp://*:3"], environ=env)
    assert (args.workers, args.bind_clients) == (3, "tcp://*:3")
    # An abbreviated flag is still the command line's word.
    args = parse_args(parser(), ["--work", "5"], environ={"SITETRUTH_WORKERS": "9"})
    assert args.workers == 5


def test_env_booleans_and_lists():
    env = {"SITETRUTH_DEMO": "yes", "SITETRUTH_RESOLVE": "a.com:127.0.0.1, b.com:127.0.0.2"}
    args = parse_args(parser(), [], environ=env)
    assert args.demo is True and args.resolve == ["a.com:127.0.0.1", "b.com:127.0.0.2"]


@pytest.mark.parametrize("env,message", [
    ({"SITETRUTH_WORKERS": "many"}, "invalid value"),
    ({"SITETRUTH_DEMO": "perhaps"}, "expected a boolean"),
])
def test_bad_environment_values_are_usage_errors(env, message, capsys):
    with pytest.raises(SystemExit) as e:
        parse_args(parser(), [], environ=env)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_bad_config_files_are_usage_errors(tmp_path, capsys):
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("wokers = 3\n")
    broken = tmp_path / "broken.toml"
    broken.write_text("workers = \n")
    for path, message in ((unknown, "unknown option(s) wokers"), (broken, "not valid TOML"),
                          (tmp_path / "missing.toml", "cannot read config file")):
        with pytest.raises(SystemExit) as e:
            parse_args(parser(), ["--config", str(path)], environ={})
        assert e.value.code == 2 and message in capsys.readouterr().err
