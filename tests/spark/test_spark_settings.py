"""The Spark session of Python code (omniplay.spark) is the one dbt-spark starts from profiles.yml."""

from __future__ import annotations

import os

import jinja2
import pytest
import yaml

from omniplay.spark import DEFAULTS, spark_conf
from tests.support.dbt import PROJECT_DIR
from tests.support.env import patched_environ


def profile_parameters() -> dict[str, str]:
    """server_side_parameters of the `spark` output, rendered like dbt renders env_var()."""
    profile = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text(encoding="utf-8"))
    parameters = profile["omniplay"]["outputs"]["spark"]["server_side_parameters"]

    def env_var(name: str, default: str | None = None) -> str:
        value = os.environ.get(name, default)
        assert value is not None, name
        return value

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {key: environment.from_string(str(value)).render(env_var=env_var) for key, value in parameters.items()}


@pytest.mark.parametrize("overrides", [{}, {
    "OMNIPLAY_SPARK_MASTER": "spark://cluster:7077", "OMNIPLAY_SPARK_DRIVER_MEMORY": "8g",
    "OMNIPLAY_SPARK_SHUFFLE_PARTITIONS": "64", "OMNIPLAY_SPARK_WAREHOUSE_DIR": "/data/warehouse",
    "OMNIPLAY_SPARK_METASTORE_DIR": "/data/metastore",
}])
def test_python_session_matches_the_dbt_profile(overrides: dict[str, str]) -> None:
    cleared = {env: None for env in DEFAULTS}
    with patched_environ({**cleared, **overrides}):
        # dbt-spark adds spark.sql.ansi.enabled=false to every profile; omniplay sets it itself.
        assert spark_conf() == {**profile_parameters(), "spark.sql.ansi.enabled": "false"}
