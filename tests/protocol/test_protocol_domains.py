"""URL / host -> registrable domain, as the frontend, broker and raters all need it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import (
    DomainError,
    RatingInfo,
    is_registrable_domain,
    normalise_host,
    registrable_domain,
)

BAD_URL = RatingInfo.BAD_URL
NO_DOMAIN = RatingInfo.NO_DOMAIN

# (input, expected registrable domain or the ratinginfo of the DomainError)
CASES = [
    # plain names and subdomains
    ("example.com", "example.com"),
    ("www.example.com", "example.com"),
    ("a.b.c.d.example.com", "example.com"),
    ("shop.example.org", "example.org"),
    ("example-shop.net", "example-shop.net"),
    ("3com.com", "3com.com"),
    ("r3---sn-4g5e6nsz.googlevideo.com", "googlevideo.com"),
    # multi-part public suffixes
    ("example.co.uk", "example.co.uk"),
    ("www.shop.example.co.uk", "example.co.uk"),
    ("www.example.com.au", "example.com.au"),
    ("city.kawasaki.jp", "city.kawasaki.jp"),  # "!city.kawasaki.jp" exception rule
    ("www.city.kawasaki.jp", "city.kawasaki.jp"),
    # private suffixes
    ("foo.blogspot.com", "foo.blogspot.com"),
    ("www.foo.blogspot.com", "foo.blogspot.com"),
    ("someone.github.io", "someone.github.io"),
    ("docs.someone.github.io", "someone.github.io"),
    ("blogspot.com", NO_DOMAIN),
    ("github.io", NO_DOMAIN),
    # schemes, paths, queries, fragments
    ("http://example.com", "example.com"),
    ("https://www.example.com/path/page.html?q=1#top", "example.com"),
    ("example.com/path", "example.com"),
    ("example.com?q=1", "example.com"),
    ("example.com#frag", "example.com"),
    ("//example.com/x", "example.com"),
    ("ftp://files.example.com/pub", "example.com"),
    ("ws://live.example.com/socket", "example.com"),
    ("http:/example.com", "example.com"),
    ("https:example.com", "example.com"),
    ("HTTPS://Example.com", "example.com"),
    ("http:\\\\example.com\\path", "example.com"),
    ("android-app://com.example.app/x", "example.app"),  # any scheme: only the host matters
    # userinfo and ports
    ("http://user:pass@example.com/", "example.com"),
    ("http://user@evil.com@example.com/", "example.com"),
    ("https://example.com:8443/x", "example.com"),
    ("example.com:8080", "example.com"),
    ("http://example.com:/", "example.com"),
    ("http://example.com:99999/", BAD_URL),
    ("http://example.com:8o/", BAD_URL),
    ("http://example.com:80:80/", BAD_URL),
    ("localhost:8080", NO_DOMAIN),
    # case, whitespace, trailing dots
    ("EXAMPLE.COM", "example.com"),
    ("WwW.ExAmPlE.Co.Uk", "example.co.uk"),
    ("  example.com  ", "example.com"),
    ("\texample.com\n", "example.com"),
    ("example.com.", "example.com"),
    ("www.example.com./path", "example.com"),
    ("example.com..", NO_DOMAIN),
    (".example.com", NO_DOMAIN),
    ("www..example.com", NO_DOMAIN),
    # internationalised names
    ("bücher.de", "xn--bcher-kva.de"),
    ("xn--bcher-kva.de", "xn--bcher-kva.de"),
    ("XN--BCHER-KVA.DE", "xn--bcher-kva.de"),
    ("BÜCHER.DE", "xn--bcher-kva.de"),
    ("https://www.Bücher.de/kaufen", "xn--bcher-kva.de"),
    ("www.食狮.中国", "xn--85x722f.xn--fiqs8s"),
    ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
    ("example。com", "example.com"),  # ideographic full stop
    ("ｅｘａｍｐｌｅ．ｃｏｍ", "example.com"),  # full-width forms
    ("xn--zz.de", NO_DOMAIN),  # not valid punycode
    ("xn--abc.de", NO_DOMAIN),  # decodes to a disallowed label
    ("xn--.de", NO_DOMAIN),
    ("☃.com", NO_DOMAIN),  # a symbol: UTS 46 lets it through, IDNA 2008 refuses it
    ("faß.de", "xn--fa-hia.de"),  # non-transitional, as browsers do: ß stays ß
    ("ex\u00adample.com", "example.com"),  # soft hyphen is ignored by UTS 46
    # percent-encoding in the host
    ("http://%65xample.com/", "example.com"),
    ("http://www.b%C3%BCcher.de/", "xn--bcher-kva.de"),
    ("http://exa%ZZmple.com/", NO_DOMAIN),
    ("http://%ff.example.com/", BAD_URL),
    ("http://example%00.com/", BAD_URL),
    # IPv4 in its many spellings
    ("127.0.0.1", BAD_URL),
    ("http://192.168.1.1:8080/admin", BAD_URL),
    ("127.1", BAD_URL),
    ("0x7f.0.0.1", BAD_URL),
    ("0x7F000001", BAD_URL),
    ("2130706433", BAD_URL),
    ("017700000001", BAD_URL),
    ("1.2.3.4.", BAD_URL),
    ("999.999.999.999", BAD_URL),
    ("１２７.０.０.１", BAD_URL),
    ("example.123", BAD_URL),
    # IPv6 literals
    ("[::1]", BAD_URL),
    ("http://[::1]/", BAD_URL),
    ("http://[::1]:8080/x", BAD_URL),
    ("[2001:db8::1]", BAD_URL),
    ("http://[::ffff:127.0.0.1]/", BAD_URL),
    ("::1", BAD_URL),
    ("2001:db8::1", BAD_URL),
    ("fe80::1", BAD_URL),
    # schemes without a host
    ("mailto:someone@example.com", BAD_URL),
    ("javascript:alert(1)", BAD_URL),
    ("javascript:", BAD_URL),
    ("data:text/html,<b>hi</b>", BAD_URL),
    ("about:blank", BAD_URL),
    ("tel:+15551234567", BAD_URL),
    ("file:///etc/passwd", BAD_URL),
    ("http://", BAD_URL),
    ("http:///example.com/x", "example.com"),  # browsers skip extra slashes after http:
    ("http://user@/", BAD_URL),
    ("/just/a/path", BAD_URL),
    # empty, whitespace, control characters, overlong
    ("", BAD_URL),
    ("   ", BAD_URL),
    ("\t\n", BAD_URL),
    ("exam\x00ple.com", BAD_URL),
    ("example.com/\x7f", BAD_URL),
    ("exa\nmple.com", BAD_URL),
    ("https://example.com/" + "a" * 4100, BAD_URL),
    # a public suffix alone, a single label, an unknown TLD
    ("co.uk", NO_DOMAIN),
    ("com", NO_DOMAIN),
    ("com.au", NO_DOMAIN),
    ("http://co.uk/", NO_DOMAIN),
    ("localhost", NO_DOMAIN),
    ("intranet", NO_DOMAIN),
    ("example.unknowntld", NO_DOMAIN),
    ("example.local", NO_DOMAIN),
    ("www.example.invalid", NO_DOMAIN),
    # invalid labels
    ("exa mple.com", NO_DOMAIN),
    ("exa_mple.com", NO_DOMAIN),
    ("-example.com", NO_DOMAIN),
    ("example-.com", NO_DOMAIN),
    ("ex!ample.com", NO_DOMAIN),
    ("a" * 64 + ".com", NO_DOMAIN),
    ("a" * 63 + ".com", "a" * 63 + ".com"),
    (".".join(["a" * 60] * 5) + ".com", NO_DOMAIN),  # name over 253
    ("http://exa<mple.com/", NO_DOMAIN),
    ("not a url at all", NO_DOMAIN),
    ("exa\u2028mple.com", NO_DOMAIN),  # line separator: not allowed in a host
]


def test_table_is_big_enough():
    assert len(CASES) >= 60
    assert len({text for text, _ in CASES}) == len(CASES), "duplicate inputs in the table"


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[repr(t)[:40] for t, _ in CASES])
def test_registrable_domain(text, expected):
    if isinstance(expected, RatingInfo):
        with pytest.raises(DomainError) as err:
            registrable_domain(text)
        assert err.value.ratinginfo is expected, str(err.value)
        assert len(err.value.text) <= 80
        with pytest.raises(DomainError) as err2:
            normalise_host(text)
        assert err2.value.ratinginfo is expected
        assert not is_registrable_domain(text)
    else:
        domain = registrable_domain(text)
        assert domain == expected
        assert is_registrable_domain(domain)
        assert registrable_domain(normalise_host(text)) == domain


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("https://WWW.Bücher.de:443/x", "www.xn--bcher-kva.de"),
        ("www.shop.example.co.uk", "www.shop.example.co.uk"),
        ("HTTP://Sub.Example.COM./", "sub.example.com"),
        ("example.com", "example.com"),
        ("http://user@docs.someone.github.io:8080", "docs.someone.github.io"),
        ("r3---sn-4g5e6nsz.googlevideo.com", "r3---sn-4g5e6nsz.googlevideo.com"),
    ],
)
def test_normalise_host_keeps_the_whole_host(text, host):
    assert normalise_host(text) == host


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.com", True),
        ("xn--bcher-kva.de", True),
        ("foo.blogspot.com", True),
        ("www.example.com", False),  # a host, not the registrable domain
        ("Example.com", False),  # not canonical
        ("example.com.", False),
        ("bücher.de", False),  # not punycode
        ("http://example.com", False),
        ("co.uk", False),
        ("127.0.0.1", False),
        ("", False),
        (None, False),
        (b"example.com", False),
        (42, False),
    ],
)
def test_is_registrable_domain(value, expected):
    assert is_registrable_domain(value) is expected


def test_non_str_input_is_a_type_error():
    with pytest.raises(TypeError):
        registrable_domain(b"example.com")  # type: ignore[arg-type]


label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
hosts = st.builds(
    lambda labels, suffix: ".".join([*labels, suffix]),
    st.lists(label, min_size=0, max_size=3),
    st.sampled_from(["com", "co.uk", "de", "blogspot.com", "com.au", "jp", "xn--p1ai", "invalid", "1"]),
)
urlish = st.builds(
    lambda scheme, user, host, port, path: f"{scheme}{user}{host}{port}{path}",
    st.sampled_from(["", "http://", "https://", "//", "HTTP:", "mailto:", "x-y:"]),
    st.sampled_from(["", "user@", "u:p@", "@"]),
    hosts,
    st.sampled_from(["", ":80", ":", ":65536", ":x"]),
    st.sampled_from(["", "/", "/a?b#c", "?q", "#f"]),
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=60), urlish))
def test_any_text_gives_a_stable_domain_or_a_domain_error(text):
    try:
        domain = registrable_domain(text)
    except DomainError as e:
        assert e.ratinginfo in (RatingInfo.BAD_URL, RatingInfo.NO_DOMAIN)
        assert not is_registrable_domain(text)
        return
    host = normalise_host(text)
    assert host == domain or host.endswith("." + domain)
    assert domain.isascii() and domain == domain.lower() and not domain.endswith(".")
    # Normalising is idempotent: the result is already canonical.
    assert registrable_domain(domain) == domain and is_registrable_domain(domain)
    assert normalise_host(host) == host
