"""activation.destinations.http1 (h11 over one kept-alive socket) against its oracle, the
standard library's http.client:
generated responses (Content-Length, chunked, close-delimited, interim 1xx, HTTP/1.0)
served over a real socket are read alike, and a connection kept alive serves the next."""

from __future__ import annotations

import http.client
import socket
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from activation.destinations.http1 import Connection, NoResponse, NotSent

REQUEST = (b"POST", b"/x", [(b"Host", b"test")])
_names = st.sampled_from(["X-Request-Id", "Retry-After", "Twilio-Request-Id", "Content-Type", "X-A"])
_values = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)


@st.composite
def responses(draw) -> tuple[bytes, str]:
    """(the raw response, its framing)."""
    framing = draw(st.sampled_from(["length", "chunked", "close", "http10"]))
    status = draw(st.sampled_from([200, 201, 400, 401, 404, 429, 500, 503]))
    body = draw(st.binary(max_size=3000))
    fields = draw(st.lists(st.tuples(_names, _values), max_size=5, unique_by=lambda f: f[0].lower()))
    interim = draw(st.booleans()) and framing != "http10"
    version = "HTTP/1.0" if framing == "http10" else "HTTP/1.1"
    head = (b"HTTP/1.1 100 Continue\r\n\r\n" if interim else b"") + f"{version} {status} Whatever\r\n".encode()
    head += b"".join(f"{n}: {v}\r\n".encode() for n, v in fields)
    if framing == "chunked":
        sizes = draw(st.lists(st.integers(1, 700), max_size=6))
        chunks, at = [], 0
        for size in sizes:
            part = body[at:at + size]
            at += size
            if part:
                chunks.append(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
        if at < len(body):
            chunks.append(b"%x\r\n%s\r\n" % (len(body) - at, body[at:]))
        return head + b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(chunks) + b"0\r\nX-Trailer: t\r\n\r\n", framing
    if framing in ("length", "http10"):
        return head + b"Content-Length: %d\r\n\r\n" % len(body) + body, framing
    return head + b"\r\n" + body, framing


def _read_request(conn: socket.socket) -> bytes:
    """The whole request (head and Content-Length body), however many packets it came in:
    closing a socket with unread input sends a reset, which can destroy the response."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += conn.recv(65536)
    return data


def _serve(responses_: list[bytes]) -> tuple[int, threading.Thread]:
    """A server answering each request on one connection with the next response, in
    pieces of a few bytes; it closes after the last (or when a response is close-delimited)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def run():
        for raw in responses_:
            conn, _ = listener.accept()
            with conn:
                _read_request(conn)
                for start in range(0, len(raw), 997):
                    conn.sendall(raw[start:start + 997])
        listener.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


def _oracle(port: int) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("POST", "/x", body=b"a=1", headers={"Host": "test"})
    response = conn.getresponse()
    result = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    conn.close()
    return result


@settings(max_examples=60, deadline=None)
@given(responses())
def test_responses_read_as_http_client_reads_them(case):
    raw, _ = case
    port, thread = _serve([raw, raw])
    expected = _oracle(port)
    got = Connection("127.0.0.1", port, False, 5).request(*REQUEST, b"a=1")
    thread.join(5)
    assert got == expected


def test_a_kept_alive_connection_serves_the_next_request():
    answers = [b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
               b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
               b"HTTP/1.1 204 No Content\r\n\r\n",
               b"HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    seen = []

    def run():
        conn, _ = listener.accept()
        with conn:
            for answer in answers:
                seen.append(_read_request(conn))
                conn.sendall(answer)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    client = Connection("127.0.0.1", listener.getsockname()[1], False, 5)
    got = [client.request(*REQUEST, b"n=%d" % i) for i in range(4)]
    thread.join(5)
    listener.close()
    assert [g[0] for g in got] == [201, 200, 204, 503] and [g[2] for g in got] == [b"ok", b"abc", b"", b"x"]
    assert not client.is_open  # the server said Connection: close
    assert all(s.lower().endswith(b"content-length: 3\r\n\r\nn=%d" % i) for i, s in enumerate(seen))


@pytest.mark.parametrize("answer", [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", b"junk\r\n\r\n",
                                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"])
def test_an_incomplete_or_broken_response_is_no_response(answer):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def run():
        conn, _ = listener.accept()
        with conn:
            _read_request(conn)
            conn.sendall(answer)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    client = Connection("127.0.0.1", listener.getsockname()[1], False, 5)
    with pytest.raises(NoResponse):
        client.request(*REQUEST, b"a=1")
    thread.join(5)
    listener.close()
    assert not client.is_open


def test_a_refused_connection_is_not_sent():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(NotSent):
        Connection("127.0.0.1", port, False, 5).request(*REQUEST, b"a=1")
