"""A workspace per test: a copy of the session's real DuckDB build, its own outboxes and
dbt folders, and the real `omniplay` console script run in a subprocess against it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.support.dbt import PROJECT_DIR

OMNIPLAY = Path(sys.executable).with_name("omniplay")


@dataclass
class Workspace:
    """An isolated target: its DuckDB file, outboxes and environment."""

    root: Path
    env: dict[str, str]

    @property
    def db(self) -> Path:
        return Path(self.env["OMNIPLAY_DUCKDB_PATH"])

    @property
    def lock_file(self) -> Path:
        return self.db.with_name(self.db.name + ".lock")

    def command(self, *args: str) -> list[str]:
        return [str(OMNIPLAY), *args]

    def omniplay(self, *args: str, now: str | None = None, timeout: float = 300,
                 **extra_env: str) -> subprocess.CompletedProcess:
        """Run `omniplay ARGS` as a scheduler would, and wait for it."""
        env = {**self.env, **extra_env}
        if now is not None:
            env["OMNIPLAY_NOW"] = now
        return subprocess.run(self.command(*args), capture_output=True, text=True, env=env,
                              cwd=self.root, timeout=timeout)

    def popen(self, *args: str, **extra_env: str) -> subprocess.Popen:
        return subprocess.Popen(self.command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env={**self.env, **extra_env}, cwd=self.root)

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with duckdb.connect(str(self.db), read_only=True) as con:
            return con.execute(sql, list(params)).fetchall()

    def scalar(self, sql: str, params: Sequence = ()):
        return self.query(sql, params)[0][0]

    def ledger(self) -> dict[str, int]:
        """Send-ledger rows per status (empty before the first sync)."""
        exists = self.scalar("select count(*) from information_schema.tables "
                             "where table_schema = 'omniplay_state' and table_name = 'sends'")
        if not exists:
            return {}
        return dict(self.query("select status, count(*) from omniplay_state.sends group by status"))

    def outbox_files(self, channel: str) -> list[Path]:
        """Messages the outbox destination wrote for a channel (email or sms)."""
        folder = Path(self.env["OMNIPLAY_OUTBOX_DIR"])
        return sorted(p for p in folder.rglob("*") if p.is_file() and channel in p.relative_to(folder).parts)

    def write_destinations(self, text: str) -> Path:
        """A destinations file for this workspace; later commands use it."""
        path = self.root / "destinations.yml"
        path.write_text(text, encoding="utf-8")
        self.env["OMNIPLAY_DESTINATIONS_FILE"] = str(path)
        return path


@pytest.fixture
def workspace(duckdb_build, source_data: Path, tmp_path: Path) -> Workspace:
    """A writable copy of the session's DuckDB build with everything else under tmp_path."""
    db = tmp_path / "omniplay.duckdb"
    shutil.copyfile(duckdb_build.project.duckdb_path, db)
    env = {
        **os.environ,
        "OMNIPLAY_PROJECT_DIR": str(PROJECT_DIR),
        "OMNIPLAY_TARGET": "duckdb",
        "OMNIPLAY_DATA_DIR": str(source_data),
        "OMNIPLAY_DUCKDB_PATH": str(db),
        "OMNIPLAY_OUTBOX_DIR": str(tmp_path / "outbox"),
        "OMNIPLAY_STORE_TASKS_DIR": str(tmp_path / "store_tasks"),
        "OMNIPLAY_GATE_DOCS_DIR": str(tmp_path / "gate_docs"),
        "DBT_TARGET_PATH": str(tmp_path / "dbt_target"),
        "DBT_LOG_PATH": str(tmp_path / "dbt_logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "COLUMNS": "200",  # rich tables: full column names in captured output
    }
    for name in ("OMNIPLAY_NOW", "OMNIPLAY_DESTINATIONS_FILE", "OMNIPLAY_LOCK_TIMEOUT", "OMNIPLAY_LOG_FORMAT"):
        env.pop(name, None)
    return Workspace(root=tmp_path, env=env)
