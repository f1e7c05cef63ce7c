"""The multi-host rig's fixtures: root and iproute2 required; never skipped in CI."""

from __future__ import annotations

import os

import pytest

from .rig import Rig, rig_available


@pytest.fixture
def make_rig(tmp_path):
    reason = rig_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and {reason}: the multi-host tests must run in CI")
        pytest.skip(reason)
    rigs: list[Rig] = []

    def make(names: list[str]) -> Rig:
        rig = Rig(names, str(tmp_path))
        rig.__enter__()
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()
