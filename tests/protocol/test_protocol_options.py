"""Options declared once on a config dataclass: flag, env twin, file key, help and value all derived.

Also: every program's --help is plain text (no reStructuredText markup).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, fields

import pytest

from protocol.config import (
    ConfigError,
    add_options,
    from_args,
    load,
    option,
    options_of,
    parse_args,
    plain_text,
    program_parser,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _hex(text: str) -> int:
    return int(text, 16)


@dataclass(frozen=True)
class Sample:
    """A config with one option of each kind, and one internal field."""

    bind: str = option("tcp://127.0.0.1:7710", metavar="ENDPOINT", help="where to listen")
    workers: int = option(2, metavar="N", help="worker processes")
    lease: float = option(20.0, metavar="S", group="timing", help="lease in seconds")
    demo: bool = option(False, help="demo mode")
    nice: int | None = option(None, metavar="N", default_text="inherited", help="niceness")
    keys: frozenset[str] = option(frozenset(), flag="--key", metavar="KEY", help="accepted key (repeatable)")
    allow: tuple[str, ...] = option(("127.0.0.0/8",), metavar="CIDR", help="allowed networks (repeatable)")
    mask: int = option(0xFF, parse=_hex, default_text="ff", help="a mask in hex")
    internal: str = "not an option"


def parser():
    p = program_parser("sample", "``sample``: a program.\n\nExamples::\n\n    sample --workers 3\n")
    add_options(p, Sample)
    return p


def make(argv, environ=None, **extra) -> Sample:
    config, _ = load(Sample, parser(), argv, environ or {}, **extra)
    return config


def test_declared_defaults_become_the_dataclass_defaults():
    assert make([]) == Sample()
    assert [o.name for o in options_of(Sample)] == [f.name for f in fields(Sample) if f.name != "internal"]


def test_flags_env_twins_and_file_keys_are_derived_from_the_declaration(tmp_path):
    names = {o.name: (o.flag, o.env, o.file_keys) for o in options_of(Sample)}
    assert names["bind"] == ("--bind", "SITETRUTH_BIND", ("bind",))
    # A field spelled differently on the command line: env twin and file key follow the flag.
    assert names["keys"] == ("--key", "SITETRUTH_KEY", ("key", "keys"))
    conf = tmp_path / "c.toml"
    conf.write_text('key = ["a", "b"]\nlease = 3\nmask = "10"\n')
    config = make(["--config", str(conf)])
    assert (config.keys, config.lease, config.mask) == (frozenset({"a", "b"}), 3.0, 16)


def test_every_kind_parses_from_the_command_line():
    config = make(["--bind", "tcp://*:1", "--workers", "5", "--lease", "0.5", "--demo", "--nice", "3",
                   "--key", "k1", "--key", "k2", "--allow", "10.0.0.0/8", "--mask", "0f"], internal="set")
    assert config == Sample(bind="tcp://*:1", workers=5, lease=0.5, demo=True, nice=3, keys=frozenset({"k1", "k2"}),
                            allow=("10.0.0.0/8",), mask=15, internal="set")
    # A repeatable option given replaces its default instead of adding to it.
    assert make(["--allow", "::1"]).allow == ("::1",)
    assert make(["--no-demo"], {"SITETRUTH_DEMO": "yes"}).demo is False


def test_every_kind_parses_from_the_environment():
    env = {"SITETRUTH_WORKERS": "7", "SITETRUTH_DEMO": "on", "SITETRUTH_KEY": "a, b", "SITETRUTH_ALLOW": "::1\n10.0.0.0/8",
           "SITETRUTH_MASK": "1f", "SITETRUTH_NICE": "19"}
    config = make([], env)
    assert (config.workers, config.demo, config.keys, config.allow, config.mask, config.nice) == (
        7, True, frozenset({"a", "b"}), ("::1", "10.0.0.0/8"), 31, 19)


def test_precedence_holds_for_declared_options(tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text('[sitetruth]\nworkers = 3\nlease = 9\nbind = "tcp://file:1"\n'
                    '[sample]\nworkers = 4\n')
    env = {"SITETRUTH_CONFIG": str(conf), "SITETRUTH_LEASE": "8"}
    config = make([], env)
    # The program's own table beats the shared one; the environment beats both.
    assert (config.workers, config.lease, config.bind) == (4, 8.0, "tcp://file:1")
    config = make(["--workers=5", "--lease", "7"], env)
    assert (config.workers, config.lease) == (5, 7.0)


@pytest.mark.parametrize("argv,env,message", [
    (["--workers", "many"], {}, "invalid value 'many'"),
    ([], {"SITETRUTH_WORKERS": "many"}, "$SITETRUTH_WORKERS: invalid value 'many'"),
    ([], {"SITETRUTH_MASK": "zz"}, "$SITETRUTH_MASK: invalid value 'zz'"),
    ([], {"SITETRUTH_DEMO": "maybe"}, "expected a boolean"),
    (["--log-level", "chatty"], {}, "not a logging level"),
    ([], {"SITETRUTH_LOG_LEVEL": "chatty"}, "$SITETRUTH_LOG_LEVEL"),
])
def test_bad_values_from_any_source_are_usage_errors_naming_the_source(argv, env, message, capsys):
    with pytest.raises(SystemExit) as e:
        make(argv, env)
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_a_bad_value_in_the_config_file_names_file_and_key(tmp_path, capsys):
    conf = tmp_path / "c.toml"
    conf.write_text('[sample]\nlease = "soon"\n')
    with pytest.raises(SystemExit):
        make(["--config", str(conf)])
    err = capsys.readouterr().err
    assert str(conf) in err and "lease" in err and "'soon'" in err


def test_help_shows_each_default_once_and_the_env_rule(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["--help"])
    out = capsys.readouterr().out
    assert "where to listen (default: tcp://127.0.0.1:7710)" in out
    assert "niceness (default: inherited)" in out and "(default: ff)" in out
    assert "timing:" in out                            # the declared group
    assert "SITETRUTH_SOME_FLAG" in out and "[sample]" in out
    assert "Examples:" in out and "``" not in out and "::" not in out


def test_from_args_ignores_options_the_parser_does_not_have():
    p = program_parser("sample", "sample")
    add_options(p, Sample, exclude=["mask"])
    config = from_args(Sample, parse_args(p, ["--workers", "9"], environ={}))
    assert (config.workers, config.mask) == (9, 0xFF)


def test_config_errors_are_site_truth_errors():
    from protocol.errors import SiteTruthError

    assert issubclass(ConfigError, SiteTruthError)


def test_plain_text_strips_restructured_text():
    doc = ("``sitetruth-x``: run (see :mod:`frontend.demo`, :class:`~store.Store`).\n\n"
           "Examples::\n\n    sitetruth-x --a 1\n\nRun `sitetruth-db migrate` first ::\n\n    x\n")
    text = plain_text(doc)
    assert text.startswith("sitetruth-x: run (see frontend.demo, Store).")
    assert "Examples:\n" in text and "Run sitetruth-db migrate first\n" in text
    assert "`" not in text and "::" not in text
    # IPv6 addresses and a colon inside a line are not markup.
    assert plain_text("listen on [::1]:8080 or fc00::/7") == "listen on [::1]:8080 or fc00::/7"


# Every installed program, as its console script would run it.
PROGRAMS = [
    ("sitetruth-broker", "broker.cli"),
    ("sitetruth-raterd", "raterd.cli"),
    ("sitetruth-frontend", "frontend.cli"),
    ("sitetruth-db", "store.cli"),
    ("sitetruth-db status", "store.cli status"),
    ("sitetruth-cluster", "frontend.cluster"),
    ("zmq-monitor", "broker.monitor"),
    ("sitetruth-sources", "raterd.sources.cli"),
    ("sitetruth-keygen", "protocol.keygen"),
]


@pytest.mark.parametrize("program,module", PROGRAMS, ids=[p for p, _ in PROGRAMS])
def test_every_programs_help_is_plain_text(program, module):
    module, *sub = module.split()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITETRUTH_")}
    done = subprocess.run([sys.executable, "-m", module, *sub, "--help"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(f"usage: {program}")
    for markup in ("`", ":mod:", ":class:", ":func:", "::\n"):
        assert markup not in out, f"{program} --help shows {markup!r}"


DEPLOY_ENV = {"broker.env": "broker.cli", "frontend.env": "frontend.cli", "raterd.env": "raterd.cli"}


@pytest.mark.parametrize("env_file,module", sorted(DEPLOY_ENV.items()))
def test_deploy_env_files_set_only_variables_their_program_reads(env_file, module):
    # A misspelt variable would be ignored without a word: the service would run on a default.
    import importlib
    import re

    from protocol.config import env_name

    parser = importlib.import_module(module).build_parser()
    known = {env_name(s.lstrip("-")) for a in parser._actions for s in a.option_strings
             if s.startswith("--") and not s.startswith("--no-")}
    text = open(os.path.join(ROOT, "deploy", "env", env_file), encoding="utf-8").read()
    used = set(re.findall(r"\b(SITETRUTH_[A-Z0-9_]+)=", text))
    assert used and used <= known, sorted(used - known)
