"""`omniplay report` on a real build: terminal tables, one self-contained HTML file, and
its charts drawn in headless Chromium (the screenshot must show every chart)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from omniplay import stats
from omniplay.report import charts
from tests.cli.conftest import Workspace
from tests.report import pixels
from tests.support.chromium import screenshot

# A chart is "shown" when at least this many pixels carry its signature colour; a legend
# swatch is about 100 pixels, so swatches alone cannot pass.
MIN_CHART_PIXELS = 600
ALWAYS_CHARTED = {"journey_funnel", "stage_transitions", "channel_mix", "decision_outcomes", "pipeline_runs"}
SCREEN_HEIGHT = 16000  # the whole page in one screenshot (checked: blank rows remain at the bottom)
REMOTE_LOAD = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:|//)""", re.IGNORECASE)


def _relation_rows(workspace: Workspace, schema: str, table: str) -> int:
    exists = workspace.scalar("select count(*) from information_schema.tables where table_schema = ? "
                              "and table_name = ?", (schema, table))
    return workspace.scalar(f'select count(*) from "{schema}"."{table}"') if exists else -1


def _chart_pixels(shot: pixels.Screenshot) -> dict[str, int]:
    return {key: shot.count(colours) for key, colours in charts.SIGNATURES.items()}


def test_html_report_shows_every_chart_in_headless_chromium(workspace: Workspace, chromium: str, tmp_path: Path):
    ran = workspace.omniplay("run", "--skip-build")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    html = tmp_path / "out" / "report.html"
    done = workspace.omniplay("report", "--html", str(html))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"HTML report written to {html}" in done.stdout.replace("\n", "")
    for title in ("Incremental lift per play", "Journeys", "Channel mix and decisions", "KPIs and runs over time"):
        assert title in done.stdout

    page = html.read_text(encoding="utf-8")
    assert "<script" not in page.lower() and not REMOTE_LOAD.search(page), "the report must load nothing"
    assert "Content-Security-Policy" in page
    shown = re.findall(r'<figure data-chart="([a-z_]+)">\s*<svg', page)
    expected = set(ALWAYS_CHARTED)
    lift_rows = _relation_rows(workspace, "marts", "rpt_play_lift")
    if lift_rows < 0:
        assert "marts.rpt_play_lift is not in this warehouse" in page
    elif workspace.scalar("select count(*) from marts.rpt_play_lift where metric = 'conversion' and channel = 'all' "
                          "and ci_low is not null and ci_high is not null"):
        expected.add("lift_conversion")
    else:  # e.g. only runs whose attribution window is still open: no outcome yet, no interval
        assert "rpt_play_lift is empty" in page or "No conversion interval" in page
    if _relation_rows(workspace, "marts", "rpt_orchestration_kpis") > 0:
        expected.add("kpi_trends")
    else:
        assert "marts.rpt_orchestration_kpis" in page
    assert expected <= set(shown), f"charts drawn: {shown}"

    shot = pixels.Screenshot(screenshot(chromium, html, tmp_path / "report.png", height=SCREEN_HEIGHT))
    assert shot.blank_rows_at_bottom > 40, "the page is taller than the screenshot"
    drawn = _chart_pixels(shot)
    blank_charts = {key: drawn[key] for key in set(shown) if drawn[key] < MIN_CHART_PIXELS}
    assert not blank_charts, f"charts not visible in the screenshot (signature pixels): {blank_charts}"

    # The same check fails on the same page without its SVGs: it sees charts, not page chrome.
    stripped = tmp_path / "no_charts.html"
    stripped.write_text(re.sub(r"<svg\b.*?</svg>", "", page, flags=re.DOTALL), encoding="utf-8")
    blank = pixels.Screenshot(screenshot(chromium, stripped, tmp_path / "no_charts.png", height=SCREEN_HEIGHT))
    empty = _chart_pixels(blank)
    assert all(empty[key] < MIN_CHART_PIXELS for key in shown), empty
    assert blank.count(("#1a1a1a",), tolerance=40) > 1000, "the stripped page should still show its text"


def test_missing_models_are_named_and_nothing_is_invented(workspace: Workspace, tmp_path: Path):
    with duckdb.connect(str(workspace.db)) as con:
        con.execute("drop view marts.fct_journey_stage_history")  # a view of the timeline
        con.execute("drop table marts.rpt_journey_kpis")
        con.execute("drop table if exists omniplay_state.pipeline_runs")
        con.execute("drop table if exists marts.rpt_play_lift")
    html = tmp_path / "report.html"
    done = workspace.omniplay("report", "--html", str(html))
    assert done.returncode == 0, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    for relation in ("marts.fct_journey_stage_history", "marts.rpt_journey_kpis", "omniplay_state.pipeline_runs",
                     "marts.rpt_play_lift"):
        assert f"missing: {relation} is not in this warehouse" in out
    page = html.read_text(encoding="utf-8")
    shown = set(re.findall(r'data-chart="([a-z_]+)"', page))
    assert not shown & {"journey_funnel", "stage_transitions", "pipeline_runs", "lift_conversion"}
    assert "decision_outcomes" in shown  # what is there is still reported

    # A warehouse with nothing built: every section says what is missing, and no chart is drawn.
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    done = workspace.omniplay("report", "--html", str(tmp_path / "empty.html"), OMNIPLAY_DUCKDB_PATH=str(empty))
    assert done.returncode == 0, done.stdout + done.stderr
    page = (tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "<svg" not in page and "data-chart" not in page
    for relation in ("rpt_play_lift", "rpt_play_guardrails", "fct_journey_stage_history", "activation_queue",
                     "rpt_decision_summary", "rpt_orchestration_kpis", "pipeline_runs"):
        assert relation in page


def test_missing_warehouse_file_exits_2_with_the_fix(workspace: Workspace, tmp_path: Path):
    done = workspace.omniplay("report", OMNIPLAY_DUCKDB_PATH=str(tmp_path / "nowhere.duckdb"))
    assert done.returncode == 2
    assert "omniplay build" in done.stderr


def _lift_row(play_id: str, n_t: int, x_t: int, n_c: int, x_c: int, control_share: float) -> dict:
    """A conversion row with the statistics omniplay.stats gives for these arm counts."""
    diff = stats.proportion_diff(x_t, n_t, x_c, n_c)
    rel = stats.relative_lift(stats.Moments.from_proportion(x_t, n_t), stats.Moments.from_proportion(x_c, n_c))
    srm = stats.srm_test([n_t, n_c], [1 - control_share, control_share])
    return {"scope": "play", "play_id": play_id, "run_date": "2026-06-01", "channel": "all", "metric": "conversion",
            "n_treatment": n_t, "n_control": n_c, "mean_treatment": x_t / n_t, "mean_control": x_c / n_c,
            "lift_abs": float(diff.estimate), "ci_low": float(diff.ci_low), "ci_high": float(diff.ci_high),
            "p_value": float(diff.p_value), "lift_rel": float(rel.estimate), "lift_rel_ci_low": float(rel.ci_low),
            "lift_rel_ci_high": float(rel.ci_high), "srm_p_value": srm.p_value, "is_srm": srm.mismatch,
            "is_mature": True}


def test_sample_ratio_mismatch_and_guardrail_pause_are_flagged_loudly(workspace: Workspace, chromium: str,
                                                                     tmp_path: Path):
    lift_rows = [
        _lift_row("balanced_play", 9000, 1080, 1000, 100, 0.1),  # 10% planned, 10% held out
        _lift_row("skewed_play", 9000, 1080, 700, 70, 0.1),  # 7% held out: a broken assignment
    ]
    assert not lift_rows[0]["is_srm"] and lift_rows[1]["is_srm"]
    guardrail = {"play_id": "noisy_play", "metric": "unsubscribe_rate", "messages": 2000, "events": 60,
                 "rate": 0.03, "baseline_rate": 0.004, "threshold": 0.01, "is_breach": True, "is_paused": True,
                 "paused_at": "2026-06-01 02:00:00", "resumed_at": None}
    with duckdb.connect(str(workspace.db)) as con:
        for table, rows in (("rpt_play_lift", lift_rows), ("rpt_play_guardrails", [guardrail])):
            names = list(rows[0])
            con.execute(f"drop table if exists marts.{table}")
            con.execute(f"create table marts.{table} as select * from (values "
                        + ", ".join("(" + ", ".join("?" * len(names)) + ")" for _ in rows)
                        + f") as t({', '.join(names)})", [row[name] for row in rows for name in names])
        # A broken holdout assignment (global scope) is flagged the same way.
        con.execute("update marts.rpt_holdout_srm set holdout_profiles = 2 * holdout_profiles, p_value = 1e-12, "
                    "is_mismatch = true where scope = 'global'")
    html = tmp_path / "report.html"
    done = workspace.omniplay("report", "--html", str(html))
    assert done.returncode == 0, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert "SAMPLE RATIO MISMATCH in holdout assignment, scope global" in out
    assert "SAMPLE RATIO MISMATCH: skewed_play" in out
    assert "SAMPLE RATIO MISMATCH: balanced_play" not in out
    assert "PAUSED by guardrail since 2026-06-01 02:00:00: noisy_play" in out
    assert "omniplay plays resume noisy_play" in out

    page = html.read_text(encoding="utf-8")
    assert re.search(r'<div class="alert">SAMPLE RATIO MISMATCH: skewed_play', page)
    flagged = re.findall(r'<tr class="flagged"><td>([^<]+)</td>', page)
    assert "skewed_play" in flagged and "balanced_play" not in flagged and "noisy_play" in flagged
    assert "global" in flagged
    assert re.search(r'<figure data-chart="lift_conversion">\s*<svg', page)
    # Sample sizes and the interval are printed, not just the estimate.
    skewed = lift_rows[1]
    assert f"{skewed['lift_abs'] * 100:+.2f} pp [{skewed['ci_low'] * 100:+.2f} pp, {skewed['ci_high'] * 100:+.2f} pp]" \
        in page
    assert "skewed_play  (n 9,000 vs 700)  SRM!" in page
    # The interval bars are drawn in the browser, not only written into the file.
    shot = pixels.Screenshot(screenshot(chromium, html, tmp_path / "report.png", height=SCREEN_HEIGHT))
    assert shot.count(charts.SIGNATURES["lift_conversion"]) >= MIN_CHART_PIXELS
