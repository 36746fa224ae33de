"""`omniplay report`: what the warehouse says about lift, journeys, channels and runs.

Sections are read from the dbt models and the activation state tables
(`omniplay.report.sections`), rendered as rich tables in the terminal
(`omniplay.report.terminal`) and as one self-contained HTML file whose charts are
inline SVG drawn server-side (`omniplay.report.charts`, `omniplay.report.html`).
A section whose inputs are absent says which relation is missing and how to get it;
it never invents numbers.
"""

from omniplay.report.collect import collect_report
from omniplay.report.model import Chart, Report, Section, Table

__all__ = ["Chart", "Report", "Section", "Table", "collect_report"]
