"""Root Typer app. Domain errors become exit codes only here (DESIGN.md exit codes)."""

from __future__ import annotations

import sys

import typer

from cli import build as build_cmd
from cli import demo as demo_cmd
from cli import generate as generate_cmd
from cli import sync as sync_cmd
from cli import lift as lift_cmd
from omniplay.errors import OmniplayError


class _OmniplayApp(typer.Typer):
    """A Typer app that turns omniplay errors into one-line messages and exit codes."""

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except OmniplayError as exc:
            typer.secho(f"omniplay: {exc}", err=True, fg=typer.colors.RED)
            sys.exit(exc.exit_code)


app = _OmniplayApp(
    name="omniplay",
    help="Warehouse-native customer orchestration: identify, orchestrate, decide, activate, measure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # secrets must never reach a traceback
)
app.command("generate")(generate_cmd.generate)
app.command("build")(build_cmd.build)
app.command("demo")(demo_cmd.demo)
app.command("sync")(sync_cmd.sync)
app.command("lift")(lift_cmd.lift)


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
