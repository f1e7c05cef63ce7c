"""A worker's registration with its broker, as a state machine: every transition, and its backoff.

Pure logic, no sockets or clock: each transition is given ``now``. Jitter
comes from an injected random source; :class:`_TopJitter` always takes the
top of the range, so the delays are exact (0.1, 0.2, 0.4 ... s).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from raterd._brokerlink import BrokerEndpoints
from raterd._registration import Registration, RegistrationError, RegistrationState

WAITING, READY_SENT, REGISTERED = RegistrationState.WAITING, RegistrationState.READY_SENT, RegistrationState.REGISTERED


class _TopJitter:
    def uniform(self, a: float, b: float) -> float:
        return b


def _registration(now: float = 0.0, max_delay: float = 5.0) -> Registration:
    return Registration(now, max_delay=max_delay, first_delay=0.1, rng=_TopJitter())


def _retry_delays(reg: Registration, count: int, now: float = 0.0) -> list[float]:
    return [round(reg.ready_not_sent(now), 6) for _ in range(count)]


def test_a_new_worker_is_waiting_and_says_ready_at_once():
    reg = _registration(now=10.0)
    assert reg.state is WAITING and reg.waiting and not reg.registered
    assert reg.ready_due(10.0)
    assert reg.registrations == 0


def test_ready_sent_waits_for_the_answer_then_is_sent_again_when_overdue():
    reg = _registration()
    reg.ready_sent(0.0, answer_within=2.0)
    assert reg.state is READY_SENT and not reg.waiting
    assert not reg.ready_due(1.0)
    assert not reg.answer_overdue(1.9) and reg.state is READY_SENT
    assert reg.answer_overdue(2.0)
    assert reg.state is WAITING and reg.ready_due(2.0)


def test_the_answer_is_awaited_for_the_backoff_when_that_is_longer():
    reg = _registration(max_delay=30.0)
    _retry_delays(reg, 6)                    # next delay is 6.4 s
    reg.ready_sent(100.0, answer_within=2.0)
    assert reg.due == pytest.approx(106.4)


def test_ready_not_sent_backs_off_doubling_up_to_the_cap():
    reg = _registration(max_delay=1.0)
    assert _retry_delays(reg, 6) == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert reg.state is WAITING
    assert reg.due == pytest.approx(1.0) and not reg.ready_due(0.5) and reg.ready_due(1.0)


def test_jitter_keeps_each_delay_between_half_and_all_of_the_step():
    reg = Registration(0.0, max_delay=100.0, first_delay=0.1, rng=random.Random(7))
    for step in (0.1, 0.2, 0.4, 0.8, 1.6):
        assert step / 2 <= reg.ready_not_sent(0.0) <= step


def test_a_connection_coming_up_makes_ready_due_now_not_at_the_next_backoff_step():
    reg = _registration()
    _retry_delays(reg, 4)
    reg.ready_not_sent(50.0)
    assert not reg.ready_due(50.1)
    reg.connection_up(50.1)
    assert reg.ready_due(50.1)


def test_any_answer_registers_once_and_restarts_the_backoff():
    reg = _registration(max_delay=30.0)
    _retry_delays(reg, 5)
    reg.ready_sent(0.0, answer_within=2.0)
    assert reg.answered() is True
    assert reg.state is REGISTERED and reg.registered and reg.registrations == 1
    assert reg.answered() is False           # a heartbeat while registered changes nothing
    assert reg.registrations == 1
    reg.told_to_register(10.0, restarted=False)
    assert reg.due == pytest.approx(10.1)    # back to the first step, not 3.2 s


def test_an_answer_without_ready_sent_registers_too():
    # A restarted broker's JOB or HEARTBEAT can come before our READY went out.
    reg = _registration()
    assert reg.answered() is True and reg.registered


def test_registering_again_counts_each_registration():
    reg = _registration()
    reg.answered()
    reg.told_to_register(1.0, restarted=True)
    assert not reg.registered
    assert reg.answered() is True
    assert reg.registrations == 2


def test_a_restarted_broker_gets_ready_within_a_fifth_of_a_second_spread():
    reg = Registration(0.0, max_delay=30.0, rng=random.Random(3))
    dues = set()
    for i in range(20):
        reg.answered()
        reg.told_to_register(100.0, restarted=True)
        assert reg.state is WAITING
        assert 100.0 <= reg.due <= 100.2
        dues.add(reg.due)
    assert len(dues) > 1                     # spread, not every worker at the same instant


def test_a_disconnect_in_any_state_means_waiting_again():
    for prepare in (lambda r: None, lambda r: r.ready_sent(0.0, 2.0), lambda r: r.answered()):
        reg = _registration()
        prepare(reg)
        reg.told_to_register(5.0, restarted=False)
        assert reg.state is WAITING and reg.due == pytest.approx(5.1)


def test_standby_answers_walk_the_list_at_the_backoff_pace_not_reset():
    reg = _registration(max_delay=1.0)
    gaps = []
    for now in (0.0, 10.0, 20.0, 30.0, 40.0):
        reg.ready_sent(now, answer_within=2.0)     # READY to this endpoint...
        reg.standby(now)                            # ...answered by a standby
        assert reg.state is WAITING
        gaps.append(round(reg.due - now, 6))
    # Each READY and each standby answer take a step: 0.1 (READY), 0.2 (standby), 0.4, 0.8, ...
    assert gaps == [0.2, 0.8, 1.0, 1.0, 1.0]


def test_a_silent_broker_is_left_at_once():
    reg = _registration()
    reg.answered()
    reg.silent(60.0)
    assert reg.state is WAITING and reg.ready_due(60.0)
    assert reg.registrations == 1


@pytest.mark.parametrize("prepare, transition", [
    (lambda r: r.ready_sent(0.0, 2.0), lambda r: r.ready_sent(0.0, 2.0)),
    (lambda r: r.answered(), lambda r: r.ready_sent(0.0, 2.0)),
    (lambda r: r.answered(), lambda r: r.ready_not_sent(0.0)),
    (lambda r: r.ready_sent(0.0, 2.0), lambda r: r.ready_not_sent(0.0)),
    (lambda r: None, lambda r: r.silent(0.0)),
    (lambda r: r.ready_sent(0.0, 2.0), lambda r: r.silent(0.0)),
])
def test_a_transition_from_the_wrong_state_is_refused_and_changes_nothing(prepare, transition):
    reg = _registration()
    prepare(reg)
    before = (reg.state, reg.due, reg.registrations)
    with pytest.raises(RegistrationError, match="cannot"):
        transition(reg)
    assert (reg.state, reg.due, reg.registrations) == before


def test_answer_overdue_outside_ready_sent_is_a_no_op():
    reg = _registration()
    assert reg.answer_overdue(100.0) is False and reg.state is WAITING
    reg.answered()
    assert reg.answer_overdue(100.0) is False and reg.state is REGISTERED


@pytest.mark.parametrize("first, most", [(0, 1.0), (0.1, 0), (-1, 1.0)])
def test_delays_must_be_positive(first, most):
    with pytest.raises(ValueError, match="positive"):
        Registration(0.0, max_delay=most, first_delay=first)


def test_outcomes_go_to_an_unregistered_link_only_with_a_single_broker():
    one = BrokerEndpoints(("tcp://127.0.0.1:1",))
    several = BrokerEndpoints(("tcp://127.0.0.1:1", "tcp://127.0.0.1:2"))
    for state in RegistrationState:
        assert one.may_deliver(state)
        assert several.may_deliver(state) is (state is REGISTERED)


class RegistrationModel(RuleBasedStateMachine):
    """Any order of broker events: the state is always one the last event leads to, timers stay bounded."""

    MAX_DELAY = 2.0

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.reg = Registration(self.now, max_delay=self.MAX_DELAY, rng=random.Random(0))
        self.expected_registrations = 0

    @rule(dt=st.floats(min_value=0.0, max_value=3.0))
    def time_passes(self, dt: float) -> None:
        self.now += dt
        was_sent = self.reg.state is READY_SENT
        overdue = was_sent and self.now >= self.reg.due
        assert self.reg.answer_overdue(self.now) is overdue
        if overdue:
            assert self.reg.ready_due(self.now)

    @precondition(lambda self: self.reg.ready_due(self.now))
    @rule(sent=st.booleans())
    def send_ready(self, sent: bool) -> None:
        if sent:
            self.reg.ready_sent(self.now, answer_within=2.0)
            assert self.reg.state is READY_SENT and self.reg.due >= self.now + 2.0
        else:
            delay = self.reg.ready_not_sent(self.now)
            assert 0 < delay <= self.MAX_DELAY
            assert self.reg.state is WAITING and self.reg.due == self.now + delay

    @rule()
    def answer(self) -> None:
        newly = self.reg.state is not REGISTERED
        assert self.reg.answered() is newly
        self.expected_registrations += newly
        assert self.reg.registered

    @rule(restarted=st.booleans())
    def disconnect(self, restarted: bool) -> None:
        self.reg.told_to_register(self.now, restarted)
        assert self.reg.state is WAITING
        assert self.now <= self.reg.due <= self.now + (0.2 if restarted else 0.1)

    @rule()
    def standby(self) -> None:
        self.reg.standby(self.now)
        assert self.reg.state is WAITING and self.now <= self.reg.due <= self.now + self.MAX_DELAY

    @precondition(lambda self: self.reg.registered)
    @rule()
    def silence(self) -> None:
        self.reg.silent(self.now)
        assert self.reg.ready_due(self.now)

    @invariant()
    def views_agree_with_the_state(self) -> None:
        assert self.reg.registered is (self.reg.state is REGISTERED)
        assert self.reg.waiting is (self.reg.state is WAITING)
        assert self.reg.registrations == self.expected_registrations

    @invariant()
    def ready_is_never_far_off(self) -> None:
        # A worker that is not registered always says READY again within the longest backoff.
        if not self.reg.registered:
            assert self.reg.due <= self.now + max(self.MAX_DELAY, 2.0)


TestRegistrationModel = RegistrationModel.TestCase
TestRegistrationModel.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
