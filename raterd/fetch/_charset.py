"""Turn a page's bytes into text without ever raising: charset detection.

Order, as in the WHATWG encoding-sniffing algorithm, slightly hardened for
the web as it is (misconfigured servers are common, and a rater wants the
words right more than it wants spec compliance):

1. a byte-order mark (it cannot be there by accident, so it beats the header);
2. the ``charset`` of the Content-Type header;
3. a ``<meta charset>`` / ``http-equiv`` declaration in the first 4 KB;
4. UTF-8 if the bytes look like UTF-8, else windows-1252 (the WHATWG stand-in
   for "Latin-1", which also decodes the 0x80-0x9F punctuation).

Two corrections to declarations: a declared UTF-8 that is plainly not UTF-8
(more undecodable sequences than non-ASCII characters) is ignored, and a
declared ISO-8859-1 / windows-1252 / ASCII on bytes that are valid,
non-ASCII UTF-8 is taken as the server default it usually is and the page is
read as UTF-8.  Undecodable bytes become U+FFFD.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_text", "parse_content_type", "lookup_charset"]

_SNIFF_BYTES = 4096
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_META_CHARSET = re.compile(rb"<meta\b[^>]*?\bcharset\s*=\s*[\"']?\s*([A-Za-z0-9._:+-]+)", re.IGNORECASE)
_CHARSET_PARAM = re.compile(r";\s*charset\s*=\s*\"?\s*([^\";\s]+)", re.IGNORECASE)

# WHATWG label -> the Python codec that decodes what browsers decode for it.
_WHATWG = {
    **dict.fromkeys(
        ("latin1", "latin-1", "iso-8859-1", "iso8859-1", "iso_8859-1", "l1", "us-ascii", "ascii",
         "ansi_x3.4-1968", "windows-1252", "cp1252", "x-cp1252", "cp819", "ibm819"), "cp1252"),
    **dict.fromkeys(("iso-8859-9", "iso8859-9", "latin5", "l5", "windows-1254"), "cp1254"),
    **dict.fromkeys(("tis-620", "iso-8859-11", "windows-874", "dos-874"), "cp874"),
    **dict.fromkeys(("gb2312", "gb_2312-80", "gb_2312", "x-gbk", "gbk", "chinese"), "gbk"),
    **dict.fromkeys(("euc-kr", "ks_c_5601-1987", "ks_c_5601-1989", "ksc5601", "windows-949", "cp949"), "cp949"),
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "ms932", "windows-31j",
                     "csshiftjis"), "cp932"),
    **dict.fromkeys(("big5", "big5-hkscs", "x-x-big5", "cn-big5", "csbig5"), "big5hkscs"),
    # Without a BOM (a BOM is handled before any label), "UTF-16" is little-endian.
    **dict.fromkeys(("utf-16", "utf16", "unicode", "ucs-2", "iso-10646-ucs-2", "csunicode"), "utf-16-le"),
    **dict.fromkeys(("utf-32", "utf32"), "utf-32-le"),
}
# Labels browsers refuse to decode with (UTF-7 is a classic filter-evasion trick).
_REFUSED = frozenset({"utf-7", "utf7", "x-user-defined", "replacement"})
_WESTERN = frozenset({"cp1252", "ascii", "latin-1", "iso8859-1"})


def parse_content_type(value: str | None) -> tuple[str, str | None]:
    """``"Text/HTML; charset=UTF-8"`` -> ``("text/html", "UTF-8")``."""
    if not value:
        return "", None
    mime = value.split(";", 1)[0].strip().lower()
    match = _CHARSET_PARAM.search(value)
    return mime, (match.group(1).strip("'") if match else None)


def lookup_charset(label: str | None) -> str | None:
    """The Python codec name for a charset label, or None if unknown or not text."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    if key in _REFUSED:
        return None
    key = _WHATWG.get(key, key)
    try:
        name = codecs.lookup(key).name
        b"<html>".decode(name)  # LookupError for bytes-to-bytes codecs (base64, zlib...)
    except (LookupError, ValueError):
        return None
    return name


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:_SNIFF_BYTES])
    if not match:
        return None
    name = lookup_charset(match.group(1).decode("ascii", "replace"))
    # A meta tag that could be read with an ASCII-compatible scan cannot be
    # in UTF-16 (WHATWG: treat such a declaration as UTF-8).
    if name is not None and name.startswith("utf-16"):
        return "utf-8"
    return name


def _decode(body: bytes, codec: str, *, final: bool) -> str:
    # final=False leaves an incomplete multi-byte sequence at the end
    # undecoded: the body was cut at the byte cap, not corrupted.
    return codecs.getincrementaldecoder(codec)("replace").decode(body, final=final)


def _utf8_stats(body: bytes, *, final: bool) -> tuple[int, int]:
    """(undecodable sequences, non-ASCII characters) when read as UTF-8."""
    text = _decode(body, "utf-8", final=final)
    errors = text.count("\ufffd") - body.count("\ufffd".encode())
    non_ascii = sum(1 for ch in text if ch > "\x7f") - text.count("\ufffd")
    return errors, non_ascii


def decode_text(body: bytes, header_charset: str | None, *, truncated: bool = False) -> tuple[str, str]:
    """``(text, codec used)`` for a body; never raises."""
    final = not truncated
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return _decode(body[len(bom):], codec, final=final), codec

    if body.isascii():
        # Pure ASCII reads the same in every ASCII-compatible codec; only a
        # declared UTF-16 (or similar) one would differ.
        declared = lookup_charset(header_charset)
        codec = declared if declared and declared.startswith("utf-16") else (declared or "utf-8")
        return _decode(body, codec, final=final), codec

    errors, non_ascii = _utf8_stats(body, final=final)
    looks_utf8 = errors == 0 or non_ascii >= 2 * errors
    for declared in (lookup_charset(header_charset), _meta_charset(body)):
        if declared is None:
            continue
        if declared == "utf-8":
            if looks_utf8:
                return _decode(body, "utf-8", final=final), "utf-8"
            continue  # labelled UTF-8 but plainly is not: try the next clue
        if declared in _WESTERN and errors == 0 and non_ascii > 0:
            return _decode(body, "utf-8", final=final), "utf-8"
        return _decode(body, declared, final=final), declared
    codec = "utf-8" if looks_utf8 else "cp1252"
    return _decode(body, codec, final=final), codec
