"""omniplay.loader: source checks, Arrow -> PostgreSQL types, streamed COPY, atomic replace."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omniplay.errors import BuildError, ConfigError
from omniplay.loader import SOURCE_TABLES, find_source_files, load_sources, postgres_type
from omniplay.settings import Settings
from tests.support.dbt import PROJECT_DIR, parquet_rows
from tests.support.env import patched_environ
from tests.support.postgres import PostgresServer, free_port

UTC = dt.timezone.utc
_databases = itertools.count()


def _settings(data_dir: Path, target: str = "postgres") -> Settings:
    return Settings(project_dir=PROJECT_DIR, data_dir=data_dir, duckdb_path=data_dir / "unused.duckdb",
                    target=target)


def _write_contract_sources(data_dir: Path) -> None:
    """A one-row table for every source the contract expects."""
    for source, entities in SOURCE_TABLES.items():
        (data_dir / source).mkdir(parents=True, exist_ok=True)
        for entity in entities:
            table = pa.table({"id": [f"{source}-{entity}-1"],
                              "_loaded_at": pa.array([dt.datetime(2026, 1, 1, tzinfo=UTC)], pa.timestamp("us", "UTC"))})
            pq.write_table(table, data_dir / source / f"{entity}.parquet")


def _write_version(data_dir: Path, version: str, customers: int) -> None:
    """crm.customers with `customers` rows tagged with a version label."""
    pq.write_table(pa.table({"crm_id": [f"C{i:07d}" for i in range(customers)], "version": [version] * customers}),
                   data_dir / "crm" / "customers.parquet")


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    _write_contract_sources(data_dir)
    return data_dir


@pytest.fixture
def loader_db(postgres_server: PostgresServer):
    """A fresh database, with the loader's environment pointing at it."""
    database = postgres_server.create_database(f"loader_{next(_databases)}")
    with patched_environ(postgres_server.env(database)):
        yield database


def _rows(server: PostgresServer, database: str, query: str, params=None) -> list[tuple]:
    conn = server.connect(database)
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("arrow_type", "expected"),
    [
        (pa.bool_(), "boolean"),
        (pa.int16(), "smallint"),
        (pa.int32(), "integer"),
        (pa.int64(), "bigint"),
        (pa.uint32(), "bigint"),
        (pa.uint64(), "numeric(20, 0)"),
        (pa.float32(), "real"),
        (pa.float64(), "double precision"),
        (pa.decimal128(12, 2), "numeric(12, 2)"),
        (pa.string(), "text"),
        (pa.large_string(), "text"),
        (pa.dictionary(pa.int32(), pa.string()), "text"),
        (pa.binary(), "bytea"),
        (pa.date32(), "date"),
        (pa.timestamp("us", tz="UTC"), "timestamp with time zone"),
        (pa.timestamp("ns", tz="Europe/Paris"), "timestamp with time zone"),
        (pa.timestamp("us"), "timestamp without time zone"),
        (pa.time64("us"), "time without time zone"),
        (pa.duration("s"), "interval"),
        (pa.list_(pa.int64()), "jsonb"),
        (pa.struct([("a", pa.int64())]), "jsonb"),
    ],
)
def test_postgres_type_mapping(arrow_type: pa.DataType, expected: str) -> None:
    assert postgres_type(arrow_type) == expected


def test_missing_source_names_it_and_the_fix(sources: Path) -> None:
    (sources / "pos" / "transactions.parquet").unlink()
    with pytest.raises(BuildError) as excinfo:
        load_sources(_settings(sources))  # fails before any connection is attempted
    message = str(excinfo.value)
    assert "pos.transactions" in message
    assert str(sources / "pos" / "transactions.parquet") in message
    assert "omniplay generate" in message and "OMNIPLAY_DATA_DIR" in message
    assert "crm.customers" not in message


def test_missing_data_dir_names_the_sources_on_duckdb_too(tmp_path: Path) -> None:
    with pytest.raises(BuildError) as excinfo:
        load_sources(_settings(tmp_path / "nowhere", target="duckdb"))
    message = str(excinfo.value)
    assert str(tmp_path / "nowhere") in message and "does not exist" in message
    assert all(source in message for source in SOURCE_TABLES)
    assert "OMNIPLAY_DATA_DIR" in message


def test_duckdb_only_checks_the_files(sources: Path) -> None:
    assert load_sources(_settings(sources, target="duckdb")) == []


def test_unsupported_target_is_a_config_error(sources: Path) -> None:
    with pytest.raises(ConfigError, match="'bigquery' is not supported"):
        load_sources(_settings(sources, target="bigquery"))


def test_file_and_folder_for_one_table_is_ambiguous(sources: Path) -> None:
    (sources / "crm" / "customers").mkdir()
    pq.write_table(pa.table({"id": ["x"]}), sources / "crm" / "customers" / "part-0.parquet")
    with pytest.raises(BuildError, match="crm.customers"):
        find_source_files(sources)


def test_unusable_names_are_refused(sources: Path) -> None:
    pq.write_table(pa.table({"id": ["x"]}), sources / "crm" / "Bad-Name.parquet")
    with pytest.raises(BuildError, match="Bad-Name"):
        load_sources(_settings(sources))
    (sources / "crm" / "Bad-Name.parquet").unlink()
    with pytest.raises(ConfigError, match="prefix"):
        load_sources(_settings(sources), prefix="Raw; drop table x")


def test_connection_failure_names_the_settings_not_the_password(sources: Path) -> None:
    secret = "not-the-real-password-7f3a"
    env = {"OMNIPLAY_PG_HOST": "127.0.0.1", "OMNIPLAY_PG_PORT": str(free_port()),
           "OMNIPLAY_PG_USER": "omniplay", "OMNIPLAY_PG_DATABASE": "omniplay",
           "DBT_ENV_SECRET_OMNIPLAY_PG_PASSWORD": secret}
    with patched_environ(env), pytest.raises(BuildError) as excinfo:
        load_sources(_settings(sources))
    message = str(excinfo.value)
    assert "cannot connect to PostgreSQL" in message and "OMNIPLAY_PG_HOST" in message
    assert secret not in message and secret not in repr(excinfo.value.__cause__)


def test_types_and_values_round_trip(sources: Path, postgres_server: PostgresServer, loader_db: str) -> None:
    paris = dt.timezone(dt.timedelta(hours=2))
    columns = {
        "crm_id": pa.array(["C0000001", "", None, 'quote " comma , newline \n end', "Zoë Łukasz Ōtsuka"]),
        "points": pa.array([1, -2, None, 2**40, 0], pa.int64()),
        "small": pa.array([1, 2, 3, None, 5], pa.int16()),
        "price": pa.array([1.5, -0.25, None, 1e300, 0.1]),
        "amount": pa.array([decimal.Decimal("10.25"), None, decimal.Decimal("-3.10"), decimal.Decimal("0.00"),
                            decimal.Decimal("99999.99")], pa.decimal128(7, 2)),
        "is_active": pa.array([True, False, None, True, False]),
        "birth_date": pa.array([dt.date(1990, 2, 28), None, dt.date(2000, 1, 1), dt.date(1970, 1, 1),
                                dt.date(2024, 2, 29)]),
        "updated_at": pa.array([dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC), None,
                                dt.datetime(2026, 10, 25, 1, 30, 0, 123456, tzinfo=UTC),
                                dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
                                dt.datetime(2026, 1, 1, tzinfo=UTC)], pa.timestamp("us", "UTC")),
        # Arrow writes a non-UTC zone with its offset; PostgreSQL must keep the instant.
        "seen_at": pa.array([dt.datetime(2026, 7, 1, 12, 0, tzinfo=paris)] * 4 + [None],
                            pa.timestamp("ns", "Europe/Paris")),
        "occurred_at_local": pa.array([dt.datetime(2026, 3, 29, 2, 30), dt.datetime(2026, 1, 1, 9, 15, 30, 5),
                                       None, dt.datetime(2026, 12, 31, 23, 59, 59), dt.datetime(2026, 6, 1)],
                                      pa.timestamp("us")),
        "tier": pa.array(["gold", "gold", None, "silver", "bronze"]).dictionary_encode(),
        "tags": pa.array([["a", "b"], [], None, ["ü"], ["x"]], pa.list_(pa.string())),
    }
    table = pa.table(columns)
    pq.write_table(table, sources / "crm" / "customers.parquet")

    loaded = {(t.schema, t.table): t.rows for t in load_sources(_settings(sources))}
    assert loaded[("raw_crm", "customers")] == 5
    assert set(loaded) == {(f"raw_{s}", e) for s, entities in SOURCE_TABLES.items() for e in entities}

    types = dict(_rows(postgres_server, loader_db, """
        select column_name, format_type(a.atttypid, a.atttypmod)
        from information_schema.columns c
        join pg_attribute a on a.attrelid = 'raw_crm.customers'::regclass and a.attname = c.column_name
        where table_schema = 'raw_crm' and table_name = 'customers'"""))
    assert types == {
        "crm_id": "text", "points": "bigint", "small": "smallint", "price": "double precision",
        "amount": "numeric(7,2)", "is_active": "boolean", "birth_date": "date",
        "updated_at": "timestamp with time zone", "seen_at": "timestamp with time zone",
        "occurred_at_local": "timestamp without time zone", "tier": "text", "tags": "jsonb",
    }

    names = list(columns)
    got = _rows(postgres_server, loader_db,
                f"select {', '.join(names)} from raw_crm.customers order by small nulls last")
    expected = sorted(zip(*(table.column(n).to_pylist() for n in names)),
                      key=lambda row: (row[2] is None, row[2]))
    assert len(got) == len(expected)
    for got_row, want_row in zip(got, expected):
        assert dict(zip(names, got_row)) == dict(zip(names, want_row))


def test_folder_of_parts_streams_in_small_batches(sources: Path, postgres_server: PostgresServer,
                                                   loader_db: str) -> None:
    (sources / "web" / "events.parquet").unlink()
    parts = sources / "web" / "events"
    parts.mkdir()
    for part in range(3):
        ids = [f"e{part}-{i}" for i in range(40 + part)]
        pq.write_table(pa.table({"event_id": ids, "n": list(range(len(ids)))}), parts / f"part-{part}.parquet")

    loaded = {t.table: t.rows for t in load_sources(_settings(sources), batch_rows=7) if t.schema == "raw_web"}
    assert loaded["events"] == 40 + 41 + 42 == parquet_rows(parts)
    assert _rows(postgres_server, loader_db, "select count(*), count(distinct event_id) from raw_web.events") == [
        (123, 123)]


def test_parts_take_the_first_parts_types(sources: Path, postgres_server: PostgresServer, loader_db: str) -> None:
    (sources / "web" / "events.parquet").unlink()
    parts = sources / "web" / "events"
    parts.mkdir()
    pq.write_table(pa.table({"event_id": ["a"], "n": pa.array([1], pa.int64())}), parts / "part-0.parquet")
    pq.write_table(pa.table({"event_id": ["b"], "n": pa.array([2], pa.int32())}), parts / "part-1.parquet")
    load_sources(_settings(sources))
    assert _rows(postgres_server, loader_db, "select event_id, n, pg_typeof(n)::text from raw_web.events order by 1") == [
        ("a", 1, "bigint"), ("b", 2, "bigint")]

    pq.write_table(pa.table({"event_id": ["c"], "other": ["x"]}), parts / "part-2.parquet")
    with pytest.raises(BuildError, match="part-2.parquet"):
        load_sources(_settings(sources))


def test_failed_reload_changes_nothing_and_a_good_one_replaces_everything(
        sources: Path, postgres_server: PostgresServer, loader_db: str, caplog: pytest.LogCaptureFixture) -> None:
    _write_version(sources, "v1", customers=3)
    load_sources(_settings(sources))
    conn = postgres_server.connect(loader_db)
    with conn, conn.cursor() as cur:
        cur.execute("create view public.customer_versions as select version from raw_crm.customers")
    conn.close()

    # v2: crm.customers is copied first (sources load in name order), then web.events breaks
    # mid-load on a NUL byte, which PostgreSQL text cannot hold.
    _write_version(sources, "v2", customers=5)
    pq.write_table(pa.table({"event_id": ["ok", "bad\x00byte"]}), sources / "web" / "events.parquet")
    with pytest.raises(BuildError) as excinfo:
        load_sources(_settings(sources))
    assert "web.events" in str(excinfo.value) and "nothing was changed" in str(excinfo.value)

    assert _rows(postgres_server, loader_db, "select version, count(*) from raw_crm.customers group by 1") == [
        ("v1", 3)]
    assert _rows(postgres_server, loader_db, "select count(*) from public.customer_versions") == [(3,)]
    assert _rows(postgres_server, loader_db,
                 "select count(*) from pg_tables where tablename like '%omniplay_new%'") == [(0,)]

    pq.write_table(pa.table({"event_id": ["ok", "fine"]}), sources / "web" / "events.parquet")
    with caplog.at_level(logging.INFO, logger="omniplay.loader"):
        load_sources(_settings(sources))
    assert _rows(postgres_server, loader_db, "select version, count(*) from raw_crm.customers group by 1") == [
        ("v2", 5)]
    assert _rows(postgres_server, loader_db, "select count(*) from raw_web.events") == [(2,)]
    # A view over a replaced raw table goes with it (dbt rebuilds staging); the log names it.
    assert _rows(postgres_server, loader_db, "select to_regclass('public.customer_versions')") == [(None,)]
    assert "public.customer_versions" in caplog.text


def test_prefix_override(sources: Path, postgres_server: PostgresServer, loader_db: str) -> None:
    loaded = load_sources(_settings(sources), prefix="landing")
    assert {t.schema for t in loaded} == {f"landing_{s}" for s in SOURCE_TABLES}
    assert _rows(postgres_server, loader_db, "select id from landing_pos.transaction_lines") == [
        ("pos-transaction_lines-1",)]


def test_generated_dataset_has_exactly_the_contract_sources(source_data: Path) -> None:
    found = find_source_files(source_data)
    assert set(found) == {(s, e) for s, entities in SOURCE_TABLES.items() for e in entities}
    empty = [f.name for f in found.values() if parquet_rows(f.path) == 0]
    assert not empty, f"generated sources without rows: {empty}"


_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
_instant = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1),
                        timezones=st.just(UTC))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.one_of(st.none(), _text), st.one_of(st.none(), st.floats(allow_nan=False)),
                               st.one_of(st.none(), st.integers(-2**63, 2**63 - 1)),
                               st.one_of(st.none(), _instant)), max_size=30))
def test_any_values_survive_the_copy(rows, sources: Path, postgres_server: PostgresServer, loader_db: str) -> None:
    """Quotes, commas, newlines, backslashes, `\\.`, empty vs null strings, extreme numbers."""
    names = ["txt", "num", "big", "at"]
    types = [pa.string(), pa.float64(), pa.int64(), pa.timestamp("us", "UTC")]
    columns = {n: pa.array([row[i] for row in rows], t) for i, (n, t) in enumerate(zip(names, types))}
    columns["row_no"] = pa.array(range(len(rows)), pa.int32())
    pq.write_table(pa.table(columns), sources / "crm" / "customers.parquet")
    load_sources(_settings(sources))
    got = _rows(postgres_server, loader_db, "select txt, num, big, at from raw_crm.customers order by row_no")
    assert got == [tuple(row) for row in rows]
