"""omniplay.stats against scipy and statsmodels (to 1e-9), edge cases, planted effects."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats as sps
from statsmodels.stats._delta_method import NonlinearDeltaCov
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from omniplay import stats

TOL = dict(rtol=1e-9, atol=1e-12)
FAST = settings(max_examples=60, deadline=None)

values = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)


def sample(min_size: int = 2, max_size: int = 60):
    return arrays(np.float64, st.integers(min_size, max_size), elements=values)


def varies(a: np.ndarray) -> bool:
    """Clearly non-constant, so reference and ours are not both dividing rounding noise."""
    return a.var() > 1e-6 * (1.0 + a.mean() ** 2)


# --- difference of means: Welch ------------------------------------------------------


@FAST
@given(t=sample(), c=sample())
def test_welch_equals_scipy_and_statsmodels(t, c):
    assume(varies(t) and varies(c))
    ours = stats.welch_diff(stats.Moments.from_values(t), stats.Moments.from_values(c))

    ref = sps.ttest_ind(t, c, equal_var=False)
    ci = ref.confidence_interval(0.95)
    np.testing.assert_allclose(
        [ours.statistic, ours.p_value, ours.df, ours.ci_low, ours.ci_high],
        [ref.statistic, ref.pvalue, ref.df, ci.low, ci.high],
        **TOL,
    )
    cm = CompareMeans(DescrStatsW(t), DescrStatsW(c))
    tstat, p, df = cm.ttest_ind(usevar="unequal")
    lo, hi = cm.tconfint_diff(alpha=0.05, usevar="unequal")
    np.testing.assert_allclose([ours.statistic, ours.p_value, ours.df, ours.ci_low, ours.ci_high], [tstat, p, df, lo, hi], **TOL)
    np.testing.assert_allclose(ours.estimate, t.mean() - c.mean(), **TOL)


@FAST
@given(t=sample(), c=sample(), alpha=st.sampled_from([0.01, 0.1, 0.2]))
def test_welch_normal_approximation_equals_statsmodels_zconfint(t, c, alpha):
    assume(varies(t) and varies(c))
    ours = stats.welch_diff(stats.Moments.from_values(t), stats.Moments.from_values(c), alpha=alpha, dist="normal")
    cm = CompareMeans(DescrStatsW(t), DescrStatsW(c))
    z, p = cm.ztest_ind(usevar="unequal")
    lo, hi = cm.zconfint_diff(alpha=alpha, usevar="unequal")
    np.testing.assert_allclose([ours.statistic, ours.p_value, ours.ci_low, ours.ci_high], [z, p, lo, hi], **TOL)
    assert ours.df == math.inf


def test_welch_is_vectorized_over_comparisons():
    rng = np.random.default_rng(7)
    groups = [(rng.normal(1, 2, 30 + k), rng.normal(0, 1, 50 - k)) for k in range(6)]
    mt = [stats.Moments.from_values(t) for t, _ in groups]
    mc = [stats.Moments.from_values(c) for _, c in groups]
    stacked = stats.welch_diff(
        stats.Moments(np.array([m.n for m in mt]), np.array([m.mean for m in mt]), np.array([m.var for m in mt])),
        stats.Moments(np.array([m.n for m in mc]), np.array([m.mean for m in mc]), np.array([m.var for m in mc])),
    )
    for k, (t, c) in enumerate(groups):
        ref = sps.ttest_ind(t, c, equal_var=False)
        np.testing.assert_allclose([stacked.statistic[k], stacked.p_value[k]], [ref.statistic, ref.pvalue], **TOL)


@FAST
@given(t=sample(), loc=st.floats(-1e3, 1e3))
def test_moments_from_sums_matches_two_pass(t, loc):
    assume(varies(t))
    y = t + loc
    ours = stats.Moments.from_sums(y.size, y.sum(), (y * y).sum())
    ref = stats.Moments.from_values(y)
    assert ours.n == ref.n
    np.testing.assert_allclose(ours.mean, ref.mean, rtol=1e-9, atol=1e-9)
    # The sums form cancels; its error scales with mean**2 / var (documented).
    np.testing.assert_allclose(ours.var, ref.var, rtol=1e-6, atol=1e-9 * (1 + y.mean() ** 2))


# --- proportions ---------------------------------------------------------------------


@st.composite
def two_proportions(draw):
    n_t = draw(st.integers(1, 10**6))
    n_c = draw(st.integers(1, 10**6))
    return draw(st.integers(0, n_t)), n_t, draw(st.integers(0, n_c)), n_c


@FAST
@given(two_proportions())
def test_proportion_diff_equals_statsmodels(data):
    x_t, n_t, x_c, n_c = data
    pooled = (x_t + x_c) / (n_t + n_c)
    assume(0 < pooled < 1)
    ours = stats.proportion_diff(x_t, n_t, x_c, n_c)
    z, p = proportions_ztest([x_t, x_c], [n_t, n_c])
    lo, hi = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald")
    np.testing.assert_allclose([ours.statistic, ours.p_value, ours.ci_low, ours.ci_high], [z, p, lo, hi], **TOL)
    # The Wald interval is the normal-approximation Welch interval on Wald moments
    # (welch_diff needs two units per arm; proportion_diff does not).
    if min(n_t, n_c) < 2:
        return
    wald = stats.welch_diff(stats.Moments.from_proportion(x_t, n_t), stats.Moments.from_proportion(x_c, n_c), dist="normal")
    np.testing.assert_allclose([wald.ci_low, wald.ci_high], [lo, hi], **TOL)


def test_proportion_diff_is_vectorized():
    x_t, n_t = np.array([10, 50, 0]), np.array([100, 400, 30])
    x_c, n_c = np.array([5, 60, 3]), np.array([90, 410, 40])
    ours = stats.proportion_diff(x_t, n_t, x_c, n_c)
    for k in range(3):
        z, p = proportions_ztest([x_t[k], x_c[k]], [n_t[k], n_c[k]])
        np.testing.assert_allclose([ours.statistic[k], ours.p_value[k]], [z, p], **TOL)


# --- relative lift: delta method -----------------------------------------------------


@FAST
@given(t=sample(3), c=sample(3))
def test_relative_lift_equals_statsmodels_delta_method(t, c):
    assume(varies(t) and varies(c) and abs(c.mean()) > 1e-3 * (1 + np.abs(c).max()))
    mt, mc = stats.Moments.from_values(t), stats.Moments.from_values(c)
    ours = stats.relative_lift(mt, mc)

    # statsmodels' delta method with its own (complex-step) Jacobian of m_t/m_c - 1,
    # around the independent arms' covariance diag(var/n).
    params = np.array([t.mean(), c.mean()])
    cov = np.diag([t.var(ddof=1) / t.size, c.var(ddof=1) / c.size])
    dm = NonlinearDeltaCov(lambda p: np.atleast_1d(p[0] / p[1] - 1.0), params, cov)
    ci = dm.conf_int(alpha=0.05)[0]
    z, p = dm.wald_test(np.zeros(1))
    np.testing.assert_allclose(ours.estimate, dm.predicted()[0], **TOL)
    np.testing.assert_allclose(ours.se, dm.se_vectorized()[0], **TOL)
    np.testing.assert_allclose([ours.ci_low, ours.ci_high], ci, **TOL)
    np.testing.assert_allclose(ours.p_value, p, rtol=1e-9, atol=1e-12)


def test_relative_lift_on_proportions_uses_wald_variances():
    x_t, n_t, x_c, n_c = 130, 1000, 100, 1000
    ours = stats.relative_lift(stats.Moments.from_proportion(x_t, n_t), stats.Moments.from_proportion(x_c, n_c))
    p_t, p_c = x_t / n_t, x_c / n_c
    cov = np.diag([p_t * (1 - p_t) / n_t, p_c * (1 - p_c) / n_c])
    dm = NonlinearDeltaCov(lambda p: np.atleast_1d(p[0] / p[1] - 1.0), np.array([p_t, p_c]), cov)
    np.testing.assert_allclose([ours.ci_low, ours.ci_high], dm.conf_int(alpha=0.05)[0], **TOL)


@pytest.mark.parametrize(
    "draw_t, draw_c, truth",
    [
        # skewed revenue-like outcome, 25% relative lift
        (lambda r, s: r.gamma(2.0, 12.5, s), lambda r, s: r.gamma(2.0, 10.0, s), 0.25),
        # conversion 10% -> 12%: +20%
        (lambda r, s: (r.random(s) < 0.12).astype(float), lambda r, s: (r.random(s) < 0.10).astype(float), 0.20),
    ],
    ids=["gamma", "bernoulli"],
)
def test_relative_lift_interval_covers_at_nominal_rate(draw_t, draw_c, truth):
    rng = np.random.default_rng(20261122)
    reps, n = 2000, 1500
    t, c = draw_t(rng, (reps, n)), draw_c(rng, (reps, n))
    est = stats.relative_lift(stats.Moments.from_values(t), stats.Moments.from_values(c))
    covered = (est.ci_low <= truth) & (truth <= est.ci_high)
    # 2000 replications: the binomial sd of the coverage is 0.5 pp.
    assert 0.935 <= covered.mean() <= 0.965, covered.mean()
    # and the delta-method se tracks the sampling spread of the estimate
    np.testing.assert_allclose(np.median(est.se), est.estimate.std(), rtol=0.06)


# --- CUPED ---------------------------------------------------------------------------


@st.composite
def cuped_experiment(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    n_t, n_c = draw(st.integers(4, 120)), draw(st.integers(4, 120))
    slope = draw(st.floats(-3, 3))
    effect = draw(st.floats(-5, 5))
    rng = np.random.default_rng(seed)
    x_t, x_c = rng.gamma(2.0, 10.0, n_t), rng.gamma(2.0, 10.0, n_c)
    y_t = effect + slope * x_t + rng.normal(0, draw(st.floats(0.1, 10)), n_t)
    y_c = slope * x_c + rng.normal(0, draw(st.floats(0.1, 10)), n_c)
    return y_t, x_t, y_c, x_c


@FAST
@given(cuped_experiment())
def test_cuped_equals_ols_point_estimates_and_welch_on_adjusted_outcome(exp):
    y_t, x_t, y_c, x_c = exp
    ours = stats.cuped(stats.CrossMoments.from_values(y_t, x_t), stats.CrossMoments.from_values(y_c, x_c))

    y, x = np.r_[y_t, y_c], np.r_[x_t, x_c]
    d = np.r_[np.ones(y_t.size), np.zeros(y_c.size)]
    fit = sm.OLS(y, np.column_stack([np.ones_like(y), d, x - x.mean()])).fit()
    intercept, arm_coef, theta = fit.params
    np.testing.assert_allclose([ours.theta, ours.lift.estimate], [theta, arm_coef], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.adjusted_control.mean, intercept, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.adjusted_treatment.mean, intercept + arm_coef, rtol=1e-9, atol=1e-9)
    resid_t, resid_c = fit.resid[: y_t.size], fit.resid[y_t.size :]
    np.testing.assert_allclose(
        [ours.adjusted_treatment.var, ours.adjusted_control.var],
        [resid_t.var(ddof=1), resid_c.var(ddof=1)],
        rtol=1e-9,
        atol=1e-9,
    )

    # The classical OLS SE is reproducible from the moments (reported for reference).
    np.testing.assert_allclose(ours.ols_se, fit.bse[1], rtol=1e-9)

    # Inference is Welch's test on Y - theta (X - mean X), theta from the OLS fit.
    ref = sps.ttest_ind(y_t - theta * (x_t - x.mean()), y_c - theta * (x_c - x.mean()), equal_var=False)
    ci = ref.confidence_interval(0.95)
    np.testing.assert_allclose(
        [ours.lift.statistic, ours.lift.p_value, ours.lift.df, ours.lift.ci_low, ours.lift.ci_high],
        [ref.statistic, ref.pvalue, ref.df, ci.low, ci.high],
        rtol=1e-9,
        atol=1e-9,
    )


def test_cuped_se_is_close_to_ols_hc2_at_moderate_n_and_reduces_variance():
    """Welch-on-adjusted is not an OLS SE (see cuped's docstring) but agrees to O(1/n)."""
    rng = np.random.default_rng(3)
    n_t, n_c = 3000, 2500
    x_t, x_c = rng.gamma(2.0, 10.0, n_t), rng.gamma(2.0, 10.0, n_c)
    y_t = 1.0 + 0.8 * x_t + rng.normal(0, 6, n_t)
    y_c = 0.8 * x_c + rng.normal(0, 4, n_c)
    ours = stats.cuped(stats.CrossMoments.from_values(y_t, x_t), stats.CrossMoments.from_values(y_c, x_c))
    y, x = np.r_[y_t, y_c], np.r_[x_t, x_c]
    d = np.r_[np.ones(n_t), np.zeros(n_c)]
    fit = sm.OLS(y, np.column_stack([np.ones_like(y), d, x - x.mean()])).fit(cov_type="HC2")
    np.testing.assert_allclose(ours.lift.se, fit.bse[1], rtol=2e-3)
    assert ours.lift.se != pytest.approx(fit.bse[1], rel=1e-9)  # an approximation, not an identity
    raw = stats.welch_diff(stats.Moments.from_values(y_t), stats.Moments.from_values(y_c))
    assert ours.variance_reduction == pytest.approx(1 - (ours.lift.se / raw.se) ** 2)
    assert ours.variance_reduction > 0.8  # corr(X, Y)^2 is about 0.9 here
    assert ours.lift.ci_low < 1.0 < ours.lift.ci_high


def test_cuped_theta_pools_within_arms_not_across():
    # A big treatment effect must not leak into theta: X is pure noise here.
    rng = np.random.default_rng(11)
    x_t, x_c = rng.normal(0, 1, 500), rng.normal(0.3, 1, 500)
    y_t, y_c = 100 + rng.normal(0, 1, 500), rng.normal(0, 1, 500)
    res = stats.cuped(stats.CrossMoments.from_values(y_t, x_t), stats.CrossMoments.from_values(y_c, x_c))
    assert abs(res.theta) < 0.15


# --- SRM -----------------------------------------------------------------------------


@FAST
@given(
    counts=st.lists(st.integers(0, 10**6), min_size=2, max_size=6),
    weights=st.lists(st.floats(0.01, 100), min_size=6, max_size=6),
)
def test_srm_equals_scipy_chisquare(counts, weights):
    assume(sum(counts) > 0)
    w = np.array(weights[: len(counts)])
    ours = stats.srm_test(counts, w)
    exp = w / w.sum() * sum(counts)
    ref = sps.chisquare(counts, f_exp=exp)
    np.testing.assert_allclose([ours.statistic, ours.p_value], [ref.statistic, ref.pvalue], **TOL)
    assert ours.df == len(counts) - 1
    assert ours.mismatch == (ref.pvalue < 0.001)


def test_planted_imbalance_trips_srm_and_balance_does_not():
    assert stats.srm_test([52_000, 48_000]).mismatch  # 52/48 on 100k, 50/50 planned
    assert not stats.srm_test([50_150, 49_850]).mismatch  # ordinary noise
    assert not stats.srm_test([50_000, 50_000]).mismatch
    # A 10% holdout is not a mismatch once the plan says so, and is one when it does not.
    assert not stats.srm_test([10_040, 89_960], [10, 90]).mismatch
    assert stats.srm_test([10_040, 89_960]).mismatch


def test_srm_rejects_bad_input():
    with pytest.raises(ValueError):
        stats.srm_test([100])
    with pytest.raises(ValueError):
        stats.srm_test([100, 100], [1, 0])
    with pytest.raises(ValueError):
        stats.srm_test([100, -1])
    empty = stats.srm_test([0, 0])
    assert math.isnan(empty.p_value) and not empty.mismatch


# --- planted effect ------------------------------------------------------------------


def test_planted_conversion_effect_is_recovered():
    """+20% conversion (10% -> 12%) at 20k units per arm lands inside the intervals."""
    rng = np.random.default_rng(8)
    n = 20_000
    x_t = int((rng.random(n) < 0.12).sum())
    x_c = int((rng.random(n) < 0.10).sum())
    absolute = stats.proportion_diff(x_t, n, x_c, n)
    relative = stats.relative_lift(stats.Moments.from_proportion(x_t, n), stats.Moments.from_proportion(x_c, n))
    assert absolute.ci_low <= 0.02 <= absolute.ci_high
    assert relative.ci_low <= 0.20 <= relative.ci_high
    assert absolute.p_value < 0.001  # 80%+ power here: the effect is not only covered but detected
    incremental = absolute.scaled(n)
    assert incremental.estimate == pytest.approx(x_t - x_c * 1.0)
    assert incremental.ci_low <= 0.02 * n <= incremental.ci_high


def test_cost_per_incremental():
    assert stats.cost_per_incremental(0.05, 10_000, 40) == pytest.approx(12.5)
    assert math.isnan(stats.cost_per_incremental(0.05, 10_000, 0))
    assert math.isnan(stats.cost_per_incremental(0.05, 10_000, -3))
    np.testing.assert_allclose(stats.cost_per_incremental(1.0, [10, 20], [5, -1]), [2.0, np.nan])


# --- edge cases: NaN with a reason, never a crash ------------------------------------


def test_zero_conversions_in_both_arms():
    res = stats.proportion_diff(0, 500, 0, 480)
    assert res.estimate == 0 and res.ci_low == 0 and res.ci_high == 0
    assert math.isnan(res.p_value)
    rel = stats.relative_lift(stats.Moments.from_proportion(0, 500), stats.Moments.from_proportion(0, 480))
    assert math.isnan(rel.estimate) and math.isnan(rel.ci_low)
    assert stats.undefined_reason(500, 480, 0.0, 0.0, 0.0, 0.0) == "neither arm varies (every unit has the same value)"


def test_conversions_in_treatment_only():
    res = stats.proportion_diff(5, 500, 0, 480)
    z, p = proportions_ztest([5, 0], [500, 480])
    np.testing.assert_allclose([res.statistic, res.p_value], [z, p], **TOL)
    rel = stats.relative_lift(stats.Moments.from_proportion(5, 500), stats.Moments.from_proportion(0, 480))
    assert math.isnan(rel.estimate)  # control rate 0: relative lift undefined


def test_identical_arms_give_zero_lift_and_p_one():
    a = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    res = stats.welch_diff(stats.Moments.from_values(a), stats.Moments.from_values(a.copy()))
    assert res.estimate == 0 and res.p_value == pytest.approx(1.0)
    assert res.ci_low < 0 < res.ci_high
    assert stats.relative_lift(stats.Moments.from_values(a), stats.Moments.from_values(a)).estimate == 0


def test_constant_arms_are_nan_not_a_crash():
    res = stats.welch_diff(stats.Moments(10, 3.0, 0.0), stats.Moments(10, 3.0, 0.0))
    assert math.isnan(res.p_value)
    res = stats.welch_diff(stats.Moments(10, 4.0, 0.0), stats.Moments(10, 3.0, 0.0))
    assert res.estimate == 1.0 and math.isnan(res.p_value)
    assert "neither arm varies" in stats.undefined_reason(10, 10, 0.0, 0.0, 4.0, 3.0)


@pytest.mark.parametrize("n_t, n_c", [(1, 50), (50, 1), (0, 50)])
def test_tiny_arms_are_nan_with_a_reason(n_t, n_c):
    t = stats.Moments.from_values(np.arange(n_t, dtype=float))
    c = stats.Moments.from_values(np.arange(n_c, dtype=float))
    for res in (stats.welch_diff(t, c), stats.relative_lift(t, c)):
        assert math.isnan(res.p_value) and math.isnan(res.ci_low) and math.isnan(res.se)
    reason = stats.undefined_reason(n_t, n_c, t.var, c.var)
    assert reason is not None and "at least 2" in reason
    cu = stats.cuped(
        stats.CrossMoments.from_values(np.arange(n_t, dtype=float), np.arange(n_t, dtype=float)),
        stats.CrossMoments.from_values(np.arange(n_c, dtype=float), np.arange(n_c, dtype=float) ** 2),
    )
    assert math.isnan(cu.lift.p_value)


def test_undefined_reason_is_none_for_a_normal_comparison():
    assert stats.undefined_reason(100, 100, 1.0, 2.0, 1.0, 1.5) is None


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="alpha"):
        stats.welch_diff(stats.Moments(10, 1, 1), stats.Moments(10, 1, 1), alpha=1.5)
    with pytest.raises(ValueError, match="dist"):
        stats.welch_diff(stats.Moments(10, 1, 1), stats.Moments(10, 1, 1), dist="z")
    with pytest.raises(ValueError, match="exceed"):
        stats.proportion_diff(11, 10, 1, 10)
    with pytest.raises(ValueError, match="non-negative"):
        stats.welch_diff(stats.Moments(-1, 1, 1), stats.Moments(10, 1, 1))
