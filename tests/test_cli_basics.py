"""The `omniplay` command: help lists the commands; a build without data fails clearly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from omniplay.errors import BuildError
from omniplay.loader import SOURCE_TABLES
from tests.support.dbt import PROJECT_DIR


def _missing_data_env(tmp_path: Path) -> dict[str, str]:
    return {
        "OMNIPLAY_PROJECT_DIR": str(PROJECT_DIR),
        "OMNIPLAY_DATA_DIR": str(tmp_path / "no-data-here"),
        "OMNIPLAY_DUCKDB_PATH": str(tmp_path / "omniplay.duckdb"),
        "OMNIPLAY_TARGET": "duckdb",
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    for command in ("generate", "build", "demo"):
        assert command in result.output


def test_no_arguments_shows_help() -> None:
    result = CliRunner().invoke(app, [])
    assert "Usage" in result.output and "build" in result.output


def test_build_without_data_fails_naming_the_sources(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["build"], env=_missing_data_env(tmp_path))
    assert result.exit_code == BuildError.exit_code == 1, result.output
    message = result.stderr
    assert message.startswith("omniplay: ") and str(tmp_path / "no-data-here") in message
    assert "crm" in message and "OMNIPLAY_DATA_DIR" in message
    assert not (tmp_path / "omniplay.duckdb").exists(), "the build ran dbt despite missing sources"


def test_build_without_data_from_the_shell(tmp_path: Path) -> None:
    """What a scheduler sees: exit code 1 and one line on stderr naming the sources and the fix."""
    env = {**os.environ, **_missing_data_env(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "cli.main", "build"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("omniplay: ")
    assert all(source in lines[0] for source in SOURCE_TABLES)
    assert "omniplay generate" in lines[0] and "OMNIPLAY_DATA_DIR" in lines[0]
