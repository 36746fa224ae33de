"""Fixtures: a temporary DuckDB warehouse and project (destinations file + templates)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from activation.config import load_config
from omniplay.warehouse import DuckDBWarehouse

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def warehouse(tmp_path):
    wh = DuckDBWarehouse.open(str(tmp_path / "wh.duckdb"))
    yield wh
    wh.close()


@pytest.fixture
def project(tmp_path) -> Path:
    """A project dir with the shipped templates and a destinations file writing under it."""
    root = tmp_path / "project"
    (root / "activation").mkdir(parents=True)
    shutil.copytree(REPO / "activation" / "templates", root / "activation" / "templates")
    write_destinations(root, """
        email: {type: outbox, settings: {dir: out}}
        sms: {type: outbox, settings: {dir: out}}
    """)
    return root


def write_destinations(root: Path, body: str, templates_dir: str = "activation/templates") -> Path:
    path = root / "activation" / "destinations.yml"
    text = f"templates_dir: {templates_dir}\ndestinations:\n" + textwrap.indent(textwrap.dedent(body).strip(), "  ")
    path.write_text(text + "\n")
    return path


def write_template(root: Path, name: str, body: str) -> None:
    (root / "activation" / "templates" / f"{name}.yml").write_text(textwrap.dedent(body))


@pytest.fixture
def config_for(project):
    def load(body: str | None = None):
        if body is not None:
            write_destinations(project, body)
        return load_config(project)

    return load


@pytest.fixture(autouse=True)
def _restore_logging():
    """CLI invocations attach log handlers to CliRunner's streams; drop them afterwards so
    loopback servers still running in threads do not log into closed files."""
    import logging

    loggers = [logging.getLogger()] + [logging.getLogger(n) for n in ("omniplay", "mail.log")]
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate) for lg in loggers]
    yield
    for lg, handlers, level, propagate in saved:
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
