"""A small generated dataset shared by the generator tests, plus readers for it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest

from omniplay.generator import generate_dataset
from omniplay.generator.schema import TABLES, relative_path

SMALL = {"customers": 2000, "days": 120, "seed": 7}


def read(root: Path, source: str, entity: str) -> pd.DataFrame:
    """A source table (single file or folder of part files) as a DataFrame."""
    table = ds.dataset(root / relative_path(source, entity), format="parquet").to_table()
    return table.to_pandas(types_mapper=None).astype(object).where(lambda df: df.notna(), None)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated") / "data"
    generate_dataset(**SMALL, out=out)
    return out


@pytest.fixture(scope="session")
def tables(dataset: Path) -> dict[tuple[str, str], pd.DataFrame]:
    return {key: read(dataset, *key) for key in TABLES}


@pytest.fixture(scope="session")
def truth_identity(dataset: Path) -> pd.DataFrame:
    return pd.read_parquet(dataset / "truth" / "identity.parquet")


@pytest.fixture(scope="session")
def truth_behaviours(dataset: Path) -> pd.DataFrame:
    return pd.read_parquet(dataset / "truth" / "behaviours.parquet")
