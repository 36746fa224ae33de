"""Real servers on loopback for destination tests: SMTP (aiosmtpd), a Twilio-like Messages
API and a signed-webhook receiver (both on http.server's ThreadingHTTPServer)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs


# -- TLS ----------------------------------------------------------------------------------

def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


# -- SMTP ---------------------------------------------------------------------------------

class SmtpRecorder:
    """aiosmtpd handler: refuses `nouser*` (550) and `greylist*` (451), drops the connection
    during DATA for `dropme*`, and records every accepted message."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nouser"):
            return "550 5.1.1 Recipient address rejected: user unknown"
        if address.startswith("greylist"):
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        if any(r.startswith("dropme") for r in envelope.rcpt_tos):
            server.transport.close()  # accepted, but the client never hears so
            return "250 OK"
        return f"250 2.0.0 Ok: queued as {uuid.uuid4().hex[:10]}"

    def parsed(self):
        with self.lock:
            return [message_from_bytes(m[2], policy=policy.default) for m in self.messages]

    def recipients(self) -> Counter:
        with self.lock:
            return Counter(r for m in self.messages for r in m[1])


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: SmtpRecorder
    controller: object


def start_smtp(*, tls_cert: tuple[Path, Path] | None = None, implicit_tls: bool = False,
               auth: tuple[str, str] | None = None) -> SmtpServer:
    """Start aiosmtpd on a free loopback port; stop with `.controller.stop()`."""
    import socket
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    recorder = SmtpRecorder()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    kwargs: dict = {}
    context = None
    if tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(tls_cert[0]), str(tls_cert[1]))
    if auth:
        def authenticator(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == auth
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(tls_cert))
    if implicit_tls:
        controller = Controller(recorder, hostname="127.0.0.1", port=port, ssl_context=context, **kwargs)
    else:
        if context is not None:
            kwargs.update(tls_context=context, require_starttls=True)
        controller = Controller(recorder, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return SmtpServer("127.0.0.1", port, recorder, controller)


# -- HTTP servers -------------------------------------------------------------------------

class _QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - keep test output clean
        pass

    def _json(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


@dataclass
class TwilioState:
    """What the fake Twilio accepted, plus knobs to make it misbehave."""

    account_sid: str = "AC" + "0" * 32
    auth_token: str = "secret-token"
    messages: list[dict] = field(default_factory=list)
    requests: int = 0
    storm: int = 0  # answer the next N requests with 429
    retry_after: str = "0"
    errors_5xx: int = 0  # answer the next N requests with 503
    lock: threading.Lock = field(default_factory=threading.Lock)


def start_twilio(state: TwilioState | None = None) -> tuple[ThreadingHTTPServer, TwilioState, str]:
    """A local server shaped like POST /2010-04-01/Accounts/{sid}/Messages.json."""
    state = state or TwilioState()

    class Handler(_QuietHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            with state.lock:
                state.requests += 1
                storm = state.storm > 0
                if storm:
                    state.storm -= 1
                fail = not storm and state.errors_5xx > 0
                if fail:
                    state.errors_5xx -= 1
            expected = "Basic " + base64.b64encode(f"{state.account_sid}:{state.auth_token}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
            if self.path != f"/2010-04-01/Accounts/{state.account_sid}/Messages.json":
                return self._json(404, {"code": 20404, "message": "not found", "status": 404})
            if storm:
                return self._json(429, {"code": 20429, "message": "Too Many Requests", "status": 429},
                                  {"Retry-After": state.retry_after})
            if fail:
                return self._json(503, {"code": 20500, "message": "Service Unavailable", "status": 503})
            to = form.get("To", "")
            if not (form.get("From") or form.get("MessagingServiceSid")) or not form.get("Body"):
                return self._json(400, {"code": 21602, "message": "Message body is required.", "status": 400})
            if to.endswith("0000"):
                return self._json(400, {"code": 21211, "message": f"The 'To' number {to} is not a valid phone "
                                        "number.", "status": 400})
            if to.endswith("9999"):
                return self._json(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient",
                                        "status": 400})
            if to.endswith("8888"):
                return self._json(400, {"code": 21614, "message": "'To' number is not a valid mobile number",
                                        "status": 400})
            sid = "SM" + uuid.uuid4().hex
            with state.lock:
                state.messages.append({"sid": sid, **form})
            self._json(201, {"sid": sid, "status": "queued", "to": to, "num_segments": "1"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state, f"http://127.0.0.1:{server.server_address[1]}"


@dataclass
class WebhookState:
    """A POS/clienteling API: verifies the HMAC, deduplicates on Idempotency-Key."""

    secret: bytes = b"webhook-secret"
    responses: dict[str, bytes] = field(default_factory=dict)  # Idempotency-Key -> first response
    items: list[dict] = field(default_factory=list)  # every item accepted (once per key)
    requests: int = 0
    bad_signatures: int = 0
    replays: int = 0
    truncated: int = 0  # bodies cut short by a client that died mid-request (not processed)
    fail_next: int = 0
    item_ids: bool = True  # answer each accepted item with an id of its own (else the batch's stands)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> Counter:
        with self.lock:
            return Counter(i["message_id"] for i in self.items)


def start_webhook(state: WebhookState | None = None, delay: float = 0.0):
    state = state or WebhookState()

    class Handler(_QuietHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if len(body) < length:  # the client went away mid-body: nothing to act on
                with state.lock:
                    state.truncated += 1
                self.close_connection = True
                return None
            with state.lock:
                state.requests += 1
            expected = "sha256=" + hmac.new(state.secret, body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, self.headers.get("X-Omniplay-Signature", "")):
                with state.lock:
                    state.bad_signatures += 1
                return self._json(401, {"error": "bad signature"})
            key = self.headers.get("Idempotency-Key")
            if not key:
                return self._json(400, {"error": "Idempotency-Key required"})
            with state.lock:
                if state.fail_next > 0:
                    state.fail_next -= 1
                    return self._json(503, {"error": "busy"})
                cached = state.responses.get(key)
                if cached is not None:
                    state.replays += 1
            if cached is not None:
                return self._raw(200, cached)
            payload = json.loads(body)
            results = []
            for item in payload["items"]:
                if item["store_id"] == "S999":
                    results.append({"message_id": item["message_id"], "status": "rejected",
                                    "code": "unknown_store", "error": "store is not on the clienteling API"})
                else:
                    results.append({"message_id": item["message_id"], "status": "accepted",
                                    **({"id": "T" + uuid.uuid4().hex[:12]} if state.item_ids else {})})
            if delay:
                time.sleep(delay)
            data = json.dumps({"results": results}).encode()
            with state.lock:
                if key not in state.responses:  # another request with this key may have won
                    state.responses[key] = data
                    state.items.extend(i for i, r in zip(payload["items"], results) if r["status"] == "accepted")
                data = state.responses[key]
            self._raw(200, data)

        def _raw(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state, f"http://127.0.0.1:{server.server_address[1]}/clienteling/tasks"
