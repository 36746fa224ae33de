"""A keep-alive HTTP/1.1 client connection for APIs called once per message (twilio).

At thousands of requests a second the client's own CPU sets the pace. The standard
library's http.client writes the headers and the body in two system calls and parses
every response's headers with the email package: about 110 µs of CPU per request here,
six times what this connection needs (about 18 µs): the request leaves in one write
(a header block prepared once per destination, plus Content-Length), and the response
is framed as RFC 9112 says (status line, header fields, then a body delimited by
Content-Length, chunked transfer coding, or the connection's close; interim 1xx
responses skipped). `tests/activation/test_http1.py` checks it against http.client on
generated responses.

Errors say whether the request can have reached the server: `NotSent` (connecting or
writing failed) or `NoResponse` (it left, but no complete response came back).
"""

from __future__ import annotations

import select
import socket

MAX_LINE = 65_536
MAX_HEADERS = 200


class NotSent(Exception):
    """Connecting or writing the request failed: the server cannot have received it."""


class NoResponse(Exception):
    """The request was written but no complete response came back."""


class _BadResponse(Exception):
    pass


class Connection:
    """One persistent connection to `host:port` (TLS with `https`), opened on first use."""

    def __init__(self, host: str, port: int | None, https: bool, timeout: float):
        self.host = host
        self.port = port or (443 if https else 80)
        self.https = https
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._file = None

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def closed_by_peer(self) -> bool:
        """Whether the idle connection is readable, i.e. the server closed it (or sent junk)."""
        if self._sock is None:
            return True
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def request(self, head: bytes, body: bytes, method: str = "POST") -> tuple[int, dict[str, str], bytes]:
        """Send `head` (request line and header fields, each ending CRLF, without
        Content-Length or the blank line) and `body`; (status, lower-cased headers, body)."""
        if self._sock is None:
            self._open()
        try:
            self._sock.sendall(b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body))
        except OSError as exc:
            self.close()
            raise NotSent(type(exc).__name__) from None
        try:
            status, headers, data, will_close = self._response(method)
        except (OSError, _BadResponse) as exc:
            self.close()
            raise NoResponse(type(exc).__name__ if isinstance(exc, OSError) else str(exc)) from None
        if will_close:
            self.close()
        return status, headers, data

    def _open(self) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.https:
                import ssl

                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        except OSError as exc:
            raise NotSent(type(exc).__name__) from None
        self._sock = sock
        self._file = sock.makefile("rb")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._file = None

    # -- response framing (RFC 9112) ----------------------------------------------------

    def _line(self) -> bytes:
        line = self._file.readline(MAX_LINE + 1)
        if not line:
            raise _BadResponse("connection closed")
        if len(line) > MAX_LINE:
            raise _BadResponse("line too long")
        return line

    def _response(self, method: str) -> tuple[int, dict[str, str], bytes, bool]:
        while True:
            version, status = self._status_line()
            headers = self._headers()
            if 100 <= status < 200 and status != 101:  # interim: the final response follows
                continue
            break
        connection = headers.get("connection", "").lower()
        will_close = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
        if method == "HEAD" or 100 <= status < 200 or status in (204, 304):
            return status, headers, b"", will_close
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return status, headers, self._chunked(), will_close
        if "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise _BadResponse("bad Content-Length") from None
            if length < 0:
                raise _BadResponse("bad Content-Length")
            data = self._file.read(length)
            if len(data) < length:
                raise _BadResponse("connection closed in the body")
            return status, headers, data, will_close
        return status, headers, self._file.read(), True  # delimited by the connection's close

    def _status_line(self) -> tuple[str, int]:
        parts = self._line().decode("latin-1").rstrip("\r\n").split(None, 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not (parts[1].isdigit() and len(parts[1]) == 3):
            raise _BadResponse("bad status line")
        return parts[0], int(parts[1])

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            line = self._line()
            if line in (b"\r\n", b"\n"):
                return headers
            text = line.decode("latin-1")
            if text[:1] in (" ", "\t") and headers:  # obsolete line folding: continues the last field
                last = next(reversed(headers))
                headers[last] = f"{headers[last]} {text.strip()}"
                continue
            name, colon, value = text.partition(":")
            if not colon:
                raise _BadResponse("bad header line")
            headers[name.strip().lower()] = value.strip()
        raise _BadResponse("too many headers")

    def _chunked(self) -> bytes:
        parts = []
        while True:
            size_text = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _BadResponse("bad chunk size") from None
            if size == 0:
                break
            data = self._file.read(size)
            if len(data) < size:
                raise _BadResponse("connection closed in a chunk")
            parts.append(data)
            self._line()  # the CRLF after the chunk
        while self._line() not in (b"\r\n", b"\n"):  # trailer fields, then the blank line
            pass
        return b"".join(parts)
