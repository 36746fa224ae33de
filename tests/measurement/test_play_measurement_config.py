"""Every play declares what lift needs: an attribution window (conversion) and costs.

The pydantic loader (`omniplay plays validate`, exit 2) refuses a play without them,
naming the file, the play and the field; the build's on-run-start does too
(tests/decisions/test_play_config.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from omniplay.errors import ConfigError
from omniplay.plays import load_plays
from tests.decisions.test_play_config import PLAY_FILE, copy_project, edit_play

MISSING = [
    ({"conversion": None}, "conversion: is required for lift measurement"),
    ({"conversion": {"event_types": ["purchase"], "window_days": 0}}, "conversion.window_days"),
    ({"conversion": {"event_types": [], "window_days": 7}}, "conversion.event_types"),
    ({"cost": None}, "cost: is required for cost per incremental acquisition"),
    ({"cost": {"email": 0.001, "sms": 0.04}}, "cost: has no price for store"),
    ({"cost": {"email": 0.001, "sms": -1, "store": 0.5}}, "cost: sms: a cost cannot be negative"),
]


@pytest.mark.parametrize(("changes", "field"), MISSING, ids=[f"{next(iter(c))}-{i}" for i, (c, _) in enumerate(MISSING)])
def test_the_loader_requires_window_and_costs(tmp_path: Path, changes: dict, field: str) -> None:
    project = copy_project(tmp_path)
    edit_play(project, **changes)
    with pytest.raises(ConfigError) as caught:
        load_plays(project)
    assert str(caught.value).startswith(f"{PLAY_FILE}: play 'cart_abandoners': {field}"), str(caught.value)


def test_every_example_play_has_window_and_costs() -> None:
    for loaded in load_plays(Path(__file__).resolve().parents[2]):
        play = loaded.play
        assert play.attribution_days >= 1
        assert set(play.channels) | ({"store"} if play.store_task else set()) <= set(play.cost)


def test_cli_exits_2_without_a_window(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    edit_play(project, conversion=None)
    result = CliRunner().invoke(app, ["plays", "validate", "--project-dir", str(project)])
    assert result.exit_code == 2, result.output
    assert f"{PLAY_FILE}: play 'cart_abandoners': conversion: is required" in result.output


def test_plays_resume_writes_the_state_table_and_refuses_a_running_play(tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.dim_play_status (play_id varchar, is_enabled boolean, is_paused boolean, "
                    "last_paused_at timestamp, last_breached_metrics varchar, last_resumed_at timestamp)")
        con.execute("insert into marts.dim_play_status values "
                    "('cart_abandoners', true, true, '2026-06-01 00:00:00', 'unsubscribe_rate', null), "
                    "('wishlist_back_in_stock', true, false, null, null, null)")
    env = {"OMNIPLAY_DUCKDB_PATH": str(db), "OMNIPLAY_TARGET": "duckdb"}
    runner = CliRunner()
    resumed = runner.invoke(app, ["plays", "resume", "cart_abandoners", "--note", "template fixed", "--by", "ops"],
                            env=env)
    assert resumed.exit_code == 0, resumed.output
    assert "play cart_abandoners resumed at" in resumed.output
    running = runner.invoke(app, ["plays", "resume", "wishlist_back_in_stock"], env=env)
    assert running.exit_code == 2 and "is not paused by a guardrail" in running.output
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select play_id, resumed_by, note from omniplay_state.play_resumes").fetchall()
    assert rows == [("cart_abandoners", "ops", "template fixed")]
