"""`omniplay demo`: the nightly pipeline, end to end, on a small deterministic dataset.

Runs on embedded DuckDB with sandbox destinations only; safe to run again and again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from omniplay.clock import NOW_ENV, dataset_as_of
from omniplay.generator.response import RESPONSE_TAG
from omniplay.report import collect_report
from omniplay.report.html import write_html
from omniplay.report.terminal import print_report
from omniplay.settings import Settings

DEMO_CUSTOMERS = 2000
DEMO_DAYS = 120
DEMO_SEED = 42
SIMULATED_DAYS = 8
"""The measuring build runs this many days after the night: 7-day attribution windows have closed."""
DEMO_UPLIFT = 0.3

# Relations worth a line in the summary, in pipeline order; missing ones are skipped.
SUMMARY_RELATIONS = [
    ("staging", "stg_crm__customers", "CRM customers (deduplicated)"),
    ("staging", "stg_web__events", "web and app events"),
    ("staging", "stg_pos__transactions", "store transactions"),
    ("staging", "stg_consent__consent_log", "consent events"),
    ("marts", "dim_identity_map", "identifiers resolved"),
    ("marts", "dim_profiles", "unified profiles"),
    ("marts", "dim_profile_consent", "consent rows (profile x channel)"),
    ("marts", "fct_customer_events", "unified events"),
    ("marts", "fct_play_decisions", "play decisions"),
    ("activation", "activation_queue", "messages queued"),
    ("omniplay_state", "gate_results", "gate verdicts"),
    ("omniplay_state", "sends", "messages in the send ledger"),
]


def _ensure_demo_data(settings: Settings, console: Console) -> None:
    """Generate the demo dataset unless the same one is already there."""
    manifest = settings.data_dir / "truth" / "manifest.json"
    if manifest.exists():
        meta = json.loads(manifest.read_text())
        if (meta.get("customers"), meta.get("days"), meta.get("seed")) == (DEMO_CUSTOMERS, DEMO_DAYS, DEMO_SEED):
            console.print(f"[dim]demo data already at {settings.data_dir}[/dim]")
            return
    from omniplay.generator import generate_dataset

    summary = generate_dataset(customers=DEMO_CUSTOMERS, days=DEMO_DAYS, seed=DEMO_SEED, out=settings.data_dir)
    console.print(f"generated: {summary.one_line()}")


def _summary_table(duckdb_path: Path) -> Table:
    import duckdb

    table = Table(title="omniplay demo: what the warehouse now holds")
    table.add_column("relation")
    table.add_column("rows", justify="right")
    table.add_column("what it is")
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        existing = set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())
        for schema, name, label in SUMMARY_RELATIONS:
            if (schema, name) not in existing:
                continue
            rows = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
            table.add_row(f"{schema}.{name}", f"{rows:,}", label)
    return table


def _decisions_table(duckdb_path: Path) -> Table | None:
    import duckdb

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        tables = {row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
        if "fct_play_decisions" not in tables:
            return None
        rows = con.execute(
            "select play_id, outcome, count(*) from marts.fct_play_decisions group by all order by 1, 3 desc"
        ).fetchall()
    table = Table(title="decided: every candidate's outcome, per play")
    table.add_column("play")
    table.add_column("outcome")
    table.add_column("candidates", justify="right")
    for play_id, outcome, n in rows:
        table.add_row(play_id, outcome, f"{n:,}")
    return table


def _gate_table(duckdb_path: Path) -> Table | None:
    import duckdb

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        exists = con.execute("select count(*) from information_schema.tables "
                             "where table_schema = 'omniplay_state' and table_name = 'gate_results'").fetchall()[0][0]
        if not exists:
            return None
        rows = con.execute(
            "select play_id, outcome, queue_rows, coalesce(reasons, '') from omniplay_state.gate_results "
            "where gate_run_id = (select gate_run_id from omniplay_state.gate_results order by gated_at desc limit 1) "
            "order by play_id"
        ).fetchall()
    table = Table(title="gated: quality gate verdicts before sending")
    for column in ("play", "verdict", "queued", "reasons"):
        table.add_column(column)
    for play_id, outcome, queued, reasons in rows:
        table.add_row(play_id, outcome, f"{queued:,}", reasons)
    return table


def run_demo(project_dir: Path | None = None) -> None:
    """Generate the demo data if needed and run the nightly pipeline on DuckDB with
    sandbox (outbox) destinations: build -> gate -> sync. Then simulate how customers
    answer over the following days and build again a week later, which measures them;
    print the summary and write the HTML report (lift with intervals, guardrails, funnel)."""
    console = Console()
    settings = Settings.from_env(project_dir, target="duckdb")
    console.rule("omniplay demo")
    _ensure_demo_data(settings, console)
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    night = dataset_as_of(settings)
    assert night is not None  # a generated dataset always has its as_of
    result = None
    if _responses_simulated(settings):
        # The simulated days are in the data already: the night before them would now be
        # decided with its future in view, so only the measuring build runs again.
        console.print(f"[dim]simulated days already in {settings.data_dir}; the night of {night:%Y-%m-%d} "
                      "ran before[/dim]")
    else:
        result = _nightly_run(settings, console, night)
        _simulate_days(settings, console)
    _measuring_build(settings, console, night + timedelta(days=SIMULATED_DAYS))
    console.print(_summary_table(settings.duckdb_path))
    report = collect_report(settings)
    print_report(replace(report, sections=[s for s in report.sections if s.key == "lift"]), console)
    path = write_html(report, settings.duckdb_path.parent / "report.html").resolve()
    console.print(f"report: {path} (open it in a browser; `omniplay report` prints the same tables)")
    if result is not None and result.error is not None:
        raise result.error


def _nightly_run(settings: Settings, console: Console, now: datetime):
    """`omniplay run` (build -> gate -> sync) as of the dataset's night, and what it did."""
    from cli.sync import print_summary
    from omniplay.pipeline import run_pipeline

    console.rule(f"nightly run as of {now:%Y-%m-%d %H:%M} UTC")
    console.print(f"on DuckDB at {settings.duckdb_path} (build -> gate -> sync) ...")
    result = run_pipeline(settings)
    console.print(f"dbt build: {result.build_counts}")
    for table in (_decisions_table(settings.duckdb_path), _gate_table(settings.duckdb_path)):
        if table is not None:
            console.print(table)
    if result.sync_summary is not None:
        print_summary(result.sync_summary)
        outbox = os.environ.get("OMNIPLAY_OUTBOX_DIR") or str(settings.project_dir / "target" / "outbox")
        tasks = os.environ.get("OMNIPLAY_STORE_TASKS_DIR") or str(settings.project_dir / "target" / "store_tasks")
        console.print(f"e-mail and SMS delivered to the sandbox outbox {outbox}; store tasks under {tasks}")
    return result


def _measuring_build(settings: Settings, console: Console, now: datetime) -> None:
    """`omniplay build` with the clock pinned ``SIMULATED_DAYS`` after the night: the
    attribution windows of the night's 7-day plays have closed, so lift has a result.
    Nothing is sent: the simulated days hold only the customers' answers, not a whole
    week of new activity for a real night's decisions."""
    from omniplay.build import build_project

    console.rule(f"{SIMULATED_DAYS} days later: the nightly build measures them ({now:%Y-%m-%d})")
    with _clock_pinned(now):
        console.print(f"dbt build: {build_project(settings).counts}")


@contextmanager
def _clock_pinned(now: datetime) -> Iterator[None]:
    """OMNIPLAY_NOW set to ``now`` (omniplay.clock) for the block, then as it was."""
    previous = os.environ.get(NOW_ENV)
    os.environ[NOW_ENV] = now.isoformat()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(NOW_ENV, None)
        else:
            os.environ[NOW_ENV] = previous


def _responses_simulated(settings: Settings) -> bool:
    return any(settings.data_dir.rglob(f"part-{RESPONSE_TAG}-*.parquet"))


def _simulate_days(settings: Settings, console: Console) -> None:
    """Append what customers do in the days after the night (omniplay.generator.response),
    with a planted uplift on the largest 7-day play, so the next build has a result to measure."""
    from omniplay.generator.response import simulate_responses
    from omniplay.warehouse import DuckDBWarehouse

    with DuckDBWarehouse.open(str(settings.duckdb_path)) as warehouse:
        rows = warehouse.fetchall(
            "select play_id from marts.fct_play_exposures "
            "where scope = 'play' and arm = 'treatment' and attribution_days < ? "
            "and run_date = (select max(run_date) from marts.fct_play_exposures) "
            "group by play_id order by count(*) desc, play_id limit 1", [SIMULATED_DAYS])
        uplift = {rows[0][0]: DEMO_UPLIFT} if rows else {}
        summary = simulate_responses(warehouse, settings.data_dir, uplift=uplift, seed=DEMO_SEED)
    planted = (f"a planted {DEMO_UPLIFT:+.0%} conversion uplift for play {next(iter(uplift))}"
               if uplift else "no play with a short enough window to plant an uplift in")
    console.rule(f"simulated: how customers answer in the {SIMULATED_DAYS} days after the night")
    console.print(f"customers answered {summary.exposures:,} exposures with {summary.purchases:,} purchases and "
                  f"{summary.unsubscribes:,} unsubscribes ({planted}; synthetic, see omniplay/generator/response.py)")
