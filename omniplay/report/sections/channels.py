"""Channel mix (send ledger, else the activation queue) and decision outcomes per play."""

from __future__ import annotations

from omniplay.report import charts
from omniplay.report import format as fmt
from omniplay.report.model import Section, Table
from omniplay.report.source import ReportSource

QUEUE = "activation_queue"
SENDS = "sends"
LEDGER_STATUSES = ("sent", "pending", "failed", "rejected", "ambiguous", "expired")  # DESIGN.md send ledger
DECISIONS = "rpt_decision_summary"


def section(source: ReportSource) -> Section:
    out = Section(
        key="channels",
        title="Channel mix and decisions",
        intro=("Which channels the plays reach customers on, and for every candidate the one outcome decisioning "
               "gave it: selected or the reason it was not (consent, compliance, holdout, contact budget, "
               "priority, channel)."),
    )
    _mix(source, out)
    _decisions(source, out)
    return out


def _mix(source: ReportSource, out: Section) -> None:
    sent: list[dict] = []
    if source.readable(out.missing, source.state_schema, SENDS,
                       "nothing was synced yet: run `omniplay run` or `omniplay sync`",
                       ("play_id", "channel", "status")):
        ledger = source.select(
            {"channel": "channel", "status": "status", "messages": "count(*)"},
            f"from {source.relation(source.state_schema, SENDS)} group by channel, status order by channel, status")
        table = Table(title="Send ledger: messages per channel and status (all runs)",
                      columns=["channel", *LEDGER_STATUSES, "other", "total"])
        by_channel: dict[str, dict[str, int]] = {}
        for row in ledger:
            by_channel.setdefault(str(row["channel"]), {})[str(row["status"])] = row["messages"]
        for channel, statuses in sorted(by_channel.items()):
            other = sum(n for status, n in statuses.items() if status not in LEDGER_STATUSES)
            table.rows.append([channel, *(fmt.count(statuses.get(s, 0)) for s in LEDGER_STATUSES),
                               fmt.count(other), fmt.count(sum(statuses.values()))])
        if table.rows:
            out.tables.append(table)
        sent = source.select(
            {"play_id": "play_id", "channel": "channel", "messages": "count(*)"},
            f"from {source.relation(source.state_schema, SENDS)} where status = ? group by play_id, channel "
            f"order by play_id, channel", ("sent",))
    if sent:
        title, basis = "Channel mix: messages sent per play (send ledger, all runs)", "sent"
        rows = sent
    elif source.readable(out.missing, source.queue_schema, QUEUE, "run `omniplay build`", ("play_id", "channel")):
        rows = source.select(
            {"play_id": "play_id", "channel": "channel", "messages": "count(*)"},
            f"from {source.relation(source.queue_schema, QUEUE)} group by play_id, channel order by play_id, channel")
        title, basis = "Channel mix: messages decided per play (latest build's queue, nothing sent yet)", "queued"
        if rows:
            out.notes.append("Nothing has been sent yet, so the channel mix shows the queue of decided messages.")
    else:
        return
    if not rows:
        out.notes.append("No messages decided or sent yet: no channel mix to show.")
        return
    for row in rows:
        row["stack_order"] = charts.CHANNELS.index(row["channel"]) if row["channel"] in charts.CHANNELS else 99
    chart = charts.stacked_bars("channel_mix", title, rows, category="play_id", colour="channel",
                                domain=charts.CHANNELS, colours=charts.CHANNEL_COLOURS, value="messages",
                                value_title=f"messages {basis}")
    out.charts.append(chart)
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["channel"]] = totals.get(row["channel"], 0) + row["messages"]
    grand = sum(totals.values())
    table = Table(title=f"Channel mix (messages {basis})", columns=["channel", "messages", "share"])
    table.rows = [[channel, fmt.count(n), fmt.pct(n / grand)] for channel, n in sorted(totals.items())]
    out.tables.append(table)


def _decisions(source: ReportSource, out: Section) -> None:
    schema = source.marts_schema
    needs = ("run_date", "play_id", "outcome", "profiles")
    if not source.readable(out.missing, schema, DECISIONS, "run `omniplay build`", needs):
        return
    relation = source.relation(schema, DECISIONS)
    rows = source.select(
        {"run_date": "run_date", "play_id": "play_id", "outcome": "outcome", "candidates": "sum(profiles)"},
        f"from {relation} where run_date = (select max(run_date) from {relation}) "
        f"group by run_date, play_id, outcome order by play_id, outcome")
    if not rows:
        out.notes.append("No decisions yet: no play had candidates in the latest build.")
        return
    for row in rows:
        row["stack_order"] = charts.OUTCOMES.index(row["outcome"]) if row["outcome"] in charts.OUTCOMES else 99
    run_date = rows[0]["run_date"]
    chart = charts.stacked_bars(
        "decision_outcomes", f"Decision outcomes per play, run {run_date} (share of candidates)", rows,
        category="play_id", colour="outcome", domain=charts.OUTCOMES, colours=charts.OUTCOME_COLOURS,
        value="candidates", value_title="share of candidates", normalize=True)
    out.charts.append(chart)
    table = Table(title=f"Decision outcomes, run {run_date}", columns=["play", "outcome", "candidates", "share"])
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["play_id"]] = totals.get(row["play_id"], 0) + row["candidates"]
    for row in sorted(rows, key=lambda r: (r["play_id"], r["stack_order"], r["outcome"])):
        table.rows.append([str(row["play_id"]), str(row["outcome"]), fmt.count(row["candidates"]),
                           fmt.pct(row["candidates"] / totals[row["play_id"]])])
    out.tables.append(table)
