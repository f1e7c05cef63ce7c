"""The frontend for any WSGI server: ``gunicorn 'frontend.wsgi:application'``.

Configuration comes from the ``SITETRUTH_*`` environment variables (and a
TOML file named by ``SITETRUTH_CONFIG``), exactly as for
``sitetruth-frontend``; the server's own flags say where to listen::

    SITETRUTH_STORE=mysql://st:pw@db1/sitetruth SITETRUTH_BROKER=tcp://broker1:7710 \\
        gunicorn -w 4 --threads 8 -b 127.0.0.1:8080 'frontend.wsgi:application'

The application is built on its first request, inside the worker process,
so nothing that cannot cross ``fork`` (ZeroMQ contexts, database
connections) exists before the server forks, ``--preload`` or not. Each
worker thread gets its own broker socket and store connection. Worker
counts: the frontend mostly waits on the store, so threads (``--threads``,
the gthread worker) are cheap; processes add CPU. See
:mod:`frontend.metrics` for the multi-process caveat of ``/metrics``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from protocol.config import parse_args

from .app import FrontendApp, make_app

__all__ = ["application", "create_app"]


def create_app() -> FrontendApp:
    """A FrontendApp configured from ``SITETRUTH_*`` (no command line is read)."""
    from .cli import build_parser, config_from_args

    return make_app(config_from_args(parse_args(build_parser(), [])))


class _LazyApplication:
    def __init__(self) -> None:
        self._app: FrontendApp | None = None
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        app = self._app
        if app is None:
            with self._lock:
                if self._app is None:
                    self._app = create_app()
                app = self._app
        return app(environ, start_response)


application = _LazyApplication()
