"""BrokerClient with several brokers, one active: it finds the active one, remembers it, never loops.

Real ROUTER sockets on loopback play a hot-standby broker (answers
``not_active``), a dead or cut-off one (reads, never answers) and the
active one (tests/protocol/scripted_brokers.py).
"""

from __future__ import annotations

import pytest

from protocol import RateReply, RateRequest, StatsReply, StatsRequest
from protocol.client import BrokerClient, BrokerUnavailable, broker_endpoints, endpoint_list
from tests.protocol.scripted_brokers import ScriptedBroker, scripted  # noqa: F401  (scripted: a pytest fixture)
from tests.support.processes import free_port

pytestmark = pytest.mark.timeout(30)


def _rate(client: BrokerClient, *domains: str, timeout: float | None = None):
    return client.call(lambda i: RateRequest(req_id=i, client_ip="192.0.2.7", priority=0, domains=domains),
                       timeout=timeout)


def _rates(broker: ScriptedBroker) -> list[tuple[str, ...]]:
    return [r.domains for r in broker.requests() if isinstance(r, RateRequest)]


def test_the_call_ends_at_the_active_broker_past_a_standby_and_a_dead_one(scripted):
    standby, dead, active = scripted("standby"), scripted("silent"), scripted("active")
    with BrokerClient([standby.endpoint, dead.endpoint, active.endpoint], timeout=3.0) as client:
        reply = _rate(client, "failover-one.com")
        assert isinstance(reply, RateReply) and [i.domain for i in reply.items] == ["failover-one.com"]
        # The same request went once to each endpoint, in list order.
        assert _rates(standby) == _rates(dead) == _rates(active) == [("failover-one.com",)]
        assert client.endpoint == active.endpoint
        # Remembered: the next calls go straight to the active broker.
        for n in range(3):
            assert isinstance(_rate(client, f"next-{n}.com"), RateReply)
        assert len(_rates(active)) == 4
        assert len(standby.requests()) == 1 and len(dead.requests()) == 1


def test_a_comma_separated_list_works_like_a_sequence(scripted):
    standby, active = scripted("standby"), scripted("active")
    with BrokerClient(f"{standby.endpoint}, {active.endpoint}", timeout=2.0) as client:
        assert client.endpoints == (standby.endpoint, active.endpoint)
        assert isinstance(client.call(lambda i: StatsRequest(req_id=i)), StatsReply)
        assert client.endpoint == active.endpoint


def test_when_the_active_broker_goes_the_client_follows_the_new_one_and_back(scripted):
    a, b = scripted("active"), scripted("standby")
    with BrokerClient([a.endpoint, b.endpoint], timeout=2.0) as client:
        assert isinstance(_rate(client, "before.com"), RateReply)
        assert client.endpoint == a.endpoint
        # a dies (silent); b takes over: the request in flight is resent to b and answered.
        a.set_mode("silent")
        b.set_mode("active")
        reply = _rate(client, "in-flight.com")
        assert isinstance(reply, RateReply) and reply.items[0].domain == "in-flight.com"
        assert ("in-flight.com",) in _rates(a) and ("in-flight.com",) in _rates(b)
        assert client.endpoint == b.endpoint
        # Fail back: b drops to standby, a is active again.
        b.set_mode("standby")
        a.set_mode("active")
        assert isinstance(_rate(client, "after.com"), RateReply)
        assert client.endpoint == a.endpoint
        assert _rates(b).count(("after.com",)) == 1 and _rates(a).count(("after.com",)) == 1


def test_with_no_active_broker_each_endpoint_is_tried_once_and_the_call_raises(scripted):
    """Bounded rotation: one attempt per endpoint, then BrokerUnavailable naming what each did."""
    standby, dead, other = scripted("standby"), scripted("silent"), scripted("standby")
    with BrokerClient([standby.endpoint, dead.endpoint, other.endpoint], timeout=1.5) as client:
        with pytest.raises(BrokerUnavailable) as info:
            _rate(client, "nobody-active.com")
        text = str(info.value)
        assert f"broker at {standby.endpoint} is not active" in text
        assert f"broker at {dead.endpoint} did not answer" in text
        assert f"broker at {other.endpoint} is not active" in text
        assert [len(b.requests()) for b in (standby, dead, other)] == [1, 1, 1]
        # A request in flight is never dropped silently: the next call raises too, again bounded.
        with pytest.raises(BrokerUnavailable):
            client.call(lambda i: StatsRequest(req_id=i))
        assert [len(b.requests()) for b in (standby, dead, other)] == [2, 2, 2]


def test_a_silent_endpoint_gets_a_share_of_the_budget_not_all_of_it(scripted):
    """Silent first, active second, within one timeout: the silent one cannot use the whole budget."""
    dead, active = scripted("silent"), scripted("active")
    with BrokerClient([dead.endpoint, active.endpoint], timeout=2.0) as client:
        assert isinstance(_rate(client, "shared-budget.com"), RateReply)
        assert client.endpoint == active.endpoint


def test_a_slow_active_broker_is_waited_for_not_abandoned_for_a_standby(scripted):
    """The endpoint tried first may use the budget but a small reserve per other endpoint."""
    active, standby = scripted("active"), scripted("standby")
    active.delay = 1.8
    with BrokerClient([active.endpoint, standby.endpoint], timeout=3.0, connect_grace=0.5) as client:
        assert isinstance(_rate(client, "busy-broker.com"), RateReply)
        assert client.endpoint == active.endpoint and standby.requests() == []


def test_an_endpoint_with_nothing_listening_is_skipped(scripted):
    active = scripted("active")
    nothing = f"tcp://127.0.0.1:{free_port()}"
    with BrokerClient([nothing, active.endpoint], timeout=2.0, connect_grace=0.2) as client:
        assert isinstance(_rate(client, "skip-the-dead.com"), RateReply)
        assert client.endpoint == active.endpoint


def test_one_endpoint_behaves_as_before(scripted):
    active, standby, dead = scripted("active"), scripted("standby"), scripted("silent")
    with BrokerClient(active.endpoint, timeout=1.0) as client:
        assert client.endpoint == active.endpoint and client.endpoints == (active.endpoint,)
        assert isinstance(_rate(client, "single.com"), RateReply)
    with BrokerClient(dead.endpoint, timeout=0.5) as client:
        with pytest.raises(BrokerUnavailable, match="did not answer within 0.5 s"):
            _rate(client, "single.com")
        assert len(dead.requests()) == 1     # no retry with one endpoint
    with BrokerClient(standby.endpoint, timeout=1.0) as client:
        with pytest.raises(BrokerUnavailable, match="is not active"):
            _rate(client, "single.com")
        assert len(standby.requests()) == 1


def test_the_curve_keys_apply_to_every_endpoint(tmp_path):
    """One broker key pair for the brokers of a store: the client is a CURVE client of each in turn."""
    import zmq

    from protocol.security import ClientKeys, KeyPair

    broker_public, broker_secret = zmq.curve_keypair()
    own_public, own_secret = zmq.curve_keypair()
    keys = ClientKeys(own=KeyPair(own_public, own_secret, tmp_path / "frontend.key_secret"),
                      server_public=broker_public)
    standby = ScriptedBroker(mode="standby", curve_secret=broker_secret)
    active = ScriptedBroker(mode="active", curve_secret=broker_secret)
    try:
        with BrokerClient([standby.endpoint, active.endpoint], timeout=3.0, curve=keys) as client:
            assert isinstance(_rate(client, "curve-everywhere.com"), RateReply)
            assert client.endpoint == active.endpoint
            assert len(standby.requests()) == 1
        # Without keys neither CURVE broker takes the request: nothing is sent, nothing answered.
        with BrokerClient([standby.endpoint, active.endpoint], timeout=1.0, connect_grace=0.3) as client:
            with pytest.raises(BrokerUnavailable, match="no broker connected"):
                _rate(client, "no-keys.com")
        assert len(active.requests()) == 1
    finally:
        standby.close()
        active.close()


@pytest.mark.parametrize("text, message", [
    ("", "no broker endpoint"),
    ("tcp://a:1,,tcp://b:1", "empty entry"),
    ("broker1:7710", "not a ZeroMQ endpoint"),
    ("tcp://a:1,tcp://a:1", "listed twice"),
])
def test_bad_endpoint_lists_are_refused_with_the_reason(text, message):
    with pytest.raises(ValueError, match=message):
        endpoint_list(text)
    with pytest.raises(ValueError, match=message):
        BrokerClient(text)


def test_the_option_parser_normalises_the_list():
    assert broker_endpoints(" tcp://a:1 , tcp://b:1") == "tcp://a:1,tcp://b:1"
    assert broker_endpoints("tcp://127.0.0.1:7710") == "tcp://127.0.0.1:7710"
    assert endpoint_list(("tcp://a:1",)) == ("tcp://a:1",)
