"""Where a worker stands with its broker: waiting to say READY, READY said, or registered.

Where it sits: :class:`raterd.worker.Worker` owns one :class:`Registration`
and calls one method per event of the broker conversation; the worker does
the socket work (sending READY, a fresh :class:`~raterd._brokerlink.BrokerLink`
to the next endpoint) and this module decides what follows and when. No
sockets, threads or clocks here: every method takes ``now``, so the whole
machine is testable on its own (``tests/raterd/test_registration.py``).

States and the transitions between them::

    WAITING ──ready_sent──────────> READY_SENT ──answered──> REGISTERED
       │  ^  (READY went out)          │                         │
       │  └──────answer_overdue────────┘  (no answer in time)    │
       └──ready_not_sent: WAITING again, due after the backoff   │
    any ──answered──────────────────────────────────────────────> REGISTERED
    any ──told_to_register (DISCONNECT: the broker does not know us) ──> WAITING
    any ──standby (DISCONNECT "not active": next endpoint) ────────────> WAITING
    REGISTERED ──silent (no word for ``liveness`` s: next endpoint) ───> WAITING

Re-registering and moving to another endpoint of a ``--broker`` list are
transitions into WAITING, not states of their own: once they are made the
worker does the same thing in each case, say READY when it is due.

READY retries back off: jittered, doubling up to ``max_delay``, so a fleet of
workers facing a broker that is down neither spins nor retries in step. Any
answer from a broker starts the backoff again from ``first_delay``; a
standby's answer does not, so a list with no active broker yet is walked at
the backoff's pace.
"""

from __future__ import annotations

import enum
import random

from ._workerconfig import WorkerError

__all__ = ["Registration", "RegistrationError", "RegistrationState", "READY_FIRST_DELAY"]

READY_FIRST_DELAY = 0.1    # first READY retry; doubles up to the configured maximum


class RegistrationError(WorkerError):
    """A transition asked for in a state it does not leave from (a bug in the caller)."""


class RegistrationState(enum.Enum):
    WAITING = "waiting"          # READY to be sent once due (at start, after a DISCONNECT, a move, a failed send)
    READY_SENT = "ready sent"    # READY went out; the broker's answer is awaited until due
    REGISTERED = "registered"    # the broker answered: it knows us and may send a JOB


class Registration:
    """One worker's registration with its broker; one method per transition."""

    def __init__(self, now: float, max_delay: float, first_delay: float = READY_FIRST_DELAY,
                 rng: random.Random | None = None) -> None:
        if first_delay <= 0 or max_delay <= 0:
            raise ValueError(f"READY delays must be positive: first {first_delay!r}, max {max_delay!r}")
        self.state = RegistrationState.WAITING
        self.due = now                  # WAITING: when READY goes out; READY_SENT: when the answer is overdue
        self.registrations = 0          # how many times the worker became registered (1 = the first time)
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._delay = first_delay
        self._rng = rng or random.Random()

    def __repr__(self) -> str:
        return f"<Registration {self.state.value}, due {self.due:.2f}, next delay {self._delay:.2f}>"

    @property
    def registered(self) -> bool:
        return self.state is RegistrationState.REGISTERED

    @property
    def waiting(self) -> bool:
        """READY is still to be sent (an idle worker's heartbeat would only earn a "who are you?")."""
        return self.state is RegistrationState.WAITING

    def ready_due(self, now: float) -> bool:
        """Whether READY should go out now."""
        return self.state is RegistrationState.WAITING and now >= self.due

    # ---- transitions ----------------------------------------------------------------
    def connection_up(self, now: float) -> None:
        """A connection to the broker just came up: READY now, not at the next backoff step."""
        self.due = now

    def ready_sent(self, now: float, answer_within: float) -> None:
        """WAITING -> READY_SENT: the answer is overdue after the backoff, but never before ``answer_within``."""
        self._expect(RegistrationState.WAITING, "send READY")
        self.state = RegistrationState.READY_SENT
        self.due = now + max(self._backoff(), answer_within)

    def ready_not_sent(self, now: float) -> float:
        """WAITING -> WAITING: no broker took READY; try again after the backoff, which is returned."""
        self._expect(RegistrationState.WAITING, "retry READY")
        delay = self._backoff()
        self.due = now + delay
        return delay

    def answer_overdue(self, now: float) -> bool:
        """READY_SENT -> WAITING once no answer came in time (READY is sent again); True if so."""
        if self.state is RegistrationState.READY_SENT and now >= self.due:
            self.state = RegistrationState.WAITING
            return True
        return False

    def answered(self) -> bool:
        """Any -> REGISTERED: a broker message that is not a DISCONNECT; True if it registered us just now."""
        self._delay = self._first_delay
        if self.state is RegistrationState.REGISTERED:
            return False
        self.state = RegistrationState.REGISTERED
        self.registrations += 1
        return True

    def told_to_register(self, now: float, restarted: bool) -> None:
        """Any -> WAITING: DISCONNECT from the active broker, which does not know us.

        ``restarted`` (DISCONNECT with reregister): a restarted broker hears
        from every worker at once, so READY goes out within 0.2 s, spread.
        Otherwise READY waits for the first step of the backoff.
        """
        self._delay = self._first_delay
        self.state = RegistrationState.WAITING
        self.due = now + self._rng.uniform(0, 0.2) if restarted else now + self._backoff()

    def standby(self, now: float) -> None:
        """Any -> WAITING: a standby broker answered; READY to the next endpoint after the backoff (not reset)."""
        self.state = RegistrationState.WAITING
        self.due = now + self._backoff()

    def silent(self, now: float) -> None:
        """REGISTERED -> WAITING: the broker fell silent; READY to the next endpoint at once."""
        self._expect(RegistrationState.REGISTERED, "give up a silent broker")
        self.state = RegistrationState.WAITING
        self.due = now

    # ---- helpers --------------------------------------------------------------------
    def _expect(self, state: RegistrationState, what: str) -> None:
        if self.state is not state:
            raise RegistrationError(f"cannot {what} while {self.state.value}; only while {state.value}")

    def _backoff(self) -> float:
        """The next READY delay: doubling, capped, jittered so workers don't retry in step."""
        delay = self._delay
        self._delay = min(self._max_delay, self._delay * 2)
        return delay * self._rng.uniform(0.5, 1.0)
