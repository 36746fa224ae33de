"""Coordinator: split people into chunks, run them (in parallel), stream the output."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from omniplay.errors import ConfigError
from omniplay.generator import phones
from omniplay.generator.chunk import ChunkResult, generate_chunk
from omniplay.generator.reference import EPOCH, World, build_world
from omniplay.generator.schema import EVENT_TABLES, PARTITIONED, TABLES, TRUTH_BEHAVIOURS, TRUTH_IDENTITY
from omniplay.generator.writer import GENERATOR_NAME, FileWriter, prepare_output, write_manifest

GENERATOR_VERSION = "1.0"
CHUNK_SIZE = 25_000  # people per chunk; part of what a seed means (output depends on it)
MAX_CUSTOMERS = phones.capacity()
MAX_DAYS = 3650
MAX_CHUNKS = 1000  # row ids embed the chunk number in three digits


@dataclass
class Summary:
    """What one generation produced."""

    out: Path
    customers: int
    days: int
    seed: int
    as_of: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return sum(self.rows.get(f"{s}.{e}", 0) for s, e in EVENT_TABLES)

    def one_line(self) -> str:
        return (f"generated {self.customers:,} people over {self.days} days (seed {self.seed}, as_of {self.as_of}): "
                f"{self.events:,} web/POS/email/SMS events, {self.rows.get('crm.customers', 0):,} CRM rows, "
                f"{len(self.rows)} tables in {self.out} ({self.seconds:.1f}s)")


_WORLD: World | None = None
_OUT: Path | None = None


def _init_worker(world: World, out: Path) -> None:
    global _WORLD, _OUT
    _WORLD, _OUT = world, out


def _run_chunk(args: tuple[int, int, int]) -> ChunkResult:
    index, first, n = args
    return generate_chunk(_WORLD, index, first, n, _OUT)


def default_workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def validate(customers: int, days: int, seed: int) -> None:
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ConfigError(f"--customers must be between 1 and {MAX_CUSTOMERS:,} (got {customers})")
    if not 1 <= days <= MAX_DAYS:
        raise ConfigError(f"--days must be between 1 and {MAX_DAYS} (got {days})")
    if seed < 0:
        raise ConfigError(f"--seed must be zero or positive (got {seed})")


def generate_dataset(customers: int, days: int, seed: int, out: Path, *, workers: int | None = None,
                     chunk_size: int = CHUNK_SIZE) -> Summary:
    """Write a deterministic multi-channel retail dataset (sources + truth) under ``out``.

    Same ``seed``, ``customers``, ``days`` and ``chunk_size`` give byte-identical files,
    whatever ``workers`` is. Layout and columns: docs/sources.md.
    """
    validate(customers, days, seed)
    if chunk_size < 1 or -(-customers // chunk_size) > MAX_CHUNKS:
        raise ConfigError(f"chunk_size must be positive and give at most {MAX_CHUNKS} chunks (got {chunk_size})")
    began = time.perf_counter()
    out = Path(out)
    prepare_output(out)
    base = {"generator": GENERATOR_NAME, "version": GENERATOR_VERSION, "seed": seed, "customers": customers,
            "days": days, "chunk_size": chunk_size}
    # Marks the folder as ours while writing; carries no size/seed so nothing mistakes a
    # half-written dataset for a finished one.
    write_manifest(out, {"generator": GENERATOR_NAME, "version": GENERATOR_VERSION, "status": "incomplete"})

    world, reference = build_world(seed, customers, days)
    single = {key: FileWriter(out / key[0] / f"{key[1]}.parquet", schema)
              for key, schema in TABLES.items() if key not in PARTITIONED}
    for key, table in reference.items():
        single[key].write(table)
    identity = FileWriter(out / "truth" / "identity.parquet", TRUTH_IDENTITY)
    labels = FileWriter(out / "truth" / "behaviours.parquet", TRUTH_BEHAVIOURS)
    part_rows = {key: 0 for key in PARTITIONED}

    def collect(result: ChunkResult) -> None:
        for key, table in result.tables.items():
            single[key].write(table)
        for key, rows in result.part_rows.items():
            part_rows[key] += rows
        identity.write(result.identity)
        labels.write(result.behaviours)

    chunks = [(k, first, min(chunk_size, customers - first)) for k, first in enumerate(range(0, customers, chunk_size))]
    workers = min(workers or default_workers(), len(chunks))
    try:
        if workers <= 1:
            for chunk in chunks:
                collect(generate_chunk(world, *chunk, out))
        else:
            # spawn, not fork: Arrow's thread pools do not survive fork safely
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(world, out)) as pool:
                pending: deque[Future] = deque()
                todo = iter(chunks)
                for chunk in todo:  # keep at most two chunks per worker in flight: bounded memory
                    pending.append(pool.submit(_run_chunk, chunk))
                    if len(pending) >= 2 * workers:
                        collect(pending.popleft().result())
                while pending:
                    collect(pending.popleft().result())
    finally:
        for writer in (*single.values(), identity, labels):
            writer.close()

    rows = {f"{s}.{e}": w.rows for (s, e), w in single.items()}
    rows.update({f"{s}.{e}": n for (s, e), n in part_rows.items()})
    rows = dict(sorted(rows.items()))
    as_of = (EPOCH + dt.timedelta(microseconds=world.as_of)).isoformat().replace("+00:00", "Z")
    window_start = (EPOCH + dt.timedelta(microseconds=world.start)).isoformat().replace("+00:00", "Z")
    write_manifest(out, {
        **base, "status": "complete", "as_of": as_of, "window_start": window_start, "rows": rows,
        "truth_rows": {"identity": identity.rows, "behaviours": labels.rows},
        "notes": {
            "households": "a few household pairs share one e-mail: that identifier_value maps to two person_id "
                          "values in truth/identity.parquet (the only values that do); both people have their "
                          "own crm_id and the second always has an own phone",
            "behaviours": "rules in omniplay/generator/behaviours.py and docs/sources.md",
        },
    })
    return Summary(out=out, customers=customers, days=days, seed=seed, as_of=as_of, rows=rows,
                   seconds=time.perf_counter() - began)
