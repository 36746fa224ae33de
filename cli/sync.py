"""`omniplay sync`: deliver the activation queue (or, with --dry-run, show what would go)."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Annotated

import typer

from cli.options import ProjectDir, Target
from omniplay.settings import Settings


def sync(
    project_dir: ProjectDir = None,
    target: Target = None,
    play: Annotated[
        list[str] | None, typer.Option("--play", "-p", help="Only these plays (repeatable); default: all.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print counts and three masked sample renders; send and write nothing.")
    ] = False,
    resend_ambiguous: Annotated[
        bool,
        typer.Option("--resend-ambiguous",
                     help="Re-send messages left ambiguous by a crash (at-least-once: may duplicate)."),
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option("--config", envvar="OMNIPLAY_DESTINATIONS_FILE",
                     help="Destinations file; default: activation/destinations.yml.", dir_okay=False),
    ] = None,
    output_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    due: Annotated[
        bool,
        typer.Option("--due", help="Only the plays whose schedule fired since their last sync, or whose "
                                   "deferred messages' window is open now (with --play: only those among them)."),
    ] = False,
) -> None:
    """Deliver queued messages exactly once in effect; exit 4 if some failed permanently."""
    from activation.config import load_config
    from activation.engine import SyncEngine, SyncOptions, segment_rows_from_env
    from omniplay.clock import pipeline_now
    from omniplay.errors import DeliveryFailed
    from omniplay.lock import target_lock
    from omniplay.pipeline import due_plays
    from omniplay.warehouse import DEFAULT_SYNC_MEMORY_LIMIT, DUCKDB_MEMORY_LIMIT_ENV, connect

    settings = Settings.from_env(project_dir, target)
    cfg = load_config(settings.project_dir, config)
    # Only a real sync writes: a dry run must not wait for (or block) a running sync.
    lock = contextlib.nullcontext() if dry_run else target_lock(settings, command="omniplay sync")
    memory_limit = os.environ.get(DUCKDB_MEMORY_LIMIT_ENV) or DEFAULT_SYNC_MEMORY_LIMIT
    with lock, connect(settings, read_only=dry_run, memory_limit=memory_limit) as warehouse:
        plays = play or None
        clock_kwargs = {}
        if due:
            now = pipeline_now(settings)
            clock_kwargs = {"clock": lambda: now}
            chosen = [p for p in due_plays(settings, warehouse, now) if not play or p.play_id in play]
            for chosen_play in chosen:
                typer.echo(f"due {chosen_play.play_id}: {chosen_play.reason}", err=output_json)
            if not chosen:
                typer.echo("no play is due", err=output_json)
                if output_json:
                    typer.echo(json.dumps({"due": []}))
                return
            plays = [p.play_id for p in chosen]
        options = SyncOptions(plays=plays, dry_run=dry_run, resend_ambiguous=resend_ambiguous,
                              segment_rows=segment_rows_from_env())
        with _progress(enabled=not output_json) as progress:
            summary = SyncEngine(warehouse, cfg, options, progress=progress, **clock_kwargs).run()
    if output_json:
        typer.echo(json.dumps(summary.as_dict(), default=str, indent=2))
    else:
        print_summary(summary)
    failed = summary.total("failed")
    if failed and not dry_run:
        stopped = "; ".join(f"{p}: {r}" for p, r in sorted(summary.stopped.items()))
        raise DeliveryFailed(f"{failed} message(s) failed permanently" + (f" (stopped {stopped})" if stopped else ""))
    if summary.blocked:
        from omniplay.errors import GateBlocked

        blocked = "; ".join(f"{p}: {r}" for p, r in sorted(summary.blocked.items()))
        raise GateBlocked(f"not synced, blocked by the quality gate: {blocked}")


class _progress:
    """A rich progress bar on stderr (only on a terminal), fed by the engine's callback."""

    def __init__(self, enabled: bool):
        import sys

        # rich is imported only when a bar will show (a terminal, not --json).
        self.enabled = enabled and sys.stderr.isatty()
        self._bar = None
        self._task = None
        self._pending = 0
        self._last = 0.0

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("syncing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task("sync", total=None)
        return self

    def __call__(self, advance: int, total: int | None) -> None:
        if self._bar is None:
            return
        if total is not None:
            self._bar.update(self._task, total=total)
        self._pending += advance
        now = time.monotonic()
        if now - self._last > 0.1:  # rich is cheap, but not per-message cheap
            self._bar.advance(self._task, self._pending)
            self._pending, self._last = 0, now

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)


def print_summary(summary) -> None:
    """The summary table: planned = sent + rejected + failed + ambiguous + deferred + expired."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from activation.engine import OUTCOMES

    console = Console()
    data = summary.as_dict()
    label = {"sent": "would send"} if summary.dry_run else {}
    title = "dry run: nothing sent or written" if summary.dry_run else f"sync {summary.run_id}"
    table = Table(title=title)
    for column in ("play", "channel", "destination", "planned", *(label.get(o, o) for o in OUTCOMES)):
        table.add_column(column, justify="right" if column not in ("play", "channel", "destination") else "left")
    for row in data["rows"]:
        table.add_row(row["play_id"], row["channel"], row["destination"], str(row["planned"]),
                      *(str(row[o]) for o in OUTCOMES))
    totals = data["totals"]
    table.add_row("total", "", "", str(totals["planned"]), *(str(totals[o]) for o in OUTCOMES), style="bold")
    console.print(table)
    for reason, n in data["reasons"].items():
        console.print(f"  {reason}: {n}")
    for play, why in sorted(data.get("blocked", {}).items()):
        console.print(f"  [red]blocked by the quality gate[/red] {escape(play)}: {escape(why)}")
    if data["reconciled_resent"] or data["reconciled_ambiguous"]:
        console.print(f"reconciled an interrupted sync: {data['reconciled_resent']} re-sent safely, "
                      f"{data['reconciled_ambiguous']} ambiguous")
    if totals["ambiguous"]:
        console.print(f"[yellow]{totals['ambiguous']} message(s) are ambiguous (may or may not have been "
                      f"delivered): not re-sent; use --resend-ambiguous to send them again.[/yellow]")
    for play, reason in data["stopped"].items():
        console.print(f"[red]play {play} stopped: {reason}[/red]")
    for sample in data["samples"]:
        console.rule(f"sample {sample['play_id']} / {sample['channel']} -> {sample['to']}")
        for part, text in sample["content"].items():
            console.print(f"[bold]{part}[/bold]: {escape(text.strip())}", highlight=False)
