"""Every written table has exactly the columns and types docs/sources.md promises."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from omniplay.generator.schema import PARTITIONED, TABLES, TRUTH_BEHAVIOURS, TRUTH_IDENTITY, relative_path

DOC = Path(__file__).resolve().parents[2] / "docs" / "sources.md"
TS = pa.timestamp("us", tz="UTC")


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses or backticks."""
    parts, depth, tick, current = [], 0, False, ""
    for ch in text:
        if ch == "`":
            tick = not tick
        elif not tick and ch == "(":
            depth += 1
        elif not tick and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not tick:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    return parts + [current.strip()]


def documented_tables() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(source, entity) -> [(column, parenthesised hint)] from the contract table."""
    out = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"^\| `(\w+)` \| `(\w+)` \| [^|]* \| (.*) \|$", line)
        if not m:
            continue
        cols = []
        for item in _split_top_level(m.group(3)):
            name = re.match(r"(\w+)", item).group(1)
            hint = item[len(name):].strip()
            cols.append((name, hint))
        out[(m.group(1), m.group(2))] = cols
    return out


def expected_type(name: str, hint: str) -> pa.DataType | None:
    """The Arrow type a documented column must have (None: any string-like is checked below)."""
    h = hint.lower()
    if h.startswith("(varchar"):
        return pa.string()
    if "timestamptz" in h:
        return TS
    if h.startswith("(timestamp"):  # "timestamp, *local*": naive wall-clock time
        return pa.timestamp("us")
    if name.endswith("_at"):
        return TS
    if h.startswith("(date") or name.endswith("_on"):
        return pa.date32()
    if h.startswith("(bool"):
        return pa.bool_()
    if h.startswith("(int"):
        return pa.int32()
    if h.startswith("(double") or name in ("latitude", "longitude"):
        return pa.float64()
    return pa.string()


DOCUMENTED = documented_tables()


def test_the_contract_lists_every_table_the_generator_writes() -> None:
    assert set(DOCUMENTED) == set(TABLES)


@pytest.mark.parametrize("key", sorted(TABLES), ids=lambda k: ".".join(k))
def test_written_schema_matches_the_contract(dataset: Path, key: tuple[str, str]) -> None:
    path = dataset / relative_path(*key)
    assert path.is_dir() == (key in PARTITIONED)
    if key in PARTITIONED:
        assert sorted(p.name for p in path.iterdir())[0] == "part-00000.parquet"
    schema = ds.dataset(path, format="parquet").schema
    documented = DOCUMENTED[key]
    assert [f.name for f in schema] == [name for name, _ in documented]
    for name, hint in documented:
        assert schema.field(name).type == expected_type(name, hint), (key, name, hint)


def test_truth_files_have_the_documented_columns(dataset: Path) -> None:
    import pyarrow.parquet as pq

    assert pq.read_schema(dataset / "truth" / "identity.parquet").remove_metadata() == TRUTH_IDENTITY
    assert pq.read_schema(dataset / "truth" / "behaviours.parquet").remove_metadata() == TRUTH_BEHAVIOURS


def test_manifest_describes_the_run(dataset: Path) -> None:
    import json

    manifest = json.loads((dataset / "truth" / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["as_of"] == "2026-06-01T00:00:00Z"
    assert manifest["seed"] == 7 and manifest["customers"] == 2000 and manifest["days"] == 120
    for key in TABLES:
        assert manifest["rows"][".".join(key)] == ds.dataset(dataset / relative_path(*key)).count_rows()
