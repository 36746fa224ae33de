"""The report as rich tables in the terminal: alerts first, then what is missing, then numbers."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from omniplay.report.model import Report, Table


def print_report(report: Report, console: Console | None = None) -> None:
    console = console or Console()
    console.rule(f"[bold]omniplay report[/bold] · {report.target} · {escape(report.location)}")
    for section in report.sections:
        console.rule(f"[bold]{escape(section.title)}[/bold]", align="left")
        for alert in section.alerts:
            console.print(f"[bold white on red] ! {escape(alert)} [/]")
        for missing in section.missing:
            console.print(f"[yellow]missing:[/yellow] {escape(missing)}")
        for note in section.notes:
            console.print(f"[dim]{escape(note)}[/dim]")
        for table in section.tables:
            console.print(_rich(table))


def _rich(table: Table) -> RichTable:
    out = RichTable(title=escape(table.title), title_justify="left")
    numeric = table.numeric_columns()
    first = max((len(row[0]) for row in table.rows), default=0)
    for index, column in enumerate(table.columns):
        if index == 0:  # play ids and the like stay whole; other columns wrap first
            out.add_column(escape(column), no_wrap=True, min_width=min(first, 32))
        else:
            out.add_column(escape(column), justify="right" if index in numeric else "left")
    for index, row in enumerate(table.rows):
        out.add_row(*(escape(cell) for cell in row), style="bold red" if index in table.alert_rows else None)
    return out
