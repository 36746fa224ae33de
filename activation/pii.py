"""Masking for anything that might reach a log, a dry-run sample or an error message."""

from __future__ import annotations

import re
from typing import Any

# Payload keys whose values identify a person; masked in dry-run samples.
PII_KEYS = frozenset(
    {
        "first_name", "last_name", "name", "full_name", "customer_name", "email", "phone",
        "address", "street", "postcode", "zip", "birth_date", "card_token",
    }
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")


def mask_email(value: str) -> str:
    """`jane.doe@example.com` -> `j***@e***.com`."""
    local, _, domain = value.partition("@")
    host, dot, tld = domain.rpartition(".")
    if not dot:
        host, tld = domain, ""
    return f"{local[:1]}***@{host[:1]}***{dot}{tld}"


def mask_phone(value: str) -> str:
    """`+14155550123` -> `+1*******23`: country prefix and last two digits only."""
    digits = value.strip()
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]


def mask_name(value: str) -> str:
    return f"{value[:1]}***" if value else value


def mask_address(address: str | None, channel: str | None = None) -> str:
    """Mask an email or phone; store ids are not personal and pass through."""
    if not address:
        return ""
    if channel == "store":
        return address
    if "@" in address:
        return mask_email(address)
    return mask_phone(address)


def mask_text(text: str) -> str:
    """Mask email addresses and phone numbers found anywhere in free text."""
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)


def mask_payload(payload: Any) -> Any:
    """A copy of a personalization payload with personal values masked (recursively)."""
    if isinstance(payload, dict):
        out = {}
        for key, value in payload.items():
            if key.lower() in PII_KEYS and isinstance(value, str):
                out[key] = mask_address(value) if ("@" in value or key.lower() == "phone") else mask_name(value)
            else:
                out[key] = mask_payload(value)
        return out
    if isinstance(payload, list):
        return [mask_payload(v) for v in payload]
    if isinstance(payload, str):
        return mask_text(payload)
    return payload
