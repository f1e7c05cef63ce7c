"""Model-based test of the broker's acknowledgement core (hypothesis stateful).

Hypothesis drives :class:`broker.core.BrokerCore` with random interleavings of
RATE requests from several IPs, READY, PULSE, RESULT, FAILED, rater death,
lease expiry, sends that fail (rater gone, rater's queue full), operator
actions, store outages and refusals, journal drains of any size, the journal
thread dying, and crash + restart. The journal is the real
:class:`broker.journal.Journal` write path (``_execute``: planning, grouping,
failure handling) over a store model, so what is "committed" is exactly what
the broker would have committed.

After every step it checks the broker's promises:

* every acknowledged domain is durably queued or rated (never lost), unless
  an operator cancelled it;
* no domain is rated twice for one acknowledgement, nor twice within the
  recently-rated window (a request just after a commit makes no new job);
* a RESULT, FAILED or PULSE from a peer that does not hold the job (another
  rater, a made-up job_id, another key under a rater's identity) changes
  nothing;
* every request is answered at most once, and none waits when the journal
  has nothing left to write;
* no client IP owns more jobs than its cap, and no request takes the broker
  past its caps on live jobs and IP queues (in all, and per client key);
* nothing is held in memory for finished work.

Runs ``SITETRUTH_MODEL_EXAMPLES`` examples (default 2000) of up to
``SITETRUTH_MODEL_STEPS`` steps (default 30): about half a minute.
"""

from __future__ import annotations

import dataclasses
import logging
import os

import pytest
import zmq
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from broker import admin
from broker.config import BrokerConfig
from broker.core import BrokerCore
from broker.journal import Journal, StoreState
from broker.ops import Enqueue, Op
from protocol import (AdminReply, Disconnect, Failed, Heartbeat, Overload, Pulse, RateReply, RateRequest, Ready, Result,
                      Unavailable)
from protocol.vocabulary import Rating, RatingInfo
from store import StoreError, StoreUnavailable

# Thousands of examples: on a busy machine this can take a while (usually ~30 s).
pytestmark = pytest.mark.timeout(600)

DOMAINS = [f"site{n}.com" for n in range(4)]
IPS = ["192.0.2.1", "192.0.2.2", "198.51.100.7"]
RATERS = [b"rater-a", b"rater-b", b"rater-c"]
CONFIG = dataclasses.replace(BrokerConfig(), max_per_ip=4, max_attempts=3, lease=20.0, max_job=120.0,
                             liveness=5.0, heartbeat=1.0, max_unacked=6, max_live_jobs=6, max_queues=2,
                             key_share=0.5, recently_rated=30.0)
OWNERS = ["", "fe1", "fe2"]


@pytest.fixture(autouse=True)
def _quiet_journal():
    """The store model goes down and up thousands of times: its warnings would only cost time."""
    logger = logging.getLogger("broker.journal")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


class StoreModel:
    """The durable state, as the journal's store calls would leave it."""

    def __init__(self) -> None:
        self.queue: dict[str, object] = {}        # domain -> QueuedJob
        self.ratings: dict[str, int] = {}         # domain -> commits so far
        self.up = True
        self.refuse_ratings = 0                   # the next N rating writes are refused for good
        self.on_rating = None                     # callback(domain) per committed rating
        self.rated_by: dict[str, str] = {}        # domain -> rater of its stored rating

    def domains_rated_by(self, rater, limit):
        self._check()
        return sorted(d for d, r in self.rated_by.items() if r == rater)[:limit]

    def _check(self) -> None:
        if not self.up:
            raise StoreUnavailable("store model is down")

    def enqueue(self, jobs) -> int:
        self._check()
        for j in jobs:
            self.queue.setdefault(j.domain, j)
        return len(jobs)

    def complete(self, ratings) -> int:
        self._check()
        if self.refuse_ratings:
            self.refuse_ratings -= 1
            raise StoreError("rating refused by the store model")
        for r in ratings:
            self.ratings[r.domain] = self.ratings.get(r.domain, 0) + 1
            self.rated_by[r.domain] = r.rated_by
            self.queue.pop(r.domain, None)
            self.on_rating(r.domain)
        return len(ratings)

    def record_attempts(self, updates) -> None:
        self._check()
        for domain, attempts in updates:
            if domain in self.queue:
                self.queue[domain] = dataclasses.replace(self.queue[domain], attempts=attempts)

    def remove_jobs(self, domains) -> int:
        self._check()
        for d in domains:
            self.queue.pop(d, None)
        return len(domains)

    def append_errors(self, records) -> None:
        self._check()

    def write_together(self, writes) -> list:
        """All of ``writes`` or none: a refused rating refuses the whole transaction (and is
        refused again when the journal then writes the groups one by one)."""
        self._check()
        if self.refuse_ratings and any(kind == "complete" and items for kind, items in writes):
            raise StoreError("rating refused by the store model (whole transaction undone)")
        methods = {"enqueue": self.enqueue, "complete": self.complete, "attempts": self.record_attempts,
                   "remove": self.remove_jobs, "errors": self.append_errors}
        return [methods[kind](items) for kind, items in writes]

    def ping(self) -> None:
        self._check()


class CoreModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = StoreModel()
        self.store.on_rating = self._rating_committed
        self.now = 1000.0
        self.req_seq = 0
        self.requests: dict[bytes, tuple[str, ...]] = {}     # identity -> domains asked
        self.rated_at_request: dict[bytes, dict[str, int]] = {}
        self.cancels: dict[str, int] = {}                     # domain -> operator cancels so far
        self.cancels_at_request: dict[bytes, dict[str, int]] = {}
        self.answered: set[bytes] = set()
        self.abandoned: set[bytes] = set()                    # asked of a broker that crashed
        self.owed: set[str] = set()                           # acknowledged, not yet rated
        self.rated_since_enqueue: set[str] = set()
        self.held: dict[bytes, list[tuple[str, str]]] = {r: [] for r in RATERS}   # rater -> (job_id, domain)
        self.late: list[tuple[bytes, str, str]] = []          # results a rater may still send
        self.admin_asked: dict[bytes, str] = {}               # rerate requests not yet answered -> rater
        self._boot()

    # ---- plumbing -------------------------------------------------------------
    def _boot(self) -> None:
        self.core = BrokerCore(CONFIG, host="model", epoch=f"e{self.now:.0f}")
        self.journal = Journal(zmq.Context.instance(), "sqlite:///unused.db", "inproc://unused")
        self.inbox: list[Op] = []
        self.retry: list[Op] = []
        self.core.load(list(self.store.queue.values()), self.wall)
        self.registered: set[bytes] = set()
        # Commit times this broker saw (a restarted broker starts afresh).
        self.committed_at: dict[str, float] = {}

    @property
    def wall(self) -> float:
        return 1.7e9 + self.now

    def _rating_committed(self, domain: str) -> None:
        assert domain not in self.rated_since_enqueue, f"{domain} rated twice for one acknowledgement"
        last = self.committed_at.get(domain)
        assert last is None or self.wall - last >= CONFIG.recently_rated, \
            f"{domain} rated again {self.wall - last:.0f} s after its last rating committed"
        self.committed_at[domain] = self.wall
        self.rated_since_enqueue.add(domain)
        self.owed.discard(domain)

    def _pump(self) -> None:
        """What the event loop does after each turn: replies out, writes to the journal."""
        core = self.core
        for identity, msg in core.replies:
            if identity in self.admin_asked:
                assert isinstance(msg, AdminReply), msg
                rater = self.admin_asked.pop(identity)
                if msg.ok:
                    # A fresh rating was asked for: a second commit within the window is wanted.
                    for d in [d for d, r in self.store.rated_by.items() if r == rater]:
                        self.committed_at.pop(d, None)
                continue
            if identity not in self.requests:
                continue
            assert identity not in self.answered, f"request {identity!r} answered twice"
            self.answered.add(identity)
            if isinstance(msg, RateReply):
                rated, cancelled = self.rated_at_request[identity], self.cancels_at_request[identity]
                for item in msg.items:
                    d = item.domain
                    if item.progress == "rated" and self.core.fq.get(d) is None:
                        # Rated moments ago: answered from the committed rating, no job.
                        assert self.store.ratings.get(d, 0) > 0, f"{d} answered as rated but never rated"
                        continue
                    # Owed unless rated (committed) or cancelled by an operator since it was asked.
                    if (self.store.ratings.get(d, 0) == rated.get(d, 0)
                            and self.cancels.get(d, 0) == cancelled.get(d, 0)):
                        self.owed.add(d)
            else:
                assert isinstance(msg, (Unavailable, Overload)), msg
        core.replies.clear()
        core.to_raters.clear()
        for op in core.writes:
            if isinstance(op, Enqueue):
                assert len(set(op.domains)) == len(op.domains), f"a domain twice in one enqueue: {op.domains}"
                self.rated_since_enqueue.difference_update(op.domains)
            self.inbox.append(op)
        core.writes.clear()

    def _outcomes(self) -> None:
        while self.journal.outcomes:
            outcome = self.journal.outcomes.popleft()
            if isinstance(outcome, StoreState):
                self.core.store_state(outcome.ok, outcome.detail)
            else:
                self.core.journal_outcome(outcome, self.wall)
        self._pump()

    def _send(self, rater: bytes, msg) -> None:
        self.core.rater_message(rater, msg, self.now, self.wall)
        self._pump()

    # ---- clients ----------------------------------------------------------------------
    @rule(ip=st.sampled_from(IPS), domains=st.lists(st.sampled_from(DOMAINS), min_size=1, max_size=3),
          priority=st.integers(0, 2), owner=st.sampled_from(OWNERS))
    def rate(self, ip, domains, priority, owner):
        self.req_seq += 1
        identity = f"req-{self.req_seq}".encode()
        self.requests[identity] = tuple(domains)
        self.rated_at_request[identity] = dict(self.store.ratings)
        self.cancels_at_request[identity] = dict(self.cancels)
        fq = self.core.fq
        live, queues, owned = len(fq), fq.tracked_ips(), fq.owned_by(owner)
        self.core.rate(identity, RateRequest(req_id=self.req_seq, client_ip=ip, priority=priority,
                                             domains=tuple(domains)), self.wall, owner=owner)
        # A request never takes the broker past a cap (reloaded work may already be past one).
        assert len(fq) <= max(live, CONFIG.max_live_jobs)
        assert fq.tracked_ips() <= max(queues, CONFIG.max_queues)
        if owner:
            now_owned = fq.owned_by(owner)
            assert now_owned[0] <= max(owned[0], int(CONFIG.max_live_jobs * CONFIG.key_share))
            assert now_owned[1] <= max(owned[1], int(CONFIG.max_queues * CONFIG.key_share))
        self._pump()

    # ---- raters -------------------------------------------------------------------
    @rule(rater=st.sampled_from(RATERS), capacity=st.integers(1, 2))
    def ready(self, rater, capacity):
        self.registered.add(rater)
        self._forget_held(rater)
        self._send(rater, Ready(capacity=capacity, host="h", pid=1, worker=rater.decode(), version="m"))

    def _forget_held(self, rater: bytes) -> None:
        for job_id, domain in self.held[rater]:
            self.late.append((rater, job_id, domain))
        self.held[rater] = []

    @rule(outcomes=st.lists(st.sampled_from(["ok", "ok", "ok", "full", "gone"]), min_size=1, max_size=6))
    def dispatch(self, outcomes):
        core = self.core
        core.begin_dispatch()
        for how in outcomes:
            assignment = core.next_assignment(self.now)
            if assignment is None:
                break
            rater, job = assignment
            if how == "ok":
                self.held[rater.identity].append((job.job_id, job.domain))
            else:
                core.send_failed(rater, job.job_id, gone=how == "gone")
                if how == "gone":
                    self.registered.discard(rater.identity)
                    self._forget_held(rater.identity)
        self._pump()

    @precondition(lambda self: any(self.held.values()))
    @rule(data=st.data(), kind=st.sampled_from(["result", "result", "failed", "pulse"]))
    def rater_answers(self, data, kind):
        rater = data.draw(st.sampled_from([r for r in RATERS if self.held[r]]))
        job_id, domain = data.draw(st.sampled_from(self.held[rater]))
        if kind == "pulse":
            # As a node link sends it: the progress of every job the rater holds, in one PULSE.
            others = tuple(Pulse(job_id=j, stage="checking", done=2, total=3) for j, _ in self.held[rater]
                           if j != job_id and data.draw(st.booleans()))
            self._send(rater, Pulse(job_id=job_id, stage="fetching", done=1, total=3, more=others))
            return
        self.held[rater].remove((job_id, domain))
        if kind == "result":
            self._send(rater, _result(job_id, domain))
        else:
            self._send(rater, Failed(job_id=job_id, error="boom", traceback=""))

    @precondition(lambda self: self.late)
    @rule(data=st.data())
    def late_result(self, data):
        """A rater whose job was taken back (lease, death, restart) answers after all."""
        rater, job_id, domain = self.late.pop(data.draw(st.integers(0, len(self.late) - 1)))
        self._send(rater, _result(job_id, domain))

    @rule(data=st.data(), kind=st.sampled_from(["result", "failed", "pulse"]), intruder=st.booleans())
    def forged_answer(self, data, kind, intruder):
        """An answer from a peer that does not hold the job: a rater answering another's
        job_id or a made-up one, or another key speaking under a rater's identity."""
        held = [(r, j, d) for r in RATERS for j, d in self.held[r]]
        if intruder and held:
            # Another key under the holder's own identity.
            rater, job_id, domain = data.draw(st.sampled_from(held))
            key, expect = "intruder", "wrong_key"
        else:
            rater = data.draw(st.sampled_from(RATERS))
            others = [(j, d) for r, j, d in held if r != rater]
            job_id, domain = data.draw(st.sampled_from(others + [("forged-1", data.draw(st.sampled_from(DOMAINS)))]))
            key, expect = "", "not_holder"
            if self.core.raters.get(rater) is not None and self.core.raters.get(rater).key:
                expect = "wrong_key"
        msg = {"result": _result(job_id, domain), "failed": Failed(job_id=job_id, error="forged", traceback=""),
               "pulse": Pulse(job_id=job_id, stage="forged", done=1, total=1)}[kind]
        job = self.core.fq.get(domain)
        before = (job.attempts, job.rater, job.job_id, job.done, job.progress) if job is not None else None
        count = self.core.counters[expect]
        self.core.rater_message(rater, msg, self.now, self.wall, key=key)
        assert not self.core.writes, f"a forged {kind} was journalled: {self.core.writes}"
        assert self.core.counters[expect] == count + 1
        job = self.core.fq.get(domain)
        assert before == ((job.attempts, job.rater, job.job_id, job.done, job.progress) if job else None)
        self._pump()

    @rule(rater=st.sampled_from(RATERS))
    def operator_rerates(self, rater):
        """Everything one rater rated is queued afresh (its key was compromised)."""
        name = f"h/{rater.decode()}"
        self.req_seq += 1
        identity = f"admin-{self.req_seq}".encode()
        self.admin_asked[identity] = name
        ok, _, _ = admin.handle(self.core, "rerate", {"rater": name}, identity, self.req_seq) or (True, "", {})
        assert ok
        self._pump()

    @rule(rater=st.sampled_from(RATERS))
    def disconnect(self, rater):
        self.registered.discard(rater)
        self.held[rater] = []
        self._send(rater, Disconnect(reason="bye", reregister=False))

    @rule(seconds=st.sampled_from([0.5, 3.0, 6.0, 25.0, 130.0]), beating=st.booleans())
    def time_passes(self, seconds, beating):
        """Time goes by; raters heartbeat (leases may still run out) or go silent (and die)."""
        self.now += seconds
        if beating:
            for rater in list(self.registered):
                self._send(rater, Heartbeat())
        self.core.timers(self.now, self.wall)
        for rater in list(self.registered):
            if self.core.raters.get(rater) is None:
                self.registered.discard(rater)
                self._forget_held(rater)
            else:
                held = {j.job_id for j in self.core.raters.get(rater).held_jobs()}
                for job_id, domain in list(self.held[rater]):
                    if job_id not in held:             # lease expired: its answer is late now
                        self.held[rater].remove((job_id, domain))
                        self.late.append((rater, job_id, domain))
        self._pump()

    # ---- operator -------------------------------------------------------------------
    @rule(domains=st.lists(st.sampled_from(DOMAINS), min_size=1, max_size=2))
    def cancel(self, domains):
        for d in self.core.cancel(domains):
            self.owed.discard(d)
            self.cancels[d] = self.cancels.get(d, 0) + 1
        self._pump()

    @rule(ip=st.sampled_from(IPS), weight=st.integers(1, 3))
    def weight(self, ip, weight):
        self.core.set_weight(ip, weight)

    @rule(paused=st.booleans())
    def pause(self, paused):
        self.core.paused = paused

    # ---- store and journal --------------------------------------------------------
    @rule(up=st.booleans())
    def store_flips(self, up):
        self.store.up = up

    @rule()
    def store_refuses_next_rating(self):
        self.store.refuse_ratings += 1

    @precondition(lambda self: self.inbox or self.retry)
    @rule(data=st.data())
    def journal_drains(self, data):
        # Everything waiting (the journal's usual drain) or only the first few.
        everything = data.draw(st.booleans())
        take = len(self.inbox) if everything or not self.inbox else data.draw(st.integers(1, len(self.inbox)))
        ops, self.inbox = self.inbox[:take], self.inbox[take:]
        batch = self.retry + ops
        self.retry = self.journal._execute(self.store, batch)
        self._outcomes()

    @precondition(lambda self: self.store.up and not self.journal.store_ok)
    @rule()
    def journal_sees_store_back(self):
        self.journal._set_state(True, "")
        self._outcomes()

    @rule()
    def journal_dies_and_broker_restarts(self):
        """The journal thread dies: everyone waiting is answered, new work refused, then the process restarts."""
        self.core.journal_stopped("model journal died")
        self._pump()
        assert self.core.pending_requests == 0 and self.core.unacked_batches == 0
        self.req_seq += 1
        identity = f"req-{self.req_seq}".encode()
        self.requests[identity] = (DOMAINS[0],)
        self.rated_at_request[identity] = dict(self.store.ratings)
        self.cancels_at_request[identity] = dict(self.cancels)
        self.core.rate(identity, RateRequest(req_id=self.req_seq, client_ip=IPS[0], priority=1,
                                             domains=(DOMAINS[0],)), self.wall)
        assert isinstance(self.core.replies[-1][1], Unavailable)
        self._pump()
        assert self.core.next_assignment(self.now) is None      # nor is anything dispatched
        self.crash_and_restart()

    @rule()
    def crash_and_restart(self):
        for identity in self.requests:
            if identity not in self.answered:
                self.abandoned.add(identity)
        for rater in RATERS:
            self._forget_held(rater)
        self.store.refuse_ratings = 0
        self._boot()

    # ---- promises -----------------------------------------------------------------
    @invariant()
    def acknowledged_work_is_never_lost(self):
        lost = {d for d in self.owed if d not in self.store.queue}
        assert not lost, f"acknowledged but neither queued nor rated: {sorted(lost)}"

    @invariant()
    def no_request_waits_for_nothing(self):
        if not self.inbox and not self.retry:
            assert self.core.pending_requests == 0
            assert self.core.unacked_batches == 0
            assert self.core.memory_sizes()["waiters"] == 0

    @invariant()
    def per_ip_cap_holds(self):
        for ip in IPS:
            assert self.core.fq.outstanding(ip) <= CONFIG.max_per_ip

    @invariant()
    def memory_holds_only_live_work(self):
        core = self.core
        sizes = core.memory_sizes()
        live = list(core.fq.jobs())
        assert sizes["ips"] == len({j.client_ip for j in live})
        assert sizes["jobs"] == len(live)
        for owner in OWNERS[1:]:
            # The per-key counts the caps read match what is live.
            assert core.fq.owned_by(owner) == (sum(j.owner == owner for j in live),
                                               sum(q.owner == owner for q in core.fq._ips.values()))
        for rater in core.raters:
            for job in rater.held_jobs():
                assert core.fq.get(job.domain) is job
        for job in live:
            assert job.durable or job.batch is not None or job.in_flight or job.done or not self._acked(job.domain)

    def _acked(self, domain: str) -> bool:
        return domain in self.owed

    def teardown(self):
        # Let everything settle: store up, journal drained, every request answered.
        self.store.up = True
        self.store.refuse_ratings = 0
        for _ in range(10):
            if not (self.inbox or self.retry or not self.journal.store_ok):
                break
            self.journal._set_state(True, "")
            batch, self.inbox = self.retry + self.inbox, []
            self.retry = self.journal._execute(self.store, batch)
            self._outcomes()
        unanswered = set(self.requests) - self.answered - self.abandoned
        assert not unanswered, f"requests never answered: {sorted(unanswered)}"


class _Draws:
    """Fixed answers for a rule's ``data.draw`` (a scripted run of the model's rules)."""

    def __init__(self, *values) -> None:
        self.values = list(values)

    def draw(self, strategy):
        return self.values.pop(0)


def test_a_request_right_after_a_commit_makes_no_second_rating():
    """Scripted through the model's own rules and checks (random runs seldom line this up)."""
    m = CoreModel()

    def rate_and_rate_again(expect_job: bool) -> None:
        m.rate("192.0.2.1", ["site0.com"], 1, "fe1")
        if m.inbox:
            m.journal_drains(_Draws(True))
        m.dispatch(["ok"])
        assert bool(m.held[b"rater-a"]) == expect_job
        if expect_job:
            m.rater_answers(_Draws(b"rater-a", m.held[b"rater-a"][0]), "result")
            m.journal_drains(_Draws(True))

    m.ready(b"rater-a", 1)
    rate_and_rate_again(expect_job=True)
    m.now += 5
    rate_and_rate_again(expect_job=False)        # 5 s after the commit: "being rated", no job
    assert m.core.counters["just_rated"] == 1 and m.store.ratings["site0.com"] == 1
    m.time_passes(25.0, beating=True)
    m.time_passes(6.0, beating=True)
    m.ready(b"rater-a", 1)
    rate_and_rate_again(expect_job=True)         # past the window: rated afresh
    assert m.store.ratings["site0.com"] == 2
    m.teardown()


def _result(job_id: str, domain: str) -> Result:
    return Result(job_id=job_id, domain=domain, rating=Rating.Q, ratinginfo=RatingInfo.UNVERIFIED,
                  location=None, evidence=(), elapsed=0.1)


CoreModel.TestCase.settings = settings(
    max_examples=int(os.environ.get("SITETRUTH_MODEL_EXAMPLES", "2000")),
    stateful_step_count=int(os.environ.get("SITETRUTH_MODEL_STEPS", "30")),
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestCoreModel = CoreModel.TestCase
