"""Number formatting shared by every section, so terminal and HTML read the same."""

from __future__ import annotations

import math

DASH = "–"


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def count(value) -> str:
    return f"{int(value):,}" if _finite(value) else DASH


def pct(value, digits: int = 1) -> str:
    """A share or rate: 0.123 -> 12.3%."""
    return f"{value * 100:.{digits}f}%" if _finite(value) else DASH


def pp(value, digits: int = 2) -> str:
    """A difference of rates in percentage points: 0.0123 -> +1.23 pp."""
    return f"{value * 100:+.{digits}f} pp" if _finite(value) else DASH


def signed(value, digits: int = 2) -> str:
    return f"{value:+,.{digits}f}" if _finite(value) else DASH


def number(value, digits: int = 2) -> str:
    return f"{value:,.{digits}f}" if _finite(value) else DASH


def rel(value) -> str:
    """Relative lift: 0.2 -> +20.0%."""
    return f"{value * 100:+.1f}%" if _finite(value) else DASH


def interval(low, high, fmt) -> str:
    """`[low, high]` with the estimate's own formatter; a dash when either end is undefined."""
    if not (_finite(low) and _finite(high)):
        return DASH
    return f"[{fmt(low)}, {fmt(high)}]"


def p_value(value) -> str:
    if not _finite(value):
        return DASH
    if value < 1e-16:
        return "<1e-16"
    return format(value, ".2g") if value < 0.001 else format(value, ".3f")


def flag(value) -> str:
    if value is None:
        return DASH
    return "yes" if value else "no"
