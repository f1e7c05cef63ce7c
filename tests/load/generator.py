"""The load: API requests from many loopback client addresses, each IP with its own shops.

Demand (:class:`Demand`): client *i* is the loopback address
``127.0.(10 + i // 250).(1 + i % 250)`` and owns the shops
``shop<i>-0.com`` ... ``shop<i>-<D-1>.com``. Each of its requests asks for
all of its D shops at once (as the browser add-on asks for every result of a
search page) and, once it has an answer, asks again later (as the add-on
polls a ``W`` until it turns into a letter). Requests go round-robin over the
clients, so every client asks at the same rate: request *n* is client
``n % ips``'s round ``n // ips``. The first round queues everyone's shops;
later rounds are answered from the store once rated, or coalesce with the
queued job (``W``/202) until then.

The generator (:class:`LoadGenerator`) is lean so it is not the bottleneck
on two cores: threads with raw sockets, one HTTP/1.0 request per connection
(what the frontend's built-in server speaks), each socket bound to its
client's source address before it connects, so the frontend sees that
address as ``REMOTE_ADDR`` and the broker queues the work under it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Demand", "LoadGenerator", "LoadResult", "MAX_IPS"]

MAX_IPS = 246 * 250          # 127.0.10.1 ... 127.0.255.250
_MAX_REPLY = 1 << 20         # bytes read of one reply before it counts as an error
# Linux: let connect() pick the port for the (source, destination) pair
# instead of bind() reserving one per source address.
_IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


@dataclass(frozen=True)
class Demand:
    ips: int
    domains_per_ip: int
    requests: int

    def __post_init__(self) -> None:
        if not 1 <= self.ips <= MAX_IPS:
            raise ValueError(f"ips must be 1..{MAX_IPS}, not {self.ips}")
        if not 1 <= self.domains_per_ip <= 100:
            raise ValueError(f"domains per IP must be 1..100 (the API's url limit), not {self.domains_per_ip}")
        if self.requests < self.ips:
            raise ValueError(f"requests ({self.requests}) must be at least one per IP ({self.ips})")

    @staticmethod
    def ip(i: int) -> str:
        return f"127.0.{10 + i // 250}.{1 + i % 250}"

    def domains(self, i: int) -> tuple[str, ...]:
        return tuple(f"shop{i}-{k}.com" for k in range(self.domains_per_ip))

    def all_domains(self) -> list[str]:
        return [d for i in range(self.ips) for d in self.domains(i)]

    @staticmethod
    def owner(domain: str) -> int:
        """The client index a shop belongs to (``shop17-2.com`` -> 17)."""
        return int(domain.split("-", 1)[0][4:])

    def path(self, i: int) -> str:
        return "/api/v3/rate?" + "&".join(f"url={d}" for d in self.domains(i)) + "&format=json"


@dataclass
class LoadResult:
    """What the clients saw; merged from every thread at the end."""

    sent: int = 0
    latencies: list[float] = field(default_factory=list)      # seconds, every answered request
    outcomes: Counter = field(default_factory=Counter)         # "HTTP 200", "timeout", "connection refused"...
    items: Counter = field(default_factory=Counter)            # per url answer: "W/202", "letter", "U/200"...
    acked: set[str] = field(default_factory=set)               # domains answered W/202 (acknowledged)
    last_ack: dict[str, float] = field(default_factory=dict)   # domain -> wall time of its last W/202
    elapsed: float = 0.0
    cpu: float = 0.0                                           # this process's CPU seconds meanwhile

    def merge(self, other: LoadResult) -> None:
        self.sent += other.sent
        self.latencies.extend(other.latencies)
        self.outcomes.update(other.outcomes)
        self.items.update(other.items)
        self.acked |= other.acked
        for domain, at in other.last_ack.items():
            if at > self.last_ack.get(domain, 0.0):
                self.last_ack[domain] = at


def _error_kind(error: OSError) -> str:
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    return f"connection error ({type(error).__name__})"


class LoadGenerator:
    """Send ``demand.requests`` requests with ``concurrency`` threads, until done or ``deadline`` (monotonic)."""

    def __init__(self, port: int, demand: Demand, concurrency: int, deadline: float, timeout: float = 10.0) -> None:
        self.port = port
        self.demand = demand
        self.concurrency = concurrency
        self.deadline = deadline
        self.timeout = timeout
        self.first_round_done = threading.Event()   # every client's first request has finished
        self._lock = threading.Lock()
        self._next = 0
        self._first_round_left = demand.ips
        self._paths = [demand.path(i) for i in range(demand.ips)]
        self._results: list[LoadResult] = []

    @property
    def started(self) -> int:
        """Requests begun so far (for progress lines)."""
        return self._next

    def _take(self) -> int | None:
        with self._lock:
            if self._next >= self.demand.requests or time.monotonic() >= self.deadline:
                return None
            n = self._next
            self._next += 1
            return n

    def _first_round_answered(self) -> None:
        with self._lock:
            self._first_round_left -= 1
            if self._first_round_left == 0:
                self.first_round_done.set()

    def _one(self, i: int, result: LoadResult) -> None:
        request = (f"GET {self._paths[i]} HTTP/1.0\r\nHost: 127.0.0.1:{self.port}\r\n"
                   f"User-Agent: sitetruth-load\r\n\r\n").encode("ascii")
        started = time.perf_counter()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_IP, _IP_BIND_ADDRESS_NO_PORT, 1)
            sock.settimeout(self.timeout)
            sock.bind((self.demand.ip(i), 0))
            sock.connect(("127.0.0.1", self.port))
            sock.sendall(request)
            chunks, size = [], 0
            while size <= _MAX_REPLY:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError as e:
            result.outcomes[_error_kind(e)] += 1
            return
        finally:
            sock.close()
        result.latencies.append(time.perf_counter() - started)
        reply = b"".join(chunks)
        head, _, body = reply.partition(b"\r\n\r\n")
        try:
            status = int(head[9:12])
        except ValueError:
            result.outcomes["malformed reply"] += 1
            return
        result.outcomes[f"HTTP {status}"] += 1
        if status == 200:
            self._read_items(body, result)

    @staticmethod
    def _read_items(body: bytes, result: LoadResult) -> None:
        try:
            items = json.loads(body)
        except ValueError:
            result.items["unreadable body"] += 1
            return
        now = time.time()
        for item in items:
            rating, status = item.get("rating"), str(item.get("status"))
            if rating == "W" and status == "202":
                # W/202 is the broker's acknowledgement: the shop is new, so no
                # stored letter can stand in for it.
                result.items["W/202"] += 1
                domain = item.get("rated_domain") or item["domain"]
                result.acked.add(domain)
                result.last_ack[domain] = now
            elif rating in ("W", "U"):
                result.items[f"{rating}/{status}"] += 1
            else:
                result.items["letter"] += 1

    def _worker(self) -> None:
        result = LoadResult()
        while (n := self._take()) is not None:
            result.sent += 1
            self._one(n % self.demand.ips, result)
            if n < self.demand.ips:
                self._first_round_answered()
        with self._lock:
            self._results.append(result)

    def run(self) -> LoadResult:
        """Run to the end (bounded by ``deadline`` and each request's timeout); the merged result."""
        cpu0, t0 = time.process_time(), time.monotonic()
        threads = [threading.Thread(target=self._worker, name=f"load-{k}", daemon=True)
                   for k in range(self.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0.0, self.deadline - time.monotonic()) + self.timeout + 5)
        total = LoadResult()
        with self._lock:
            for r in self._results:
                total.merge(r)
        total.elapsed = time.monotonic() - t0
        total.cpu = time.process_time() - cpu0
        return total
