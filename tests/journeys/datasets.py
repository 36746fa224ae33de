"""Source datasets as they stood at an earlier moment, for incremental-build tests.

A generated dataset holds every row with the time it landed (`_loaded_at`). Keeping
only the rows loaded by a cutoff gives exactly what a nightly build at that cutoff saw,
late events included: an event that occurred days before the cutoff but landed after
it is absent here and arrives with the next snapshot. Reference tables (stores,
products, inventory) are full daily extracts, not loads of new rows: they are copied whole.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

REFERENCE_SOURCES = frozenset({"stores", "products"})


def source_files(data_dir: Path) -> list[Path]:
    """Every source Parquet file or part folder under `data_dir` (the truth folder excluded)."""
    found = []
    for source in sorted(p for p in data_dir.iterdir() if p.is_dir() and p.name != "truth"):
        for entry in sorted(source.iterdir()):
            if entry.suffix == ".parquet" or entry.is_dir():
                found.append(entry)
    return found


def as_of(data_dir: Path) -> dt.datetime:
    """The generator's simulated now (UTC) from the dataset's manifest."""
    manifest = json.loads((data_dir / "truth" / "manifest.json").read_text(encoding="utf-8"))
    return dt.datetime.fromisoformat(manifest["as_of"].replace("Z", "+00:00"))


def snapshot(data_dir: Path, out: Path, loaded_by: dt.datetime) -> Path:
    """Copy `data_dir` to `out` keeping only rows with `_loaded_at <= loaded_by` (UTC)."""
    if out.exists():
        shutil.rmtree(out)
    cutoff = loaded_by.astimezone(dt.timezone.utc)
    for path in source_files(data_dir):
        target = out / path.relative_to(data_dir)
        if path.parent.name in REFERENCE_SOURCES:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            continue
        parts = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        for part in parts:
            table = ds.dataset(part, format="parquet").to_table()
            kept = table.filter(pc.less_equal(table["_loaded_at"], pc.cast(cutoff, table.schema.field("_loaded_at").type)))
            destination = target / part.name if path.is_dir() else target
            destination.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(kept, destination)
    shutil.copytree(data_dir / "truth", out / "truth")
    # The snapshot's own "now": omniplay build pins omniplay__as_of from the manifest.
    manifest_path = out / "truth" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["as_of"] = cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    return out
