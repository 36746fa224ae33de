"""Root Typer app. Domain errors become exit codes only here (DESIGN.md exit codes)."""

from __future__ import annotations

import functools
from typing import Annotated

import typer

from cli import audience as audience_cmd
from cli import build as build_cmd
from cli import demo as demo_cmd
from cli import doctor as doctor_cmd
from cli import gate as gate_cmd
from cli import generate as generate_cmd
from cli import lift as lift_cmd
from cli import run as run_cmd
from cli import status as status_cmd
from cli import plays as plays_cmd
from cli import retry as retry_cmd
from cli import sync as sync_cmd
from omniplay.errors import OmniplayError
from omniplay.logs import configure_logging


def _exits_on_omniplay_errors(func):
    """Wrap a command so an OmniplayError prints one line and exits with its code.

    Done per command (not around the app) so Typer's CliRunner sees the same exit codes
    a scheduler does.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except OmniplayError as exc:
            typer.secho(f"omniplay: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


class _OmniplayApp(typer.Typer):
    """A Typer app whose commands (and sub-apps' commands) exit with omniplay's codes."""

    def command(self, *args, **kwargs):
        register = super().command(*args, **kwargs)
        return lambda func: register(_exits_on_omniplay_errors(func))


app = _OmniplayApp(
    name="omniplay",
    help="Warehouse-native customer orchestration: identify, orchestrate, decide, activate, measure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # secrets must never reach a traceback
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
app.command("status")(status_cmd.status)
app.command("doctor")(doctor_cmd.doctor)
app.add_typer(plays_cmd.app, name="plays")
app.add_typer(audience_cmd.app, name="audience")


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
