"""The SiteTruth frontend: API v3 over HTTP and FastCGI, rating details, status pages, metrics.

Where it sits: clients (browser add-ons) ask it for ratings; it answers
from an in-process cache and the store (a read replica is welcome) and
sends only the domains it has no current rating for to the broker, over
ZeroMQ, in one request per HTTP request. It never waits on rating work.
``frontend`` imports ``protocol`` and ``store`` only: the broker is reached
over the wire.

Serving it::

    sitetruth-frontend --listen 127.0.0.1:8080            # built-in threaded HTTP server
    sitetruth-frontend --fastcgi /run/sitetruth/fcgi.sock  # FastCGI behind nginx/Apache
    gunicorn -w 4 'frontend.wsgi:application'              # any WSGI server (config from SITETRUTH_*)

In Python::

    from frontend import FrontendConfig, make_app
    app = make_app(FrontendConfig(store="sqlite:///./sitetruth.db", broker="tcp://127.0.0.1:7710"))
"""

from .app import API_PATHS, FrontendApp, make_app
from .cache import TTLCache
from .clientip import ClientIPResolver, parse_ip
from .config import FrontendConfig, load_keys
from .errors import FastCGIError, FrontendConfigError, FrontendError, HTTPError
from .fastcgi import FastCGIServer
from .httpserver import HTTPServer
from .query import RateQuery, parse_rate_query
from .render import NAMESPACE, Item, render_json, render_xml

__all__ = [
    "make_app",
    "FrontendApp",
    "FrontendConfig",
    "load_keys",
    "API_PATHS",
    "NAMESPACE",
    "Item",
    "render_xml",
    "render_json",
    "RateQuery",
    "parse_rate_query",
    "TTLCache",
    "ClientIPResolver",
    "parse_ip",
    "HTTPServer",
    "FastCGIServer",
    "FrontendError",
    "HTTPError",
    "FrontendConfigError",
    "FastCGIError",
]
