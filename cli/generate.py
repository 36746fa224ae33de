"""`omniplay generate`: write a deterministic multi-channel retail dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omniplay.errors import ConfigError


def generate(
    customers: Annotated[int, typer.Option("--customers", help="Number of people to simulate.")] = 2000,
    days: Annotated[int, typer.Option("--days", help="Days of history before the simulated now.")] = 120,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same files.")] = 42,
    out: Annotated[Path | None, typer.Option(
        "--out", file_okay=True,
        help="Folder to write the source files into: empty, new, or a previous omniplay dataset (replaced). "
             "Default: the data folder the build reads (OMNIPLAY_DATA_DIR, else data/demo in the project).")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", envvar="OMNIPLAY_GENERATOR_WORKERS",
        help="Worker processes (default: the CPUs available). Does not change the output.")] = None,
) -> None:
    """Generate sources (CRM, loyalty, stores, POS, web/app, email, SMS, event scans, consent) plus ground truth."""
    from omniplay.generator.dataset import generate_dataset, validate
    from omniplay.settings import Settings

    validate(customers, days, seed)
    out = out if out is not None else Settings.from_env().data_dir
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be at least 1 (got {workers})")
    summary = generate_dataset(customers=customers, days=days, seed=seed, out=out, workers=workers)
    typer.echo(summary.one_line())
