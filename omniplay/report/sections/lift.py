"""Lift per play against its holdout (rpt_play_lift) and the holdout assignment check.

For each play, the most recent run whose attribution window has closed is shown (the
latest run, flagged "window open", when none has): each run is its own comparison.
Sample-ratio mismatches are raised as alerts before any number.
"""

from __future__ import annotations

from omniplay.report import charts
from omniplay.report import format as fmt
from omniplay.report.model import Section, Table
from omniplay.report.source import ReportSource

LIFT_MODEL = "rpt_play_lift"
SRM_MODEL = "rpt_holdout_srm"
NEEDS = ("play_id", "metric", "n_treatment", "n_control", "mean_treatment", "mean_control", "lift_abs", "lift_rel",
         "ci_low", "ci_high", "p_value", "srm_p_value")
OPTIONAL = ("scope", "run_date", "channel", "is_srm", "lift_rel_ci_low", "lift_rel_ci_high", "is_mature",
            "incremental_total", "cost_per_incremental", "cuped_lift_abs", "cuped_ci_low", "cuped_ci_high",
            "confidence_level")
RATE_METRICS = ("conversion", "store_conversion", "online_conversion", "assisted_conversion")
METRIC_ORDER = ("conversion", "revenue", "margin", "store_conversion", "online_conversion", "store_revenue",
                "online_revenue", "assisted_conversion")
SRM_ALPHA = 0.001
HOW = "build the measurement models with `omniplay build` (they need at least one decided run)"


def section(source: ReportSource) -> Section:
    out = Section(
        key="lift",
        title="Incremental lift per play",
        intro=("Treatment: every profile a play selected; control: every profile that would have been selected "
               "but sat in the holdout (intent to treat). Each play shows its latest run whose attribution window "
               "has closed. Bars are confidence intervals; a play whose interval spans 0 has no demonstrated effect."),
    )
    _lift(source, out)
    _assignment_srm(source, out)
    return out


def _lift(source: ReportSource, out: Section) -> None:
    schema = source.marts_schema
    if not source.readable(out.missing, schema, LIFT_MODEL, HOW, NEEDS):
        return
    present = source.columns(schema, LIFT_MODEL)
    columns = NEEDS + tuple(name for name in OPTIONAL if name in present)
    rows = source.select(columns, f"from {source.relation(schema, LIFT_MODEL)}")
    if not rows:
        out.missing.append(f"{schema}.{LIFT_MODEL} is empty: no play has a decided run with a holdout yet")
        return
    for row in rows:
        row.setdefault("scope", "play")
        row.setdefault("channel", "all")
        row.setdefault("run_date", None)
        row.setdefault("is_mature", None)
        if row.get("is_srm") is None:
            p = row["srm_p_value"]
            row["is_srm"] = None if p is None else p < SRM_ALPHA
    shown = _latest_runs(rows)
    level = next((r["confidence_level"] for r in shown if r.get("confidence_level")), 0.95)
    ci_name = f"{level:.0%} CI"

    flagged = set()
    for row in shown:
        key = (row["scope"], row["play_id"], row["run_date"], row["channel"])
        if row["is_srm"] and key not in flagged:
            flagged.add(key)
            out.alerts.append(
                f"SAMPLE RATIO MISMATCH: {_label(row)} (run {row['run_date'] or '?'}, channel {row['channel']}): "
                f"{fmt.count(row['n_treatment'])} treated vs {fmt.count(row['n_control'])} control "
                f"is not the planned split "
                f"(chi-square p = {fmt.p_value(row['srm_p_value'])} < {SRM_ALPHA}). Do not trust this lift: "
                f"find why assignment or exposure differs between the arms."
            )
    immature = sorted({_label(r) for r in shown if r["is_mature"] is False})
    if immature:
        out.notes.append("Attribution window still open (numbers will move): " + ", ".join(immature) + ".")

    for metric, title, axis, axis_format, scale in (
        ("conversion", f"Conversion lift per play, percentage points, {ci_name}",
         "absolute lift in conversion rate (percentage points)", "+.1f", 100.0),
        ("revenue", f"Revenue lift per profile, {ci_name}", "absolute lift in revenue per profile", "+,.2f", 1.0),
    ):
        points, undefined = [], []
        for row in shown:
            if row["metric"] != metric or row["channel"] != "all":
                continue
            if row["ci_low"] is None or row["ci_high"] is None or row["lift_abs"] is None:
                undefined.append(_label(row))
                continue
            points.append({
                "label": _chart_label(row),
                "estimate": row["lift_abs"] * scale,
                "ci_low": row["ci_low"] * scale,
                "ci_high": row["ci_high"] * scale,
                "verdict": _verdict(row),
            })
        if points:
            chart = charts.lift_chart(f"lift_{metric}", title, points, axis, axis_format)
            chart.caption = ("Dot: estimated lift of treated over control; bar: its confidence interval; "
                             "n: treated vs control profiles. SRM marks a sample-ratio mismatch.")
            out.charts.append(chart)
        if undefined:
            out.notes.append(f"No {metric} interval (too few profiles or no variance in an arm): "
                             + ", ".join(sorted(set(undefined))) + ".")
    for metric in _metric_order({row["metric"] for row in shown}):
        metric_rows = [r for r in shown if r["metric"] == metric]
        if metric != "conversion":  # per-channel splits for conversion only: the rest pooled
            metric_rows = [r for r in metric_rows if r["channel"] == "all"]
        if metric_rows:
            out.tables.append(_table(metric, metric_rows, ci_name))


def _latest_runs(rows: list[dict]) -> list[dict]:
    """Rows of each (scope, play)'s latest mature run, else its latest run."""
    best: dict[tuple, tuple] = {}
    for row in rows:
        key = (row["scope"], row["play_id"])
        rank = (row["is_mature"] is not False, row["run_date"] or "")
        if key not in best or rank > best[key]:
            best[key] = rank
    chosen = [r for r in rows if (r["is_mature"] is not False, r["run_date"] or "") == best[(r["scope"], r["play_id"])]]
    return sorted(chosen, key=lambda r: (r["scope"] != "play", r["play_id"], r["channel"] != "all", r["channel"]))


def _metric_order(metrics: set[str]) -> list[str]:
    return [m for m in METRIC_ORDER if m in metrics] + sorted(metrics - set(METRIC_ORDER))


def _label(row: dict) -> str:
    return "all plays vs global control" if row["scope"] == "global" else str(row["play_id"])


def _chart_label(row: dict) -> str:
    label = f"{_label(row)}  (n {fmt.count(row['n_treatment'])} vs {fmt.count(row['n_control'])})"
    if row["is_srm"]:
        label += "  SRM!"
    if row["is_mature"] is False:
        label += "  window open"
    return label


def _verdict(row: dict) -> str:
    if row["is_srm"]:  # whatever the interval says, the arms are broken
        return charts.VERDICTS[3]
    if row["ci_low"] > 0:
        return charts.VERDICTS[0]
    if row["ci_high"] < 0:
        return charts.VERDICTS[1]
    return charts.VERDICTS[2]


def _table(metric: str, rows: list[dict], ci_name: str) -> Table:
    rate = metric in RATE_METRICS
    mean, diff = (fmt.pct, fmt.pp) if rate else (fmt.number, fmt.signed)
    extra_conv = rate and any(r.get("incremental_total") is not None for r in rows)
    extra_cost = rate and any(r.get("cost_per_incremental") is not None for r in rows)
    extra_cuped = not rate and any(r.get("cuped_lift_abs") is not None for r in rows)
    columns = ["play", "channel", "run", "window", "treated", "control", "rate treated" if rate else "mean treated",
               "rate control" if rate else "mean control", f"lift {ci_name}", f"relative {ci_name}", "p", "SRM p"]
    if extra_conv:
        columns.append("incremental")
    if extra_cost:
        columns.append("cost / incremental")
    if extra_cuped:
        columns.append(f"CUPED lift {ci_name}")
    table = Table(title=f"{metric.replace('_', ' ')}: treated vs control", columns=columns)
    for row in rows:
        if row["is_srm"]:
            table.alert_rows.add(len(table.rows))
        window = {True: "closed", False: "open"}.get(row["is_mature"], fmt.DASH)
        cells = [
            _label(row), str(row["channel"]), str(row["run_date"] or fmt.DASH), window, fmt.count(row["n_treatment"]),
            fmt.count(row["n_control"]), mean(row["mean_treatment"]), mean(row["mean_control"]),
            _with_interval(row["lift_abs"], row["ci_low"], row["ci_high"], diff),
            _with_interval(row["lift_rel"], row.get("lift_rel_ci_low"), row.get("lift_rel_ci_high"), fmt.rel),
            fmt.p_value(row["p_value"]),
            fmt.p_value(row["srm_p_value"]) + (" MISMATCH" if row["is_srm"] else ""),
        ]
        if extra_conv:
            cells.append(fmt.number(row.get("incremental_total"), 1))
        if extra_cost:
            cells.append(fmt.number(row.get("cost_per_incremental")))
        if extra_cuped:
            cells.append(_with_interval(row.get("cuped_lift_abs"), row.get("cuped_ci_low"), row.get("cuped_ci_high"),
                                        fmt.signed))
        table.rows.append(cells)
    return table


def _with_interval(estimate, low, high, show) -> str:
    """`estimate [low, high]`; says so when the interval is undefined rather than printing a bare estimate."""
    if show(estimate) == fmt.DASH:
        return fmt.DASH
    interval = fmt.interval(low, high, show)
    return f"{show(estimate)} " + ("(no CI)" if interval == fmt.DASH else interval)


def _assignment_srm(source: ReportSource, out: Section) -> None:
    schema = source.marts_schema
    needs = ("scope", "profiles", "holdout_profiles", "expected_holdout_profiles", "holdout_share",
             "expected_holdout_share", "chi_square", "p_value", "is_mismatch")
    if not source.readable(out.missing, schema, SRM_MODEL, "run `omniplay build`", needs):
        return
    rows = source.select(needs, f"from {source.relation(schema, SRM_MODEL)} order by scope <> 'global', scope")
    table = Table(title="Holdout assignment: sample-ratio check per scope", columns=[
        "scope", "profiles", "holdout", "expected holdout", "holdout share", "planned share", "chi-square", "p",
        "verdict"])
    for row in rows:
        if row["is_mismatch"]:
            table.alert_rows.add(len(table.rows))
            out.alerts.append(
                f"SAMPLE RATIO MISMATCH in holdout assignment, scope {row['scope']}: "
                f"{fmt.count(row['holdout_profiles'])} held out where "
                f"{fmt.number(row['expected_holdout_profiles'], 0)} were planned (p = "
                f"{fmt.p_value(row['p_value'])}); every lift using this holdout is suspect."
            )
        table.rows.append([
            str(row["scope"]), fmt.count(row["profiles"]), fmt.count(row["holdout_profiles"]),
            fmt.number(row["expected_holdout_profiles"], 1), fmt.pct(row["holdout_share"], 2),
            fmt.pct(row["expected_holdout_share"], 2), fmt.number(row["chi_square"], 3), fmt.p_value(row["p_value"]),
            "MISMATCH" if row["is_mismatch"] else "ok",
        ])
    out.tables.append(table)
