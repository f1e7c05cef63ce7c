"""The frontend for any WSGI server: ``gunicorn 'frontend.wsgi:application'``.

Configuration comes from the ``SITETRUTH_*`` environment variables (and a
TOML file named by ``SITETRUTH_CONFIG``), exactly as for
``sitetruth-frontend``; the server's own flags say where to listen::

    SITETRUTH_STORE=mysql://st:pw@db1/sitetruth SITETRUTH_BROKER=tcp://broker1:7710 \\
        gunicorn -w 4 --threads 8 -b 127.0.0.1:8080 'frontend.wsgi:application'

The configuration is read, and the store checked, when this module is
imported: a missing SQLite file or a database without the schema stops the
worker from booting (gunicorn then exits) with a one-line reason, instead
of serving W/202 for rated domains. ``SITETRUTH_ACCESS_LOG`` turns on the
access log (common log format) as for ``sitetruth-frontend --access-log``.
With ``SITETRUTH_CURVE_SECRET`` and ``SITETRUTH_BROKER_PUBLIC_KEY`` every
broker socket of every worker is a CURVE client of the broker; key files
that cannot be used (one without the other, a secret file others can read)
stop the boot the same way, with the file named. ``SITETRUTH_HEAD_TIMEOUT``
is for the built-in servers only: under gunicorn its own ``--timeout`` and
the proxy in front bound slow clients.

The application is built on its first request, inside the worker process,
so nothing that cannot cross ``fork`` (ZeroMQ contexts, database
connections) exists before the server forks, ``--preload`` or not (the
start-up check closes its connection). Each
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

from .config import FrontendConfig

__all__ = ["application", "create_app", "load_config"]


def load_config() -> FrontendConfig:
    """The checked configuration from ``SITETRUTH_*`` (no command line is read), store included.

    Raises FrontendConfigError for a configuration or store the frontend cannot serve with.
    """
    from .cli import build_parser, check_store, config_from_args

    config = config_from_args(parse_args(build_parser(), []))
    check_store(config)
    return config


def create_app(config: FrontendConfig | None = None) -> Any:
    """The WSGI application for ``config`` (default: from the environment), behind the access log if set."""
    from .app import make_app
    from .cli import wrap_access_log

    config = config or load_config()
    return wrap_access_log(make_app(config), config)


class _LazyApplication:
    def __init__(self, config: FrontendConfig) -> None:
        self._config = config
        self._app: Any = None
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        app = self._app
        if app is None:
            with self._lock:
                if self._app is None:
                    self._app = create_app(self._config)
                app = self._app
        return app(environ, start_response)


application = _LazyApplication(load_config())
