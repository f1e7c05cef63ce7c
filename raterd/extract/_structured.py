"""schema.org structured data in a page: JSON-LD blocks and microdata items, flattened.

The organisation, address and commerce extractors all read the same
structured data, so :func:`read_structured` parses it once per page into a
list of typed nodes that each extractor filters by type. Everything is
bounded (blocks, bytes, nodes, depth) because the input is a stranger's page.
"""

from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

__all__ = ["Node", "Structured", "read_structured", "short_type", "text_value"]

log = logging.getLogger(__name__)

MAX_JSONLD_BLOCKS = 30
MAX_JSONLD_CHARS = 300_000
MAX_NODES = 600
MAX_DEPTH = 12
MAX_MICRODATA_ITEMS = 300


@dataclass(slots=True)
class Node:
    """One typed schema.org thing.

    ``parent_key`` is the property it hangs from (``""`` at the top level or
    in ``@graph``; ``publisher``, ``brand``, ``address``...), which tells a
    site's own organisation apart from a product's brand or a review's author.
    ``props`` maps property names to lists of values (str or Node).
    """

    types: tuple[str, ...]
    props: dict[str, list[Any]]
    parent_key: str
    source: str  # "jsonld" | "microdata"

    def first_text(self, *names: str) -> str:
        for name in names:
            for value in self.props.get(name, ()):
                text = text_value(value)
                if text:
                    return text
        return ""

    def children(self, name: str) -> list["Node"]:
        return [v for v in self.props.get(name, ()) if isinstance(v, Node)]


@dataclass(slots=True)
class Structured:
    nodes: list[Node] = field(default_factory=list)

    def of_type(self, wanted: set[str] | frozenset[str]) -> list[Node]:
        return [n for n in self.nodes if any(t in wanted for t in n.types)]


def short_type(value: str) -> str:
    """``http://schema.org/Organization`` / ``schema:Store`` -> ``Organization`` / ``Store``."""
    value = value.strip()
    for sep in ("/", "#", ":"):
        if sep in value:
            value = value.rsplit(sep, 1)[-1]
    return value


def text_value(value: Any) -> str:
    """The human text of a JSON-LD / microdata value, whitespace collapsed; ``""`` if none."""
    if isinstance(value, Node):
        return value.first_text("name")
    if isinstance(value, dict):
        value = value.get("@value", value.get("name", ""))
    if isinstance(value, list):
        for item in value:
            text = text_value(item)
            if text:
                return text
        return ""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        return ""
    return " ".join(html.unescape(value).split())[:500]


def read_structured(doc: etree._Element) -> Structured:
    """All JSON-LD and microdata nodes of a parsed page. Never raises on bad data."""
    out = Structured()
    try:
        _read_jsonld(doc, out)
    except (RecursionError, ValueError, TypeError) as exc:  # hostile nesting or odd types: keep what we have
        log.debug("JSON-LD skipped: %s", exc)
    try:
        _read_microdata(doc, out)
    except (RecursionError, ValueError, TypeError) as exc:
        log.debug("microdata skipped: %s", exc)
    return out


# -- JSON-LD -----------------------------------------------------------------------

_WRAPPER = re.compile(r"^\s*(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)\s*$")


def _jsonld_blocks(doc: etree._Element) -> list[Any]:
    blocks = []
    for script in doc.iter("script"):
        kind = (script.get("type") or "").split(";")[0].strip().lower()
        if kind != "application/ld+json":
            continue
        text = (script.text or "")[:MAX_JSONLD_CHARS]
        text = _WRAPPER.sub("", text).strip().rstrip(";")
        if not text:
            continue
        try:
            blocks.append(json.loads(text, strict=False))
        except ValueError:
            log.debug("unreadable JSON-LD block (%d chars)", len(text))
        if len(blocks) >= MAX_JSONLD_BLOCKS:
            break
    return blocks


def _read_jsonld(doc: etree._Element, out: Structured) -> None:
    for block in _jsonld_blocks(doc):
        _walk_json(block, "", 0, out)


def _walk_json(value: Any, parent_key: str, depth: int, out: Structured) -> Node | None:
    if depth > MAX_DEPTH or len(out.nodes) >= MAX_NODES:
        return None
    if isinstance(value, list):
        for item in value[:200]:
            _walk_json(item, parent_key, depth + 1, out)
        return None
    if not isinstance(value, dict):
        return None
    if "@graph" in value:
        # A graph's members are top-level things, whatever wraps them.
        _walk_json(value["@graph"], "", depth + 1, out)
    raw_type = value.get("@type", ())
    if isinstance(raw_type, str):
        raw_type = [raw_type]
    types = tuple(short_type(t) for t in raw_type if isinstance(t, str)) if isinstance(raw_type, list) else ()
    node = Node(types=types, props={}, parent_key=parent_key, source="jsonld") if types else None
    if node is not None:
        out.nodes.append(node)
    for key, item in list(value.items())[:200]:
        if not isinstance(key, str) or key.startswith("@"):
            continue
        name = short_type(key) if ":" in key or "/" in key else key
        items = item if isinstance(item, list) else [item]
        for sub in items[:200]:
            if isinstance(sub, (dict, list)):
                # Untyped objects (a bare {"streetAddress": ...}) still matter to their parent.
                child = _walk_json(sub, name, depth + 1, out)
                if node is not None:
                    node.props.setdefault(name, []).append(child if child is not None else sub)
            elif node is not None:
                node.props.setdefault(name, []).append(sub)
    return node


# -- microdata ---------------------------------------------------------------------

_URL_PROPS = {"a": "href", "area": "href", "link": "href", "img": "src", "audio": "src", "embed": "src",
              "iframe": "src", "source": "src", "track": "src", "video": "src", "object": "data"}


def _microdata_value(el: etree._Element) -> str:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag == "meta":
        return el.get("content") or ""
    if tag in _URL_PROPS:
        return el.get(_URL_PROPS[tag]) or ""
    if tag in ("data", "meter"):
        return el.get("value") or ""
    if tag == "time" and el.get("datetime"):
        return el.get("datetime") or ""
    if el.get("content") is not None:  # common (invalid but widespread) <span itemprop content="...">
        return el.get("content") or ""
    return " ".join(el.text_content().split())[:500]


def _read_microdata(doc: etree._Element, out: Structured) -> None:
    scopes = []
    for el in doc.iter():
        if isinstance(el.tag, str) and el.get("itemscope") is not None:
            scopes.append(el)
            if len(scopes) >= MAX_MICRODATA_ITEMS:
                break
    if not scopes:
        return
    nodes: dict[etree._Element, Node] = {}
    for el in scopes:
        types = tuple(short_type(t) for t in (el.get("itemtype") or "").split())
        parent_key = ""
        if el.get("itemprop") and _owner(el) is not None:
            parent_key = (el.get("itemprop") or "").split()[0]
        nodes[el] = Node(types=types, props={}, parent_key=parent_key, source="microdata")
    for el, node in nodes.items():
        # Walk the item's subtree, stopping at nested items: their properties are theirs.
        stack = list(reversed(el))
        visited = 0
        while stack and visited < 5000:
            child = stack.pop()
            visited += 1
            if not isinstance(child.tag, str):
                continue
            props = (child.get("itemprop") or "").split()
            nested = child.get("itemscope") is not None
            if props:
                value: Any = nodes.get(child) if nested else _microdata_value(child)
                if value is not None and value != "":
                    for prop in props[:5]:
                        node.props.setdefault(short_type(prop), []).append(value)
            if not nested:
                stack.extend(reversed(child))
    out.nodes.extend(n for n in nodes.values() if n.types)


def _owner(el: etree._Element) -> etree._Element | None:
    parent = el.getparent()
    while parent is not None:
        if parent.get("itemscope") is not None:
            return parent
        parent = parent.getparent()
    return None
