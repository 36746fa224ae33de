"""The Typer app class every omniplay command group uses.

Domain errors become exit codes only at the command boundary (DESIGN.md exit codes):
each command is wrapped so an OmniplayError prints one red line and exits with its
code. Done per command, not around the app, so Typer's CliRunner, sub-apps mounted
with add_typer and a scheduler all see the same exit codes.
"""

from __future__ import annotations

import functools

import typer

from omniplay.errors import OmniplayError


def exits_on_omniplay_errors(func):
    """Wrap a command so an OmniplayError prints one line and exits with its code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except OmniplayError as exc:
            typer.secho(f"omniplay: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


class OmniplayTyper(typer.Typer):
    """A Typer app whose commands exit with omniplay's codes; never shows locals."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("pretty_exceptions_show_locals", False)  # secrets must never reach a traceback
        super().__init__(*args, **kwargs)

    def command(self, *args, **kwargs):
        register = super().command(*args, **kwargs)
        return lambda func: register(exits_on_omniplay_errors(func))
