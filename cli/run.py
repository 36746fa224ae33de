"""`omniplay run`: the one command a scheduler calls every night."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.options import ProjectDir, Target
from omniplay.settings import Settings


def run(
    project_dir: ProjectDir = None,
    target: Target = None,
    resend_ambiguous: Annotated[
        bool,
        typer.Option("--resend-ambiguous",
                     help="Re-send messages a crash left ambiguous (at-least-once: may duplicate)."),
    ] = False,
    skip_build: Annotated[
        bool, typer.Option("--skip-build", help="Gate and sync what the last build decided, without building.")
    ] = False,
) -> None:
    """Build -> gate -> sync the plays that are due -> summary.

    Exit codes: 0 ok, 1 build or unexpected error (nothing sent), 2 configuration error,
    3 the gate blocked a play (the others were synced), 4 messages failed permanently,
    5 another run holds this target's lock.
    """
    from rich.console import Console

    from omniplay.pipeline import run_pipeline

    settings = Settings.from_env(project_dir, target)
    result = run_pipeline(settings, resend_ambiguous=resend_ambiguous, build=not skip_build)
    console = Console()
    console.print(f"[bold]omniplay run[/bold] {result.run_id} at {result.now:%Y-%m-%d %H:%M} UTC on {settings.target}")
    if result.build_counts:
        console.print(f"  built: {result.build_counts}")
    for play, why in sorted(result.blocked.items()):
        console.print(f"  [red]blocked[/red] {play}: {why}")
    for due in result.due:
        console.print(f"  due {due.play_id}: {due.reason}")
    if result.sync_summary is not None:
        from cli.sync import print_summary

        print_summary(result.sync_summary)
    elif result.stage == "done":
        console.print("  no play was due")
    if result.error is not None:
        raise result.error
