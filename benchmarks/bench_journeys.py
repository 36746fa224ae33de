"""Events + journeys at scale: a full build of ~20M events, then a nightly build of one new day.

On a dataset generated with the real generator (reused when the folder already holds a
complete one of the same size and seed), on a fresh DuckDB file:

1. the data as loaded by one day before the dataset's end (tests/journeys/datasets.py:
   every row with `_loaded_at` up to then; late events of that day arrive with step 3);
   upstream models built untimed (staging views, identity, merges);
2. timed: the event and journey models, from scratch (`full`);
3. the whole dataset: upstream rebuilt untimed (identity takes in the new day), then
   timed: the same models again, incremental (`incremental`).

"Events + journeys" (the issue's target) is exactly these six models, one `dbt run`:
fct_customer_events (the event stream, with the five int_events_* views it reads and the
identity lookup), int_journey_stage_timeline, fct_journey_stage_history,
int_profile_current_stage, fct_customer_journeys, rpt_journey_kpis. Not in it: staging
tables and identity (dim_identity_map, fct_identity_merges), built before the clock
starts. Triggers and holdouts are timed after each step too, reported apart
(`triggers_holdouts`). Figures: dbt's own
elapsed time of the invocation, the wall time around it (dbt start-up included), the
process's CPU time (dbt and DuckDB's threads) and the per-model execution times from
run_results.json.

Usage (from the repository root):

    flock /tmp/omniplay-bench.lock .venv/bin/python benchmarks/bench_journeys.py --workdir /tmp/bench-journeys

(1M customers, 120 days, seed 42: ~20M events, the generator benchmark's dataset).

Prints one JSON document and writes it beside the DuckDB file as `result.json`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parents[1]
if str(REPO_DIR) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO_DIR))

from benchmarks.bench_identity import dataset, machine  # noqa: E402
from omniplay.dbt import run_dbt  # noqa: E402
from omniplay.settings import DATA_DIR_ENV, DUCKDB_PATH_ENV, PROJECT_DIR_ENV, TARGET_ENV, Settings  # noqa: E402
from tests.journeys.datasets import as_of, snapshot  # noqa: E402

TIMED = ("fct_customer_events", "int_journey_stage_timeline", "fct_journey_stage_history",
         "int_profile_current_stage", "fct_customer_journeys", "rpt_journey_kpis")
TRIGGERS_HOLDOUTS = ("int_trigger_cart_abandonment", "int_trigger_high_intent", "int_trigger_repeat_product_view",
                     "int_trigger_back_in_stock", "int_trigger_badge_scan_follow_up",
                     "int_trigger_lapsed_loyalty_member", "int_trigger_new_loyalty_member", "fct_trigger_fires",
                     "dim_holdout_assignments", "fct_holdout_retirements", "rpt_holdout_srm")
# Everything the timed models (and triggers, holdouts) read, built before the clock starts.
UPSTREAM = ("+fct_customer_events", "+fct_identity_merges", "+fct_trigger_fires", "+rpt_holdout_srm",
            "+fct_holdout_retirements")
# Whatever reads the event stream (touchpoints, the current stage on dim_profiles) and
# what triggers and holdouts read through it are built (untimed) after the timed models,
# not with the rest of the upstream.
AFTER_TIMED = tuple(f"fct_customer_events+,{top}" for top in UPSTREAM[2:])
UPSTREAM_EXCLUDE = TIMED + TRIGGERS_HOLDOUTS + ("fct_customer_events+",)
FULL_TARGET_S, INCREMENTAL_TARGET_S = 45.0, 10.0


def _use(data_dir: Path, root: Path) -> Settings:
    os.environ.update({
        PROJECT_DIR_ENV: str(REPO_DIR), DATA_DIR_ENV: str(data_dir), DUCKDB_PATH_ENV: str(root / "omniplay.duckdb"),
        TARGET_ENV: "duckdb", "DBT_TARGET_PATH": str(root / "target"), "DBT_LOG_PATH": str(root / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    })
    return Settings.from_env()


def _vars(moment: dt.datetime) -> dict[str, str]:
    return {"omniplay__as_of": moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")}


def timed_run(settings: Settings, root: Path, select: tuple[str, ...], moment: dt.datetime,
              full_refresh: bool = False) -> dict[str, Any]:
    """`dbt run` of `select`, with dbt's elapsed time, the wall time and per-model times."""
    load_before = os.getloadavg()
    began, cpu_began = time.perf_counter(), time.process_time()
    run_dbt("run", settings, select=select, vars=_vars(moment), full_refresh=full_refresh)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    results = json.loads((root / "target" / "run_results.json").read_text())
    per_model = {r["unique_id"].split(".")[-1]: round(r["execution_time"], 2) for r in results["results"]}
    return {
        "dbt_elapsed_s": round(results["elapsed_time"], 2),
        "wall_s": round(wall, 2),
        # dbt and DuckDB run in this process: its CPU time (all threads) is the work done,
        # whatever share of the cores other jobs left it.
        "process_cpu_s": round(cpu, 2),
        "sum_model_s": round(sum(per_model.values()), 2),
        "per_model_s": per_model,
        "loadavg_1m_before_after": [round(load_before[0], 1), round(os.getloadavg()[0], 1)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-journeys"))
    args = parser.parse_args(argv)

    args.workdir.mkdir(parents=True, exist_ok=True)
    data_dir, generated_s = dataset(args.workdir, args.customers, args.days, args.seed)
    end = as_of(data_dir)
    yesterday = end - dt.timedelta(days=1)
    earlier = args.workdir / f"{data_dir.name}-minus-1d"
    if not (earlier / "truth" / "manifest.json").exists():
        snapshot(data_dir, earlier, yesterday)

    root = args.workdir / f"build-journeys-{args.customers}"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)

    settings = _use(earlier, root)
    run_dbt("seed", settings)
    run_dbt("run", settings, select=UPSTREAM, exclude=UPSTREAM_EXCLUDE, vars=_vars(yesterday))
    full = timed_run(settings, root, TIMED, yesterday, full_refresh=True)
    run_dbt("run", settings, select=AFTER_TIMED, exclude=TIMED + TRIGGERS_HOLDOUTS, vars=_vars(yesterday))
    full_extra = timed_run(settings, root, TRIGGERS_HOLDOUTS, yesterday)

    import duckdb

    def count_events() -> int:
        with duckdb.connect(str(root / "omniplay.duckdb"), read_only=True) as con:
            return con.execute("select count(*) from marts.fct_customer_events").fetchone()[0]

    events_before = count_events()
    settings = _use(data_dir, root)
    run_dbt("run", settings, select=UPSTREAM, exclude=UPSTREAM_EXCLUDE, vars=_vars(end))
    incremental = timed_run(settings, root, TIMED, end)
    run_dbt("run", settings, select=AFTER_TIMED, exclude=TIMED + TRIGGERS_HOLDOUTS, vars=_vars(end))
    incremental_extra = timed_run(settings, root, TRIGGERS_HOLDOUTS, end)
    events_after = count_events()
    with duckdb.connect(str(root / "omniplay.duckdb"), read_only=True) as con:
        rewritten = con.execute("select count(*) from marts.fct_customer_events where processed_at = "
                                "(select max(processed_at) from marts.fct_customer_events)").fetchone()[0]
        profiles = con.execute("select count(*) from intermediate.int_profile_current_stage").fetchone()[0]

    result = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "customers": args.customers, "days": args.days, "seed": args.seed,
        "generation_s": None if generated_s is None else round(generated_s, 1),
        "events_full": events_before, "events_after_new_day": events_after,
        "events_written_by_incremental": rewritten, "profiles_in_journeys": profiles,
        "full": full, "incremental": incremental,
        "triggers_holdouts": {"after_full": full_extra, "after_incremental": incremental_extra},
        "checks": {
            "events>=19M": events_before >= 19_000_000,
            f"full_dbt_elapsed<={FULL_TARGET_S:.0f}s": full["dbt_elapsed_s"] <= FULL_TARGET_S,
            f"incremental_dbt_elapsed<={INCREMENTAL_TARGET_S:.0f}s": incremental["dbt_elapsed_s"] <= INCREMENTAL_TARGET_S,
        },
        "machine": machine(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    text = json.dumps(result, indent=2, default=str)
    (root / "result.json").write_text(text)
    print(text)
    return 0 if all(result["checks"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
