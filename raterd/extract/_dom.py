"""Tolerant HTML parsing and the page's visible text, shared by every extractor.

Pages come from strangers: empty, binary, mis-declared, 1 MB of nested
``<div>``. :func:`parse_html` always returns a usable element (an empty
document at worst) and :func:`visible_text` walks the tree without recursion,
so neither raises or blows the stack on hostile input.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata

import lxml.html
from lxml import etree

__all__ = ["parse_html", "visible_text", "text_lines", "fold", "fold_keep", "MAX_HTML_CHARS", "MAX_TEXT_CHARS"]

log = logging.getLogger(__name__)

# The fetcher caps pages at about 1 MB; this is a second fence for callers that don't.
MAX_HTML_CHARS = 2_000_000
# Extractors scan the text with regular expressions; bound the work per page.
MAX_TEXT_CHARS = 400_000

_local = threading.local()  # lxml parser objects must not be shared between threads


def _parser() -> lxml.html.HTMLParser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        # Input is always handed over as UTF-8 bytes, so the parser must not
        # believe a <meta charset> or <?xml encoding?> inside the page.
        parser = lxml.html.HTMLParser(
            encoding="utf-8", recover=True, remove_comments=True, remove_pis=True, no_network=True
        )
        _local.parser = parser
    return parser


def _empty_document(url: str) -> etree._Element:
    return lxml.html.document_fromstring(b"<html><head></head><body></body></html>", parser=_parser(),
                                         base_url=url or None)


def parse_html(text: str, url: str = "") -> etree._Element:
    """Parse a page into an lxml.html document; garbage gives an empty document, never an exception."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    if not isinstance(text, str):
        text = ""
    text = text[:MAX_HTML_CHARS].replace("\x00", "")
    # "replace" turns lone surrogates (from lenient decoders) into '?' instead of failing.
    data = text.encode("utf-8", "replace")
    if not data.strip():
        return _empty_document(url)
    try:
        doc = lxml.html.document_fromstring(data, parser=_parser(), base_url=url or None)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError, TypeError) as exc:
        log.debug("unparseable page %s: %s", url, exc)
        return _empty_document(url)
    if doc is None or not isinstance(doc.tag, str):
        return _empty_document(url)
    return doc


# Elements whose content a visitor never reads as page text.
_SKIP = frozenset({
    "script", "style", "noscript", "template", "head", "title", "svg", "math", "iframe", "object",
    "embed", "canvas", "select", "textarea", "datalist", "map", "audio", "video",
})
# Elements that start a new line of text.
_BLOCK = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd", "details",
    "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hr", "html", "legend", "li", "main", "menu", "nav", "ol",
    "option", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "ul", "button",
})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_INVISIBLE_CHARS = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def _hidden(el: etree._Element) -> bool:
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    style = el.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def visible_text(doc: etree._Element, limit: int = MAX_TEXT_CHARS) -> str:
    """The text a visitor sees: no script/style/noscript/template/head; block elements become newlines.

    Whitespace inside a line is collapsed and empty lines are dropped, so each
    line is one visual line or block of the page.
    """
    if doc is None:
        return ""
    parts: list[str] = []
    size = 0
    stack: list[tuple[etree._Element, bool]] = [(doc, False)]
    while stack and size < limit:
        el, closing = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else None
        if closing:
            if tag in _BLOCK:
                parts.append("\n")
            if el.tail and el is not doc:
                parts.append(el.tail)
                size += len(el.tail)
            continue
        if tag is None or tag.lower() in _SKIP or _hidden(el):
            if el.tail and el is not doc:
                parts.append(el.tail)
                size += len(el.tail)
            continue
        if tag.lower() in _BLOCK:
            parts.append("\n")
        if el.text:
            parts.append(el.text)
            size += len(el.text)
        stack.append((el, True))
        stack.extend((child, False) for child in reversed(el))
    raw = "".join(parts)[:limit].translate(_INVISIBLE_CHARS)
    lines = (" ".join(line.split()) for line in raw.splitlines())
    return "\n".join(line for line in lines if line)


def text_lines(text: str, max_line: int = 600) -> list[str]:
    """Non-empty lines of visible text, each cut to ``max_line`` chars so regexes stay cheap."""
    return [line[:max_line] for line in text.split("\n") if line.strip()]


def fold(text: str) -> str:
    """Accent-, case- and punctuation-blind form for keyword matching: ``Über-Uns!`` -> ``uber uns``."""
    text = unicodedata.normalize("NFKD", text.replace("ß", "ss").replace("ẞ", "ss"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def fold_keep(text: str) -> str:
    """Lower-case, accent-free copy of ``text`` with the same length, so match offsets map back."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch)[:1] or ch
        low = base.lower()
        out.append(low if len(low) == 1 else base)
    return "".join(out)
