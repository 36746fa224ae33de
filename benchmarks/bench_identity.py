"""Identity, profiles and consent at scale: accuracy against the generator's truth, speed, memory.

Three scenarios, each on a dataset generated with the real generator (reused when the
folder already holds a complete dataset with the same size and seed) and built with the
real dbt project on a fresh DuckDB file:

    accuracy  pairwise precision/recall of dim_identity_map against truth/identity.parquet
              (omniplay.identity_quality), default 100k customers
    speed     wall and CPU of identity + profiles + consent, and of the whole selection,
              with per-model dbt timing (run_results.json), default 1M customers (~20M events)
    memory    the same models under DuckDB memory_limit (OMNIPLAY_DUCKDB_MEMORY_LIMIT),
              default 4GB over 2.5M customers (>= 10M identifiers)

The selection is `+dim_profile_consent +rpt_identity_kpis` (models only; seeds are loaded
by a separate `dbt seed` first, data tests are left out), run as three `dbt run`s (see
build()): identity (staging and the graph), the event stream and journey timeline that
dim_profiles reads (issue #4's models, reported apart), then profiles, consent and KPIs.
`identity_s` (held against the 60 s target) is the first plus the third; `total_s` and
`total_cpu_s` are all three. Staging views are read inside the models that use them, so
reading and normalizing the Parquet sources is part of those models' time.

Usage (from the repository root):

    .venv/bin/python benchmarks/bench_identity.py accuracy --customers 100000 --workdir /tmp/bench-identity
    .venv/bin/python benchmarks/bench_identity.py speed --customers 1000000 --workdir /tmp/bench-identity
    .venv/bin/python benchmarks/bench_identity.py memory --customers 2500000 --memory-limit 4GB \
        --workdir /tmp/bench-identity

Each run prints one JSON document (figures, machine, load) and writes it beside the
DuckDB file as `result.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parents[1]
if str(REPO_DIR) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO_DIR))

from omniplay.dbt import run_dbt  # noqa: E402
from omniplay.identity_quality import pairwise_scores  # noqa: E402
from omniplay.settings import DATA_DIR_ENV, DUCKDB_PATH_ENV, PROJECT_DIR_ENV, TARGET_ENV, Settings  # noqa: E402

SELECTION = ("+dim_profile_consent", "+rpt_identity_kpis")
# Issue #4's models that dim_profiles reads (current journey stage) and the touchpoints read (event stream).
EVENTS_JOURNEYS_SELECTION = ("+fct_customer_events", "+int_profile_current_stage")
MEMORY_LIMIT_ENV = "OMNIPLAY_DUCKDB_MEMORY_LIMIT"
DBT_THREADS_ENV = "OMNIPLAY_DBT_THREADS"  # models dbt runs at once (profiles.yml)
DEFAULT_CUSTOMERS = {"accuracy": 100_000, "speed": 1_000_000, "memory": 2_500_000}
PRECISION_TARGET, RECALL_TARGET, SECONDS_TARGET, IDENTIFIERS_TARGET = 0.995, 0.95, 60.0, 10_000_000


def machine() -> dict[str, Any]:
    """What the figures were measured on, including how busy the machine was."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    import duckdb

    return {"cpus": os.cpu_count(), "cpu": cpu, "memory_gb": mem_gb, "python": platform.python_version(),
            "duckdb": duckdb.__version__, "platform": platform.platform()}


def dataset(workdir: Path, customers: int, days: int, seed: int) -> tuple[Path, float | None]:
    """The generated dataset for (customers, days, seed), generating it when missing."""
    from omniplay.generator import generate_dataset

    out = workdir / f"data-{customers}-{days}-{seed}"
    manifest = out / "truth" / "manifest.json"
    if manifest.exists():
        meta = json.loads(manifest.read_text())
        same = (meta.get("customers"), meta.get("days"), meta.get("seed")) == (customers, days, seed)
        if meta.get("status") == "complete" and same:
            return out, None
    began = time.perf_counter()
    generate_dataset(customers=customers, days=days, seed=seed, out=out)
    return out, time.perf_counter() - began


def _invoke(settings: Any, vars: dict, root: Path, select: tuple[str, ...], exclude: tuple[str, ...] = ()
            ) -> dict[str, Any]:
    """One `dbt run` of a selection: wall, CPU of this process (dbt and DuckDB run in it), per-model times."""
    load_before = os.getloadavg()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    run_dbt("run", settings, select=select, exclude=exclude, vars=vars)
    wall = time.perf_counter() - began
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    load_after = os.getloadavg()
    results = json.loads((root / "target" / "run_results.json").read_text())
    per_model = sorted(((r["unique_id"].split(".")[-1], round(r["execution_time"], 2)) for r in results["results"]),
                       key=lambda item: -item[1])
    return {
        "select": list(select), "exclude": list(exclude),
        "wall_s": round(wall, 1),
        "dbt_elapsed_s": round(results["elapsed_time"], 1),
        # dbt and DuckDB run in this process: its CPU time is the work, whatever the load.
        "cpu_s": round((cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime), 1),
        "models": len(per_model),
        "per_model_s": dict(per_model),
        "loadavg_1m_before_after": [round(load_before[0], 1), round(load_after[0], 1)],
    }


def identity_staging(manifest_path: Path, selection: tuple[str, ...], event_stream: tuple[str, ...]) -> list[str]:
    """The staging models that identity, profiles and consent read themselves, not only through the event stream.

    Walks the parents of the selection's models in dbt's manifest (written by `dbt seed`)
    without passing through the event-stream models (`event_stream`, `+model` selectors,
    and their ancestors): a staging model only the event stream reads (POS transaction
    lines) is built with the event stream, not counted toward identity.
    """
    nodes = json.loads(manifest_path.read_text())["nodes"]
    by_name = {node["name"]: node_id for node_id, node in nodes.items() if node["resource_type"] == "model"}
    stop = {by_name[selector.lstrip("+")] for selector in event_stream}
    found: set[str] = set()
    pending = [by_name[selector.lstrip("+")] for selector in selection]
    seen: set[str] = set()
    while pending:
        node_id = pending.pop()
        if node_id in seen or node_id in stop:
            continue
        seen.add(node_id)
        node = nodes[node_id]
        if node["original_file_path"].startswith("models/staging/"):
            found.add(node["name"])
        pending.extend(parent for parent in node.get("depends_on", {}).get("nodes", []) if parent in nodes)
    return sorted(found)


def build(data_dir: Path, root: Path, memory_limit: str | None, project_dir: Path) -> dict[str, Any]:
    """Seed, then `dbt run` the selection in three steps on a fresh DuckDB file; timings per step and in total.

    dim_profiles carries each profile's current journey stage, so the selection also builds the
    unified event stream and the journey timeline (issue #4's models, with their own benchmark,
    bench_journeys.py). They run as a step of their own, between the two identity steps:

    identity          the staging that identity, profiles and consent read (identity_staging; staging
                      read only by the event stream is built with it), the graph up to dim_identity_map
                      and the merge log
    events_journeys   EVENTS_JOURNEYS_SELECTION, less what the first step built
    profiles_consent  the rest of the selection: contact points, activity, dim_profiles, consent, KPIs

    identity_s (the figure held against the target) is the sum of the first and third steps;
    total_s is all three, which is what a build of the selection costs.
    """
    from omniplay.build import _with_pipeline_clock

    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    env = {
        PROJECT_DIR_ENV: str(project_dir), DATA_DIR_ENV: str(data_dir), DUCKDB_PATH_ENV: str(root / "omniplay.duckdb"),
        TARGET_ENV: "duckdb", "DBT_TARGET_PATH": str(root / "target"), "DBT_LOG_PATH": str(root / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if memory_limit:
        env[MEMORY_LIMIT_ENV] = memory_limit
    os.environ.update(env)
    settings = Settings.from_env()
    vars = _with_pipeline_clock(settings, None)
    run_dbt("seed", settings, vars=vars)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    identity_select = ("+dim_identity_map", "+fct_identity_merges",
                       *identity_staging(root / "target" / "manifest.json", SELECTION, EVENTS_JOURNEYS_SELECTION))
    steps = {"identity": _invoke(settings, vars, root, identity_select)}
    steps["events_journeys"] = _invoke(settings, vars, root, EVENTS_JOURNEYS_SELECTION, exclude=identity_select)
    steps["profiles_consent"] = _invoke(settings, vars, root, SELECTION,
                                        exclude=(*identity_select, *EVENTS_JOURNEYS_SELECTION))
    timed = [steps["identity"], steps["profiles_consent"]]
    per_model: dict[str, float] = {}
    for step in steps.values():
        per_model.update(step["per_model_s"])
    return {
        "duckdb_path": env[DUCKDB_PATH_ENV],
        "identity_s": round(sum(s["wall_s"] for s in timed), 1),
        "identity_cpu_s": round(sum(s["cpu_s"] for s in timed), 1),
        "total_s": round(sum(s["wall_s"] for s in steps.values()), 1),
        "total_cpu_s": round(sum(s["cpu_s"] for s in steps.values()), 1),
        "steps": steps,
        "peak_rss_mib": round(max(peak_before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024),
        "models": len(per_model),
        "per_model_s": dict(sorted(per_model.items(), key=lambda item: -item[1])),
        "loadavg_1m_before_after": [steps["identity"]["loadavg_1m_before_after"][0],
                                    steps["profiles_consent"]["loadavg_1m_before_after"][1]],
        "memory_limit": memory_limit or "profiles.yml default (8GB)",
        "dbt_threads": os.environ.get(DBT_THREADS_ENV, "profiles.yml default"),
    }


def graph_figures(duckdb_path: str, data_dir: Path) -> dict[str, Any]:
    """Sizes of what was built and, with the truth beside the sources, pairwise scores."""
    import duckdb

    truth = data_dir / "truth" / "identity.parquet"
    with duckdb.connect(duckdb_path, read_only=True) as con:
        rounds = con.execute(
            "select rounds, nodes, edges, components, largest_component, solver_seconds"
            " from intermediate.identity_cc_rounds order by finished_at desc limit 1").fetchone()
        figures = {
            "identifiers_in_map": con.execute("select count(*) from marts.dim_identity_map").fetchone()[0],
            "profiles": con.execute("select count(*) from marts.dim_profiles").fetchone()[0],
            "cc": dict(zip(["rounds", "nodes", "edges", "components", "largest_component", "solver_seconds"],
                           [float(v) if i == 5 else v for i, v in enumerate(rounds)], strict=True)),
            "guard_hits": dict(con.execute(
                "select guard, count(*) from marts.rpt_identity_guard_hits group by 1 order by 1").fetchall()),
        }
        if truth.exists():
            scores = pairwise_scores(con, f"read_parquet('{truth.as_posix()}')", "marts.dim_identity_map")
            figures["pairwise"] = {"precision": round(scores.precision, 6), "recall": round(scores.recall, 6),
                                   "identifiers": scores.identifiers, "ambiguous": scores.ambiguous_identifiers,
                                   "true_pairs": scores.true_pairs, "predicted_pairs": scores.predicted_pairs}
    manifest = json.loads((data_dir / "truth" / "manifest.json").read_text())
    rows = manifest.get("rows", {})
    figures["events"] = sum(rows.get(k, 0) for k in ("web.events", "email.events", "sms.events", "pos.transactions",
                                                   "events.badge_scans"))
    return figures


def verdict(scenario: str, figures: dict[str, Any], timing: dict[str, Any]) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    if "pairwise" in figures:
        checks["precision>=0.995"] = figures["pairwise"]["precision"] >= PRECISION_TARGET
        checks["recall>=0.95"] = figures["pairwise"]["recall"] >= RECALL_TARGET
    if scenario == "speed":
        checks["identity_s<=60s"] = timing["identity_s"] <= SECONDS_TARGET
    if scenario == "memory":
        checks["identifiers>=10M"] = figures["identifiers_in_map"] >= IDENTIFIERS_TARGET
        checks["completed"] = True
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=sorted(DEFAULT_CUSTOMERS))
    parser.add_argument("--customers", type=int)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-identity"))
    parser.add_argument("--memory-limit", help="DuckDB memory_limit for the build, e.g. 4GB (memory scenario: 4GB)")
    parser.add_argument("--project-dir", type=Path, default=REPO_DIR,
                        help="dbt project to build (default: this checkout), e.g. an exported commit with a patch")
    args = parser.parse_args(argv)

    customers = args.customers or DEFAULT_CUSTOMERS[args.scenario]
    memory_limit = args.memory_limit or ("4GB" if args.scenario == "memory" else None)
    args.workdir.mkdir(parents=True, exist_ok=True)
    data_dir, generated_s = dataset(args.workdir, customers, args.days, args.seed)
    root = args.workdir / f"build-{args.scenario}-{customers}"
    timing = build(data_dir, root, memory_limit, args.project_dir.resolve())
    figures = graph_figures(timing["duckdb_path"], data_dir)
    result = {
        "scenario": args.scenario,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "customers": customers, "days": args.days, "seed": args.seed,
        "project_dir": str(args.project_dir.resolve()),
        "generation_s": None if generated_s is None else round(generated_s, 1),
        **figures, **timing,
        "checks": verdict(args.scenario, figures, timing),
        "machine": machine(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    text = json.dumps(result, indent=2, default=str)
    (root / "result.json").write_text(text)
    print(text)
    return 0 if all(result["checks"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
