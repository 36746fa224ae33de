"""Find a public dataset kept outside the repository (`../shared/data/external/<name>`).

Looked for under `$OMNIPLAY_EXTERNAL_DATA_DIR`, then `shared/data/external` beside every
parent of the checkout (CI clones the repository next to `shared/`). When it is nowhere,
the test is skipped with a loud reason naming every path tried, or fails when
`OMNIPLAY_REQUIRE_EXTERNAL_DATA=1` (a CI that must check against it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
EXTERNAL_DATA_ENV = "OMNIPLAY_EXTERNAL_DATA_DIR"  # a folder holding the datasets, if not the shared one
REQUIRE_EXTERNAL_DATA_ENV = "OMNIPLAY_REQUIRE_EXTERNAL_DATA"  # 1: a missing dataset fails instead of skipping


def candidate_paths(relative: Path) -> list[Path]:
    """Where `relative` may be: the env override, then shared/data/external beside any parent of the repo."""
    paths = []
    if os.environ.get(EXTERNAL_DATA_ENV):
        paths.append(Path(os.environ[EXTERNAL_DATA_ENV]) / relative)
    paths += [parent / "shared" / "data" / "external" / relative for parent in REPO_DIR.parents]
    return paths


def external_path(relative: Path | str, *, unchecked: str) -> Path:
    """The first existing `relative` path, else skip (or fail) saying what goes `unchecked`."""
    relative = Path(relative)
    tried = candidate_paths(relative)
    found = next((path for path in tried if path.exists()), None)
    if found is not None:
        return found
    message = (f"{relative} NOT FOUND, {unchecked} NOT CHECKED. Looked at: " + ", ".join(str(p) for p in tried)
               + f". Set {EXTERNAL_DATA_ENV} to the folder holding {relative.parts[0]}/.")
    if os.environ.get(REQUIRE_EXTERNAL_DATA_ENV, "").lower() in {"1", "true", "yes"}:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
