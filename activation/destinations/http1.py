"""A keep-alive HTTP/1.1 client connection for APIs called once per message (twilio).

At thousands of requests a second the client's own CPU sets the pace: httpx's client
layer and the standard library's http.client (two system calls per request, headers
parsed with the email package) cost several times what the protocol needs. This
connection keeps one socket per worker, writes each request in one system call and
leaves the protocol itself - serializing the request, framing the response
(Content-Length, chunked, close-delimited, interim 1xx) and deciding whether the
connection can be reused - to h11, the HTTP/1.1 engine httpx is built on.
`tests/activation/test_http1.py` checks it against http.client on generated responses.

Errors say whether the request can have reached the server: `NotSent` (connecting or
writing failed) or `NoResponse` (it left, but no complete response came back).
"""

from __future__ import annotations

import select
import socket

import h11

RECEIVE_BYTES = 65_536
Headers = list[tuple[bytes, bytes]]


class NotSent(Exception):
    """Connecting or writing the request failed: the server cannot have received it."""


class NoResponse(Exception):
    """The request was written but no complete response came back."""


class Connection:
    """One persistent connection to `host:port` (TLS with `https`), opened on first use."""

    def __init__(self, host: str, port: int | None, https: bool, timeout: float):
        self.host = host
        self.port = port or (443 if https else 80)
        self.https = https
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._protocol: h11.Connection | None = None

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

    def request(self, method: bytes, target: bytes, headers: Headers, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
        """Send one request (`headers` without Content-Length); (status, lower-cased headers, body)."""
        if self._sock is None:
            self._open()
        protocol = self._protocol
        try:
            data = protocol.send(h11.Request(method=method, target=target,
                                             headers=[*headers, (b"Content-Length", b"%d" % len(body))]))
            if body:
                data += protocol.send(h11.Data(data=body))
            data += protocol.send(h11.EndOfMessage())
            self._sock.sendall(data)
        except (OSError, h11.LocalProtocolError) as exc:
            self.close()
            raise NotSent(type(exc).__name__) from None
        try:
            status, response_headers, response_body = self._response()
        except (OSError, h11.RemoteProtocolError) as exc:
            self.close()
            raise NoResponse(type(exc).__name__ if isinstance(exc, OSError) else str(exc)) from None
        if protocol.our_state is h11.DONE and protocol.their_state is h11.DONE:
            protocol.start_next_cycle()
        else:  # the server closes it (Connection: close, HTTP/1.0, a close-delimited body)
            self.close()
        return status, response_headers, response_body

    def _response(self) -> tuple[int, dict[str, str], bytes]:
        protocol = self._protocol
        response, parts = None, []
        while True:
            event = protocol.next_event()
            if event is h11.NEED_DATA:
                protocol.receive_data(self._sock.recv(RECEIVE_BYTES))  # b"" tells h11 the peer closed
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                parts.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise h11.RemoteProtocolError("connection closed")
            # h11.InformationalResponse (1xx): the final response follows
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in response.headers}
        return response.status_code, headers, b"".join(parts)

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
        self._protocol = h11.Connection(our_role=h11.CLIENT)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = self._protocol = None
