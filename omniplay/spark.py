"""The Spark session omniplay's Python code shares with dbt-spark (`method: session`).

dbt-spark starts an in-process SparkSession from the `server_side_parameters` of the
`spark` output in profiles.yml; Python code (activation reader, ledger, gate) must see
the same catalog and tables, so it builds its session from the same environment
variables with the same defaults (tests check the two agree). In one process both get
the same session; another process opens the same Parquet warehouse folder and Derby
metastore (embedded Derby: one process at a time).
"""

from __future__ import annotations

import os
from pathlib import Path

from omniplay.errors import ConfigError

# Environment variable -> (Spark setting, default). Paths are resolved against the
# project directory, so dbt and Python code agree whatever the working directory.
MASTER_ENV = "OMNIPLAY_SPARK_MASTER"
DRIVER_MEMORY_ENV = "OMNIPLAY_SPARK_DRIVER_MEMORY"
SHUFFLE_PARTITIONS_ENV = "OMNIPLAY_SPARK_SHUFFLE_PARTITIONS"
WAREHOUSE_DIR_ENV = "OMNIPLAY_SPARK_WAREHOUSE_DIR"
METASTORE_DIR_ENV = "OMNIPLAY_SPARK_METASTORE_DIR"
SCHEMA_ENV = "OMNIPLAY_SPARK_SCHEMA"

DEFAULTS = {
    MASTER_ENV: "local[2]",
    DRIVER_MEMORY_ENV: "2g",
    SHUFFLE_PARTITIONS_ENV: "8",
    WAREHOUSE_DIR_ENV: "target/spark/warehouse",
    METASTORE_DIR_ENV: "target/spark/metastore",
}
PATH_VARIABLES = (WAREHOUSE_DIR_ENV, METASTORE_DIR_ENV)


def _value(env: str) -> str:
    return os.environ.get(env) or DEFAULTS[env]


def spark_conf() -> dict[str, str]:
    """The Spark settings of the `spark` output in profiles.yml, from the same variables.

    The metastore folder holds the Derby database (`metastore_db`) and its log. Fixed
    settings: UTC session time zone (timestamps are UTC everywhere); ANSI mode off, which
    dbt-spark forces on every statement (so not in profiles.yml); later map keys win
    (spark__json_merge); no web UI.
    """
    return {
        "spark.master": _value(MASTER_ENV),
        "spark.driver.memory": _value(DRIVER_MEMORY_ENV),
        "spark.sql.shuffle.partitions": _value(SHUFFLE_PARTITIONS_ENV),
        "spark.sql.warehouse.dir": _value(WAREHOUSE_DIR_ENV),
        "spark.hadoop.javax.jdo.option.ConnectionURL":
            f"jdbc:derby:;databaseName={_value(METASTORE_DIR_ENV)}/metastore_db;create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={_value(METASTORE_DIR_ENV)}",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "false",
        "spark.sql.mapKeyDedupPolicy": "LAST_WIN",
        "spark.ui.enabled": "false",
    }


def export_paths(project_dir: Path) -> None:
    """Publish absolute warehouse and metastore folders, so dbt (which resolves paths
    against the working directory) and Python code use the same ones."""
    for env in PATH_VARIABLES:
        path = Path(_value(env))
        if not path.is_absolute():
            path = (project_dir / path).resolve()
        os.environ[env] = str(path)


def spark_session(project_dir: Path):
    """The process's SparkSession, started with `spark_conf()` when there is none yet."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError("target spark needs pyspark: install omniplay with the `spark` extra "
                          "(pip install 'omniplay[spark]')") from None
    export_paths(project_dir)
    Path(os.environ[METASTORE_DIR_ENV]).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_conf().items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
