"""Parquet output: part files written by chunk workers, single files by the coordinator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from omniplay.errors import ConfigError
from omniplay.generator.schema import HIGH_CARDINALITY, TABLES, relative_path

MANIFEST = Path("truth") / "manifest.json"
GENERATOR_NAME = "omniplay.generator"
COMPRESSION = "zstd"


def _options(schema: pa.Schema) -> dict:
    return {
        "compression": COMPRESSION,
        "use_dictionary": [f.name for f in schema if f.name not in HIGH_CARDINALITY],
    }


def write_part(out: Path, key: tuple[str, str], index: int, table: pa.Table) -> None:
    """Write one chunk of a partitioned table as ``<source>/<entity>/part-NNNNN.parquet``."""
    folder = out / relative_path(*key)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / f"part-{index:05d}.parquet", **_options(table.schema))


class FileWriter:
    """Appends chunk tables to one Parquet file in chunk order (memory stays per chunk)."""

    def __init__(self, path: Path, schema: pa.Schema):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.rows = 0
        self._writer = pq.ParquetWriter(path, schema, **_options(schema))

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()


def prepare_output(out: Path) -> None:
    """Make ``out`` ready: create it, or clear a previous omniplay dataset; refuse anything else.

    Only the folders the generator writes are removed, so stray files a user keeps next
    to a dataset survive; a folder without our manifest is never touched.
    """
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        manifest = out / MANIFEST
        try:
            previous = json.loads(manifest.read_text())
        except (OSError, ValueError):
            previous = None
        if not isinstance(previous, dict) or previous.get("generator") != GENERATOR_NAME:
            raise ConfigError(
                f"--out {out} is not empty and holds no omniplay dataset ({MANIFEST} missing); "
                "choose an empty or new folder")
        for source in sorted({s for s, _ in TABLES} | {"truth"}):
            target = out / source
            if target.is_dir():
                shutil.rmtree(target)
    out.mkdir(parents=True, exist_ok=True)


def write_manifest(out: Path, manifest: dict) -> None:
    path = out / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
