"""Guardrails: opt-out, unsubscribe and complaint rates per play, and plays paused for them."""

from __future__ import annotations

from omniplay.report import format as fmt
from omniplay.report.model import Section, Table
from omniplay.report.source import ReportSource

GUARDRAIL_MODEL = "rpt_play_guardrails"
NEEDS = ("play_id", "metric", "messages", "events", "rate", "baseline_rate", "threshold", "is_breach", "is_paused")
# Optional columns, each read from the first of its names the model has.
OPTIONAL = {"paused_at": ("paused_at", "last_paused_at"), "resumed_at": ("resumed_at", "last_resumed_at")}


def section(source: ReportSource) -> Section:
    out = Section(
        key="guardrails",
        title="Guardrails",
        intro=("Opt-out, unsubscribe and complaint rates of each play's messages against the baseline. A play over "
               "its threshold is paused: decisions stop selecting it (reason paused_guardrail) until "
               "`omniplay plays resume <play>`."),
    )
    schema = source.marts_schema
    if not source.readable(out.missing, schema, GUARDRAIL_MODEL, "build the measurement models with "
                           "`omniplay build`", NEEDS):
        return out
    present = source.columns(schema, GUARDRAIL_MODEL)
    columns = {name: name for name in NEEDS}
    for name, candidates in OPTIONAL.items():
        found = next((column for column in candidates if column in present), None)
        if found:
            columns[name] = found
    rows = source.select(columns, f"from {source.relation(schema, GUARDRAIL_MODEL)} order by play_id, metric")
    table = Table(title="Guardrail rates per play", columns=[
        "play", "metric", "messages", "events", "rate", "baseline", "threshold", "breach", "paused"])
    for row in rows:
        if row["is_paused"] or row["is_breach"]:
            table.alert_rows.add(len(table.rows))
        if row["is_paused"]:
            since = f" since {row['paused_at']}" if row.get("paused_at") else ""
            out.alerts.append(
                f"PAUSED by guardrail{since}: {row['play_id']}, {row['metric'].replace('_', ' ')} "
                f"{fmt.pct(row['rate'], 2)} over threshold {fmt.pct(row['threshold'], 2)} (baseline "
                f"{fmt.pct(row['baseline_rate'], 2)}, {fmt.count(row['events'])} of {fmt.count(row['messages'])} "
                f"messages). Re-enable with `omniplay plays resume {row['play_id']}` once the cause is fixed."
            )
        table.rows.append([
            str(row["play_id"]), str(row["metric"]), fmt.count(row["messages"]), fmt.count(row["events"]),
            fmt.pct(row["rate"], 2), fmt.pct(row["baseline_rate"], 2), fmt.pct(row["threshold"], 2),
            fmt.flag(row["is_breach"]), fmt.flag(row["is_paused"]) + (
                f" (resumed {row['resumed_at']})" if row.get("resumed_at") else ""),
        ])
    if not rows:
        out.notes.append("No guardrail rows yet: no play has sent messages.")
    else:
        out.tables.append(table)
    return out
