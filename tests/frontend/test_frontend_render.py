"""XML and JSON replies: the contract's shape, and well-formed whatever text goes in."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from frontend.render import NAMESPACE, Item, render_json, render_xml, xml_safe

NS = {"st": NAMESPACE}


def test_xml_shape_prefix_namespace_and_attribute_order():
    items = [Item("www.example.com", "www.example.com", "example.com", "A", "", "200", {"name": "Ex", "country": "US"}),
             Item("new.com", "new.com", "new.com", "W", "", "202", position=3, progress="fetching 2/5")]
    data = render_xml(items)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = etree.fromstring(data)
    assert root.nsmap == {"sitetruth": NAMESPACE}
    assert root.tag == f"{{{NAMESPACE}}}ratings"
    els = root.findall("st:rating", NS)
    assert len(els) == 2
    # Clients look for the qualified name "sitetruth:rating" in the text.
    assert data.count(b"<sitetruth:rating ") == 2
    assert list(els[0].attrib.keys()) == ["url", "domain", "rated_domain", "rating", "ratinginfo", "status", "name",
                                        "country"]
    assert dict(els[1].attrib) == {"url": "new.com", "domain": "new.com", "rated_domain": "new.com", "rating": "W",
                                   "ratinginfo": "",
                                   "status": "202", "position": "3", "progress": "fetching 2/5"}


def test_progress_only_on_pending_items_and_empty_location_fields_left_out():
    item = Item("a.com", "a.com", "a.com", "Q", "unverified", "200", {"name": "", "city": "X"}, position=4, progress="p")
    assert item.fields() == {"url": "a.com", "domain": "a.com", "rated_domain": "a.com", "rating": "Q",
                             "ratinginfo": "unverified",
                             "status": "200", "city": "X"}


def test_json_is_an_ascii_array_of_objects():
    data = render_json([Item("ä<>\"&", "a.com", "a.com", "A", "", "200")])
    data.decode("ascii")
    assert json.loads(data) == [{"url": "ä<>\"&", "domain": "a.com", "rated_domain": "a.com", "rating": "A",
                                 "ratinginfo": "",
                                 "status": "200"}]


def test_xml_safe_replaces_exactly_what_xml_cannot_carry():
    assert xml_safe("a\tb\nc\rd") == "a\tb\nc\rd"
    assert xml_safe("\x00\x08\x0b\x1f\ud800\ufffe\uffff") == "\ufffd" * 7
    assert xml_safe("\x7f\x85\U0001F600\u00e9") == "\x7f\x85\U0001F600\u00e9"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=200),
       st.text(max_size=50))
def test_any_text_gives_well_formed_xml_and_json_that_say_it_back(url, name):
    item = Item(url, "example.com", "example.com", "A", "", "200", {"name": name})
    root = etree.fromstring(render_xml([item]))
    el = root.find("st:rating", NS)
    assert el.get("url") == xml_safe(url)
    if name and xml_safe(name):
        assert el.get("name") == xml_safe(name)
    assert json.loads(render_json([item]))[0]["url"] == xml_safe(url)
