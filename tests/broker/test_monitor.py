"""zmq-monitor against a real broker: snapshots, JSON for scripts, operator actions, exit codes."""

from __future__ import annotations

import json

from broker.monitor import main
from tests.support.fake_rater import FakeRater
from tests.support.processes import free_port


def test_once_json_and_text_show_queues_and_raters(store_url, start_broker, capsys):
    rb = start_broker(store_url)
    rb.rate(rb.client(), "192.0.2.44", ["monitored-site.com", "second-site.com"])
    with FakeRater(rb.raters, "busy", mode="sleep:30", context=rb.context):
        rb.wait_for(lambda s: any(r["job"] for r in s["raters"]), what="rater busy")
        assert main(["--broker", rb.clients, "--once", "--json"]) == 0
        stats = json.loads(capsys.readouterr().out)
        assert stats["totals"]["raters"] == 1 and stats["raters"][0]["job"] == "monitored-site.com"
        assert stats["queues"][0]["ip"] == "192.0.2.44"
        assert main(["--broker", rb.clients, "--once"]) == 0
        text = capsys.readouterr().out
        assert "192.0.2.44" in text and "monitored-site.com" in text and "busy" in text


def test_admin_actions_and_refusals(store_url, start_broker, capsys):
    rb = start_broker(store_url)
    rb.rate(rb.client(), "192.0.2.1", ["to-cancel.com"])
    assert main(["--broker", rb.clients, "admin", "cancel", "--arg", "domains=to-cancel.com,unknown.com"]) == 0
    assert "cancelled 1 of 2" in capsys.readouterr().out
    assert rb.stats()["totals"]["live"] == 0
    assert main(["--broker", rb.clients, "admin", "pause"]) == 0
    assert rb.stats()["broker"]["paused"] is True
    assert main(["--broker", rb.clients, "admin", "drain", "--arg", "rater=nobody"]) == 4
    assert "no rater matches" in capsys.readouterr().out
    assert main(["--broker", rb.clients, "admin", "cancel", "--arg", "oops"]) == 2


def test_unreachable_broker_exits_3_with_a_clear_line(capsys):
    assert main(["--broker", f"tcp://127.0.0.1:{free_port()}", "--once", "--timeout", "0.5"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("zmq-monitor: ") and "broker" in err


def test_live_view_renders_the_same_data(store_url, start_broker):
    from rich.console import Console

    from broker.monitor import _render_rich

    rb = start_broker(store_url)
    rb.rate(rb.client(), "192.0.2.7", ["live-view.com"])
    console = Console(record=True, width=140, file=open("/dev/null", "w"))
    console.print(_render_rich(rb.stats()))
    screen = console.export_text()
    assert "queues per client IP" in screen and "192.0.2.7" in screen and "store ok" in screen
