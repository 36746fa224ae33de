"""MIME messages for email destinations (SMTP and the outbox's .eml files)."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, parseaddr
from datetime import datetime, timezone
from typing import Any

from activation.destinations.base import DestinationSettings, Message

# Long header values (List-Unsubscribe) must not be folded into RFC 2047 encoded words,
# which mail clients do not parse as URIs; 998 is RFC 5322's hard line limit.
POLICY = SMTP.clone(max_line_length=998)


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


def build_email(settings: EmailHeaderSettings, message: Message, now: datetime | None = None) -> EmailMessage:
    """A multipart/alternative (text + HTML) message with Message-ID derived from message_id."""
    mail = EmailMessage(policy=POLICY)
    mail["From"] = settings.from_address
    mail["To"] = message.address
    if settings.reply_to:
        mail["Reply-To"] = settings.reply_to
    mail["Subject"] = message.content.get("subject", "")
    mail["Date"] = format_datetime(now or datetime.now(timezone.utc))
    mail["Message-ID"] = f"<{message.message_id}@{settings.message_id_domain}>"
    links = unsubscribe_links(settings, message)
    targets = [f"<{v}>" for v in (links["unsubscribe_mailto"], links["unsubscribe_url"]) if v]
    if targets:
        mail["List-Unsubscribe"] = ", ".join(targets)
    if links["unsubscribe_url"]:
        # RFC 8058 one-click needs an https URI in List-Unsubscribe.
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail["X-Omniplay-Play"] = message.play_id
    mail.set_content(message.content.get("text", ""))
    if message.content.get("html"):
        mail.add_alternative(message.content["html"], subtype="html")
    return mail


def envelope_sender(settings: EmailHeaderSettings) -> str:
    return parseaddr(settings.from_address)[1] or formataddr(("", settings.from_address))
