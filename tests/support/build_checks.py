"""Assertions about a finished build that hold on every engine."""

from __future__ import annotations

import csv
from pathlib import Path

from omniplay.loader import SOURCE_TABLES, find_source_files
from tests.support.dbt import PASSED, PROJECT_DIR, BuildRun, parquet_rows


def staging_model_id(source: str, entity: str) -> str:
    return f"model.omniplay.stg_{source}__{entity}"


def assert_build_passed(run: BuildRun) -> None:
    """dbt reported success and every node it ran passed; models and tests both ran."""
    assert run.result.success, run.result.failures
    assert not run.problems(), "\n".join(run.problems())
    kinds = {uid.split(".", 1)[0] for uid in run.statuses()}
    assert {"model", "test"} <= kinds, f"dbt build ran only {sorted(kinds)}"


def assert_staging_complete(run: BuildRun) -> None:
    """One staging model per contract source table, each built and covered by passing data tests."""
    staging = run.models("staging")
    statuses = run.statuses()
    expected = {staging_model_id(s, e) for s, entities in SOURCE_TABLES.items() for e in entities}
    assert expected <= set(staging), f"no staging model for: {sorted(expected - set(staging))}"
    problems = []
    for uid in sorted(staging):
        if statuses.get(uid) != "success":
            problems.append(f"{uid} was not built ({statuses.get(uid, 'not run')})")
        tests = run.tests_on(uid)
        if not tests:
            problems.append(f"{uid} has no data tests")
        problems += [f"{test}: {statuses.get(test, 'not run')}" for test in tests if statuses.get(test) not in PASSED]
    assert not problems, "\n".join(problems)


def assert_staging_row_counts(run: BuildRun, data_dir: Path) -> dict[str, int]:
    """Every staging model has rows, never more than its source file; returns the counts."""
    files = find_source_files(data_dir)
    counts = {}
    problems = []
    for (source, entity), source_file in sorted(files.items()):
        node = run.manifest["nodes"][staging_model_id(source, entity)]
        rows = run.project.scalar(f"select count(*) from {node['relation_name']}")
        raw = parquet_rows(source_file.path)
        counts[node["name"]] = rows
        if not 0 < rows <= raw:
            problems.append(f"{node['name']}: {rows} rows from a source of {raw}")
    assert not problems, "\n".join(problems)
    # Stores carry no planted duplicates or junk: staging keeps every one of them.
    assert counts["stg_stores__stores"] == parquet_rows(files[("stores", "stores")].path)
    return counts


def assert_seeds_loaded(run: BuildRun) -> None:
    """Each seed table holds exactly the rows of its CSV file."""
    seeds = {uid: node for uid, node in run.manifest["nodes"].items()
             if node["resource_type"] == "seed" and node["package_name"] == "omniplay"}
    assert seeds, "the project has no seeds"
    for node in seeds.values():
        with open(PROJECT_DIR / node["original_file_path"], newline="", encoding="utf-8") as handle:
            expected = sum(1 for _ in csv.DictReader(handle))
        assert run.project.scalar(f"select count(*) from {node['relation_name']}") == expected, node["name"]
