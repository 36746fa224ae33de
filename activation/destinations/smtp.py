"""`smtp`: real SMTP delivery (smtplib), one persistent connection per worker thread.

Each message is its own transaction (MAIL, RCPT, DATA) on the worker's connection.
Outcomes: a refused recipient (5xx) is `rejected` with the SMTP code; 4xx answers and
failures before DATA are retried; a connection lost during DATA is `ambiguous`, since
the server may already have accepted the message. SMTP cannot deduplicate, so
messages interrupted by a crash become `ambiguous` too.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from activation.destinations.base import AMBIGUOUS, REJECTED, RETRY, SENT, Destination, Message, Result
from activation.destinations.email_message import (
    EmailHeaderSettings,
    build_email,
    envelope_sender,
    unsubscribe_links,
)
from omniplay.errors import FatalDestinationError, RetriableDestinationError


class SmtpSettings(EmailHeaderSettings):
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str | None = None
    password: SecretStr | None = None
    timeout: float = Field(default=30.0, gt=0)
    ca_file: Path | None = None  # trust this CA (e.g. a private relay's) in addition to the system's
    verify_tls: bool = True
    local_hostname: str | None = None


class SmtpDestination(Destination):
    type_name = "smtp"
    channels = frozenset({"email"})
    deduplicates = False
    Settings = SmtpSettings
    default_batch_size = 25

    def __init__(self, name, settings: SmtpSettings, context):
        super().__init__(name, settings, context)
        self._local = threading.local()
        self._all: list = []
        self._all_lock = threading.Lock()
        self._sender = envelope_sender(settings)

    # -- connections --------------------------------------------------------------------

    def _tls_context(self):
        import ssl

        context = ssl.create_default_context(cafile=str(self.settings.ca_file) if self.settings.ca_file else None)
        if not self.settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self):
        import smtplib

        s = self.settings
        try:
            if s.security == "ssl":
                conn = smtplib.SMTP_SSL(s.host, s.port, local_hostname=s.local_hostname, timeout=s.timeout,
                                        context=self._tls_context())
            else:
                conn = smtplib.SMTP(s.host, s.port, local_hostname=s.local_hostname, timeout=s.timeout)
            conn.ehlo()
            if s.security == "starttls":
                if not conn.has_extn("starttls"):
                    conn.close()
                    raise FatalDestinationError(f"{s.host}:{s.port} does not offer STARTTLS")
                conn.starttls(context=self._tls_context())
                conn.ehlo()
            if s.username:
                conn.login(s.username, s.password.get_secret_value() if s.password else "")
        except smtplib.SMTPAuthenticationError as exc:
            raise FatalDestinationError(f"SMTP authentication failed ({exc.smtp_code})") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise FatalDestinationError(f"SMTP server does not support this: {exc}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise RetriableDestinationError(f"cannot connect to {s.host}:{s.port}: {type(exc).__name__}") from None
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _connection(self, fresh: bool = False):
        conn = getattr(self._local, "conn", None)
        if conn is not None and not fresh:
            return conn
        if conn is not None:
            self._drop(conn)
        self._local.conn = self._connect()
        return self._local.conn

    def _drop(self, conn) -> None:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - already broken
            pass
        with self._all_lock:
            if conn in self._all:
                self._all.remove(conn)
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None

    def check(self) -> None:
        conn = self._connect()
        try:
            code, _ = conn.noop()
            if code != 250:
                raise FatalDestinationError(f"SMTP server answered NOOP with {code}")
        finally:
            self._drop(conn)

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.quit()
            except Exception:  # noqa: BLE001
                try:
                    conn.close()
                except Exception:  # noqa: BLE001
                    pass

    # -- sending ------------------------------------------------------------------------

    def template_context(self, message: Message) -> dict:
        return unsubscribe_links(self.settings, message)

    def send(self, batch: list[Message]) -> list[Result]:
        results: list[Result] = []
        for index, message in enumerate(batch):
            try:
                results.append(self._send_one(message))
            except RetriableDestinationError as exc:
                # Cannot reach the server: this and the rest of the batch wait for a retry.
                results.extend(Result(m.message_id, RETRY, error_code="connect", error_message=str(exc))
                               for m in batch[index:])
                break
            except FatalDestinationError as exc:
                if not results:
                    raise
                # Keep what was delivered; the retry of the rest meets the same error first
                # and stops the play then.
                results.extend(Result(m.message_id, RETRY, error_code="fatal", error_message=str(exc))
                               for m in batch[index:])
                break
        return results

    def _send_one(self, message: Message) -> Result:
        import smtplib

        self.context.limiter.acquire()
        data = build_email(self.settings, message)
        mail_options = []
        if not message.address.isascii():
            mail_options.append("SMTPUTF8")
        for reused in (True, False):
            conn = self._connection(fresh=not reused)
            if mail_options and not conn.has_extn("smtputf8"):
                return Result(message.message_id, REJECTED, error_code="smtputf8_unsupported",
                              error_message="server cannot deliver to an internationalized address")
            # Before DATA nothing can have been delivered: a broken connection is retried.
            try:
                code, reply = conn.mail(self._sender, mail_options)
                if code != 250:
                    conn.rset()
                    return self._refused("sender", code, reply, message)
                code, reply = conn.rcpt(message.address)
                if code not in (250, 251):
                    conn.rset()
                    return self._refused("recipient", code, reply, message)
            except (smtplib.SMTPServerDisconnected, OSError):
                self._drop(conn)
                if reused:
                    continue  # an idle connection the server closed: reconnect once
                return Result(message.message_id, RETRY, error_code="disconnected",
                              error_message="connection lost before DATA")
            try:
                code, reply = conn.data(data)
            except smtplib.SMTPDataError as exc:
                return self._refused("data", exc.smtp_code, exc.smtp_error, message)
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self._drop(conn)
                return Result(message.message_id, AMBIGUOUS, error_code="disconnected_in_data",
                              error_message=f"connection lost during DATA ({type(exc).__name__}); "
                                            f"the server may have accepted the message")
            if code == 250:
                return Result(message.message_id, SENT, provider_message_id=_queue_id(reply))
            return self._refused("data", code, reply, message)
        raise AssertionError("unreachable")

    def _refused(self, stage: str, code: int, reply: bytes | str, message: Message) -> Result:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        text = text.replace(message.address, "<recipient>")[:300]
        if 400 <= code < 500:
            return Result(message.message_id, RETRY, error_code=f"smtp_{code}", error_message=f"{stage}: {text}")
        if stage == "sender":
            raise FatalDestinationError(f"SMTP server refused the sender ({code} {text})")
        return Result(message.message_id, REJECTED, error_code=f"smtp_{code}", error_message=f"{stage}: {text}")


def _queue_id(reply: bytes | str) -> str | None:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return text.strip()[:256] or None
