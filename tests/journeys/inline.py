"""Run a one-off SQL query through dbt (`dbt show --inline`), so project macros render."""

from __future__ import annotations

from decimal import Decimal

from tests.support.dbt import DbtProject


def _plain(value):
    """agate's Decimal as an int when whole, else a float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def inline_query(project: DbtProject, sql: str, limit: int = 1000) -> list[tuple]:
    """Rows of `sql` (Jinja allowed, e.g. `{{ omniplay.holdout_bucket(...) }}`) on the project's target,
    numbers as int or float."""
    from dbt.cli.main import dbtRunner

    from omniplay.dbt import _release_duckdb
    from omniplay.settings import Settings

    with project.environ():
        settings = Settings.from_env()
        settings.export()
        try:
            outcome = dbtRunner().invoke([
                "show", "--inline", sql, "--limit", str(limit), "--quiet",
                "--project-dir", str(settings.project_dir), "--profiles-dir", str(settings.project_dir),
                "--target", settings.target,
            ])
        finally:
            _release_duckdb()
    assert outcome.success, f"dbt show failed: {outcome.exception}"
    table = outcome.result.results[0].agate_table
    return [tuple(_plain(v) for v in row.values()) for row in table.rows]
