"""The journey funnel, stage transitions and journey KPIs (fct_journey_stage_history, rpt_journey_kpis)."""

from __future__ import annotations

from omniplay.report import charts
from omniplay.report import format as fmt
from omniplay.report.model import Section, Table
from omniplay.report.source import ReportSource

HISTORY = "fct_journey_stage_history"
KPIS = "rpt_journey_kpis"
STAGES = ["discovery", "engagement", "conversion", "retention", "lapsed"]
HOW = "run `omniplay build`"


def section(source: ReportSource) -> Section:
    out = Section(
        key="journeys",
        title="Journeys",
        intro=("Stages (docs/journeys.md): discovery, engagement, conversion (one order), retention (repeat "
               "orders), lapsed (no order in the lapse window)."),
    )
    _funnel(source, out)
    _transitions(source, out)
    _kpis(source, out)
    return out


def _funnel(source: ReportSource, out: Section) -> None:
    schema = source.marts_schema
    if not source.readable(out.missing, schema, HISTORY, HOW, ("profile_id", "stage", "is_current")):
        return
    relation = source.relation(schema, HISTORY)
    [counts] = source.select({
        "entered": "count(distinct profile_id)",
        "engaged": "count(distinct case when stage <> 'discovery' then profile_id end)",
        "converted": "count(distinct case when stage in ('conversion', 'retention', 'lapsed') then profile_id end)",
        "retained": "count(distinct case when stage = 'retention' then profile_id end)",
    }, f"from {relation}")
    entered = counts["entered"] or 0
    if not entered:
        out.notes.append(f"{schema}.{HISTORY} is empty: no profile has a customer touch yet.")
        return
    steps = [
        ("entered the journey", counts["entered"]),
        ("engaged (or bought)", counts["engaged"]),
        ("converted (first order)", counts["converted"]),
        ("retained (repeat order)", counts["retained"]),
    ]
    rows = [{"step": step, "profiles": n, "share": n / entered} for step, n in steps]
    chart = charts.funnel_chart(rows)
    chart.caption = "Each step counts profiles that ever reached it; shares are of profiles that entered."
    out.charts.append(chart)
    current = {row["stage"]: row["profiles"] for row in source.select(
        {"stage": "stage", "profiles": "count(*)"}, f"from {relation} where is_current group by stage")}
    table = Table(title="Journey funnel", columns=["step", "profiles", "share of entered"])
    table.rows = [[step, fmt.count(n), fmt.pct(n / entered)] for step, n in steps]
    out.tables.append(table)
    now = Table(title="Profiles by current stage", columns=["stage", "profiles", "share"])
    total = sum(current.values()) or 1
    for stage in [*STAGES, *sorted(set(current) - set(STAGES))]:
        if stage in current:
            now.rows.append([stage, fmt.count(current[stage]), fmt.pct(current[stage] / total)])
    out.tables.append(now)


def _transitions(source: ReportSource, out: Section) -> None:
    schema = source.marts_schema
    if not source.readable(out.missing, schema, KPIS, HOW, ("kpi", "dimension", "numerator", "value")):
        return
    rows = []
    for row in source.select(("dimension", "numerator", "value"),
                             f"from {source.relation(schema, KPIS)} where kpi = ? order by dimension",
                             ("stage_transition",)):
        start, _, end = str(row["dimension"]).partition(" -> ")
        rows.append({"from_stage": "(entry)" if start == "none" else start, "to_stage": end,
                     "transitions": row["numerator"] or 0, "share": row["value"]})
    if not rows:
        out.notes.append("No stage transitions recorded yet.")
        return
    stages = [s for s in STAGES if any(r["to_stage"] == s for r in rows)]
    stages += sorted({r["to_stage"] for r in rows} - set(stages))
    chart = charts.transitions_chart(rows, stages)
    chart.caption = "Rows: stage left ((entry): first touch); columns: stage entered."
    out.charts.append(chart)
    table = Table(title="Stage transitions", columns=["from", "to", "moves", "share of moves out of 'from'"])
    for row in sorted(rows, key=lambda r: (r["from_stage"] != "(entry)", r["from_stage"], -r["transitions"])):
        table.rows.append([row["from_stage"], row["to_stage"], fmt.count(row["transitions"]), fmt.pct(row["share"])])
    out.tables.append(table)


def _kpis(source: ReportSource, out: Section) -> None:
    schema = source.marts_schema
    if not source.has(schema, KPIS):
        return  # already reported missing by _transitions
    rows = source.select(("kpi", "dimension", "numerator", "denominator", "value"),
                         f"from {source.relation(schema, KPIS)} where kpi <> ? order by kpi, dimension",
                         ("stage_transition",))
    table = Table(title="Journey KPIs", columns=["kpi", "dimension", "value", "of"])
    for row in rows:
        hours = row["kpi"].endswith("_hours")
        value = fmt.number(row["value"], 1) if hours else fmt.pct(row["value"])
        value += " h" if hours and value != fmt.DASH else ""
        of = "" if hours else f"{fmt.count(row['numerator'])} / {fmt.count(row['denominator'])}"
        table.rows.append([row["kpi"].replace("_", " "), str(row["dimension"]), value, of])
    if table.rows:
        out.tables.append(table)
