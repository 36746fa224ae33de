"""KPI trends over runs (rpt_orchestration_kpis snapshots) and the pipeline run log.

KPIs named `*_hours` are durations; every other KPI is a rate or share (numerator / denominator).
"""

from __future__ import annotations

import json

from omniplay.report import charts
from omniplay.report import format as fmt
from omniplay.report.model import Section, Table
from omniplay.report.source import ReportSource

KPI_MODEL = "rpt_orchestration_kpis"
PIPELINE_RUNS = "pipeline_runs"


def section(source: ReportSource, runs: int) -> Section:
    out = Section(
        key="trends",
        title="KPIs and runs over time",
        intro=(f"Orchestration KPIs (profile match rate, consent coverage, event freshness, journey completion, "
               f"time to value, offer uptake, revenue influence) as snapshotted by each build, and what each "
               f"`omniplay run` did; the last {runs} runs."),
    )
    _kpis(source, out, runs)
    _pipeline_runs(source, out, runs)
    return out


def _kpis(source: ReportSource, out: Section, runs: int) -> None:
    schema = source.marts_schema
    if not source.readable(out.missing, schema, KPI_MODEL, "build the measurement models with `omniplay build`; "
                           "each build adds one snapshot", ("run_date", "kpi", "channel", "value")):
        return
    present = source.columns(schema, KPI_MODEL)
    at = "as_of_at" if "as_of_at" in present else "run_date"
    relation = source.relation(schema, KPI_MODEL)
    rows = source.select(
        {"as_of": at, "kpi": "kpi", "channel": "channel", "value": "value"},
        f"from {relation} where {at} in (select {at} from (select distinct {at} from {relation}) as snapshots "
        f"order by {at} desc limit {int(runs)}) order by kpi, channel, {at}")
    if not rows:
        out.notes.append(f"{schema}.{KPI_MODEL} has no snapshot yet.")
        return
    snapshots = sorted({row["as_of"] for row in rows})
    blended = [{"kpi": _kpi_label(r["kpi"]), "as_of": r["as_of"],
                "value": r["value"] if _is_hours(r["kpi"]) else r["value"] * 100}
               for r in rows if r["channel"] == "all" and r["value"] is not None]
    if blended:
        chart = charts.kpi_trend_chart(blended)
        chart.caption = (f"{len(snapshots)} snapshot(s); one point per build. A single point is not yet a trend."
                         if len(snapshots) < 2 else f"{len(snapshots)} snapshots, one per build.")
        out.charts.append(chart)
    latest: dict[str, dict[str, float | None]] = {}
    blended_series: dict[str, list] = {}
    for row in rows:  # ordered by snapshot: the last value seen is the latest
        latest.setdefault(row["kpi"], {})[row["channel"]] = row["value"]
        if row["channel"] == "all":
            blended_series.setdefault(row["kpi"], []).append(row["value"])
    channels = sorted({channel for values in latest.values() for channel in values} - {"all"})
    table = Table(title="KPIs: latest snapshot, blended (all) and per channel; change of the blended value since "
                        "the snapshot before", columns=["kpi", "all", *channels, "change (all)", "snapshots"])
    for kpi in sorted(latest):
        show, diff = (_hours, _signed_hours) if _is_hours(kpi) else (fmt.pct, fmt.pp)
        series = blended_series.get(kpi, [])
        change = series[-1] - series[-2] if len(series) > 1 and None not in series[-2:] else None
        table.rows.append([_kpi_label(kpi), show(latest[kpi].get("all")),
                           *(show(latest[kpi].get(channel)) for channel in channels), diff(change), str(len(series))])
    out.tables.append(table)


def _is_hours(kpi: str) -> bool:
    return kpi.endswith("_hours")


def _kpi_label(kpi: str) -> str:
    if _is_hours(kpi):
        return kpi.removesuffix("_hours").replace("_", " ") + " (hours)"
    return kpi.replace("_", " ") + " (%)"


def _pipeline_runs(source: ReportSource, out: Section, runs: int) -> None:
    schema = source.state_schema
    needs = ("run_id", "started_at", "stage", "outcome", "exit_code", "counts")
    if not source.readable(out.missing, schema, PIPELINE_RUNS, "no `omniplay run` has been recorded yet", needs):
        return
    rows = source.select(
        needs + ("message",) if "message" in source.columns(schema, PIPELINE_RUNS) else needs,
        f"from {source.relation(schema, PIPELINE_RUNS)} order by started_at desc limit {int(runs)}")
    rows.reverse()
    if not rows:
        out.notes.append("No `omniplay run` recorded yet.")
        return
    bars, table = [], Table(title="Pipeline runs (`omniplay run`)", columns=[
        "run", "started (UTC)", "stage", "outcome", "exit", "planned", *charts.STATUSES[:2], "failed", "message"])
    for row in rows:
        counts = _counts(row["counts"])
        label = f"{str(row['started_at'])[:16]} {str(row['run_id'])[:4]}"
        for order, status in enumerate(charts.STATUSES):
            if counts.get(status):
                bars.append({"run": label, "status": status, "messages": counts[status], "stack_order": order})
        if row["exit_code"]:
            table.alert_rows.add(len(table.rows))
        table.rows.append([
            str(row["run_id"])[:12], str(row["started_at"])[:16], str(row["stage"]), str(row["outcome"]),
            str(row["exit_code"]), fmt.count(counts.get("planned", 0)), fmt.count(counts.get("sent", 0)),
            fmt.count(counts.get("deferred", 0)), fmt.count(counts.get("failed", 0)),
            str(row.get("message") or "")[:120],
        ])
    if bars:
        chart = charts.runs_chart(bars)
        chart.caption = "Messages each run handled, by outcome (pending and ambiguous need attention)."
        out.charts.append(chart)
    else:
        out.notes.append("No recorded run has handled a message yet.")
    out.tables.append(table)


def _hours(value) -> str:
    text = fmt.number(value, 1)
    return text if text == fmt.DASH else text + " h"


def _signed_hours(value) -> str:
    text = fmt.signed(value, 1)
    return text if text == fmt.DASH else text + " h"


def _counts(text) -> dict[str, int]:
    try:
        counts = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(counts, dict):
        return {}
    return {str(k): int(v) for k, v in counts.items() if isinstance(v, (int, float))}
