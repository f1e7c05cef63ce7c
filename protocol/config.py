"""Options every SiteTruth program reads: declared once, read from four places.

Each program's settings are a frozen dataclass (``BrokerConfig``,
``FrontendConfig``, ``WorkerConfig``...). A field declared with
:func:`option` is a user-facing option, and everything else is derived from
that one declaration:

- the command-line flag (``max_unacked`` -> ``--max-unacked``), its type,
  metavar, group and ``--help`` line with the default;
- the environment twin (``SITETRUTH_MAX_UNACKED``);
- the key in the TOML file given with ``--config FILE`` (``max-unacked`` or
  ``max_unacked``, top level or in a ``[sitetruth]`` table; a table named
  after the program, such as ``[sitetruth-broker]``, holds keys only that
  program knows, so one file can serve a whole cluster);
- the value in the dataclass, after :func:`load` parsed and merged them.

Precedence, highest first: the command line, the environment, the config
file, the declared default. Bad values from any of them are usage errors
(exit code 2) that name where the value came from.

Where each program declares its options:

=====================  ==================================================
``sitetruth-broker``   ``broker.config.BrokerConfig``
``sitetruth-frontend`` ``frontend.config.FrontendConfig`` (also read by
                       the gunicorn entry point, from the environment)
``sitetruth-raterd``   ``raterd._workerconfig.WorkerConfig`` (what each
                       worker gets), ``raterd.cli.NodeOptions`` (fields of
                       ``SupervisorConfig``), ``raterd.cli.PipelineOptions``
                       (``RaterSettings``)
``sitetruth-db``       ``store.cli.DbOptions``
=====================  ==================================================

Adding an option is a one-place change: add a field to that dataclass,
with its reason as a comment::

    # Why this default is what it is.
    curve_secret_file: str = option("", metavar="FILE", group="security",
                                    help="the broker's CURVE secret key file")

and read ``config.curve_secret_file`` where it is used. A check that needs
several fields goes in the config's ``check()`` (raise ``ConfigError``; the
program reports it as a usage error). Field names are what the code reads:
add, never rename. Secrets belong in files named by an option (``*_file``),
not in a flag's value, which every user of the machine sees in ``ps``.

The field's type annotation picks the parsing: ``str``, ``int``, ``float``;
``bool`` gives ``--name/--no-name``; ``X | None`` accepts X; ``tuple[X, ...]``
and ``frozenset[X]`` make a repeatable flag (comma-separated in the
environment, a TOML array in the file). ``parse=`` takes any other
converter (raise ``ValueError`` or ``argparse.ArgumentTypeError`` for bad
text). Code that uses the value reads the field; nothing else changes. Fields
without :func:`option` (``WorkerConfig.name``) are internal: no flag.

Programs whose parser is not derived (sub-commands, positional arguments)
still get env twins and ``--config`` from :func:`parse_args`. Every ``--help``
is rendered as plain text: the module docstrings the help is cut from are
written for developers (reStructuredText: double back-quotes, ``:mod:``
roles, ``Examples::``), and :func:`plain_text` strips that markup.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import textwrap
import tomllib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from ._helptext import PlainHelpFormatter, make_plain, plain_text
from .errors import SiteTruthError

__all__ = [
    "ConfigError",
    "ConfigFileError",
    "Option",
    "option",
    "options_of",
    "add_options",
    "from_args",
    "program_parser",
    "load",
    "env_name",
    "parse_args",
    "plain_text",
    "PlainHelpFormatter",
    "log_level",
]

T = TypeVar("T")
_KEY = "sitetruth.option"


class ConfigError(SiteTruthError, ValueError):
    """An option's value (flag, environment, config file) or the config file itself is unusable."""


# The name the first version of this module used; callers may still catch it.
ConfigFileError = ConfigError


def env_name(name: str) -> str:
    """``bind_clients`` or ``bind-clients`` -> ``SITETRUTH_BIND_CLIENTS``."""
    return "SITETRUTH_" + name.upper().replace("-", "_")


# ----------------------------------------------------------------- declaring


@dataclasses.dataclass(frozen=True)
class Option:
    """One option as declared on a config field (see :func:`option`)."""

    name: str                       # the dataclass field (and argparse dest)
    default: Any
    help: str
    flag: str                       # "--max-unacked"
    parse: Callable[[str], Any]     # text -> one value
    kind: str                       # "value", "switch" or "list"
    container: type | None = None   # tuple or frozenset for lists
    metavar: str | None = None
    group: str | None = None
    default_text: str | Callable[[], str] | None = None
    choices: tuple[Any, ...] | None = None
    short: str | None = None        # "-v": an extra spelling on the command line only

    @property
    def env(self) -> str:
        return env_name(self.flag.lstrip("-"))

    @property
    def file_keys(self) -> tuple[str, ...]:
        keys = {self.name, self.flag.lstrip("-").replace("-", "_")}
        return tuple(sorted(keys))


def option(
    default: Any = None,
    *,
    help: str,
    metavar: str | None = None,
    flag: str | None = None,
    parse: Callable[[str], Any] | None = None,
    group: str | None = None,
    default_text: str | Callable[[], str] | None = None,
    choices: Sequence[Any] | None = None,
    short: str | None = None,
) -> Any:
    """Declare a dataclass field as a user-facing option (use as the field's default).

    ``flag`` overrides the derived flag (``keys`` is given as ``--key``; the
    env twin and file key follow the flag). ``default_text`` replaces the
    default shown in ``--help`` (``"number of CPUs"``); ``""`` shows none; a
    callable is asked when the help is built (a default that lives elsewhere).
    """
    meta = {"help": help, "metavar": metavar, "flag": flag, "parse": parse, "group": group,
            "default_text": default_text, "choices": tuple(choices) if choices is not None else None,
            "short": short}
    return dataclasses.field(default=default, metadata={_KEY: meta})


def options_of(cls: type) -> list[Option]:
    """The options declared on config dataclass ``cls``, in field order."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(_KEY)
        if meta is None:
            continue
        kind, container, parse = _kind(hints[f.name], f"{cls.__name__}.{f.name}")
        out.append(Option(
            name=f.name, default=f.default, help=meta["help"],
            flag=meta["flag"] or "--" + f.name.replace("_", "-"),
            parse=meta["parse"] or parse, kind=kind, container=container, metavar=meta["metavar"],
            group=meta["group"], default_text=meta["default_text"], choices=meta["choices"],
            short=meta["short"]))
    return out


def _kind(hint: Any, where: str) -> tuple[str, type | None, Callable[[str], Any]]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return _kind(rest[0], where)
    if hint is bool:
        return "switch", None, _boolean
    if hint in (str, int, float):
        return "value", None, hint
    if origin in (tuple, frozenset, list) and args:
        item = args[0]
        return "list", (tuple if origin is list else origin), (item if item in (str, int, float) else str)
    # A declaration with its own parse= does not need a known type.
    return "value", None, str


def _boolean(text: str | bool) -> bool:
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected a boolean (yes/no, true/false, 1/0), got {text!r}")


# ----------------------------------------------------------------- deriving


def _help_line(opt: Option) -> str:
    text = opt.help
    if opt.default_text is not None:
        shown = opt.default_text() if callable(opt.default_text) else opt.default_text
    elif opt.kind == "switch" or opt.default in (None, "", (), frozenset()):
        shown = ""
    elif opt.kind == "list":
        shown = ", ".join(str(v) for v in opt.default)
    else:
        shown = str(opt.default)
    if shown:
        text += f" (default: {shown})"
    return text.replace("%", "%%")


def add_options(parser: argparse.ArgumentParser, cls: type, *, exclude: Sequence[str] = (),
                defaults: bool = True) -> list[Option]:
    """Add the flags of ``cls``'s options to ``parser`` (in their groups); return the options.

    ``defaults=False`` is for a sub-command's parser that accepts the same
    options after the command: it leaves out what was not given, so a value
    given before the command is not overwritten by a default.
    """
    groups: dict[str, Any] = {}
    options = [o for o in options_of(cls) if o.name not in exclude]
    for opt in options:
        target: Any = parser
        if opt.group:
            if opt.group not in groups:
                groups[opt.group] = parser.add_argument_group(opt.group)
            target = groups[opt.group]
        kwargs: dict[str, Any] = {"dest": opt.name, "help": _help_line(opt)}
        if opt.kind == "switch":
            kwargs.update(action=argparse.BooleanOptionalAction, default=opt.default)
        else:
            kwargs.update(type=_argparse_type(opt), metavar=opt.metavar)
            if opt.choices is not None:
                kwargs["choices"] = opt.choices
            if opt.kind == "list":
                # None, not the declared tuple: argparse would append to the default.
                kwargs.update(action="append", default=None)
            else:
                kwargs["default"] = opt.default
        if not defaults:
            kwargs["default"] = argparse.SUPPRESS
        target.add_argument(*([opt.short] if opt.short else []), opt.flag, **kwargs)
    return options


def _argparse_type(opt: Option) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return opt.parse(text)
        except (ValueError, TypeError) as e:
            raise argparse.ArgumentTypeError(f"invalid value {text!r}: {e}") from None

    convert.__name__ = getattr(opt.parse, "__name__", "value")
    return convert


def from_args(cls: type[T], args: argparse.Namespace, **extra: Any) -> T:
    """An instance of ``cls`` from the parsed options, plus internal fields in ``extra``."""
    values = {}
    for opt in options_of(cls):
        if not hasattr(args, opt.name):
            continue
        value = getattr(args, opt.name)
        if opt.kind == "list":
            value = opt.default if value is None else opt.container(value)
        values[opt.name] = value
    values.update(extra)
    return cls(**values)


def log_level(text: str) -> str:
    """A logging level name (``debug`` -> ``DEBUG``); ValueError for anything else."""
    name = str(text).strip().upper()
    if not isinstance(logging.getLevelName(name), int):
        raise ValueError("not a logging level (DEBUG, INFO, WARNING, ERROR, CRITICAL)")
    return name


def program_parser(prog: str, doc: str, *, log_levels: bool = True) -> argparse.ArgumentParser:
    """A parser whose help is ``doc`` as plain text (first paragraph: description).

    Adds ``--config FILE`` and, unless ``log_levels`` is false, ``--log-level``:
    the two options every daemon has and no config dataclass holds.
    """
    head, _, rest = doc.strip().partition("\n\n")
    epilog = rest.rstrip() + "\n\n" if rest.strip() else ""
    epilog += textwrap.fill(
        "Every option has a SITETRUTH_* environment twin named after its flag (--some-flag -> "
        "SITETRUTH_SOME_FLAG; lists comma-separated) and a key in the TOML file given with --config "
        f"(some-flag = value, at the top, in [sitetruth] or in [{prog}]). Command line beats environment "
        "beats file beats default.", 78)
    parser = argparse.ArgumentParser(prog=prog, description=textwrap.fill(plain_text(head), 78), epilog=epilog,
                                     formatter_class=PlainHelpFormatter)
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="TOML file holding any of these options (env SITETRUTH_CONFIG)")
    if log_levels:
        parser.add_argument("--log-level", type=_argparse_type(Option(
            "log_level", "INFO", "", "--log-level", log_level, "value")), default="INFO", metavar="LEVEL",
            help="DEBUG, INFO, WARNING, ERROR (default: INFO)")
    return parser


def load(cls: type[T], parser: argparse.ArgumentParser, argv: Sequence[str] | None = None,
         environ: Mapping[str, str] | None = None, **extra: Any) -> tuple[T, argparse.Namespace]:
    """Parse ``argv`` with env twins and config file, and build ``cls`` from the result."""
    args = parse_args(parser, argv, environ)
    try:
        return from_args(cls, args, **extra), args
    except (TypeError, ValueError) as e:
        parser.error(str(e))
        raise  # pragma: no cover - parser.error exits


# ----------------------------------------------------------------- reading


def _convert(action: argparse.Action, raw: object, origin: str) -> object:
    """Turn an environment/config value into what the flag itself would give."""
    try:
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction,
                               argparse.BooleanOptionalAction)):
            value = _boolean(raw)  # type: ignore[arg-type]
            return (not value) if isinstance(action, argparse._StoreFalseAction) else value
        convert = action.type or str
        if isinstance(action, argparse._AppendAction):
            if isinstance(raw, list):
                items = raw
            else:
                # Environment lists are comma- or newline-separated.
                items = [p for p in str(raw).replace("\n", ",").split(",") if p.strip()]
            return [convert(str(item).strip()) for item in items]
        if isinstance(raw, (dict, list)):
            raise ValueError("expected a single value")
        value = convert(str(raw) if not isinstance(raw, str) else raw)
    except (TypeError, ValueError, argparse.ArgumentTypeError) as e:
        raise ConfigError(f"{origin}: {_reason(e, raw)}") from e
    if action.choices is not None and value not in action.choices:
        raise ConfigError(f"{origin}: {raw!r} is not one of {', '.join(map(str, action.choices))}")
    return value


def _reason(error: Exception, raw: object) -> str:
    text = str(error)
    return text if text.startswith(("invalid value", "expected")) else f"invalid value {raw!r} ({text})"


def _load_config(path: str, prog: str) -> dict[str, object]:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from e
    shared = data.get("sitetruth", data)
    if not isinstance(shared, dict):
        raise ConfigError(f"config file {path}: [sitetruth] must be a table")
    own = data.get(prog, {}) if prog else {}
    if not isinstance(own, dict):
        raise ConfigError(f"config file {path}: [{prog}] must be a table")
    merged = {str(k).replace("-", "_"): v for k, v in shared.items() if not isinstance(v, dict)}
    merged.update({str(k).replace("-", "_"): v for k, v in own.items()})
    return merged


def _flag_name(action: argparse.Action) -> str:
    """The long flag without dashes (``--trusted-proxy`` -> ``trusted-proxy``): env twin and file key."""
    longs = [s for s in action.option_strings if s.startswith("--") and not s.startswith("--no-")]
    return (longs[0] if longs else action.option_strings[0]).lstrip("-")


def parse_args(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> argparse.Namespace:
    """Parse ``argv`` with env twins and an optional ``--config`` TOML file.

    Adds ``--config`` to the parser if it is missing and renders its help as
    plain text. An option's env twin and file key come from its long flag
    (``--trusted-proxy`` -> ``SITETRUTH_TRUSTED_PROXY``, ``trusted-proxy``).
    Errors in the environment or config file are reported through
    ``parser.error`` (exit code 2) like any other usage error.
    """
    environ = os.environ if environ is None else environ
    make_plain(parser)
    config_actions = [a for a in parser._actions if "--config" in a.option_strings]
    if not config_actions:
        config_actions = [parser.add_argument("--config", metavar="FILE", default=None,
                                              help="TOML file holding any of these options (env SITETRUTH_CONFIG)")]
    args = parser.parse_args(argv)
    given = _explicit_dests(parser, argv)
    path = getattr(args, "config", None)
    if "config" not in given and environ.get("SITETRUTH_CONFIG"):
        path = environ["SITETRUTH_CONFIG"]
        args.config = path
    try:
        config = _load_config(path, parser.prog) if path else {}
        for action in parser._actions:
            dest = action.dest
            if dest in ("help", "config") or not action.option_strings:
                continue
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                continue
            name = _flag_name(action)
            env = env_name(name)
            keys = sorted(k for k in {name.replace("-", "_"), dest} if k in config)
            values = [config.pop(k) for k in keys]
            if dest in given:
                continue
            if env in environ:
                setattr(args, dest, _convert(action, environ[env], f"${env}"))
            elif keys:
                setattr(args, dest, _convert(action, values[0], f"config file {path}: {keys[0]}"))
        unknown = sorted(config)
        if unknown:
            raise ConfigError(f"config file {path}: unknown option(s) {', '.join(unknown)}")
    except ConfigError as e:
        parser.error(str(e))
    return args


def _explicit_dests(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> set[str]:
    """Which options the command line itself set (those win over env and file).

    Parsed a second time with every default suppressed: whatever lands in
    the namespace was given, whichever way it was spelled (``--workers 4``,
    ``--workers=4``, an abbreviation such as ``--work 4``).
    """
    saved = [(action, action.default) for action in parser._actions]
    try:
        for action, _ in saved:
            action.default = argparse.SUPPRESS
        given, _ = parser.parse_known_args(argv)
    finally:
        for action, default in saved:
            action.default = default
    return set(vars(given))
