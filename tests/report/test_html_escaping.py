"""The HTML report escapes every value from the warehouse, in tables and in charts."""

from __future__ import annotations

from datetime import datetime, timezone

from omniplay.report import charts
from omniplay.report.html import render_html
from omniplay.report.model import Report, Section, Table

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>&'


def test_values_are_escaped_in_tables_alerts_and_charts():
    chart = charts.funnel_chart([{"step": HOSTILE, "profiles": 10, "share": 1.0}])
    section = Section(key="s", title=HOSTILE, alerts=[HOSTILE], missing=[HOSTILE], notes=[HOSTILE], charts=[chart],
                      tables=[Table(title=HOSTILE, columns=[HOSTILE], rows=[[HOSTILE]], alert_rows={0})])
    page = render_html(Report(generated_at=datetime.now(timezone.utc), target="duckdb", location=HOSTILE,
                              sections=[section]))
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;" in page
    assert '<figure data-chart="journey_funnel">' in page and "<svg" in page
