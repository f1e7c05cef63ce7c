"""A daemon's Prometheus endpoint: the ``--metrics HOST:PORT`` option and the server behind it.

``sitetruth-broker`` and ``sitetruth-raterd`` each serve ``/metrics`` on a
port of their own (the frontend serves it inside its HTTP app). Both parse
the option and run prometheus_client's HTTP server the same way, so that
lives here, below both: :func:`parse_listen` for the option's value and
:class:`MetricsEndpoint` for serving a registry from a daemon thread.
"""

from __future__ import annotations

import threading
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import start_http_server

from .errors import SiteTruthError

__all__ = ["MetricsError", "MetricsEndpoint", "parse_listen", "metrics_listen"]


class MetricsError(SiteTruthError, ValueError):
    """The metrics endpoint cannot be served (a malformed HOST:PORT, a port in use)."""


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9102`` for IPv6; port 0 = any free port) -> (host, port)."""
    host, sep, port = str(listen).rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise MetricsError("expected HOST:PORT, e.g. 127.0.0.1:9102")
    return host, int(port)


def metrics_listen(text: str) -> str:
    """The ``--metrics`` option's value checked (``""``: no endpoint); MetricsError if malformed."""
    text = str(text).strip()
    if text:
        parse_listen(text)
    return text


class MetricsEndpoint:
    """``/metrics`` of one registry, served from a daemon thread until :meth:`close`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.address = ""

    def serve(self, listen: str) -> str:
        """Start serving on *listen* (HOST:PORT); returns the address bound (port 0 picks one)."""
        try:
            host, port = parse_listen(listen)
        except MetricsError as e:
            raise MetricsError(f"--metrics {listen!r}: {e}") from None
        try:
            self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        except OSError as e:
            raise MetricsError(f"--metrics {listen}: cannot listen: {e.strerror or e}") from e
        bound_host, bound_port = self._server.server_address[:2]
        self.address = f"[{bound_host}]:{bound_port}" if ":" in bound_host else f"{bound_host}:{bound_port}"
        return self.address

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
