"""Pure logic under the fetcher: bounded decompression and charset detection (no sockets)."""

from __future__ import annotations

import gzip
import io
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raterd.fetch import ContentDecodingError
from raterd.fetch._body import read_limited
from raterd.fetch._charset import decode_text, lookup_charset, parse_content_type
from tests.raterd.fixtures.hostile import MIB, crc32_of_zeros, gzip_bomb_parts


def reader(data: bytes):
    return io.BytesIO(data).read


def test_gzip_members_are_all_decoded() -> None:
    data = gzip.compress(b"first member, ") + gzip.compress(b"second member")
    body = read_limited(reader(data), "gzip", 1000)
    assert body.data == b"first member, second member" and not body.truncated


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib-wrapped", "raw"])
def test_both_kinds_of_deflate(wbits: int) -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    data = compressor.compress(b"deflated page " * 10) + compressor.flush()
    assert read_limited(reader(data), "deflate", 1000).data == b"deflated page " * 10


def test_corrupt_gzip_is_a_decoding_error() -> None:
    with pytest.raises(ContentDecodingError):
        read_limited(reader(b"\x1f\x8b\x08\x00garbage-garbage"), "gzip", 1000)


def test_body_of_exactly_the_cap_is_not_truncated() -> None:
    assert not read_limited(reader(b"x" * 100), None, 100).truncated
    assert read_limited(reader(b"x" * 101), None, 100).truncated


def test_bomb_stream_is_valid_gzip_and_decoded_only_to_the_cap() -> None:
    first, middle, end, length = gzip_bomb_parts(4)
    stream = first + middle * 3 + end
    assert len(stream) == length and gzip.decompress(stream) == bytes(4 * MIB)
    body = read_limited(reader(stream), "gzip", 100_000)
    assert body.truncated and body.data == bytes(100_000) and body.wire_bytes == len(stream[:64 * 1024])


ROWS = b"<table>" + b"<tr><td>Widget</td><td>\xc2\xa35.00</td></tr>\n" * 40_000


@pytest.mark.parametrize(("plain", "bomb"), [
    (bytes(4 * MIB), True), (b"a" * 4 * MIB, True), (b"<p>a</p>" * (MIB // 2), True),
    (ROWS, False),  # a long table of identical rows: the most a real page compresses
])
def test_expansion_counts_only_the_input_the_decoder_used(plain: bytes, bomb: bool) -> None:
    # Read in 64 KiB pieces, as from a socket: most of the last piece is not needed to fill the cap.
    body = read_limited(reader(gzip.compress(plain, 9)), "gzip", 1_000_000)
    assert body.truncated and body.used_bytes < body.wire_bytes
    assert (body.expansion > 500) == bomb


@pytest.mark.parametrize("mebibytes", [1, 2, 3, 10])
def test_crc_of_zeros_matches_zlib(mebibytes: int) -> None:
    assert crc32_of_zeros(mebibytes) == zlib.crc32(bytes(mebibytes * MIB))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000), cap=st.integers(min_value=1, max_value=4000),
       coding=st.sampled_from([None, "gzip", "deflate"]))
def test_read_limited_never_exceeds_the_cap(data: bytes, cap: int, coding: str | None) -> None:
    payload = {None: data, "gzip": gzip.compress(data), "deflate": zlib.compress(data)}[coding]
    body = read_limited(reader(payload), coding, cap, chunk=97)
    assert body.data == data[:cap] and body.truncated == (len(data) > cap)


# -- charsets -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("text/html; charset=UTF-8", ("text/html", "UTF-8")), ('Text/HTML;Charset="iso-8859-1"', ("text/html", "iso-8859-1")),
     ("application/xhtml+xml", ("application/xhtml+xml", None)), ("", ("", None)), (None, ("", None))],
)
def test_parse_content_type(value: str | None, expected: tuple[str, str | None]) -> None:
    assert parse_content_type(value) == expected


@pytest.mark.parametrize(
    ("label", "codec"),
    [("UTF-8", "utf-8"), ("utf8", "utf-8"), ("ISO-8859-1", "cp1252"), ("us-ascii", "cp1252"), ("Shift_JIS", "cp932"),
     ("gb2312", "gbk"), ("windows-1251", "cp1251"), ("utf-7", None), ("base64", None), ("rot13", None),
     ("no-such", None), ("", None)],
)
def test_lookup_charset(label: str, codec: str | None) -> None:
    assert lookup_charset(label) == codec


def test_single_bad_byte_in_a_utf8_page_does_not_make_it_mojibake() -> None:
    body = "Grüße aus Köln, Straße 5 — ".encode() + b"\xff" + " Tschüß".encode()
    text, codec = decode_text(body, "utf-8")
    assert codec == "utf-8" and "Grüße aus Köln" in text and "Tschüß" in text


def test_utf16_meta_on_an_ascii_compatible_page_means_utf8() -> None:
    body = '<meta charset="utf-16"><p>Grüße</p>'.encode()
    assert decode_text(body, None) == ('<meta charset="utf-16"><p>Grüße</p>', "utf-8")


def test_truncated_multibyte_sequence_is_dropped_not_replaced() -> None:
    body = "Köln".encode()[:2]  # "K" and the first byte of "ö"
    assert decode_text(body, "utf-8", truncated=True) == ("K", "utf-8")


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=2000),
       label=st.one_of(st.none(), st.sampled_from(["utf-8", "latin-1", "shift_jis", "utf-16", "gbk", "bogus", "utf-7"])),
       truncated=st.booleans())
def test_decode_text_never_raises(body: bytes, label: str | None, truncated: bool) -> None:
    text, codec = decode_text(body, label, truncated=truncated)
    assert isinstance(text, str) and lookup_charset(codec) is not None
