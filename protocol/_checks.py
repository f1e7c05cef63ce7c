"""Field checks shared by the message types in :mod:`protocol.messages`.

Every check takes the value and a ``where`` label ("RateRequest.domains[3]")
for the error message, returns the value in its canonical form (plain ``str``
and ``int``, ``float`` for numbers, tuples for lists) and raises
ProtocolError otherwise.  The same checks run when a message is built locally
and when one is decoded from a peer, so both fail the same way.

Types are exact: ``True`` is not an int, ``"1"`` is not a number.  Ints are
kept below 2**53 so that every number survives a trip through JSON (the
monitor's ``--json`` output, the HTTP API).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from enum import Enum
from typing import Any, TypeVar

from .errors import ProtocolError, shorten
from .wire import MAX_BODY_BYTES

MAX_SAFE_INT = 2**53 - 1
MAX_DEPTH = 8

E = TypeVar("E", bound=Enum)


def fail(where: str, problem: str) -> ProtocolError:
    return ProtocolError(f"{where}: {problem}")


def _type_name(value: Any) -> str:
    return type(value).__name__


def integer(value: Any, where: str, lo: int = 0, hi: int = MAX_SAFE_INT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(where, f"expected int, got {_type_name(value)} {shorten(value)}")
    value = int(value)  # an IntEnum goes on the wire as its plain value
    if not lo <= value <= hi:
        raise fail(where, f"{value} is out of range {lo}..{hi}")
    return value


def number(value: Any, where: str, lo: float = 0.0, *, positive: bool = False) -> float:
    """A finite float >= *lo* (> 0 with *positive*); an int is accepted and converted."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(where, f"expected a number, got {_type_name(value)} {shorten(value)}")
    if isinstance(value, int) and abs(value) > MAX_SAFE_INT:
        raise fail(where, f"{shorten(value)} is out of range")
    value = float(value)
    if not math.isfinite(value):
        raise fail(where, f"{value} is not a finite number")
    if positive and value <= 0:
        raise fail(where, f"{value} must be > 0")
    if value < lo or value > MAX_SAFE_INT:
        raise fail(where, f"{value} is out of range {lo}..{MAX_SAFE_INT}")
    return value


def flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise fail(where, f"expected bool, got {_type_name(value)} {shorten(value)}")
    return value


def _utf8(value: str, where: str) -> None:
    # A lone surrogate can't be packed; refuse it before it reaches msgpack.
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise fail(where, f"not valid Unicode text: {shorten(value)}") from None


def text(value: Any, where: str, max_len: int, min_len: int = 0) -> str:
    if not isinstance(value, str):
        raise fail(where, f"expected str, got {_type_name(value)} {shorten(value)}")
    value = str.__str__(value)  # a str subclass (StrEnum) becomes a plain str
    if len(value) > max_len:
        raise fail(where, f"{len(value)} characters, over the limit of {max_len}: {shorten(value)}")
    if len(value) < min_len:
        raise fail(where, "must not be empty" if min_len == 1 else f"shorter than {min_len} characters")
    _utf8(value, where)
    return value


def choice(value: Any, where: str, enum_cls: type[E], allowed: Iterable[E] | None = None) -> E:
    """A member of *enum_cls*, given the member or its wire value."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise fail(where, f"expected a {enum_cls.__name__} value, got {_type_name(value)} {shorten(value)}")
    try:
        member = enum_cls(value)
    except ValueError:
        raise fail(where, f"{shorten(value)} is not a {enum_cls.__name__} value") from None
    if allowed is not None and member not in allowed:
        raise fail(where, f"{member.value!r} is not allowed here")
    return member


def sequence(value: Any, where: str, max_len: int, min_len: int = 0) -> tuple[Any, ...]:
    """A list or tuple (msgpack arrays decode as tuples) of at most *max_len* items."""
    if not isinstance(value, (list, tuple)):
        raise fail(where, f"expected a list, got {_type_name(value)} {shorten(value)}")
    if len(value) > max_len:
        raise fail(where, f"{len(value)} items, over the limit of {max_len}")
    if len(value) < min_len:
        raise fail(where, f"needs at least {min_len} item(s)")
    return tuple(value)


def mapping(value: Any, where: str, max_len: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(where, f"expected a map, got {_type_name(value)} {shorten(value)}")
    if len(value) > max_len:
        raise fail(where, f"{len(value)} entries, over the limit of {max_len}")
    for key in value:
        if not isinstance(key, str):
            raise fail(where, f"key {shorten(key)} is not a string")
    return value


def scalar(value: Any, where: str, max_text: int) -> Any:
    """A str, int, float, bool or None, as the evidence records carry."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return integer(value, where, lo=-MAX_SAFE_INT)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise fail(where, f"{value} is not a finite number")
        return value
    if isinstance(value, str):
        return text(value, where, max_text)
    raise fail(where, f"expected str, int, float, bool or None, got {_type_name(value)} {shorten(value)}")


class _Budget:
    """Rough running size of free-form data, so a huge value fails early."""

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_BODY_BYTES

    def spend(self, amount: int, where: str) -> None:
        self.left -= amount
        if self.left < 0:
            raise fail(where, f"data is larger than the {MAX_BODY_BYTES}-byte body limit")


def free_form(value: Any, where: str) -> dict[str, Any]:
    """Free-form data (stats, admin arguments): a str-keyed map of plain values.

    Values may be None, bool, int, finite float, str, lists and maps, nested
    at most MAX_DEPTH containers deep (the outer map counts).  Lists become
    tuples and the maps are copied, so a message never shares mutable state
    with its caller and decodes to an equal value.  Bytes are refused: the
    data ends up as JSON in the monitor and on status pages.
    """
    if not isinstance(value, dict):
        raise fail(where, f"expected a map, got {_type_name(value)} {shorten(value)}")
    if type(value) is dict:
        # Most data (a broker's stats list every rater) is plain already: copy
        # it in one pass without building a label per value; only data that
        # fails that pass is walked again, with labels, for the precise error.
        try:
            return _copy_plain(value, 1, _Budget())
        except _NotPlain:
            pass
    return _plain(value, where, 1, _Budget())


class _NotPlain(Exception):
    """Raised by the label-free pass: take the careful path."""


def _copy_plain(value: Any, depth: int, budget: _Budget) -> Any:
    kind = type(value)
    if kind is str:
        if not value.isascii():
            raise _NotPlain
        budget.left -= len(value) + 5
        return value
    if kind is int:
        if not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            raise _NotPlain
        budget.left -= 9
        return value
    if kind is float:
        if not math.isfinite(value):
            raise _NotPlain
        budget.left -= 9
        return value
    if value is None or kind is bool:
        budget.left -= 1
        return value
    if depth > MAX_DEPTH:
        raise _NotPlain
    budget.left -= 5
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                raise _NotPlain
            budget.left -= len(key) + 5
            out[key] = _copy_plain(item, depth + 1, budget)
        result: Any = out
    elif kind is list or kind is tuple:
        result = tuple([_copy_plain(item, depth + 1, budget) for item in value])
    else:
        raise _NotPlain
    if budget.left < 0:
        raise _NotPlain
    return result


def _plain(value: Any, where: str, depth: int, budget: _Budget) -> Any:
    if value is None or isinstance(value, bool):
        budget.spend(1, where)
        return value
    if isinstance(value, int):
        budget.spend(9, where)
        return integer(value, where, lo=-MAX_SAFE_INT)
    if isinstance(value, float):
        budget.spend(9, where)
        if not math.isfinite(value):
            raise fail(where, f"{value} is not a finite number")
        return value
    if isinstance(value, str):
        budget.spend(len(value) + 5, where)
        return text(value, where, MAX_BODY_BYTES)
    if isinstance(value, (list, tuple, dict)):
        if depth > MAX_DEPTH:
            raise fail(where, f"nested deeper than {MAX_DEPTH} levels")
        budget.spend(5, where)
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise fail(where, f"key {shorten(key)} is not a string")
                key = text(key, f"{where} key", MAX_BODY_BYTES)
                budget.spend(len(key) + 5, where)
                out[key] = _plain(item, f"{where}[{key[:40]!r}]", depth + 1, budget)
            return out
        return tuple(_plain(item, f"{where}[{i}]", depth + 1, budget) for i, item in enumerate(value))
    raise fail(where, f"unsupported value type {_type_name(value)} {shorten(value)}")
