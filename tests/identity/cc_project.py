"""Run the connected-components test dbt project (tests/identity/dbt_cc_project) for real.

The project loads only `macros/identity` and builds `connected_components` models over
edge tables that `CcProject.load_edges` writes into `cc_input.*` first, on DuckDB or
PostgreSQL, with the repository's own `profiles.yml`. Every instance has its own DuckDB
file (or PostgreSQL database) and its own dbt target and log folders.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.env import patched_environ

REPO_DIR = Path(__file__).resolve().parents[2]
CC_PROJECT_DIR = Path(__file__).resolve().parent / "dbt_cc_project"
INPUT_SCHEMA = "cc_input"

Edge = tuple["str | None", "str | None"]  # None: a null end


def round_bound(nodes: int) -> float:
    """The acceptance bound on rounds for a component of `nodes` nodes: 2*log2(n) + 5."""
    return 2 * math.log2(nodes) + 5


@dataclass
class BuildOutcome:
    """What one `dbt build` of the test project did."""

    success: bool
    statuses: dict[str, str]
    messages: dict[str, str]
    exception: str | None


@dataclass
class CcProject:
    """The test project pointed at one isolated warehouse."""

    root: Path
    target: str
    env: dict[str, str] = field(repr=False)

    @classmethod
    def duckdb(cls, root: Path) -> "CcProject":
        root.mkdir(parents=True, exist_ok=True)
        return cls(root, "duckdb", {"OMNIPLAY_DUCKDB_PATH": str(root / "cc.duckdb"), **_dbt_paths(root)})

    @classmethod
    def postgres(cls, root: Path, server_env: Mapping[str, str]) -> "CcProject":
        root.mkdir(parents=True, exist_ok=True)
        return cls(root, "postgres", {**server_env, "OMNIPLAY_PG_SCHEMA": "public", **_dbt_paths(root)})

    # -- warehouse access ------------------------------------------------------------------

    def _connect(self):
        if self.target == "duckdb":
            import duckdb

            return duckdb.connect(self.env["OMNIPLAY_DUCKDB_PATH"])
        import psycopg2

        return psycopg2.connect(host=self.env["OMNIPLAY_PG_HOST"], port=int(self.env["OMNIPLAY_PG_PORT"]),
                                user=self.env["OMNIPLAY_PG_USER"],
                                password=self.env["DBT_ENV_SECRET_OMNIPLAY_PG_PASSWORD"],
                                dbname=self.env["OMNIPLAY_PG_DATABASE"])

    def load_edges(self, tables: Mapping[str, Iterable[Edge]]) -> None:
        """Replace `cc_input.<name>(node_a, node_b)` with the given edges, per table."""
        if self.target == "duckdb":
            import pyarrow as pa

            con = self._connect()
            try:
                con.execute(f"create schema if not exists {INPUT_SCHEMA}")
                for name, edges in tables.items():
                    pairs = list(edges)
                    arrow = pa.table({"node_a": pa.array([a for a, _ in pairs], pa.string()),
                                      "node_b": pa.array([b for _, b in pairs], pa.string())})
                    con.register("cc_edges_arrow", arrow)
                    con.execute(f"create or replace table {INPUT_SCHEMA}.{name} as select * from cc_edges_arrow")
                    con.unregister("cc_edges_arrow")
            finally:
                con.close()
            return
        conn = self._connect()
        try:
            with conn, conn.cursor() as cur:
                cur.execute(f"create schema if not exists {INPUT_SCHEMA}")
                for name, edges in tables.items():
                    cur.execute(f"drop table if exists {INPUT_SCHEMA}.{name}")
                    cur.execute(f"create table {INPUT_SCHEMA}.{name} (node_a varchar, node_b varchar)")
                    buffer = io.StringIO()
                    writer = csv.writer(buffer)
                    writer.writerows(("" if a is None else a, "" if b is None else b) for a, b in edges)
                    buffer.seek(0)
                    cur.copy_expert(f"copy {INPUT_SCHEMA}.{name} from stdin with (format csv, null '')", buffer)
        finally:
            conn.close()

    def query(self, sql: str) -> list[tuple]:
        conn = self._connect()
        try:
            if self.target == "duckdb":
                return conn.execute(sql).fetchall()
            with conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()
        finally:
            conn.close()

    def components(self, model: str) -> dict[str, str]:
        """node -> component of a built connected_components model (one row per node, checked)."""
        rows = self.query(f"select node, component from {self.model_schema}.{model}")
        mapping = dict(rows)
        assert len(mapping) == len(rows), f"{model}: {len(rows) - len(mapping)} duplicate node rows"
        return mapping

    def round_log(self, model: str) -> list[dict[str, Any]]:
        """The model's rows of the round log, oldest first."""
        columns = ["invocation_id", "build_started_at", "rounds", "nodes", "edges", "components",
                   "largest_component"]
        rows = self.query(f"select {', '.join(columns)} from {self.model_schema}.identity_cc_rounds "
                          f"where model = '{model}' order by finished_at")
        return [dict(zip(columns, row, strict=True)) for row in rows]

    @property
    def model_schema(self) -> str:
        return "main" if self.target == "duckdb" else "public"

    # -- dbt -------------------------------------------------------------------------------

    def build(self, *, select: Sequence[str] = (), vars: Mapping[str, Any] | None = None) -> BuildOutcome:
        """`dbt build` of the test project, in-process, with this project's environment."""
        from dbt.cli.main import dbtRunner

        args = ["build", "--project-dir", str(CC_PROJECT_DIR), "--profiles-dir", str(REPO_DIR),
                "--target", self.target]
        for selector in select:
            args += ["--select", selector]
        if vars:
            args += ["--vars", json.dumps(dict(vars))]
        with patched_environ(self.env):
            outcome = dbtRunner().invoke(args)
        results = getattr(outcome.result, "results", None) or []
        return BuildOutcome(
            success=bool(outcome.success),
            statuses={r.node.unique_id: str(r.status) for r in results},
            messages={r.node.unique_id: (r.message or "") for r in results},
            exception=str(outcome.exception) if outcome.exception else None,
        )


def _dbt_paths(root: Path) -> dict[str, str]:
    return {
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
