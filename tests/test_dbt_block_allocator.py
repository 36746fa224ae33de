"""omniplay's DuckDB block allocator size: follows the machine, never more than DuckDB can reserve."""

import duckdb
import pytest

from omniplay.dbt import block_allocator_default


@pytest.mark.parametrize(
    ("physical_gib", "expected"),
    [(2, "512MiB"), (8, "2048MiB"), (23, "5888MiB"), (24, "6144MiB"), (256, "6144MiB")],
)
def test_a_quarter_of_physical_memory_at_most_6_gib(physical_gib, expected):
    assert block_allocator_default(physical_gib * 1024**3) == expected


def test_duckdb_accepts_the_value():
    with duckdb.connect(config={"block_allocator_memory": block_allocator_default(8 * 1024**3)}) as con:
        assert con.execute("select current_setting('block_allocator_memory')").fetchone()[0] == "2.0 GiB"
