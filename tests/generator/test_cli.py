"""`omniplay generate` on the command line: bad input exits 2 with one line; good input writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app


@pytest.mark.parametrize("args, needle", [
    (["--customers", "0"], "--customers"),
    (["--customers", "99999999999"], "--customers"),
    (["--days", "0"], "--days"),
    (["--days", "4000"], "--days"),
    (["--seed", "-1"], "--seed"),
    (["--workers", "0"], "--workers"),
])
def test_invalid_arguments_exit_2_with_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "d"), *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and lines[0].startswith("omniplay:")
    assert not (tmp_path / "d").exists()


def test_non_numeric_argument_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "--customers", "lots", "--out", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert "--customers" in result.output


def test_refuses_a_non_empty_folder_that_is_not_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, ["generate", "--customers", "50", "--days", "10", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "not empty" in result.output and len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_refuses_a_file_as_output(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    result = CliRunner().invoke(app, ["generate", "--customers", "50", "--out", str(target)])
    assert result.exit_code == 2 and "not a folder" in result.output


def test_writes_and_then_replaces_a_previous_dataset(tmp_path: Path) -> None:
    out = tmp_path / "data"
    first = CliRunner().invoke(app, ["generate", "--customers", "120", "--days", "20", "--seed", "1",
                                     "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert "120 people" in first.output and len(first.output.strip().splitlines()) == 1
    (out / "README.txt").write_text("kept")  # a user's file beside the dataset survives
    second = CliRunner().invoke(app, ["generate", "--customers", "80", "--days", "20", "--seed", "2",
                                      "--out", str(out)])
    assert second.exit_code == 0, second.output
    manifest = json.loads((out / "truth" / "manifest.json").read_text())
    assert manifest["customers"] == 80 and manifest["seed"] == 2 and manifest["status"] == "complete"
    assert (out / "README.txt").read_text() == "kept"
    assert len(list((out / "web" / "events").iterdir())) == 1


@pytest.mark.parametrize("customers, days", [(1, 1), (7, 2), (60, 3)])
def test_tiny_datasets_are_complete(tmp_path: Path, customers: int, days: int) -> None:
    result = CliRunner().invoke(app, ["generate", "--customers", str(customers), "--days", str(days),
                                      "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "truth" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["rows"]) == 13


def test_default_output_is_the_data_folder_the_build_reads(tmp_path: Path) -> None:
    target = tmp_path / "from-env"
    result = CliRunner().invoke(app, ["generate", "--customers", "20", "--days", "3"],
                                env={"OMNIPLAY_DATA_DIR": str(target)})
    assert result.exit_code == 0, result.output
    assert (target / "truth" / "manifest.json").is_file()
