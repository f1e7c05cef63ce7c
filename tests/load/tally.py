"""After a load run: what the store holds, and how fairly the broker shared its raters.

Two questions, both answered from the store (the system of record), not
from what any process says about itself:

* **Nothing acknowledged was lost, nothing rated twice.** Every shop a
  client saw answered ``W``/202 must end with a rating; the triggers of the
  fault suite (:func:`tests.faults.harness.prepare_store`) record every
  rating write, so a second, different rating of one shop is seen too.

* **Fairness.** Every client asks for the same number of shops (D) at the
  same rate, and all of them are queued before rating begins, so every
  client is backlogged until its last shop is dispatched. Fair sharing then
  means: while a client is backlogged, it gets 1/N of the dispatches (N
  clients). Measured per client from the broker's dispatch order (the job
  ids the rater workers log, see :func:`dispatch_log`): between its first
  and its D-th dispatch the client got D - 1 of the S dispatches made, so
  its share is (D - 1) / S, and ``share x N`` is 1.0 when the sharing is
  exactly fair. A broker that served clients first-come-first-served would
  give the first client all its D shops in a row (share x N = N). Without
  the workers' log the order ratings were stored in (``rated_at``) stands
  in; it differs from the dispatch order by the jobs the raters hold at
  once and by any rating much slower than the others.
"""

from __future__ import annotations

import datetime
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from store import open_store

from .generator import Demand

__all__ = ["StoreTally", "Fairness", "count_store", "completion_order", "Dispatch", "dispatch_log", "fairness",
           "percentiles"]

_JOB_LINE = re.compile(r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*raterd\.worker: "
                       r"job (?P<epoch>\S+)-(?P<seq>\d+): rating (?P<domain>\S+) ")


@dataclass(frozen=True)
class StoreTally:
    acknowledged: int
    rated: int           # acknowledged shops with a rating
    lost: int            # acknowledged, not rated, not even queued
    still_queued: int    # acknowledged, not rated, still queued (the run did not drain)
    rated_twice: int     # shops with two different ratings written
    reasked_twice: int   # ... of which a client was told W/202 again after the first rating was stored
    rated_total: int     # ratings of the run's shops, acknowledged or not
    twice_examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fairness:
    clients: int                 # clients measured (all D shops rated)
    equal_share: float           # 1 / N
    relative: tuple[float, ...]  # share x N per measured client
    span_dispatches: float       # mean dispatches in a client's span

    @property
    def min(self) -> float:
        return min(self.relative) if self.relative else 0.0

    @property
    def max(self) -> float:
        return max(self.relative) if self.relative else 0.0

    @property
    def stddev(self) -> float:
        return statistics.pstdev(self.relative) if len(self.relative) > 1 else 0.0

    @property
    def spread(self) -> float:
        """Largest distance of any client's share from the equal share, as a fraction of it."""
        return max((abs(r - 1.0) for r in self.relative), default=0.0)


def _ratings_written_twice(store) -> dict[str, list[float]]:
    """Shops with more than one distinct rating written: their ``rated_at`` times, in order."""
    # The triggers' table is the load test's own; the Store has no API for it.
    def body(cur):
        cur.execute("SELECT domain, rated_at FROM rating_writes WHERE domain IN "
                    "(SELECT domain FROM rating_writes GROUP BY domain HAVING COUNT(DISTINCT rated_at) > 1)")
        return cur.fetchall()
    times: dict[str, set[float]] = {}
    for domain, at in store._run("count rating writes", body, write=False):
        times.setdefault(domain, set()).add(float(at))
    return {d: sorted(t) for d, t in times.items()}


def count_store(store_url: str, domains: Sequence[str], acked: Iterable[str],
                last_ack: dict[str, float] | None = None,
                dispatches: Sequence[Dispatch] = ()) -> tuple[StoreTally, dict[str, float]]:
    """The final count, and ``rated_at`` of the first rating of every rated shop of the run.

    A shop with two ratings was *asked for again after it was rated* when a
    client was answered W/202 for it after its first rating (``last_ack``)
    and, when the dispatch log is there, it was dispatched again after that
    rating too: a new job for a new request, not one acknowledgement rated
    twice (a job re-dispatched after a lost rater goes out before any
    rating of it exists).
    """
    acked, last_ack = set(acked), last_ack or {}
    sent_at: dict[str, list[float]] = {}
    for job in dispatches:
        sent_at.setdefault(job.domain, []).append(job.wall)
    with open_store(store_url) as s:
        ratings = s.lookup_ratings(domains)
        twice = _ratings_written_twice(s)
        queued = {j.domain for j in s.load_queue()}
    rated = set(ratings)
    reasked = {d for d, times in twice.items() if last_ack.get(d, 0.0) > times[0]
               and (not dispatches or any(at > times[0] for at in sent_at.get(d, ())))}
    examples = tuple(f"{d}: rated at +{0:.3f} and +{t[1] - t[0]:.3f} s, last W/202 at "
                     f"+{last_ack.get(d, t[0]) - t[0]:.3f} s" for d, t in sorted(twice.items())[:5])
    tally = StoreTally(acknowledged=len(acked), rated=len(acked & rated), lost=len(acked - rated - queued),
                       still_queued=len((acked & queued) - rated), rated_twice=len(twice),
                       reasked_twice=len(reasked), rated_total=len(rated), twice_examples=examples)
    first = {d: r.rated_at for d, r in ratings.items()}
    first.update({d: t[0] for d, t in twice.items() if d in first})
    return tally, first


@dataclass(frozen=True, order=True)
class Dispatch:
    seq: int          # the broker's sequence number in the job id
    domain: str
    wall: float       # when the worker took it (its log line's time, to the millisecond)


def dispatch_log(raterd_log: str) -> list[Dispatch]:
    """Every JOB the workers took, in the broker's dispatch order, from their DEBUG lines.

    Each JOB's id is ``<broker epoch>-<sequence>`` with one sequence per
    broker run, so sorting by it gives the broker's own order, whichever
    worker process wrote its line first. Empty when there are no such lines
    or the broker restarted (sequences of two runs do not compare).
    """
    jobs, epochs = [], set()
    with open(raterd_log, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = _JOB_LINE.search(line)
            if m:
                wall = datetime.datetime.strptime(m["at"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                jobs.append(Dispatch(int(m["seq"]), m["domain"], wall))
                epochs.add(m["epoch"])
    return sorted(jobs) if len(epochs) == 1 else []


def completion_order(rated_at: dict[str, float]) -> list[str]:
    """Domains in the order their (first) ratings were stored: dispatch order give or take
    the jobs the raters hold at once, and any rating much slower than the others."""
    return sorted(rated_at, key=lambda d: (rated_at[d], d))


def fairness(demand: Demand, order: Sequence[str]) -> Fairness:
    """Each client's share of the dispatches made while it was backlogged; see the module docstring.

    ``order``: domains in dispatch (or completion) order, a domain dispatched
    again appearing again. A client is measured from its first to its D-th
    dispatch.
    """
    places: dict[int, list[int]] = {}
    for n, domain in enumerate(order):
        try:
            places.setdefault(demand.owner(domain), []).append(n)
        except ValueError:
            continue
    d = demand.domains_per_ip
    relative, spans = [], []
    if d >= 2:
        for i in range(demand.ips):
            mine = places.get(i, [])
            if len(mine) < d:
                continue
            span = mine[d - 1] - mine[0]
            relative.append((d - 1) / span * demand.ips)
            spans.append(span)
    return Fairness(clients=len(relative), equal_share=1.0 / demand.ips, relative=tuple(relative),
                    span_dispatches=statistics.fmean(spans) if spans else 0.0)


def percentiles(values: list[float], points: Sequence[float] = (50, 90, 99)) -> dict[str, float]:
    """Nearest-rank percentiles and the maximum (empty input: zeros)."""
    ordered = sorted(values)
    out = {}
    for p in points:
        out[f"p{p:g}"] = ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))] \
            if ordered else 0.0
    out["max"] = ordered[-1] if ordered else 0.0
    return out
