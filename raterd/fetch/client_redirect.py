"""Redirects a page makes in the browser: ``<meta http-equiv="refresh">`` and a trivial script.

Many small shops' home pages are not the shop: the domain's root is an
empty page that sends the browser on, with ``<meta http-equiv="refresh"
content="0; url=/shop/">`` or a one-line ``window.location = "/shop/"``.
HTTP redirects are followed by the fetcher; these are found here, from the
page's text, and the rating pipeline (:mod:`raterd._rating`) follows them
for the home page only, within the same site and a few hops, as a browser
would.

What counts, so that a real page is never swapped for another one:

* a meta refresh with a URL other than the page's own and a delay of at
  most :data:`MAX_REFRESH_DELAY` seconds (a longer one is a slide show or
  an auto-reload, and the page itself is what the visitor reads);
* a script that assigns ``location``, ``location.href``, ``window.location``
  (and ``document.``/``self.``/``top.`` forms) a string literal, or calls
  ``location.replace("...")``/``location.assign("...")``, as a statement of
  its own (outside any ``{ }`` block: inside one it is a function or a
  condition, not what every visitor gets), on a page with almost no visible
  text (:data:`MAX_TRIVIAL_TEXT` characters): on a page with content such a
  line is usually a click handler, not the way in.

Pure text work (regular expressions over the first :data:`SCAN_CHARS`
characters), no parsing library: a redirect page is tiny, and a page that is
not one costs a few scans.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

__all__ = ["ClientRedirect", "client_redirect", "MAX_REFRESH_DELAY", "MAX_TRIVIAL_TEXT", "SCAN_CHARS"]

MAX_REFRESH_DELAY = 10.0
MAX_TRIVIAL_TEXT = 300
SCAN_CHARS = 64 * 1024

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_META = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_REFRESH = re.compile(r"""\s*(\d+(?:\.\d*)?)?\s*[;,]?\s*(?:url\s*=\s*)?(.*)\Z""", re.IGNORECASE | re.DOTALL)
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)(?:</script\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_STYLE = re.compile(r"<style\b[^>]*>.*?(?:</style\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_STRING = r"""(?:"([^"\\\n]{1,2000})"|'([^'\\\n]{1,2000})')"""
_LOCATION = r"(?:(?:window|document|self|top)\s*\.\s*)?location"
_JS_ASSIGN = re.compile(_LOCATION + r"(?:\s*\.\s*href)?\s*=(?!=)\s*" + _STRING)
_JS_CALL = re.compile(_LOCATION + r"\s*\.\s*(?:replace|assign)\s*\(\s*" + _STRING + r"\s*\)")
_SCRIPT_TYPES = ("", "text/javascript", "application/javascript", "module")


@dataclass(frozen=True, slots=True)
class ClientRedirect:
    """Where a page sends the browser: the absolute ``url``, ``how`` (``meta refresh`` or ``script``)."""

    url: str
    how: str


def _attributes(tag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, double, single, bare in _ATTRIBUTE.findall(tag):
        out.setdefault(name.lower(), html.unescape(double or single or bare))
    return out


def _absolute(target: str, base: str) -> str | None:
    """*target* made absolute against *base*; None unless it is another http(s) page."""
    text = target.strip().strip("'\"").strip()
    if not text:
        return None
    url = urljoin(base, text)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if url.split("#", 1)[0] == base.split("#", 1)[0]:
        return None  # a page refreshing itself goes nowhere
    return url


def _meta_refresh(text: str, base: str) -> str | None:
    for tag in _META.findall(text):
        attributes = _attributes(tag)
        if attributes.get("http-equiv", "").strip().lower() != "refresh":
            continue
        match = _REFRESH.match(attributes.get("content", ""))
        if match is None or not match.group(2).strip():
            continue
        delay = float(match.group(1)) if match.group(1) else 0.0
        if delay > MAX_REFRESH_DELAY:
            continue
        url = _absolute(match.group(2), base)
        if url is not None:
            return url
    return None


def _visible_characters(text: str) -> int:
    bare = _TAG.sub(" ", _STYLE.sub(" ", _SCRIPT.sub(" ", text)))
    return len("".join(html.unescape(bare).split()))


def _script_redirect(text: str, base: str) -> str | None:
    for attributes, code in _SCRIPT.findall(text):
        kind = _attributes(attributes).get("type", "").strip().lower()
        if kind not in _SCRIPT_TYPES or "src" in _attributes(attributes):
            continue
        for match in sorted([*_JS_CALL.finditer(code), *_JS_ASSIGN.finditer(code)], key=lambda m: m.start()):
            if _block_depth(code[:match.start()]) > 0:
                continue
            url = _absolute(match.group(1) or match.group(2), base)
            if url is not None:
                return url
    return None


def _block_depth(code: str) -> int:
    """How many ``{`` blocks are open at the end of *code* (string literals skipped, roughly)."""
    bare = re.sub(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'""", "", code)
    return bare.count("{") - bare.count("}")


def client_redirect(text: str, url: str) -> ClientRedirect | None:
    """The redirect the page at *url* makes in the browser, or None (see the module docstring)."""
    head = _COMMENT.sub(" ", text[:SCAN_CHARS])
    target = _meta_refresh(head, url)
    if target is not None:
        return ClientRedirect(target, "meta refresh")
    if "location" not in head or _visible_characters(head) > MAX_TRIVIAL_TEXT:
        return None
    target = _script_redirect(head, url)
    if target is not None:
        return ClientRedirect(target, "script")
    return None
