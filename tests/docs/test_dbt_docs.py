"""`omniplay docs` builds the dbt docs site, and the site leaves nothing undescribed.

Runs the real `dbt docs generate` on the suite's DuckDB build: the catalog lists the
columns the warehouse really has, so a column a model adds without describing it in the
model's YAML fails here, as does a model without a description or a described column the
model no longer has. Plays appear as exposures, one per play, audience -> queue.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cli.main import app
from omniplay.plays import load_plays
from tests.docs.coverage import catalog_columns, documented_nodes, undocumented
from tests.support.dbt import PROJECT_DIR, BuildRun

pytestmark = pytest.mark.dbt


@pytest.fixture(scope="module")
def docs_site(duckdb_build: BuildRun) -> tuple[Path, BuildRun]:
    project = duckdb_build.project
    with project.environ():
        result = CliRunner().invoke(app, ["docs"])
    assert result.exit_code == 0, result.output
    index = Path(result.output.strip().splitlines()[-1].removeprefix("docs: "))
    return index, duckdb_build


def test_docs_command_writes_the_site(docs_site: tuple[Path, BuildRun]) -> None:
    index, build = docs_site
    assert index == build.project.target_path / "index.html"
    assert index.stat().st_size > 100_000  # dbt's single-page app
    assert (index.parent / "catalog.json").is_file()


def test_every_model_source_and_column_is_described(docs_site: tuple[Path, BuildRun]) -> None:
    index, build = docs_site
    manifest = build.project.artifact("manifest.json")
    catalog = build.project.artifact("catalog.json")
    columns = catalog_columns(catalog)
    nodes = documented_nodes(manifest)
    built = [uid for uid in nodes if uid.startswith("model.")]
    assert len(built) > 60 and all(uid in columns for uid in built), sorted(set(built) - set(columns))
    problems = undocumented(manifest, columns)
    assert not problems, "describe these in the model's YAML:\n  " + "\n  ".join(problems)


def test_every_play_is_an_exposure_from_audience_to_queue(docs_site: tuple[Path, BuildRun]) -> None:
    index, build = docs_site
    exposures = build.project.artifact("manifest.json")["exposures"]
    plays = load_plays(Path(build.project.env["OMNIPLAY_PROJECT_DIR"]))
    assert plays
    for loaded in plays:
        exposure = exposures.get(f"exposure.omniplay.play_{loaded.id}")
        assert exposure is not None, f"play {loaded.id} has no exposure: run `omniplay plays sync`"
        assert exposure["description"].strip() and exposure["owner"]["name"] == loaded.play.owner
        assert set(exposure["depends_on"]["nodes"]) == {f"model.omniplay.{loaded.model}",
                                                        "model.omniplay.activation_queue"}
    assert len(exposures) == len(plays)


def test_docs_are_served_over_http(docs_site: tuple[Path, BuildRun]) -> None:
    """`omniplay docs --serve` serves the generated site (here the server alone, on a free port)."""
    index, build = docs_site
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **build.project.env, "PYTHONPATH": str(PROJECT_DIR)}
    server = subprocess.Popen(
        [sys.executable, "-c", f"from omniplay.docs import serve_docs; from omniplay.settings import Settings; "
                               f"serve_docs(Settings.from_env(), port={port})"],
        env=env, cwd=build.project.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/index.html", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "dbt docs serve did not answer within 60 s"
                time.sleep(0.5)
        assert response.status_code == 200 and response.content == index.read_bytes()
        catalog = httpx.get(f"http://127.0.0.1:{port}/catalog.json", timeout=5)
        assert catalog.status_code == 200 and "nodes" in catalog.json()
    finally:
        server.terminate()
        server.wait(timeout=30)
