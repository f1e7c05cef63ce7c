"""A worker with several brokers on one store (hot standby) follows the active one.

Real worker processes (``python -m raterd.worker``, fake pipeline) against
two scripted ROUTER sockets on loopback, each playing a broker's rater
socket: ``standby`` answers anything ``Disconnect("not active: ...",
reregister=False)``; ``active`` registers a READY, answers heartbeats,
keeps what raters send and can hand out a job; ``silent`` reads and never
answers (a dead host).
"""

from __future__ import annotations

import queue
import threading
import time

import pytest
import zmq

from protocol import Disconnect, Heartbeat, Job, Ready, Result, decode
from raterd.worker import WorkerConfig
from tests.raterd.raterd_harness import (  # noqa: F401  (pytest fixtures)
    FAKE,
    brokers,
    rated_by,
    raterd,
    store,
    stored_ratings,
    submit,
    wait_until,
)

pytestmark = pytest.mark.timeout(60)


class ScriptedRaterSocket:
    """One broker's rater socket, scripted; ``received`` holds (monotonic time, identity, message)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.received: list[tuple[float, bytes, object]] = []
        self.registered: set[bytes] = set()
        self._lock = threading.Lock()
        self._outgoing: queue.SimpleQueue = queue.SimpleQueue()
        self._context = zmq.Context()
        self._sock = self._context.socket(zmq.ROUTER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self.endpoint = f"tcp://127.0.0.1:{self._sock.bind_to_random_port('tcp://127.0.0.1')}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def set_mode(self, mode: str) -> None:
        with self._lock:
            self.mode = mode
            self.registered.clear()     # a broker that (re)starts serving knows nobody yet

    def send_job(self, identity: bytes, job: Job) -> None:
        self._outgoing.put((identity, job))

    def messages(self, kind: type) -> list[tuple[float, bytes, object]]:
        with self._lock:
            return [entry for entry in self.received if isinstance(entry[2], kind)]

    def _serve(self) -> None:
        while not self._stop.is_set():
            while not self._outgoing.empty():
                identity, msg = self._outgoing.get()
                self._sock.send_multipart([identity, *msg.to_frames()])
            if not self._sock.poll(20):
                continue
            identity, *frames = self._sock.recv_multipart()
            msg = decode(frames)
            with self._lock:
                self.received.append((time.monotonic(), identity, msg))
                reply = self._answer(identity, msg)
            if reply is not None:
                self._sock.send_multipart([identity, *reply.to_frames()])
        self._sock.close(linger=0)
        self._context.term()

    def _answer(self, identity: bytes, msg: object):
        if self.mode == "silent":
            return None
        if self.mode == "standby":
            return Disconnect(reason="not active: another broker holds the store", reregister=False)
        if isinstance(msg, Ready):
            self.registered.add(identity)
            return Heartbeat()
        if isinstance(msg, Heartbeat):
            if identity not in self.registered:
                return Disconnect(reason="unknown rater: send READY", reregister=True)
            return Heartbeat()
        return None     # PULSE, RESULT, FAILED: kept in `received`

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture
def scripted():
    made: list[ScriptedRaterSocket] = []

    def make(mode: str) -> ScriptedRaterSocket:
        peer = ScriptedRaterSocket(mode)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.close()


def _config(*endpoints: str, **overrides) -> WorkerConfig:
    settings = {"broker": ",".join(endpoints), "name": "f1", "pipeline": FAKE, "nice": None, "max_jobs": 0,
                "heartbeat": 0.25, "liveness": 1.0, "reconnect_max": 0.5, **overrides}
    return WorkerConfig(**settings)


def _registered_with(peer: ScriptedRaterSocket, since: float = 0.0) -> bool:
    """The worker said READY here after ``since`` and has been heartbeating since."""
    readies = [t for t, _, _ in peer.messages(Ready) if t >= since]
    return bool(readies) and any(t > readies[-1] for t, _, _ in peer.messages(Heartbeat))


def test_the_worker_registers_with_the_active_broker_and_follows_it_back(scripted, raterd):
    first, second = scripted("standby"), scripted("active")
    worker = raterd.worker(_config(first.endpoint, second.endpoint))
    wait_until(lambda: _registered_with(second), 15, "the worker to register with the second broker")
    assert first.messages(Ready), "the worker should have tried the first broker first"
    asked_first = len(first.received)
    time.sleep(1.0)
    # Registered: it stays with the active broker, the standby hears no more.
    assert len(first.received) == asked_first
    # The second goes silent; the first becomes active: the worker returns to it.
    switched = time.monotonic()
    second.set_mode("silent")
    first.set_mode("active")
    wait_until(lambda: _registered_with(first, switched), 15, "the worker to register with the first broker")
    identity = first.messages(Ready)[-1][1]
    assert identity in first.registered
    output = worker.output()
    assert f"registered with the broker at {second.endpoint}" in output
    assert f"registered with the broker at {first.endpoint}" in output
    assert "not active" in output


def test_a_job_in_progress_when_its_broker_dies_is_delivered_to_the_new_active_broker(scripted, raterd):
    """The rating is finished; its RESULT goes to the broker the worker registered with afterwards."""
    first, second = scripted("standby"), scripted("active")
    raterd.worker(_config(first.endpoint, second.endpoint))
    wait_until(lambda: _registered_with(second), 15, "the worker to register with the second broker")
    identity = second.messages(Ready)[-1][1]
    second.send_job(identity, Job(job_id="job-77", domain="slow6-failover.com", attempt=1, lease=30, deadline=30))
    wait_until(lambda: len([m for _, _, m in second.received if type(m).__name__ == "Pulse"]) >= 2, 10,
               "the job to be under way")
    # The second broker dies mid-job; the first takes over.
    switched = time.monotonic()
    second.set_mode("silent")
    first.set_mode("active")
    wait_until(lambda: first.messages(Result), 20, "the result at the new active broker")
    (delivered, _, result), = first.messages(Result)
    assert (result.job_id, result.domain) == ("job-77", "slow6-failover.com")
    readies = [t for t, _, _ in first.messages(Ready) if t >= switched]
    assert readies and readies[0] < delivered, "the result went out before the worker was registered"
    assert not second.messages(Result), "the result went to the dead broker"


def test_a_list_of_standbys_is_walked_at_the_backoff_pace_not_spun_on(scripted, raterd):
    first, second = scripted("standby"), scripted("standby")
    raterd.worker(_config(first.endpoint, second.endpoint))
    wait_until(lambda: first.messages(Ready) and second.messages(Ready), 15, "READY at both standbys")
    time.sleep(3.0)
    asked = len(first.received) + len(second.received)
    # reconnect_max 0.5 s: at most a few READYs a second in all, not hundreds.
    assert asked <= 3.0 / 0.25 + 6, f"{asked} messages to two standbys in about 3 s"
    # And one becoming active is found.
    second.set_mode("active")
    wait_until(lambda: _registered_with(second), 15, "the worker to register once a broker is active")


def test_a_malformed_broker_list_stops_the_worker_with_a_config_error(raterd):
    worker = raterd.worker(_config("tcp://127.0.0.1:1", "tcp://127.0.0.1:1"))
    assert worker.wait(15) == 78
    assert "listed twice" in worker.output()


def test_a_node_pointed_at_a_standby_and_a_real_broker_rates_through_the_real_one(scripted, store, brokers, raterd):
    """sitetruth-raterd --broker STANDBY,BROKER: every worker ends up registered with the real broker and rates."""
    standby = scripted("standby")
    rb = brokers(store)
    node = raterd(f"{standby.endpoint},{rb.raters}", "--workers", "2", "--heartbeat", "0.25",
                  "--reconnect-max", "0.5", "--nice", "0")
    rb.wait_for(lambda s: s["totals"]["raters"] == 2, 20, "both workers to register with the real broker")
    assert standby.messages(Ready), "the workers should have tried the standby first"
    submit(rb, ["failover-node-a.com", "failover-node-b.com"])
    rb.wait_for(lambda s: s["totals"]["live"] == 0, 20, "the jobs to be rated")
    ratings = stored_ratings(store, ["failover-node-a.com", "failover-node-b.com"])
    assert {rated_by(r) for r in ratings.values()} <= set(node.workers())


def test_with_one_endpoint_a_standby_is_asked_again_until_it_becomes_active(scripted, raterd):
    only = scripted("standby")
    worker = raterd.worker(_config(only.endpoint))
    wait_until(lambda: len(only.messages(Ready)) >= 2, 15, "READY to be repeated at the standby")
    became_active = time.monotonic()
    only.set_mode("active")
    wait_until(lambda: _registered_with(only, became_active), 15, "the worker to register once it is active")
    assert "moving to the next broker" not in worker.output()
