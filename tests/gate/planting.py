"""Plant bad plays into a real activation queue, through the same Warehouse API on either engine.

Planted plays are clones of rows the real build put in the queue (valid e-mail rows of
real plays, fresh message ids), plus one planted fault each, so each is bad in exactly
one way and the gate's verdict can be checked reason by reason.
"""

from __future__ import annotations

from omniplay.warehouse import Warehouse

QUEUE = "activation.activation_queue"
COLUMNS = ("message_id", "run_date", "decided_at", "play_id", "play_version", "profile_id", "channel",
           "destination", "address", "recipient_timezone", "not_before", "not_after", "template", "payload")

DUPLICATE = "planted_duplicate_ids"
HOLDOUT = "planted_holdout_leak"
NO_CONSENT = "planted_no_consent"
BLOCKED = "planted_blocked_profile"
BAD_ADDRESS = "planted_bad_address"
BAD_WINDOW = "planted_bad_window"
SIZE_JUMP = "planted_size_jump"
GOOD = "planted_good"

BASE_ROWS = 4
_BASE = f"(select * from {QUEUE} where play_id not like 'planted%' and channel = 'email' order by message_id limit {{n}}) base"


def _select(message_id: str, play: str, profile: str = "base.profile_id") -> str:
    cols = {c: f"base.{c}" for c in COLUMNS}
    cols.update(message_id=message_id, play_id=play, profile_id=profile)
    return "select " + ", ".join(cols[c] for c in COLUMNS)


def base_rows(wh: Warehouse) -> int:
    return int(wh.fetchall(f"select count(*) from {_BASE.format(n=BASE_ROWS)}")[0][0])


def clone(wh: Warehouse, play: str, *, times: int = 1, n: int = BASE_ROWS, tag: str = "") -> None:
    """`n` valid base rows under `play` (repeated `times`; ids distinct per play, tag and repeat)."""
    for k in range(times):
        wh.execute(f"insert into {QUEUE} {_select('md5(base.message_id || ?)', '?')} from {_BASE.format(n=n)}",
                   (f"{play}|{tag}{k}", play))


def add_profile_row(wh: Warehouse, play: str, profile_id: str) -> None:
    """One more row for `profile_id` (an otherwise valid e-mail row) in `play`."""
    wh.execute(f"insert into {QUEUE} {_select('md5(?)', '?', '?')} from {_BASE.format(n=1)}",
               (f"{play}|{profile_id}", play, profile_id))


def _one(wh: Warehouse, sql: str, what: str) -> str:
    rows = wh.fetchall(sql)
    assert rows, f"the test dataset has no {what} to plant"
    return rows[0][0]


_GLOBAL_HOLDOUT = "select profile_id from marts.dim_holdout_assignments where arm = 'holdout' and scope = 'global'"


def holdout_member(wh: Warehouse) -> str:
    """A global-holdout profile that may otherwise get e-mail (so only the holdout check can catch it)."""
    return _one(wh, "select h.profile_id from marts.dim_holdout_assignments h "
                    "inner join marts.dim_profile_consent c on c.profile_id = h.profile_id "
                    "and c.channel = 'email' and c.is_allowed "
                    "where h.scope = 'global' and h.arm = 'holdout' order by 1 limit 1", "e-mailable holdout member")


def opted_out_profile(wh: Warehouse) -> str:
    return _one(wh, "select profile_id from marts.dim_profile_consent where channel = 'email' "
                    f"and reason = 'opted_out' and profile_id not in ({_GLOBAL_HOLDOUT}) order by 1 limit 1",
                "profile opted out of e-mail")


def blocked_profile(wh: Warehouse) -> str:
    return _one(wh, "select profile_id from marts.dim_profile_consent where channel = 'email' "
                    "and reason in ('gdpr_objection', 'do_not_contact') "
                    f"and profile_id not in ({_GLOBAL_HOLDOUT}) order by 1 limit 1",
                "profile with a GDPR objection or do-not-contact")


def shift_run_date(wh: Warehouse, days: int) -> None:
    wh.execute(f"update {QUEUE} set run_date = cast(run_date + interval '{int(days)} day' as date)")


def plant_previous_run(wh: Warehouse) -> None:
    """Yesterday's queue: the real plays plus the size-jump and good plays at base size."""
    clone(wh, SIZE_JUMP)
    clone(wh, GOOD)
    shift_run_date(wh, -1)


def plant_bad_plays(wh: Warehouse) -> None:
    """Today's queue (run date back to the build's): one planted fault per bad play."""
    shift_run_date(wh, 1)
    clone(wh, SIZE_JUMP, times=2, tag="fan-out")  # 3x yesterday's rows, all valid
    clone(wh, DUPLICATE)
    wh.execute(f"insert into {QUEUE} select * from {QUEUE} where message_id = "
               f"(select min(message_id) from {QUEUE} where play_id = ?)", (DUPLICATE,))
    clone(wh, HOLDOUT)
    add_profile_row(wh, HOLDOUT, holdout_member(wh))
    clone(wh, NO_CONSENT)
    add_profile_row(wh, NO_CONSENT, opted_out_profile(wh))
    clone(wh, BLOCKED)
    add_profile_row(wh, BLOCKED, blocked_profile(wh))
    clone(wh, BAD_ADDRESS)
    wh.execute(f"update {QUEUE} set address = 'someone(at)example.com' where message_id = "
               f"(select min(message_id) from {QUEUE} where play_id = ?)", (BAD_ADDRESS,))
    clone(wh, BAD_WINDOW)
    wh.execute(f"update {QUEUE} set not_after = not_before where message_id = "
               f"(select min(message_id) from {QUEUE} where play_id = ?)", (BAD_WINDOW,))


# The checks each planted play must fail, exactly (a blocked profile also has no consent).
EXPECTED_FAILURES = {
    DUPLICATE: [{"unique_message_id"}],
    HOLDOUT: [{"holdout"}],
    NO_CONSENT: [{"consent"}],
    BLOCKED: [{"blocked_profile"}, {"blocked_profile", "consent"}],
    BAD_ADDRESS: [{"address"}],
    BAD_WINDOW: [{"window"}],
    SIZE_JUMP: [{"size"}],
}
