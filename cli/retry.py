"""`omniplay retry`: send again the messages the ledger recorded as `failed`, and only those."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.options import ProjectDir, Target
from omniplay.settings import Settings

# Scratch copy of the queue rows to replay, in the state schema; only exists during a retry.
RETRY_QUEUE_TABLE = "retry_queue"


def retry(
    project_dir: ProjectDir = None,
    target: Target = None,
    play: Annotated[
        list[str] | None, typer.Option("--play", "-p", help="Only the failed messages of these plays (repeatable).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", envvar="OMNIPLAY_DESTINATIONS_FILE",
                     help="Destinations file; default: activation/destinations.yml.", dir_okay=False),
    ] = None,
) -> None:
    """Replay messages whose last attempt failed (e.g. after fixing a destination); exit 4 if some fail again.

    Messages already sent, rejected, expired or ambiguous are never touched. A failed
    message whose window has closed since becomes `expired`. Holds the target's lock
    like `run` and `sync`. Note: the retry is recorded in the runs table, which counts
    as the play's last sync for its schedule.
    """
    from activation.config import load_config
    from activation.engine import SyncEngine, SyncOptions
    from activation.reader import QueueSource
    from cli.sync import print_summary
    from omniplay.clock import pipeline_now
    from omniplay.errors import DeliveryFailed
    from omniplay.lock import target_lock
    from omniplay.warehouse import connect, quote_ident

    settings = Settings.from_env(project_dir, target)
    cfg = load_config(settings.project_dir, config)
    source = QueueSource()
    now = pipeline_now(settings)
    with target_lock(settings, command="omniplay retry"), connect(settings) as warehouse:
        if not (warehouse.relation_exists(source.state_schema, "sends")
                and warehouse.relation_exists(source.queue_schema, source.queue_table)):
            typer.echo("no failed messages: nothing has been synced yet")
            return
        play_filter, params = "", []
        if play:
            play_filter = f" and play_id in ({', '.join('?' * len(play))})"
            params = list(play)
        failed = f"select message_id from {source.sends} where status = 'failed'{play_filter}"
        count = int(warehouse.fetchall(
            f"select count(distinct q.message_id) from {source.queue} q where q.message_id in ({failed})", params
        )[0][0])
        if not count:
            typer.echo("no failed messages to retry" + (f" in {', '.join(play)}" if play else ""))
            return
        typer.echo(f"retrying {count} failed message(s)")
        # The engine reads the scratch table as its queue, so it sees only these messages.
        # Rows an interrupted sync left `pending` come along so that reconciliation
        # (which every sync runs first) finds their queue rows as it would in a full sync.
        scratch = f"{quote_ident(source.state_schema)}.{quote_ident(RETRY_QUEUE_TABLE)}"
        warehouse.execute(f"drop table if exists {scratch}")
        warehouse.execute(
            f"create table {scratch} as select * from {source.queue} where message_id in ({failed}) "
            f"or message_id in (select message_id from {source.sends} where status = 'pending')",
            params,
        )
        try:
            retry_source = QueueSource(source.state_schema, RETRY_QUEUE_TABLE, source.state_schema)
            summary = SyncEngine(warehouse, cfg, SyncOptions(), source=retry_source, clock=lambda: now).run()
        finally:
            warehouse.execute(f"drop table if exists {scratch}")
    print_summary(summary)
    failed_again = summary.total("failed")
    if failed_again:
        raise DeliveryFailed(f"{failed_again} message(s) failed again")
