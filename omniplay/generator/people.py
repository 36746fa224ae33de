"""One chunk of simulated people: who they are and which identifiers the retailer holds.

Kinds of people:

* identified (most): known to the retailer through CRM, loyalty, a web account and/or
  an event badge. Their *primary* record (CRM, else loyalty, else account, else badge)
  carries every contact point they gave (e-mail, phone), so each of their identifiers
  co-occurs with another one somewhere: the identity graph is resolvable.
* anonymous web visitors: a single cookie or app device id that never logs in.
* anonymous shoppers: a single card token used in stores without a loyalty card.

Households: a few pairs of identified people (same last name, country and home store)
share the head's e-mail address. Both people map that e-mail in the identity truth;
each also has a CRM record (distinct crm_id) and the partner always has an own phone.
That is the trap for resolvers that merge on e-mail alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from omniplay.generator import _arrow as A
from omniplay.generator import catalog as C
from omniplay.generator import phones as ph
from omniplay.generator.reference import DAY, World

IDENTIFIED, ANON_WEB, ANON_SHOPPER = 0, 1, 2
PRIMARY_CRM, PRIMARY_LOYALTY, PRIMARY_ACCOUNT, PRIMARY_BADGE = 0, 1, 2, 3
YEAR = 365 * DAY

# Scrambled, bijective numbering so that a person's crm, loyalty and user ids (and
# phone/e-mail numbers) do not share a number a resolver could match on.
_ID_DIGITS = 7


def scramble(x: np.ndarray, mult: int, add: int, width: int = _ID_DIGITS) -> np.ndarray:
    """A bijection of ``[0, 10**width)``: affine steps (odd, non-5 multipliers) and digit rotations."""
    modulus = 10**width
    shift = max(1, width // 2)
    low = 10 ** (width - shift)
    x = np.asarray(x, dtype=np.int64) % modulus
    for k in range(3):
        x = (x * (mult + 20 * k) + add + 7 * k) % modulus
        x = (x % low) * 10**shift + x // low
    return x


def _flat(groups: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate per-country lists; return values plus each country's offset and length."""
    lengths = np.array([len(g) for g in groups])
    offsets = np.r_[0, np.cumsum(lengths)[:-1]]
    return np.concatenate([np.asarray(g) for g in groups]), offsets, lengths


_FIRST, _FIRST_OFF, _FIRST_LEN = _flat([C.FIRST_NAMES[c] for c in C.COUNTRIES])
_LAST, _LAST_OFF, _LAST_LEN = _flat([C.LAST_NAMES[c] for c in C.COUNTRIES])
_FIRST_ASCII = [C.ascii_fold(x) for x in _FIRST]
_LAST_ASCII = [C.ascii_fold(x) for x in _LAST]
_INITIALS = [x[0] for x in _FIRST_ASCII]
_TOKENS = pa.array(_FIRST_ASCII + _LAST_ASCII + _INITIALS)
_DOMAINS, _DOM_OFF, _DOM_LEN = _flat([[d for d, _ in C.EMAIL_DOMAINS[c]] for c in C.COUNTRIES])
_DOM_W = [np.array([w for _, w in C.EMAIL_DOMAINS[c]], dtype=float) for c in C.COUNTRIES]
_DOM_CDF = [np.cumsum(w / w.sum()) for w in _DOM_W]


def within(rng: np.random.Generator, offsets: np.ndarray, lengths: np.ndarray, group: np.ndarray) -> np.ndarray:
    """A uniformly random member index of each row's group in a flattened list."""
    return offsets[group] + np.floor(rng.random(len(group)) * lengths[group]).astype(np.int64)


@dataclass
class People:
    """Per-person attributes of one chunk (arrays of the chunk's length)."""

    n: int
    p: np.ndarray              # global person index
    person_id: pa.Array
    country: np.ndarray
    kind: np.ndarray
    partner: np.ndarray        # shares the previous person's (household head's) e-mail
    first_name: pa.Array
    last_name: pa.Array
    home_store: np.ndarray
    has_email: np.ndarray
    has_phone: np.ndarray
    has_crm: np.ndarray
    has_loyalty: np.ndarray
    has_account: np.ndarray
    attendee: np.ndarray
    primary: np.ndarray
    email: pa.Array            # normalized e-mail (lower-case), defined for everyone
    e164: pa.Array             # normalized phone, defined for everyone
    crm_id: pa.Array
    loyalty_id: pa.Array
    user_id: pa.Array
    activity: np.ndarray       # how active the person is (mean 1)
    dnc: np.ndarray
    objected: np.ndarray
    objected_at: np.ndarray

    # --- raw (messy) renderings for source records -------------------------------------
    def raw_email(self, rng: np.random.Generator, rows: np.ndarray, junk_share: float = 0.5) -> pa.Array:
        """The person's e-mail as typed into a record; junk or null when they gave none."""
        base = self.email.take(pa.array(rows))
        style = rng.choice(6, size=len(rows), p=[0.62, 0.12, 0.05, 0.10, 0.06, 0.05])
        upper = pc.utf8_upper(base)
        cap = pc.utf8_capitalize(base)
        padded = pc.binary_join_element_wise(" ", base, "  ", "")
        padded_cap = pc.binary_join_element_wise("  ", cap, " ", "")
        title = pc.utf8_title(base)
        real = pc.choose(pa.array(style.astype(np.int8)), base, cap, upper, padded, padded_cap, title)
        junk = A.pick(list(C.JUNK_EMAILS), rng.choice(len(C.JUNK_EMAILS), size=len(rows), p=C.JUNK_EMAIL_WEIGHTS),
                      null_mask=rng.random(len(rows)) >= junk_share)
        return pc.if_else(pa.array(self.has_email[rows]), real, junk)

    def raw_phone(self, rng: np.random.Generator, rows: np.ndarray, national_ok: np.ndarray | bool,
                  include: np.ndarray | None = None, junk_share: float = 0.3) -> pa.Array:
        """The person's phone as typed; national formats only where the record gives a country."""
        k = len(rows)
        national_ok = np.broadcast_to(np.asarray(national_ok), (k,))
        style_nat = rng.choice(ph.N_STYLES, size=k, p=[0.12, 0.12, 0.06, 0.30, 0.08, 0.10, 0.14, 0.08])
        style_int = rng.choice(ph.INTERNATIONAL_STYLES, size=k, p=[0.6, 0.3, 0.1])
        style = np.where(national_ok, style_nat, style_int)
        real = ph.phones(self.country[rows], self.p[rows], style)
        junk = A.pick(list(C.JUNK_PHONES), rng.choice(len(C.JUNK_PHONES), size=k, p=C.JUNK_PHONE_WEIGHTS),
                      null_mask=rng.random(k) >= junk_share)
        keep = self.has_phone[rows] if include is None else (self.has_phone[rows] & include)
        return pc.if_else(pa.array(keep), real, junk)

    def raw_id(self, rng: np.random.Generator, ids: pa.Array, rows: np.ndarray, messy: float = 0.05) -> pa.Array:
        """An id as typed elsewhere: sometimes lower-case or padded with spaces."""
        base = ids.take(pa.array(rows))
        style = np.where(rng.random(len(rows)) < messy, rng.integers(1, 3, size=len(rows)), 0)
        return pc.choose(pa.array(style.astype(np.int8)), base, pc.utf8_lower(base),
                         pc.binary_join_element_wise(" ", base, " ", ""))

    def names(self, rng: np.random.Generator, rows: np.ndarray, messy: float = 0.0) -> tuple[pa.Array, pa.Array]:
        first = self.first_name.take(pa.array(rows))
        last = self.last_name.take(pa.array(rows))
        if messy:
            style = np.where(rng.random(len(rows)) < messy, rng.integers(1, 3, size=len(rows)), 0)
            last = pc.choose(pa.array(style.astype(np.int8)), last, pc.utf8_upper(last),
                             pc.binary_join_element_wise(last, " ", ""))
        return first, last


def make_people(world: World, rng: np.random.Generator, first_person: int, n: int) -> People:
    """Draw who the chunk's people are and which identifiers they have."""
    p = first_person + np.arange(n, dtype=np.int64)
    country = rng.choice(len(C.COUNTRIES), size=n, p=np.array(C.COUNTRY_WEIGHTS) / sum(C.COUNTRY_WEIGHTS))
    kind = rng.choice(3, size=n, p=[0.82, 0.11, 0.07])
    ident = kind == IDENTIFIED

    head = np.zeros(n, dtype=bool)
    if n > 1:
        even = np.flatnonzero(ident[:-1] & ident[1:] & (np.arange(n - 1) % 2 == 0))
        head[even[rng.random(len(even)) < 0.02]] = True
    partner = np.zeros(n, dtype=bool)
    partner[1:] = head[:-1]
    src = np.arange(n)
    src[partner] -= 1  # the household head's row
    country = country[src]

    first_idx = within(rng, _FIRST_OFF, _FIRST_LEN, country)
    last_idx = within(rng, _LAST_OFF, _LAST_LEN, country)[src]
    flat_stores, st_off, st_len = _flat(world.stores_by_country)
    home_store = flat_stores[within(rng, st_off, st_len, country)][src]

    has_email = ident & (rng.random(n) < 0.93)
    has_phone = ident & (rng.random(n) < 0.80)
    has_email |= ident & ~has_email & ~has_phone
    has_crm = ident & (rng.random(n) < 0.85)
    has_loyalty = ident & (rng.random(n) < 0.45)
    has_account = ident & (rng.random(n) < 0.55)
    attendee = ident & (rng.random(n) < 0.025)
    has_crm |= ident & ~(has_loyalty | has_account | attendee)
    has_email |= has_account  # an online account needs a login e-mail
    has_email |= head | partner
    has_crm |= head | partner
    has_phone |= partner
    has_account &= ~partner  # the shared address already logs in the head's account
    primary = np.select([has_crm, has_loyalty, has_account], [PRIMARY_CRM, PRIMARY_LOYALTY, PRIMARY_ACCOUNT],
                        PRIMARY_BADGE)

    # E-mail local parts from the ASCII-folded name plus a scrambled, person-unique number.
    n_first = len(_FIRST_ASCII)
    pattern = rng.choice(5, size=n, p=[0.35, 0.2, 0.15, 0.15, 0.15])
    n_last = len(_LAST_ASCII)
    tok1 = np.select([pattern == 2, pattern == 3], [n_first + n_last + first_idx, n_first + last_idx], first_idx)
    tok2 = np.where(pattern == 3, first_idx, n_first + last_idx)
    seps = pa.array([".", "", "", ".", "_"]).take(pa.array(pattern))
    number = pc.cast(pa.array(scramble(p, 7919, 4517)), pa.string())
    dom = np.empty(n, dtype=np.int64)
    u = rng.random(n)
    for c in range(len(C.COUNTRIES)):
        sel = country == c
        dom[sel] = _DOM_OFF[c] + np.minimum(np.searchsorted(_DOM_CDF[c], u[sel], side="right"), _DOM_LEN[c] - 1)
    email = pc.binary_join_element_wise(_TOKENS.take(pa.array(tok1)), seps, _TOKENS.take(pa.array(tok2)), number,
                                        "@", pa.array(_DOMAINS).take(pa.array(dom)), "")
    email = email.take(pa.array(src))

    eu = np.isin(country, [C.COUNTRIES.index(c) for c in C.EU_COUNTRIES])
    objected = ident & eu & (rng.random(n) < 0.006)
    objected_at = world.start - rng.integers(DAY, YEAR, size=n) + rng.integers(0, world.days * DAY, size=n) // 2
    return People(
        n=n, p=p, person_id=A.prefixed_ids("PR", p + 1, 8), country=country, kind=kind, partner=partner,
        first_name=pa.array(_FIRST).take(pa.array(first_idx)),
        last_name=pa.array(_LAST).take(pa.array(last_idx)),
        home_store=home_store, has_email=has_email, has_phone=has_phone, has_crm=has_crm,
        has_loyalty=has_loyalty, has_account=has_account, attendee=attendee, primary=primary,
        email=email, e164=ph.phones(country, p, np.full(n, ph.E164)),
        crm_id=A.prefixed_ids("C", scramble(p, 3_000_017, 811), 7),
        loyalty_id=A.prefixed_ids("L", scramble(p, 1_000_003, 4_242_421), 7),
        user_id=A.prefixed_ids("U", scramble(p, 9_000_011, 1_717_171), 7),
        activity=rng.gamma(2.0, 0.5, size=n),
        dnc=has_crm & (rng.random(n) < 0.008),
        objected=objected, objected_at=np.minimum(objected_at, world.as_of - DAY),
    )
