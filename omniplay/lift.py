"""Generic lift analysis of any table of units, arms and outcomes (`omniplay lift`).

The source is a CSV or Parquet file (read by DuckDB's ``read_csv_auto`` /
``read_parquet``) or a table or view in the warehouse DuckDB file. DuckDB reduces it to
per-arm sufficient statistics (count, ``avg``, ``var_samp``, ``covar_samp``), so the
file never has to fit in Python; :mod:`omniplay.stats` turns those into lifts. Column
names are checked against the source's own schema and quoted, so no SQL is built from
unchecked strings.

Rules, so the numbers mean the same thing everywhere:

* Each row is a unit unless ``unit`` is given; then rows are aggregated per unit (a 0/1
  metric by ``max``, "converted at least once"; any other metric by ``sum``) and a unit
  found in two arms is an error. The covariate is a per-unit attribute (pre-period
  spend) and must not vary within a unit.
* Rows with a null arm (or null unit) are left out and counted; a null metric or
  covariate value counts as zero (no conversion, no spend) and is counted too.
* A metric whose unit-level values are all 0 or 1 is a conversion rate: two-proportion
  z test with a Wald interval. Any other metric: Welch's t test.
* Relative lift uses the delta method (on Wald variances for conversion rates).
* With a covariate, CUPED's theta is pooled within the two arms being compared, so
  each comparison equals the OLS fit ``metric ~ arm + covariate`` on those two arms.
* Every arm is compared with the control; the sample-ratio check covers all arms
  together against the allocation (equal shares unless given).
* Incremental = lift x treatment units; cost per incremental = cost per unit x
  treatment units / incremental (only when the incremental effect is positive).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from omniplay import stats
from omniplay.errors import ConfigError
from omniplay.settings import Settings

CONTROL_NAMES = ("control", "holdout")
MAX_ARMS = 100

_READERS = {
    ".csv": "read_csv_auto",
    ".tsv": "read_csv_auto",
    ".txt": "read_csv_auto",
    ".parquet": "read_parquet",
    ".pq": "read_parquet",
}
_NUMERIC = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL", "DECIMAL", "BOOLEAN",
)  # fmt: skip


def quote_identifier(name: str) -> str:
    """Quote any column or table name for DuckDB (embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class LiftSpec:
    """What to compare: the source, its columns, the control and the planned split."""

    source: str
    arm: str
    metrics: Sequence[str]
    unit: str | None = None
    control: str | None = None
    covariate: str | None = None
    allocation: Mapping[str, float] | None = None
    cost_per_unit: float | None = None
    confidence: float = 0.95


@dataclass
class ArmSummary:
    arm: str
    n: int
    share: float
    expected_share: float


@dataclass
class LiftReport:
    """Everything `omniplay lift` prints. ``rows`` has one entry per metric and treatment
    arm, with the column names of ``rpt_play_lift`` where they overlap."""

    source: str
    arm_column: str
    unit_column: str | None
    control: str
    confidence: float
    allocation: str
    arms: list[ArmSummary]
    srm: stats.SRMResult
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: NaN and infinities become null (the row's ``notes`` say why)."""
        return _clean(
            {
                "source": self.source,
                "arm_column": self.arm_column,
                "unit_column": self.unit_column,
                "control": self.control,
                "confidence": self.confidence,
                "allocation": self.allocation,
                "arms": [vars(a) for a in self.arms],
                "srm": {
                    "statistic": self.srm.statistic,
                    "p_value": self.srm.p_value,
                    "df": self.srm.df,
                    "alpha": self.srm.alpha,
                    "mismatch": self.srm.mismatch,
                },
                "rows": self.rows,
                "notes": self.notes,
            }
        )


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


class _Source:
    """An open DuckDB connection plus the FROM-clause text for the user's source."""

    def __init__(self, source: str, settings: Settings):
        self.label = source
        self.params: list[Any] = []
        path = Path(source).expanduser()
        suffixes = [s.lower() for s in path.suffixes]
        if suffixes and suffixes[-1] in (".gz", ".zst") and len(suffixes) > 1:
            suffixes = suffixes[:-1]
        kind = _READERS.get(suffixes[-1]) if suffixes else None
        if path.is_dir():
            kind = "read_parquet"
            path = path / "*.parquet"
        if kind or path.exists():
            if not any(ch in str(path) for ch in "*?[") and not path.exists():
                raise ConfigError(f"--table {source}: no such file")
            self.con = duckdb.connect()
            self.relation = f"{kind or 'read_csv_auto'}(?)"
            self.params = [str(path)]
        else:
            self.con, self.relation = self._warehouse_table(source, settings)
        try:
            described = self.con.execute(f"describe select * from {self.relation}", self.params).fetchall()
        except duckdb.Error as exc:
            self.con.close()
            raise ConfigError(f"--table {source}: cannot read it: {_first_line(exc)}") from None
        self.columns: dict[str, str] = {row[0]: str(row[1]) for row in described}

    @staticmethod
    def _warehouse_table(name: str, settings: Settings) -> tuple[duckdb.DuckDBPyConnection, str]:
        parts = name.split(".")
        if not 1 <= len(parts) <= 2 or not all(parts):
            raise ConfigError(f"--table {name!r}: give a CSV/Parquet path, a table or schema.table")
        db = settings.duckdb_path
        if not db.exists():
            raise ConfigError(
                f"--table {name}: not a file, and there is no warehouse at {db} (run `omniplay build` "
                "or set OMNIPLAY_DUCKDB_PATH)"
            )
        try:
            con = duckdb.connect(str(db), read_only=True)
        except duckdb.Error as exc:
            raise ConfigError(f"cannot open the warehouse {db}: {_first_line(exc)}") from None
        sql = "select table_schema, table_name from information_schema.tables where lower(table_name) = lower(?)"
        params = [parts[-1]]
        if len(parts) == 2:
            sql += " and lower(table_schema) = lower(?)"
            params.append(parts[0])
        found = con.execute(sql + " order by 1, 2", params).fetchall()
        if len(found) != 1:
            con.close()
            if not found:
                raise ConfigError(f"--table {name}: no such file, and no table or view of that name in {db}")
            options = ", ".join(f"{s}.{t}" for s, t in found)
            raise ConfigError(f"--table {name} is ambiguous in {db}: use one of {options}")
        schema, table = found[0]
        return con, f"{quote_identifier(schema)}.{quote_identifier(table)}"

    def column(self, option: str, name: str, numeric: bool = False) -> str:
        """The source's own spelling of a column, checked to exist (and be numeric)."""
        actual = name if name in self.columns else None
        if actual is None:
            folded = [c for c in self.columns if c.lower() == name.lower()]
            actual = folded[0] if len(folded) == 1 else None
        if actual is None:
            raise ConfigError(f"{option} {name}: no such column in {self.label}; columns: {', '.join(self.columns)}")
        col_type = self.columns[actual]
        if numeric and not col_type.upper().startswith(_NUMERIC):
            raise ConfigError(f"{option} {actual} is {col_type}; it must be a number or boolean")
        return actual

    def close(self) -> None:
        self.con.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def analyze(spec: LiftSpec, settings: Settings | None = None) -> LiftReport:
    """Compare every arm of ``spec.source`` with the control on each metric."""
    if not spec.metrics:
        raise ConfigError("give at least one --metric")
    if not 0.5 <= spec.confidence < 1:
        raise ConfigError(f"--confidence must be in [0.5, 1), got {spec.confidence}")
    if spec.cost_per_unit is not None and (not math.isfinite(spec.cost_per_unit) or spec.cost_per_unit < 0):
        raise ConfigError(f"--cost-per-unit must be zero or positive, got {spec.cost_per_unit}")
    src = _Source(spec.source, settings or Settings.from_env())
    try:
        return _analyze(spec, src)
    except duckdb.Error as exc:
        raise ConfigError(f"--table {spec.source}: {_first_line(exc)}") from None
    finally:
        src.close()


def _analyze(spec: LiftSpec, src: _Source) -> LiftReport:
    q = quote_identifier
    arm = src.column("--arm", spec.arm)
    metrics = list(dict.fromkeys(src.column("--metric", m) for m in spec.metrics))
    unit = src.column("--unit", spec.unit) if spec.unit else None
    cov = src.column("--covariate", spec.covariate) if spec.covariate else None
    used = [arm, *([unit] if unit else []), *metrics, *([cov] if cov else [])]
    if len(set(used)) != len(used):
        raise ConfigError("--arm, --unit, --metric and --covariate must name different columns")
    for option, col in [*(("--metric", m) for m in metrics), *([("--covariate", cov)] if cov else [])]:
        src.column(option, col, numeric=True)

    values = [*metrics, *([cov] if cov else [])]  # value columns, in order: m0..mk, then x
    names = [f"m{i}" for i in range(len(metrics))] + (["x"] if cov else [])
    con, rel, params = src.con, src.relation, src.params

    # Row-level pass: exclusions, nulls, and which metrics are 0/1 (to pick max vs sum).
    probes = [f"count(*) filter (where {q(arm)} is null)"]
    probes += [f"count(*) filter (where {q(unit)} is null and {q(arm)} is not null)"] if unit else ["0"]
    for col in values:
        probes.append(f"count(*) filter (where {q(col)} is null and {q(arm)} is not null)")
        probes.append(f"coalesce(bool_and(coalesce(cast({q(col)} as double), 0) in (0, 1)), true)")
    row = con.execute(f"select {', '.join(probes)} from {rel}", params).fetchone()
    null_arm, null_unit = int(row[0]), int(row[1])
    nulls = [int(row[2 + 2 * i]) for i in range(len(values))]
    row_binary = [bool(row[3 + 2 * i]) for i in range(len(values))]

    selected = [f"cast({q(arm)} as varchar) as arm"] + [
        f"coalesce(cast({q(col)} as double), 0) as {n}" for col, n in zip(values, names)
    ]
    where = f"{q(arm)} is not null"
    if unit:
        selected.insert(0, f"{q(unit)} as unit")
        where += f" and {q(unit)} is not null"
    units_sql = f"select {', '.join(selected)} from {rel} where {where}"
    if unit:
        aggs = [f"{'max' if b else 'sum'}(m{i}) as m{i}" for i, b in enumerate(row_binary[: len(metrics)])]
        if cov:
            aggs.append("min(x) as x")
        units_sql = (
            f"select unit, min(arm) as arm, count(distinct arm) as n_arms"
            f"{', count(distinct x) as n_x' if cov else ''}, {', '.join(aggs)} from ({units_sql}) group by unit"
        )
        checks = ["count(*) filter (where n_arms > 1)", "min(cast(unit as varchar)) filter (where n_arms > 1)"]
        if cov:
            checks += ["count(*) filter (where n_x > 1)", "min(cast(unit as varchar)) filter (where n_x > 1)"]
        bad = con.execute(f"select {', '.join(checks)} from ({units_sql})", params).fetchone()
        if bad[0]:
            raise ConfigError(
                f"{bad[0]} unit(s) appear in more than one arm (e.g. {bad[1]!r}); each unit needs exactly one arm"
            )
        if cov and bad[2]:
            raise ConfigError(
                f"--covariate {cov} varies within {bad[2]} unit(s) (e.g. {bad[3]!r}); it must be one value per unit"
            )

    per_arm = ["arm", "count(*) as n"]
    for i in range(len(metrics)):
        per_arm += [f"avg(m{i})", f"var_samp(m{i})", f"sum(m{i})", f"bool_and(m{i} in (0, 1))"]
        if cov:
            per_arm.append(f"covar_samp(m{i}, x)")
    if cov:
        per_arm += ["avg(x)", "var_samp(x)"]
    arm_rows = con.execute(
        f"select {', '.join(per_arm)} from ({units_sql}) group by arm order by arm limit {MAX_ARMS + 1}", params
    ).fetchall()
    if len(arm_rows) > MAX_ARMS:
        raise ConfigError(f"--arm {arm} has more than {MAX_ARMS} distinct values; is it the right column?")
    by_arm = {r[0]: r for r in arm_rows}

    # Arms: observed ones plus any planned (in --allocation) that never showed up.
    allocation = dict(spec.allocation or {})
    for name, weight in allocation.items():
        if not (isinstance(weight, (int, float)) and math.isfinite(weight) and weight > 0):
            raise ConfigError(f"--allocation {name}={weight}: weights must be positive numbers")
    arms = list(by_arm)
    missing = [a for a in arms if allocation and a not in allocation]
    if missing:
        raise ConfigError(f"--allocation has no weight for arm(s) {', '.join(missing)}; arms: {', '.join(arms)}")
    arms += [a for a in allocation if a not in by_arm]
    if len(arms) < 2:
        found = f"only {arms[0]!r}" if arms else "no rows"
        raise ConfigError(f"--arm {arm} has {found}; need a control and at least one other arm")
    control = _pick_control(spec.control, arms)

    counts = np.array([by_arm[a][1] if a in by_arm else 0 for a in arms], dtype=float)
    shares = np.array([allocation[a] for a in arms], dtype=float) if allocation else np.ones(len(arms))
    srm = stats.srm_test(counts, shares)
    total = counts.sum()
    arm_summaries = [
        ArmSummary(a, int(c), float(c / total) if total else math.nan, float(s / shares.sum()))
        for a, c, s in zip(arms, counts, shares)
    ]

    alpha = 1.0 - spec.confidence
    width = 4 + (1 if cov else 0)
    notes: list[str] = []
    if null_arm:
        notes.append(f"{null_arm} row(s) with a null {arm} left out")
    if null_unit:
        notes.append(f"{null_unit} row(s) with a null {unit} left out")
    for col, k in zip(values, nulls):
        if k:
            notes.append(f"{k} null value(s) of {col} counted as 0")
    if srm.mismatch:
        notes.append(
            f"SAMPLE RATIO MISMATCH: arm sizes differ from the planned allocation (chi-square p = {srm.p_value:.3g} "
            f"< {srm.alpha}); assignment or logging is broken and these lifts cannot be trusted"
        )

    rows: list[dict[str, Any]] = []
    for i, metric in enumerate(metrics):
        base = 2 + i * width

        def arm_stats(a: str) -> tuple[int, float, float, float, bool]:
            r = by_arm.get(a)
            if r is None:
                return 0, math.nan, math.nan, 0.0, True
            mean, var, total_, binary = r[base : base + 4]
            return r[1], _f(mean), _f(var), _f(total_), bool(binary)

        binary = all(arm_stats(a)[4] for a in arms)
        for a in arms:
            if a == control:
                continue
            rows.append(
                _compare(
                    metric, binary, a, control, arm_stats(a), arm_stats(control), alpha, spec.cost_per_unit, srm,
                    _cross(by_arm.get(a), base, width, len(metrics)) if cov else None,
                    _cross(by_arm.get(control), base, width, len(metrics)) if cov else None,
                )
            )  # fmt: skip

    return LiftReport(
        source=spec.source,
        arm_column=arm,
        unit_column=unit,
        control=control,
        confidence=spec.confidence,
        allocation="given" if allocation else "assumed equal (pass --allocation ARM=WEIGHT)",
        arms=arm_summaries,
        srm=srm,
        rows=rows,
        notes=notes,
    )


def _f(value: Any) -> float:
    return math.nan if value is None else float(value)


def _cross(r: tuple | None, base: int, width: int, n_metrics: int) -> stats.CrossMoments:
    if r is None:
        return stats.CrossMoments(0, math.nan, math.nan, math.nan, math.nan, math.nan)
    tail = 2 + n_metrics * width
    return stats.CrossMoments(
        n=r[1], mean_y=_f(r[base]), var_y=_f(r[base + 1]), mean_x=_f(r[tail]), var_x=_f(r[tail + 1]),
        cov_xy=_f(r[base + 4]),
    )  # fmt: skip


def _pick_control(requested: str | None, arms: list[str]) -> str:
    listing = ", ".join(arms)
    if requested is not None:
        if requested not in arms:
            raise ConfigError(f"--control {requested}: no such arm; arms: {listing}")
        return requested
    named = [a for a in arms if a.lower() in CONTROL_NAMES]
    if len(named) != 1:
        raise ConfigError(f"no arm named control or holdout; pick one with --control (arms: {listing})")
    return named[0]


def _compare(
    metric: str,
    binary: bool,
    arm: str,
    control: str,
    t: tuple[int, float, float, float, bool],
    c: tuple[int, float, float, float, bool],
    alpha: float,
    cost_per_unit: float | None,
    srm: stats.SRMResult,
    cross_t: stats.CrossMoments | None,
    cross_c: stats.CrossMoments | None,
) -> dict[str, Any]:
    n_t, mean_t, var_t, sum_t, _ = t
    n_c, mean_c, var_c, sum_c, _ = c
    notes: list[str] = []
    if binary:
        # Sums of 0/1 values are whole numbers; round away float noise from the aggregate.
        x_t, x_c = round(sum_t), round(sum_c)
        mt, mc = stats.Moments.from_proportion(x_t, n_t), stats.Moments.from_proportion(x_c, n_c)
        if n_t and n_c:
            lift = stats.proportion_diff(x_t, n_t, x_c, n_c, alpha=alpha)
        else:  # an arm planned in --allocation but absent: nothing to test
            lift = stats.welch_diff(mt, mc, alpha=alpha)
        test = "two-proportion z (pooled), Wald CI"
    else:
        mt, mc = stats.Moments(n_t, mean_t, var_t), stats.Moments(n_c, mean_c, var_c)
        lift = stats.welch_diff(mt, mc, alpha=alpha)
        test = "Welch t"
    reason = stats.undefined_reason(n_t, n_c, var_t, var_c, mean_t, mean_c)
    if reason and (math.isnan(lift.p_value) or math.isnan(lift.ci_low)):
        notes.append(reason)
    rel = stats.relative_lift(mt, mc, alpha=alpha)
    if mean_c == 0:
        notes.append("control mean is 0, so relative lift is undefined")
    incremental = lift.scaled(n_t)
    cost = cost_per_unit * n_t if cost_per_unit is not None else None
    cpi = stats.cost_per_incremental(cost_per_unit, n_t, incremental.estimate) if cost is not None else None
    if cost is not None and not incremental.estimate > 0:
        notes.append("no positive incremental effect, so cost per incremental is undefined")
    out: dict[str, Any] = {
        "metric": metric,
        "metric_kind": "conversion" if binary else "continuous",
        "test": test,
        "arm": arm,
        "control": control,
        "n_treatment": n_t,
        "n_control": n_c,
        "mean_treatment": mean_t,
        "mean_control": mean_c,
        "lift_abs": lift.estimate,
        "se": lift.se,
        "ci_low": lift.ci_low,
        "ci_high": lift.ci_high,
        "p_value": lift.p_value,
        "df": lift.df,
        "lift_rel": rel.estimate,
        "lift_rel_ci_low": rel.ci_low,
        "lift_rel_ci_high": rel.ci_high,
        "lift_rel_p_value": rel.p_value,
        "incremental": incremental.estimate,
        "incremental_ci_low": incremental.ci_low,
        "incremental_ci_high": incremental.ci_high,
        "cost": cost,
        "cost_per_incremental": cpi,
        "srm_p_value": srm.p_value,
        "srm_flag": srm.mismatch,
    }
    if cross_t is not None and cross_c is not None:
        cu = stats.cuped(cross_t, cross_c, alpha=alpha)
        if math.isnan(cu.theta):
            notes.append("covariate does not vary within arms, so CUPED is undefined")
        out.update(
            cuped_theta=cu.theta,
            cuped_mean_treatment=cu.adjusted_treatment.mean,
            cuped_mean_control=cu.adjusted_control.mean,
            cuped_lift_abs=cu.lift.estimate,
            cuped_ci_low=cu.lift.ci_low,
            cuped_ci_high=cu.lift.ci_high,
            cuped_p_value=cu.lift.p_value,
            cuped_lift_rel=cu.relative.estimate,
            cuped_lift_rel_ci_low=cu.relative.ci_low,
            cuped_lift_rel_ci_high=cu.relative.ci_high,
            cuped_variance_reduction=cu.variance_reduction,
        )
    out["notes"] = notes
    return out
