"""`omniplay gate`: validate the activation queue per play before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.options import ProjectDir, Target
from omniplay.settings import Settings


def gate(
    project_dir: ProjectDir = None,
    target: Target = None,
    play: Annotated[
        list[str] | None, typer.Option("--play", "-p", help="Only these plays (repeatable); default: all.")
    ] = None,
    size_band: Annotated[
        float | None,
        typer.Option("--size-band", envvar="OMNIPLAY_GATE_SIZE_BAND", min=0,
                     help="Allowed change of a play's size vs its previous passed run (0.5 = ±50%); "
                          "a play's `config: meta: gate: size_band` overrides it."),
    ] = None,
    size_min_rows: Annotated[
        int | None,
        typer.Option("--size-min-rows", envvar="OMNIPLAY_GATE_SIZE_MIN_ROWS", min=0,
                     help="Sizes below this on both runs are not compared (default 50)."),
    ] = None,
    docs_dir: Annotated[
        Path | None,
        typer.Option("--docs-dir", envvar="OMNIPLAY_GATE_DOCS_DIR", file_okay=False,
                     help="Where Great Expectations writes Data Docs; default: <dbt target path>/gx."),
    ] = None,
    output_json: Annotated[bool, typer.Option("--json", help="Print the verdicts as JSON.")] = False,
) -> None:
    """Block plays whose queue rows fail the quality checks; exit 3 if any play is blocked."""
    from activation.gate import GateOptions, run_gate
    from activation.gate_checks import DEFAULT_SIZE_BAND, DEFAULT_SIZE_MIN_ROWS
    from omniplay.errors import GateBlocked

    settings = Settings.from_env(project_dir, target)
    options = GateOptions(
        plays=play or None,
        size_band=DEFAULT_SIZE_BAND if size_band is None else size_band,
        size_min_rows=DEFAULT_SIZE_MIN_ROWS if size_min_rows is None else size_min_rows,
        docs_dir=docs_dir,
    )
    report = run_gate(settings, options)
    if output_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        print_report(report)
    blocked = report.blocked
    if blocked:
        raise GateBlocked(f"quality gate blocked {len(blocked)} play(s): "
                          + ", ".join(v.play_id for v in blocked))


def print_report(report) -> None:
    """One line per play; under a blocked play one line per failed check and its Data Docs page."""
    from rich.console import Console
    from rich.markup import escape

    console = Console()
    if not report.verdicts:
        console.print("gate: the activation queue has no rows to check")
        return
    console.print(f"gate {report.gate_run_id[:12]} run_date {report.run_date}")
    for verdict in report.verdicts:
        mark = "[green]passed[/green]" if verdict.passed else "[red]BLOCKED[/red]"
        previous = f" (previous {verdict.previous_rows})" if verdict.previous_rows is not None else ""
        console.print(f"  {mark} {escape(verdict.play_id)}: {verdict.queue_rows} rows{previous}")
        for reason in verdict.reasons():
            console.print(f"      {escape(reason)}", highlight=False, soft_wrap=True)
        for note in verdict.notes:
            console.print(f"      [dim]note: {escape(note)}[/dim]", highlight=False, soft_wrap=True)
        if not verdict.passed and verdict.docs_url:
            console.print(f"      docs: {verdict.docs_url}", highlight=False, soft_wrap=True)
    if report.docs_index:
        console.print(f"Data Docs: {report.docs_index}", highlight=False, soft_wrap=True)
