"""Streaming readers for the published source files.

The real inputs are large (Companies House BasicCompanyData is several GB of
CSV, usually shipped zipped; the GLEIF golden copy likewise), so nothing here
holds a whole file: files are opened as text streams, decompressed on the fly
when they are gzip, bzip2 or zip (detected by their magic bytes, not their
names), and read row by row or item by item. Each stream reports how many
bytes of the file on disk it has consumed, which is what the importers'
progress line is based on.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import IO, TypeVar

from ._errors import SourceFileError, SourceFormatError

__all__ = ["Input", "open_inputs", "guarded", "CsvRows", "iter_json_array"]

# A single JSON array item larger than this means the file is not the dump it
# claims to be (PhishTank items are well under 10 KiB).
JSON_ITEM_LIMIT = 1 << 20
_JSON_CHUNK = 1 << 16

_T = TypeVar("_T")


@dataclass
class Input:
    """One text stream to import: a plain file, or one member of a zip file."""

    label: str                      # for messages: "file.zip:member.csv" or "file.csv"
    text: IO[str]
    position: Callable[[], int]     # bytes of the file on disk consumed so far


def _counting_position(raw: IO[bytes]) -> Callable[[], int]:
    def position() -> int:
        try:
            return raw.tell()
        except (OSError, ValueError):  # closed, or not seekable: progress is a nicety
            return 0

    return position


def open_inputs(paths: Sequence[str | os.PathLike[str]], stack: ExitStack, source: str) -> Iterator[Input]:
    """Yield a text stream for each file (each zip member) in order.

    Files are opened lazily, one after the other; *stack* closes whatever is
    still open if the caller stops early. Text is decoded as UTF-8 (a BOM is
    dropped) with undecodable bytes replaced, so one bad byte in a multi-GB
    file costs one row, not the import; the row readers skip rows that carry
    a replacement character in a field that matters.
    """
    for path in paths:
        label = os.fspath(path)
        try:
            raw = stack.enter_context(open(path, "rb"))
            magic = raw.read(4)
            raw.seek(0)
        except OSError as e:
            raise SourceFileError(f"cannot read {label}: {e.strerror or e}", source=source, where=label) from e
        position = _counting_position(raw)
        if magic[:2] == b"\x1f\x8b":
            yield Input(label, _text(stack, gzip.GzipFile(fileobj=raw, mode="rb")), position)
        elif magic[:3] == b"BZh":
            yield Input(label, _text(stack, bz2.BZ2File(raw, mode="rb")), position)
        elif magic == b"PK\x03\x04":
            yield from _zip_members(raw, label, stack, source, position)
        else:
            yield Input(label, _text(stack, raw), position)


def _text(stack: ExitStack, binary: IO[bytes]) -> IO[str]:
    if not isinstance(binary, io.BufferedIOBase):
        binary = io.BufferedReader(binary)  # type: ignore[arg-type]
    return stack.enter_context(io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace", newline=""))


def _zip_members(raw: IO[bytes], label: str, stack: ExitStack, source: str,
                 position: Callable[[], int]) -> Iterator[Input]:
    try:
        archive = stack.enter_context(zipfile.ZipFile(raw))
    except zipfile.BadZipFile as e:
        raise SourceFormatError(f"not a readable zip file: {e}", source=source, where=label) from e
    members = sorted(info.filename for info in archive.infolist() if not info.is_dir())
    if not members:
        raise SourceFormatError("zip file holds no files", source=source, where=label)
    for member in members:
        # ZipFile reads through the same file object, so raw.tell() still
        # measures progress through the compressed file.
        yield Input(f"{label}:{member}", _text(stack, archive.open(member)), position)


@contextmanager
def _read_errors(source: str, label: str) -> Iterator[None]:
    """Translate what reading a (compressed) file can raise into source errors.

    Decompression happens lazily while rows are read, so a truncated or
    damaged gzip/bzip2/zip member shows up here, midway through an import.
    """
    try:
        yield
    except (EOFError, zlib.error, zipfile.BadZipFile) as e:
        raise SourceFormatError(f"corrupt or truncated compressed file: {e}", source=source, where=label) from e
    except OSError as e:
        if e.errno is None:  # gzip/bz2 data errors carry no errno; real I/O errors do
            raise SourceFormatError(f"corrupt compressed file: {e}", source=source, where=label) from e
        raise SourceFileError(f"cannot read: {e.strerror or e}", source=source, where=label) from e


def guarded(items: Iterable[_T], source: str, label: str) -> Iterator[_T]:
    """Iterate *items* with read errors translated (see :func:`_read_errors`)."""
    with _read_errors(source, label):
        yield from items


class CsvRows:
    """Rows of a CSV file with a header line.

    ``header`` holds the column names with surrounding blanks stripped (the
    Companies House file has leading spaces in some: ``" CompanyNumber"``),
    ``columns`` maps each name to its index. A header that lacks a *required*
    column raises :class:`SourceFormatError`: the file is not what the
    operator said it is. Iterating yields ``(line_number, fields)``, with
    *fields* None for a row of the wrong width or one the csv module cannot
    parse, so the importer can count it; blank lines are passed over.
    """

    def __init__(self, inp: Input, required: Sequence[str], source: str, kind: str) -> None:
        self.inp = inp
        self._reader = csv.reader(inp.text, strict=False)
        try:
            with _read_errors(source, inp.label):
                header = next(self._reader)
        except StopIteration:
            raise SourceFormatError(f"empty file, expected a {kind} CSV header", source=source,
                                    where=inp.label) from None
        except csv.Error as e:
            raise SourceFormatError(f"unreadable CSV header: {e}", source=source, where=inp.label) from e
        self.header = [name.strip() for name in header]
        missing = [name for name in required if name not in self.header]
        if missing:
            raise SourceFormatError(
                f"not a {kind} CSV: header lacks {', '.join(missing)}", source=source, where=inp.label)
        self.columns = {name: i for i, name in reversed(list(enumerate(self.header)))}

    def __iter__(self) -> Iterator[tuple[int, list[str] | None]]:
        """Yield ``(line_number, fields)``; *fields* is None for a bad row."""
        width = len(self.header)
        while True:
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except csv.Error:
                # The reader resynchronises at the next line, so one mangled
                # row costs one row.
                yield self._reader.line_num, None
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            yield self._reader.line_num, (row if len(row) == width else None)


_WS = re.compile(r"[ \t\r\n]*")


def iter_json_array(inp: Input, source: str) -> Iterator[object]:
    """Yield the items of a JSON document that is one top-level array.

    Streams with the standard library's ``raw_decode``: the buffer holds at
    most one item plus one read chunk, so a PhishTank dump of any size is read
    in constant memory. A truncated or mangled document raises
    :class:`SourceFormatError` at the point where it breaks.
    """
    decoder = json.JSONDecoder()
    read = inp.text.read
    buf = ""
    pos = 0
    eof = False

    def fill() -> None:
        nonlocal buf, pos, eof
        chunk = read(_JSON_CHUNK)
        if not chunk:
            eof = True
        buf = buf[pos:] + chunk
        pos = 0

    def skip_ws() -> str:
        """The next non-blank character ('' at end of input), not consumed."""
        nonlocal pos
        while True:
            pos = _WS.match(buf, pos).end()  # type: ignore[union-attr]
            if pos < len(buf):
                return buf[pos]
            if eof:
                return ""
            fill()

    def fail(what: str) -> SourceFormatError:
        return SourceFormatError(f"not a JSON array dump: {what}", source=source, where=inp.label)

    fill()
    if skip_ws() != "[":
        raise fail("does not start with '['")
    pos += 1
    expect_value = True
    first = True
    while True:
        ch = skip_ws()
        if ch == "":
            raise fail("ends before the closing ']' (truncated?)")
        if ch == "]" and (first or not expect_value):
            pos += 1
            if skip_ws() != "":
                raise fail("text after the closing ']'")
            return
        if not expect_value:
            if ch != ",":
                raise fail(f"expected ',' or ']' but found {ch!r}")
            pos += 1
            expect_value = True
            continue
        while True:
            try:
                item, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError as e:
                # Either the item runs past the end of the buffer (read more)
                # or it is broken (more data will not help).
                if eof:
                    raise fail(f"bad item: {e.msg}") from e
                if len(buf) - pos > JSON_ITEM_LIMIT:
                    raise fail(f"item larger than {JSON_ITEM_LIMIT} bytes or broken: {e.msg}") from e
                fill()
                continue
            # A number at the very end of the buffer may be cut short; items
            # here are objects, so only a non-object can be affected, and
            # non-objects are skipped by the caller anyway.
            break
        pos = end
        first = False
        expect_value = False
        yield item
