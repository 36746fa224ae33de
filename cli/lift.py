"""`omniplay lift`: lift of every arm against the control, for any table or file."""

from __future__ import annotations

import json
import math
from typing import Annotated

import typer

from cli.options import ProjectDir
from omniplay.errors import ConfigError


def lift(
    table: Annotated[
        str, typer.Option("--table", metavar="PATH|TABLE", help="CSV/Parquet file, or a table (schema.table) in the warehouse DuckDB file.")
    ],
    arm: Annotated[str, typer.Option("--arm", metavar="COL", help="Column naming each unit's arm.")],
    metric: Annotated[
        list[str], typer.Option("--metric", metavar="COL", help="Outcome column (repeatable). 0/1 columns are conversion rates.")
    ],
    unit: Annotated[
        str | None, typer.Option("--unit", metavar="COL", help="Unit id column; rows are aggregated per unit. Default: a row is a unit.")
    ] = None,
    control: Annotated[
        str | None, typer.Option("--control", metavar="ARM", help="Control arm. Default: the arm named control or holdout.")
    ] = None,
    covariate: Annotated[
        str | None, typer.Option("--covariate", metavar="COL", help="Pre-period covariate (e.g. spend) for CUPED-adjusted lift.")
    ] = None,
    allocation: Annotated[
        list[str] | None,
        typer.Option("--allocation", metavar="ARM=WEIGHT", help="Planned share per arm, ARM=WEIGHT (repeatable), for the SRM check."),
    ] = None,
    cost_per_unit: Annotated[
        float | None, typer.Option("--cost-per-unit", help="Cost per treated unit (message) for cost per incremental.")
    ] = None,
    confidence: Annotated[float, typer.Option("--confidence", help="Confidence level of the intervals.")] = 0.95,
    fmt: Annotated[str, typer.Option("--format", metavar="table|json", help="Output format.")] = "table",
    project_dir: ProjectDir = None,
) -> None:
    """Absolute and relative lift with CIs, p-values, CUPED, SRM check and incrementality."""
    from omniplay.lift import LiftSpec, analyze
    from omniplay.settings import Settings

    if fmt not in ("table", "json"):
        raise ConfigError(f"--format must be table or json, got {fmt!r}")
    spec = LiftSpec(
        source=table,
        arm=arm,
        metrics=tuple(metric),
        unit=unit,
        control=control,
        covariate=covariate,
        allocation=_parse_allocation(allocation or []),
        cost_per_unit=cost_per_unit,
        confidence=confidence,
    )
    report = analyze(spec, Settings.from_env(project_dir))
    if fmt == "json":
        typer.echo(json.dumps(report.to_dict(), indent=2, allow_nan=False))
    else:
        _render(report)


def _parse_allocation(items: list[str]) -> dict[str, float] | None:
    out: dict[str, float] = {}
    for item in items:
        name, sep, weight = item.rpartition("=")
        try:
            value = float(weight)
        except ValueError:
            value = math.nan
        if not sep or not name or not math.isfinite(value) or value <= 0:
            raise ConfigError(f"--allocation {item!r}: expected ARM=WEIGHT with a positive weight, e.g. holdout=10")
        out[name] = value
    return out or None


def _num(x: float | None, spec: str = ".4g") -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x * 100:+.2f} pp" if spec == "pp" else format(x, spec)


def _ci(lo: float | None, hi: float | None, spec: str) -> str:
    if spec == "pp":  # percentage points: one unit label for the pair
        lo, hi = (None if v is None else v * 100 for v in (lo, hi))
        return f"[{_num(lo, '+.2f')}, {_num(hi, '+.2f')}] pp"
    return f"[{_num(lo, spec)}, {_num(hi, spec)}]"


def _cell(est: float | None, lo: float | None, hi: float | None, spec: str) -> str:
    """Estimate over its interval, two lines so tables stay narrow."""
    return f"{_num(est, spec)}\n[dim]{_ci(lo, hi, spec)}[/]"


def _p(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return "–"
    return "<1e-16" if p < 1e-16 else format(p, ".2g") if p < 0.001 else format(p, ".3f")


def _render(report) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    pct = int(round(report.confidence * 100))
    srm = report.srm
    srm_style = "bold white on red" if srm.mismatch else "green"
    console.print(
        f"[bold]{report.source}[/] arms by [bold]{report.arm_column}[/]"
        + (f", units by [bold]{report.unit_column}[/]" if report.unit_column else "")
        + f"; control [bold]{report.control}[/]"
    )
    arms = Table(title="Arms", title_justify="left")
    for col in ("arm", "units", "share", "planned"):
        arms.add_column(col, justify="left" if col == "arm" else "right")
    for a in report.arms:
        arms.add_row(a.arm, f"{a.n:,}", _num(a.share, ".2%"), _num(a.expected_share, ".2%"))
    console.print(arms)
    verdict = "MISMATCH" if srm.mismatch else "ok"
    console.print(
        f"[{srm_style}]sample ratio: {verdict}[/] (chi-square {_num(srm.statistic, '.3g')}, "
        f"p = {_p(srm.p_value)}, alpha {srm.alpha}; allocation {report.allocation})"
    )

    has_cuped = any("cuped_lift_abs" in r for r in report.rows)
    has_cost = any(r["cost"] is not None for r in report.rows)
    for metric in dict.fromkeys(r["metric"] for r in report.rows):
        rows = [r for r in report.rows if r["metric"] == metric]
        conv = rows[0]["metric_kind"] == "conversion"
        mean_spec, lift_spec = (".2%", "pp") if conv else (".4g", "+.4g")
        first = rows[0]

        table = Table(title=f"{metric} vs {first['control']}: {first['test']}, {pct}% CI", title_justify="left")
        for col in ("arm", "n", "conversion" if conv else "mean", "lift", "relative", "p"):
            table.add_column(col, justify="left" if col == "arm" else "right")
        table.add_row(f"[bold]{first['control']}[/]", f"{first['n_control']:,}", _num(first["mean_control"], mean_spec))
        for r in rows:
            table.add_row(
                r["arm"],
                f"{r['n_treatment']:,}",
                _num(r["mean_treatment"], mean_spec),
                _cell(r["lift_abs"], r["ci_low"], r["ci_high"], lift_spec),
                _cell(r["lift_rel"], r["lift_rel_ci_low"], r["lift_rel_ci_high"], "+.1%"),
                _p(r["p_value"]),
            )
        console.print(table)

        extra = Table(title=f"{metric}: adjusted and incremental", title_justify="left")
        extra.add_column("arm")
        if has_cuped:
            for col in ("CUPED lift", "CUPED p", "var. reduction"):
                extra.add_column(col, justify="right")
        extra.add_column("incremental" + (" conversions" if conv else ""), justify="right")
        if has_cost:
            extra.add_column("cost / incremental", justify="right")
        for r in rows:
            cells = [r["arm"]]
            if has_cuped:
                cells += [
                    _cell(r["cuped_lift_abs"], r["cuped_ci_low"], r["cuped_ci_high"], lift_spec),
                    _p(r["cuped_p_value"]),
                    _num(r["cuped_variance_reduction"], ".1%"),
                ]
            cells.append(_cell(r["incremental"], r["incremental_ci_low"], r["incremental_ci_high"], ",.1f"))
            if has_cost:
                cells.append(_num(r["cost_per_incremental"], ",.2f"))
            extra.add_row(*cells)
        if has_cuped or has_cost or len(extra.columns) > 1:
            console.print(extra)
        for r in rows:
            for note in r["notes"]:
                console.print(f"[yellow]{r['arm']}: {note}[/]")
    for note in report.notes:
        console.print(f"[bold red]{note}[/]" if note.startswith("SAMPLE RATIO") else f"[dim]{note}[/]")
