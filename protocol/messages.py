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

Validation runs in ``__post_init__``, so building a bad message locally and
decoding a bad one from a peer both raise ProtocolError with the same text.
Rules: exact types (a bool is not an int; an int is accepted for a float and
converted), all required keys present, no unknown keys, every string, list
and number bounded.  Keys whose field has a default may be absent on the
wire; ``to_frames`` always writes every field.  Decoded lists are tuples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import MISSING, dataclass, fields
from enum import Enum, StrEnum
from typing import Any, ClassVar, Self

from . import _checks as check
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
    """Base of every message type; ``Message.from_frames`` is :func:`decode`."""

    __slots__ = ()
    COMMAND: ClassVar[Command]

    def __post_init__(self) -> None:
        try:
            self._validate()
        except ProtocolError as e:
            raise e.with_context(command=self.COMMAND) from None

    def _validate(self) -> None:  # overridden by every message with fields
        pass

    def _set(self, name: str, value: Any) -> None:
        # Normalising a field of a frozen dataclass during __post_init__.
        object.__setattr__(self, name, value)

    def _where(self, name: str) -> str:
        return f"{type(self).__name__}.{name}"

    def _body(self) -> dict[str, Any]:
        body = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            body[f.name] = value.value if isinstance(value, Enum) else value
        return body

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
            return cls(**_field_values(cls.__name__, _spec(cls), body, cls._decode_field))
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

    QUEUED = "queued"  # waiting for a rater; `position` says how many are ahead
    RATING = "rating"  # a rater is on it; `progress` says how far it got
    INVALID = "invalid"  # the broker refused the domain (not a registrable domain)


@dataclass(frozen=True, slots=True)
class DomainStatus:
    """One item of a RateReply (nested, not a message by itself)."""

    domain: str
    state: JobState
    position: int = 0
    progress: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "domain", check.text(self.domain, "DomainStatus.domain", MAX_DOMAIN_LEN, 1))
        object.__setattr__(self, "state", check.choice(self.state, "DomainStatus.state", JobState))
        object.__setattr__(self, "position", check.integer(self.position, "DomainStatus.position"))
        object.__setattr__(self, "progress", check.text(self.progress, "DomainStatus.progress", MAX_TEXT_LEN))

    def to_wire(self) -> dict[str, Any]:
        return {"domain": self.domain, "state": self.state.value, "position": self.position, "progress": self.progress}

    @classmethod
    def from_wire(cls, value: Any) -> DomainStatus:
        return cls(**_field_values("DomainStatus", _spec(cls), value, lambda k, v: v))


@dataclass(frozen=True, slots=True)
class RateRequest(Message):
    """Frontend -> broker: rate these domains for this client IP."""

    COMMAND: ClassVar[Command] = Command.RATE
    req_id: int
    client_ip: str
    priority: int
    domains: tuple[str, ...]

    def _validate(self) -> None:
        self._set("req_id", check.integer(self.req_id, self._where("req_id")))
        self._set("client_ip", check.text(self.client_ip, self._where("client_ip"), MAX_CLIENT_IP_LEN, 1))
        self._set("priority", check.integer(self.priority, self._where("priority"), hi=MAX_PRIORITY))
        domains = check.sequence(self.domains, self._where("domains"), MAX_DOMAINS_PER_REQUEST, 1)
        where = self._where("domains")
        self._set("domains", tuple(check.text(d, f"{where}[{i}]", MAX_DOMAIN_LEN, 1) for i, d in enumerate(domains)))


@dataclass(frozen=True, slots=True)
class RateReply(Message):
    """Broker -> frontend: the state of every requested domain, in request order."""

    COMMAND: ClassVar[Command] = Command.RATE_REPLY
    req_id: int
    items: tuple[DomainStatus, ...]

    def _validate(self) -> None:
        self._set("req_id", check.integer(self.req_id, self._where("req_id")))
        items = check.sequence(self.items, self._where("items"), MAX_DOMAINS_PER_REQUEST)
        for i, item in enumerate(items):
            if not isinstance(item, DomainStatus):
                raise check.fail(f"{self._where('items')}[{i}]", f"expected DomainStatus, got {type(item).__name__}")
        self._set("items", items)

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

    def _validate(self) -> None:
        self._set("req_id", check.integer(self.req_id, self._where("req_id")))
        self._set("client_ip", check.text(self.client_ip, self._where("client_ip"), MAX_CLIENT_IP_LEN, 1))
        self._set("outstanding", check.integer(self.outstanding, self._where("outstanding")))
        self._set("limit", check.integer(self.limit, self._where("limit")))


@dataclass(frozen=True, slots=True)
class Unavailable(Message):
    """Broker -> frontend: can't take work now (store down, shutting down)."""

    COMMAND: ClassVar[Command] = Command.UNAVAILABLE
    req_id: int
    reason: str
    retry_after: float

    def _validate(self) -> None:
        self._set("req_id", check.integer(self.req_id, self._where("req_id")))
        self._set("reason", check.text(self.reason, self._where("reason"), MAX_TEXT_LEN))
        self._set("retry_after", check.number(self.retry_after, self._where("retry_after")))


@dataclass(frozen=True, slots=True)
class StatsRequest(Message):
    """Monitor/frontend -> broker: send your statistics and the *recent* last errors/events."""

    COMMAND: ClassVar[Command] = Command.STATS
    req_id: int
    recent: int = 20

    def _validate(self) -> None:
        self._set("req_id", check.integer(self.req_id, self._where("req_id")))
        self._set("recent", check.integer(self.recent, self._where("recent"), hi=MAX_RECENT))


@dataclass(frozen=True, slots=True)
class StatsReply(Message):
    """Broker -> monitor: free-form statistics (the broker owns their shape)."""

    COMMAND: ClassVar[Command] = Command.STATS_REPLY
    req_id: int
    stats: dict[str, Any]

    def _validate(self) -> None:
        self._set("req_id", check.integer(self.req_id, self._where("req_id")))
        self._set("stats", check.free_form(self.stats, self._where("stats")))


@dataclass(frozen=True, slots=True)
class AdminRequest(Message):
    """Admin tool -> broker: run *action* (e.g. "drain", "requeue") with *args*."""

    COMMAND: ClassVar[Command] = Command.ADMIN
    req_id: int
    action: str
    args: dict[str, Any]

    def _validate(self) -> None:
        self._set("req_id", check.integer(self.req_id, self._where("req_id")))
        self._set("action", check.text(self.action, self._where("action"), MAX_ACTION_LEN, 1))
        self._set("args", check.free_form(self.args, self._where("args")))


@dataclass(frozen=True, slots=True)
class AdminReply(Message):
    """Broker -> admin tool: whether the action worked, a human line, and data."""

    COMMAND: ClassVar[Command] = Command.ADMIN_REPLY
    req_id: int
    ok: bool
    detail: str
    data: dict[str, Any]

    def _validate(self) -> None:
        self._set("req_id", check.integer(self.req_id, self._where("req_id")))
        self._set("ok", check.flag(self.ok, self._where("ok")))
        self._set("detail", check.text(self.detail, self._where("detail"), MAX_TEXT_LEN))
        self._set("data", check.free_form(self.data, self._where("data")))


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

    def _validate(self) -> None:
        self._set("req_id", check.integer(self.req_id, self._where("req_id")))
        self._set("code", check.text(self.code, self._where("code"), MAX_IDENT_LEN, 1))
        self._set("message", check.text(self.message, self._where("message"), MAX_TEXT_LEN))


# ---------------------------------------------------------------- rater <-> broker


@dataclass(frozen=True, slots=True)
class Ready(Message):
    """Rater -> broker: I can take *capacity* jobs (sent on start and to re-register)."""

    COMMAND: ClassVar[Command] = Command.READY
    capacity: int
    host: str
    pid: int
    worker: str
    version: str
    jobs_done: int = 0

    def _validate(self) -> None:
        self._set("capacity", check.integer(self.capacity, self._where("capacity"), lo=1, hi=MAX_CAPACITY))
        self._set("host", check.text(self.host, self._where("host"), MAX_IDENT_LEN))
        self._set("pid", check.integer(self.pid, self._where("pid")))
        self._set("worker", check.text(self.worker, self._where("worker"), MAX_IDENT_LEN))
        self._set("version", check.text(self.version, self._where("version"), MAX_IDENT_LEN))
        self._set("jobs_done", check.integer(self.jobs_done, self._where("jobs_done")))


@dataclass(frozen=True, slots=True)
class Job(Message):
    """Broker -> rater: rate *domain*; report within *lease* s, give up after *deadline* s."""

    COMMAND: ClassVar[Command] = Command.JOB
    job_id: str
    domain: str
    attempt: int
    lease: float
    deadline: float

    def _validate(self) -> None:
        self._set("job_id", check.text(self.job_id, self._where("job_id"), MAX_IDENT_LEN, 1))
        self._set("domain", check.text(self.domain, self._where("domain"), MAX_DOMAIN_LEN, 1))
        self._set("attempt", check.integer(self.attempt, self._where("attempt"), lo=1))
        self._set("lease", check.number(self.lease, self._where("lease"), positive=True))
        self._set("deadline", check.number(self.deadline, self._where("deadline"), positive=True))


@dataclass(frozen=True, slots=True)
class Pulse(Message):
    """Rater -> broker, one-way: progress on a job (also renews its lease)."""

    COMMAND: ClassVar[Command] = Command.PULSE
    job_id: str
    stage: str
    detail: str = ""
    done: int = 0
    total: int = 0

    def _validate(self) -> None:
        self._set("job_id", check.text(self.job_id, self._where("job_id"), MAX_IDENT_LEN, 1))
        self._set("stage", check.text(self.stage, self._where("stage"), MAX_IDENT_LEN, 1))
        self._set("detail", check.text(self.detail, self._where("detail"), MAX_TEXT_LEN))
        self._set("done", check.integer(self.done, self._where("done")))
        self._set("total", check.integer(self.total, self._where("total")))


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

    def _validate(self) -> None:
        self._set("job_id", check.text(self.job_id, self._where("job_id"), MAX_IDENT_LEN, 1))
        self._set("domain", check.text(self.domain, self._where("domain"), MAX_DOMAIN_LEN, 1))
        self._set("rating", check.choice(self.rating, self._where("rating"), Rating, FINAL_RATINGS))
        self._set("ratinginfo", check.choice(self.ratinginfo, self._where("ratinginfo"), RatingInfo))
        self._set("location", self._checked_location())
        self._set("evidence", self._checked_evidence())
        self._set("elapsed", check.number(self.elapsed, self._where("elapsed")))

    def _checked_location(self) -> dict[str, str] | None:
        if self.location is None:
            return None
        where = self._where("location")
        location = check.mapping(self.location, where, len(LOCATION_FIELDS))
        out = {}
        for key, value in location.items():
            if key not in LOCATION_FIELDS:
                raise check.fail(where, f"unknown field {shorten(key, 40)} (allowed: {', '.join(LOCATION_FIELDS)})")
            out[key] = check.text(value, f"{where}.{key}", MAX_LOCATION_VALUE_LEN)
        return out

    def _checked_evidence(self) -> tuple[dict[str, Any], ...]:
        where = self._where("evidence")
        records = check.sequence(self.evidence, where, MAX_EVIDENCE_ITEMS)
        out = []
        for i, record in enumerate(records):
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

    def _validate(self) -> None:
        self._set("job_id", check.text(self.job_id, self._where("job_id"), MAX_IDENT_LEN, 1))
        self._set("error", check.text(self.error, self._where("error"), MAX_TEXT_LEN))
        self._set("traceback", check.text(self.traceback, self._where("traceback"), MAX_TRACEBACK_LEN))


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

    def _validate(self) -> None:
        self._set("reason", check.text(self.reason, self._where("reason"), MAX_TEXT_LEN))
        self._set("reregister", check.flag(self.reregister, self._where("reregister")))


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

    def _validate(self) -> None:
        self._set("component", check.text(self.component, self._where("component"), MAX_IDENT_LEN, 1))
        self._set("message", check.text(self.message, self._where("message"), MAX_TEXT_LEN))
        self._set("traceback", check.text(self.traceback, self._where("traceback"), MAX_TRACEBACK_LEN))
        self._set("host", check.text(self.host, self._where("host"), MAX_IDENT_LEN))
        self._set("process", check.text(self.process, self._where("process"), MAX_IDENT_LEN))
        self._set("domain", check.text(self.domain, self._where("domain"), MAX_DOMAIN_LEN))


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


def decode(frames: Sequence[Any]) -> Message:
    """The typed message carried by three application frames.

    Raises ProtocolError (and nothing else) for anything that breaks the
    contract; the error's ``command`` and ``frame_index`` say where.
    """
    command, body = unpack_frames(frames)
    return MESSAGE_TYPES[command]._from_body(body)
