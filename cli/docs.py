"""`omniplay docs`: build the dbt docs site and print where its index.html is."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.options import DbtVars, ProjectDir, Target, parse_vars
from omniplay.settings import Settings


def docs(
    project_dir: ProjectDir = None,
    target: Target = None,
    vars: DbtVars = None,
    serve: Annotated[bool, typer.Option("--serve", help="Serve the site after generating it (until Ctrl-C).")] = False,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port for --serve.")] = 8080,
    host: Annotated[str, typer.Option("--host", help="Address for --serve.")] = "127.0.0.1",
) -> None:
    """Generate dbt docs (models, columns, lineage, plays as exposures) for the built warehouse."""
    from omniplay.docs import generate_docs, serve_docs

    settings = Settings.from_env(project_dir, target)
    index = generate_docs(settings, vars=parse_vars(vars))
    typer.echo(f"docs: {index}")
    if serve:
        typer.echo(f"serving http://{host}:{port}/ (Ctrl-C stops)")
        serve_docs(settings, port=port, host=host)
