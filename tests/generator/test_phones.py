"""Generated phone numbers: valid, unique, and recoverable from every written style."""

from __future__ import annotations

import numpy as np
import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from omniplay.generator import phones as ph
from omniplay.generator.catalog import COUNTRIES
from omniplay.generator.dataset import MAX_CUSTOMERS
from tests.generator import normalize as N


@settings(max_examples=100, deadline=None)
@given(person=st.integers(0, MAX_CUSTOMERS - 1), country=st.integers(0, len(COUNTRIES) - 1))
def test_every_style_normalizes_back_to_a_valid_e164(person: int, country: int) -> None:
    c = np.full(ph.N_STYLES, country)
    p = np.full(ph.N_STYLES, person)
    written = ph.phones(c, p, np.arange(ph.N_STYLES)).to_pylist()
    e164 = written[ph.E164]
    number = phonenumbers.parse(e164)
    assert phonenumbers.is_valid_number(number), e164
    assert phonenumbers.region_code_for_number(number) == COUNTRIES[country]
    assert phonenumbers.number_type(number) in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    for style, text in enumerate(written):
        context = COUNTRIES[country] if style in ph.NATIONAL_STYLES else None
        assert N.phone(text, context) == e164, (style, text)
    # the national form is exactly what phonenumbers itself writes
    assert written[ph.NATIONAL] == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert written[ph.INTERNATIONAL] == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def test_numbers_are_unique_per_person_up_to_capacity() -> None:
    rng = np.random.default_rng(0)
    people = np.r_[np.arange(50_000), rng.choice(MAX_CUSTOMERS, 50_000, replace=False)]
    for c in range(len(COUNTRIES)):
        numbers = ph.phones(np.full(len(people), c), people, np.full(len(people), ph.E164)).to_pylist()
        assert len(set(numbers)) == len(set(people.tolist())), COUNTRIES[c]


def test_every_number_range_is_valid_for_its_country() -> None:
    rng = np.random.default_rng(1)
    for country, (length, prefixes) in ph.RANGES.items():
        code = phonenumbers.country_code_for_region(country)
        for prefix in prefixes:
            for _ in range(40):
                nsn = prefix + "".join(map(str, rng.integers(0, 10, length - len(prefix))))
                assert phonenumbers.is_valid_number(phonenumbers.parse(f"+{code}{nsn}")), (country, nsn)
