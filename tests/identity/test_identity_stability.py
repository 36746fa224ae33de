"""Stable profile ids: build identity on the data known a day before the dataset's "now",
then rebuild on the full data into the SAME DuckDB file.

Expected, from the registry's rules (int_identity_profile_registry): a profile that gained
no identifier of another profile keeps its id (whether or not it grew); a profile formed
by merging old profiles carries the id of its earliest-seen member that had one, and the
retired ids are in fct_identity_merges; new profiles get ids never used before. Each
build's round count is in intermediate.identity_cc_rounds.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from omniplay.loader import find_source_files
from tests.support.dbt import DbtProject

pytestmark = pytest.mark.dbt

# The identity subgraph with every identity mart; nothing downstream of it.
IDENTITY_SELECTION = ["+dim_identity_map", "+fct_identity_merges", "+rpt_identity_guard_hits"]
# Run only the data tests whose every parent is selected (a relationship to an unbuilt model would fail).
SUBGRAPH_ENV = {"DBT_INDIRECT_SELECTION": "cautious"}
WHOLE_TABLES = {("stores", "stores"), ("products", "products"), ("products", "inventory")}


def dataset_as_of(data_dir: Path) -> datetime:
    as_of = json.loads((data_dir / "truth" / "manifest.json").read_text())["as_of"]
    return datetime.fromisoformat(as_of.replace("Z", "+00:00")).astimezone(timezone.utc)


def copy_loaded_before(data_dir: Path, out: Path, cutoff: datetime) -> dict[str, tuple[int, int]]:
    """Copy the dataset keeping only rows with `_loaded_at < cutoff` (reference tables whole).

    Returns (rows kept, rows in the source) per table. The manifest's `as_of` becomes the cutoff.
    """
    kept = {}
    for (source, entity), source_file in sorted(find_source_files(data_dir).items()):
        target = out / source_file.path.relative_to(data_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        if (source, entity) in WHOLE_TABLES:
            (shutil.copytree if source_file.path.is_dir() else shutil.copy2)(source_file.path, target)
            continue
        dataset = ds.dataset(source_file.path, format="parquet")
        loaded_at_type = dataset.schema.field("_loaded_at").type
        table = dataset.to_table(filter=pc.field("_loaded_at") < pa.scalar(cutoff, loaded_at_type))
        if source_file.path.is_dir():
            target.mkdir()
            target = target / "part-00000.parquet"
        pq.write_table(table, target)
        kept[f"{source}.{entity}"] = (table.num_rows, dataset.count_rows())
    manifest = json.loads((data_dir / "truth" / "manifest.json").read_text())
    manifest["as_of"] = cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
    (out / "truth").mkdir(parents=True, exist_ok=True)
    (out / "truth" / "manifest.json").write_text(json.dumps(manifest))
    return kept


@dataclass
class Snapshot:
    """dim_identity_map of one build: node -> profile, node -> first seen."""

    profile_of: dict[str, str]
    first_seen: dict[str, datetime]

    def members(self) -> dict[str, set[str]]:
        grouped: dict[str, set[str]] = defaultdict(set)
        for node, profile in self.profile_of.items():
            grouped[profile].add(node)
        return grouped


def snapshot(project: DbtProject) -> Snapshot:
    rows = project.query("""
        select identifier_type || ':' || identifier_value, profile_id, first_seen_at
        from marts.dim_identity_map
    """)
    return Snapshot({node: profile for node, profile, _ in rows}, {node: seen for node, _, seen in rows})


@dataclass
class Rebuild:
    before: Snapshot
    after: Snapshot
    merges_after_first_build: list[tuple]
    merges: list[tuple]
    rounds: list[tuple]
    kept_rows: dict[str, tuple[int, int]]


@pytest.fixture(scope="module")
def rebuild(source_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Rebuild:
    cutoff = dataset_as_of(source_data) - timedelta(days=1)
    day_before = tmp_path_factory.mktemp("day-before")
    kept = copy_loaded_before(source_data, day_before, cutoff)
    root = tmp_path_factory.mktemp("dbt-stability")

    first = DbtProject.isolated(root, target="duckdb", data_dir=day_before, extra_env=SUBGRAPH_ENV)
    first.build(select=IDENTITY_SELECTION)
    before = snapshot(first)
    merges_after_first_build = first.query("select * from marts.fct_identity_merges")

    second = DbtProject.isolated(root, target="duckdb", data_dir=source_data, extra_env=SUBGRAPH_ENV)
    assert second.duckdb_path == first.duckdb_path
    second.build(select=IDENTITY_SELECTION)
    after = snapshot(second)
    merges = second.query("select retired_profile_id, profile_id, change_type, identifiers_moved, recorded_at"
                          " from marts.fct_identity_merges")
    rounds = second.query("select invocation_id, rounds, nodes, components from intermediate.identity_cc_rounds"
                          " where model = 'int_identity_components' order by finished_at")
    return Rebuild(before, after, merges_after_first_build, merges, rounds, kept)


def test_the_extra_day_adds_rows_and_identifiers(rebuild: Rebuild) -> None:
    grown = {name: counts for name, counts in rebuild.kept_rows.items() if counts[0] < counts[1]}
    assert len(grown) >= 5, f"the last day should add rows to most tables: {rebuild.kept_rows}"
    new_nodes = set(rebuild.after.profile_of) - set(rebuild.before.profile_of)
    assert new_nodes, "the last day brought no new identifier: the rebuild proves nothing"
    lost = set(rebuild.before.profile_of) - set(rebuild.after.profile_of)
    assert not lost, f"identifiers resolved yesterday vanished from the map: {sorted(lost)[:10]}"


def test_unaffected_profiles_keep_their_id(rebuild: Rebuild) -> None:
    before, after = rebuild.before, rebuild.after
    old_members = before.members()
    unchanged = grown = 0
    problems = []
    for old_id, nodes in old_members.items():
        new_ids = {after.profile_of[n] for n in nodes}
        if len(new_ids) != 1:
            problems.append(f"{old_id} was split over {sorted(new_ids)}")
            continue
        new_id = new_ids.pop()
        new_nodes = {n for n, p in after.profile_of.items() if p == new_id}
        foreign = {before.profile_of[n] for n in new_nodes if n in before.profile_of} - {old_id}
        if foreign:
            continue  # a merge: judged in the next test
        if new_nodes == nodes:
            unchanged += 1
        else:
            grown += 1
        if new_id != old_id:
            problems.append(f"{old_id} ({len(nodes)} identifiers, now {len(new_nodes)}) became {new_id}")
    assert not problems, f"{len(problems)} unaffected profiles changed id: {problems[:10]}"
    assert unchanged > 0.9 * len(old_members), (unchanged, len(old_members))
    assert grown > 0, "no profile grew by the last day's data: the rebuild proves less than it should"


def test_merged_profiles_keep_the_earliest_seen_members_id_and_are_logged(rebuild: Rebuild) -> None:
    before, after = rebuild.before, rebuild.after
    merged_ids = 0
    expected_log = set()
    problems = []
    for new_id, nodes in after.members().items():
        holders = sorted((after.first_seen[n], n) for n in nodes if n in before.profile_of)
        old_ids = {before.profile_of[n] for _, n in holders}
        if len(old_ids) < 2:
            continue
        merged_ids += 1
        survivor = before.profile_of[holders[0][1]]
        if new_id != survivor:
            problems.append(f"merge of {sorted(old_ids)} got {new_id}, expected {survivor}"
                            f" (earliest seen {holders[0][1]})")
        expected_log |= {(old, new_id) for old in old_ids - {new_id}}
    assert not problems, problems[:10]
    assert merged_ids > 0, "no merge happened on the last day: plant one or pick a longer cut"
    logged = {(retired, new): change for retired, new, change, _, _ in rebuild.merges}
    missing = expected_log - set(logged)
    assert not missing, f"merges missing from fct_identity_merges: {sorted(missing)[:10]}"
    assert all(logged[pair] == "merge" for pair in expected_log), logged
    unexpected = set(logged) - expected_log
    assert not unexpected, f"fct_identity_merges logs changes that did not happen: {sorted(unexpected)[:10]}"
    assert not rebuild.merges_after_first_build, "a first build has nothing to merge from"


def test_new_profiles_get_ids_never_used_before(rebuild: Rebuild) -> None:
    old_ids = set(rebuild.before.profile_of.values())
    reused = []
    for new_id, nodes in rebuild.after.members().items():
        if not nodes & set(rebuild.before.profile_of) and new_id in old_ids:
            reused.append(new_id)
    assert not reused, f"brand-new profiles took old ids: {reused[:10]}"


def test_each_build_records_its_round_count(rebuild: Rebuild) -> None:
    assert len(rebuild.rounds) == 2, rebuild.rounds
    (first_run, first_rounds, first_nodes, first_components), (second_run, second_rounds, second_nodes,
                                                                 second_components) = rebuild.rounds
    assert first_run != second_run
    assert first_rounds >= 1 and second_rounds >= 1
    assert first_nodes == len(rebuild.before.profile_of)
    assert second_nodes == len(rebuild.after.profile_of)
    assert first_components == len(set(rebuild.before.profile_of.values()))
    assert second_components == len(set(rebuild.after.profile_of.values()))
