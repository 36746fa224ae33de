"""The gate on a real DuckDB build: the real queue passes; planted bad plays are blocked, the rest go ahead."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from typer.testing import CliRunner

from activation.gate import GateOptions, QualityGate, blocked_plays, gate_verdicts
from activation.gate_checks import PlayGateConfig
from cli.main import app
from omniplay.warehouse import DuckDBWarehouse
from tests.gate import planting as P
from tests.support.dbt import PROJECT_DIR


def _cli_env(db: Path, tmp_path: Path) -> dict[str, str]:
    return {"OMNIPLAY_DUCKDB_PATH": str(db), "OMNIPLAY_TARGET": "duckdb", "OMNIPLAY_PROJECT_DIR": str(PROJECT_DIR),
            "OMNIPLAY_GATE_DOCS_DIR": str(tmp_path / "docs"), "DBT_TARGET_PATH": str(tmp_path / "target")}


def _path(url: str) -> Path:
    return Path(unquote(urlparse(url).path))


def test_real_queue_passes_and_cli_exits_0(gate_db: Path, tmp_path: Path):
    result = CliRunner().invoke(app, ["gate", "--json"], env=_cli_env(gate_db, tmp_path))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["plays"], "the test build's queue is empty: nothing was gated"
    assert {p["outcome"] for p in report["plays"]} == {"passed"}
    assert all("first gated run" in " ".join(p["notes"]) for p in report["plays"])
    with DuckDBWarehouse.open(str(gate_db)) as wh:
        recorded = wh.fetchall("select play_id, outcome from omniplay_state.gate_results")
        assert sorted(recorded) == sorted((p["play_id"], "passed") for p in report["plays"])
        assert blocked_plays(wh) == {}
    assert (tmp_path / "docs" / "index.html").is_file()


@pytest.fixture(scope="module")
def planted(duckdb_build, tmp_path_factory):
    """Yesterday's queue gated (all pass), then today's with the planted bad plays gated."""
    root = tmp_path_factory.mktemp("gate-planted")
    db = root / "gate.duckdb"
    shutil.copyfile(duckdb_build.project.duckdb_path, db)
    options = GateOptions(size_min_rows=1, chunk_rows=5)  # small chunks: plays span several
    with DuckDBWarehouse.open(str(db)) as wh:
        assert P.base_rows(wh) == P.BASE_ROWS, "the test build's queue has too few e-mail rows to clone"
        P.plant_previous_run(wh)
        yesterday = QualityGate(wh, options, docs_dir=root / "docs").run()
        P.plant_bad_plays(wh)
        today = QualityGate(wh, options, docs_dir=root / "docs").run()
        addresses = {a for (a,) in wh.fetchall(f"select distinct address from {P.QUEUE}")}
    return {"db": db, "root": root, "yesterday": yesterday, "today": today, "addresses": addresses}


def test_previous_run_passes(planted):
    assert planted["yesterday"].verdicts
    assert not planted["yesterday"].blocked


def test_every_row_is_validated_across_chunks(planted):
    # chunk_rows=5: most plays are validated in several chunks.
    verdicts = planted["today"].verdicts
    assert max(v.queue_rows for v in verdicts) > 5
    assert all(v.checked_rows == v.queue_rows for v in verdicts)


def test_blocks_exactly_the_planted_plays_and_passes_the_rest(planted):
    today = planted["today"]
    failed = {v.play_id: set(v.failed) for v in today.blocked}
    assert set(failed) == set(P.EXPECTED_FAILURES)
    for play, checks in failed.items():
        assert checks in P.EXPECTED_FAILURES[play], (play, checks)
    passed = {v.play_id for v in today.verdicts if v.passed}
    real = {v.play_id for v in planted["yesterday"].verdicts} - {P.SIZE_JUMP, P.GOOD}
    assert passed == real | {P.GOOD}


def test_reasons_are_one_readable_line_per_check_without_addresses(planted):
    verdicts = {v.play_id: v for v in planted["today"].verdicts}
    reasons = {play: v.reasons() for play, v in verdicts.items()}
    assert reasons[P.DUPLICATE] == ["unique_message_id: 2 row(s) share their message_id with another queue row"]
    assert reasons[P.HOLDOUT] == ["holdout: 1 row(s) are for holdout members (global)"]
    assert reasons[P.NO_CONSENT] == ["consent: 1 row(s) are on a channel without consent (opted_out)"]
    assert any(r.startswith("blocked_profile: 1 row(s) are for blocked profiles (")
               for r in reasons[P.BLOCKED])
    assert reasons[P.BAD_ADDRESS] == ["address: 1 row(s) have a malformed email address"]
    assert reasons[P.BAD_WINDOW] == ["window: 1 row(s) have not_before at or after not_after"]
    size = verdicts[P.SIZE_JUMP]
    assert (size.previous_rows, size.queue_rows) == (P.BASE_ROWS, 3 * P.BASE_ROWS)
    assert reasons[P.SIZE_JUMP] == [
        f"size: 12 rows vs 4 on {size.previous_run_date} (+200%); allowed ±50%: 2..6"]
    text = "\n".join(line for lines in reasons.values() for line in lines)
    assert "\n" not in "".join(line for lines in reasons.values() for line in lines)
    assert not [a for a in planted["addresses"] if a and a in text]
    assert verdicts[P.HOLDOUT].notes == ["size: first gated run, no previous size to compare"]
    assert verdicts[P.GOOD].notes == [] and verdicts[P.GOOD].previous_rows == P.BASE_ROWS


def test_blocked_plays_have_data_docs(planted):
    today = planted["today"]
    assert today.docs_index and _path(today.docs_index).is_file()
    for verdict in today.blocked:
        page = _path(verdict.docs_url)
        assert page.is_file() and page.is_relative_to(planted["root"] / "docs")
        assert verdict.play_id in str(page)
        if verdict.play_id == P.SIZE_JUMP:
            assert "gate_size__" in str(page)


def test_verdicts_recorded_for_sync(planted):
    with DuckDBWarehouse.open(str(planted["db"]), read_only=True) as wh:
        blocked = blocked_plays(wh)  # run date: the queue's
        verdicts = gate_verdicts(wh)
        runs = wh.fetchall("select count(distinct gate_run_id), count(*) from omniplay_state.gate_results")
        previous = wh.fetchall("select run_date, outcome from omniplay_state.gate_results where play_id = ? "
                               "order by run_date", (P.SIZE_JUMP,))
        day_before = blocked_plays(wh, previous[0][0])
    assert set(blocked) == set(P.EXPECTED_FAILURES)
    assert {p: o for p, (o, _) in verdicts.items()} == {v.play_id: v.outcome for v in planted["today"].verdicts}
    assert blocked[P.HOLDOUT] == "holdout: 1 row(s) are for holdout members (global)"
    assert runs[0] == (2, len(planted["yesterday"].verdicts) + len(planted["today"].verdicts))
    assert [o for _, o in previous] == ["passed", "blocked"]
    assert day_before == {}


def test_size_baseline_is_the_last_passed_run_and_band_is_per_play(planted, tmp_path: Path):
    db = tmp_path / "next_day.duckdb"
    shutil.copyfile(planted["db"], db)
    with DuckDBWarehouse.open(str(db)) as wh:
        P.shift_run_date(wh, 1)
        options = GateOptions(plays=[P.SIZE_JUMP], size_min_rows=1)
        # The next day the same 12 rows are still compared with the last run that passed (4 rows).
        still = QualityGate(wh, options, docs_dir=tmp_path / "docs").run()
        assert [(v.play_id, sorted(v.failed), v.previous_rows) for v in still.verdicts] == [
            (P.SIZE_JUMP, ["size"], P.BASE_ROWS)]
        # A play may widen its own band (config: meta: gate: size_band).
        wider = QualityGate(wh, options, docs_dir=tmp_path / "docs",
                            play_configs={P.SIZE_JUMP: PlayGateConfig(size_band=2.5)}).run()
        assert [v.outcome for v in wider.verdicts] == ["passed"]
        # Below size_min_rows on both runs the sizes are not compared.
        small = QualityGate(wh, GateOptions(plays=[P.SIZE_JUMP], size_min_rows=13),
                            docs_dir=tmp_path / "docs").run()
        assert [v.outcome for v in small.verdicts] == ["passed"]
        assert "not compared" in small.verdicts[0].notes[0]


def test_cli_exits_3_naming_the_blocked_plays(planted, tmp_path: Path):
    db = tmp_path / "planted.duckdb"
    shutil.copyfile(planted["db"], db)
    result = CliRunner().invoke(app, ["gate", "--size-min-rows", "1"], env=_cli_env(db, tmp_path))
    assert result.exit_code == 3, result.output
    assert f"quality gate blocked {len(P.EXPECTED_FAILURES)} play(s): " in result.stderr
    assert "BLOCKED planted_holdout_leak" in result.stdout
    assert "holdout: 1 row(s) are for holdout members (global)" in result.stdout
    assert "docs: file://" in result.stdout


def test_sync_skips_blocked_plays_sends_the_rest_and_exits_3(planted, tmp_path: Path):
    """`omniplay sync` reads the gate's verdicts: blocked plays are not read or sent."""
    db = tmp_path / "sync.duckdb"
    shutil.copyfile(planted["db"], db)
    env = {**_cli_env(db, tmp_path), "OMNIPLAY_OUTBOX_DIR": str(tmp_path / "outbox"),
           "OMNIPLAY_STORE_TASKS_DIR": str(tmp_path / "tasks"), "OMNIPLAY_NOW": "2100-01-01T00:00:00Z"}
    result = CliRunner().invoke(app, ["sync", "--json"], env=env)
    assert result.exit_code == 3, result.output
    assert "blocked by the quality gate" in result.output
    summary = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert set(summary["blocked"]) == set(P.EXPECTED_FAILURES)
    synced = {row["play_id"] for row in summary["rows"]}
    assert synced and not synced & set(P.EXPECTED_FAILURES)
    with DuckDBWarehouse.open(str(db), read_only=True) as wh:
        placeholders = ", ".join("?" * len(P.EXPECTED_FAILURES))
        touched = wh.fetchall(f"select count(*) from omniplay_state.sends where play_id in ({placeholders})",
                              list(P.EXPECTED_FAILURES))[0][0]
    assert touched == 0
