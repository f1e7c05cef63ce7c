"""Progress through the acknowledgement core: one PULSE may carry several jobs' progress (a node link's)."""

from __future__ import annotations

import dataclasses

from broker.config import BrokerConfig
from broker.core import BrokerCore
from protocol import Pulse, RateRequest, Ready

CONFIG = dataclasses.replace(BrokerConfig(), lease=20.0)


def _node_with_jobs(core: BrokerCore, identity: bytes, domains: list[str], now: float) -> dict[str, str]:
    """A rater of capacity len(domains) holding one job for each domain: domain -> job_id."""
    core.rater_message(identity, Ready(capacity=len(domains), host="h", pid=1, worker="node", version="t"), now,
                       1.7e9 + now)
    core.rate(b"client", RateRequest(req_id=1, client_ip="192.0.2.1", priority=1, domains=tuple(domains)),
              1.7e9 + now)
    core.begin_dispatch()
    held = {}
    while (assignment := core.next_assignment(now)) is not None:
        rater, job = assignment
        assert rater.identity == identity
        held[job.domain] = job.job_id
    assert set(held) == set(domains)
    return held


def test_one_pulse_renews_every_job_it_carries_and_nothing_it_does_not_hold():
    core = BrokerCore(CONFIG)
    held = _node_with_jobs(core, b"node", ["a1.com", "a2.com", "a3.com"], now=0.0)
    other = _node_with_jobs(core, b"other", ["b1.com"], now=0.0)
    pulse = Pulse(job_id=held["a1.com"], stage="fetching", done=1, total=4,
                  more=(Pulse(job_id=held["a3.com"], stage="checking", detail="registry", done=2, total=4),
                        Pulse(job_id="made-up", stage="fetching"),
                        Pulse(job_id=other["b1.com"], stage="forged")))
    core.rater_message(b"node", pulse, 10.0, 1.7e9 + 10)
    jobs = {d: core.fq.get(d) for d in ("a1.com", "a2.com", "a3.com", "b1.com")}
    assert jobs["a1.com"].lease_until == jobs["a3.com"].lease_until == 10.0 + CONFIG.lease
    assert jobs["a2.com"].lease_until == jobs["b1.com"].lease_until == 0.0 + CONFIG.lease
    assert "fetching" in jobs["a1.com"].progress and "registry" in jobs["a3.com"].progress
    assert jobs["a2.com"].progress == "" and "forged" not in jobs["b1.com"].progress
    counters = core.counters
    assert counters["pulse_messages"] == 1 and counters["pulses"] == 2 and counters["not_holder"] == 2


def test_a_lone_workers_pulse_is_one_job_as_before():
    core = BrokerCore(CONFIG)
    held = _node_with_jobs(core, b"worker", ["solo.com"], now=0.0)
    core.rater_message(b"worker", Pulse(job_id=held["solo.com"], stage="fetching", done=3, total=9), 5.0, 1.7e9 + 5)
    assert core.fq.get("solo.com").lease_until == 5.0 + CONFIG.lease
    assert core.counters["pulse_messages"] == 1 and core.counters["pulses"] == 1
    assert core.counters["not_holder"] == 0
