"""`omniplay generate`: write a deterministic multi-channel retail dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omniplay.errors import ConfigError


def generate(
    customers: Annotated[int, typer.Option("--customers", help="Number of people to simulate.")] = 2000,
    days: Annotated[int, typer.Option("--days", help="Days of history.")] = 120,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same files.")] = 42,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the source files into.")] = Path("data/demo"),
) -> None:
    """Generate sources (CRM, loyalty, stores, POS, web/app, email, SMS, event scans, consent) plus ground truth."""
    if customers < 1:
        raise ConfigError(f"--customers must be at least 1 (got {customers})")
    if not 1 <= days <= 3650:
        raise ConfigError(f"--days must be between 1 and 3650 (got {days})")
    if seed < 0:
        raise ConfigError(f"--seed must be zero or positive (got {seed})")
    from omniplay.generator import generate_dataset

    summary = generate_dataset(customers=customers, days=days, seed=seed, out=out)
    typer.echo(summary.one_line())
