"""Field rules of the message types, compiled once into straight-line checks.

Each message type in :mod:`protocol.messages` declares its fields' rules
(``RULES = {"job_id": Text(MAX_IDENT_LEN, 1), ...}``).  :func:`compile_message`
turns them into two plain functions per type, the way :mod:`dataclasses`
writes ``__init__``:

* ``__init__``: for every field, one inline test that recognises a value
  already in canonical form (an exact ``str`` within bounds, an ``int`` in
  range, ...) and otherwise calls the full check of :mod:`protocol._checks`,
  which converts the value or raises ProtocolError with the field's name;
  then one store per field;
* ``_body``: a dict literal of the fields in declaration order, enums as
  their wire values.

So a well-formed message costs one type test, one comparison and one store
per field, with no per-field function calls, label formatting or loops over
``dataclasses.fields``; a value that needs converting or refusing takes the
same path as before, with the same error text.  The rules are the single
place the bounds are written; the generated code only reads them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any

from . import _checks as check
from .errors import ProtocolError

__all__ = ["Rule", "Text", "Int", "Num", "Flag", "Choice", "Texts", "Custom", "compile_message"]


class Rule:
    """How one field is checked: a fast test for canonical values and the full check."""

    __slots__ = ()

    def fast(self, v: str, ns: dict[str, Any], key: str) -> str | None:
        """Source of an expression true when *v* is already canonical (None: always check)."""
        return None

    def slow(self, where: str) -> Callable[[Any], Any]:
        """A function of the value: the canonical value, or ProtocolError naming *where*."""
        raise NotImplementedError


class Text(Rule):
    __slots__ = ("max_len", "min_len")

    def __init__(self, max_len: int, min_len: int = 0) -> None:
        self.max_len, self.min_len = max_len, min_len

    def fast(self, v, ns, key):
        # Non-ASCII text takes the full check (which proves it encodes as UTF-8).
        return f"type({v}) is str and {self.min_len} <= len({v}) <= {self.max_len} and {v}.isascii()"

    def slow(self, where):
        return lambda value: check.text(value, where, self.max_len, self.min_len)


class Int(Rule):
    __slots__ = ("lo", "hi")

    def __init__(self, lo: int = 0, hi: int = check.MAX_SAFE_INT) -> None:
        self.lo, self.hi = lo, hi

    def fast(self, v, ns, key):
        return f"type({v}) is int and {self.lo} <= {v} <= {self.hi}"

    def slow(self, where):
        return lambda value: check.integer(value, where, self.lo, self.hi)


class Num(Rule):
    __slots__ = ("lo", "positive")

    def __init__(self, lo: float = 0.0, *, positive: bool = False) -> None:
        self.lo, self.positive = float(lo), positive

    def fast(self, v, ns, key):
        # NaN fails every comparison and infinity fails the upper bound, so
        # both take the full check and its error.
        cond = f"type({v}) is float and {self.lo!r} <= {v} <= {float(check.MAX_SAFE_INT)!r}"
        return cond + (f" and {v} > 0.0" if self.positive else "")

    def slow(self, where):
        return lambda value: check.number(value, where, self.lo, positive=self.positive)


class Flag(Rule):
    __slots__ = ()

    def fast(self, v, ns, key):
        return f"type({v}) is bool"

    def slow(self, where):
        return lambda value: check.flag(value, where)


class Choice(Rule):
    """A member of an enum; the wire value (a str from a peer) is looked up without a call."""

    __slots__ = ("enum_cls", "allowed", "by_value")

    def __init__(self, enum_cls: type[Enum], allowed: Iterable[Enum] | None = None) -> None:
        self.enum_cls = enum_cls
        self.allowed = frozenset(allowed) if allowed is not None else None
        self.by_value = {m.value: m for m in (self.allowed or enum_cls)}

    def fast(self, v, ns, key):
        ns[f"E_{key}"] = self.enum_cls
        if self.allowed is None:
            return f"type({v}) is E_{key}"
        ns[f"A_{key}"] = self.allowed
        return f"type({v}) is E_{key} and {v} in A_{key}"

    def slow(self, where):
        by_value, enum_cls, allowed = self.by_value, self.enum_cls, self.allowed

        def convert(value: Any) -> Any:
            member = by_value.get(value) if type(value) is str else None
            return member if member is not None else check.choice(value, where, enum_cls, allowed)

        return convert


class Texts(Rule):
    """A tuple of bounded texts (a list is accepted and becomes a tuple)."""

    __slots__ = ("max_items", "min_items", "max_len", "min_len")

    def __init__(self, max_items: int, min_items: int, max_len: int, min_len: int = 0) -> None:
        self.max_items, self.min_items, self.max_len, self.min_len = max_items, min_items, max_len, min_len

    def fast(self, v, ns, key):
        ns[f"T_{key}"] = self
        return f"type({v}) is tuple and T_{key}.plain({v})"

    def plain(self, items: tuple) -> bool:
        if not self.min_items <= len(items) <= self.max_items:
            return False
        lo, hi = self.min_len, self.max_len
        for item in items:
            if type(item) is not str or not lo <= len(item) <= hi or not item.isascii():
                return False
        return True

    def slow(self, where):
        def convert(value: Any) -> tuple[str, ...]:
            items = check.sequence(value, where, self.max_items, self.min_items)
            return tuple(check.text(item, f"{where}[{i}]", self.max_len, self.min_len) for i, item in enumerate(items))

        return convert


class Custom(Rule):
    """A field checked by a method of the message (``method(value, where)``), e.g. nested records."""

    __slots__ = ("method",)

    def __init__(self, method: str) -> None:
        self.method = method


def compile_message(cls: type, rules: dict[str, Rule], *, context: bool = True) -> None:
    """Give *cls* a generated ``__init__`` (checks, then one store per field) and ``_body``.

    *rules* must name every dataclass field of *cls*, in declaration order;
    the signature (names, order, defaults) is the dataclass's own.  The
    checks run before anything is stored, so each slot is written once
    (through its slot descriptor: the frozen ``__setattr__`` refuses writes).
    With *context* a ProtocolError gets the class's command attached (as
    every message's errors do); nested records (DomainStatus) go without.
    ``_body`` is only generated when the class has none of its own.
    """
    fs = dataclasses.fields(cls)
    if [f.name for f in fs] != list(rules):
        raise TypeError(f"{cls.__name__}: rules {list(rules)} do not match the fields {[f.name for f in fs]}")
    ns: dict[str, Any] = {"ProtocolError": ProtocolError, "cls": cls}
    params, checks, stores = ["self"], [], []
    for i, f in enumerate(fs):
        name, rule, key = f.name, rules[f.name], f"f{i}"
        if f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{name}: default_factory is not supported by the generated __init__")
        if f.default is dataclasses.MISSING:
            params.append(name)
        else:
            ns[f"D_{key}"] = f.default
            params.append(f"{name}=D_{key}")
        where = f"{cls.__name__}.{name}"
        if isinstance(rule, Custom):
            ns[f"C_{key}"] = getattr(cls, rule.method)
            checks.append(f"{name} = C_{key}(self, {name}, {where!r})")
        else:
            ns[f"S_{key}"] = rule.slow(where)
            fast = rule.fast(name, ns, key)
            checks += ([f"{name} = S_{key}({name})"] if fast is None
                       else [f"if not ({fast}):", f"    {name} = S_{key}({name})"])
        ns[f"W_{key}"] = cls.__dict__[name].__set__  # the slot's own setter
        stores.append(f"W_{key}(self, {name})")
    lines = [f"def __init__({', '.join(params)}):"]
    if checks and context:
        lines += ["    try:", *("        " + c for c in checks),
                  "    except ProtocolError as e:", "        raise e.with_context(command=cls.COMMAND) from None"]
    else:
        lines += ["    " + c for c in checks]
    lines += ["    " + s for s in stores] or ["    pass"]
    _define(cls, "__init__", lines, ns)

    if "_body" not in cls.__dict__:
        items = []
        for name, rule in rules.items():
            items.append(f"{name!r}: self.{name}.value" if isinstance(rule, Choice) else f"{name!r}: self.{name}")
        _define(cls, "_body", ["def _body(self):", f"    return {{{', '.join(items)}}}"], {})


def _define(cls: type, name: str, lines: list[str], ns: dict[str, Any]) -> None:
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<{cls.__name__}.{name}>", "exec"), ns)  # noqa: S102 - source built above from rules
    fn = ns[name]
    fn.__qualname__ = f"{cls.__name__}.{name}"
    fn.__module__ = cls.__module__
    setattr(cls, name, fn)

