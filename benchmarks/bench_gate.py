"""Quality gate benchmark: `omniplay gate` over a 1M-row activation queue, time and peak RSS.

    .venv/bin/python benchmarks/bench_gate.py --rows 1000000 2000000

For each size, one DuckDB file is generated with the queue (7 plays: SMS, email, store)
and the source tables the gate reads, shaped like a build for `rows * 1.5` profiles:
holdout assignments (global + one scope per play), consent per profile and channel,
identity map, consent log with GDPR objections and do-not-contact requests, CRM
customers, stores. Queue rows respect all of it except one planted fault: 100 holdout
members in `wishlist_back_in_stock`, so one play is blocked (exit 3) and the blocked
path (Data Docs) is part of the measurement.

Then `omniplay gate` runs as a subprocess twice: the first run (no history), and the
next day's run (run_date + 1, sizes compared with the first). Wall time and the gate
process's peak RSS (wait4) are reported with the load average around each run, as JSON
lines appended to benchmarks/out/gate.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "out"

PLAYS = [
    ("cart_abandoners", "sms", "sms"),
    ("repeat_viewers_high_score", "sms", "sms"),
    ("event_badge_follow_up", "email", "email"),
    ("lapsed_loyalty_winback", "email", "email"),
    ("high_intent_store_task", "store", "store_tasks"),
    ("new_loyalty_member_welcome", "email", "email"),
    ("wishlist_back_in_stock", "email", "email"),
]
PLANTED_LEAK = 100


def build(db: Path, rows: int) -> None:
    """The queue and source tables, generated in DuckDB (see the module docstring)."""
    import duckdb

    if db.exists():
        db.unlink()
    profiles = rows * 3 // 2
    con = duckdb.connect(str(db), config={"memory_limit": "2GB"})
    for schema in ("activation", "marts", "staging"):
        con.execute(f"create schema {schema}")
    pid = "'p' || lpad(cast(i as varchar), 9, '0')"
    # Profile i: global holdout when i % 20 = 0, play holdout when i % 10 = 1, GDPR objection
    # when i % 50000 = 7, CRM do-not-contact when i % 50000 = 17, no e-mail consent when i % 11 = 3.
    con.execute(f"create table marts.dim_profiles as select {pid} as profile_id, false as do_not_contact, i "
                f"from range({profiles}) t(i)")
    scopes = " union all ".join(
        [f"select {pid} as profile_id, 'global' as scope, case when i % 20 = 0 then 'holdout' else 'treatment' end "
         f"as arm from range({profiles}) t(i)"]
        + [f"select {pid}, '{play}', case when i % 10 = 1 then 'holdout' else 'treatment' end "
           f"from range({profiles}) t(i)" for play, _, _ in PLAYS])
    con.execute(f"create table marts.dim_holdout_assignments as {scopes}")
    con.execute(f"""
        create table marts.dim_profile_consent as
        select {pid} as profile_id, channel,
               case when i % 50000 in (7, 17) then false when channel = 'email' and i % 11 = 3 then false
                    else true end as is_allowed,
               case when i % 50000 = 7 then 'gdpr_objection' when i % 50000 = 17 then 'do_not_contact'
                    when channel = 'email' and i % 11 = 3 then 'opted_out' else 'opted_in' end as reason
        from range({profiles}) t(i), (values ('email'), ('sms'), ('store')) c(channel)""")
    con.execute(f"""
        create table marts.dim_identity_map as
        select 'crm_id' as identifier_type, 'C' || i as identifier_value, {pid} as profile_id from range({profiles}) t(i)
        union all select 'email', 'user' || i || '@example.com', {pid} from range({profiles}) t(i)
        union all select 'phone', '+1415' || lpad(cast(i as varchar), 7, '0'), {pid} from range({profiles}) t(i)""")
    con.execute(f"""
        create table staging.stg_consent__consent_log as
        select 'CE' || i as consent_event_id, 'email' as identifier_type, 'user' || i || '@example.com' as identifier_value,
               'email' as channel, case when i % 11 = 3 then 'opt_out' else 'opt_in' end as action,
               timestamp '2026-01-01' as occurred_at
        from range({profiles}) t(i)
        union all
        select 'CG' || i, 'crm_id', 'C' || i, 'all', 'gdpr_objection', timestamp '2026-02-01'
        from range({profiles}) t(i) where i % 50000 = 7""")
    con.execute(f"create table staging.stg_crm__customers as select 'C' || i as crm_id, i % 50000 = 17 as do_not_contact "
                f"from range({profiles}) t(i)")
    con.execute("create table staging.stg_stores__stores as select 'S' || lpad(cast(i as varchar), 3, '0') as store_id, "
                "i = 0 as is_online from range(51) t(i)")
    addresses = {"email": "'user' || i || '@example.com'", "sms": "'+1415' || lpad(cast(i as varchar), 7, '0')",
                 "store": "'S' || lpad(cast(i % 50 + 1 as varchar), 3, '0')"}
    per_play = rows // len(PLAYS)
    parts = []
    for k, (play, channel, destination) in enumerate(PLAYS):
        eligible = (f"i % 20 <> 0 and i % 10 <> 1 and i % 50000 not in (7, 17)"
                    + (" and i % 11 <> 3" if channel == "email" else ""))
        take = per_play + (rows - per_play * len(PLAYS) if k == len(PLAYS) - 1 else 0)
        parts.append(f"""
            select * from (
                select md5('{play}|' || i) as message_id, date '2026-11-22' as run_date,
                       timestamp '2026-11-22 06:00:00' as decided_at, '{play}' as play_id, 'v1' as play_version,
                       {pid} as profile_id, '{channel}' as channel, '{destination}' as destination,
                       {addresses[channel]} as address, 'Europe/London' as recipient_timezone,
                       timestamp '2026-11-22 08:00:00' as not_before, timestamp '2026-11-23 08:00:00' as not_after,
                       '{play}' as template, '{{"first_name":"Ann"}}' as payload
                from range({profiles}) t(i) where {eligible} and i % {len(PLAYS)} = {k}
                limit {take})""")
    con.execute("create table activation.activation_queue as " + " union all ".join(parts))
    got = con.execute("select count(*) from activation.activation_queue").fetchone()[0]
    assert got == rows, f"generated {got} queue rows, wanted {rows} (too few eligible profiles)"
    # The planted fault: global holdout members e-mailed by wishlist_back_in_stock.
    con.execute(f"""
        insert into activation.activation_queue
        select md5('leak|' || i), date '2026-11-22', timestamp '2026-11-22 06:00:00', 'wishlist_back_in_stock', 'v1',
               {pid}, 'email', 'email', 'user' || i || '@example.com', 'Europe/London',
               timestamp '2026-11-22 08:00:00', timestamp '2026-11-23 08:00:00', 'wishlist_back_in_stock', '{{}}'
        from range({PLANTED_LEAK}) t(j), (select j * 220 as i) p""")
    con.close()


def run_gate(db: Path, docs: Path) -> dict:
    env = {**os.environ, "OMNIPLAY_DUCKDB_PATH": str(db), "OMNIPLAY_TARGET": "duckdb",
           "OMNIPLAY_GATE_DOCS_DIR": str(docs), "OMNIPLAY_LOG_LEVEL": "WARNING"}
    load_before = os.getloadavg()
    out_path, err_path = docs.with_suffix(".stdout"), docs.with_suffix(".stderr")
    start = time.perf_counter()
    with out_path.open("w") as out_fh, err_path.open("w") as err_fh:
        proc = subprocess.Popen([str(REPO / ".venv" / "bin" / "omniplay"), "gate", "--json"], env=env,
                                stdout=out_fh, stderr=err_fh)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (peak RSS)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    out, err = out_path.read_text(), err_path.read_text()
    report = json.loads(out) if out.strip() else {}
    return {
        "exit_code": proc.returncode,
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "load_before": [round(x, 1) for x in load_before],
        "load_after": [round(x, 1) for x in os.getloadavg()],
        "blocked": [p["play_id"] for p in report.get("plays", []) if p["outcome"] == "blocked"],
        "reasons": {p["play_id"]: p["reasons"] for p in report.get("plays", []) if p["reasons"]},
        "stderr_tail": err.strip().splitlines()[-1:] if proc.returncode not in (0, 3) else [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/omniplay-bench-gate"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    import duckdb

    for rows in args.rows:
        db = args.workdir / f"gate_{rows}.duckdb"
        t0 = time.perf_counter()
        build(db, rows)
        generated = time.perf_counter() - t0
        for label in ("first_run", "next_day"):
            if label == "next_day":
                with duckdb.connect(str(db)) as con:
                    con.execute("update activation.activation_queue set run_date = run_date + 1")
            result = {"bench": "gate", "run": label, "queue_rows": rows + PLANTED_LEAK,
                      "generate_s": round(generated, 1), **run_gate(db, args.workdir / f"docs_{rows}"),
                      "cpus": os.cpu_count(), "python": platform.python_version(),
                      "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            print(json.dumps(result), flush=True)
            with (OUT / "gate.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    sys.exit(main())
