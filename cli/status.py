"""`omniplay status`: recent runs, send-ledger counts and what needs attention."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli.options import ProjectDir, Target
from omniplay.settings import Settings


def status(
    project_dir: ProjectDir = None,
    target: Target = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many recent runs to show.")] = 10,
    output_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Show recent pipeline and sync runs, ledger counts per status, and ambiguous messages."""
    from rich.console import Console
    from rich.table import Table

    from activation.ledger import Ledger
    from activation.reader import QueueSource
    from omniplay.pipeline import PIPELINE_RUNS_TABLE
    from omniplay.warehouse import connect, quote_ident

    settings = Settings.from_env(project_dir, target)
    source = QueueSource()
    state = quote_ident(source.state_schema)
    with connect(settings, read_only=True) as warehouse:
        ledger = Ledger(warehouse, source.state_schema)
        pipeline_runs = []
        if warehouse.relation_exists(source.state_schema, PIPELINE_RUNS_TABLE):
            pipeline_runs = warehouse.fetchall(
                f"select run_id, started_at, finished_at, stage, outcome, exit_code, message "
                f"from {state}.{PIPELINE_RUNS_TABLE} order by started_at desc limit {int(limit)}"
            )
        sync_runs = ledger.recent_runs(limit) if warehouse.relation_exists(source.state_schema, "runs") else []
        counts = ledger.status_counts()
        ambiguous = []
        if counts.get("ambiguous"):
            ambiguous = warehouse.fetchall(
                f"select message_id, play_id, channel, destination, error_message from {state}.sends "
                f"where status = 'ambiguous' order by updated_at desc limit 20"
            )
    if output_json:
        typer.echo(json.dumps({
            "pipeline_runs": [dict(zip(("run_id", "started_at", "finished_at", "stage", "outcome", "exit_code",
                                        "message"), row)) for row in pipeline_runs],
            "sync_runs": [list(row) for row in sync_runs],
            "ledger": counts,
            "ambiguous": [dict(zip(("message_id", "play_id", "channel", "destination", "error_message"), row))
                          for row in ambiguous],
        }, default=str, indent=2))
        return
    console = Console()
    table = Table(title="pipeline runs (omniplay run)")
    for column in ("run", "started", "stage", "outcome", "exit", "message"):
        table.add_column(column)
    for run_id, started, _, stage, outcome, code, message in pipeline_runs:
        table.add_row(run_id[:12], f"{started:%Y-%m-%d %H:%M}", stage, outcome, str(code), (message or "")[:80])
    console.print(table)
    table = Table(title="sync runs per play")
    for column in ("run", "play", "started", "outcome", "planned", "sent", "rejected", "failed", "ambiguous",
                   "deferred", "expired"):
        table.add_column(column)
    for row in sync_runs:
        run_id, play_id, started, _, outcome, *numbers = row
        table.add_row(run_id[:12], play_id, f"{started:%Y-%m-%d %H:%M}", outcome, *(str(n) for n in numbers))
    console.print(table)
    console.print("send ledger: " + (", ".join(f"{s} {n:,}" for s, n in sorted(counts.items())) or "empty"))
    if ambiguous:
        console.print(f"[yellow]{counts['ambiguous']:,} ambiguous message(s)[/yellow]: a crash left their delivery "
                      "unknown at a destination that cannot deduplicate; `omniplay sync --resend-ambiguous` "
                      "re-sends them (may duplicate).")
        for message_id, play_id, channel, destination, error in ambiguous:
            console.print(f"  {message_id} {play_id} {channel} via {destination}: {error or ''}")
