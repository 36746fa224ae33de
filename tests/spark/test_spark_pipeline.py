"""The whole pipeline on Spark: build with every data and unit test, agree with DuckDB,
gate the Spark queue with Great Expectations' Spark datasource (a planted fault blocks its
play as on DuckDB), sync the rest through the append-only ledger, and a re-run sends nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from activation.ledger import Ledger, PendingRow, Resolution, ddl
from omniplay.loader import find_source_files
from omniplay.settings import Settings
from omniplay.warehouse import DuckDBWarehouse, connect
from tests.support.build_checks import assert_build_passed, assert_seeds_loaded, assert_staging_row_counts
from tests.support.dbt import BuildRun, parquet_rows
from tests.support.pipeline_checks import check_pipeline_gates_then_syncs

pytestmark = [pytest.mark.spark, pytest.mark.dbt]


def rows(build: BuildRun, sql: str) -> list[tuple]:
    return sorted(build.project.query(sql), key=repr)


def test_build_passes_with_every_test(spark_build: BuildRun) -> None:
    assert_build_passed(spark_build)
    statuses = spark_build.statuses()
    ran = {uid.split(".")[0] for uid in statuses}
    assert {"model", "seed", "test", "unit_test"} <= ran, ran


def test_sources_are_read_in_place_with_every_row(spark_build: BuildRun, source_data: Path) -> None:
    for (source, entity), source_file in find_source_files(source_data).items():
        count = spark_build.project.scalar(f"select count(*) from raw_{source}.{entity}")
        assert count == parquet_rows(source_file.path), f"raw_{source}.{entity}"


def test_staging_and_seeds(spark_build: BuildRun, source_data: Path) -> None:
    assert_staging_row_counts(spark_build, source_data)
    assert_seeds_loaded(spark_build)


@pytest.mark.parametrize("relation, columns", [
    ("intermediate.int_identity_components", "node, component"),
    ("marts.dim_identity_map", "identifier_type, identifier_value, profile_id"),
    ("marts.dim_holdout_assignments", "profile_id, scope, arm, bucket, status"),
    ("marts.fct_play_decisions", "run_date, profile_id, play_id, outcome, channel"),
    ("activation.activation_queue",
     "message_id, play_id, play_version, profile_id, channel, destination, address, not_before, not_after"),
    # channel_path is an ordered listagg (spark__listagg keeps the order dbt-spark's drops)
    ("marts.fct_customer_journeys",
     "profile_id, first_touch_channel, conversion_channel, channel_hops, channel_path"),
])
def test_key_models_agree_with_duckdb(spark_build: BuildRun, duckdb_build: BuildRun, relation: str,
                                      columns: str) -> None:
    on_spark = rows(spark_build, f"select {columns} from {relation}")
    on_duckdb = rows(duckdb_build, f"select {columns} from {relation}")
    assert on_spark, f"{relation} is empty on Spark"
    assert on_spark == on_duckdb


def test_queue_payloads_agree_with_duckdb(spark_build: BuildRun, duckdb_build: BuildRun) -> None:
    sql = "select message_id, cast(payload as {type}) from activation.activation_queue"
    on_spark = {m: json.loads(p) for m, p in spark_build.project.query(sql.format(type="string"))}
    on_duckdb = {m: json.loads(p) for m, p in duckdb_build.project.query(sql.format(type="varchar"))}
    assert on_spark == on_duckdb


def test_pipeline_gates_then_syncs_and_a_rerun_sends_nothing(spark_build: BuildRun, duckdb_build: BuildRun,
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`omniplay run` on the Spark build (the build step is the session's): the gate validates
    every play on Spark, blocks the one with a planted holdout leak exactly as DuckDB's gate
    does, the others sync through the append-only ledger, and a re-run sends nothing."""
    check_pipeline_gates_then_syncs(spark_build, duckdb_build, tmp_path, monkeypatch, "spark")


def _ledger_story(ledger: Ledger) -> None:
    """Every kind of ledger write, in the order a crash, a retry and a reconciliation make them."""
    t = [datetime(2026, 11, 22, 12, 0) + timedelta(minutes=i) for i in range(8)]

    def pending(mid: str) -> PendingRow:
        return PendingRow(mid, "winback", f"p_{mid}", "email", "email", "b1")

    ledger.ensure()
    ledger.start_play("run1", "winback", t[0])
    ledger.mark_pending([pending(m) for m in "ABCD"], "run1", t[1])
    ledger.resolve([Resolution("A", "sent", 1, "prov-A"), Resolution("B", "failed", 2, None, "E500", "boom"),
                    Resolution("C", "rejected", 1, None, "21211", "invalid number")], "run1", t[2])
    ledger.mark_ambiguous(["D"], "crashed while sending", t[3])
    ledger.finish_play("run1", "winback", {"planned": 4, "sent": 1, "failed": 1, "rejected": 1}, "partial", t[3])
    ledger.start_play("run2", "winback", t[4])
    ledger.mark_pending([pending("B")], "run2", t[4])
    ledger.resolve([Resolution("B", "sent", 1, "prov-B"), Resolution("E", "expired", 0, None, "window_closed")],
                   "run2", t[5], {"E": pending("E")})
    ledger.close_interrupted_runs(t[6])
    opt_out = {"message_id": "C", "identifier_type": "phone", "identifier_value": "+14155550100",
               "channel": "sms", "source": "twilio", "profile_id": "p_C"}
    ledger.record_opt_outs([opt_out], t[5])
    ledger.record_opt_outs([opt_out], t[7])  # reported again: the first report stands


def test_append_only_ledger_ends_like_the_duckdb_ledger(spark_build: BuildRun, tmp_path: Path) -> None:
    schema = "omniplay_state_ledger_check"
    with spark_build.project.environ():
        spark = connect(Settings.from_env())
        duck = DuckDBWarehouse.open(str(tmp_path / "ledger.duckdb"))
        try:
            results = []
            for warehouse in (spark, duck):
                ledger = Ledger(warehouse, schema)
                _ledger_story(ledger)
                results.append((
                    warehouse.fetchall(f"select * from {schema}.sends order by message_id"),
                    warehouse.fetchall(f"select * from {schema}.runs order by run_id"),
                    warehouse.fetchall(f"select * from {schema}.opt_outs"),
                    ledger.status_counts(),
                    ledger.pending(),
                ))
        finally:
            duck.close()
    assert results[0] == results[1]
    sends = {r[0]: r for r in results[0][0]}
    assert sends["B"][1:3] == ("sent", 3) and sends["D"][1] == "ambiguous"
    # Every write was an append: one row version per write, the view shows the latest.
    versions = spark.fetchall(f"select message_id, count(*) from {schema}.sends__log group by message_id")
    assert dict(versions) == {"A": 2, "B": 4, "C": 2, "D": 2, "E": 1}


def test_state_ddl_matches_the_on_run_start_tables(spark_build: BuildRun) -> None:
    """activation.ledger.ddl(schema, 'spark') and macros/spark/spark__state_tables_ddl.sql agree."""
    with spark_build.project.environ():
        spark = connect(Settings.from_env())
        for statement in ddl("omniplay_state_ddl_check", "spark"):
            spark.execute(statement)

        def columns(schema: str) -> list[tuple]:
            found = []
            for table in ("sends", "runs", "opt_outs", "play_resumes"):
                for suffix in ("", "__log"):
                    found += [(table + suffix, *row[:2]) for row in spark.fetchall(f"describe {schema}.{table}{suffix}")]
            return found

        assert columns("omniplay_state") == columns("omniplay_state_ddl_check")
