"""What a report is made of: sections holding alerts, missing inputs, charts and tables.

Values in tables are already formatted strings; charts are Vega-Lite specs. Renderers
(terminal, HTML) only lay them out, so both show exactly the same numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

_NUMERIC = re.compile(r"^(?:[-+<]?[\d.,]|–$)")  # a number, an interval's estimate, or the undefined dash


@dataclass
class Table:
    """A titled table of formatted cells; `alert_rows` are flagged loudly (SRM, pauses)."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    alert_rows: set[int] = field(default_factory=set)
    caption: str = ""

    def numeric_columns(self) -> set[int]:
        """Columns whose every cell is a number (aligned right); the first column never is."""
        return {index for index in range(1, len(self.columns))
                if self.rows and all(_NUMERIC.match(row[index] or "–") for row in self.rows)}


@dataclass
class Chart:
    """A Vega-Lite chart; `key` names it in the HTML (data-chart) and in charts.SIGNATURES."""

    key: str
    title: str
    spec: dict
    caption: str = ""


@dataclass
class Section:
    """One part of the report.

    `alerts` must be read before the numbers (sample-ratio mismatch, paused plays);
    `missing` names each absent input and how to produce it.
    """

    key: str
    title: str
    intro: str = ""
    alerts: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass
class Report:
    """The whole report for one warehouse."""

    generated_at: datetime
    target: str
    location: str
    sections: list[Section]

    @property
    def charts(self) -> list[Chart]:
        return [chart for section in self.sections for chart in section.charts]
