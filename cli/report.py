"""`omniplay report`: lift, guardrails, journeys, channel mix and KPI trends, as tables and HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.options import ProjectDir, Target


def report(
    html: Annotated[
        Path | None,
        typer.Option("--html", metavar="PATH", dir_okay=False,
                     help="Also write one self-contained HTML file with the charts (no network needed to view it)."),
    ] = None,
    runs: Annotated[int, typer.Option("--runs", min=1, help="How many recent runs the trends cover.")] = 30,
    quiet: Annotated[bool, typer.Option("--quiet", help="Do not print the tables (with --html).")] = False,
    project_dir: ProjectDir = None,
    target: Target = None,
) -> None:
    """Report lift per play (confidence intervals, sample-ratio checks), guardrail pauses, the journey funnel
    and stage transitions, channel mix, decision outcomes and KPI trends over runs.

    Sections whose models are not built yet say what is missing instead of showing numbers.
    """
    from rich.console import Console

    from omniplay.report import collect_report
    from omniplay.report.terminal import print_report
    from omniplay.settings import Settings

    settings = Settings.from_env(project_dir, target)
    result = collect_report(settings, runs=runs)
    console = Console()
    if not quiet or html is None:
        print_report(result, console)
    if html is not None:
        from omniplay.report.html import write_html

        path = write_html(result, html)
        console.print(f"HTML report written to {path.resolve()}")
