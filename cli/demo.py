"""`omniplay demo`: the whole pipeline, end to end, on embedded DuckDB."""

from __future__ import annotations

from cli.options import ProjectDir


def demo(project_dir: ProjectDir = None) -> None:
    """Generate the demo dataset and run the nightly pipeline (build, gate, sync to sandbox outboxes) on DuckDB."""
    from omniplay.demo import run_demo

    run_demo(project_dir)
