"""Vega-Lite chart specs for the report (altair) and their server-side SVG (vl-convert).

Every colour is set explicitly, and each chart owns a *signature* colour no other
chart or page element uses (`SIGNATURES`), so a screenshot can prove each chart was
drawn: the report test counts pixels of each signature colour in Chromium's screenshot.
Data goes into the spec as values; Vega's SVG renderer escapes every text it draws.
"""

from __future__ import annotations

import logging

from omniplay.report.model import Chart

log = logging.getLogger(__name__)

# Lift: interval bars (one colour per chart), and the estimate coloured by what the interval says.
LIFT_CI = {"lift_conversion": "#4c78a8", "lift_revenue": "#2f4b7c"}
VERDICTS = ("positive (interval above 0)", "negative (interval below 0)", "inconclusive (interval spans 0)",
            "untrustworthy (sample-ratio mismatch)")
VERDICT_COLOURS = ("#1b7837", "#b2182b", "#595959", "#e6550d")
FUNNEL = "#f58518"
TRANSITIONS = "#72b7b2"
CHANNELS = ("email", "sms", "store")
CHANNEL_COLOURS = ("#b279a2", "#ff9da6", "#9d755d")
OUTCOMES = ("selected", "no_consent", "compliance", "holdout", "contact_budget", "lower_priority", "no_channel",
            "paused_guardrail")
OUTCOME_COLOURS = ("#2b8cbe", "#fdd0a2", "#fd8d3c", "#bcbddc", "#807dba", "#c7e9c0", "#d9d9d9", "#e7298a")
STATUSES = ("sent", "deferred", "pending", "failed", "rejected", "ambiguous", "expired")
STATUS_COLOURS = ("#54a24b", "#bab0ac", "#eeca3b", "#e45756", "#ff9896", "#8c564b", "#79706e")
KPI_LINE = "#17becf"

# Per chart key: colours only that chart draws (a screenshot check looks for them).
SIGNATURES: dict[str, tuple[str, ...]] = {
    "lift_conversion": (LIFT_CI["lift_conversion"],),
    "lift_revenue": (LIFT_CI["lift_revenue"],),
    "journey_funnel": (FUNNEL,),
    "stage_transitions": (TRANSITIONS,),
    "channel_mix": CHANNEL_COLOURS,
    "decision_outcomes": OUTCOME_COLOURS[:1],
    "pipeline_runs": STATUS_COLOURS[:1],
    "kpi_trends": (KPI_LINE,),
}

_CONFIG = {
    "view": {"stroke": None},
    "font": "DejaVu Sans, Verdana, sans-serif",
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "labelLimit": 320},
    "legend": {"labelFontSize": 11, "titleFontSize": 11, "labelLimit": 320},
    "title": {"fontSize": 13, "anchor": "start"},
}


def _spec(chart) -> dict:
    spec = chart.to_dict()
    spec["config"] = {**_CONFIG, **spec.get("config", {})}
    return spec


def lift_chart(key: str, title: str, rows: list[dict], axis_title: str, axis_format: str) -> Chart:
    """Forest plot: one line per play, the estimate as a dot over its confidence interval.

    rows: label, estimate, ci_low, ci_high, verdict (one of VERDICTS).
    """
    import altair as alt

    data = alt.Data(values=rows)
    colour = LIFT_CI[key]
    order = [row["label"] for row in rows]
    y = alt.Y("label:N", sort=order, title=None)
    x_scale = alt.Scale(zero=True, nice=True)
    interval = alt.Chart(data).mark_rule(strokeWidth=3, color=colour).encode(
        y=y, x=alt.X("ci_low:Q", title=axis_title, axis=alt.Axis(format=axis_format), scale=x_scale), x2="ci_high:Q")
    caps = alt.Chart(data).transform_fold(["ci_low", "ci_high"], as_=["end", "at"]).mark_tick(
        color=colour, thickness=2, size=12).encode(y=y, x=alt.X("at:Q"))
    estimate = alt.Chart(data).mark_point(filled=True, size=90, opacity=1).encode(
        y=y, x=alt.X("estimate:Q"),
        color=alt.Color("verdict:N", scale=alt.Scale(domain=list(VERDICTS), range=list(VERDICT_COLOURS)),
                        legend=alt.Legend(title=None, orient="bottom", direction="vertical")))
    zero = alt.Chart(alt.Data(values=[{"zero": 0}])).mark_rule(color="#000000", strokeDash=[4, 3]).encode(
        x=alt.X("zero:Q"))
    chart = alt.layer(interval, caps, zero, estimate).properties(width=560, height=alt.Step(28), title=title)
    return Chart(key=key, title=title, spec=_spec(chart))


def funnel_chart(rows: list[dict]) -> Chart:
    """rows: step, profiles, share (of profiles that entered), in funnel order."""
    import altair as alt

    title = "Journey funnel: profiles that ever reached each step"
    data = alt.Data(values=rows)
    order = [row["step"] for row in rows]
    y = alt.Y("step:N", sort=order, title=None)
    bars = alt.Chart(data).mark_bar(color=FUNNEL).encode(y=y, x=alt.X("profiles:Q", title="profiles"))
    labels = alt.Chart(data).transform_calculate(
        text="format(datum.profiles, ',') + ' (' + format(datum.share, '.1%') + ')'"
    ).mark_text(align="left", dx=4, color="#000000").encode(y=y, x="profiles:Q", text="text:N")
    chart = alt.layer(bars, labels).properties(width=520, height=alt.Step(30), title=title)
    return Chart(key="journey_funnel", title=title, spec=_spec(chart))


def transitions_chart(rows: list[dict], stages: list[str]) -> Chart:
    """rows: from_stage, to_stage, transitions, share (of all moves out of from_stage)."""
    import altair as alt

    title = "Journey stage transitions (circle area: moves; label: share of moves out of the row's stage)"
    data = alt.Data(values=rows)
    x = alt.X("to_stage:N", sort=stages, title="to stage", axis=alt.Axis(orient="top", labelAngle=0))
    y = alt.Y("from_stage:N", sort=["(entry)", *stages], title="from stage")
    circles = alt.Chart(data).mark_circle(color=TRANSITIONS, opacity=1).encode(
        x=x, y=y, size=alt.Size("transitions:Q", scale=alt.Scale(range=[60, 2200]), legend=None))
    labels = alt.Chart(data).mark_text(color="#000000", dy=0, fontSize=11).encode(
        x=x, y=y, text=alt.Text("share:Q", format=".0%"))
    chart = alt.layer(circles, labels).properties(width=alt.Step(90), height=alt.Step(56), title=title)
    return Chart(key="stage_transitions", title=title, spec=_spec(chart))


def stacked_bars(key: str, title: str, rows: list[dict], *, category: str, colour: str,
                 domain: tuple[str, ...], colours: tuple[str, ...], value: str, value_title: str,
                 normalize: bool = False, order: list[str] | None = None) -> Chart:
    """Horizontal stacked bars: one bar per `category`, split by `colour` with a fixed palette."""
    import altair as alt

    seen = {row[colour] for row in rows}
    extra = sorted(seen - set(domain))  # unknown values still drawn, in greys no signature uses
    greys = ["#969696", "#636363", "#cccccc", "#525252"]
    scale = alt.Scale(domain=[*domain, *extra], range=[*colours, *(greys[i % len(greys)] for i in range(len(extra)))])
    x = alt.X(f"{value}:Q", title=value_title, stack="normalize" if normalize else True,
              axis=alt.Axis(format="%" if normalize else ",d"))
    chart = alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        y=alt.Y(f"{category}:N", sort=order, title=None), x=x,
        color=alt.Color(f"{colour}:N", scale=scale, legend=alt.Legend(title=colour.replace("_", " "), orient="right")),
        order=alt.Order("stack_order:Q"),
    ).properties(width=520, height=alt.Step(24), title=title)
    return Chart(key=key, title=title, spec=_spec(chart))


def runs_chart(rows: list[dict]) -> Chart:
    """rows: run (label, in time order), status, messages, stack_order."""
    import altair as alt

    title = "Messages per pipeline run, by outcome"
    order = list(dict.fromkeys(row["run"] for row in rows))
    chart = alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("run:N", sort=order, title="run (started, UTC)", axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("messages:Q", title="messages", axis=alt.Axis(format=",d")),
        color=alt.Color("status:N", scale=alt.Scale(domain=list(STATUSES), range=list(STATUS_COLOURS)),
                        legend=alt.Legend(title="outcome")),
        order=alt.Order("stack_order:Q"),
    ).properties(width=alt.Step(44), height=220, title=title)
    return Chart(key="pipeline_runs", title=title, spec=_spec(chart))


def kpi_trend_chart(rows: list[dict]) -> Chart:
    """rows: kpi (label with its unit), as_of (ISO timestamp), value; one small chart per KPI, own y scale."""
    import altair as alt

    title = "KPI trends over runs (blended across channels)"
    base = alt.Chart(alt.Data(values=rows)).mark_line(
        color=KPI_LINE, strokeWidth=2, point=alt.OverlayMarkDef(color=KPI_LINE, size=220, filled=True)
    ).encode(
        x=alt.X("as_of:T", title=None, axis=alt.Axis(format="%Y-%m-%d", labelAngle=-30)),
        y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False), axis=alt.Axis(format=",.3~g")),
    ).properties(width=250, height=120)
    chart = base.facet(facet=alt.Facet("kpi:N", title=None), columns=3).resolve_scale(y="independent").properties(
        title=title)
    return Chart(key="kpi_trends", title=title, spec=_spec(chart))


def to_svg(chart: Chart) -> str:
    """The chart as an SVG document (no script, no external reference)."""
    import vl_convert

    return vl_convert.vegalite_to_svg(chart.spec)
