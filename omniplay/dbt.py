"""Run dbt in-process through its Python API (dbtRunner), with omniplay's settings."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from omniplay.errors import BuildError
from omniplay.settings import Settings


BLOCK_ALLOCATOR_ENV = "OMNIPLAY_DUCKDB_BLOCK_ALLOCATOR_MEMORY"
BLOCK_ALLOCATOR_CAP = 6 * 1024**3


def block_allocator_default(physical_memory: int) -> str:
    """DuckDB's `block_allocator_memory` for a build: a quarter of the machine's memory, at most 6 GiB.

    DuckDB aborts the process when the block allocator is given more than it can reserve
    (about 85% of physical memory), so the size follows the machine instead of being fixed
    in profiles.yml.
    """
    return f"{min(BLOCK_ALLOCATOR_CAP, physical_memory // 4) // 1024**2}MiB"


def _physical_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


@dataclass
class DbtResult:
    """What a dbt invocation did: success, and the nodes that failed, errored or warned."""

    success: bool
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def run_dbt(
    command: str,
    settings: Settings,
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    vars: dict | None = None,
    full_refresh: bool = False,
    extra_args: Sequence[str] = (),
    raise_on_failure: bool = True,
) -> DbtResult:
    """Invoke `dbt <command>` (e.g. `build`, `docs generate`) on the project with the target from `settings`.

    Raises BuildError naming the failed nodes and their first error line unless
    raise_on_failure is False.
    """
    from dbt.cli.main import dbtRunner  # heavy import, only when dbt is needed

    settings.export()
    os.environ.setdefault(BLOCK_ALLOCATOR_ENV, block_allocator_default(_physical_memory()))
    args = [
        *command.split(),  # "build", or a command with a subcommand: "docs generate"
        "--project-dir", str(settings.project_dir),
        "--profiles-dir", str(settings.project_dir),
        "--target", settings.target,
    ]
    for selector in select:
        args += ["--select", selector]
    for selector in exclude:
        args += ["--exclude", selector]
    if vars:
        args += ["--vars", json.dumps(vars)]
    if full_refresh:
        args.append("--full-refresh")
    args += list(extra_args)

    try:
        outcome = dbtRunner().invoke(args)
    finally:
        _release_duckdb()
    result = DbtResult(success=bool(outcome.success))
    if outcome.exception is not None:
        # A hook's error puts the useful line (e.g. which source is missing) after a
        # generic first line, so keep the message whole, on one line.
        message = " ".join(line.strip() for line in str(outcome.exception).splitlines() if line.strip())
        result.failures.append(f"dbt {command}: {message[:600]}")
    for node_result in getattr(outcome.result, "results", None) or []:
        status = str(getattr(node_result, "status", ""))
        result.counts[status] = result.counts.get(status, 0) + 1
        if status in {"error", "fail", "runtime error"}:
            message = (getattr(node_result, "message", "") or "").strip().splitlines()
            name = getattr(node_result.node, "unique_id", "?")
            result.failures.append(f"{name}: {message[0] if message else status}")
    if raise_on_failure and not result.success:
        detail = "; ".join(result.failures[:5]) or "see the dbt log above"
        raise BuildError(f"dbt {command} failed: {detail}")
    return result


def _release_duckdb() -> None:
    """Close the DuckDB file dbt-duckdb keeps open until the process exits.

    dbt-duckdb caches one database handle per process; left open, it locks the file and
    any later connection from this process with other settings (read-only, say) fails
    with "Can't open a connection to same database file with a different configuration".
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-duckdb not installed: nothing to release
        return
    with DuckDBConnectionManager._LOCK:
        environment, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if environment is not None:
        environment.close()
