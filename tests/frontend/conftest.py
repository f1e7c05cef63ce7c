"""Frontend test fixtures (helpers live in tests/support/web.py).

* ``sqlite_url`` / ``seeded_sqlite``: a fresh SQLite store (seeded with known ratings);
* ``frontend_app(**overrides)`` builds a FrontendApp and closes it after the test;
* ``scripted_broker(answer)``: a scripted broker peer, stopped after the test;
* ``start_broker(store_url, **overrides)``: a real broker in a thread (as in the broker tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from frontend import FrontendApp, FrontendConfig, make_app
from tests.support.running_broker import start_broker  # noqa: F401  (pytest fixture)
from tests.support.web import ScriptedBroker, dead_endpoint, seed


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A fresh SQLite store URL (for tests whose subject is not the store back end)."""
    return f"sqlite:///{tmp_path}/frontend.db"


@pytest.fixture
def seeded_sqlite(sqlite_url) -> str:
    seed(sqlite_url)
    return sqlite_url


@pytest.fixture
def frontend_app():
    """``frontend_app(store=..., broker=..., **config)`` -> FrontendApp, closed afterwards."""
    apps: list[FrontendApp] = []

    def build(**overrides: Any) -> FrontendApp:
        overrides.setdefault("broker", dead_endpoint())
        overrides.setdefault("broker_timeout", 1.0)
        app = make_app(FrontendConfig(**overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.close()


@pytest.fixture
def scripted_broker():
    made: list[ScriptedBroker] = []

    def start(answer: Callable[[Any], Any]) -> ScriptedBroker:
        b = ScriptedBroker(answer)
        made.append(b)
        return b

    yield start
    for b in made:
        b.stop()
