"""A second rater host joins the pool with no other change (the benchmark's short run)."""

from __future__ import annotations

import pytest

from tests.multihost.rig import rig_available

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.timeout(400)]


def test_two_rater_hosts_rate_everything_the_benchmark_asks(tmp_path, make_rig):
    # make_rig only checks (and in CI insists) that the rig can be built here.
    assert rig_available() is None
    import scripts.bench_multihost as bench  # noqa: PLC0415 (script module, imported on use)

    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = bench.run_layout(1, 6, 2, 0.5, str(tmp_path / "one"))
    two = bench.run_layout(2, 6, 2, 0.5, str(tmp_path / "two"))
    print(f"one host {one['ratings_per_min']}/min, two hosts {two['ratings_per_min']}/min")
    for layout in (one, two):
        assert sum(layout["letters"].values()) == 6, layout
        assert set(layout["letters"]) <= set("AQX"), layout
