"""Local receivers for the activation benchmarks, each in its own process on loopback.

    python benchmarks/bench_activation_receivers.py twilio  --port 0   # POST .../Messages.json, one message per request
    python benchmarks/bench_activation_receivers.py webhook --port 0   # JSON batches, HMAC checked when signed
    python benchmarks/bench_activation_receivers.py smtp    --port 0   # aiosmtpd (any login accepted)

Each prints `READY <port> <stats_port>` when listening. `GET /_stats` on the stats port
returns what was received: requests, messages, distinct message keys and duplicates.
The HTTP side is a minimal asyncio HTTP/1.1 server (keep-alive, Content-Length bodies)
so the receiver is not what limits the clients being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
from collections import Counter
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-token"
WEBHOOK_SECRET = b"bench-webhook-secret"


class Stats:
    def __init__(self):
        self.requests = 0
        self.keys: Counter = Counter()
        self.bad = 0
        self.replays = 0
        self.lock = threading.Lock()

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "requests": self.requests,
                "messages": sum(self.keys.values()),
                "distinct": len(self.keys),
                "duplicates": sum(n - 1 for n in self.keys.values() if n > 1),
                "bad": self.bad,
                "replays": self.replays,
            }

    def reset(self) -> None:
        with self.lock:
            self.requests, self.bad, self.replays = 0, 0, 0
            self.keys.clear()


class HttpProtocol(asyncio.Protocol):
    """Just enough HTTP/1.1: request line, headers, Content-Length body, keep-alive."""

    def __init__(self, handler):
        self.handler = handler
        self.buffer = bytearray()

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            method, path, _ = head[0].split(" ", 2)
            status, payload = self.handler(method, path, headers, body)
            reason = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized"}.get(status, "OK")
            self.transport.write(
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload
            )


def twilio_handler(stats: Stats):
    expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

    def handle(method, path, headers, body):
        if path == "/_stats":
            return 200, json.dumps(stats.snapshot()).encode()
        if path == "/_reset":
            stats.reset()
            return 200, b"{}"
        if headers.get("authorization") != expected:
            with stats.lock:
                stats.bad += 1
            return 401, b'{"code": 20003, "message": "Authenticate", "status": 401}'
        if headers.get("content-type", "").startswith("application/json"):
            form = json.loads(body)
        else:
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        to = form.get("To", "")
        with stats.lock:
            stats.requests += 1
            stats.keys[to] += 1
            n = stats.requests
        return 201, json.dumps({"sid": f"SM{n:032d}", "status": "queued", "to": to}).encode()

    return handle


def webhook_handler(stats: Stats):
    cache: dict[str, bytes] = {}

    def handle(method, path, headers, body):
        if path == "/_stats":
            return 200, json.dumps(stats.snapshot()).encode()
        if path == "/_reset":
            stats.reset()
            cache.clear()
            return 200, b"{}"
        signature = headers.get("x-omniplay-signature")
        if signature is not None:
            expected = "sha256=" + hmac.new(WEBHOOK_SECRET, body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, signature):
                with stats.lock:
                    stats.bad += 1
                return 401, b'{"error": "bad signature"}'
        key = headers.get("idempotency-key")
        if key and key in cache:
            with stats.lock:
                stats.replays += 1
            return 200, cache[key]
        document = json.loads(body)
        items = document["items"] if isinstance(document, dict) else document
        results = [{"message_id": i.get("message_id"), "status": "accepted"} for i in items]
        with stats.lock:
            stats.requests += 1
            for item in items:
                stats.keys[item.get("message_id")] += 1
        payload = json.dumps({"results": results}).encode()
        if key:
            cache[key] = payload
        return 200, payload

    return handle


async def serve_http(handler, port: int) -> int:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: HttpProtocol(handler), "127.0.0.1", port, backlog=1024)
    return server.sockets[0].getsockname()[1]


def start_smtp(stats: Stats, port: int) -> int:
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            with stats.lock:
                stats.requests += 1
                key = envelope.original_content.split(b"Message-ID:", 1)[-1].split(b"\r\n", 1)[0].strip()
                if not key or key == envelope.original_content.strip():
                    key = str(stats.requests).encode()
                stats.keys[key.decode(errors="replace")] += 1
            return "250 2.0.0 Ok: queued"

    if not port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    controller = Controller(
        Handler(), hostname="127.0.0.1", port=port,
        authenticator=lambda *a: AuthResult(success=True), auth_require_tls=False,
    )
    controller.start()
    return port


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["twilio", "webhook", "smtp"])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    stats = Stats()
    if args.kind == "smtp":
        port = start_smtp(stats, args.port)

        def stats_only(method, path, headers, body):
            if path == "/_reset":
                stats.reset()
            return 200, json.dumps(stats.snapshot()).encode()

        stats_port = await serve_http(stats_only, 0)
    else:
        handler = twilio_handler(stats) if args.kind == "twilio" else webhook_handler(stats)
        port = await serve_http(handler, args.port)
        stats_port = port
    print(f"READY {port} {stats_port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
    finally:
        os._exit(0)
