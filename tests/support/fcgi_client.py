"""A small FastCGI client for tests: plays the web server's part (nginx's, in production).

Written from the FastCGI 1.0 specification independently of
``frontend.fastcgi``, so the two check each other rather than share bugs.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

HEADER = struct.Struct("!BBHHBx")
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 2, 3, 4, 5, 6, 7
GET_VALUES, GET_VALUES_RESULT, UNKNOWN_TYPE = 9, 10, 11
RESPONDER, AUTHORIZER = 1, 2


def pairs(items: dict[str, str] | list[tuple[bytes, bytes]]) -> bytes:
    out = b""
    seq = items.items() if isinstance(items, dict) else items
    for name, value in seq:
        n = name.encode("latin-1") if isinstance(name, str) else name
        v = value.encode("latin-1") if isinstance(value, str) else value
        for length in (len(n), len(v)):
            out += bytes([length]) if length < 128 else struct.pack("!I", length | 0x80000000)
        out += n + v
    return out


def unpairs(data: bytes) -> dict[bytes, bytes]:
    out, i = {}, 0
    while i < len(data):
        lens = []
        for _ in range(2):
            if data[i] < 128:
                lens.append(data[i])
                i += 1
            else:
                lens.append(struct.unpack("!I", data[i:i + 4])[0] & 0x7FFFFFFF)
                i += 4
        out[data[i:i + lens[0]]] = data[i + lens[0]:i + lens[0] + lens[1]]
        i += lens[0] + lens[1]
    return out


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    app_status: int
    protocol_status: int
    records: list[tuple[int, int, bytes]] = field(default_factory=list)


class FastCGIClient:
    def __init__(self, address: str | tuple[str, int], timeout: float = 10.0) -> None:
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        self._buf = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> FastCGIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, rtype: int, rid: int, content: bytes = b"", version: int = 1, padding: int = 0) -> None:
        self.sock.sendall(HEADER.pack(version, rtype, rid, len(content), padding) + content + b"\0" * padding)

    def send_stream(self, rtype: int, rid: int, data: bytes, chunk: int = 65535) -> None:
        for i in range(0, len(data), chunk):
            self.send(rtype, rid, data[i:i + chunk])
        self.send(rtype, rid)

    def _read(self, n: int) -> bytes:
        while len(self._buf) < n:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError(f"connection closed with {len(self._buf)} of {n} bytes read")
            self._buf += data
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def read_record(self) -> tuple[int, int, bytes]:
        version, rtype, rid, length, padding = HEADER.unpack(self._read(8))
        assert version == 1
        content = self._read(length)
        self._read(padding)
        return rtype, rid, content

    def closed_by_peer(self) -> bool:
        """True when the server closed the connection (nothing more to read)."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def begin(self, rid: int = 1, role: int = RESPONDER, keep: bool = False) -> None:
        self.send(BEGIN_REQUEST, rid, struct.pack("!HB5x", role, 1 if keep else 0))

    def request(self, params: dict[str, str], stdin: bytes = b"", rid: int = 1, keep: bool = False,
                params_chunk: int = 65535) -> Response:
        self.begin(rid, keep=keep)
        self.send_stream(PARAMS, rid, pairs(params), params_chunk)
        self.send_stream(STDIN, rid, stdin)
        return self.response(rid)

    def response(self, rid: int = 1) -> Response:
        stdout, records = b"", []
        while True:
            rtype, got_rid, content = self.read_record()
            records.append((rtype, got_rid, content))
            if got_rid != rid:
                continue
            if rtype == STDOUT:
                stdout += content
            elif rtype == END_REQUEST:
                app_status, protocol_status = struct.unpack("!IB3x", content)
                break
        head, _, body = stdout.partition(b"\r\n\r\n")
        headers = {}
        for line in head.split(b"\r\n"):
            if line:
                k, _, v = line.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
        status = int(headers.pop("status", "200").split()[0]) if head else 0
        return Response(status, headers, body, app_status, protocol_status, records)


def nginx_params(uri: str, remote: str = "127.0.0.1", method: str = "GET") -> dict[str, str]:
    """What nginx's stock ``fastcgi_params`` send for ``uri`` (no PATH_INFO)."""
    path, _, query = uri.partition("?")
    return {
        "QUERY_STRING": query, "REQUEST_METHOD": method, "CONTENT_TYPE": "", "CONTENT_LENGTH": "",
        "SCRIPT_NAME": path, "REQUEST_URI": uri, "DOCUMENT_URI": path, "DOCUMENT_ROOT": "/var/www",
        "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_SCHEME": "http", "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "nginx", "REMOTE_ADDR": remote, "REMOTE_PORT": "50000", "SERVER_ADDR": "127.0.0.1",
        "SERVER_PORT": "80", "SERVER_NAME": "localhost", "HTTP_HOST": "localhost",
    }
