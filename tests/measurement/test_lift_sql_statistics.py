"""rpt_play_lift's SQL statistics equal statsmodels / scipy / omniplay.stats to 1e-9.

Hypothesis draws many small experiments (arm sizes, conversion rates, revenue spreads,
pre-period covariates, planted arm ratios, edge cases such as empty or constant arms);
they are written as one fixture table at marts.fct_play_outcomes, each experiment its
own play, and the real rpt_play_lift model is built on it by dbt - on DuckDB, and on
PostgreSQL with the same data. Every row is then recomputed from the raw unit values:

* conversion metrics: statsmodels proportions_ztest (pooled) and
  confint_proportions_2indep(method="wald");
* revenue metrics: statsmodels CompareMeans.ztest_ind / zconfint_diff (usevar unequal);
* relative lift: statsmodels NonlinearDeltaCov (delta method) and omniplay.stats;
* CUPED: the arm coefficient of statsmodels OLS Y ~ 1 + arm + (X - mean X), and
  omniplay.stats.cuped(dist="normal") for its interval and p-value;
* SRM: scipy.stats.chisquare of the arm sizes against the designed shares.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats._delta_method import NonlinearDeltaCov
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from omniplay import stats
from tests.support.dbt import DbtProject

RUN = date(2026, 6, 1)
AS_OF = "2026-07-01 00:00:00"
COLUMNS = [
    ("scope", "varchar"), ("play_id", "varchar"), ("run_date", "date"), ("channel", "varchar"), ("arm", "varchar"),
    ("expected_control_share", "double precision"), ("cost", "double precision"), ("is_mature", "boolean"),
    ("decided_at", "timestamp"), ("pre_revenue", "double precision"), ("converted", "integer"),
    ("store_converted", "integer"), ("online_converted", "integer"), ("assisted_converted", "integer"),
    ("revenue", "double precision"), ("margin", "double precision"), ("store_revenue", "double precision"),
    ("online_revenue", "double precision"),
]
CLOSE = dict(rel_tol=1e-9, abs_tol=1e-9)


@st.composite
def experiment(draw, big: bool = False) -> dict:
    """One play's units: arms, outcomes and the covariate, drawn from a seeded generator.

    `big` experiments have realistic arms; the others also reach the edge cases (empty
    and single-unit arms)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_t = draw(st.sampled_from([40, 150, 400] if big else [0, 1, 2, 3, 8, 40]))
    n_c = draw(st.sampled_from([30, 120] if big else [0, 1, 2, 5, 30]))
    p_t, p_c = draw(st.floats(0, 1)), draw(st.floats(0, 1))
    share = draw(st.sampled_from([0.05, 0.1, 0.145, 0.3, 0.5]))
    constant_x = draw(st.booleans()) and draw(st.booleans())
    units = []
    for arm, n, p in (("treatment", n_t, p_t), ("control", n_c, p_c)):
        x = np.full(n, 25.0) if constant_x else rng.gamma(1.5, 40.0, n) * (rng.random(n) < 0.6)
        converted = (rng.random(n) < p).astype(int)
        store = converted * (rng.random(n) < 0.5)
        revenue = converted * (20 + 0.8 * x + rng.gamma(2.0, 30.0, n))
        for i in range(n):
            units.append({
                "arm": arm, "channel": str(rng.choice(["email", "sms", "store"])),
                "expected_control_share": share, "cost": 0.04 if arm == "treatment" else 0.0,
                "pre_revenue": float(x[i]), "converted": int(converted[i]),
                "store_converted": int(store[i]), "online_converted": int(converted[i] - store[i]),
                "assisted_converted": int(store[i]), "revenue": float(revenue[i]),
                "margin": float(revenue[i] * 0.4), "store_revenue": float(revenue[i] * store[i]),
                "online_revenue": float(revenue[i] * (1 - store[i])),
            })
    return {"units": units}


def _rows(experiments: list[dict]) -> list[tuple]:
    rows = []
    for index, exp in enumerate(experiments):
        for unit in exp["units"]:
            rows.append((
                "play", f"exp_{index:03d}", RUN, unit["channel"], unit["arm"], unit["expected_control_share"],
                unit["cost"], True, datetime(2026, 6, 1, 9), unit["pre_revenue"], unit["converted"],
                unit["store_converted"], unit["online_converted"], unit["assisted_converted"], unit["revenue"],
                unit["margin"], unit["store_revenue"], unit["online_revenue"],
            ))
    return rows


def _write_fixture(cursor, rows: list[tuple], placeholder: str) -> None:
    cursor.execute("create schema if not exists marts")
    cursor.execute("drop table if exists marts.fct_play_outcomes")
    cursor.execute(f"create table marts.fct_play_outcomes ({', '.join(f'{n} {t}' for n, t in COLUMNS)})")
    if placeholder == "?":  # DuckDB: one bulk insert from Arrow (executemany goes row by row)
        import pyarrow as pa

        cursor.register("fixture_rows", pa.table({n: [r[i] for r in rows] for i, (n, _) in enumerate(COLUMNS)}))
        cursor.execute("insert into marts.fct_play_outcomes select * from fixture_rows")
        cursor.unregister("fixture_rows")
        return
    from psycopg2.extras import execute_values

    execute_values(cursor, "insert into marts.fct_play_outcomes values %s", rows, page_size=2000)


def _build(project: DbtProject) -> list[dict]:
    result = project.run("run", select=["rpt_play_lift"], raise_on_failure=False,
                         vars={"omniplay__register_source_files": False, "omniplay__as_of": AS_OF})
    assert result.success, result.failures
    names = [n for n, in project.query(
        "select column_name from information_schema.columns where table_schema = 'marts' "
        "and table_name = 'rpt_play_lift' order by ordinal_position")]
    return [dict(zip(names, row, strict=True)) for row in project.query("select * from marts.rpt_play_lift")]


def build_duckdb(root: Path, experiments: list[dict]) -> list[dict]:
    import duckdb

    project = DbtProject.isolated(root, target="duckdb", data_dir=root / "no-sources")
    with duckdb.connect(str(project.duckdb_path)) as con:
        _write_fixture(con, _rows(experiments), "?")
    return _build(project)


def close(a, b) -> bool:
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return (a is None or (isinstance(a, float) and math.isnan(a))) and (b is None or math.isnan(b))
    return math.isclose(float(a), float(b), **CLOSE)


PROPORTIONS = {"conversion": "converted", "store_conversion": "store_converted",
               "online_conversion": "online_converted", "assisted_conversion": "assisted_converted"}
MEANS = {"revenue": "revenue", "margin": "margin", "store_revenue": "store_revenue",
         "online_revenue": "online_revenue"}


def expected_row(units: list[dict], metric: str) -> dict:
    """The reference statistics of one (play, channel, metric) from the raw units."""
    column = PROPORTIONS.get(metric) or MEANS[metric]
    t = np.array([u[column] for u in units if u["arm"] == "treatment"], dtype=float)
    c = np.array([u[column] for u in units if u["arm"] == "control"], dtype=float)
    x_t = np.array([u["pre_revenue"] for u in units if u["arm"] == "treatment"])
    x_c = np.array([u["pre_revenue"] for u in units if u["arm"] == "control"])
    share = units[0]["expected_control_share"]
    out: dict = {"n_treatment": t.size, "n_control": c.size}
    srm = sps.chisquare([t.size, c.size], f_exp=[(t.size + c.size) * (1 - share), (t.size + c.size) * share])
    out["srm_p_value"] = float(srm.pvalue)
    out["is_srm"] = bool(srm.pvalue < 0.001)
    if t.size < 2 or c.size < 2:
        out.update(lift_abs=None, ci_low=None, p_value=None, lift_rel=None, cuped_lift_abs=None)
        return out
    out["lift_abs"] = t.mean() - c.mean()
    if metric in PROPORTIONS:
        x1, x2 = int(t.sum()), int(c.sum())
        pooled = (x1 + x2) / (t.size + c.size)
        out["p_value"] = proportions_ztest([x1, x2], [t.size, c.size])[1] if 0 < pooled < 1 else None
        if 0 < x1 < t.size or 0 < x2 < c.size:
            out["ci_low"], out["ci_high"] = confint_proportions_2indep(
                x1, t.size, x2, c.size, method="wald", compare="diff")
        else:
            out["ci_low"] = out["ci_high"] = None
        v_t, v_c = t.mean() * (1 - t.mean()), c.mean() * (1 - c.mean())
    else:
        cm = CompareMeans(DescrStatsW(t), DescrStatsW(c))
        if t.var() + c.var() > 0:
            out["p_value"] = cm.ztest_ind(usevar="unequal")[1]
            out["ci_low"], out["ci_high"] = cm.zconfint_diff(alpha=0.05, usevar="unequal")
        else:
            out["p_value"] = out["ci_low"] = out["ci_high"] = None
        v_t, v_c = t.var(ddof=1), c.var(ddof=1)
    if c.mean() != 0:
        params = np.array([t.mean(), c.mean()])
        cov = np.diag([v_t / t.size, v_c / c.size])
        dm = NonlinearDeltaCov(lambda p: np.atleast_1d(p[0] / p[1] - 1.0), params, cov)
        out["lift_rel"] = dm.predicted()[0]
        if dm.se_vectorized()[0] > 0:
            out["lift_rel_ci_low"], out["lift_rel_ci_high"] = dm.conf_int(alpha=0.05)[0]
            out["lift_rel_p_value"] = float(dm.wald_test(np.zeros(1))[1])
    else:
        out["lift_rel"] = None
    cuped = stats.cuped(stats.CrossMoments.from_values(t, x_t), stats.CrossMoments.from_values(c, x_c), dist="normal")
    if np.isnan(cuped.theta):
        out["cuped_lift_abs"] = None
    else:
        y, x = np.r_[t, c], np.r_[x_t, x_c]
        d = np.r_[np.ones(t.size), np.zeros(c.size)]
        fit = sm.OLS(y, np.column_stack([np.ones_like(y), d, x - x.mean()])).fit()
        out["cuped_lift_abs"] = fit.params[1]
        out["cuped_theta"] = fit.params[2]
        if cuped.lift.se > 0:
            out["cuped_ci_low"], out["cuped_ci_high"] = cuped.lift.ci_low, cuped.lift.ci_high
            out["cuped_p_value"] = cuped.lift.p_value
    return out


def check(experiments: list[dict], rows: list[dict]) -> int:
    """Compare every row with its reference; returns how many values were compared."""
    by_key = {(r["play_id"], r["channel"], r["metric"]): r for r in rows}
    compared, wrong = 0, []
    for index, exp in enumerate(experiments):
        play = f"exp_{index:03d}"
        if not exp["units"]:
            continue
        channels = {"all": exp["units"]}
        for unit in exp["units"]:
            channels.setdefault(unit["channel"], []).append(unit)
        for channel, units in channels.items():
            for metric in [*PROPORTIONS, *MEANS]:
                row = by_key.pop((play, channel, metric))
                for name, value in expected_row(units, metric).items():
                    compared += 1
                    ok = row[name] == value if isinstance(value, bool | int) and not isinstance(value, float) \
                        else close(row[name], value)
                    if not ok:
                        wrong.append(f"{play}/{channel}/{metric}.{name}: sql {row[name]!r} != reference {value!r}")
    assert not wrong, f"{len(wrong)} of {compared} differ:\n" + "\n".join(wrong[:20])
    assert not by_key, f"rows without an experiment: {sorted(by_key)[:5]}"
    return compared


EXPERIMENTS = st.tuples(st.lists(experiment(big=True), min_size=6, max_size=8),
                        st.lists(experiment(), min_size=6, max_size=8)).map(lambda pair: pair[0] + pair[1])


# Each example is a dbt build, so no shrinking: a failure reports the drawn example as is.
NO_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate]


@pytest.mark.dbt
@settings(max_examples=2, deadline=None, phases=NO_SHRINK,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(experiments=EXPERIMENTS)
def test_rpt_play_lift_equals_statsmodels_on_duckdb(tmp_path_factory, experiments) -> None:
    rows = build_duckdb(tmp_path_factory.mktemp("lift-sql"), experiments)
    assert check(experiments, rows) > 500


@settings(max_examples=1, deadline=None, phases=NO_SHRINK,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(experiments=EXPERIMENTS)
def test_rpt_play_lift_equals_statsmodels_on_postgres(postgres_server, tmp_path_factory, experiments) -> None:
    database = postgres_server.create_database(f"omniplay_lift_{abs(hash(str(experiments))) % 10**8}")
    conn = postgres_server.connect(database)
    try:
        with conn, conn.cursor() as cur:
            _write_fixture(cur, _rows(experiments), "%s")
    finally:
        conn.close()
    project = DbtProject.isolated(tmp_path_factory.mktemp("lift-sql-pg"), target="postgres",
                                  data_dir=Path("/nonexistent"), extra_env=postgres_server.env(database))
    rows = _build(project)
    assert check(experiments, rows) > 500


@pytest.mark.dbt
def test_normal_tail_and_chi_square_macros_match_scipy_to_double_precision(tmp_path: Path) -> None:
    """omniplay.normal_sf and chi_square_p_value_df1 in SQL, across the body and both tails."""
    from tests.journeys.inline import inline_query

    project = DbtProject.isolated(tmp_path, target="duckdb", data_dir=tmp_path / "no-sources")
    z = [float(v) for v in np.r_[np.linspace(-9, 9, 181), [-40.0, 7.0710678, 7.0710679, 12.5, 36.9, 37.1, 50.0]]]
    values = " union all ".join(f"select cast({v!r} as double) as z" for v in z)
    sql = (f"select z, {{{{ omniplay.normal_sf('z') }}}} as sf, "
           f"{{{{ omniplay.chi_square_p_value_df1('z * z') }}}} as chi from ({values}) as t order by z")
    rows = inline_query(project, sql)
    assert len(rows) == len(z)
    for value, sf, chi in rows:
        assert math.isclose(sf, sps.norm.sf(value), rel_tol=1e-12, abs_tol=1e-15), value
        assert math.isclose(chi, sps.chi2.sf(value * value, 1), rel_tol=1e-12, abs_tol=1e-15), value
