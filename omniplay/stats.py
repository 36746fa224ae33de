"""Lift statistics on per-arm sufficient statistics: pure, vectorized, SQL-checkable.

Every test here takes per-arm *summaries* rather than raw rows: the number of units ``n``,
the mean, and the sample variance (``ddof=1``); CUPED adds the covariate's mean and
variance and its covariance with the outcome. Those are exactly what SQL aggregates
(``count``, ``avg``, ``var_samp``, ``covar_samp``) return, so the same numbers can come
from pandas, from DuckDB or from the SQL of ``rpt_play_lift``, and these functions are
the oracle for that SQL. Arguments broadcast like numpy arrays: pass one comparison as
scalars or many as arrays; 0-d results come back as Python floats.

Quantities that the data cannot define (an arm with fewer than two units, a control
mean of zero, no variation at all) come back as NaN, never as an exception;
:func:`undefined_reason` says why in words. Invalid *arguments* (negative counts, more
conversions than units, alpha outside (0, 1)) raise ``ValueError``.

Which test, and what it equals (checked to 1e-9 in ``tests/stats``):

* Difference of means, :func:`welch_diff`: Welch's unequal-variance t test with the
  Welch–Satterthwaite degrees of freedom, i.e. ``scipy.stats.ttest_ind(equal_var=False)``
  and statsmodels ``CompareMeans.ttest_ind(usevar="unequal")`` / ``tconfint_diff``.
  ``dist="normal"`` keeps the same standard error with normal quantiles (the
  large-sample approximation SQL engines without a t distribution can compute).
* Difference of proportions, :func:`proportion_diff`: two-proportion z test with the
  pooled variance under H0 (statsmodels ``proportions_ztest``) and the unpooled Wald
  interval (statsmodels ``confint_proportions_2indep(method="wald")``).
* Relative lift, :func:`relative_lift`: delta method, normal (see its docstring).
* CUPED, :func:`cuped`: Deng, Xu, Kohavi & Walker (WSDM 2013) with the pooled
  within-arm theta; the point estimate equals the arm coefficient of the OLS fit
  ``Y ~ arm + (X - mean X)`` exactly, and its inference is Welch's t test on the
  adjusted outcome (see its docstring for why that is not an OLS standard error).
* Sample-ratio mismatch, :func:`srm_test`: Pearson chi-square goodness of fit
  (``scipy.stats.chisquare``), flagged at alpha 0.001.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _sps

Dist = Literal["t", "normal"]

SRM_ALPHA = 0.001
"""Experimentation platforms flag a sample-ratio mismatch at p < 0.001 (issue 8)."""


def _arr(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _out(x: np.ndarray):
    """0-d arrays become Python floats so scalar callers get scalars."""
    x = np.asarray(x)
    return float(x) if x.ndim == 0 else x


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")


def _check_n(n: np.ndarray, name: str = "n") -> None:
    if np.any(n < 0) or np.any(n != np.floor(n)):
        raise ValueError(f"{name} must be non-negative whole numbers")


@dataclass(frozen=True)
class Moments:
    """Per-arm summary of one metric: unit count, mean and variance of one unit's value.

    ``var`` is the variance used for the standard error of the mean, ``var / n``: the
    sample variance (``ddof=1``, SQL ``var_samp``) for continuous metrics, or
    ``p * (1 - p)`` for proportions built with :meth:`from_proportion` (the Wald
    variance). Fields may be arrays of equal shape (one entry per arm or comparison).
    """

    n: ArrayLike
    mean: ArrayLike
    var: ArrayLike

    @classmethod
    def from_values(cls, values: ArrayLike, axis: int = -1) -> "Moments":
        """Summarize raw values (two-pass, so no cancellation); var is NaN when n < 2."""
        v = _arr(values)
        n = v.shape[axis]
        mean = v.mean(axis=axis) if n else np.full_like(v.sum(axis=axis), np.nan)
        var = v.var(axis=axis, ddof=1) if n >= 2 else np.full_like(mean, np.nan)
        return cls(n=_out(np.full_like(mean, n)), mean=_out(mean), var=_out(var))

    @classmethod
    def from_sums(cls, n: ArrayLike, total: ArrayLike, total_sq: ArrayLike) -> "Moments":
        """Summary from ``count``, ``sum(y)`` and ``sum(y * y)`` (the ``ddof=1`` variance).

        Subtracting ``total**2 / n`` from ``total_sq`` cancels catastrophically when the
        mean is large against the spread; prefer SQL ``var_samp`` (DuckDB and PostgreSQL
        compute it stably) and use this only for sums you already have.
        """
        n, total, total_sq = _arr(n), _arr(total), _arr(total_sq)
        _check_n(n)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n > 0, total / n, np.nan)
            ss = np.maximum(total_sq - total * total / n, 0.0)
            var = np.where(n >= 2, ss / (n - 1), np.nan)
        return cls(n=_out(n), mean=_out(mean), var=_out(var))

    @classmethod
    def from_proportion(cls, conversions: ArrayLike, n: ArrayLike) -> "Moments":
        """Summary of a 0/1 metric with the Wald variance ``p * (1 - p)``."""
        x, n = _arr(conversions), _arr(n)
        _check_n(n)
        _check_n(x, "conversions")
        if np.any(x > n):
            raise ValueError("conversions cannot exceed n")
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(n > 0, x / n, np.nan)
        return cls(n=_out(n), mean=_out(p), var=_out(p * (1.0 - p)))


@dataclass(frozen=True)
class CrossMoments:
    """Per-arm summary of an outcome Y and a pre-period covariate X, for CUPED.

    Variances and the covariance are sample (``ddof=1``) statistics, as SQL
    ``var_samp`` and ``covar_samp`` return them.
    """

    n: ArrayLike
    mean_y: ArrayLike
    var_y: ArrayLike
    mean_x: ArrayLike
    var_x: ArrayLike
    cov_xy: ArrayLike

    @classmethod
    def from_values(cls, y: ArrayLike, x: ArrayLike) -> "CrossMoments":
        """Summarize one arm's raw outcome and covariate values (1-D, equal length)."""
        y, x = _arr(y), _arr(x)
        if y.shape != x.shape or y.ndim != 1:
            raise ValueError("y and x must be 1-D arrays of equal length")
        n = y.size
        if n < 2:
            nan = float("nan")
            return cls(n, float(y.mean()) if n else nan, nan, float(x.mean()) if n else nan, nan, nan)
        cov = np.cov(y, x, ddof=1)
        return cls(n, float(y.mean()), float(cov[0, 0]), float(x.mean()), float(cov[1, 1]), float(cov[0, 1]))

    @property
    def outcome(self) -> Moments:
        return Moments(self.n, self.mean_y, self.var_y)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error, two-sided CI and test of zero.

    ``df`` is the t distribution's degrees of freedom, ``inf`` for normal-based results.
    """

    estimate: float | np.ndarray
    se: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    statistic: float | np.ndarray
    p_value: float | np.ndarray
    df: float | np.ndarray

    def scaled(self, factor: ArrayLike) -> "Estimate":
        """The same result in other units (e.g. per-unit lift times arm size)."""
        f = _arr(factor)
        lo, hi = _arr(self.ci_low) * f, _arr(self.ci_high) * f
        return Estimate(
            estimate=_out(_arr(self.estimate) * f),
            se=_out(_arr(self.se) * np.abs(f)),
            ci_low=_out(np.minimum(lo, hi)),
            ci_high=_out(np.maximum(lo, hi)),
            statistic=self.statistic,
            p_value=self.p_value,
            df=self.df,
        )

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _two_sided(estimate, se, df, alpha: float, test_se=None) -> Estimate:
    """CI ``estimate ± q * se`` and p-value of ``estimate / test_se`` under t(df) or N(0, 1)."""
    test_se = se if test_se is None else test_se
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = estimate / test_se
        normal = np.isinf(df)
        df_t = np.where(normal, 1.0, df)  # placeholder where the normal branch is used
        q = np.where(normal, _sps.norm.isf(alpha / 2), _sps.t.isf(alpha / 2, df_t))
        p = np.where(normal, 2.0 * _sps.norm.sf(np.abs(stat)), 2.0 * _sps.t.sf(np.abs(stat), df_t))
        p = np.where(np.isnan(stat) | np.isnan(df), np.nan, p)
        half = q * se
    return Estimate(
        estimate=_out(estimate),
        se=_out(se),
        ci_low=_out(estimate - half),
        ci_high=_out(estimate + half),
        statistic=_out(stat),
        p_value=_out(p),
        df=_out(np.broadcast_to(df, np.shape(estimate)).astype(float)),
    )


def welch_diff(treatment: Moments, control: Moments, *, alpha: float = 0.05, dist: Dist = "t") -> Estimate:
    """Absolute lift ``mean_t - mean_c`` by Welch's unequal-variance t test.

    ``se = sqrt(var_t/n_t + var_c/n_c)``; degrees of freedom by Welch–Satterthwaite,
    ``se**4 / ((var_t/n_t)**2/(n_t-1) + (var_c/n_c)**2/(n_c-1))``. Equals scipy
    ``ttest_ind(equal_var=False)`` and statsmodels ``CompareMeans`` with
    ``usevar="unequal"``. With ``dist="normal"`` the CI and p-value use N(0, 1) instead
    (the Wald interval when the moments come from :meth:`Moments.from_proportion`).
    NaN when either arm has fewer than two units or neither arm varies and the means
    are equal.
    """
    _check_alpha(alpha)
    if dist not in ("t", "normal"):
        raise ValueError(f"dist must be 't' or 'normal', got {dist!r}")
    n_t, m_t, v_t = _arr(treatment.n), _arr(treatment.mean), _arr(treatment.var)
    n_c, m_c, v_c = _arr(control.n), _arr(control.mean), _arr(control.var)
    _check_n(n_t)
    _check_n(n_c)
    small = (n_t < 2) | (n_c < 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        a, b = v_t / n_t, v_c / n_c
        se = np.sqrt(a + b)
        diff = m_t - m_c
        if dist == "t":
            df = (a + b) ** 2 / (a * a / (n_t - 1) + b * b / (n_c - 1))
        else:
            df = np.full(np.broadcast(a, b).shape, np.inf)
    se = np.where(small, np.nan, se)
    df = np.where(small, np.nan, df)
    return _two_sided(diff, se, df, alpha)


def proportion_diff(
    conversions_t: ArrayLike, n_t: ArrayLike, conversions_c: ArrayLike, n_c: ArrayLike, *, alpha: float = 0.05
) -> Estimate:
    """Absolute lift of a conversion rate, ``p_t - p_c``: pooled z test, Wald interval.

    The statistic and p-value use the pooled variance under H0,
    ``p(1-p)(1/n_t + 1/n_c)`` with ``p = (x_t + x_c)/(n_t + n_c)`` (statsmodels
    ``proportions_ztest``); ``se`` and the CI are unpooled Wald,
    ``sqrt(p_t(1-p_t)/n_t + p_c(1-p_c)/n_c)`` (``confint_proportions_2indep(method="wald")``).
    With no conversions (or all converting) in both arms the p-value is NaN.
    """
    _check_alpha(alpha)
    t = Moments.from_proportion(conversions_t, n_t)
    c = Moments.from_proportion(conversions_c, n_c)
    nt, nc = _arr(t.n), _arr(c.n)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (_arr(conversions_t) + _arr(conversions_c)) / (nt + nc)
        se_pooled = np.sqrt(pooled * (1.0 - pooled) * (1.0 / nt + 1.0 / nc))
        se = np.sqrt(_arr(t.var) / nt + _arr(c.var) / nc)
    diff = _arr(t.mean) - _arr(c.mean)
    df = np.full(np.shape(diff), np.inf)
    return _two_sided(diff, se, df, alpha, test_se=se_pooled)


def relative_lift(treatment: Moments, control: Moments, *, alpha: float = 0.05) -> Estimate:
    """Relative lift ``mean_t / mean_c - 1`` with a delta-method normal interval.

    The arms are independent, so for ``g(m_t, m_c) = m_t/m_c - 1`` with gradient
    ``(1/m_c, -m_t/m_c**2)`` the delta method gives::

        var(g) = var_t / (n_t * m_c**2) + m_t**2 * var_c / (n_c * m_c**4)

    CI ``g ± z(1 - alpha/2) * se`` and a z test of ``g = 0``. This is a first-order
    (large-sample) approximation: it is poor when the control mean's own standard
    error is not small against the mean. NaN when the control mean is zero or an arm
    has fewer than two units.
    """
    _check_alpha(alpha)
    n_t, m_t, v_t = _arr(treatment.n), _arr(treatment.mean), _arr(treatment.var)
    n_c, m_c, v_c = _arr(control.n), _arr(control.mean), _arr(control.var)
    _check_n(n_t)
    _check_n(n_c)
    bad = (n_t < 2) | (n_c < 2) | (m_c == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(bad, np.nan, m_t / m_c - 1.0)
        var = v_t / (n_t * m_c**2) + m_t**2 * v_c / (n_c * m_c**4)
        se = np.where(bad, np.nan, np.sqrt(var))
    return _two_sided(rel, se, np.full(np.shape(rel), np.inf), alpha)


def cuped_theta(n: ArrayLike, var_x: ArrayLike, cov_xy: ArrayLike, axis: int = -1):
    """Pooled within-arm CUPED coefficient over the arms along ``axis``.

    ``theta = sum_a (n_a - 1) cov_a(X, Y) / sum_a (n_a - 1) var_a(X)``: the OLS slope on
    X in ``Y ~ arm + X``. Pooling deviations from each arm's own means keeps the
    treatment effect out of theta. NaN when X does not vary within arms.
    """
    n, var_x, cov_xy = np.broadcast_arrays(_arr(n), _arr(var_x), _arr(cov_xy))
    w = np.maximum(n - 1.0, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sxy = np.sum(np.where(w > 0, w * cov_xy, 0.0), axis=axis)
        sxx = np.sum(np.where(w > 0, w * var_x, 0.0), axis=axis)
        theta = np.where(sxx > 0, sxy / sxx, np.nan)
    return _out(theta)


@dataclass(frozen=True)
class CupedResult:
    """CUPED-adjusted comparison of one treatment arm with the control.

    ``adjusted_*`` are the arms' moments of ``Y - theta * (X - mean_x)``, ``mean_x``
    the covariate mean over both arms; ``variance_reduction`` is
    ``1 - var(lift_adjusted) / var(lift_unadjusted)``. ``ols_se`` is the classical
    (equal-variance) OLS standard error of the arm coefficient, for reference only:
    the reported ``lift`` does not assume the arms' variances are equal.
    """

    theta: float | np.ndarray
    mean_x: float | np.ndarray
    adjusted_treatment: Moments
    adjusted_control: Moments
    lift: Estimate
    relative: Estimate
    variance_reduction: float | np.ndarray
    ols_se: float | np.ndarray


def cuped(treatment: CrossMoments, control: CrossMoments, *, alpha: float = 0.05, dist: Dist = "t") -> CupedResult:
    """CUPED-adjusted absolute and relative lift from per-arm cross-moments.

    With the pooled within-arm ``theta`` (:func:`cuped_theta` over the two arms) and the
    two-arm covariate mean ``mean_x``, each unit's outcome becomes
    ``Y - theta * (X - mean_x)``, whose per-arm mean and variance are::

        mean_adj = mean_y - theta * (mean_x_arm - mean_x)
        var_adj  = var_y - 2 * theta * cov_xy + theta**2 * var_x

    Exactly equal (to rounding) to OLS ``Y ~ 1 + arm + (X - mean_x)`` on the two arms:
    the adjusted lift is the arm coefficient, the adjusted control mean the intercept,
    ``theta`` the slope, and the adjusted variances the per-arm ``ddof=1`` variances of
    the OLS residuals. The lift's CI and p-value are Welch's test on the adjusted
    outcome (Deng et al. 2013), which treats theta as known. That is *not* an OLS
    standard error: the classical one assumes equal variances, and the HC ones carry
    leverage terms from X; they agree with Welch's only to O(1/n), so only the point
    estimates, Welch on the adjusted outcome and ``ols_se`` (the classical one, from
    the same moments) are equalities. The relative lift is
    the delta method on the adjusted means (also treating theta as known).
    """
    n_t, n_c = _arr(treatment.n), _arr(control.n)
    theta = _arr(
        cuped_theta(
            np.stack(np.broadcast_arrays(n_t, n_c), axis=-1),
            np.stack(np.broadcast_arrays(_arr(treatment.var_x), _arr(control.var_x)), axis=-1),
            np.stack(np.broadcast_arrays(_arr(treatment.cov_xy), _arr(control.cov_xy)), axis=-1),
        )
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_x = (n_t * _arr(treatment.mean_x) + n_c * _arr(control.mean_x)) / (n_t + n_c)

    def adjust(arm: CrossMoments) -> Moments:
        mean = _arr(arm.mean_y) - theta * (_arr(arm.mean_x) - mean_x)
        var = _arr(arm.var_y) - 2.0 * theta * _arr(arm.cov_xy) + theta**2 * _arr(arm.var_x)
        return Moments(n=arm.n, mean=_out(mean), var=_out(np.maximum(var, 0.0)))

    adj_t, adj_c = adjust(treatment), adjust(control)
    lift = welch_diff(adj_t, adj_c, alpha=alpha, dist=dist)
    raw = welch_diff(treatment.outcome, control.outcome, alpha=alpha, dist=dist)
    with np.errstate(invalid="ignore", divide="ignore"):
        reduction = 1.0 - (_arr(lift.se) / _arr(raw.se)) ** 2
        # Classical OLS: sigma^2 / (D~'D~), with D~ the arm dummy residualized on [1, X]
        # (Frisch-Waugh), all from the same second moments.
        n = n_t + n_c
        ssr = (n_t - 1) * _arr(adj_t.var) + (n_c - 1) * _arr(adj_c.var)
        dx = _arr(treatment.mean_x) - _arr(control.mean_x)
        ss_d = n_t * n_c / n
        ss_x = (n_t - 1) * _arr(treatment.var_x) + (n_c - 1) * _arr(control.var_x) + ss_d * dx**2
        ols_se = np.sqrt(ssr / (n - 3) / (ss_d - (ss_d * dx) ** 2 / ss_x))
    return CupedResult(
        theta=_out(theta),
        mean_x=_out(mean_x),
        adjusted_treatment=adj_t,
        adjusted_control=adj_c,
        lift=lift,
        relative=relative_lift(adj_t, adj_c, alpha=alpha),
        variance_reduction=_out(reduction),
        ols_se=_out(ols_se),
    )


@dataclass(frozen=True)
class SRMResult:
    """Sample-ratio-mismatch check: chi-square goodness of fit of arm counts."""

    statistic: float
    p_value: float
    df: int
    alpha: float
    mismatch: bool
    expected: np.ndarray


def srm_test(observed: ArrayLike, expected_shares: ArrayLike | None = None, *, alpha: float = SRM_ALPHA) -> SRMResult:
    """Pearson chi-square of observed arm counts against the planned allocation.

    ``expected_shares`` are any positive weights (normalized here); equal shares when
    omitted. ``mismatch`` is ``p_value < alpha``: the arms are not the sizes the design
    promised, so assignment or logging is broken and no lift from them can be trusted.
    """
    _check_alpha(alpha)
    obs = _arr(observed)
    if obs.ndim != 1 or obs.size < 2:
        raise ValueError("srm_test needs the counts of at least two arms")
    _check_n(obs, "observed")
    shares = np.ones_like(obs) if expected_shares is None else _arr(expected_shares)
    if shares.shape != obs.shape or np.any(shares <= 0) or not np.all(np.isfinite(shares)):
        raise ValueError("expected_shares must be positive, one per arm")
    total = obs.sum()
    if total == 0:
        return SRMResult(float("nan"), float("nan"), obs.size - 1, alpha, False, np.zeros_like(obs))
    expected = shares / shares.sum() * total
    res = _sps.chisquare(obs, f_exp=expected)
    p = float(res.pvalue)
    return SRMResult(float(res.statistic), p, obs.size - 1, alpha, bool(p < alpha), expected)


def cost_per_incremental(cost_per_message: ArrayLike, messages: ArrayLike, incremental: ArrayLike):
    """Total message cost divided by incremental conversions; NaN unless there are some.

    A non-positive incremental count means the play bought nothing measurable, and a
    negative "cost per acquisition" would read as a saving.
    """
    cost, msgs, inc = _arr(cost_per_message), _arr(messages), _arr(incremental)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _out(np.where(inc > 0, cost * msgs / inc, np.nan))


def undefined_reason(
    n_t: float, n_c: float, var_t: float, var_c: float, mean_t: float | None = None, mean_c: float | None = None
) -> str | None:
    """Why a comparison of these two arms has no p-value or CI, in words; None if it has."""
    for label, n in (("treatment", n_t), ("control", n_c)):
        if n < 2:
            return f"{label} arm has {int(n)} unit(s); at least 2 are needed for a variance"
    if var_t == 0 and var_c == 0:
        if mean_t is not None and mean_c is not None and mean_t != mean_c:
            return "neither arm varies; the difference is exact and a test is meaningless"
        return "neither arm varies (every unit has the same value)"
    return None
