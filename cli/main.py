"""Root Typer app. Domain errors become exit codes only here (DESIGN.md exit codes)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import audience as audience_cmd
from cli import build as build_cmd
from cli import demo as demo_cmd
from cli import docs as docs_cmd
from cli import doctor as doctor_cmd
from cli import gate as gate_cmd
from cli import generate as generate_cmd
from cli import lift as lift_cmd
from cli import plays as plays_cmd
from cli import report as report_cmd
from cli import retry as retry_cmd
from cli import run as run_cmd
from cli import status as status_cmd
from cli import sync as sync_cmd
from cli.app import OmniplayTyper
from omniplay.logs import configure_logging


app = OmniplayTyper(
    name="omniplay",
    help="Warehouse-native customer orchestration: identify, orchestrate, decide, activate, measure.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root(
    log_format: Annotated[
        str | None,
        typer.Option("--log-format", envvar="OMNIPLAY_LOG_FORMAT",
                     help="Log output: text (default, readable) or json (one object per line, for schedulers)."),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option("--log-level", envvar="OMNIPLAY_LOG_LEVEL", help="Log level: DEBUG, INFO (default), WARNING, ERROR."),
    ] = None,
) -> None:
    """Warehouse-native customer orchestration: identify, orchestrate, decide, activate, measure."""
    if log_format not in (None, "text", "json"):
        raise typer.BadParameter("must be 'text' or 'json'", param_hint="--log-format")
    configure_logging(format=log_format, level=log_level)


app.command("generate")(generate_cmd.generate)
app.command("build")(build_cmd.build)
app.command("demo")(demo_cmd.demo)
app.command("gate")(gate_cmd.gate)
app.command("sync")(sync_cmd.sync)
app.command("lift")(lift_cmd.lift)
app.command("run")(run_cmd.run)
app.command("retry")(retry_cmd.retry)
app.command("report")(report_cmd.report)
app.command("status")(status_cmd.status)
app.command("doctor")(doctor_cmd.doctor)
app.command("docs")(docs_cmd.docs)
app.add_typer(plays_cmd.app, name="plays")
app.add_typer(audience_cmd.app, name="audience")


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
