"""Gather every section of the report from one read-only warehouse connection."""

from __future__ import annotations

from datetime import datetime, timezone

from omniplay.report.model import Report
from omniplay.report.sections import channels, guardrails, journeys, lift, trends
from omniplay.report.source import ReportSource
from omniplay.settings import Settings

DEFAULT_RUNS = 30


def collect_report(settings: Settings, runs: int = DEFAULT_RUNS) -> Report:
    """Read the warehouse of `settings` and build every section (absent inputs are named, not faked)."""
    from omniplay.warehouse import connect, postgres_dsn

    with connect(settings, read_only=True) as warehouse:
        source = ReportSource(warehouse)
        sections = [
            lift.section(source),
            guardrails.section(source),
            journeys.section(source),
            channels.section(source),
            trends.section(source, runs),
        ]
    if settings.target == "duckdb":
        location = str(settings.duckdb_path)
    else:
        dsn = postgres_dsn()
        location = f"{dsn['dbname']} on {dsn['host']}:{dsn['port']}"
    return Report(generated_at=datetime.now(timezone.utc), target=settings.target, location=location,
                  sections=sections)
