"""The page machinery: units as people read them, and escaping that holds by construction."""

from __future__ import annotations

import pathlib
import re

import pytest
from lxml import html as lxml_html

from frontend import pages, status
from frontend._html import TEMPLATES, fmt_duration, fmt_percent, fmt_rate, render
from store import StoredRating
from tests.support.web import EVIL

FRONTEND = pathlib.Path(TEMPLATES).parent


@pytest.mark.parametrize("seconds, text", [
    (0, "0 s"), (0.42, "0.4 s"), (9.96, "10 s"), (42.7, "42 s"), (60, "1 min"), (185, "3 min 5 s"),
    (3600, "1 h"), (8040, "2 h 14 min"), (86400 + 4 * 3600 + 59, "1 d 4 h"), (-1, ""), (None, ""), (True, ""),
    (float("nan"), ""),
])
def test_durations_read_as_people_say_them(seconds, text):
    assert fmt_duration(seconds) == text


def test_rates_and_ratios():
    assert [fmt_rate(v) for v in (0, 2.5, 9.0, 12.4, 130, None)] == ["0 / min", "2.5 / min", "9 / min",
                                                                      "12 / min", "130 / min", ""]
    assert [fmt_percent(v) for v in (0.875, 1, None)] == ["87.5 %", "100.0 %", ""]


def test_templates_escape_everything_they_are_given():
    rating = StoredRating.new("example.com", "A", "", {"name": EVIL, "street": "<i>1</i>"}, [
        {"kind": EVIL, "value": EVIL, "page": 'https://x.example/"><script>', "method": EVIL, "source": EVIL}])
    for body in (pages.render_details(rating, 0.0), pages.render_details(rating, 0.0, popup=True),
                 pages.render_not_rated(EVIL, EVIL),
                 pages.render_pending(EVIL, pages.Pending("unavailable", message=EVIL), base='"><b>'),
                 status.render_status({"broker_error": EVIL, "recent_errors": [{"message": EVIL, "traceback": EVIL,
                                                                               "domain": EVIL}]})):
        assert b"<script>" not in body and b"<b>" not in body and b"<i>" not in body
        assert EVIL in lxml_html.fromstring(body).text_content()


def test_no_markup_is_made_outside_the_templates():
    # Pre-escaped fragments can only come from the templates themselves:
    # Python code in the frontend hands over plain text, and no template
    # switches escaping off.
    for path in FRONTEND.glob("*.py"):
        source = path.read_text()
        assert not re.search(r"Markup\(|import markupsafe|from markupsafe|html\.escape\(", source), path.name
    for path in pathlib.Path(TEMPLATES).glob("*.html"):
        source = path.read_text()
        assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup\(", source), path.name


def test_a_misspelt_variable_is_an_error_not_an_empty_cell():
    with pytest.raises(Exception, match="undefined"):
        render("rating_none.html", domain="a.com", popup=False)  # no "reason"
