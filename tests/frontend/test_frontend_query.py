"""Reading API v3 query strings: order, names, limits, and bytes no parser should choke on."""

from __future__ import annotations

import pytest

from frontend.errors import HTTPError
from frontend.query import parse_rate_query, raw_query


def parse(qs: str | bytes, max_urls: int = 100, max_query_bytes: int = 65536):
    if isinstance(qs, bytes):
        qs = qs.decode("latin-1")
    return parse_rate_query(qs, max_urls=max_urls, max_query_bytes=max_query_bytes)


def test_urls_kept_in_order_with_defaults():
    q = parse("url=b.com&url=a.com&url=b.com")
    assert [u.echo for u in q.urls] == ["b.com", "a.com", "b.com"]
    assert (q.priority, q.key, q.format) == (1, "guest", "xml")


def test_numbered_url_fields_count_as_url_fields_in_order():
    # The original documentation: separate fields "all beginning with url".
    q = parse("url1=one.com&key=k&url2=two.com&url=three.com&urls=not-a-url-field")
    assert [u.echo for u in q.urls] == ["one.com", "two.com", "three.com"]


def test_percent_and_plus_decoding():
    q = parse("url=https%3A%2F%2Fwww.example.com%2Fa%3Fb%3Dc&url=a+b")
    assert q.urls[0].echo == "https://www.example.com/a?b=c"
    assert q.urls[1].echo == "a b"


def test_first_priority_key_format_win():
    q = parse("url=a.com&priority=7&priority=9&key=adrater&key=x&format=JSON&format=xml")
    assert (q.priority, q.key, q.format) == (7, "adrater", "json")


@pytest.mark.parametrize("value,expected", [("0", 0), ("1", 1), ("2147483647", 2147483647), ("", 1), ("%2012", 12)])
def test_priority_accepted(value, expected):
    assert parse(f"url=a.com&priority={value}").priority == expected


@pytest.mark.parametrize("value", ["-1", "1.5", "abc", "2147483648", "99999999999", "0x10", "%00", "１"])
def test_bad_priority_is_400(value):
    with pytest.raises(HTTPError) as e:
        parse(f"url=a.com&priority={value}")
    assert e.value.status == 400 and "priority" in e.value.message


@pytest.mark.parametrize("value", ["html", "xmll", "%00", "j%C3%A4son"])
def test_bad_format_is_400(value):
    with pytest.raises(HTTPError) as e:
        parse(f"url=a.com&format={value}")
    assert e.value.status == 400


@pytest.mark.parametrize("qs", ["", "key=guest", "&&&", "url1x=a.com", "URL=a.com"])
def test_no_url_is_400(qs):
    with pytest.raises(HTTPError) as e:
        parse(qs)
    assert e.value.status == 400 and "url" in e.value.message


def test_too_many_urls_is_414_and_the_limit_itself_is_fine():
    assert len(parse("&".join(["url=a.com"] * 100)).urls) == 100
    with pytest.raises(HTTPError) as e:
        parse("&".join(["url=a.com"] * 101))
    assert e.value.status == 414


def test_too_long_query_is_414():
    with pytest.raises(HTTPError) as e:
        parse("url=" + "a" * 100_000)
    assert e.value.status == 414
    assert len(parse("url=" + "a" * 60_000).urls[0].echo) == 60_000


def test_invalid_utf8_is_unreadable_not_an_error():
    q = parse(b"url=%FF%FEexample.com&url=ok.com&url=\xff\xfe.com")
    assert q.urls[0].text is None and q.urls[0].echo == "\ufffd\ufffdexample.com"
    assert q.urls[1].text == "ok.com"
    assert q.urls[2].text is None


def test_control_characters_are_echoed_safely_but_parsed_as_sent():
    q = parse("url=a%00b%01.com%0A")
    assert q.urls[0].text == "a\x00b\x01.com\n"
    assert q.urls[0].echo == "a\ufffdb\ufffd.com\n"  # XML 1.0 allows \n, not NUL or SOH


def test_wsgi_servers_that_decode_utf8_are_tolerated():
    # Not latin-1 as PEP 3333 says, but seen in the wild: the characters are kept.
    assert raw_query("url=例え.jp") == "url=例え.jp".encode()
    assert parse("url=例え.jp").urls[0].text == "例え.jp"
    # ...while latin-1 (the rule) means bytes: "ü" as one byte is not UTF-8.
    assert parse("url=bücher.de").urls[0].text is None
