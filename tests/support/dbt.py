"""Run the real omniplay dbt project in isolation, and read what it built.

A `DbtProject` is the project checkout plus its own environment: the source data folder,
a DuckDB file or PostgreSQL database of its own, and dbt's target and log folders in a
temporary directory, so parallel test runs never touch each other or the user's files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds

from omniplay.dbt import DbtResult, run_dbt
from omniplay.settings import DATA_DIR_ENV, DUCKDB_PATH_ENV, PROJECT_DIR_ENV, TARGET_ENV, Settings
from tests.support.env import patched_environ

PROJECT_DIR = Path(__file__).resolve().parents[2]

# The one small dataset the suite builds on: big enough that every source has rows.
TEST_DATASET = {"customers": 500, "days": 90, "seed": 20261122}

# Node statuses of a good build: `warn` is a data test its model's YAML set to severity warn,
# `no-op` a node with nothing to run (exposures).
PASSED = frozenset({"success", "pass", "warn", "no-op"})


def _problems(run_results: dict[str, Any]) -> list[str]:
    return [f"{r['unique_id']}: {r['status']}: {(r.get('message') or '').strip()[:300]}"
            for r in run_results["results"] if r["status"] not in PASSED]


def generate_test_dataset(out: Path) -> Path:
    """Write the suite's deterministic dataset into `out` with the real generator."""
    from omniplay.generator import generate_dataset

    generate_dataset(**TEST_DATASET, out=out)
    return out


def parquet_rows(path: Path) -> int:
    """Rows in a Parquet file or folder of part files, from the file footers."""
    return ds.dataset(path, format="parquet").count_rows()


@dataclass
class BuildRun:
    """The outcome of one `build_project` call with dbt's artifacts from it."""

    project: "DbtProject"
    result: DbtResult
    run_results: dict[str, Any]
    manifest: dict[str, Any]

    def statuses(self) -> dict[str, str]:
        """unique_id -> status for every node the `dbt build` ran."""
        return {r["unique_id"]: r["status"] for r in self.run_results["results"]}

    def problems(self) -> list[str]:
        """Every node that did not pass, with dbt's message."""
        return _problems(self.run_results)

    def models(self, folder: str = "") -> dict[str, dict[str, Any]]:
        """Model nodes of this project whose file lies under models/<folder>."""
        prefix = f"models/{folder}".rstrip("/") + "/"
        return {uid: node for uid, node in self.manifest["nodes"].items()
                if node["resource_type"] == "model" and node["package_name"] == "omniplay"
                and node["original_file_path"].startswith(prefix)}

    def tests_on(self, unique_id: str) -> list[str]:
        """Data tests attached to a node."""
        return sorted(uid for uid, node in self.manifest["nodes"].items()
                      if node["resource_type"] == "test"
                      and (node.get("attached_node") == unique_id
                           or unique_id in node.get("depends_on", {}).get("nodes", [])))


@dataclass
class DbtProject:
    """The project checkout, pointed at one dataset and one isolated warehouse."""

    root: Path
    target: str
    env: dict[str, str] = field(repr=False)

    @classmethod
    def isolated(cls, root: Path, *, target: str, data_dir: Path,
                 extra_env: Mapping[str, str] | None = None) -> "DbtProject":
        """A project whose DuckDB file and dbt target/log folders all live under `root`."""
        root.mkdir(parents=True, exist_ok=True)
        env = {
            PROJECT_DIR_ENV: str(PROJECT_DIR),
            DATA_DIR_ENV: str(data_dir),
            DUCKDB_PATH_ENV: str(root / "omniplay.duckdb"),
            TARGET_ENV: target,
            "DBT_TARGET_PATH": str(root / "target"),
            "DBT_LOG_PATH": str(root / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **(extra_env or {}),
        }
        return cls(root=root, target=target, env=env)

    @property
    def target_path(self) -> Path:
        return Path(self.env["DBT_TARGET_PATH"])

    @property
    def duckdb_path(self) -> Path:
        return Path(self.env[DUCKDB_PATH_ENV])

    def environ(self):
        """Context manager: this project's environment, restored afterwards."""
        return patched_environ(self.env)

    def settings(self) -> Settings:
        with self.environ():
            return Settings.from_env()

    def build(self, **kwargs: Any) -> BuildRun:
        """`omniplay build` in-process: check or load the sources, then `dbt build` (seeds included).

        Raises AssertionError listing every failed node (not just the first few).
        """
        from omniplay.build import build_project
        from omniplay.errors import BuildError

        with self.environ():
            try:
                result = build_project(Settings.from_env(), **kwargs)
            except BuildError as exc:
                detail = "\n  ".join(self._problems_from_artifacts()) or "(no run_results.json)"
                raise AssertionError(f"omniplay build on {self.target} failed: {exc}\n  {detail}") from exc
        return BuildRun(self, result, self.artifact("run_results.json"), self.artifact("manifest.json"))

    def run(self, command: str, **kwargs: Any) -> DbtResult:
        """Any other dbt command on this project (see omniplay.dbt.run_dbt)."""
        with self.environ():
            return run_dbt(command, Settings.from_env(), **kwargs)

    def artifact(self, name: str) -> dict[str, Any]:
        return json.loads((self.target_path / name).read_text(encoding="utf-8"))

    def _problems_from_artifacts(self) -> list[str]:
        if not (self.target_path / "run_results.json").exists():
            return []
        return _problems(self.artifact("run_results.json"))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of a query on the warehouse this project builds into (placeholders: `?` on
        DuckDB and Spark, `%s` on PostgreSQL; DuckDB is opened read-only)."""
        if self.target == "duckdb":
            import duckdb

            with duckdb.connect(str(self.duckdb_path), read_only=True) as con:
                return con.execute(sql, list(params)).fetchall()
        if self.target == "postgres":
            import psycopg2

            conn = psycopg2.connect(host=self.env["OMNIPLAY_PG_HOST"], port=int(self.env["OMNIPLAY_PG_PORT"]),
                                    user=self.env["OMNIPLAY_PG_USER"],
                                    password=self.env["DBT_ENV_SECRET_OMNIPLAY_PG_PASSWORD"],
                                    dbname=self.env["OMNIPLAY_PG_DATABASE"])
            try:
                with conn.cursor() as cur:
                    cur.execute(sql, tuple(params) or None)
                    return cur.fetchall()
            finally:
                conn.close()
        if self.target == "spark":
            from omniplay.spark import spark_session
            from omniplay.spark_warehouse import SparkWarehouse

            with self.environ():
                return SparkWarehouse(spark_session(PROJECT_DIR)).fetchall(sql, params)
        raise ValueError(f"no query support for target {self.target}")

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.query(sql, params)[0][0]
