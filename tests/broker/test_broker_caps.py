"""A client key flooding the broker: it stays within its caps and keeps serving everybody else.

One frontend key sends RATE for 1,000,000 domains under 10,000 declared
client IPs, pipelined as fast as the broker takes them, against a real
broker process with CURVE keys. Checked: live jobs and IP queues never pass
their caps (in all and for the flooding key), the broker's RSS stays under
a stated bound, a second frontend key is answered with its jobs queued all
along, and every domain acknowledged as queued is in the store's queue.
"""

from __future__ import annotations

import time

import zmq

from protocol import Overload, RateReply, RateRequest, decode
from protocol.client import BrokerClient
from protocol.messages import JobState
from store import open_store
from tests.support.keys import broker_key_flags, lay_out_keys, peer_keys
from tests.support.processes import free_port, start_broker_process
from tests.support.waiting import stats_of

MAX_LIVE_JOBS = 50_000
MAX_QUEUES = 5_000
KEY_SHARE = 0.5
# The broker process's resident memory with its caps full (measured ~60 MB;
# without the caps the flood would queue a million jobs).
RSS_BOUND_MB = 200
IPS = 10_000
DOMAINS = 1_000_000
PER_REQUEST = 100          # the most one client IP may own (--max-per-ip): a bigger batch is refused whole
WINDOW = 200               # requests in flight from the flooder


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _keys(tmp_path):
    lay_out_keys(tmp_path, (("clients", "flood"), ("clients", "good"), ("raters", "node1"), ("admins", "ops")))
    return broker_key_flags(tmp_path), lambda name: peer_keys(tmp_path, name)


def _flood_requests():
    """(client_ip, domains): first one domain under each of the 10,000 IPs, then the rest in full batches."""
    n = 0
    for i in range(IPS):
        yield f"10.{i // 250}.{i % 250}.1", (f"flood{n}.com",)
        n += 1
    i = 0
    while n < DOMAINS:
        # 99: with the one from the first pass, the most one IP may own.
        batch = tuple(f"flood{k}.com" for k in range(n, min(DOMAINS, n + PER_REQUEST - 1)))
        yield f"10.{(i % IPS) // 250}.{(i % IPS) % 250}.1", batch
        n += len(batch)
        i += 1


def test_a_flooding_client_key_stays_within_the_caps(tmp_path):
    store_url = f"sqlite:///{tmp_path}/caps.db"
    flags, own = _keys(tmp_path)
    cport, rport = free_port(), free_port()
    broker = start_broker_process(store_url, tmp_path, cport, rport, *flags, "--max-live-jobs", str(MAX_LIVE_JOBS),
                                  "--max-queues", str(MAX_QUEUES), "--key-share", str(KEY_SHARE))
    ctx = zmq.Context()
    flooder = ctx.socket(zmq.DEALER)
    flooder.linger = 0
    own("flood").apply(flooder)
    flooder.connect(f"tcp://127.0.0.1:{cport}")
    good = BrokerClient(f"tcp://127.0.0.1:{cport}", timeout=10, connect_grace=3.0, curve=own("good"), context=ctx)
    acked: set[str] = set()
    replies = {"reply": 0, "overload": 0, "other": 0}
    good_served, max_rss, peak = 0, 0.0, {"live": 0, "ip_queues": 0}
    try:
        sent = answered = 0
        requests = _flood_requests()
        done = False
        deadline = time.monotonic() + 240
        while (not done or answered < sent) and time.monotonic() < deadline:
            while not done and sent - answered < WINDOW:
                try:
                    ip, domains = next(requests)
                except StopIteration:
                    done = True
                    break
                sent += 1
                flooder.send_multipart(RateRequest(req_id=sent, client_ip=ip, priority=1,
                                                   domains=domains).to_frames())
            if flooder.poll(5000):
                while True:
                    try:
                        msg = decode(flooder.recv_multipart(zmq.NOBLOCK))
                    except zmq.Again:
                        break
                    answered += 1
                    if isinstance(msg, RateReply):
                        replies["reply"] += 1
                        acked.update(it.domain for it in msg.items if it.state is JobState.QUEUED)
                    elif isinstance(msg, Overload):
                        replies["overload"] += 1
                    else:
                        replies["other"] += 1
            if answered and answered % 1000 < WINDOW and sent - answered < WINDOW:
                # Another frontend key, all along: its new work is still taken.
                reply = good.call(lambda i: RateRequest(req_id=i, client_ip="192.0.2.77", priority=1,
                                                        domains=(f"good{good_served}.com",)))
                assert isinstance(reply, RateReply), reply
                good_served += 1
                st = stats_of(good)
                for k in peak:
                    peak[k] = max(peak[k], st["totals"][k])
                max_rss = max(max_rss, _rss_mb(broker.popen.pid))
        assert done and answered == sent, f"flood not finished in time: {sent} sent, {answered} answered"
        st = stats_of(good)
        for k in peak:
            peak[k] = max(peak[k], st["totals"][k])
        max_rss = max(max_rss, _rss_mb(broker.popen.pid))
        counters = st["counters"]
        print(f"\nflood: {sent} requests, {replies}, {len(acked)} domains acknowledged; peak live jobs "
              f"{peak['live']}/{MAX_LIVE_JOBS}, peak IP queues {peak['ip_queues']}/{MAX_QUEUES}; broker RSS max "
              f"{max_rss:.0f} MB (bound {RSS_BOUND_MB}); other key served {good_served} times; overloads by cap: "
              f"{ {k: v for k, v in counters.items() if k.startswith('overload_')} }")
        assert replies["other"] == 0
        assert peak["live"] <= MAX_LIVE_JOBS and peak["ip_queues"] <= MAX_QUEUES
        # The flooding key filled its share and no more.
        assert len(acked) <= MAX_LIVE_JOBS * KEY_SHARE
        assert counters.get("overload_key_queues", 0) > 0 and counters.get("overload_key_jobs", 0) > 0
        assert max_rss < RSS_BOUND_MB
        assert good_served >= 10
        # Nothing acknowledged is lost: every queued domain has its row.
        with open_store(store_url) as s:
            queued = {q.domain for q in s.iter_queue()}
        assert acked <= queued, f"{len(acked - queued)} acknowledged domains not in the store's queue"
    finally:
        flooder.close()
        good.close()
        ctx.term()
        broker.stop()


def test_the_total_caps_hold_whoever_asks(tmp_path, start_broker):
    """Without keys (one local peer) the totals themselves bind: IP queues, then live jobs."""
    rb = start_broker(f"sqlite:///{tmp_path}/totals.db", max_live_jobs=260, max_queues=4)
    with rb.client() as c:
        kinds = [type(rb.rate(c, f"192.0.2.{n + 1}", [f"ip{n}-site{k}.com" for k in range(60)])).__name__
                 for n in range(4)]
        # A fifth IP finds no queue free, however little it asks.
        kinds += [type(rb.rate(c, "192.0.2.99", ["one-more.com"])).__name__]
        # An IP that has a queue may still add, up to the live-job total.
        kinds += [type(rb.rate(c, "192.0.2.1", [f"more{k}.com" for k in range(30)])).__name__,
                  type(rb.rate(c, "192.0.2.1", [f"more{k}.com" for k in range(20)])).__name__]
        st = rb.stats(c)
    assert kinds == ["RateReply"] * 4 + ["Overload", "Overload", "RateReply"], kinds
    assert st["totals"]["live"] == 260 and st["totals"]["ip_queues"] == 4
    assert st["counters"]["overload_queues"] == 1 and st["counters"]["overload_live_jobs"] == 1
