"""Decisions and the activation queue at scale: 1M profiles x the project's 7 plays.

The decision models are built for real (`dbt run --select int_play_contact_history
int_play_audiences+` within models/marts/decisions and models/activation: int_play_audiences, int_play_contact_history, int_play_candidates,
fct_play_decisions, rpt_decision_summary, activation_queue) on a fresh DuckDB file whose
upstream relations - dim_profiles, dim_profile_consent, dim_holdout_assignments, dim_play_status,
stg_stores__stores, the seven aud_* audiences and the send ledger - are synthesized in
SQL at the requested size (the same relations tests/decisions/world.py writes):

- every profile is in each audience with probability --audience-share (default 0.5:
  ~3.5M candidates at 1M profiles; 1.0 puts everyone in every play: 7M candidates);
- consent per channel ~60% opted in, ~2% profile-wide blocks, ~5% missing emails,
  ~40% without a phone; holdouts as drawn by the project (5% global, play pct);
- one send-ledger row per profile on average over the last 20 days;
- --history-nights earlier nightly runs (default 30) as the previous build of
  fct_play_exposures: each play exposed ~3% of the profiles a night, 10% of them in the
  control arm, and the treated ones' sends in the ledger, so the held-out candidates'
  "ghost" caps (int_play_contact_history ghost_*) are counted over a month of runs;
- 14 timezones and 5 stores with opening hours.

Usage (from the repository root):

    .venv/bin/python benchmarks/bench_decisions.py --profiles 1000000 --workdir /tmp/bench-decisions

Prints one JSON document (per-model seconds, wall time, process CPU time, rows, machine
and load) and writes it beside the DuckDB file as `result.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parents[1]
if str(REPO_DIR) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO_DIR))

from benchmarks.bench_identity import machine  # noqa: E402
from omniplay.dbt import run_dbt  # noqa: E402
from omniplay.settings import DATA_DIR_ENV, DUCKDB_PATH_ENV, PROJECT_DIR_ENV, TARGET_ENV, Settings  # noqa: E402

# The decision models and the queue (as tests/decisions builds them): the measurement
# models downstream of the decisions need the event stream, which is not synthesized.
SELECTION = ("int_play_contact_history", "int_play_audiences+,path:models/marts/decisions",
             "int_play_audiences+,path:models/activation")
SECONDS_TARGET = 30.0
AS_OF = "2026-06-01 09:00:00"
TIMEZONES = ("UTC", "Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles", "America/St_Johns",
             "Asia/Kolkata", "Asia/Kathmandu", "Australia/Sydney", "Australia/Adelaide", "Pacific/Auckland",
             "Asia/Tokyo", "America/Chicago", "Europe/Madrid")


def synthesize(con, profiles: int, audience_share: float, plays, history_nights: int) -> dict[str, int]:
    """Create the decision models' upstream relations at scale, in SQL."""
    from activation.ledger import ddl

    zones = "[" + ", ".join(f"'{z}'" for z in TIMEZONES) + "]"
    con.execute("set timezone = 'UTC'")
    for schema in ("marts", "staging", "audiences"):
        con.execute(f"create schema if not exists {schema}")
    con.execute("""
        create or replace table staging.stg_stores__stores as
        select * from (values
            ('S001', 'Berlin Mitte', 'Europe/Berlin', time '09:00', time '20:00', false),
            ('S002', 'New York 5th', 'America/New_York', time '10:00', time '21:00', false),
            ('S003', 'Sydney CBD', 'Australia/Sydney', time '08:00', time '17:00', false),
            ('S004', 'London Soho', 'Europe/London', time '09:30', time '19:00', false),
            ('S999', 'Online', 'UTC', null, null, true)
        ) as t(store_id, store_name, timezone, opening_time_local, closing_time_local, is_online)
    """)
    con.execute(f"""
        create or replace table marts.dim_profiles as
        select
            'p' || lpad(cast(i as varchar), 8, '0') as profile_id,
            'Name' || (i % 997) as first_name,
            case when hash(i, 1) % 20 = 0 then null else 'u' || i || '@example.com' end as best_email,
            case when hash(i, 2) % 10 < 4 then null else '+4915' || lpad(cast(i as varchar), 9, '0') end as best_phone,
            ['S001', 'S002', 'S003', 'S004', 'S999', null][1 + cast(hash(i, 3) % 6 as bigint)] as home_store_id,
            {zones}[1 + cast(hash(i, 4) % {len(TIMEZONES)} as bigint)] as timezone,
            [null, 'bronze', 'silver', 'gold'][1 + cast(hash(i, 5) % 4 as bigint)] as loyalty_tier,
            (hash(i, 6) % 1000) / 1000.0 as purchase_propensity,
            hash(i, 7) % 100 = 0 as do_not_contact
        from range({profiles}) as r(i)
    """)
    con.execute("""
        create or replace table marts.dim_profile_consent as
        with raw as (
            select profiles.*, channel, hash(profile_id, channel) % 100 as roll
            from marts.dim_profiles as profiles
            cross join (values ('email'), ('sms'), ('store')) as c(channel)
        )
        select
            profile_id,
            channel,
            not do_not_contact and roll < 60
                and (channel = 'store' or (channel = 'email' and best_email is not null)
                     or (channel = 'sms' and best_phone is not null)) as is_allowed,
            case
                when hash(profile_id) % 100 = 1 then 'gdpr_objection'
                when do_not_contact then 'do_not_contact'
                when channel = 'email' and best_email is null then 'no_address'
                when channel = 'sms' and best_phone is null then 'no_address'
                when roll < 60 then 'opted_in'
                when roll < 80 then 'opted_out'
                else 'no_consent_record'
            end as reason,
            case channel when 'email' then best_email when 'sms' then best_phone end as address,
            timestamp '2026-01-01' as updated_at
        from raw
    """)
    # A blocked profile is allowed nowhere (as dim_profile_consent derives it).
    con.execute("update marts.dim_profile_consent set is_allowed = false where reason = 'gdpr_objection'")
    scopes = [("global", 5.0)] + [(p.id, p.play.holdout_pct if p.play.holdout_pct is not None else 10.0) for p in plays]
    scope_values = ", ".join(f"('{s}', {pct})" for s, pct in scopes)
    con.execute(f"""
        create or replace table marts.dim_holdout_assignments as
        select
            profile_id,
            scope,
            case when hash('omniplay-holdout-v1:' || scope || ':' || profile_id) % 10000 < pct * 100
                then 'holdout' else 'treatment' end as arm,
            'active' as status,
            timestamp '2026-01-01' as assigned_at
        from marts.dim_profiles
        cross join (values {scope_values}) as s(scope, pct)
    """)
    # Guardrail status (models/marts/measurement): every play enabled, none paused.
    play_rows = ", ".join(f"('{p.id}', true, false)" for p in plays)
    con.execute(f"""
        create or replace table marts.dim_play_status as
        select play_id, is_enabled, is_paused, cast(null as timestamp) as last_paused_at,
               cast(null as varchar) as last_breached_metrics, cast(null as timestamp) as last_resumed_at
        from (values {play_rows}) as t(play_id, is_enabled, is_paused)
    """)
    for loaded in plays:
        threshold = int(audience_share * 1000)
        con.execute(f"""
            create or replace table audiences.{loaded.model} as
            select profile_id, 'Product ' || (hash(profile_id, '{loaded.id}') % 500) as product_name,
                   timestamp '{AS_OF}' - interval 3 hour as triggered_at, 'x' as trigger_detail
            from marts.dim_profiles
            where hash(profile_id, '{loaded.id}', 'member') % 1000 < {threshold}
        """)
    for statement in ddl("omniplay_state", "duckdb"):
        con.execute(statement)
    play_ids = "[" + ", ".join(f"'{p.id}'" for p in plays) + "]"
    con.execute(f"""
        insert into omniplay_state.sends
        select
            'm' || i as message_id,
            ['sent', 'sent', 'sent', 'failed', 'pending', 'expired'][1 + cast(hash(i, 11) % 6 as bigint)] as status,
            1, null, null, null,
            timestamp '{AS_OF}' - to_minutes(cast(hash(i, 12) % (20 * 1440) as bigint)) as first_attempt_at,
            null, 'bench', {play_ids}[1 + cast(hash(i, 13) % {len(plays)} as bigint)],
            'p' || lpad(cast(hash(i, 14) % {profiles} as varchar), 8, '0'),
            ['email', 'email', 'sms', 'store'][1 + cast(hash(i, 15) % 4 as bigint)], 'email', null,
            timestamp '{AS_OF}'
        from range({profiles}) as r(i)
    """)
    synthesize_history(con, profiles, plays, history_nights)
    counts = {}
    for table in ("marts.dim_profiles", "marts.dim_holdout_assignments", "omniplay_state.sends",
                  "marts.fct_play_exposures"):
        counts[table] = con.execute(f"select count(*) from {table}").fetchone()[0]
    counts["audience_rows"] = sum(
        con.execute(f"select count(*) from audiences.{p.model}").fetchone()[0] for p in plays)
    return counts


def synthesize_history(con, profiles: int, plays, nights: int) -> None:
    """Earlier nights' exposures (both arms) and the treated arm's sends, as the pipeline leaves them."""
    con.execute("""
        create or replace table marts.fct_play_exposures (
            run_date date, decided_at timestamp, scope varchar, play_id varchar, profile_id varchar,
            arm varchar, control_scope varchar, channel varchar, expected_control_share double,
            attribution_days integer, window_end_at timestamp, cost double)
    """)
    for loaded in plays:
        channels = "[" + ", ".join(f"'{c}'" for c in loaded.play.channels) + "]"
        con.execute(f"""
            insert into marts.fct_play_exposures
            select
                cast(decided_at as date), decided_at, 'play', '{loaded.id}', profile_id,
                case when hash(profile_id, night, 'arm') % 100 < 10 then 'control' else 'treatment' end,
                'play', {channels}[1 + cast(hash(profile_id, night, 'channel') % {len(loaded.play.channels)} as bigint)],
                0.1, 7, decided_at + interval 7 day, 0.0
            from (
                select 'p' || lpad(cast(i as varchar), 8, '0') as profile_id, night,
                       timestamp '{AS_OF}' - to_days(cast(night as integer)) as decided_at
                from range({profiles}) as r(i)
                cross join range(1, {nights} + 1) as n(night)
                where hash(i, night, '{loaded.id}') % 1000 < 30
            )
        """)
    con.execute("""
        insert into omniplay_state.sends
        select
            'h' || play_id || '-' || profile_id || '-' || run_date, 'sent', 1, null, null, null,
            decided_at + to_seconds(cast(hash(profile_id, run_date) % 3600 as bigint)),
            null, 'bench-history', play_id, profile_id, channel, channel, null, decided_at
        from marts.fct_play_exposures
        where arm = 'treatment'
    """)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--audience-share", type=float, default=0.5)
    parser.add_argument("--history-nights", type=int, default=30,
                        help="earlier nightly runs in fct_play_exposures and the ledger (0: none)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-decisions"))
    args = parser.parse_args()

    import duckdb

    from omniplay.plays import load_plays

    plays = [p for p in load_plays(REPO_DIR) if p.play.enabled]
    root = args.workdir / f"run-{args.profiles}-{args.audience_share}"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    db = root / "omniplay.duckdb"
    began = time.perf_counter()
    with duckdb.connect(str(db)) as con:
        rows = synthesize(con, args.profiles, args.audience_share, plays, args.history_nights)
    synth_s = time.perf_counter() - began

    env = {
        PROJECT_DIR_ENV: str(REPO_DIR), DATA_DIR_ENV: str(root / "unused-sources"), DUCKDB_PATH_ENV: str(db),
        TARGET_ENV: "duckdb", "DBT_TARGET_PATH": str(root / "target"), "DBT_LOG_PATH": str(root / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    os.environ.update(env)
    settings = Settings.from_env()
    vars = {"omniplay__as_of": AS_OF, "omniplay__register_source_files": False}
    run_dbt("seed", settings, vars=vars, select=["reason_codes"])
    load_before = os.getloadavg()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    run_dbt("run", settings, select=SELECTION, vars=vars)
    wall = time.perf_counter() - began
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    load_after = os.getloadavg()
    results = json.loads((root / "target" / "run_results.json").read_text())
    per_model = {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2) for r in results["results"]}
    with duckdb.connect(str(db), read_only=True) as con:
        outcomes = dict(con.execute("select outcome, count(*) from marts.fct_play_decisions group by 1").fetchall())
        queued = con.execute("select count(*) from activation.activation_queue").fetchone()[0]
    models_s = round(sum(per_model.values()), 1)
    report: dict[str, Any] = {
        "profiles": args.profiles,
        "plays": len(plays),
        "audience_share": args.audience_share,
        "history_nights": args.history_nights,
        "input_rows": rows,
        "candidates": sum(outcomes.values()),
        "outcomes": outcomes,
        "queue_rows": queued,
        "synthesize_s": round(synth_s, 1),
        "per_model_s": per_model,
        "sum_model_s": models_s,
        "dbt_elapsed_s": round(results["elapsed_time"], 1),
        "wall_s": round(wall, 1),
        # dbt and DuckDB run in this process: its CPU time is the work, whatever the load.
        "cpu_s": round((cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime), 1),
        "peak_rss_mib": round(cpu_after.ru_maxrss / 1024),
        "target_s": SECONDS_TARGET,
        "meets_target_models": models_s <= SECONDS_TARGET,
        "load_avg_before_after": [round(load_before[0], 1), round(load_after[0], 1)],
        "machine": machine(),
    }
    (root / "result.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
