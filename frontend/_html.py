"""The frontend's pages are Jinja2 templates (``frontend/templates/``); this module renders them.

Where it sits: :mod:`frontend.pages` and :mod:`frontend.status` gather plain
data (strings, numbers, dicts; never markup) and call :func:`render` with a
template name. Escaping holds by construction:

* the environment autoescapes every ``{{ value }}`` in every template, so
  text from a rated site, a client or the error log can never become markup;
* no Python code here or in the page modules builds HTML: there is no
  ``Markup`` outside Jinja2 itself, so a pre-escaped fragment cannot be
  mixed up with raw text (a string is always escaped once, by the template);
* ``StrictUndefined`` turns a misspelt variable into an error in the tests
  instead of an empty cell on a page.

Pages load their CSS and script from ``/static/`` so the
Content-Security-Policy can forbid inline code altogether.

The templates are package data; they are found next to this file, which
works from a source tree, an editable install and a wheel alike.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import jinja2

__all__ = ["render", "fmt_time", "fmt_duration", "fmt_rate", "fmt_percent", "safe_href", "CSP", "HTML_TYPE", "TEMPLATES"]

HTML_TYPE = "text/html; charset=utf-8"
# No inline script or style anywhere; the favicon is an inline data: URL so
# browsers don't ask for /favicon.ico (a 404 there is a console error).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self' data:; base-uri 'none'; form-action 'none'")
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")


def fmt_time(epoch: object) -> str:
    """``2026-11-01 12:34:56Z`` (UTC); "" for anything that is not a time. The status script does the same."""
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)) or epoch <= 0:
        return ""
    try:
        return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(epoch))
    except (OverflowError, OSError, ValueError):
        return ""


def fmt_duration(seconds: object) -> str:
    """A length of time as a person says it: ``0.4 s``, ``42 s``, ``3 min 5 s``, ``2 h 14 min``, ``3 d 4 h``.

    Two units at most (the smaller one dropped when zero); "" for anything
    that is not a non-negative number. ``status.js`` has the same function.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
            or seconds < 0:
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    total = int(seconds)
    for big, big_name, small, small_name in ((86400, "d", 3600, "h"), (3600, "h", 60, "min"),
                                             (60, "min", 1, "s")):
        if total >= big:
            rest = (total % big) // small
            return f"{total // big} {big_name}" + (f" {rest} {small_name}" if rest else "")
    return f"{total} s"


def fmt_rate(per_minute: object) -> str:
    """``12 / min`` (one decimal below 10); "" for anything that is not a number. Same in ``status.js``."""
    if isinstance(per_minute, bool) or not isinstance(per_minute, (int, float)) or not math.isfinite(per_minute):
        return ""
    text = f"{per_minute:.1f}".removesuffix(".0") if per_minute < 10 else f"{per_minute:.0f}"
    return f"{text} / min"


def fmt_percent(ratio: object) -> str:
    """``87.5 %`` for 0.875; "" for anything that is not a number. Same in ``status.js``."""
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not math.isfinite(ratio):
        return ""
    return f"{ratio * 100:.1f} %"


def safe_href(url: object) -> str | None:
    """``url`` if it is a plain http(s) URL we may link to, else None (shown as text)."""
    if not isinstance(url, str) or len(url) > 2000:
        return None
    lower = url.lower()
    if lower.startswith(("http://", "https://")) and not any(c in url for c in "\"'<> \t\r\n"):
        return url
    return None


_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # every template, whatever its name
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(time=fmt_time, duration=fmt_duration, rate=fmt_rate, percent=fmt_percent, href=safe_href)


def render(template: str, **context: Any) -> bytes:
    """The page ``template`` filled with ``context`` (plain data only), as UTF-8 bytes.

    ``base`` (the app's SCRIPT_NAME) defaults to "" so every template may use it.
    """
    context.setdefault("base", "")
    return _ENV.get_template(template).render(**context).encode("utf-8")
