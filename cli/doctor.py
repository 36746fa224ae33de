"""`omniplay doctor`: check configuration, the warehouse and every destination."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.options import ProjectDir, Target
from omniplay.errors import ConfigError, OmniplayError
from omniplay.settings import Settings


def doctor(
    project_dir: ProjectDir = None,
    target: Target = None,
    skip_destinations: Annotated[
        bool, typer.Option("--skip-destinations", help="Do not contact the destinations.")
    ] = False,
    all_destinations: Annotated[
        bool, typer.Option("--all-destinations", help="Also check destinations no play routes to.")
    ] = False,
) -> None:
    """Check plays and destinations config, the warehouse and each destination; exit 2 if anything is wrong."""
    from rich.console import Console

    from activation.config import load_config
    from omniplay.plays import load_plays, play_destinations
    from omniplay.warehouse import connect

    console = Console()
    settings = Settings.from_env(project_dir, target)
    problems: list[str] = []

    def check(label: str, action) -> object:
        try:
            outcome = action()
        except (OmniplayError, OSError) as exc:
            problems.append(f"{label}: {exc}")
            console.print(f"[red]✗[/red] {label}: {exc}")
            return None
        detail = outcome if isinstance(outcome, str) else f"{len(outcome)} valid" if isinstance(outcome, list) else ""
        console.print(f"[green]✓[/green] {label}" + (f": {detail}" if detail else ""))
        return outcome

    console.print(f"project {settings.project_dir}, target {settings.target}, data {settings.data_dir}")
    plays = check("plays", lambda: load_plays(settings.project_dir)) or []
    used = {name for loaded in plays for name in play_destinations(loaded.play).values()}
    config = check("destinations file", lambda: load_config(settings.project_dir, None))

    def warehouse_reachable() -> str:
        with connect(settings, read_only=settings.target == "duckdb" and settings.duckdb_path.exists()) as wh:
            wh.fetchall("select 1")
        return f"{settings.target} answers"

    if settings.target == "duckdb" and not settings.duckdb_path.exists():
        console.print(f"[yellow]![/yellow] warehouse: no DuckDB file yet at {settings.duckdb_path} "
                      "(`omniplay build` creates it)")
    else:
        check("warehouse", warehouse_reachable)

    if config is not None and not skip_destinations:
        for name in config.names:
            if name not in used and not all_destinations:
                console.print(f"[dim]- destination {name}: no play routes to it (not checked; --all-destinations)[/dim]")
                continue

            def reachable(name: str = name) -> str:
                destination, cfg = config.build(name)
                try:
                    destination.check()
                finally:
                    close = getattr(destination, "close", None)
                    if close:
                        close()
                return f"{cfg.type} reachable"

            check(f"destination {name}", reachable)
    if problems:
        raise ConfigError(f"doctor found {len(problems)} problem(s): " + "; ".join(problems))
