"""The report as one self-contained HTML file: inline CSS and SVG, no script, no network.

The template runs in Jinja2's sandbox with autoescaping, so every value from the
warehouse is escaped; only the SVG drawn by `charts.to_svg` is inserted as markup.
A Content-Security-Policy forbids any script or remote load, should one slip in.
"""

from __future__ import annotations

import logging
from pathlib import Path

from markupsafe import Markup

from omniplay.report import charts
from omniplay.report.model import Report

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).with_name("templates")


def render_html(report: Report) -> str:
    from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    svgs = {}
    for chart in report.charts:
        try:
            svgs[chart.key] = Markup(charts.to_svg(chart))
        except Exception as exc:  # noqa: BLE001 - one bad chart must not hide the rest of the report
            log.warning("chart %s could not be drawn: %s", chart.key, exc)
            svgs[chart.key] = None
    return env.get_template("report.html.j2").render(report=report, svgs=svgs)


def write_html(report: Report, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path
