"""MIME messages for email destinations (SMTP and the outbox's .eml files)."""

from __future__ import annotations

import binascii
from functools import lru_cache
from datetime import datetime, timezone
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from activation.destinations.base import DestinationSettings, Message


class EmailHeaderSettings(DestinationSettings):
    """Sender and RFC 8058 one-click unsubscribe settings. `{message_id}`/`{play_id}` are filled in."""

    from_address: str = "Omniplay <no-reply@omniplay.invalid>"
    reply_to: str | None = None
    message_id_domain: str = "omniplay.invalid"
    unsubscribe_mailto: str | None = "unsubscribe@omniplay.invalid"
    unsubscribe_url: str | None = "https://omniplay.invalid/unsubscribe/{message_id}"


def unsubscribe_links(settings: EmailHeaderSettings, message: Message) -> dict[str, Any]:
    """The template variables and header values for unsubscribing from this message."""
    fields = {"message_id": message.message_id, "play_id": message.play_id}
    url = settings.unsubscribe_url.format(**fields) if settings.unsubscribe_url else None
    mailto = (
        f"mailto:{settings.unsubscribe_mailto}?subject=unsubscribe-{message.message_id}"
        if settings.unsubscribe_mailto else None
    )
    return {"unsubscribe_url": url, "unsubscribe_mailto": mailto}


def _header(value: str) -> str:
    """A header value on one line; RFC 2047-encoded when it is not plain short ASCII."""
    value = " ".join(value.split())  # no CR/LF can reach the header block
    if value.isascii() and len(value) < 900:
        return value
    return Header(value, "utf-8").encode()


@lru_cache(maxsize=64)  # the sender and reply-to are the same on every message
def _mailbox(value: str) -> str:
    name, address = parseaddr(value)
    if name and not name.isascii():
        return formataddr((name, address), charset="utf-8")
    return _header(value)


def _qp(text: str) -> bytes:
    # Quoted-printable keeps the .eml readable; it never produces "=_", the boundary prefix.
    body = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return body.replace(b"\n", b"\r\n")


def build_email(settings: EmailHeaderSettings, message: Message, now: datetime | None = None) -> bytes:
    """The RFC 5322 bytes (CRLF) of a multipart/alternative text + HTML message.

    Written directly rather than through email.message, whose generator costs milliseconds
    per message; the structure is fixed, every part is quoted-printable UTF-8, and the
    tests parse the result back with the standard library.
    """
    links = unsubscribe_links(settings, message)
    headers = [
        f"From: {_mailbox(settings.from_address)}",
        f"To: {message.address}",
    ]
    if settings.reply_to:
        headers.append(f"Reply-To: {_mailbox(settings.reply_to)}")
    headers += [
        f"Subject: {_header(message.content.get('subject', ''))}",
        f"Date: {format_datetime(now or datetime.now(timezone.utc))}",
        f"Message-ID: <{message.message_id}@{settings.message_id_domain}>",
    ]
    targets = [f"<{v}>" for v in (links["unsubscribe_mailto"], links["unsubscribe_url"]) if v]
    if targets:
        headers.append(f"List-Unsubscribe: {', '.join(targets)}")
    if links["unsubscribe_url"]:
        # RFC 8058 one-click needs an https URI in List-Unsubscribe.
        headers.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    headers += [f"X-Omniplay-Play: {_header(message.play_id)}", "MIME-Version: 1.0"]
    text_part = (b'Content-Type: text/plain; charset="utf-8"\r\n'
                 b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + _qp(message.content.get("text", "")))
    html = message.content.get("html")
    if not html:
        head = "\r\n".join(headers).encode("utf-8") + b"\r\n"
        return head + text_part + b"\r\n"
    boundary = f"=_omniplay_{message.message_id}"
    headers.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    html_part = (b'Content-Type: text/html; charset="utf-8"\r\n'
                 b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + _qp(html))
    delimiter = f"\r\n--{boundary}\r\n".encode()
    return (
        "\r\n".join(headers).encode("utf-8") + b"\r\n"
        + delimiter + text_part + delimiter + html_part
        + f"\r\n--{boundary}--\r\n".encode()
    )


def envelope_sender(settings: EmailHeaderSettings) -> str:
    return parseaddr(settings.from_address)[1] or formataddr(("", settings.from_address))
