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


def test_a_flag_with_another_dest_keeps_the_env_twin_of_its_flag(tmp_path):
    p = argparse.ArgumentParser(prog="demo")
    p.add_argument("--trusted-proxy", dest="proxies", action="append")
    assert parse_args(p, [], environ={"SITETRUTH_TRUSTED_PROXY": "10.0.0.0/8"}).proxies == ["10.0.0.0/8"]
    conf = tmp_path / "st.toml"
    conf.write_text('trusted-proxy = ["192.0.2.0/24"]\n')
    assert parse_args(p, ["--config", str(conf)], environ={}).proxies == ["192.0.2.0/24"]


def test_the_programs_own_table_beats_the_shared_one_and_holds_its_own_keys(tmp_path):
    conf = tmp_path / "cluster.toml"
    conf.write_text('[sitetruth]\nworkers = 7\n\n[demo]\nworkers = 4\nresolve = ["a.example:127.0.0.1"]\n\n'
                    '[other-program]\nmax-unacked = 5\n')
    args = parse_args(parser(), ["--config", str(conf)], environ={})
    assert (args.workers, args.resolve) == (4, ["a.example:127.0.0.1"])


def test_a_config_file_value_of_the_wrong_shape_is_a_usage_error(tmp_path, capsys):
    conf = tmp_path / "st.toml"
    conf.write_text('workers = [1, 2]\n')
    with pytest.raises(SystemExit) as e:
        parse_args(parser(), ["--config", str(conf)], environ={})
    assert e.value.code == 2 and "workers" in capsys.readouterr().err


def test_sub_command_help_is_plain_text_too(capsys):
    p = argparse.ArgumentParser(prog="demo", description="``demo``: a tool.")
    sub = p.add_subparsers(dest="command").add_parser("run", description="Run it (see :mod:`x.y`).")
    sub.add_argument("--fast", action="store_true", help="be ``fast``")
    with pytest.raises(SystemExit):
        parse_args(p, ["run", "--help"], environ={})
    out = capsys.readouterr().out
    assert "Run it (see x.y)." in out and "be fast" in out and "`" not in out


def test_one_parser_parsed_twice_reads_each_environment_afresh(tmp_path):
    conf = tmp_path / "st.toml"
    conf.write_text("workers = 6\n")
    p = parser()
    assert parse_args(p, [], environ={"SITETRUTH_CONFIG": str(conf)}).workers == 6
    assert parse_args(p, [], environ={}).workers == 2
