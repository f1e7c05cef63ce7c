"""The journal's operations as typed values, and the order they are written in.

The broker's event loop describes every store write as one of the frozen
dataclasses below and hands it to the journal thread (:mod:`broker.journal`),
which reports an :class:`Outcome` for each. Nothing here touches a socket, a
thread or a database, so the ordering rule can be tested on its own and the
model-based test can replay it against a store model.

Ordering rule (:func:`plan`): operations are grouped so that several of one
kind share one transaction (group commit), but two operations that touch the
same domain are *never* reordered. An operation joins the earliest group of
its kind that comes at or after the last group touching any of its domains;
otherwise it starts a new group at the end. So "retire X" followed by
"enqueue X" always runs in that order, whatever else shares the drain.
Error records touch no domain's durable state and merge freely.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Union

from store import ErrorRecord, QueuedJob, StoredRating

__all__ = ["OpKind", "Enqueue", "Complete", "RecordAttempts", "Remove", "AppendErrors", "FindRatedBy", "Op",
           "Outcome", "Group", "plan"]


class OpKind(enum.Enum):
    ENQUEUE = "enqueue"          # queue rows for newly accepted jobs (acknowledged once committed)
    COMPLETE = "complete"        # a rating stored and its queue row deleted, one transaction
    ATTEMPTS = "attempts"        # a job's failed-attempt count
    REMOVE = "remove"            # queue rows deleted by an operator (cancel)
    ERRORS = "errors"            # error-log records
    LOOKUP = "lookup"            # a read for an operator action (the domains one rater rated)


@dataclass(frozen=True, slots=True)
class Enqueue:
    """Queue rows for the jobs of one acknowledgement batch (``token``)."""

    token: int
    jobs: tuple[QueuedJob, ...]
    kind = OpKind.ENQUEUE

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(j.domain for j in self.jobs)


@dataclass(frozen=True, slots=True)
class Complete:
    """One job's rating (a rater's RESULT or the broker giving up); retires its queue row."""

    rating: StoredRating
    given_up: bool = False
    kind = OpKind.COMPLETE

    @property
    def domains(self) -> tuple[str, ...]:
        return (self.rating.domain,)


@dataclass(frozen=True, slots=True)
class RecordAttempts:
    domain: str
    attempts: int
    kind = OpKind.ATTEMPTS

    @property
    def domains(self) -> tuple[str, ...]:
        return (self.domain,)


@dataclass(frozen=True, slots=True)
class Remove:
    domains: tuple[str, ...]
    kind = OpKind.REMOVE


@dataclass(frozen=True, slots=True)
class AppendErrors:
    records: tuple[ErrorRecord, ...]
    kind = OpKind.ERRORS

    @property
    def domains(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class FindRatedBy:
    """Read the domains whose stored rating ``rater`` produced (the journal fills ``found``).

    For ``zmq-monitor admin rerate``: the read runs in the journal thread,
    like every store access, and the admin reply waits for it.
    """

    rater: str
    identity: bytes
    req_id: int
    limit: int
    found: list[str] = field(default_factory=list, compare=False)
    kind = OpKind.LOOKUP

    @property
    def domains(self) -> tuple[str, ...]:
        return ()


Op = Union[Enqueue, Complete, RecordAttempts, Remove, AppendErrors, FindRatedBy]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one operation: ``ok`` (committed) or not, and why not.

    ``retryable`` is true when the store was unreachable (the journal keeps
    such writes, except enqueues, and tries again); false for a write the
    store refused for good (a bad record, a schema problem).
    """

    op: Op
    ok: bool
    detail: str = ""
    retryable: bool = False


@dataclass(slots=True)
class Group:
    """Operations of one kind written in one transaction, in submission order."""

    kind: OpKind
    ops: list[Op]

    def items(self) -> list:
        """The store rows of the group, flattened in order."""
        out: list = []
        for op in self.ops:
            if isinstance(op, Enqueue):
                out.extend(op.jobs)
            elif isinstance(op, Complete):
                out.append(op.rating)
            elif isinstance(op, RecordAttempts):
                out.append((op.domain, op.attempts))
            elif isinstance(op, Remove):
                out.extend(op.domains)
            elif isinstance(op, FindRatedBy):
                out.append(op.rater)
            else:
                out.extend(op.records)
        return out


def plan(ops: Sequence[Op]) -> list[Group]:
    """Merge ``ops`` into groups without reordering any two that share a domain."""
    groups: list[Group] = []
    last_touch: dict[str, int] = {}          # domain -> index of the last group touching it
    first_of_kind: dict[OpKind, list[int]] = {}
    for op in ops:
        domains = op.domains
        barrier = max((last_touch.get(d, -1) for d in domains), default=-1)
        target = next((i for i in first_of_kind.get(op.kind, ()) if i >= barrier), None)
        if target is None:
            target = len(groups)
            groups.append(Group(op.kind, []))
            first_of_kind.setdefault(op.kind, []).append(target)
        groups[target].ops.append(op)
        for d in domains:
            last_touch[d] = target
    return groups


def domain_sequences(ops: Iterable[Op]) -> dict[str, list[Op]]:
    """Per domain, the operations touching it in order (what :func:`plan` must preserve)."""
    out: dict[str, list[Op]] = {}
    for op in ops:
        for d in op.domains:
            out.setdefault(d, []).append(op)
    return out
