"""One Spark build for the whole session: the suite's dataset, built in-process on Spark.

dbt-spark (`method: session`) and omniplay's Python code share one SparkSession per
process, and a SparkSession keeps the settings it started with, so every Spark test uses
this one build (its warehouse and Derby metastore live in a temporary folder). Settings
for a small local test: 2 cores, 2 shuffle partitions, 1 GB of driver memory, no UI.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from omniplay.spark import (DRIVER_MEMORY_ENV, MASTER_ENV, METASTORE_DIR_ENV, SHUFFLE_PARTITIONS_ENV,
                            WAREHOUSE_DIR_ENV)
from tests.support.dbt import BuildRun, DbtProject

REQUIRE_SPARK_ENV = "OMNIPLAY_REQUIRE_SPARK"  # 1: no Spark (pyspark or Java missing) fails instead of skipping


def _spark_unavailable() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[spark]')"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "no Java runtime (java on PATH or JAVA_HOME); Spark needs Java 17+"
    return None


@pytest.fixture(scope="session")
def spark_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Where the session's Spark keeps its tables and catalog, and its small-test settings."""
    reason = _spark_unavailable()
    if reason:
        if os.environ.get(REQUIRE_SPARK_ENV, "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"Spark unavailable: {reason}", pytrace=False)
        pytest.skip(f"Spark unavailable: {reason}")
    root = tmp_path_factory.mktemp("spark")
    return {
        MASTER_ENV: "local[2]",
        SHUFFLE_PARTITIONS_ENV: "2",
        DRIVER_MEMORY_ENV: "1g",
        WAREHOUSE_DIR_ENV: str(root / "warehouse"),
        METASTORE_DIR_ENV: str(root / "metastore"),
        "SPARK_LOCAL_IP": "127.0.0.1",
    }


@pytest.fixture(scope="session")
def spark_build(source_data: Path, spark_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> BuildRun:
    """The whole project built once on Spark (sources registered over the Parquet files)."""
    project = DbtProject.isolated(tmp_path_factory.mktemp("dbt-spark"), target="spark",
                                  data_dir=source_data, extra_env=spark_env)
    return project.build()
