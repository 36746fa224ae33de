"""`omniplay report` reads a PostgreSQL warehouse the same way (the session's PostgreSQL build)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.cli.conftest import OMNIPLAY
from tests.support.dbt import BuildRun


def test_report_on_postgres_draws_the_journey_and_decision_charts(postgres_build: BuildRun, tmp_path: Path):
    env = {**os.environ, **postgres_build.project.env, "COLUMNS": "200"}
    html = tmp_path / "report.html"
    done = subprocess.run([str(OMNIPLAY), "report", "--target", "postgres", "--html", str(html)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert "omniplay report · postgres" in out
    for relation in ("fct_journey_stage_history", "rpt_journey_kpis", "rpt_decision_summary", "rpt_holdout_srm"):
        assert f"{relation} is not in this warehouse" not in out, relation
    shown = set(re.findall(r'<figure data-chart="([a-z_]+)">\s*<svg', html.read_text(encoding="utf-8")))
    assert {"journey_funnel", "stage_transitions", "channel_mix", "decision_outcomes"} <= shown, shown
