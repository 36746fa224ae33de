"""Generator at scale: wall time, CPU time, peak memory and rows per table.

Runs the real command line (`omniplay generate`) in a child process, samples the
resident memory of its whole process tree (coordinator plus workers) from /proc, and
reads row counts from the dataset's manifest. Target: 1M customers over 120 days
(~20M web/app, POS, e-mail and SMS events) in under 2 minutes on a 2-core machine.

Usage (from the repository root):

    .venv/bin/python benchmarks/bench_generate.py --customers 1000000 --days 120 --out /tmp/bench-generate

Prints one JSON document (figures, machine, load before and after); the output folder
is removed afterwards unless --keep is given.
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
import threading
import time
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parents[1]
SECONDS_TARGET = 120.0
EVENT_TABLES = ("web.events", "pos.transactions", "email.events", "sms.events")
PAGE = os.sysconf("SC_PAGE_SIZE")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "ram_gib": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "kernel": platform.release()}


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def run(customers: int, days: int, seed: int, out: Path, workers: int | None) -> dict[str, Any]:
    cmd = [str(REPO_DIR / ".venv" / "bin" / "omniplay"), "generate", "--customers", str(customers),
           "--days", str(days), "--seed", str(seed), "--out", str(out)]
    if workers:
        cmd += ["--workers", str(workers)]
    load_before = os.getloadavg()
    began = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=REPO_DIR, stdout=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(child.pid))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = child.communicate()
    wall = time.perf_counter() - began
    stop.set()
    sampler.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if child.returncode != 0:
        raise SystemExit(f"generate failed with exit code {child.returncode}")
    manifest = json.loads((out / "truth" / "manifest.json").read_text())
    rows = manifest["rows"]
    return {
        "command": " ".join(["omniplay"] + cmd[1:]),
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "peak_rss_tree_mib": round(peak / 2**20),
        "peak_rss_largest_process_mib": round(usage.ru_maxrss / 1024),
        "events": sum(rows[t] for t in EVENT_TABLES),
        "rows": rows,
        "truth_rows": manifest["truth_rows"],
        "bytes_on_disk_mib": round(sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "under_target": wall < SECONDS_TARGET,
        "summary": output.strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("/tmp/omniplay-bench-generate"))
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated dataset")
    args = parser.parse_args()
    try:
        result = {"machine": machine(), **run(args.customers, args.days, args.seed, args.out, args.workers)}
    finally:
        if not args.keep:
            shutil.rmtree(args.out, ignore_errors=True)
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
