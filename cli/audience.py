"""`omniplay audience preview NAME`: what the last build decided for one audience's play."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cli.options import ProjectDir, Target
from cli.app import OmniplayTyper

app = OmniplayTyper(help="Audiences: preview what a play would send, without sending.", no_args_is_help=True,
                    pretty_exceptions_show_locals=False)

_CHANNELS = ("email", "sms", "store")


def _resolve(project_dir, name: str):
    """The play of an audience given as aud_<name>, <name> or the play id."""
    from omniplay.errors import ConfigError
    from omniplay.plays import load_plays

    plays = load_plays(project_dir)
    for loaded in plays:
        if name in (loaded.model, loaded.id) or f"aud_{name}" == loaded.model:
            return loaded
    known = ", ".join(p.model for p in plays) or "none"
    raise ConfigError(f"no audience '{name}' with a play (known: {known})")


def preview_data(warehouse, play_id: str, sample: int = 5) -> dict[str, Any]:
    """Size and breakdowns of the play's latest decisions, and a masked queue sample."""
    from omniplay.errors import ConfigError
    from omniplay.logs import mask_address

    if not warehouse.relation_exists("marts", "fct_play_decisions"):
        raise ConfigError("no decisions yet (marts.fct_play_decisions is missing): run `omniplay build` first")
    latest = warehouse.fetchall(
        "select max(run_date) from marts.fct_play_decisions where play_id = ?", [play_id])[0][0]
    if latest is None:
        return {"play_id": play_id, "run_date": None, "candidates": 0, "outcomes": {}, "channels": {},
                "consent": {}, "holdout": {}, "sample": []}

    def grouped(sql: str, params: list) -> dict[str, int]:
        return {str(k): int(n) for k, n in warehouse.fetchall(sql, params)}

    outcomes = grouped(
        "select outcome, count(*) from marts.fct_play_decisions where play_id = ? and run_date = ? "
        "group by outcome order by 2 desc", [play_id, latest])
    details = grouped(
        "select outcome || ':' || outcome_detail, count(*) from marts.fct_play_decisions "
        "where play_id = ? and run_date = ? and outcome_detail is not null group by 1 order by 2 desc",
        [play_id, latest])
    channels = grouped(
        "select channel, count(*) from activation.activation_queue where play_id = ? and run_date = ? "
        "group by channel order by channel", [play_id, latest])
    consent: dict[str, dict[str, int]] = {}
    for channel in _CHANNELS:
        counts = grouped(
            f"select coalesce({channel}_reason, 'no_record'), count(*) from marts.int_play_candidates "
            f"where play_id = ? and {channel}_reason is not null group by 1 order by 2 desc", [play_id])
        if counts:
            consent[channel] = counts
    holdout = grouped(
        "select outcome_detail, count(*) from marts.fct_play_decisions where play_id = ? and run_date = ? "
        "and outcome = 'holdout' group by 1", [play_id, latest])
    rows = warehouse.fetchall(
        "select message_id, channel, destination, address, recipient_timezone, not_before, not_after "
        "from activation.activation_queue where play_id = ? and run_date = ? order by message_id limit ?",
        [play_id, latest, int(sample)])
    return {
        "play_id": play_id,
        "run_date": str(latest),
        "candidates": sum(outcomes.values()),
        "outcomes": outcomes,
        "outcome_details": details,
        "channels": channels,
        "consent": consent,
        "holdout": {("global" if k == "global" else "play"): v for k, v in holdout.items()},
        "sample": [
            {"message_id": m, "channel": c, "destination": d, "address": mask_address(c, a),
             "recipient_timezone": tz, "not_before": str(nb), "not_after": str(na)}
            for m, c, d, a, tz, nb, na in rows
        ],
    }


@app.command("preview")
def preview(
    name: Annotated[str, typer.Argument(help="Audience (aud_<name> or <name>) or play id.")],
    project_dir: ProjectDir = None,
    target: Target = None,
    sample: Annotated[int, typer.Option("--sample", min=0, max=100, help="Queue rows to show (addresses masked).")] = 5,
    output_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Audience size; breakdown by channel, consent, holdout and decision outcome; a masked sample."""
    from omniplay.settings import Settings
    from omniplay.warehouse import connect

    settings = Settings.from_env(project_dir, target)
    loaded = _resolve(settings.project_dir, name)
    with connect(settings, read_only=True) as warehouse:
        data = preview_data(warehouse, loaded.id, sample)
    data["audience"] = loaded.model
    if output_json:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{loaded.model}[/] -> play [bold]{loaded.id}[/], run {data['run_date']}: "
                  f"{data['candidates']} candidate(s), {sum(data['channels'].values())} message(s) queued")
    for title, values in (("decision outcome", data["outcomes"]), ("why (detail)", data.get("outcome_details", {})),
                          ("queued by channel", data["channels"]), ("holdout", data["holdout"])):
        table = Table(title=title)
        table.add_column("value")
        table.add_column("profiles", justify="right")
        for key, count in values.items():
            table.add_row(key, str(count))
        console.print(table)
    consent = Table(title="consent among candidates")
    consent.add_column("channel")
    consent.add_column("reasons")
    for channel, counts in data["consent"].items():
        consent.add_row(channel, ", ".join(f"{k}: {v}" for k, v in counts.items()))
    console.print(consent)
    sample_table = Table(title="sample (addresses masked)")
    for column in ("message_id", "channel", "destination", "address", "recipient_timezone", "not_before", "not_after"):
        sample_table.add_column(column)
    for row in data["sample"]:
        sample_table.add_row(*(str(row[c]) for c in ("message_id", "channel", "destination", "address",
                                                      "recipient_timezone", "not_before", "not_after")))
    console.print(sample_table)
