"""Turning answered items into the bytes of an API v3 reply (XML or JSON).

Where it sits: last step of a rating request. :mod:`frontend.ratings`
answers every ``url`` with an :class:`Item`; this module serialises the list.

XML: one root element ``<sitetruth:ratings>`` declaring the ``sitetruth``
prefix for :data:`NAMESPACE`, then one empty ``<sitetruth:rating .../>`` per
item, attributes in the contract's order (``url domain rated_domain rating
ratinginfo status``, then the v3 location fields that are known, then, for ``W`` items
only, ``position``/``progress`` when the broker gave them). Clients look the
elements up by the qualified name ``sitetruth:rating``, so the prefix is part
of the contract, not only the namespace. The tree is built with lxml, which
escapes every metacharacter; text the client sent is first passed through
:func:`xml_safe`, because XML 1.0 cannot carry some characters at all (most
C0 controls, lone surrogates, U+FFFE/U+FFFF) even escaped.

JSON: an array of objects with the same keys, ASCII-only (``\\u`` escapes),
so the bytes are valid whatever encoding a client assumes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from lxml import etree

from protocol.vocabulary import LOCATION_FIELDS

__all__ = ["Item", "NAMESPACE", "render_xml", "render_json", "xml_safe", "STATUS_FINAL", "STATUS_PENDING"]

# The namespace URI bound to the ``sitetruth`` prefix. It names the API, it
# is never fetched; it stays the same for every 3.x reply.
NAMESPACE = "http://www.sitetruth.com/api/v3"

STATUS_FINAL = "200"
STATUS_PENDING = "202"

# Everything XML 1.0's Char production leaves out.
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_ROOT = f"{{{NAMESPACE}}}ratings"
_RATING = f"{{{NAMESPACE}}}rating"


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return _NOT_XML_CHAR.sub("\ufffd", text)


@dataclass(frozen=True, slots=True)
class Item:
    """One answered ``url`` field, as the client will see it."""

    url: str
    domain: str  # the host as the client asked about it: clients file the item under it
    rated_domain: str  # the registrable domain whose rating this is
    rating: str
    ratinginfo: str
    status: str
    location: dict[str, str] = field(default_factory=dict)
    position: int = 0
    progress: str = ""

    def fields(self) -> dict[str, str | int]:
        # Everything is passed through xml_safe, whatever its source: a
        # location from the store is text from a web site too.
        out: dict[str, str | int] = {
            "url": xml_safe(self.url), "domain": xml_safe(self.domain),
            "rated_domain": xml_safe(self.rated_domain), "rating": self.rating,
            "ratinginfo": self.ratinginfo, "status": self.status,
        }
        for key in LOCATION_FIELDS:
            value = self.location.get(key)
            if isinstance(value, str) and value:
                out[key] = xml_safe(value)
        if self.status == STATUS_PENDING:
            if self.position > 0:
                out["position"] = self.position
            if self.progress:
                out["progress"] = xml_safe(self.progress)
        return out


def render_xml(items: list[Item]) -> bytes:
    root = etree.Element(_ROOT, nsmap={"sitetruth": NAMESPACE})
    for item in items:
        element = etree.SubElement(root, _RATING)
        for key, value in item.fields().items():
            element.set(key, str(value))
    return _DECLARATION + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def render_json(items: list[Item]) -> bytes:
    return json.dumps([item.fields() for item in items], ensure_ascii=True, separators=(",", ":")).encode("ascii")
