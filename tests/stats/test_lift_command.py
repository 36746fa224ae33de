"""`omniplay lift` end to end: real files, a real DuckDB warehouse, the real Typer app."""

from __future__ import annotations

import json
import math

import duckdb
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from typer.testing import CliRunner

from cli.main import app
from omniplay.errors import ConfigError

TOL = dict(rtol=1e-9, atol=1e-12)
runner = CliRunner()


def experiment(n: int = 6000, seed: int = 1) -> pd.DataFrame:
    """Three arms; treatment converts 20% more and spends more; spend tracks pre-period spend."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(["control", "treatment", "variant_b"], n, p=[0.4, 0.4, 0.2])
    pre = rng.gamma(2.0, 20.0, n)
    rate = np.where(arm == "treatment", 0.12, 0.10)
    converted = (rng.random(n) < rate).astype(int)
    revenue = converted * rng.gamma(3.0, 15.0, n) + 0.4 * pre + rng.normal(0, 5, n)
    return pd.DataFrame(
        {"unit_id": np.arange(n), "arm": arm, "converted": converted, "revenue": revenue, "pre_spend": pre}
    )


def lift_json(*args: str, env: dict | None = None) -> dict:
    result = runner.invoke(app, ["lift", *args, "--format", "json"], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.output)


def rows_by(report: dict, metric: str) -> dict[str, dict]:
    return {r["arm"]: r for r in report["rows"] if r["metric"] == metric}


def fails_with(capsys, *args: str) -> str:
    """Run the real app (its own error handling); return the one-line message of exit 2."""
    with pytest.raises(SystemExit) as exc:
        app(["lift", *args], prog_name="omniplay")
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("omniplay: ") and "\n" not in err and "Traceback" not in err
    return err


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[pd.DataFrame, str]:
    df = experiment()
    folder = tmp_path_factory.mktemp("it's data")  # a quote in the path: it is a parameter, not SQL
    path = folder / "experiment.csv"
    df.to_csv(path, index=False)
    return df, str(path)


def test_csv_statistics_equal_scipy_and_statsmodels(data):
    df, path = data
    report = lift_json(
        "--table", path, "--arm", "arm", "--metric", "converted", "--metric", "revenue",
        "--covariate", "pre_spend", "--cost-per-unit", "0.05",
    )  # fmt: skip
    assert report["control"] == "control"
    assert {a["arm"]: a["n"] for a in report["arms"]} == df["arm"].value_counts().to_dict()
    c = df[df.arm == "control"]
    for arm in ("treatment", "variant_b"):
        t = df[df.arm == arm]

        conv = rows_by(report, "converted")[arm]
        assert conv["metric_kind"] == "conversion"
        x_t, x_c = int(t.converted.sum()), int(c.converted.sum())
        z, p = proportions_ztest([x_t, x_c], [len(t), len(c)])
        lo, hi = confint_proportions_2indep(x_t, len(t), x_c, len(c), method="wald")
        np.testing.assert_allclose([conv["p_value"], conv["ci_low"], conv["ci_high"]], [p, lo, hi], **TOL)
        np.testing.assert_allclose(conv["lift_abs"], x_t / len(t) - x_c / len(c), **TOL)
        np.testing.assert_allclose(conv["incremental"], conv["lift_abs"] * len(t), **TOL)
        if conv["incremental"] > 0:
            np.testing.assert_allclose(conv["cost_per_incremental"], 0.05 * len(t) / conv["incremental"], **TOL)

        rev = rows_by(report, "revenue")[arm]
        assert rev["metric_kind"] == "continuous"
        ref = sps.ttest_ind(t.revenue, c.revenue, equal_var=False)
        ci = ref.confidence_interval()
        np.testing.assert_allclose(
            [rev["p_value"], rev["df"], rev["ci_low"], rev["ci_high"]], [ref.pvalue, ref.df, ci.low, ci.high], **TOL
        )
        np.testing.assert_allclose(rev["lift_rel"], t.revenue.mean() / c.revenue.mean() - 1, **TOL)

        # CUPED: point estimate is the OLS arm coefficient on the two arms.
        both = pd.concat([t, c])
        x = both.pre_spend - both.pre_spend.mean()
        fit = sm.OLS(both.revenue.to_numpy(), np.column_stack([np.ones(len(both)), both.arm == arm, x])).fit()
        np.testing.assert_allclose([rev["cuped_lift_abs"], rev["cuped_theta"]], fit.params[1:], rtol=1e-9)
        np.testing.assert_allclose(rev["cuped_mean_control"], fit.params[0], rtol=1e-9)
        assert rev["cuped_ci_high"] - rev["cuped_ci_low"] < rev["ci_high"] - rev["ci_low"]
        assert rev["cuped_variance_reduction"] > 0.2  # corr(pre_spend, revenue)^2 is about 0.3


def test_planted_effect_is_inside_the_interval(tmp_path):
    # One fixed draw: a 95% interval misses one draw in twenty by design (seed 2026 is
    # such a draw); the coverage rate itself is tested in test_stats.py.
    rng = np.random.default_rng(1)
    n = 20_000
    df = pd.DataFrame(
        {
            "arm": ["holdout"] * n + ["treatment"] * n,
            "converted": np.r_[rng.random(n) < 0.10, rng.random(n) < 0.12],
        }
    )
    path = tmp_path / "planted.parquet"
    df.to_parquet(path)
    row = lift_json("--table", str(path), "--arm", "arm", "--metric", "converted")["rows"][0]
    assert row["control"] == "holdout" and row["metric_kind"] == "conversion"
    assert row["ci_low"] <= 0.02 <= row["ci_high"]
    assert row["lift_rel_ci_low"] <= 0.20 <= row["lift_rel_ci_high"]
    assert row["p_value"] < 0.05


@pytest.mark.parametrize("treated, flagged", [(52_000, True), (50_000, False)])
def test_planted_imbalance_trips_srm(tmp_path, treated, flagged):
    rng = np.random.default_rng(5)
    n = 100_000
    df = pd.DataFrame({"arm": ["treatment"] * treated + ["control"] * (n - treated), "spend": rng.gamma(2, 10, n)})
    path = tmp_path / "srm.csv"
    df.to_csv(path, index=False)
    report = lift_json("--table", str(path), "--arm", "arm", "--metric", "spend")
    assert report["srm"]["mismatch"] is flagged
    assert report["rows"][0]["srm_flag"] is flagged
    assert (report["srm"]["p_value"] < 0.001) is flagged
    assert any("SAMPLE RATIO MISMATCH" in n for n in report["notes"]) is flagged
    table = runner.invoke(app, ["lift", "--table", str(path), "--arm", "arm", "--metric", "spend"])
    assert table.exit_code == 0
    assert ("MISMATCH" in table.output) is flagged


def test_allocation_is_the_plan_the_srm_check_uses(tmp_path):
    df = pd.DataFrame({"arm": ["holdout"] * 1_000 + ["treatment"] * 9_000, "y": np.arange(10_000) % 7})
    path = tmp_path / "split.csv"
    df.to_csv(path, index=False)
    assumed = lift_json("--table", str(path), "--arm", "arm", "--metric", "y")
    assert assumed["srm"]["mismatch"] and assumed["allocation"].startswith("assumed equal")
    planned = lift_json("--table", str(path), "--arm", "arm", "--metric", "y", "--allocation", "holdout=10",
                        "--allocation", "treatment=90")  # fmt: skip
    assert not planned["srm"]["mismatch"]
    assert planned["srm"]["p_value"] == pytest.approx(1.0)
    # A planned arm that never shows up is a mismatch, and its comparison says why it is empty.
    lost = lift_json("--table", str(path), "--arm", "arm", "--metric", "y", "--allocation", "holdout=10",
                     "--allocation", "treatment=80", "--allocation", "lost=10")  # fmt: skip
    assert lost["srm"]["mismatch"]
    row = rows_by(lost, "y")["lost"]
    assert row["n_treatment"] == 0 and row["p_value"] is None and row["notes"]


def test_unit_aggregation_equals_a_unit_level_table(data, tmp_path):
    df, _ = data
    rng = np.random.default_rng(9)
    # Split each unit's revenue over 1-3 event rows; a conversion flag on any one of them.
    parts = rng.integers(1, 4, len(df))
    events = df.loc[df.index.repeat(parts)].copy()
    k = events.groupby("unit_id").cumcount()
    events["revenue"] = events["revenue"] / events["unit_id"].map(dict(zip(df.unit_id, parts)))
    events["converted"] = np.where(k == 0, events["converted"], 0)
    path = tmp_path / "events.parquet"
    events.sample(frac=1, random_state=1).to_parquet(path)
    unit_path = tmp_path / "units.parquet"
    df.to_parquet(unit_path)

    args = ["--arm", "arm", "--metric", "converted", "--metric", "revenue", "--covariate", "pre_spend"]
    by_unit = lift_json("--table", str(path), "--unit", "unit_id", *args)
    flat = lift_json("--table", str(unit_path), *args)
    assert by_unit["unit_column"] == "unit_id"
    assert by_unit["arms"] == flat["arms"]
    for a, b in zip(by_unit["rows"], flat["rows"]):
        assert a["metric_kind"] == b["metric_kind"]
        for key, value in b.items():
            if isinstance(value, float):
                assert a[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def test_warehouse_table(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    df = experiment(n=800, seed=3)
    with duckdb.connect(str(db)) as con:
        con.execute("create schema analytics")
        con.register("df", df)
        con.execute('create table analytics."Play Outcomes" as select * from df')
    env = {"OMNIPLAY_DUCKDB_PATH": str(db)}
    qualified = lift_json("--table", "analytics.Play Outcomes", "--arm", "arm", "--metric", "revenue", env=env)
    bare = lift_json("--table", "play outcomes", "--arm", "ARM", "--metric", "Revenue", env=env)
    assert qualified["rows"] == bare["rows"]
    t, c = df[df.arm == "treatment"].revenue, df[df.arm == "control"].revenue
    row = rows_by(bare, "revenue")["treatment"]
    np.testing.assert_allclose(row["p_value"], sps.ttest_ind(t, c, equal_var=False).pvalue, **TOL)

    missing = runner.invoke(app, ["lift", "--table", "analytics.nope", "--arm", "arm", "--metric", "revenue"], env=env)
    assert missing.exit_code == ConfigError.exit_code and "no table or view" in missing.output
    nowhere = runner.invoke(
        app, ["lift", "--table", "exp", "--arm", "arm", "--metric", "revenue"],
        env={"OMNIPLAY_DUCKDB_PATH": str(tmp_path / "absent.duckdb")},
    )  # fmt: skip
    assert nowhere.exit_code == ConfigError.exit_code and "no warehouse" in nowhere.output


def test_awkward_column_names_are_quoted_not_spliced(tmp_path):
    rng = np.random.default_rng(4)
    df = pd.DataFrame(
        {
            'the "arm"': rng.choice(["control", "b"], 300),
            "spend; drop table x": rng.gamma(2, 10, 300),
            "pre spend": rng.gamma(2, 10, 300),
        }
    )
    path = tmp_path / "odd.csv"
    df.to_csv(path, index=False)
    report = lift_json("--table", str(path), "--arm", 'the "arm"', "--metric", "spend; drop table x",
                       "--covariate", "pre spend")  # fmt: skip
    row = report["rows"][0]
    t, c = df[df['the "arm"'] == "b"], df[df['the "arm"'] == "control"]
    expected = sps.ttest_ind(t["spend; drop table x"], c["spend; drop table x"], equal_var=False).pvalue
    np.testing.assert_allclose(row["p_value"], expected, **TOL)


def test_nulls_are_reported(tmp_path):
    df = pd.DataFrame(
        {"arm": ["control", "treatment", None, "control", "treatment", "control", "treatment"],
         "revenue": [1.0, None, 5.0, 2.0, 4.0, 3.0, 6.0]}
    )  # fmt: skip
    path = tmp_path / "nulls.csv"
    df.to_csv(path, index=False)
    report = lift_json("--table", str(path), "--arm", "arm", "--metric", "revenue")
    assert "1 row(s) with a null arm left out" in report["notes"]
    assert "1 null value(s) of revenue counted as 0" in report["notes"]
    row = report["rows"][0]
    assert row["mean_treatment"] == pytest.approx((0 + 4 + 6) / 3)


def test_degenerate_data_gives_reasons_not_crashes(tmp_path):
    df = pd.DataFrame({"arm": ["control"] * 50 + ["treatment"] * 50 + ["solo"], "converted": [0] * 101})
    path = tmp_path / "flat.csv"
    df.to_csv(path, index=False)
    report = lift_json("--table", str(path), "--arm", "arm", "--metric", "converted", "--allocation", "control=50",
                       "--allocation", "treatment=50", "--allocation", "solo=1")  # fmt: skip
    rows = rows_by(report, "converted")
    assert rows["treatment"]["p_value"] is None and rows["treatment"]["lift_abs"] == 0
    assert any("neither arm varies" in n for n in rows["treatment"]["notes"])
    assert any("relative lift is undefined" in n for n in rows["treatment"]["notes"])
    assert rows["solo"]["n_treatment"] == 1
    table = runner.invoke(app, ["lift", "--table", str(path), "--arm", "arm", "--metric", "converted"])
    assert table.exit_code == 0 and "relative lift is undefined" in table.output


def test_table_output(data):
    _, path = data
    result = runner.invoke(
        app, ["lift", "--table", path, "--arm", "arm", "--metric", "converted", "--covariate", "pre_spend",
              "--cost-per-unit", "0.1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for text in ("treatment", "variant_b", "control", "sample ratio", "CUPED", "cost /", " pp"):
        assert text in result.output


def test_bad_input_is_a_one_line_config_error(capsys, data, tmp_path):
    _, path = data
    base = ["--table", path, "--arm", "arm"]
    assert "no such column" in fails_with(capsys, *base, "--metric", "nope")
    assert "columns: unit_id, arm" in fails_with(capsys, *base, "--metric", "nope")
    assert "no such arm" in fails_with(capsys, *base, "--metric", "revenue", "--control", "placebo")
    assert "must be a number" in fails_with(capsys, "--table", path, "--arm", "revenue", "--metric", "arm")
    assert "ARM=WEIGHT" in fails_with(capsys, *base, "--metric", "revenue", "--allocation", "control")
    assert "no weight for arm" in fails_with(capsys, *base, "--metric", "revenue", "--allocation", "control=1")
    assert "--format" in fails_with(capsys, *base, "--metric", "revenue", "--format", "xml")
    assert "no such file" in fails_with(capsys, "--table", str(tmp_path / "gone.csv"), "--arm", "a", "--metric", "b")
    assert "different columns" in fails_with(capsys, *base, "--metric", "arm")

    one = tmp_path / "one.csv"
    pd.DataFrame({"arm": ["control"] * 5, "y": range(5)}).to_csv(one, index=False)
    assert "only 'control'" in fails_with(capsys, "--table", str(one), "--arm", "arm", "--metric", "y")

    nameless = tmp_path / "nameless.csv"
    pd.DataFrame({"arm": ["a", "b"] * 5, "y": range(10)}).to_csv(nameless, index=False)
    err = fails_with(capsys, "--table", str(nameless), "--arm", "arm", "--metric", "y")
    assert "--control" in err and "a, b" in err

    crossed = tmp_path / "crossed.csv"
    pd.DataFrame({"u": [1, 1, 2, 3], "arm": ["control", "b", "b", "control"], "y": [1, 2, 3, 4]}).to_csv(
        crossed, index=False
    )
    assert "more than one arm" in fails_with(
        capsys, "--table", str(crossed), "--arm", "arm", "--metric", "y", "--unit", "u"
    )
    drifting = tmp_path / "drift.csv"
    pd.DataFrame({"u": [1, 1, 2, 3], "arm": ["b", "b", "b", "control"], "y": [1, 2, 3, 4], "x": [1, 2, 3, 3]}).to_csv(
        drifting, index=False
    )
    assert "varies within" in fails_with(
        capsys, "--table", str(drifting), "--arm", "arm", "--metric", "y", "--unit", "u", "--covariate", "x"
    )


def test_json_has_no_nan(tmp_path):
    df = pd.DataFrame({"arm": ["control", "treatment", "treatment"], "y": [1.0, 2.0, 3.0]})
    path = tmp_path / "tiny.csv"
    df.to_csv(path, index=False)
    result = runner.invoke(app, ["lift", "--table", str(path), "--arm", "arm", "--metric", "y", "--format", "json"])
    assert result.exit_code == 0
    assert "NaN" not in result.output
    row = json.loads(result.output)["rows"][0]
    assert row["p_value"] is None and any("at least 2" in n for n in row["notes"])
    assert not math.isnan(row["lift_abs"])
