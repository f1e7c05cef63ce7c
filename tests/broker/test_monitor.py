"""zmq-monitor against a real broker: snapshots, JSON for scripts, operator actions, exit codes."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest
import zmq

from broker.monitor import main, rater_label, rater_state
from protocol import Ready
from tests.protocol.scripted_brokers import scripted  # noqa: F401  (pytest fixture)
from tests.raterd.raterd_harness import brokers, raterd, store  # noqa: F401  (pytest fixtures)
from tests.support.fake_rater import FakeRater
from tests.support.processes import ROOT, free_port


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
        assert "journal ok" in text and "taking new work" in text
        assert ", active (epoch 1) for " in text.splitlines()[1]


def test_the_journal_line_says_when_the_broker_cannot_commit():
    from broker.monitor import journal_line

    healthy = {"broker": {"accepting": True, "refusal": ""},
               "journal": {"alive": True, "last_commit_age": 0.4, "stalled_for": 0.0, "backlog": 0}}
    assert journal_line(healthy) == "journal ok, last commit 0.4s ago, backlog 0; taking new work"
    stalled = {"broker": {"accepting": False, "refusal": "journal stalled: no commit for 31 s"},
               "journal": {"alive": True, "last_commit_age": 31.0, "stalled_for": 31.0, "backlog": 12}}
    assert journal_line(stalled).startswith("journal STALLED for 31.0s")
    assert "NOT TAKING NEW WORK: journal stalled" in journal_line(stalled)
    dead = {"broker": {"accepting": False, "refusal": "journal died"},
            "journal": {"alive": False, "error": "OperationalError: disk I/O error"}}
    assert journal_line(dead).startswith("journal DEAD: OperationalError")


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
    assert main(["--broker", rb.clients, "--json", "admin", "resume"]) == 0
    assert json.loads(capsys.readouterr().out) == {"ok": True, "detail": "dispatching resumed", "data": {}}
    assert rb.stats()["broker"]["paused"] is False


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


# ---- command-line errors: a clear line and the documented exit code --------------------------

def _monitor(*args: str, stdout=subprocess.PIPE, timeout: float = 30) -> subprocess.CompletedProcess:
    """zmq-monitor as a user runs it: its own process, so tracebacks would show on stderr."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "broker.monitor", *args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, env=env, cwd=ROOT, timeout=timeout)


def test_output_closed_early_ends_quietly(store_url, start_broker):
    rb = start_broker(store_url)
    rb.rate(rb.client(), "192.0.2.9", [f"site-{i}.com" for i in range(50)])
    # A reader that has gone before the first byte: the write fails with EPIPE every time.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = _monitor("--broker", rb.clients, "--once", "--json", stdout=write_end)
    finally:
        os.close(write_end)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    # And the README's form, through a real shell pipe.
    cmd = f"{shlex.quote(sys.executable)} -m broker.monitor --broker {rb.clients} --once --json | head -3"
    piped = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, cwd=ROOT,
                           env=dict(os.environ, PYTHONPATH=ROOT), timeout=30)
    assert piped.returncode == 0 and piped.stderr == "", piped.stderr
    assert piped.stdout.splitlines()[0] == "{"
    assert len(piped.stdout.splitlines()) == 3


@pytest.mark.parametrize("endpoint", ["garbage", "tcp://*:7710", "tcp//127.0.0.1:7710"])
def test_malformed_broker_endpoint_is_a_usage_error(endpoint):
    done = _monitor("--broker", endpoint, "--once")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"zmq-monitor: --broker {endpoint}: ") and "expected e.g. tcp://" in done.stderr
    assert "Traceback" not in done.stderr


def test_json_without_once_is_a_usage_error():
    done = _monitor("--json", "--broker", f"tcp://127.0.0.1:{free_port()}")
    assert done.returncode == 2
    assert done.stderr.strip() == ("zmq-monitor: --json needs --once (a live view has no JSON form): "
                                   "zmq-monitor --once --json")
    assert done.stdout == ""          # no live view started


@pytest.mark.parametrize("argv, message", [
    (["admin", "frobnicate"], "zmq-monitor: unknown admin action 'frobnicate'; known: "
                              "pause, resume, drain, undrain, cancel, weight, rerate"),
    (["admin", "drain"], "zmq-monitor: usage: zmq-monitor admin drain --arg rater=NAME | --arg all=true"),
    (["admin", "undrain", "--arg", "rater="], "zmq-monitor: usage: zmq-monitor admin undrain --arg rater=NAME"
                                              " | --arg all=true"),
    (["admin", "cancel"], "zmq-monitor: usage: zmq-monitor admin cancel --arg domains=D1,D2,..."),
    (["admin", "weight", "--arg", "ip=192.0.2.1", "--arg", "weight=x"],
     "zmq-monitor: --arg weight=x: not a whole number\nusage: zmq-monitor admin weight --arg ip=IP --arg weight=N"),
    (["admin", "pause", "--arg", "rater=x"],
     "zmq-monitor: admin pause takes no rater argument\nusage: zmq-monitor admin pause"),
    (["admin"], "zmq-monitor: expected 'admin ACTION' (ACTION one of pause, resume, drain, undrain, cancel, weight, rerate)"),
    (["--arg", "rater=x"], "zmq-monitor: --arg belongs to an admin action "
                           "(zmq-monitor admin ACTION --arg KEY=VALUE)"),
])
def test_admin_usage_mistakes_exit_2_with_a_usage_line(argv, message, capsys):
    # Checked before anything is sent: no broker is needed to get the usage line.
    assert main(["--broker", f"tcp://127.0.0.1:{free_port()}", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == message
    assert "{" not in captured.err and captured.out == ""


# ---- raters of two nodes on one host -------------------------------------------------------

def _register(context: zmq.Context, endpoint: str, identity: str, worker: str) -> zmq.Socket:
    sock = context.socket(zmq.DEALER)
    sock.setsockopt(zmq.ROUTING_ID, identity.encode())
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    sock.send_multipart(Ready(capacity=1, host="vm", pid=int(identity.rsplit("/", 1)[1]), worker=worker,
                              version="test", jobs_done=0).to_frames())
    return sock


def test_raters_of_two_nodes_on_one_host_are_told_apart(store_url, start_broker, capsys):
    rb = start_broker(store_url)
    socks = [_register(rb.context, rb.raters, "node-a/w0/4101", "w0"),
             _register(rb.context, rb.raters, "node-b/w0/4102", "w0")]
    try:
        rb.wait_for(lambda s: s["totals"]["raters"] == 2, what="two raters registered")
        assert main(["--broker", rb.clients, "--once"]) == 0
        text = capsys.readouterr().out
        rows = [line.split() for line in text.splitlines() if line.startswith("node-")]
        assert [(r[0], r[1]) for r in rows] == [("node-a/w0", "4101"), ("node-b/w0", "4102")]
        # The name as listed is what drain takes.
        assert main(["--broker", rb.clients, "admin", "drain", "--arg", "rater=node-b/w0"]) == 0
        assert "draining 1 rater(s)" in capsys.readouterr().out
        drained = {r["id"]: r["draining"] for r in rb.stats()["raters"]}
        assert drained == {"node-a/w0/4101": False, "node-b/w0/4102": True}
    finally:
        for sock in socks:
            sock.close()


def test_rater_label_uses_the_reported_name():
    assert rater_label({"id": "node-a/w3/77", "pid": 77, "host": "vm", "worker": "w3"}) == "node-a/w3"
    assert rater_label({"id": "opaque-id", "pid": 5, "host": "vm", "worker": "w1"}) == "opaque-id"
    assert rater_label({"id": "", "pid": 5, "host": "vm", "worker": "w1"}) == "vm/w1"


def test_a_node_connection_shows_its_jobs_out_of_its_capacity():
    assert rater_state({"state": "busy", "capacity": 25, "jobs": 3}) == "busy 3/25"
    assert rater_state({"state": "free", "capacity": 1, "jobs": 0}) == "free"


def test_two_raterd_nodes_on_one_host_show_their_node_names(store, brokers, raterd, capsys):
    """Real raterd processes, started with --node-name, as an operator adds a second node on one host."""
    rb = brokers(store)
    for name in ("node-a", "node-b"):
        raterd(rb.raters, "--workers", "1", "--node-name", name, name=name)
    rb.wait_for(lambda s: s["totals"]["raters"] == 2, 30, "both nodes' workers")
    assert main(["--broker", rb.clients, "--once"]) == 0
    text = capsys.readouterr().out
    names = [line.split()[0] for line in text.splitlines() if line.startswith("node-")]
    assert names == ["node-a/w0", "node-b/w0"], text


# ---- several brokers on one store (hot standby)

def test_a_broker_list_reaches_the_active_broker_and_says_which_answered(store_url, start_broker, scripted,
                                                                         capsys):
    rb = start_broker(store_url)
    standby, dead = scripted("standby"), scripted("silent")
    endpoints = f"{standby.endpoint},{dead.endpoint},{rb.clients}"
    assert main(["--broker", endpoints, "--once", "--json", "--timeout", "3"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["answered_by"] == rb.clients and stats["totals"]["raters"] == 0
    assert main(["--broker", endpoints, "--once", "--timeout", "3"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"answered by {rb.clients}"
    # Admin actions go to the active broker too.
    assert main(["--broker", f"{standby.endpoint},{rb.clients}", "admin", "pause"]) == 0
    assert rb.stats()["broker"]["paused"] is True
    assert len(standby.requests()) == 3 and len(dead.requests()) == 2


def test_no_active_broker_in_the_list_exits_3_naming_each(scripted, capsys):
    first, second = scripted("standby"), scripted("standby")
    assert main(["--broker", f"{first.endpoint},{second.endpoint}", "--once", "--timeout", "1"]) == 3
    err = capsys.readouterr().err
    assert f"broker at {first.endpoint} is not active" in err and f"broker at {second.endpoint} is not active" in err
    assert len(first.requests()) == 1 and len(second.requests()) == 1


@pytest.mark.parametrize("endpoints", ["tcp://127.0.0.1:7710,,tcp://127.0.0.1:7711",
                                       "tcp://127.0.0.1:7710,garbage"])
def test_a_malformed_entry_of_the_broker_list_is_a_usage_error(endpoints, capsys):
    assert main(["--broker", endpoints, "--once"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"zmq-monitor: --broker {endpoints}: ") and "Traceback" not in err
