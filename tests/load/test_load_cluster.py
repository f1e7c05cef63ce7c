"""The load test, short: 5,000 API requests from 100 loopback client IPs against a whole cluster.

Real processes (frontend, broker, raterd with two workers, a loopback shop
server), SQLite and MariaDB. What must hold, whatever the machine's speed:
every shop acknowledged (W/202) ends rated, none is lost or rated twice for
one acknowledgement, no reply is a 5xx other than the documented overload
(502) and unavailable (503), and each client's share of the dispatches
while it waited is near an equal share (loosely: CI machines are noisy).
The full run and its table: ``python scripts/load_cluster.py``.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import mysql_test_url
from tests.load.generator import Demand
from tests.load.run import LoadPlan, problems, run_load
from tests.load.tally import fairness, percentiles

IPS, SHOPS = 100, 3


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def test_load_through_the_whole_cluster(backend, tmp_path):
    plan = LoadPlan(requests=5_000, ips=IPS, domains_per_ip=SHOPS, concurrency=32, seconds=90, workers=2,
                    mysql_url=mysql_test_url() if backend == "mysql" else None, workdir=str(tmp_path),
                    fairness_limit=0.25)
    report = run_load(plan, say=print)
    print(json.dumps(report, indent=1, sort_keys=True))
    tally, fair, req = report["store_tally"], report["fairness"], report["requests"]

    assert req["sent"] == plan.requests, req
    assert tally["rated_total"] == IPS * SHOPS, tally                # every shop asked for ends rated
    # Nearly all were answered W/202 first; a shop whose only W/202 reply
    # was lost to a busy moment (a 503) is asked again and may be rated by then.
    assert tally["acknowledged"] >= 0.9 * IPS * SHOPS, tally
    assert tally["rated"] == tally["acknowledged"] and tally["lost"] == 0 and tally["still_queued"] == 0, tally
    assert tally["rated_twice"] == tally["reasked_twice"], tally     # none twice for one acknowledgement
    assert fair["measured_from"] == "dispatch order (job ids)", fair
    assert fair["clients"] == IPS, fair
    assert report["dispatch_share"]["ips"] == IPS, report["dispatch_share"]
    assert problems(report) == [], problems(report)


def test_fairness_measure_tells_round_robin_from_first_come_first_served():
    demand = Demand(ips=4, domains_per_ip=3, requests=4)
    round_robin = [d for k in range(3) for i in range(4) for d in demand.domains(i)[k:k + 1]]
    fifo = [d for i in range(4) for d in demand.domains(i)]
    fair = fairness(demand, round_robin)
    assert fair.clients == 4 and fair.spread == 0.0 and fair.min == fair.max == 1.0
    unfair = fairness(demand, fifo)
    assert unfair.max == 4.0 and unfair.spread == 3.0     # the first client got every dispatch of its span


def test_fairness_counts_a_client_only_once_it_was_served_in_full():
    demand = Demand(ips=2, domains_per_ip=2, requests=2)
    fair = fairness(demand, ["shop0-0.com", "shop1-0.com", "shop0-1.com"])
    assert fair.clients == 1 and fair.relative == (1.0,)


def test_demand_names_each_client_and_its_shops():
    demand = Demand(ips=1000, domains_per_ip=3, requests=200_000)
    assert demand.ip(0) == "127.0.10.1" and demand.ip(999) == "127.0.13.250"
    assert len({demand.ip(i) for i in range(1000)}) == 1000
    assert demand.domains(17) == ("shop17-0.com", "shop17-1.com", "shop17-2.com")
    assert Demand.owner("shop17-2.com") == 17
    assert demand.path(1) == "/api/v3/rate?url=shop1-0.com&url=shop1-1.com&url=shop1-2.com&format=json"
    with pytest.raises(ValueError, match="at least one per IP"):
        Demand(ips=10, domains_per_ip=1, requests=5)
    with pytest.raises(ValueError, match="url limit"):
        Demand(ips=1, domains_per_ip=101, requests=1)


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentiles(values) == {"p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}
    assert percentiles([]) == {"p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0}
