"""A FastCGI responder for the WSGI app: ``sitetruth-frontend --fastcgi SOCKET``.

Where it sits: behind a real web server (nginx ``fastcgi_pass``, Apache
``mod_proxy_fcgi``), as the original SiteTruth ran its ``.fcgi`` programs.
The web server speaks FastCGI over a UNIX socket (``/run/sitetruth/fcgi.sock``
or ``unix:/path``) or TCP (``127.0.0.1:9000``); each connection is served by
one thread of a bounded pool.

Why our own: the FastCGI libraries on PyPI are unmaintained (flup's last
release was 2018) and the responder role is small and fully specified by the
FastCGI 1.0 specification, which this follows:

* records: ``version type requestId contentLength paddingLength reserved``
  (8 bytes, big-endian) + content + padding; we pad our records to 8 bytes;
* one request at a time per connection (``FCGI_MPXS_CONNS`` = 0, as nginx
  and Apache use it): a BEGIN_REQUEST while another is open is answered
  END_REQUEST ``FCGI_CANT_MPX_CONN``; ``FCGI_KEEP_CONN`` keeps the
  connection open for the next request, otherwise we close it after
  END_REQUEST;
* roles other than RESPONDER get ``FCGI_UNKNOWN_ROLE``; management records
  (request id 0): GET_VALUES is answered (``FCGI_MAX_CONNS``,
  ``FCGI_MAX_REQS``, ``FCGI_MPXS_CONNS``), any other type gets
  ``FCGI_UNKNOWN_TYPE``; ABORT_REQUEST ends the request;
* PARAMS become the WSGI environ (bytes as latin-1, PEP 3333), STDIN its
  ``wsgi.input``; the reply goes out as CGI headers (``Status:``) and body
  on STDOUT, then an empty STDOUT and END_REQUEST.

nginx's ``fastcgi_params`` set ``SCRIPT_NAME`` to the whole path and no
``PATH_INFO``; then the whole path becomes ``PATH_INFO`` (the app is served
at the root of the URL space). Limits: parameters 1 MiB, request body 1 MiB
(413 past it; the API takes none). A peer that breaks the protocol loses its
connection, nobody else notices. ``FCGI_WEB_SERVER_ADDRS`` (comma-separated
addresses), when set, limits who may connect over TCP, as in the reference
implementation.

Time limits: an idle connection (between requests) is closed after
``CONNECTION_TIMEOUT``; once a request's first byte arrives, the whole
request (BEGIN_REQUEST through the end of STDIN) must arrive within
``head_timeout`` seconds in total, however it trickles, so a slow or stuck
peer holds a worker for a bounded time.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import socketserver
import stat
import struct
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

from ._pool import PoolMixIn
from .errors import FastCGIError, FrontendConfigError
from .httpserver import parse_listen

__all__ = ["FastCGIServer", "parse_pairs", "encode_pairs", "Record", "read_record", "write_record",
           "parse_fastcgi_address"]

log = logging.getLogger(__name__)

VERSION_1 = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR, DATA = range(1, 9)
GET_VALUES, GET_VALUES_RESULT, UNKNOWN_TYPE = 9, 10, 11
RESPONDER = 1
KEEP_CONN = 1
REQUEST_COMPLETE, CANT_MPX_CONN, OVERLOADED, UNKNOWN_ROLE = range(4)

_HEADER = struct.Struct("!BBHHBx")
_BEGIN = struct.Struct("!HB5x")
_END = struct.Struct("!IB3x")
_UNKNOWN = struct.Struct("!B7x")
MAX_CONTENT = 65535
_CHUNK = 65528  # largest multiple of 8 that fits a record: no padding needed on full records
MAX_PARAMS_BYTES = 1024 * 1024
MAX_STDIN_BYTES = 1024 * 1024
CONNECTION_TIMEOUT = 60.0  # web servers keep idle FastCGI connections open; reap the forgotten ones
HEAD_TIMEOUT = 10.0  # from a request's first byte to the end of its STDIN, in total


class Record:
    __slots__ = ("type", "request_id", "content")

    def __init__(self, type: int, request_id: int, content: bytes) -> None:  # noqa: A002 - spec's name
        self.type = type
        self.request_id = request_id
        self.content = content

    def __repr__(self) -> str:
        return f"Record(type={self.type}, request_id={self.request_id}, {len(self.content)} bytes)"


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n) if n else b""
    if len(data) != n:
        raise FastCGIError(f"connection closed inside a record ({len(data)} of {n} bytes)")
    return data


def read_record(stream: BinaryIO) -> Record | None:
    """The next record, or None at a clean end of stream (between records)."""
    head = stream.read(_HEADER.size)
    if not head:
        return None
    if len(head) != _HEADER.size:
        raise FastCGIError("connection closed inside a record header")
    version, rtype, rid, length, padding = _HEADER.unpack(head)
    if version != VERSION_1:
        raise FastCGIError(f"unsupported FastCGI version {version}")
    content = _read_exact(stream, length)
    _read_exact(stream, padding)
    return Record(rtype, rid, content)


def write_record(out: BinaryIO, rtype: int, rid: int, content: bytes = b"") -> None:
    """One record (``content`` <= 65535 bytes), padded to a multiple of 8."""
    if len(content) > MAX_CONTENT:
        raise ValueError("FastCGI record content over 65535 bytes")
    padding = -len(content) % 8
    out.write(_HEADER.pack(VERSION_1, rtype, rid, len(content), padding) + content + b"\0" * padding)


def _stream(out: BinaryIO, rtype: int, rid: int, data: bytes) -> None:
    for start in range(0, len(data), _CHUNK):
        write_record(out, rtype, rid, data[start:start + _CHUNK])


def _length(data: bytes, i: int) -> tuple[int, int]:
    if i >= len(data):
        raise FastCGIError("name-value pair cut short")
    if data[i] < 0x80:
        return data[i], i + 1
    if i + 4 > len(data):
        raise FastCGIError("name-value pair length cut short")
    return struct.unpack_from("!I", data, i)[0] & 0x7FFFFFFF, i + 4


def parse_pairs(data: bytes) -> list[tuple[bytes, bytes]]:
    """FastCGI name-value pairs (PARAMS, GET_VALUES) -> [(name, value)] in order."""
    pairs = []
    i = 0
    while i < len(data):
        nlen, i = _length(data, i)
        vlen, i = _length(data, i)
        if i + nlen + vlen > len(data):
            raise FastCGIError("name-value pair longer than its stream")
        pairs.append((data[i:i + nlen], data[i + nlen:i + nlen + vlen]))
        i += nlen + vlen
    return pairs


def encode_pairs(pairs: Iterable[tuple[bytes, bytes]]) -> bytes:
    out = bytearray()
    for name, value in pairs:
        for n in (len(name), len(value)):
            out += bytes([n]) if n < 0x80 else struct.pack("!I", n | 0x80000000)
        out += name + value
    return bytes(out)


class _Request:
    __slots__ = ("id", "keep", "params", "params_done", "stdin", "too_large")

    def __init__(self, rid: int, keep: bool) -> None:
        self.id = rid
        self.keep = keep
        self.params = bytearray()
        self.params_done = False
        self.stdin = bytearray()
        self.too_large = False


class _RequestClock(io.RawIOBase):
    """The socket's reading side with two limits: idle time between requests, one deadline per request.

    The deadline starts with the first bytes read while idle and ends when
    the handler calls :meth:`request_done`; every ``recv`` gets only the
    time left, so trickling bytes cannot stretch it.
    """

    def __init__(self, sock: socket.socket, idle_timeout: float, head_timeout: float) -> None:
        super().__init__()
        self._sock = sock
        self._idle = idle_timeout
        self._head = head_timeout
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.deadline is None:
            timeout = self._idle
        else:
            timeout = self.deadline - time.monotonic()
            if timeout <= 0:
                raise FastCGIError(f"request not complete within {self._head:g} s")
        self._sock.settimeout(timeout)
        try:
            n = self._sock.recv_into(buffer)
        except TimeoutError:
            if self.deadline is None:
                raise  # idle for too long: a forgotten connection, closed quietly
            raise FastCGIError(f"request not complete within {self._head:g} s") from None
        if n and self.deadline is None:
            self.deadline = time.monotonic() + self._head
        return n

    def request_done(self) -> None:
        self.deadline = None


class _Handler(socketserver.BaseRequestHandler):
    server: Any

    def handle(self) -> None:
        self.request.settimeout(CONNECTION_TIMEOUT)
        self._clock = _RequestClock(self.request, CONNECTION_TIMEOUT, self.server.head_timeout)
        reader = io.BufferedReader(self._clock)
        writer = self.request.makefile("wb")
        try:
            self._serve(reader, writer)
        except FastCGIError as e:
            log.warning("FastCGI protocol error from %r, closing the connection: %s", self.client_address, e)
        except (OSError, ValueError) as e:
            log.debug("FastCGI connection from %r ended: %s", self.client_address, e)
        finally:
            for f in (writer, reader):
                try:
                    f.close()
                except OSError:
                    pass

    def _serve(self, reader: BinaryIO, writer: BinaryIO) -> None:
        current: _Request | None = None
        while True:
            rec = read_record(reader)
            if rec is None:
                return
            if rec.request_id == 0:
                self._management(rec, writer)
                if current is None:
                    self._clock.request_done()
                continue
            if rec.type == BEGIN_REQUEST:
                if len(rec.content) != _BEGIN.size:
                    raise FastCGIError("BEGIN_REQUEST body is not 8 bytes")
                role, flags = _BEGIN.unpack(rec.content)
                if current is not None:
                    self._end(writer, rec.request_id, CANT_MPX_CONN)
                elif role != RESPONDER:
                    self._end(writer, rec.request_id, UNKNOWN_ROLE)
                    if not flags & KEEP_CONN:
                        return
                    self._clock.request_done()
                else:
                    current = _Request(rec.request_id, bool(flags & KEEP_CONN))
                continue
            if current is None or rec.request_id != current.id:
                continue  # a late record of an aborted or refused request
            if rec.type == ABORT_REQUEST:
                self._end(writer, current.id, REQUEST_COMPLETE)
                if not current.keep:
                    return
                current = None
                self._clock.request_done()
            elif rec.type == PARAMS:
                if not rec.content:
                    current.params_done = True
                elif len(current.params) + len(rec.content) > MAX_PARAMS_BYTES:
                    raise FastCGIError(f"PARAMS stream over {MAX_PARAMS_BYTES} bytes")
                else:
                    current.params += rec.content
            elif rec.type == STDIN:
                if rec.content:
                    if len(current.stdin) + len(rec.content) > MAX_STDIN_BYTES:
                        current.too_large = True
                        current.stdin.clear()
                    elif not current.too_large:
                        current.stdin += rec.content
                    continue
                self._clock.request_done()  # the rest is the application's time, not the peer's
                self._respond(current, writer)
                if not current.keep:
                    return
                current = None
            elif rec.type == DATA:
                continue  # only the FILTER role reads DATA
            else:
                raise FastCGIError(f"unexpected record type {rec.type} for request {rec.request_id}")

    def _management(self, rec: Record, writer: BinaryIO) -> None:
        if rec.type != GET_VALUES:
            write_record(writer, UNKNOWN_TYPE, 0, _UNKNOWN.pack(rec.type & 0xFF))
            writer.flush()
            return
        known = {b"FCGI_MAX_CONNS": str(self.server.threads).encode(),
                 b"FCGI_MAX_REQS": str(self.server.threads).encode(),
                 b"FCGI_MPXS_CONNS": b"0"}
        asked = [name for name, _ in parse_pairs(rec.content)]
        write_record(writer, GET_VALUES_RESULT, 0,
                     encode_pairs((name, known[name]) for name in asked if name in known))
        writer.flush()

    @staticmethod
    def _end(writer: BinaryIO, rid: int, protocol_status: int, app_status: int = 0) -> None:
        write_record(writer, END_REQUEST, rid, _END.pack(app_status & 0xFFFFFFFF, protocol_status))
        writer.flush()

    def _environ(self, req: _Request) -> dict[str, Any]:
        environ: dict[str, Any] = {name.decode("latin-1"): value.decode("latin-1")
                                   for name, value in parse_pairs(bytes(req.params))}
        if not environ.get("PATH_INFO"):
            # nginx's fastcgi_params: SCRIPT_NAME is the whole path; serve at the root.
            environ["PATH_INFO"] = environ.get("SCRIPT_NAME") or environ.get("DOCUMENT_URI") or "/"
            environ["SCRIPT_NAME"] = ""
        environ.setdefault("REQUEST_METHOD", "GET")
        environ.setdefault("QUERY_STRING", "")
        environ.setdefault("SERVER_NAME", "localhost")
        environ.setdefault("SERVER_PORT", "80")
        environ.setdefault("SERVER_PROTOCOL", "HTTP/1.1")
        https = environ.get("HTTPS", "").lower() in ("on", "1") or environ.get("REQUEST_SCHEME") == "https"
        environ.update({
            "wsgi.version": (1, 0), "wsgi.url_scheme": "https" if https else "http",
            "wsgi.input": io.BytesIO(bytes(req.stdin)), "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        })
        return environ

    def _respond(self, req: _Request, writer: BinaryIO) -> None:
        if req.too_large:
            self._send(writer, req.id, "413 Content Too Large", [("Content-Type", "text/plain; charset=utf-8")],
                       b"Request body too large.\n")
            return
        environ = self._environ(req)
        status_headers: list[Any] = []
        written: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            if exc_info and status_headers:
                raise exc_info[1].with_traceback(exc_info[2])
            status_headers[:] = [status, list(headers)]
            return written.append

        app_status = 0
        try:
            result = self.server.app(environ, start_response)
            try:
                body = b"".join([*written, *result])
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            if not status_headers:
                raise RuntimeError("the WSGI application returned without calling start_response")
            status, headers = status_headers
        except Exception:  # noqa: BLE001 - answer 500 rather than drop the web server's request
            log.exception("error in the WSGI application under FastCGI")
            status, headers, body = "500 Internal Server Error", [("Content-Type", "text/plain")], \
                b"Internal error.\n"
            app_status = 1
        if environ.get("REQUEST_METHOD") == "HEAD":
            body = b""
        self._send(writer, req.id, status, headers, body, app_status)

    def _send(self, writer: BinaryIO, rid: int, status: str, headers: list[tuple[str, str]], body: bytes,
              app_status: int = 0) -> None:
        head = f"Status: {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        _stream(writer, STDOUT, rid, head.encode("latin-1") + body)
        write_record(writer, STDOUT, rid)
        self._end(writer, rid, REQUEST_COMPLETE, app_status)


def parse_fastcgi_address(text: str) -> tuple[str, str | tuple[str, int]]:
    """``"unix:/run/x.sock"`` or a path with ``/`` -> ("unix", path); ``HOST:PORT`` -> ("tcp", (host, port))."""
    text = text.strip()
    if text.startswith("unix:"):
        return "unix", text[5:]
    if "/" in text:
        return "unix", text
    return "tcp", parse_listen(text)


class _UnixServer(PoolMixIn, socketserver.UnixStreamServer):
    def __init__(self, path: str, threads: int, app: Callable[..., Any], head_timeout: float) -> None:
        self.app, self.threads, self.head_timeout = app, threads, head_timeout
        self.init_pool(threads, "fcgi")
        super().__init__(path, _Handler)


class _TCPServer(PoolMixIn, socketserver.TCPServer):
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], threads: int, app: Callable[..., Any], head_timeout: float) -> None:
        self.app, self.threads, self.head_timeout = app, threads, head_timeout
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.init_pool(threads, "fcgi")
        super().__init__(address, _Handler)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        allowed = os.environ.get("FCGI_WEB_SERVER_ADDRS", "").strip()
        if not allowed:
            return True
        ok = client_address[0] in {a.strip() for a in allowed.split(",")}
        if not ok:
            log.warning("FastCGI connection from %s refused (not in FCGI_WEB_SERVER_ADDRS)", client_address[0])
        return ok


def _clear_stale_socket(path: str) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise FrontendConfigError(f"FastCGI socket path {path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
    except OSError:
        os.unlink(path)  # nobody listening: left over from a crash
        return
    finally:
        probe.close()
    raise FrontendConfigError(f"FastCGI socket {path} is in use by another process")


class FastCGIServer:
    """Serve ``app`` as a FastCGI responder on ``address`` (see :func:`parse_fastcgi_address`)."""

    def __init__(self, app: Callable[..., Any], address: str, threads: int = 16, mode: int = 0o660, *,
                 head_timeout: float = HEAD_TIMEOUT) -> None:
        kind, where = parse_fastcgi_address(address)
        self.kind = kind
        self.path = where if isinstance(where, str) else ""
        try:
            if isinstance(where, str):
                _clear_stale_socket(where)
                server: _UnixServer | _TCPServer = _UnixServer(where, threads, app, head_timeout)
                os.chmod(where, mode)
                self.address = where
            else:
                server = _TCPServer(where, threads, app, head_timeout)
                self.address = f"{where[0]}:{server.server_address[1]}"  # type: ignore[index]
        except OSError as e:
            raise FrontendConfigError(f"cannot listen for FastCGI on {address}: {e.strerror or e}") from e
        self._server = server

    @property
    def url(self) -> str:
        return f"unix:{self.address}" if self.kind == "unix" else f"tcp:{self.address}"

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        self._server.shutdown()

    def close(self) -> None:
        self._server.server_close()
        self._server.close_pool()
        if self.path:
            try:
                if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                    os.unlink(self.path)
            except FileNotFoundError:
                pass
