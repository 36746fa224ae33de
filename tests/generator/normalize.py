"""The normalization rules of docs/sources.md, written independently of the generator.

Used to check that every identifier in the generated sources maps back to the truth.
"""

from __future__ import annotations

import re

CALLING = {"US": ("1", ""), "CA": ("1", ""), "GB": ("44", "0"), "IE": ("353", "0"), "DE": ("49", "0"),
           "FR": ("33", "0"), "NL": ("31", "0"), "ES": ("34", "")}
JUNK_IDS = {"", "null", "unknown", "n/a", "-1", "0"}
EMAIL_VALID = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = raw.strip().lower()
    return value or None


def phone(raw: str | None, country: str | None) -> str | None:
    if raw is None:
        return None
    kept = re.sub(r"[^0-9+]", "", raw.strip())
    digits = re.sub(r"[^0-9]", "", raw)
    if kept.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif country is None:
        return None
    else:
        code, trunk = CALLING[country]
        if code == "1":
            if len(digits) == 10:
                international = "1" + digits
            elif len(digits) == 11 and digits.startswith("1"):
                international = digits
            else:
                return None
        elif trunk and digits.startswith(trunk):
            international = code + digits[len(trunk):]
        else:
            international = code + digits
    return "+" + international if 8 <= len(international) <= 15 else None


def identifier(raw: str | None, upper: bool = False) -> str | None:
    if raw is None:
        return None
    value = raw.strip()
    if value.lower() in JUNK_IDS:
        return None
    return value.upper() if upper else value
