"""Exact e-mail stitching on Splink's `fake_1000` (1,000 records of people with typos, labelled
with the true `cluster`), through the real `connected_components` materialization.

Each record is linked to its normalized e-mail (`lower(trim(email))`); records without one
stay alone. A shared e-mail is strong evidence, so stitching on it must never merge two
true people (pairwise precision 1.0); it misses the records whose e-mail was mistyped or
left out, and the recall says how many. The dataset lives outside the repository
(`../shared/data/external/splink_fake_1000`, MIT licence, from moj-analytical-services/splink).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from tests.identity.cc_project import CcProject
from tests.support.external import external_path

pytestmark = pytest.mark.dbt

DATASET = Path("splink_fake_1000") / "fake_1000.csv"


@pytest.fixture(scope="module")
def fake_1000() -> pd.DataFrame:
    found = external_path(DATASET, unchecked="SPLINK fake_1000 e-mail stitching precision/recall")
    records = pd.read_csv(found, dtype=str, keep_default_na=False)
    assert {"unique_id", "email", "cluster"} <= set(records.columns), records.columns
    assert len(records) == 1000
    return records


def stitching_edges(records: pd.DataFrame) -> list[tuple[str, str | None]]:
    """record <-> normalized e-mail; a record without an e-mail is an isolated node (null other end)."""
    email = records.email.str.strip().str.lower()
    return [(f"r:{uid}", f"e:{value}" if value else None) for uid, value in zip(records.unique_id, email, strict=True)]


def pair_count(sizes) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


@pytest.fixture(scope="module")
def stitched(fake_1000: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, CcProject]:
    project = CcProject.duckdb(tmp_path_factory.mktemp("cc-splink"))
    project.load_edges({"graph_edges": stitching_edges(fake_1000)})
    outcome = project.build(select=["cc_graphs"])
    assert outcome.success, f"dbt build failed: {outcome.exception} {outcome.messages}"
    components = project.components("cc_graphs")
    records = fake_1000.assign(component=[components[f"r:{uid}"] for uid in fake_1000.unique_id])
    return records, project


def test_exact_email_stitching_never_merges_two_people(stitched: tuple[pd.DataFrame, CcProject]) -> None:
    records, project = stitched
    true_pairs = pair_count(Counter(records.cluster).values())
    predicted_pairs = pair_count(Counter(records.component).values())
    correct_pairs = pair_count(Counter(zip(records.component, records.cluster, strict=True)).values())
    precision = correct_pairs / predicted_pairs
    recall = correct_pairs / true_pairs
    print(f"splink fake_1000 exact e-mail stitching: records={len(records)} clusters={records.cluster.nunique()} "
          f"profiles={records.component.nunique()} true_pairs={true_pairs} predicted_pairs={predicted_pairs} "
          f"correct_pairs={correct_pairs} precision={precision:.4f} recall={recall:.4f}")
    assert predicted_pairs > 100, "stitching linked almost nothing: the test would prove nothing"
    mixed = records.groupby("component").cluster.nunique()
    assert precision == 1.0, f"profiles holding several true people: {mixed[mixed > 1].head(10).to_dict()}"
    # One e-mail per record: a profile is exactly the records sharing a normalized e-mail.
    email = records.email.str.strip().str.lower()
    reachable = pair_count(Counter(zip(records.cluster[email != ""], email[email != ""], strict=True)).values())
    assert correct_pairs == reachable
    assert 0 < recall < 1


def test_stitching_build_recorded_its_rounds(stitched: tuple[pd.DataFrame, CcProject]) -> None:
    records, project = stitched
    log = project.round_log("cc_graphs")
    assert len(log) == 1, log
    emails = records.email.str.strip().str.lower()
    assert log[0]["nodes"] == len(records) + emails[emails != ""].nunique()
    assert log[0]["components"] == records.component.nunique() and log[0]["rounds"] >= 1
