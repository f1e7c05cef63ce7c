"""Reading a response body under a decoded-size cap: the decompression-bomb guard.

The fetcher hands :func:`read_limited` a function that returns the next raw
bytes from the wire (each call bounded by the deadline); this module undoes
the content-coding itself, with ``zlib``'s ``max_length``, so that no call
ever produces more than the bytes still wanted.  A 10 GB run of zeros
gzipped into a few megabytes therefore costs at most ``max_bytes`` plus one
chunk of memory, however the server packs it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ContentDecodingError

__all__ = ["Body", "Inflater", "read_limited", "CHUNK"]

CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Body:
    data: bytes  # decoded, at most the cap
    truncated: bool  # there was more than the cap
    wire_bytes: int  # raw bytes read from the connection
    used_bytes: int = -1  # raw bytes the decoder consumed to produce data (-1: the same as wire_bytes)

    @property
    def expansion(self) -> float:
        """Decoded bytes per raw byte consumed: about 1 unencoded, 5-20 for real compressed HTML."""
        used = self.wire_bytes if self.used_bytes < 0 else self.used_bytes
        return len(self.data) / max(1, used)


class Inflater:
    """Incremental gzip/deflate decoding that never outputs more than asked."""

    def __init__(self, coding: str) -> None:
        if coding not in ("gzip", "deflate"):
            raise ValueError(f"unsupported content-coding {coding!r}")
        self._coding = coding
        self._obj = self._new()
        self._started = False
        self._pending = b""
        self.finished = False

    def _new(self, raw: bool = False) -> zlib._Decompress:
        if self._coding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        # "deflate" should be zlib-wrapped; some servers send a raw stream.
        return zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)

    @property
    def has_pending(self) -> bool:
        return bool(self._pending) and not self.finished

    @property
    def pending_bytes(self) -> int:
        """Input received but not decoded yet (held back because the output limit was reached)."""
        return 0 if self.finished else len(self._pending)

    def feed(self, data: bytes, limit: int, *, url: str = "") -> bytes:
        """Decode *data* (after any input held back before); return at most *limit* bytes."""
        buffer = self._pending + data if self._pending else data
        self._pending = b""
        out = bytearray()
        while buffer and len(out) < limit and not self.finished:
            try:
                produced = self._obj.decompress(buffer, limit - len(out))
            except zlib.error as error:
                if self._coding == "deflate" and not self._started:
                    self._obj = self._new(raw=True)
                    self._started = True
                    continue
                raise ContentDecodingError(f"corrupt {self._coding} data: {error}", url=url) from error
            self._started = True
            out += produced
            if self._obj.eof:
                rest = self._obj.unused_data
                if self._coding == "gzip" and rest.startswith(b"\x1f\x8b"):
                    self._obj = self._new()  # another gzip member follows
                    buffer = rest
                    continue
                self.finished = True  # anything after the stream is ignored
                buffer = b""
                break
            tail = self._obj.unconsumed_tail
            if not produced and len(tail) == len(buffer):
                break  # no progress (cannot happen with a sane zlib): keep it pending
            buffer = tail
        self._pending = buffer
        return bytes(out)


def read_limited(
    read_raw: Callable[[int], bytes],
    coding: str | None,
    max_bytes: int,
    *,
    url: str = "",
    chunk: int = CHUNK,
) -> Body:
    """Read and decode a body until its end or until ``max_bytes`` decoded bytes.

    ``read_raw(n)`` returns up to *n* raw bytes, ``b""`` at the end of the
    body.  One byte past the cap is decoded to tell "exactly the cap" from
    "more than the cap".
    """
    inflater = Inflater(coding) if coding else None
    parts: list[bytes] = []
    total = wire = 0
    want = max_bytes + 1
    while total < want:
        if inflater is not None and inflater.has_pending:
            out = inflater.feed(b"", want - total, url=url)
            if not out and inflater.has_pending:
                break  # zlib made no progress on what it holds: stop rather than spin
        else:
            if inflater is not None and inflater.finished:
                break
            raw = read_raw(chunk)
            if not raw:
                break
            wire += len(raw)
            out = inflater.feed(raw, want - total, url=url) if inflater is not None else raw[: want - total]
        parts.append(out)
        total += len(out)
    data = b"".join(parts)
    used = wire - inflater.pending_bytes if inflater is not None else wire
    return Body(data[:max_bytes], total > max_bytes, wire, used)
