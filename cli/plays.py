"""`omniplay plays`: list, show, validate and wire the plays defined next to the audiences."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from cli.app import OmniplayTyper
from cli.options import ProjectDir, Target


app = OmniplayTyper(help="Plays: the activation config beside each audience (models/audiences/*.yml).",
                    no_args_is_help=True, pretty_exceptions_show_locals=False)

_NOW_HELP = "Evaluate schedules at this UTC instant (ISO 8601) instead of now."


def _now(value: str | None) -> datetime:
    from omniplay.errors import ConfigError

    if not value:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--now {value!r} is not an ISO 8601 timestamp, e.g. 2026-06-01T09:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _last_runs(settings) -> dict[str, dict[str, Any]]:
    """Latest run per play from the run log, or {} when there is no warehouse or run log yet."""
    from activation.ledger import DEFAULT_STATE_SCHEMA, RUN_COUNT_COLUMNS
    from omniplay.errors import ConfigError
    from omniplay.warehouse import connect

    try:
        warehouse = connect(settings, read_only=True)
    except (ConfigError, OSError):
        return {}
    try:
        with warehouse:
            if not warehouse.relation_exists(DEFAULT_STATE_SCHEMA, "runs"):
                return {}
            columns = ("run_id", "play_id", "started_at", "finished_at", "outcome", *RUN_COUNT_COLUMNS)
            rows = warehouse.fetchall(
                f"select {', '.join(columns)} from ("
                f"select *, row_number() over (partition by play_id order by started_at desc) as run_rank "
                f"from {DEFAULT_STATE_SCHEMA}.runs) r where run_rank = 1"
            )
    except Exception:  # noqa: BLE001 - a missing or locked warehouse only hides the run columns
        return {}
    return {row[1]: dict(zip(columns, row, strict=True)) for row in rows}


def _iso(value: datetime | None) -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _describe(loaded, now: datetime, last_run: dict | None, project_dir) -> dict[str, Any]:
    from omniplay.plays import play_destinations, play_version, template_digests

    play = loaded.play
    digest = template_digests(project_dir).get(play.template, "unknown")
    return {
        "id": play.id,
        "enabled": play.enabled,
        "description": play.description,
        "owner": play.owner,
        "audience": loaded.model,
        "file": str(loaded.yml_path),
        "priority": play.priority,
        "channels": list(play.channels),
        "store_task": play.store_task,
        "intent": play.intent.model_dump() if play.intent else None,
        "destinations": play_destinations(play),
        "template": play.template,
        "schedule": {"cron": play.schedule.cron, "timezone": play.schedule.timezone},
        "next_fire": _iso(play.schedule.next_fire(now)),
        "holdout_pct": play.holdout_pct,
        "frequency": play.frequency.model_dump() if play.frequency else None,
        "expires_after_hours": play.expires_after.total_seconds() / 3600,
        "decision_period": play.decision_period,
        "windows": {c: w.model_dump() for c, w in play.windows.items()},
        "conversion": play.conversion.model_dump() if play.conversion else None,
        "cost": dict(play.cost or {}),
        "version": play_version(loaded.raw, digest),
        "last_run": {k: (_iso(v) if isinstance(v, datetime) else v) for k, v in last_run.items()} if last_run else None,
    }


@app.command("list")
def list_plays(
    project_dir: ProjectDir = None,
    target: Target = None,
    now: Annotated[str | None, typer.Option("--now", help=_NOW_HELP)] = None,
    output_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every play in decision order: schedule, next fire time, last run and its counts."""
    from omniplay.plays import load_plays
    from omniplay.settings import Settings

    settings = Settings.from_env(project_dir, target)
    at = _now(now)
    runs = _last_runs(settings)
    described = [_describe(p, at, runs.get(p.id), settings.project_dir) for p in load_plays(settings.project_dir)]
    if output_json:
        typer.echo(json.dumps(described, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"plays ({len(described)})")
    for column in ("play", "prio", "channels", "schedule", "next fire (UTC)", "last run", "sent/planned"):
        table.add_column(column)
    for d in described:
        channels = ", ".join(d["channels"]) + (" + store task" if d["store_task"] else "")
        last = d["last_run"]
        table.add_row(
            d["id"] + ("" if d["enabled"] else " (disabled)"),
            str(d["priority"]),
            channels,
            f"{d['schedule']['cron']} {d['schedule']['timezone']}",
            d["next_fire"],
            f"{last['started_at']} {last['outcome']}" if last else "never",
            f"{last['sent']}/{last['planned']}" if last else "-",
        )
    Console().print(table)


@app.command("show")
def show_play(
    play_id: Annotated[str, typer.Argument(help="Play id.")],
    project_dir: ProjectDir = None,
    target: Target = None,
    now: Annotated[str | None, typer.Option("--now", help=_NOW_HELP)] = None,
) -> None:
    """One play's full config, next fire time, version and last run (JSON)."""
    from omniplay.plays import find_play
    from omniplay.settings import Settings

    settings = Settings.from_env(project_dir, target)
    loaded = find_play(settings.project_dir, play_id)
    described = _describe(loaded, _now(now), _last_runs(settings).get(loaded.id), settings.project_dir)
    typer.echo(json.dumps(described, indent=2, default=str))


@app.command("validate")
def validate(project_dir: ProjectDir = None) -> None:
    """Check every play (cron, timezone, channels, template...); exit 2 naming file, play and field."""
    from omniplay.plays import load_plays
    from omniplay.settings import Settings

    plays = load_plays(Settings.from_env(project_dir).project_dir)
    typer.echo(f"{len(plays)} play(s) valid: {', '.join(p.id for p in plays)}")


@app.command("sync")
def sync(project_dir: ProjectDir = None) -> None:
    """Rewrite the generated wiring: int_play_audiences depends_on lines and the play exposures."""
    from omniplay.plays import sync_project
    from omniplay.settings import Settings

    settings = Settings.from_env(project_dir)
    changed = sync_project(settings.project_dir)
    for path in changed:
        typer.echo(f"updated {path.relative_to(settings.project_dir)}")
    if not changed:
        typer.echo("plays wiring up to date")


@app.command("resume")
def resume(
    play_id: Annotated[str, typer.Argument(help="Play id of a play paused by a guardrail.")],
    project_dir: ProjectDir = None,
    target: Target = None,
    note: Annotated[str | None, typer.Option("--note", help="Why it is safe to resume (kept in the state table).")] = None,
    resumed_by: Annotated[str | None, typer.Option("--by", envvar="USER", help="Who resumes it.")] = None,
) -> None:
    """Re-enable a play a guardrail paused (paused_guardrail); the next build selects it again."""
    from omniplay.guardrails import resume_play
    from omniplay.plays import find_play
    from omniplay.settings import Settings
    from omniplay.warehouse import connect

    settings = Settings.from_env(project_dir, target)
    find_play(settings.project_dir, play_id)
    with connect(settings) as warehouse:
        at = resume_play(warehouse, play_id, resumed_by=resumed_by, note=note)
    typer.echo(f"play {play_id} resumed at {_iso(at)}; the next build selects it again")
