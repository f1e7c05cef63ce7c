"""The frontend with several brokers on one store (hot standby): RATE goes to the active one.

Scripted ROUTER peers on loopback play the brokers: a standby answers
every request ``ErrorReply(code="not_active")``, a dead one stays silent.
"""

from __future__ import annotations

import pytest

from frontend import FrontendConfig
from frontend.errors import FrontendConfigError
from protocol import DomainStatus, ErrorReply, JobState, RateReply
from protocol.client import NOT_ACTIVE
from tests.frontend.test_frontend_api import API, assert_text_error, xml_items
from tests.support.web import call

pytestmark = pytest.mark.timeout(30)


def queued(msg):
    return RateReply(req_id=msg.req_id, items=tuple(DomainStatus(d, JobState.QUEUED, position=1)
                                                    for d in msg.domains))


def standby(msg):
    return ErrorReply(req_id=msg.req_id, code=NOT_ACTIVE, message="not active: another broker holds the store")


def test_requests_reach_the_active_broker_past_a_standby_and_follow_a_failover(seeded_sqlite, frontend_app,
                                                                                 scripted_broker):
    first, second = scripted_broker(standby), scripted_broker(queued)
    app = frontend_app(store=seeded_sqlite, broker=f"{first.endpoint},{second.endpoint}", broker_timeout=2.0)
    items = xml_items(call(app, API, "url=brand-new-shop.com"))
    assert (items[0]["rating"], items[0]["status"]) == ("W", "202")
    assert [m.domains for m in second.requests] == [("brand-new-shop.com",)]
    assert len(first.requests) == 1
    # The active broker is remembered: the standby is not asked again.
    xml_items(call(app, API, "url=another-new-shop.com"))
    assert len(first.requests) == 1 and len(second.requests) == 2
    # Failover: the second dies (silent), the first becomes active. The request is resent there, not lost.
    second.answer, first.answer = (lambda m: None), queued
    items = xml_items(call(app, API, "url=during-failover.com"))
    assert (items[0]["rating"], items[0]["status"]) == ("W", "202")
    assert ("during-failover.com",) in [m.domains for m in first.requests]


def test_no_active_broker_is_503_like_a_broker_down(seeded_sqlite, frontend_app, scripted_broker):
    first, second = scripted_broker(standby), scripted_broker(standby)
    app = frontend_app(store=seeded_sqlite, broker=f"{first.endpoint},{second.endpoint}", broker_timeout=1.0)
    assert_text_error(call(app, API, "url=nobody-rates-this.com"), 503)
    assert len(first.requests) == 1 and len(second.requests) == 1
    # Known ratings are still answered from the store.
    assert xml_items(call(app, API, "url=example.com"))[0]["rating"] == "A"


def test_a_bad_broker_list_is_a_config_error():
    with pytest.raises(FrontendConfigError, match="listed twice"):
        FrontendConfig(broker="tcp://127.0.0.1:1,tcp://127.0.0.1:1").check()


def test_the_flag_and_its_env_twin_take_a_list():
    from frontend.cli import build_parser, config_from_args
    from protocol.config import parse_args

    parser = build_parser()
    args = parse_args(parser, ["--broker", "tcp://10.0.0.1:7710, tcp://10.0.0.2:7710"], environ={})
    assert config_from_args(args).broker_list == ("tcp://10.0.0.1:7710", "tcp://10.0.0.2:7710")
    args = parse_args(parser, [], environ={"SITETRUTH_BROKER": "tcp://10.0.0.1:7710,tcp://10.0.0.2:7710"})
    assert config_from_args(args).broker_list == ("tcp://10.0.0.1:7710", "tcp://10.0.0.2:7710")
    args = parse_args(parser, ["--broker", "tcp://10.0.0.1:7710"], environ={})
    assert config_from_args(args).broker == "tcp://10.0.0.1:7710"
    with pytest.raises(SystemExit) as info:
        parse_args(parser, ["--broker", "tcp://10.0.0.1:7710,,"], environ={})
    assert info.value.code == 2
