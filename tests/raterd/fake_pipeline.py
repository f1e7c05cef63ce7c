"""A stand-in rating pipeline for tests of the raterd process machinery (tests only).

Loaded by workers through the documented test hook
``sitetruth-raterd --pipeline tests.raterd.fake_pipeline:factory`` where the
real :class:`raterd.pipeline.SitePipeline` is not what is being tested
(recycling, crashes, signals, broker restarts): it fetches nothing, so those
tests need no web sites and run fast.

What a rating does is chosen by the domain's first label, so one worker can
be given different behaviours job by job:

* ``slow<S>-...``  pulse every 0.2 s for S seconds, then answer Q;
* ``hang<S>-...``  sleep S seconds ignoring the deadline and without progress (a wedged rating);
* ``boom-...``     raise RuntimeError (rate() "raises only on bugs");
* ``grow<M>-...``  keep M MiB allocated for the rest of the process (memory ceiling tests);
* ``chatty<S>-...`` report progress in a tight loop for S seconds (thousands of reports);
* anything else    pulse twice over ``$SITETRUTH_FAKE_SLEEP`` seconds (default 0.05), answer Q.

``$SITETRUTH_FAKE_INIT``: ``fail`` makes building the pipeline raise (a
configuration error); ``exit:N`` exits the process with status N while
building it (a crash at start).

The evidence of every rating names the worker pid that produced it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from protocol.vocabulary import Rating, RatingInfo

_MODE = re.compile(r"^(slow|hang|boom|grow|chatty)(\d*)-")
_hoard: list[bytearray] = []


@dataclass(frozen=True)
class FakeOutcome:
    domain: str
    rating: Rating
    ratinginfo: RatingInfo
    location: dict[str, str] | None
    evidence: tuple[dict, ...]
    elapsed: float


class FakePipeline:
    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = dict(settings)
        self.closed = False

    def rate(self, domain: str, *, deadline: float | None = None,
             progress: Callable[[str, str, int, int], None] | None = None) -> FakeOutcome:
        started = time.monotonic()
        report = progress or (lambda *_: None)
        match = _MODE.match(domain)
        mode, arg = (match.group(1), float(match.group(2) or 1)) if match else ("ok", 0.0)
        if mode == "boom":
            raise RuntimeError(f"boom: fake pipeline bug while rating {domain}")
        if mode == "hang":
            time.sleep(arg)
        elif mode == "chatty":
            end, i = time.monotonic() + arg, 0
            while time.monotonic() < end:
                i += 1
                report("fetched", f"/p{i}", i, 0)
                if i % 100 == 0:
                    time.sleep(0.001)
        elif mode == "grow":
            _hoard.append(bytearray(int(arg * 1024 * 1024)))      # bytearray pages are touched: resident
            report("fetched", "/", 1, 1)
        else:
            seconds = arg if mode == "slow" else float(os.environ.get("SITETRUTH_FAKE_SLEEP", "0.05"))
            steps = max(2, int(seconds / 0.2))
            for i in range(1, steps + 1):
                time.sleep(seconds / steps)
                report("fetched", f"/page{i}", i, steps)
        return FakeOutcome(
            domain=domain, rating=Rating.Q, ratinginfo=RatingInfo.UNVERIFIED,
            location={"name": f"Owner of {domain}"},
            evidence=({"kind": "name", "value": f"Owner of {domain}", "page": "/", "source": "fake"},
                      {"kind": "rater", "value": str(os.getpid()), "source": "fake"}),
            elapsed=time.monotonic() - started)

    def close(self) -> None:
        self.closed = True


def factory(settings: Mapping[str, Any]) -> FakePipeline:
    init = os.environ.get("SITETRUTH_FAKE_INIT", "")
    if init == "fail":
        raise RuntimeError("fake pipeline: cannot open the sources index (SITETRUTH_FAKE_INIT=fail)")
    if init.startswith("exit:"):
        os._exit(int(init[5:]))
    return FakePipeline(settings)
