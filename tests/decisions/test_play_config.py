"""Play configuration: the pydantic loader, `omniplay plays` (exit 2 naming file, play and
field), the generated wiring, and the same checks at dbt build time (on-run-start)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app
from omniplay.errors import ConfigError
from omniplay.plays import EXPOSURES_FILE, WIRING_MODEL, load_plays, play_version, sync_project, template_digests
from tests.support.dbt import DbtProject

PROJECT_DIR = Path(__file__).resolve().parents[2]
EXAMPLE_PLAYS = {
    "wishlist_back_in_stock", "cart_abandoners", "high_intent_store_task", "repeat_viewers_high_score",
    "event_badge_follow_up", "new_loyalty_member_welcome", "lapsed_loyalty_winback",
}
PLAY_FILE = Path("models") / "audiences" / "aud_cart_abandoners.yml"


def copy_project(out: Path, *, whole: bool = False) -> Path:
    """The parts of the project plays live in (or, with `whole`, everything dbt needs)."""
    parts = ["models", "activation/templates", "activation/destinations.yml"]
    if whole:
        parts += ["macros", "seeds", "dbt_project.yml", "profiles.yml", "tests/dbt"]
    for part in parts:
        source = PROJECT_DIR / part
        target = out / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, target)
    return out


def edit_play(project: Path, **changes) -> None:
    """Change fields of the cart_abandoners play (a value of None removes the field)."""
    path = project / PLAY_FILE
    document = yaml.safe_load(path.read_text())
    play = document["models"][0]["config"]["meta"]["play"]
    for key, value in changes.items():
        if value is None:
            play.pop(key, None)
        else:
            play[key] = value
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_the_example_plays_load_in_decision_order() -> None:
    plays = load_plays(PROJECT_DIR)
    assert {p.id for p in plays} == EXAMPLE_PLAYS
    assert [p.play.priority for p in plays] == sorted(p.play.priority for p in plays)
    for loaded in plays:
        assert loaded.sql_path.is_file() and loaded.model == f"aud_{loaded.sql_path.stem[4:]}"
    wishlist = next(p for p in plays if p.id == "wishlist_back_in_stock")
    assert wishlist.play.store_task and wishlist.play.channels == ["email"]


BAD_CONFIGS = [
    ({"channels": ["email", "fax"]}, "channels.1"),
    ({"schedule": {"cron": "0 9 * *", "timezone": "UTC"}}, "schedule.cron"),
    ({"schedule": {"cron": "0 9 * * *", "timezone": "Mars/Olympus_Mons"}}, "schedule.timezone"),
    ({"holdout_pct": 150}, "holdout_pct"),
    ({"template": "no_such_template"}, "template"),
    ({"template": None}, "template"),
    ({"expires_after": "soon"}, "expires_after"),
    ({"windows": {"sms": {"start": "22:00", "end": "08:00"}}}, "windows.sms"),
    ({"intent": {"channel": "store", "min_propensity": 0.5}}, "intent"),
    ({"priority": -1}, "priority"),
    ({"surprise": 1}, "surprise"),
]


@pytest.mark.parametrize(("changes", "field"), BAD_CONFIGS, ids=[f for _, f in BAD_CONFIGS])
def test_a_bad_play_names_file_play_and_field(tmp_path: Path, changes: dict, field: str) -> None:
    project = copy_project(tmp_path)
    edit_play(project, **changes)
    with pytest.raises(ConfigError) as caught:
        load_plays(project)
    message = str(caught.value)
    assert message.startswith(f"{PLAY_FILE}: play 'cart_abandoners': {field}"), message


def test_a_duplicate_play_id_is_refused(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    edit_play(project, id="wishlist_back_in_stock")
    with pytest.raises(ConfigError, match=r"play 'wishlist_back_in_stock': id: 'wishlist_back_in_stock' is already used"):
        load_plays(project)


def test_cli_exits_2_on_a_bad_play(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    edit_play(project, channels=["email", "pigeon"])
    result = CliRunner().invoke(app, ["plays", "validate", "--project-dir", str(project)])
    assert result.exit_code == 2, result.output
    assert f"{PLAY_FILE}: play 'cart_abandoners': channels.1" in result.output


def test_cli_lists_and_shows_plays_with_next_fire(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"OMNIPLAY_DUCKDB_PATH": str(tmp_path / "none.duckdb")}
    result = runner.invoke(app, ["plays", "list", "--json", "--now", "2026-03-28T12:00:00Z"], env=env)
    assert result.exit_code == 0, result.output
    import json

    listed = {p["id"]: p for p in json.loads(result.output)}
    assert set(listed) == EXAMPLE_PLAYS
    # 07:30 Europe/Berlin the day after the spring-forward change is 05:30 UTC.
    assert listed["wishlist_back_in_stock"]["next_fire"] == "2026-03-29T05:30:00Z"
    assert listed["wishlist_back_in_stock"]["last_run"] is None
    shown = runner.invoke(app, ["plays", "show", "cart_abandoners"], env=env)
    assert shown.exit_code == 0 and '"store": "store_tasks"' in shown.output
    missing = runner.invoke(app, ["plays", "show", "nope"], env=env)
    assert missing.exit_code == 2 and "no play 'nope'" in missing.output


def test_generated_wiring_is_in_sync(tmp_path: Path) -> None:
    """int_play_audiences' depends_on lines and the exposures match the plays (run `omniplay plays sync`)."""
    project = copy_project(tmp_path)
    assert sync_project(project) == []
    edit_play(project, enabled=False)
    changed = sync_project(project)
    assert project / WIRING_MODEL in changed and project / EXPOSURES_FILE in changed
    assert "aud_cart_abandoners" not in (project / WIRING_MODEL).read_text()


def test_play_version_follows_config_and_template(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    loaded = next(p for p in load_plays(project) if p.id == "cart_abandoners")
    digest = template_digests(project)["cart_abandoners"]
    before = play_version(loaded.raw, digest)
    template = project / "activation" / "templates" / "cart_abandoners.yml"
    template.write_text(template.read_text().replace("waiting", "still waiting", 1))
    assert play_version(loaded.raw, template_digests(project)["cart_abandoners"]) != before
    assert play_version({**loaded.raw, "priority": 21}, digest) != before


@pytest.mark.dbt
@pytest.mark.parametrize(("changes", "field"), [
    ({"channels": ["email", "fax"]}, "channels: unknown channel 'fax'"),
    ({"schedule": {"cron": "0 9 * *", "timezone": "UTC"}}, "schedule.cron: '0 9 * *' has 4 fields"),
    ({"holdout_pct": 150}, "holdout_pct: must be a percentage from 0 to 100"),
    ({"template": None}, "template: is required"),
    # Lift measurement (docs/measurement.md): an attribution window and a price per usable channel.
    ({"conversion": None}, "conversion: is required for lift measurement"),
    ({"cost": {"email": 0.001, "sms": 0.04}}, "cost: has no price for store"),
], ids=["channel", "cron", "percentage", "template", "window", "cost"])
def test_dbt_build_fails_on_run_start_naming_file_play_and_field(tmp_path: Path, changes: dict, field: str) -> None:
    project_dir = copy_project(tmp_path / "project", whole=True)
    edit_play(project_dir, **changes)
    project = DbtProject.isolated(tmp_path / "run", target="duckdb", data_dir=tmp_path / "no-sources",
                                  extra_env={"OMNIPLAY_PROJECT_DIR": str(project_dir)})
    result = project.run("run", select=["int_play_contact_history"], vars={"omniplay__register_source_files": False},
                         raise_on_failure=False)
    assert not result.success
    log = (project.root / "logs" / "dbt.log").read_text()
    assert f"models/audiences/aud_cart_abandoners.yml: play 'cart_abandoners': {field}" in log


def test_plays_list_reports_the_last_run_from_the_run_log(tmp_path: Path) -> None:
    """Last run and its counts come from omniplay_state.runs, written as the engine writes it."""
    import json
    from datetime import datetime

    from activation.ledger import Ledger
    from omniplay.warehouse import DuckDBWarehouse

    db = tmp_path / "state.duckdb"
    with DuckDBWarehouse.open(str(db)) as warehouse:
        ledger = Ledger(warehouse)
        ledger.ensure()
        ledger.start_play("run-1", "cart_abandoners", datetime(2026, 5, 31, 9, 0))
        ledger.finish_play("run-1", "cart_abandoners", {"planned": 5, "sent": 4, "rejected": 1}, "partial",
                           datetime(2026, 5, 31, 9, 1))
        ledger.start_play("run-2", "cart_abandoners", datetime(2026, 6, 1, 9, 0))
        ledger.finish_play("run-2", "cart_abandoners", {"planned": 3, "sent": 3}, "ok", datetime(2026, 6, 1, 9, 1))
    result = CliRunner().invoke(app, ["plays", "list", "--json"], env={"OMNIPLAY_DUCKDB_PATH": str(db)})
    assert result.exit_code == 0, result.output
    listed = {p["id"]: p for p in json.loads(result.output)}
    last = listed["cart_abandoners"]["last_run"]
    assert (last["run_id"], last["outcome"], last["planned"], last["sent"]) == ("run-2", "ok", 3, 3)
    assert last["started_at"] == "2026-06-01T09:00:00Z"
    assert listed["wishlist_back_in_stock"]["last_run"] is None
