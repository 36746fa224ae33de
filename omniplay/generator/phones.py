"""Real, valid mobile numbers in the formats people actually type, built vectorized.

Each person gets one unique national significant number (NSN): a number-range prefix
that ``phonenumbers`` accepts as a valid mobile range for the country, followed by a
scrambled function of the person's global index (so no two people share a number).
The written formats are templates taken from ``phonenumbers``' own formatting of a
number in the same range, so national and international forms are the real ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import phonenumbers
from phonenumbers import PhoneNumberFormat

from omniplay.generator._arrow import digits, ragged
from omniplay.generator.catalog import COUNTRIES

# (NSN length, valid number-range prefixes); every completion of a prefix to the NSN
# length is a valid mobile number for that country (checked in tests/generator).
RANGES = {
    "US": (10, ("2125", "3125", "4155", "6175", "2065", "3055", "7135", "4045", "6025", "2155", "7185", "8185")),
    "CA": (10, ("4165", "6045", "5145", "4035", "6135", "9025", "7805", "5065", "2505", "6475")),
    "GB": (10, ("771", "772", "773", "774", "775", "776", "780", "781")),
    "IE": (9, ("83", "85", "86", "87", "89")),
    "DE": (11, ("151", "152", "157", "159", "160", "162", "163", "170", "171", "172", "173", "174", "175", "176")),
    "FR": (9, ("60", "61", "62", "64", "65", "66", "67", "68", "75", "76", "77", "78")),
    "NL": (9, ("61", "62", "63", "64", "65")),
    "ES": (9, ("60", "61", "62", "63", "64", "65", "66", "67", "68", "69", "71", "72", "73", "74")),
}
NANP = ("US", "CA")

# Written styles. International ones can be read without knowing the country; national
# ones need the record's (or its store's) country to recover the E.164 form.
E164, INTERNATIONAL, INTL_00, NATIONAL, NATIONAL_DOTS, NATIONAL_DASHES, NATIONAL_DIGITS, NATIONAL_LONG = range(8)
INTERNATIONAL_STYLES = (E164, INTERNATIONAL, INTL_00)
NATIONAL_STYLES = (NATIONAL, NATIONAL_DOTS, NATIONAL_DASHES, NATIONAL_DIGITS, NATIONAL_LONG)
N_STYLES = 8


def capacity() -> int:
    """How many people can get distinct numbers (the smallest country's capacity)."""
    def one(length: int, prefixes: tuple[str, ...]) -> int:
        tail = length - len(prefixes[0])
        return len(prefixes) * (9 * 10 ** (tail - 1) if tail >= 7 else 10**tail)

    return min(10**7, *(one(*spec) for spec in RANGES.values()))


@dataclass(frozen=True)
class _Template:
    text: bytes          # literal characters, with NSN digit positions as placeholders
    slots: np.ndarray    # positions in ``text`` that take NSN digits 0..len-1


def _template(formatted: str, nsn: str) -> _Template:
    """Find where the NSN's digits sit in a formatted number (they are its last digits)."""
    positions = [i for i, ch in enumerate(formatted) if ch.isdigit()]
    slots = np.array(positions[len(positions) - len(nsn):], dtype=np.int64)
    return _Template(formatted.encode("ascii"), slots)


@lru_cache(maxsize=None)
def _templates(country: str, prefix: str) -> tuple[_Template, ...]:
    length, _ = RANGES[country]
    nsn = prefix + "0" * (length - len(prefix))
    number = phonenumbers.parse(f"+{phonenumbers.country_code_for_region(country)}{nsn}")
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    plain = "".join(ch if ch.isdigit() else " " for ch in national).split()
    styles = {
        E164: e164,
        INTERNATIONAL: international,
        INTL_00: "00" + international[1:],
        NATIONAL: national,
        NATIONAL_DOTS: ".".join(plain),
        NATIONAL_DASHES: "-".join(plain),
        NATIONAL_DIGITS: "".join(plain),
        # NANP: the 11-digit "1-212-555-0100" form; elsewhere the national form with
        # the separators squeezed into a single group after the trunk/area code.
        NATIONAL_LONG: ("1-" + "-".join(plain)) if country in NANP else plain[0] + " " + "".join(plain[1:]),
    }
    return tuple(_template(styles[s], nsn) for s in range(N_STYLES))


@lru_cache(maxsize=None)
def _layouts(country: str) -> tuple[tuple[tuple[_Template, ...], np.ndarray], ...]:
    """Distinct written layouts of a country's ranges, each with the range indices using it."""
    groups: dict[tuple, list[int]] = {}
    first: dict[tuple, tuple[_Template, ...]] = {}
    for k, prefix in enumerate(RANGES[country][1]):
        templates = _templates(country, prefix)
        key = tuple((bytes(b if i not in set(t.slots.tolist()) else 0 for i, b in enumerate(t.text)),
                     tuple(t.slots.tolist())) for t in templates)
        groups.setdefault(key, []).append(k)
        first.setdefault(key, templates)
    return tuple((first[key], np.array(members)) for key, members in groups.items())


def _scramble(x: np.ndarray, mult: int, add: int, width: int) -> np.ndarray:
    from omniplay.generator.people import scramble

    return scramble(x, mult, add, width)


def phone_matrix(country_code: np.ndarray, person: np.ndarray, style: np.ndarray) -> "tuple[np.ndarray, np.ndarray]":
    """Byte matrix and lengths of each person's number written in the given style."""
    n = len(person)
    out = np.zeros((n, 24), dtype=np.uint8)
    lengths = np.zeros(n, dtype=np.int64)
    for c, country in enumerate(COUNTRIES):
        length, prefixes = RANGES[country]
        in_country = country_code == c
        if not in_country.any():
            continue
        # Distinct people -> distinct q -> distinct (range, serial): numbers never collide.
        q = _scramble(person[in_country].astype(np.int64), 5_555_557, 31 * (c + 1), 7)
        pfx = q % len(prefixes)
        serial = q // len(prefixes)
        tail = length - len(prefixes[0])
        if tail >= 7:
            # Never seven trailing zeros (staging treats "+44 7710000000"-like numbers as
            # junk): the last digit is 1-9 and carries serial % 9, the rest is scrambled.
            tail_digits = np.empty((len(serial), tail), dtype=np.uint8)
            tail_digits[:, :-1] = digits(_scramble(serial // 9, 7_654_321, 1_234_567 * (c + 1), tail - 1), tail - 1)
            tail_digits[:, -1] = 49 + serial % 9
        else:
            tail_digits = digits(_scramble(serial, 7_654_321, 1_234_567 * (c + 1), tail), tail)
        rows = np.flatnonzero(in_country)
        st = style[in_country]
        prefix_bytes = np.array([list(p.encode()) for p in prefixes], dtype=np.uint8)
        nsn = np.empty((len(rows), length), dtype=np.uint8)
        nsn[:, : prefix_bytes.shape[1]] = prefix_bytes[pfx]
        nsn[:, prefix_bytes.shape[1]:] = tail_digits
        # Ranges of a country share a written layout except where phonenumbers formats
        # them differently (e.g. German 15x vs 17x): fill once per distinct layout.
        for layout, members in _layouts(country):
            in_layout = np.isin(pfx, members)
            for s, tpl in enumerate(layout):
                sel = in_layout & (st == s)
                if not sel.any():
                    continue
                block = np.frombuffer(tpl.text, dtype=np.uint8)
                mat = np.broadcast_to(block, (int(sel.sum()), len(block))).copy()
                mat[:, tpl.slots] = nsn[sel]
                target = rows[sel]
                out[target, : len(block)] = mat
                lengths[target] = len(block)
    return out, lengths


def phones(country_code: np.ndarray, person: np.ndarray, style: np.ndarray):
    """Each person's number (``person`` = global person index) written in ``style``."""
    mat, lengths = phone_matrix(country_code, person, style)
    return ragged(mat, lengths)
