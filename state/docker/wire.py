"""HTTP/1.1 GETs on the engine's Unix socket, for the Engine API reads (observe stage).

state/docker/api.py sends its reads through here. The standard library's http.client
would do the same, but importing it pulls in `email` and `ssl` (~9 ms on every command,
a tenth of `reconcile status`); the engine answers a GET with a status line, headers
and a body sized by Content-Length or sent in chunks, so reading that is all we need.
Errors are OSErrors (a timeout is TimeoutError); an answer that is not HTTP is
BadAnswer, an OSError too, so a caller maps it as it maps a dropped connection.
"""

from __future__ import annotations

import socket
from typing import BinaryIO


class BadAnswer(ConnectionError):
    """The engine's answer was cut short or was not HTTP."""


class Connection:
    """One connection to a Unix socket, kept alive across GETs (each bounded by the
    socket's timeout, which the caller may lower between requests)."""

    def __init__(self, path: str, timeout: float) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.settimeout(timeout)
            self._sock.connect(path)
        except OSError:
            self._sock.close()
            raise
        self._reader: BinaryIO = self._sock.makefile("rb")

    def settimeout(self, seconds: float) -> None:
        self._sock.settimeout(seconds)

    def get(self, path: str) -> tuple[int, bytes]:
        """The status and body of `GET path`."""
        self._sock.sendall(f"GET {path} HTTP/1.1\r\nHost: docker\r\n\r\n".encode("ascii"))
        status = _status(self._line())
        headers: dict[str, str] = {}
        while line := self._line():
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        if status in (204, 304) or status < 200:
            return status, b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return status, self._chunks()
        if "content-length" in headers:
            return status, self._exactly(_number(headers["content-length"], 10))
        return status, self._reader.read()  # no length: the body ends when the engine closes

    def close(self) -> None:
        self._reader.close()
        self._sock.close()

    def _line(self) -> bytes:
        """One header line without its CRLF; b"" for the blank line that ends them."""
        line = self._reader.readline(65537)
        if not line.endswith(b"\n"):
            raise BadAnswer("the engine closed the connection mid-answer")
        return line.rstrip(b"\r\n")

    def _exactly(self, size: int) -> bytes:
        data = self._reader.read(size)
        if len(data) != size:
            raise BadAnswer("the engine closed the connection mid-answer")
        return data

    def _chunks(self) -> bytes:
        body = bytearray()
        while size := _number(self._line().split(b";")[0], 16):
            body += self._exactly(size)
            self._line()  # the CRLF after each chunk
        while self._line():  # trailers, up to the blank line
            pass
        return bytes(body)


def _status(line: bytes) -> int:
    version, _, rest = line.partition(b" ")
    if not version.startswith(b"HTTP/"):
        raise BadAnswer(f"not an HTTP answer: {line[:40]!r}")
    return _number(rest[:3], 10)


def _number(text: bytes | str, base: int) -> int:
    try:
        return int(text, base)
    except ValueError:
        raise BadAnswer(f"not a number in the engine's answer: {text[:20]!r}") from None
