"""Connected components at scale: the real `connected_components` materialization in a
real `dbt build` on DuckDB, on a synthetic identity-like graph.

The graph: `--nodes` nodes in about nodes/10 components whose sizes follow a geometric
distribution (mean 10), each a random recursive tree plus ~10% extra edges inside the
component (cycles, duplicates) and a self-loop on every component root (so singletons
exist), and one extra path of `--path-nodes` nodes to show that rounds follow
log(component size), not the diameter. Node ids are 23-character text keys in random
order (`id:` + 20 hex digits of md5). The expected number of components and the largest
component size are known from the generator and checked against the build's round log.

dbt runs as a child process (tests/identity/dbt_cc_project, `dbt build --select
cc_graphs`: the model plus its data tests) with DuckDB's `memory_limit` set through
OMNIPLAY_DUCKDB_MEMORY_LIMIT; the CPU time and peak resident memory of that process are
reported beside the wall times, since the machine may be shared.

Usage (from the repository root):

    .venv/bin/python benchmarks/bench_connected_components.py --nodes 10000000 --memory-limit 4GB
    .venv/bin/python benchmarks/bench_connected_components.py --nodes 1000000 --target postgres

With `--target postgres` the edges are copied into a throwaway PostgreSQL server (started
as in the test suite) and the same project builds there.

Prints one JSON document (figures, machine, load before and after).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parents[1]
CC_PROJECT_DIR = REPO_DIR / "tests" / "identity" / "dbt_cc_project"
DBT = Path(sys.executable).parent / "dbt"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


def generate(duckdb_path: Path, nodes: int, path_nodes: int, seed: int) -> dict[str, int]:
    """Write cc_input.graph_edges (and an empty cc_input.chain_edges); return the expected figures."""
    import duckdb
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    tree_nodes = nodes - path_nodes
    sizes = rng.geometric(0.1, size=tree_nodes // 5)
    sizes = sizes[np.cumsum(sizes) <= tree_nodes]
    sizes = np.append(sizes, tree_nodes - sizes.sum()) if sizes.sum() < tree_nodes else sizes
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    index = np.arange(tree_nodes, dtype=np.int64)
    parent = starts + (rng.random(tree_nodes) * (index - starts)).astype(np.int64)  # root: itself
    extra = rng.choice(tree_nodes, tree_nodes // 10)
    extra_to = starts[extra] + (rng.random(len(extra)) * (extra - starts[extra] + 1)).astype(np.int64)
    path = np.arange(tree_nodes, nodes, dtype=np.int64)
    node_a = np.concatenate([index, extra, path[:-1]])
    node_b = np.concatenate([parent, extra_to, path[1:]])

    con = duckdb.connect(str(duckdb_path))
    try:
        con.execute("set threads = 2")
        con.register("raw_edges", pa.table({"a": node_a, "b": node_b}))
        con.execute("create schema if not exists cc_input")
        con.execute("""
            create or replace table cc_input.graph_edges as
            select
                'id:' || substr(md5(cast(a as varchar)), 1, 20) as node_a,
                'id:' || substr(md5(cast(b as varchar)), 1, 20) as node_b
            from raw_edges
        """)
        con.execute("create or replace table cc_input.chain_edges (node_a varchar, node_b varchar)")
        rows = con.execute("select count(*) from cc_input.graph_edges").fetchall()[0][0]
    finally:
        con.close()
    return {"nodes": nodes, "edge_rows": int(rows), "components": len(sizes) + (1 if path_nodes else 0),
            "largest_component": int(max(sizes.max(initial=0), path_nodes))}


def _copy_to_postgres(duckdb_path: Path, work: Path, server: Any, database: str) -> None:
    """Copy cc_input.graph_edges from the DuckDB file into the PostgreSQL database."""
    import duckdb

    csv_path = work / "graph_edges.csv"
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        con.execute(f"copy cc_input.graph_edges to '{csv_path}' (header false)")
    conn = server.connect(database)
    try:
        with conn, conn.cursor() as cur, open(csv_path, encoding="utf-8") as edges:
            cur.execute("create schema cc_input")
            cur.execute("create table cc_input.graph_edges (node_a varchar, node_b varchar)")
            cur.execute("create table cc_input.chain_edges (node_a varchar, node_b varchar)")
            cur.copy_expert("copy cc_input.graph_edges from stdin with (format csv)", edges)
    finally:
        conn.close()
    csv_path.unlink()


def _round_log(target: str, duckdb_path: Path, server: Any, database: str | None) -> dict[str, Any]:
    columns = ["rounds", "nodes", "edges", "components", "largest_component", "solver_seconds"]
    query = (f"select {', '.join(columns)} from {'main' if target == 'duckdb' else 'public'}.identity_cc_rounds "
             "where model = 'cc_graphs' order by finished_at desc limit 1")
    if target == "duckdb":
        import duckdb

        with duckdb.connect(str(duckdb_path), read_only=True) as con:
            row = con.execute(query).fetchall()[0]
    else:
        conn = server.connect(database)
        try:
            with conn.cursor() as cur:
                cur.execute(query)
                row = cur.fetchone()
        finally:
            conn.close()
    return dict(zip(columns, row, strict=True))


def run(args: argparse.Namespace, server: Any = None) -> dict[str, Any]:
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-cc-"))
    work.mkdir(parents=True, exist_ok=True)
    duckdb_path = work / "cc.duckdb"
    duckdb_path.unlink(missing_ok=True)
    started = time.perf_counter()
    expected = generate(duckdb_path, args.nodes, args.path_nodes, args.seed)
    database = None
    env = {**os.environ,
           "OMNIPLAY_TARGET": args.target,
           "OMNIPLAY_DUCKDB_PATH": str(duckdb_path),
           "OMNIPLAY_DUCKDB_MEMORY_LIMIT": args.memory_limit,
           "DBT_TARGET_PATH": str(work / "target"),
           "DBT_LOG_PATH": str(work / "logs"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    if args.target == "postgres":
        database = server.create_database("bench_cc")
        _copy_to_postgres(duckdb_path, work, server, database)
        env.update(server.env(database))
        env["OMNIPLAY_PG_SCHEMA"] = "public"
    generate_seconds = time.perf_counter() - started

    command = [str(DBT), "build", "--select", "cc_graphs", "--project-dir", str(CC_PROJECT_DIR),
               "--profiles-dir", str(REPO_DIR), "--target", args.target]
    load_before = os.getloadavg()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    build_seconds = time.perf_counter() - started
    load_after = os.getloadavg()
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:])
        raise SystemExit(f"dbt build failed (exit {done.returncode}); logs in {work / 'logs'}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)

    logged = _round_log(args.target, duckdb_path, server, database)
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    model_seconds = next(r["execution_time"] for r in results if r["unique_id"] == "model.omniplay.cc_graphs")
    checks = {key: logged[key] == expected[key] for key in ("nodes", "components", "largest_component")}
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "target": args.target,
        "graph": {**expected, "path_nodes": args.path_nodes, "seed": args.seed},
        "memory_limit": args.memory_limit if args.target == "duckdb" else None,
        "rounds": logged["rounds"],
        "distinct_edges": logged["edges"],
        "solver_seconds": float(logged["solver_seconds"]),
        "model_seconds": round(model_seconds, 2),
        "dbt_build_seconds": round(build_seconds, 2),
        "generate_seconds": round(generate_seconds, 2),
        # The dbt process only: on PostgreSQL the work happens in the server's processes.
        "dbt_cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "dbt_peak_rss_mb": round(usage.ru_maxrss / 1024),
        "checks_against_generator": checks,
        "machine": machine(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=10_000_000)
    parser.add_argument("--path-nodes", type=int, default=100_000,
                        help="size of the one long path inside the graph (0: none; --nodes: only the path)")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit for the build")
    parser.add_argument("--target", choices=["duckdb", "postgres"], default="duckdb",
                        help="postgres: a throwaway server started like the test suite's")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--workdir", help="keep the DuckDB file and dbt logs here (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="do not delete the work folder")
    args = parser.parse_args()
    if args.target == "postgres":
        sys.path.insert(0, str(REPO_DIR))
        from tests.support.postgres import start_postgres

        with start_postgres() as server:
            report = run(args, server)
    else:
        report = run(args)
    print(json.dumps(report, indent=2))
    if not all(report["checks_against_generator"].values()):
        raise SystemExit("the build's figures disagree with the generator's")


if __name__ == "__main__":
    main()
