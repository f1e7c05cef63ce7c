"""Typed messages: what each command's body holds, checked on the way in and out.

Every message is a small frozen dataclass with ``to_frames()`` and
``from_frames()``; :func:`decode` turns any application frame list into the
right type by its command byte.  The frame layout itself lives in
:mod:`protocol.wire`.

The flow these messages serve::

    frontend / zmq-monitor          broker                     raterd worker
      RateRequest     ─────────▶                ◀──────────   Ready
      ◀── RateReply | Overload                  ──────────▶   Job
          | Unavailable | ErrorReply            ◀──────────   Pulse* (progress)
      StatsRequest    ─────────▶                ◀──────────   Result | Failed
      ◀── StatsReply                            ◀─────────▶   Heartbeat
      AdminRequest    ─────────▶                ──────────▶   Disconnect
      ◀── AdminReply                            ◀──────────   ErrorReport

Validation runs in ``__init__`` (generated from each type's ``RULES``), so building a bad message locally and
decoding a bad one from a peer both raise ProtocolError with the same text.
Rules: exact types (a bool is not an int; an int is accepted for a float and
converted), all required keys present, no unknown keys, every string, list
and number bounded.  Keys whose field has a default may be absent on the
wire; ``to_frames`` always writes every field.  Decoded lists are tuples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, fields
from enum import StrEnum
from typing import Any, ClassVar, Self

from . import _checks as check
from ._fields import Choice, Custom, Flag, Int, Num, Rule, Text, Texts, compile_message
from .errors import ProtocolError, shorten
from .vocabulary import FINAL_RATINGS, LOCATION_FIELDS, Rating, RatingInfo
from .wire import Command, pack_frames, unpack_frames

__all__ = [
    "Message",
    "JobState",
    "DomainStatus",
    "RateRequest",
    "RateReply",
    "Overload",
    "Unavailable",
    "StatsRequest",
    "StatsReply",
    "AdminRequest",
    "AdminReply",
    "ErrorReply",
    "Ready",
    "Job",
    "Pulse",
    "Result",
    "Failed",
    "Heartbeat",
    "Disconnect",
    "ErrorReport",
    "MESSAGE_TYPES",
    "decode",
    "MAX_DOMAIN_LEN",
    "MAX_IDENT_LEN",
    "MAX_TEXT_LEN",
    "MAX_TRACEBACK_LEN",
    "MAX_DOMAINS_PER_REQUEST",
    "MAX_EVIDENCE_ITEMS",
    "MAX_PRIORITY",
    "MAX_DEPTH",
]

# Limits.  Generous for every legitimate use, small enough that one message
# can't make a daemon allocate much.
MAX_DOMAIN_LEN = 253
MAX_IDENT_LEN = 256  # job ids, host names, stage names, codes
MAX_CLIENT_IP_LEN = 64
MAX_ACTION_LEN = 64
MAX_TEXT_LEN = 64 * 1024  # human-readable messages and details
MAX_TRACEBACK_LEN = 256 * 1024
MAX_LOCATION_VALUE_LEN = 1024
MAX_DOMAINS_PER_REQUEST = 1000
MAX_EVIDENCE_ITEMS = 500
MAX_EVIDENCE_KEYS = 64
MAX_PRIORITY = 2**31 - 1
MAX_CAPACITY = 10_000
MAX_RECENT = 10_000
MAX_DEPTH = check.MAX_DEPTH


class Message:
    """Base of every message type; ``Message.from_frames`` is :func:`decode`.

    Each type lists its fields' checks in ``RULES`` (field name -> rule of
    :mod:`protocol._fields`, in field order); ``__init__`` (the checks) and
    ``_body`` (the wire map) are generated from them once, at import.
    """

    __slots__ = ()
    COMMAND: ClassVar[Command]
    RULES: ClassVar[dict[str, Rule]] = {}
    _WIRE: ClassVar[tuple[frozenset[str], frozenset[str], bool]]  # field names, required names, no nested types

    def _body(self) -> dict[str, Any]:  # generated per type from RULES
        raise NotImplementedError

    def _free_form(self, value: Any, where: str) -> dict[str, Any]:
        return check.free_form(value, where)

    def to_frames(self) -> list[bytes]:
        """The three application frames (header, command, body) of this message."""
        return pack_frames(self.COMMAND, self._body())

    @classmethod
    def from_frames(cls, frames: Sequence[Any]) -> Self:
        """Decode *frames*, which must carry this type's command."""
        if cls is Message:
            return decode(frames)  # type: ignore[return-value]
        command, body = unpack_frames(frames)
        if command is not cls.COMMAND:
            raise ProtocolError(
                f"expected a {cls.COMMAND.name} message, got {command.name}", command=command, frame_index=1
            )
        return cls._from_body(body)

    @classmethod
    def _from_body(cls, body: dict[str, Any]) -> Self:
        try:
            names, required, plain = cls._WIRE
            # The common case, a peer that wrote exactly our fields, skips the
            # per-key pass; anything else gets it and its precise error.
            if plain and body.keys() <= names and body.keys() >= required:
                return cls(**body)
            return cls(**_field_values(cls.__name__, (names, required), body, cls._decode_field))
        except ProtocolError as e:
            raise e.with_context(command=cls.COMMAND, frame_index=2) from None

    @classmethod
    def _decode_field(cls, name: str, value: Any) -> Any:
        """Turn one wire value into the constructor's argument (nested types)."""
        return value


# Field names and required names of every dataclass, computed once.
_SPECS: dict[type, tuple[frozenset[str], frozenset[str]]] = {}


def _spec(cls: type) -> tuple[frozenset[str], frozenset[str]]:
    spec = _SPECS.get(cls)
    if spec is None:
        fs = fields(cls)  # type: ignore[arg-type]
        spec = (
            frozenset(f.name for f in fs),
            frozenset(f.name for f in fs if f.default is MISSING and f.default_factory is MISSING),
        )
        _SPECS[cls] = spec
    return spec


def _field_values(
    type_name: str, spec: tuple[frozenset[str], frozenset[str]], body: Any, convert: Any
) -> dict[str, Any]:
    names, required = spec
    if not isinstance(body, dict):
        raise ProtocolError(f"{type_name}: expected a map, got {type(body).__name__} {shorten(body)}")
    unknown = [k for k in body if k not in names]
    if unknown:
        listed = ", ".join(shorten(k, 40) for k in sorted(map(str, unknown))[:5])
        raise ProtocolError(f"{type_name}: unknown key(s) {listed}")
    missing = required.difference(body)
    if missing:
        raise ProtocolError(f"{type_name}: missing key(s) {', '.join(sorted(missing))}")
    return {k: convert(k, v) for k, v in body.items()}


# ---------------------------------------------------------------- client <-> broker


class JobState(StrEnum):
    """Where one requested domain stands, as the broker answers a RateRequest."""

    QUEUED = "queued"  # waiting for a rater; `position` is its 1-based place in its client IP's queue
    RATING = "rating"  # a rater is on it; `progress` says how far it got
    INVALID = "invalid"  # the broker refused the domain (not a registrable domain)


@dataclass(frozen=True, slots=True)
class DomainStatus:
    """One item of a RateReply (nested, not a message by itself).

    ``position``: for a queued domain its 1-based place in its client IP's
    queue (1 = next for that IP); 0 while a rater holds it or when unknown.
    """

    domain: str
    state: JobState
    position: int = 0
    progress: str = ""

    RULES: ClassVar[dict[str, Rule]] = {
        "domain": Text(MAX_DOMAIN_LEN, 1), "state": Choice(JobState), "position": Int(), "progress": Text(MAX_TEXT_LEN)}

    def to_wire(self) -> dict[str, Any]:
        return {"domain": self.domain, "state": self.state.value, "position": self.position, "progress": self.progress}

    @classmethod
    def from_wire(cls, value: Any) -> DomainStatus:
        spec = _spec(cls)
        if type(value) is dict and value.keys() <= spec[0] and value.keys() >= spec[1]:
            return cls(**value)  # exactly our keys: no per-key pass needed
        return cls(**_field_values("DomainStatus", spec, value, lambda k, v: v))


@dataclass(frozen=True, slots=True)
class RateRequest(Message):
    """Frontend -> broker: rate these domains for this client IP."""

    COMMAND: ClassVar[Command] = Command.RATE
    req_id: int
    client_ip: str
    priority: int
    domains: tuple[str, ...]

    RULES: ClassVar[dict[str, Rule]] = {
        "req_id": Int(), "client_ip": Text(MAX_CLIENT_IP_LEN, 1), "priority": Int(hi=MAX_PRIORITY),
        "domains": Texts(MAX_DOMAINS_PER_REQUEST, 1, MAX_DOMAIN_LEN, 1)}


@dataclass(frozen=True, slots=True)
class RateReply(Message):
    """Broker -> frontend: the state of every requested domain, in request order."""

    COMMAND: ClassVar[Command] = Command.RATE_REPLY
    req_id: int
    items: tuple[DomainStatus, ...]

    RULES: ClassVar[dict[str, Rule]] = {"req_id": Int(), "items": Custom("_checked_items")}

    def _checked_items(self, value: Any, where: str) -> tuple[DomainStatus, ...]:
        items = check.sequence(value, where, MAX_DOMAINS_PER_REQUEST)
        for i, item in enumerate(items):
            if type(item) is not DomainStatus:
                raise check.fail(f"{where}[{i}]", f"expected DomainStatus, got {type(item).__name__}")
        return items

    def _body(self) -> dict[str, Any]:
        return {"req_id": self.req_id, "items": [item.to_wire() for item in self.items]}

    @classmethod
    def _decode_field(cls, name: str, value: Any) -> Any:
        if name == "items":
            items = check.sequence(value, "RateReply.items", MAX_DOMAINS_PER_REQUEST)
            out = []
            for i, item in enumerate(items):
                try:
                    out.append(DomainStatus.from_wire(item))
                except ProtocolError as e:  # say which item, not just which field
                    raise ProtocolError(f"RateReply.items[{i}]: {e.message}") from None
            return tuple(out)
        return value


@dataclass(frozen=True, slots=True)
class Overload(Message):
    """Broker -> frontend: this client IP already has *limit* requests outstanding."""

    COMMAND: ClassVar[Command] = Command.OVERLOAD
    req_id: int
    client_ip: str
    outstanding: int
    limit: int

    RULES: ClassVar[dict[str, Rule]] = {
        "req_id": Int(), "client_ip": Text(MAX_CLIENT_IP_LEN, 1), "outstanding": Int(), "limit": Int()}


@dataclass(frozen=True, slots=True)
class Unavailable(Message):
    """Broker -> frontend: can't take work now (store down, shutting down)."""

    COMMAND: ClassVar[Command] = Command.UNAVAILABLE
    req_id: int
    reason: str
    retry_after: float

    RULES: ClassVar[dict[str, Rule]] = {"req_id": Int(), "reason": Text(MAX_TEXT_LEN), "retry_after": Num()}


@dataclass(frozen=True, slots=True)
class StatsRequest(Message):
    """Monitor/frontend -> broker: send your statistics and the *recent* last errors/events."""

    COMMAND: ClassVar[Command] = Command.STATS
    req_id: int
    recent: int = 20

    RULES: ClassVar[dict[str, Rule]] = {"req_id": Int(), "recent": Int(hi=MAX_RECENT)}


@dataclass(frozen=True, slots=True)
class StatsReply(Message):
    """Broker -> monitor: free-form statistics (the broker owns their shape)."""

    COMMAND: ClassVar[Command] = Command.STATS_REPLY
    req_id: int
    stats: dict[str, Any]

    RULES: ClassVar[dict[str, Rule]] = {"req_id": Int(), "stats": Custom("_free_form")}


@dataclass(frozen=True, slots=True)
class AdminRequest(Message):
    """Admin tool -> broker: run *action* (e.g. "drain", "requeue") with *args*."""

    COMMAND: ClassVar[Command] = Command.ADMIN
    req_id: int
    action: str
    args: dict[str, Any]

    RULES: ClassVar[dict[str, Rule]] = {"req_id": Int(), "action": Text(MAX_ACTION_LEN, 1), "args": Custom("_free_form")}


@dataclass(frozen=True, slots=True)
class AdminReply(Message):
    """Broker -> admin tool: whether the action worked, a human line, and data."""

    COMMAND: ClassVar[Command] = Command.ADMIN_REPLY
    req_id: int
    ok: bool
    detail: str
    data: dict[str, Any]

    RULES: ClassVar[dict[str, Rule]] = {
        "req_id": Int(), "ok": Flag(), "detail": Text(MAX_TEXT_LEN), "data": Custom("_free_form")}


@dataclass(frozen=True, slots=True)
class ErrorReply(Message):
    """Broker -> client: the request could not be read or accepted.

    ``req_id`` is 0 when the request was too broken to carry one.  ``code`` is
    a short machine-readable word (e.g. "bad_request"), ``message`` for people.
    """

    COMMAND: ClassVar[Command] = Command.ERROR
    req_id: int
    code: str
    message: str

    RULES: ClassVar[dict[str, Rule]] = {"req_id": Int(), "code": Text(MAX_IDENT_LEN, 1), "message": Text(MAX_TEXT_LEN)}


# ---------------------------------------------------------------- rater <-> broker


@dataclass(frozen=True, slots=True)
class Ready(Message):
    """Rater -> broker: I can take *capacity* jobs in all (sent on start and to re-register).

    A READY from a rater the broker knows means it gave up whatever it held
    (it restarted or lost track): those jobs are re-queued. With *update* it
    only says the capacity changed (a node connection, raterd ``--node-link``,
    whose workers come and go): the rater keeps its jobs except those in
    *released*, which it hands back (re-queued, no attempt counted).
    """

    COMMAND: ClassVar[Command] = Command.READY
    capacity: int
    host: str
    pid: int
    worker: str
    version: str
    jobs_done: int = 0
    update: bool = False
    released: tuple[str, ...] = ()

    RULES: ClassVar[dict[str, Rule]] = {
        "capacity": Int(lo=1, hi=MAX_CAPACITY), "host": Text(MAX_IDENT_LEN), "pid": Int(),
        "worker": Text(MAX_IDENT_LEN), "version": Text(MAX_IDENT_LEN), "jobs_done": Int(),
        "update": Flag(), "released": Texts(MAX_CAPACITY, 0, MAX_IDENT_LEN, 1)}


@dataclass(frozen=True, slots=True)
class Job(Message):
    """Broker -> rater: rate *domain*; report within *lease* s, give up after *deadline* s."""

    COMMAND: ClassVar[Command] = Command.JOB
    job_id: str
    domain: str
    attempt: int
    lease: float
    deadline: float

    RULES: ClassVar[dict[str, Rule]] = {
        "job_id": Text(MAX_IDENT_LEN, 1), "domain": Text(MAX_DOMAIN_LEN, 1), "attempt": Int(lo=1),
        "lease": Num(positive=True), "deadline": Num(positive=True)}


@dataclass(frozen=True, slots=True)
class Pulse(Message):
    """Rater -> broker, one-way: progress on a job (also renews its lease).

    ``more``: the progress of further jobs of the same rater, carried in the
    same message (a node link sends all its jobs' progress together); each
    renews its own job's lease exactly as a PULSE of its own would. Nested
    ones carry no ``more`` of their own. The key is left out of the body
    when empty, so a lone worker's PULSE is what it always was.
    """

    COMMAND: ClassVar[Command] = Command.PULSE
    job_id: str
    stage: str
    detail: str = ""
    done: int = 0
    total: int = 0
    more: tuple[Pulse, ...] = ()

    RULES: ClassVar[dict[str, Rule]] = {
        "job_id": Text(MAX_IDENT_LEN, 1), "stage": Text(MAX_IDENT_LEN, 1), "detail": Text(MAX_TEXT_LEN),
        "done": Int(), "total": Int(), "more": Custom("_checked_more")}

    def _checked_more(self, value: Any, where: str) -> tuple[Pulse, ...]:
        if value == ():
            return ()
        items = check.sequence(value, where, MAX_CAPACITY)
        for i, item in enumerate(items):
            if type(item) is not Pulse:
                raise check.fail(f"{where}[{i}]", f"expected Pulse, got {type(item).__name__}")
            if item.more:
                raise check.fail(f"{where}[{i}]", "a nested PULSE carries no more of its own")
        return items

    def _body(self) -> dict[str, Any]:
        body = {"job_id": self.job_id, "stage": self.stage, "detail": self.detail, "done": self.done,
                "total": self.total}
        if self.more:
            body["more"] = [p._body() for p in self.more]
        return body

    @classmethod
    def _decode_field(cls, name: str, value: Any) -> Any:
        if name != "more":
            return value
        out = []
        for i, item in enumerate(check.sequence(value, "Pulse.more", MAX_CAPACITY)):
            try:
                if isinstance(item, dict) and "more" in item:
                    raise ProtocolError("a nested PULSE carries no more of its own")
                out.append(Pulse._from_body(item))
            except ProtocolError as e:  # say which item, not just which field
                raise ProtocolError(f"Pulse.more[{i}]: {e.message}") from None
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Result(Message):
    """Rater -> broker: the finished rating of a job, with its evidence."""

    COMMAND: ClassVar[Command] = Command.RESULT
    job_id: str
    domain: str
    rating: Rating
    ratinginfo: RatingInfo
    location: dict[str, str] | None
    evidence: tuple[dict[str, Any], ...]
    elapsed: float

    RULES: ClassVar[dict[str, Rule]] = {
        "job_id": Text(MAX_IDENT_LEN, 1), "domain": Text(MAX_DOMAIN_LEN, 1), "rating": Choice(Rating, FINAL_RATINGS),
        "ratinginfo": Choice(RatingInfo), "location": Custom("_checked_location"),
        "evidence": Custom("_checked_evidence"), "elapsed": Num()}

    def _checked_location(self, value: Any, where: str) -> dict[str, str] | None:
        if value is None:
            return None
        if type(value) is dict and _plain_location(value):
            return dict(value)  # a copy: the message shares no mutable state with its maker
        location = check.mapping(value, where, len(LOCATION_FIELDS))
        out = {}
        for key, item in location.items():
            if key not in LOCATION_FIELDS:
                raise check.fail(where, f"unknown field {shorten(key, 40)} (allowed: {', '.join(LOCATION_FIELDS)})")
            out[key] = check.text(item, f"{where}.{key}", MAX_LOCATION_VALUE_LEN)
        return out

    def _checked_evidence(self, value: Any, where: str) -> tuple[dict[str, Any], ...]:
        records = check.sequence(value, where, MAX_EVIDENCE_ITEMS)
        out = []
        for i, record in enumerate(records):
            if type(record) is dict and _plain_record(record):
                out.append(dict(record))
                continue
            record = check.mapping(record, f"{where}[{i}]", MAX_EVIDENCE_KEYS)
            out.append(
                {
                    check.text(k, f"{where}[{i}] key", MAX_IDENT_LEN, 1): check.scalar(
                        v, f"{where}[{i}][{k[:40]!r}]", MAX_TEXT_LEN
                    )
                    for k, v in record.items()
                }
            )
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Failed(Message):
    """Rater -> broker: the job could not be rated (the broker decides on a retry)."""

    COMMAND: ClassVar[Command] = Command.FAILED
    job_id: str
    error: str
    traceback: str = ""

    RULES: ClassVar[dict[str, Rule]] = {
        "job_id": Text(MAX_IDENT_LEN, 1), "error": Text(MAX_TEXT_LEN), "traceback": Text(MAX_TRACEBACK_LEN)}


@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    """Either direction, one-way: I am alive (says nothing about being free)."""

    COMMAND: ClassVar[Command] = Command.HEARTBEAT


@dataclass(frozen=True, slots=True)
class Disconnect(Message):
    """Either direction: going away; from the broker with *reregister*, "I don't know you: send READY"."""

    COMMAND: ClassVar[Command] = Command.DISCONNECT
    reason: str
    reregister: bool = False

    RULES: ClassVar[dict[str, Rule]] = {"reason": Text(MAX_TEXT_LEN), "reregister": Flag()}


@dataclass(frozen=True, slots=True)
class ErrorReport(Message):
    """Rater -> broker: an error for the store's error log (raters hold no DB credentials)."""

    COMMAND: ClassVar[Command] = Command.ERROR_REPORT
    component: str
    message: str
    traceback: str = ""
    host: str = ""
    process: str = ""
    domain: str = ""

    RULES: ClassVar[dict[str, Rule]] = {
        "component": Text(MAX_IDENT_LEN, 1), "message": Text(MAX_TEXT_LEN), "traceback": Text(MAX_TRACEBACK_LEN),
        "host": Text(MAX_IDENT_LEN), "process": Text(MAX_IDENT_LEN), "domain": Text(MAX_DOMAIN_LEN)}


def _plain_location(location: dict) -> bool:
    """True when every key is a location field and every value short ASCII text (nothing to convert)."""
    for key, value in location.items():
        if key not in _LOCATION_KEYS or type(value) is not str or len(value) > MAX_LOCATION_VALUE_LEN \
                or not value.isascii():
            return False
    return True


def _plain_record(record: dict) -> bool:
    """True when an evidence record needs no conversion: the common case, checked without calls."""
    if len(record) > MAX_EVIDENCE_KEYS:
        return False
    for key, value in record.items():
        if type(key) is not str or not 0 < len(key) <= MAX_IDENT_LEN or not key.isascii():
            return False
        kind = type(value)
        if kind is str:
            if len(value) > MAX_TEXT_LEN or not value.isascii():
                return False
        elif kind is int:
            if not -check.MAX_SAFE_INT <= value <= check.MAX_SAFE_INT:
                return False
        elif kind is float:
            if not math.isfinite(value):
                return False
        elif value is not None and kind is not bool:
            return False
    return True


_LOCATION_KEYS = frozenset(LOCATION_FIELDS)

# ---------------------------------------------------------------- dispatch

MESSAGE_TYPES: dict[Command, type[Message]] = {
    cls.COMMAND: cls
    for cls in (
        RateRequest,
        RateReply,
        Overload,
        Unavailable,
        StatsRequest,
        StatsReply,
        AdminRequest,
        AdminReply,
        ErrorReply,
        Ready,
        Job,
        Pulse,
        Result,
        Failed,
        Heartbeat,
        Disconnect,
        ErrorReport,
    )
}
if set(MESSAGE_TYPES) != set(Command):  # a new command without a message type is our bug
    raise RuntimeError(f"commands without a message type: {set(Command) - set(MESSAGE_TYPES)}")

compile_message(DomainStatus, DomainStatus.RULES, context=False)
for _cls in MESSAGE_TYPES.values():
    compile_message(_cls, _cls.RULES)
    _cls._WIRE = (*_spec(_cls), "_decode_field" not in _cls.__dict__)
del _cls


def decode(frames: Sequence[Any]) -> Message:
    """The typed message carried by three application frames.

    Raises ProtocolError (and nothing else) for anything that breaks the
    contract; the error's ``command`` and ``frame_index`` say where.
    """
    command, body = unpack_frames(frames)
    return MESSAGE_TYPES[command]._from_body(body)
