"""The measurement models on the suite's shared builds: they pass on DuckDB and PostgreSQL,
and both engines compute the same lift, guardrails and KPIs from the same data."""

from __future__ import annotations

import math

import pytest

from tests.support.dbt import BuildRun

MEASUREMENT_MODELS = ("fct_play_exposures", "fct_play_outcomes", "rpt_play_lift", "int_play_guardrail_rates",
                      "fct_play_pauses", "dim_play_status", "rpt_play_guardrails", "rpt_orchestration_kpis")


def _statuses(build: BuildRun) -> dict[str, str]:
    return {uid.rsplit(".", 1)[1]: status for uid, status in build.statuses().items() if uid.startswith("model.")}


def _lift(build: BuildRun) -> dict[tuple, tuple]:
    rows = build.project.query(
        "select scope, play_id, cast(run_date as varchar), channel, metric, n_treatment, n_control, lift_abs, ci_low, "
        "p_value, lift_rel, lift_rel_ci_low, srm_p_value, is_srm, cuped_lift_abs, cuped_p_value, cost_total "
        "from marts.rpt_play_lift")
    return {tuple(r[:5]): tuple(r[5:]) for r in rows}


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def test_measurement_models_build_on_duckdb(duckdb_build: BuildRun) -> None:
    statuses = _statuses(duckdb_build)
    assert all(statuses.get(m) == "success" for m in MEASUREMENT_MODELS), statuses
    exposures = duckdb_build.project.query(
        "select arm, count(*) from marts.fct_play_exposures where scope = 'play' group by arm")
    assert dict(exposures).get("treatment", 0) > 0, exposures
    # Every selection is a treatment exposure and every ghost selection a control one.
    selected = duckdb_build.project.scalar(
        "select count(*) from marts.fct_play_decisions where outcome = 'selected' "
        "or (outcome = 'holdout' and ghost_outcome = 'selected')")
    assert selected == sum(n for _, n in exposures)


@pytest.mark.postgres
def test_postgres_computes_the_same_lift_as_duckdb(postgres_build: BuildRun, duckdb_build: BuildRun) -> None:
    statuses = _statuses(postgres_build)
    assert all(statuses.get(m) == "success" for m in MEASUREMENT_MODELS), statuses
    duck, post = _lift(duckdb_build), _lift(postgres_build)
    assert duck.keys() == post.keys() and duck
    wrong = [(k, d, p) for k in duck for d, p in zip(duck[k], post[k], strict=True) if not _same(d, p)]
    assert not wrong, wrong[:5]
    kpis = {}
    for build in (duckdb_build, postgres_build):
        kpis[build.project.target] = {
            (k, c): v for k, c, v in build.project.query(
                "select kpi, channel, value from marts.rpt_orchestration_kpis where kpi <> 'event_freshness_hours'")}
    assert kpis["duckdb"].keys() == kpis["postgres"].keys()
    assert all(_same(kpis["duckdb"][k], kpis["postgres"][k]) for k in kpis["duckdb"]), kpis
