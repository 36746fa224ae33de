"""A chain of nightly builds on growing snapshots of the suite's dataset, and a full
rebuild of the same final data to compare the incremental result with.

The chain builds the journey layer (and what it needs) three times in one DuckDB file:
on the data loaded by two days before the dataset's end, by one day before, and on all
of it. Each step brings new days and late events (rows that occurred before the last
cutoff but landed after it). The full rebuild is a copy of the chain's final warehouse
with the event and journey models rebuilt from scratch (`--full-refresh`), so identity
(its own incremental history) is the same on both sides and only our models differ.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.journeys.datasets import as_of, snapshot
from tests.support.dbt import PASSED, DbtProject

# Our models and everything they read; tests whose parents are all in it run too.
SELECTION = [
    "+fct_trigger_fires", "+rpt_journey_kpis", "+fct_customer_journeys", "+int_profile_current_stage",
    "+fct_holdout_retirements", "+rpt_holdout_srm",
]
SNAPSHOT_DAYS_BEFORE_END = (2, 1, 0)


@dataclass
class Step:
    """One nightly build of the chain."""

    data_dir: Path
    as_of: dt.datetime
    assignments: list[tuple] = field(default_factory=list)
    merges: list[tuple] = field(default_factory=list)


@dataclass
class Chain:
    """The incremental chain's warehouse, its steps, and the full rebuild of its last step."""

    incremental: DbtProject
    full: DbtProject
    steps: list[Step]

    @property
    def final(self) -> Step:
        return self.steps[-1]


def _as_of_var(moment: dt.datetime) -> dict[str, str]:
    return {"omniplay__as_of": moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")}


def build(project: DbtProject, moment: dt.datetime, *, command: str = "build", select: list[str] | None = None,
          full_refresh: bool = False) -> None:
    """`dbt <command>` of a selection at an as-of time, failing on any node that did not pass."""
    extra = ["--indirect-selection", "cautious"] if command == "build" else []
    result = project.run(command, select=select or SELECTION, exclude=["resource_type:seed"],
                         vars=_as_of_var(moment), extra_args=extra, full_refresh=full_refresh,
                         raise_on_failure=False)
    results = project.artifact("run_results.json")["results"]
    problems = [f"{r['unique_id']}: {r['status']}: {(r.get('message') or '')[:300]}"
                for r in results if r["status"] not in PASSED]
    assert result.success and not problems, "\n".join(problems or result.failures)


@pytest.fixture(scope="session")
def journey_chain(source_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    root = tmp_path_factory.mktemp("journeys")
    end = as_of(source_data)
    steps = []
    for days in SNAPSHOT_DAYS_BEFORE_END:
        cutoff = end - dt.timedelta(days=days)
        data = source_data if days == 0 else snapshot(source_data, root / f"data-minus-{days}d", cutoff)
        steps.append(Step(data_dir=data, as_of=cutoff))

    warehouse = root / "incremental"
    for index, step in enumerate(steps):
        project = DbtProject.isolated(warehouse, target="duckdb", data_dir=step.data_dir)
        if index == 0:
            project.run("seed")
        # Data tests and unit tests run once, on the last build; the others only build.
        build(project, step.as_of, command="build" if index == len(steps) - 1 else "run")
        step.assignments = project.query(
            "select profile_id, scope, arm, assigned_at, bucket, holdout_pct, status, retired_into_profile_id "
            "from marts.dim_holdout_assignments")
        step.merges = project.query(
            "select retired_profile_id, profile_id, change_type, recorded_at from marts.fct_identity_merges")
    incremental = project

    full_root = root / "full"
    full_root.mkdir()
    shutil.copy2(incremental.duckdb_path, full_root / "omniplay.duckdb")
    full = DbtProject.isolated(full_root, target="duckdb", data_dir=steps[-1].data_dir)
    # Everything downstream of the events that our selection holds, rebuilt from scratch.
    rebuilt = [f"fct_customer_events+,{top}" for top in SELECTION]
    build(full, steps[-1].as_of, command="run", select=rebuilt, full_refresh=True)
    return Chain(incremental=incremental, full=full, steps=steps)
