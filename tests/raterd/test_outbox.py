"""The worker's outbox of job outcomes: order kept, a failed send stops the flush, old outcomes dropped."""

from __future__ import annotations

from raterd._outbox import Outbox


def test_outcomes_go_out_in_order_and_wait_while_sends_fail():
    box = Outbox(ttl=60)
    box.keep([b"first"], now=0)
    box.keep([b"second"], now=1)
    sent: list[bytes] = []
    box.flush(2, lambda frames: False)
    assert len(box) == 2 and sent == []
    box.flush(3, lambda frames: sent.append(frames[0]) or True)
    assert sent == [b"first", b"second"] and not box


def test_an_outcome_past_its_time_is_dropped_not_sent(caplog):
    box = Outbox(ttl=10)
    box.keep([b"old"], now=0)
    box.keep([b"new"], now=5)
    sent: list[bytes] = []
    box.flush(12, lambda frames: sent.append(frames[0]) or True)
    assert sent == [b"new"]
    assert "dropped" in caplog.text


def test_the_outbox_is_bounded():
    box = Outbox(ttl=60, size=3)
    for i in range(5):
        box.keep([str(i).encode()], now=0)
    sent: list[bytes] = []
    box.flush(1, lambda frames: sent.append(frames[0]) or True)
    assert sent == [b"2", b"3", b"4"]
