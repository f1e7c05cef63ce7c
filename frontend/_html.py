"""Small HTML helpers shared by the frontend's pages: escaping, the page frame, times.

Every value that reaches a page goes through :func:`esc` (``html.escape``
with quotes), so text from a rated site, a client or the error log can never
become markup. Pages load their CSS and script from ``/static/`` so the
Content-Security-Policy can forbid inline code altogether.
"""

from __future__ import annotations

import html
import time

__all__ = ["esc", "page", "fmt_time", "safe_href", "CSP", "HTML_TYPE"]

HTML_TYPE = "text/html; charset=utf-8"
# No inline script or style anywhere; the favicon is an inline data: URL so
# browsers don't ask for /favicon.ico (a 404 there is a console error).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self' data:; base-uri 'none'; form-action 'none'")


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def fmt_time(epoch: object) -> str:
    """``2026-11-01 12:34:56Z`` (UTC); "" for anything that is not a time. The status script does the same."""
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)) or epoch <= 0:
        return ""
    try:
        return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(epoch))
    except (OverflowError, OSError, ValueError):
        return ""


def safe_href(url: object) -> str | None:
    """``url`` if it is a plain http(s) URL we may link to, else None (shown as text)."""
    if not isinstance(url, str) or len(url) > 2000:
        return None
    lower = url.lower()
    if lower.startswith(("http://", "https://")) and not any(c in url for c in "\"'<> \t\r\n"):
        return url
    return None


def page(title: str, body: str, *, base: str = "", script: str | None = None, body_class: str = "") -> bytes:
    """A complete HTML5 document. ``body`` is already-escaped HTML; ``base`` is the app's SCRIPT_NAME.

    ``data-base`` on ``<body>`` tells the status script where the app is mounted.
    """
    scripts = f'<script src="{esc(base)}/static/{esc(script)}" defer></script>' if script else ""
    klass = f' class="{esc(body_class)}"' if body_class else ""
    klass += f' data-base="{esc(base)}"'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title>"
        '<link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="{esc(base)}/static/frontend.css">{scripts}'
        f"</head><body{klass}>{body}</body></html>\n"
    ).encode()
