"""`omniplay demo`: the nightly pipeline, end to end, on a small deterministic dataset.

Runs on embedded DuckDB with sandbox destinations only; safe to run again and again.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from omniplay.settings import Settings

DEMO_CUSTOMERS = 2000
DEMO_DAYS = 120
DEMO_SEED = 42

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
    """Generate the demo data if needed, then run the nightly pipeline on DuckDB with
    sandbox (outbox) destinations: build -> gate -> sync -> summary and HTML report."""
    from cli.sync import print_summary
    from omniplay.pipeline import run_pipeline

    console = Console()
    settings = Settings.from_env(project_dir, target="duckdb")
    console.rule("omniplay demo")
    _ensure_demo_data(settings, console)
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    console.print(f"nightly run on DuckDB at {settings.duckdb_path} (build -> gate -> sync) ...")
    result = run_pipeline(settings)
    console.print(f"dbt build: {result.build_counts}")
    console.print(_summary_table(settings.duckdb_path))
    decisions = _decisions_table(settings.duckdb_path)
    if decisions is not None:
        console.print(decisions)
    gated = _gate_table(settings.duckdb_path)
    if gated is not None:
        console.print(gated)
    if result.sync_summary is not None:
        print_summary(result.sync_summary)
        import os

        outbox = os.environ.get("OMNIPLAY_OUTBOX_DIR") or str(settings.project_dir / "target" / "outbox")
        console.print(f"e-mail and SMS delivered to the sandbox outbox {outbox}; store tasks under "
                      f"{os.environ.get('OMNIPLAY_STORE_TASKS_DIR') or settings.project_dir / 'target' / 'store_tasks'}")
    report = _write_report(settings)
    console.print(f"report: {report} (open it in a browser; `omniplay report` prints the same tables)")
    if result.error is not None:
        raise result.error


def _write_report(settings: Settings) -> Path:
    """The HTML report of what the demo built and sent, beside the DuckDB file."""
    from omniplay.report import collect_report
    from omniplay.report.html import write_html

    return write_html(collect_report(settings), settings.duckdb_path.parent / "report.html").resolve()
