"""Command-line conventions every SiteTruth program shares.

The command contract (``shared/ARCHITECTURE.md``) says every flag has a
``SITETRUTH_*`` environment twin and that a TOML file given with ``--config``
may hold them all. Precedence, highest first: the command line, the
environment, the config file, the documented default. Each program builds its
``argparse`` parser as usual and lets :func:`parse_args` fill in the rest, so
the defaults stay written in one place: the ``add_argument`` calls.

Config file keys are the long flag names without dashes, with ``-`` or ``_``
(``bind-clients = "tcp://..."``); a ``[sitetruth]`` table or top-level keys.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Mapping, Sequence

__all__ = ["env_name", "parse_args", "ConfigFileError"]


class ConfigFileError(ValueError):
    """The ``--config`` file cannot be read or holds an unknown key."""


def env_name(dest: str) -> str:
    """``bind_clients`` -> ``SITETRUTH_BIND_CLIENTS``."""
    return "SITETRUTH_" + dest.upper().replace("-", "_")


def _convert(action: argparse.Action, raw: object, origin: str) -> object:
    """Turn an environment/config value into what the flag itself would give."""
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        if isinstance(raw, bool):
            value = raw
        else:
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                value = True
            elif text in ("0", "false", "no", "off", ""):
                value = False
            else:
                raise ConfigFileError(f"{origin}: expected a boolean, got {raw!r}")
        return value if isinstance(action, argparse._StoreTrueAction) else not value
    if isinstance(action, argparse._AppendAction):
        if isinstance(raw, list):
            items = raw
        else:
            # Environment lists are comma- or newline-separated.
            items = [p for p in str(raw).replace("\n", ",").split(",") if p.strip()]
        convert = action.type or str
        return [convert(str(item).strip()) for item in items]
    convert = action.type or str
    try:
        return convert(raw if isinstance(raw, str) or action.type is None else str(raw))
    except (TypeError, ValueError) as e:
        raise ConfigFileError(f"{origin}: invalid value {raw!r} ({e})") from e


def _load_config(path: str) -> dict[str, object]:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ConfigFileError(f"cannot read config file {path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigFileError(f"config file {path} is not valid TOML: {e}") from e
    table = data.get("sitetruth", data)
    if not isinstance(table, dict):
        raise ConfigFileError(f"config file {path}: [sitetruth] must be a table")
    return {str(k).replace("-", "_"): v for k, v in table.items() if not isinstance(v, dict)}


def parse_args(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> argparse.Namespace:
    """Parse ``argv`` with env twins and an optional ``--config`` TOML file.

    Adds ``--config`` to the parser if it is missing. Errors in the
    environment or config file are reported through ``parser.error`` (exit
    code 2) like any other usage error.
    """
    environ = os.environ if environ is None else environ
    if not any("--config" in a.option_strings for a in parser._actions):
        parser.add_argument("--config", metavar="FILE", default=environ.get("SITETRUTH_CONFIG"),
                            help="TOML file holding any of these options (env SITETRUTH_CONFIG)")
    args = parser.parse_args(argv)
    given = _explicit_dests(parser, argv)
    try:
        config = _load_config(args.config) if getattr(args, "config", None) else {}
        for action in parser._actions:
            dest = action.dest
            if dest in ("help", "config") or not action.option_strings or dest in given:
                continue
            name = env_name(dest)
            if name in environ:
                setattr(args, dest, _convert(action, environ[name], f"${name}"))
            elif dest in config:
                setattr(args, dest, _convert(action, config.pop(dest), f"config {dest}"))
        known = {a.dest for a in parser._actions}
        unknown = sorted(k for k in config if k not in known)
        if unknown:
            raise ConfigFileError(f"config file {args.config}: unknown option(s) {', '.join(unknown)}")
    except ConfigFileError as e:
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
