"""Address checks per channel, done before a message is handed to a destination."""

from __future__ import annotations

import re
from functools import lru_cache

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_STORE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class InvalidAddress(ValueError):
    """The address cannot be delivered to on this channel."""


# RFC 5322 dot-atom of ASCII atext: a local part email-validator always accepts.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def _email_ok(address: str) -> str | None:
    # Fast path for the usual shape (plain local part): the domain's verdict comes from
    # email-validator once per domain. Anything else gets the full check.
    local, at, domain = address.rpartition("@")
    if at and len(address) <= 254 and len(local) <= 64 and _PLAIN_LOCAL.fullmatch(local) \
            and _full_email_check(f"a@{domain}") is None:
        return None
    return _full_email_check(address)


@lru_cache(maxsize=4096)
def _full_email_check(address: str) -> str | None:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def _phone_ok(address: str) -> str | None:
    # The queue holds numbers dbt already normalized to E.164; this guard checks the
    # shape and the country calling code (a dict lookup) rather than parsing in full,
    # which would cost more than sending the message.
    if not _E164.match(address):
        return "not an E.164 number (+ and 8-15 digits)"
    if not any(int(address[1 : 1 + n]) in _calling_codes() for n in (1, 2, 3)):
        return "unknown country calling code"
    return None


@lru_cache(maxsize=1)
def _calling_codes() -> frozenset[int]:
    import phonenumbers

    return frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def check_address(channel: str, address: str | None) -> None:
    """Raise InvalidAddress with a reason (that never repeats the address) when unusable."""
    if not address:
        raise InvalidAddress("missing address")
    if channel == "email":
        problem = _email_ok(address)
    elif channel == "sms":
        problem = _phone_ok(address)
    elif channel == "store":
        problem = None if _STORE_ID.match(address) else "not a store id"
    else:
        problem = f"unknown channel {channel!r}"
    if problem:
        # email-validator's messages may quote the address: keep only a generic reason.
        raise InvalidAddress(f"invalid {channel} address: {_scrub(problem, address)}")


def _scrub(problem: str, address: str) -> str:
    return problem.replace(address, "<address>")
