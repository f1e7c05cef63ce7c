"""--help as plain text: module docstrings are reStructuredText, terminals are not.

Our programs cut their ``--help`` from their module docstrings, which are
written for developers and Sphinx (double back-quotes, ``:mod:`` roles,
``Examples::``). :func:`plain_text` strips that markup and
:func:`make_plain` gives a parser (and its sub-commands) a formatter that
applies it to description, epilog and every option's help.
:func:`protocol.config.parse_args` calls it for every program.
"""

from __future__ import annotations

import argparse
import re

__all__ = ["plain_text", "PlainHelpFormatter", "make_plain"]

_LITERAL = re.compile(r"``(.+?)``", re.S)
_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`(~?)([^`]+)`")
_INTERPRETED = re.compile(r"(?<![`\w])`([^`\n]+)`(?![`\w])")


def plain_text(text: str) -> str:
    """``text`` without reStructuredText markup, for a terminal.

    ``literal`` -> literal, :mod:`x` -> x, `x` -> x; a paragraph ending
    in "::" ends in ":" (or nothing, for a "::" on its own).
    """
    # :class:`~store.Store` shows as "Store", as Sphinx would show it.
    text = _ROLE.sub(lambda m: m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2), text)
    text = _LITERAL.sub(r"\1", text)
    text = _INTERPRETED.sub(r"\1", text)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        stripped = line.rstrip()
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if not stripped.endswith("::") or following:
            continue
        body = stripped[:-2]
        # "Examples::" -> "Examples:"; "text ::" and a lone "::" -> no colon at all.
        lines[i] = body.rstrip() if (not body.strip() or body.endswith((" ", "\t"))) else body + ":"
    return "\n".join(lines)


class _PlainMixin:
    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return super()._fill_text(plain_text(text), width, indent)  # type: ignore[misc]

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = super()._get_help_string(action)  # type: ignore[misc]
        return None if text is None else plain_text(text)


class PlainHelpFormatter(_PlainMixin, argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of description and epilog (examples stay lined up), drops the markup."""


def make_plain(parser: argparse.ArgumentParser) -> None:
    """Render ``parser``'s help (and its sub-commands') as plain text, keeping its formatter's layout."""
    base = parser.formatter_class
    if isinstance(base, type) and not issubclass(base, _PlainMixin):
        parser.formatter_class = type(f"Plain{base.__name__}", (_PlainMixin, base), {})
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                make_plain(sub)

