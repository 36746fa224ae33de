"""The quality gate: Great Expectations validates each play's queue rows before anything is sent.

Per play (activation/gate_checks.py holds the rules): unique message_id; a valid address per
channel; no rows for holdout members, channels without consent or blocked profiles,
judged against the source tables; not_before < not_after; and the audience size within
a band of the play's previous passed run (circuit breaker). A play failing any check is
blocked with one readable line per failed check and a link to its GX Data Docs page;
the other plays go ahead. Every verdict is written to `<state schema>.gate_results`,
which `omniplay sync` reads through :func:`blocked_plays`.

How the rows reach Great Expectations:

* DuckDB: GX's SQL datasource does not work through duckdb-engine (GX issues #10738,
  #11579), so the warehouse first joins the queue to the source facts into a work table,
  then each play's rows are streamed out as Arrow batches of at most `chunk_rows` and
  validated with GX's pandas datasource, one chunk at a time: memory stays bounded by
  the chunk and DuckDB's memory limit (OMNIPLAY_GATE_MEMORY_LIMIT, default 256MB; it
  spills beyond), not by the queue.
* PostgreSQL: the same work table, validated in place by GX's SQL datasource (one query
  asset per play), so no rows leave the database.
* Spark: the same work table (a Parquet table), each play's rows handed to GX's Spark
  datasource as a DataFrame of the SparkSession dbt-spark builds with (omniplay/spark.py),
  so the validation runs as Spark jobs and no rows leave Spark.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from activation.gate_checks import (
    CHECKS,
    DEFAULT_SIZE_BAND,
    DEFAULT_SIZE_MIN_ROWS,
    READ_COLUMNS,
    GateSources,
    PlayGateConfig,
    RowExpectation,
    SizeRule,
    gate_rows_sql,
    physical_stores_sql,
    play_gate_configs,
    row_expectations,
)
from omniplay.errors import ConfigError
from omniplay.settings import Settings
from omniplay.warehouse import DuckDBWarehouse, Warehouse, connect, postgres_dsn, quote_ident

log = logging.getLogger("omniplay.gate")

GATE_RESULTS_TABLE = "gate_results"
GATE_RESULTS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("gate_run_id", "varchar(64) not null"),
    ("run_date", "date"),
    ("play_id", "varchar(128) not null"),
    ("gated_at", "timestamp not null"),
    ("outcome", "varchar(16) not null"),  # passed | blocked
    ("queue_rows", "bigint not null"),
    ("previous_rows", "bigint"),
    ("previous_run_date", "date"),
    ("failed_checks", "varchar(256)"),
    ("reasons", "varchar(4000)"),
    ("notes", "varchar(2000)"),
    ("docs_url", "varchar(2048)"),
)
DOCS_SITE = "omniplay_gate"
DEFAULT_CHUNK_ROWS = 200_000
NO_PLAY = "(no play_id)"  # the verdict of queue rows without a play
# DuckDB memory for the gate's joins and sort (it spills beyond); bounded, not the queue's size.
GATE_MEMORY_LIMIT_ENV = "OMNIPLAY_GATE_MEMORY_LIMIT"
DEFAULT_GATE_MEMORY_LIMIT = "256MB"
_SAMPLE_VALUES = 3


def gate_results_ddl(schema: str, dialect: str = "duckdb") -> list[str]:
    """Statements creating the state schema and the gate_results table if missing.

    The key (gate_run_id, play_id) is declared where the engine enforces keys; Spark's
    Parquet tables take no constraints (each gate run writes fresh ids, so it holds anyway).
    """
    body = ",\n    ".join(f"{name} {type_}" for name, type_ in GATE_RESULTS_COLUMNS)
    key = "" if dialect == "spark" else ",\n    primary key (gate_run_id, play_id)"
    return [
        f"create schema if not exists {quote_ident(schema)}",
        f"create table if not exists {quote_ident(schema)}.{GATE_RESULTS_TABLE} (\n    {body}{key}\n)",
    ]


@dataclass
class GateOptions:
    """What to gate and how strictly."""

    plays: Sequence[str] | None = None
    size_band: float = DEFAULT_SIZE_BAND  # default for every play; `config: meta: gate:` overrides
    size_min_rows: int = DEFAULT_SIZE_MIN_ROWS
    docs_dir: Path | None = None  # default: <dbt target path>/gx
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    sources: GateSources = field(default_factory=GateSources)


@dataclass
class PlayVerdict:
    """The gate's decision on one play."""

    play_id: str
    queue_rows: int
    checked_rows: int = 0  # rows Great Expectations validated
    previous_rows: int | None = None
    previous_run_date: date | None = None
    failed: dict[str, list[str]] = field(default_factory=dict)  # check -> problems
    notes: list[str] = field(default_factory=list)
    docs_url: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failed

    @property
    def outcome(self) -> str:
        return "passed" if self.passed else "blocked"

    def reasons(self) -> list[str]:
        """One line per failed check, in the fixed check order."""
        return [f"{check}: {'; '.join(self.failed[check])}" for check in CHECKS if check in self.failed]


@dataclass
class GateReport:
    """Verdicts of one gate run."""

    gate_run_id: str
    run_date: date | None
    verdicts: list[PlayVerdict]
    docs_index: str | None = None

    @property
    def blocked(self) -> list[PlayVerdict]:
        return [v for v in self.verdicts if not v.passed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "gate_run_id": self.gate_run_id,
            "run_date": self.run_date.isoformat() if self.run_date else None,
            "docs_index": self.docs_index,
            "plays": [
                {"play_id": v.play_id, "outcome": v.outcome, "queue_rows": v.queue_rows,
                 "checked_rows": v.checked_rows, "previous_rows": v.previous_rows,
                 "reasons": v.reasons(), "notes": v.notes, "docs_url": v.docs_url}
                for v in self.verdicts
            ],
        }


def run_gate(settings: Settings, options: GateOptions | None = None) -> GateReport:
    """Gate the queue of the warehouse `settings` point at; record and return the verdicts."""
    options = options or GateOptions()
    configs = play_gate_configs(settings.project_dir) if settings.project_dir.exists() else {}
    docs_dir = options.docs_dir or _default_docs_dir(settings)
    if settings.target == "duckdb":
        if not settings.duckdb_path.exists():
            raise ConfigError(f"DuckDB file {settings.duckdb_path} does not exist: run `omniplay build` first "
                              f"or set OMNIPLAY_DUCKDB_PATH")
        warehouse: Warehouse = DuckDBWarehouse.open(
            str(settings.duckdb_path),
            memory_limit=os.environ.get(GATE_MEMORY_LIMIT_ENV) or DEFAULT_GATE_MEMORY_LIMIT)
    else:
        warehouse = connect(settings)
    with warehouse:
        return QualityGate(warehouse, options, play_configs=configs, docs_dir=docs_dir).run()


def _default_docs_dir(settings: Settings) -> Path:
    target = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    return (target if target.is_absolute() else settings.project_dir / target) / "gx"


class QualityGate:
    """One gate run over one warehouse connection."""

    def __init__(self, warehouse: Warehouse, options: GateOptions, *,
                 play_configs: dict[str, PlayGateConfig] | None = None, docs_dir: Path,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.wh = warehouse
        self.options = options
        self.src = options.sources
        self.play_configs = play_configs or {}
        self.docs_dir = Path(docs_dir).resolve()
        self.clock = clock
        self.gate_run_id = uuid.uuid4().hex
        self.results_table = f"{quote_ident(self.src.state_schema)}.{GATE_RESULTS_TABLE}"
        self.work_table = f"{quote_ident(self.src.state_schema)}.{quote_ident('gate_rows_' + self.gate_run_id[:12])}"

    # -- public -------------------------------------------------------------------------

    def run(self) -> GateReport:
        self._check_sources()
        for statement in gate_results_ddl(self.src.state_schema, self.wh.dialect):
            self.wh.execute(statement)
        plays = list(self.options.plays or [])
        where = f"where play_id in ({', '.join('?' * len(plays))})" if plays else ""
        queue = self.src.relation("queue")
        run_date = self.wh.fetchall(f"select max(run_date) from {queue} {where}", plays)[0][0]
        sizes = {NO_PLAY if play is None else play: n for play, n in self.wh.fetchall(
            f"select play_id, count(*) from {queue} {where} group by play_id", plays)}
        for missing in sorted(set(plays) - set(sizes)):
            log.info("gate: play %s has no rows in the queue", missing)
        verdicts = {play: PlayVerdict(play, int(n)) for play, n in sorted(sizes.items())}
        if not verdicts:
            return GateReport(self.gate_run_id, run_date, [])
        self._previous_sizes(verdicts, run_date)
        store_ids = sorted(r[0] for r in self.wh.fetchall(physical_stores_sql(self.src)))
        validator = _GxValidator(self.docs_dir, self.gate_run_id)
        sql, params = gate_rows_sql(self.src, plays or None)
        expectations = row_expectations(store_ids)
        outcomes: dict[str, list] = defaultdict(list)
        # The warehouse joins the queue to the source facts once, into a work table; each
        # play is then read back on its own (DuckDB: streamed into GX's pandas datasource
        # chunk by chunk; PostgreSQL: validated in place by GX's SQL datasource; Spark: a
        # DataFrame validated by GX's Spark datasource).
        self.wh.execute(f"drop table if exists {self.work_table}")
        try:
            self.wh.execute(f"create table {self.work_table} as {sql}", params)
            if self.wh.dialect == "postgres":
                validator.use_postgres(self.work_table)
            elif self.wh.dialect == "spark":
                validator.use_spark()
            for play in verdicts:
                if play == NO_PLAY:
                    continue
                if self.wh.dialect == "postgres":
                    outcomes[play].append(validator.validate_sql(play, expectations))
                elif self.wh.dialect == "spark":
                    rows = self.wh.dataframe(f"select {READ_COLUMNS} from {self.work_table} where play_id = ?", (play,))
                    outcomes[play].append(validator.validate_frame(play, expectations, rows, 0))
                else:
                    for chunk, frame in enumerate(self._chunks(play)):
                        outcomes[play].append(validator.validate_frame(play, expectations, frame, chunk))
        finally:
            self.wh.execute(f"drop table if exists {self.work_table}")
        for play, verdict in verdicts.items():
            if play == NO_PLAY:
                verdict.failed["unique_message_id"] = ["rows have no play_id: no play can own them"]
                continue
            self._summarize(verdict, outcomes[play], expectations)
            self._validate_size(validator, verdict)
        docs_index = validator.build_docs()
        for verdict in verdicts.values():
            verdict.docs_url = validator.docs_url(verdict.play_id)
        report = GateReport(self.gate_run_id, run_date, list(verdicts.values()), docs_index)
        self._record(report)
        for verdict in report.verdicts:
            if verdict.passed:
                log.info("gate: play %s passed (%d rows)", verdict.play_id, verdict.queue_rows)
            else:
                log.warning("gate: play %s blocked: %s", verdict.play_id, " | ".join(verdict.reasons()))
        return report

    # -- steps --------------------------------------------------------------------------

    def _check_sources(self) -> None:
        for name in ("queue", "holdouts", "consent", "identity_map", "profiles", "consent_log",
                     "crm_customers", "stores"):
            schema, table = self.src.split(name)
            if not self.wh.relation_exists(schema, table):
                raise ConfigError(
                    f"quality gate: {schema}.{table} not found: run `omniplay build` first "
                    f"(or point OMNIPLAY_DUCKDB_PATH / --target at the warehouse that has it)"
                )

    def _rule(self, play: str) -> SizeRule:
        config = self.play_configs.get(play) or PlayGateConfig()
        return SizeRule(
            band=self.options.size_band if config.size_band is None else config.size_band,
            min_rows=self.options.size_min_rows if config.size_min_rows is None else config.size_min_rows,
        )

    def _previous_sizes(self, verdicts: dict[str, PlayVerdict], run_date: date | None) -> None:
        """The latest passed run of each play before `run_date` (a blocked run never sets the bar)."""
        if run_date is None:
            return
        rows = self.wh.fetchall(
            f"select play_id, run_date, queue_rows from ("
            f"select play_id, run_date, queue_rows, row_number() over ("
            f"partition by play_id order by run_date desc, gated_at desc) as recency "
            f"from {self.results_table} where outcome = 'passed' and run_date < ?) latest where recency = 1",
            (run_date,),
        )
        for play, previous_date, previous_rows in rows:
            if play in verdicts:
                verdicts[play].previous_rows = int(previous_rows)
                verdicts[play].previous_run_date = previous_date

    def _chunks(self, play: str):
        """The play's rows from the work table as pandas frames of at most `chunk_rows`."""
        import pyarrow as pa

        size = self.options.chunk_rows
        stream = self.wh.stream(f"select {READ_COLUMNS} from {self.work_table} where play_id = ?",
                                (play,), min(size, 100_000))
        pending: pa.Table | None = None  # zero-copy slices of the batches read so far
        for batch in stream:
            table = pa.Table.from_batches([batch])
            pending = table if pending is None else pa.concat_tables([pending, table])
            while pending.num_rows >= size:
                yield pending.slice(0, size).to_pandas()
                pending = pending.slice(size)
        if pending is not None and pending.num_rows:
            yield pending.to_pandas()

    def _summarize(self, verdict: PlayVerdict, outcomes: list, expectations: list[RowExpectation]) -> None:
        """Add up the failures of a play's validations (one per chunk) into one line per check."""
        totals: dict[int, int] = defaultdict(int)
        samples: dict[int, list[Any]] = defaultdict(list)
        for rows, failures in outcomes:
            verdict.checked_rows += rows
            for index, count, values in failures:
                totals[index] += count
                for value in values:
                    if value not in samples[index] and len(samples[index]) < _SAMPLE_VALUES:
                        samples[index].append(value)
        for index, expectation in enumerate(expectations):
            count = totals.get(index, 0)
            if not count:
                continue
            text = f"{count} row(s) {expectation.what}"
            if expectation.show_values and samples[index]:
                text += f" ({', '.join(str(v) for v in samples[index])})"
            verdict.failed.setdefault(expectation.check, []).append(text)
        if verdict.checked_rows != verdict.queue_rows:  # never pass rows the checks did not see
            verdict.failed["coverage"] = [f"validated {verdict.checked_rows} of {verdict.queue_rows} rows "
                                          f"(did the queue change while the gate ran?)"]

    def _validate_size(self, validator: "_GxValidator", verdict: PlayVerdict) -> None:
        rule = self._rule(verdict.play_id)
        previous, current = verdict.previous_rows, verdict.queue_rows
        if previous is None:
            verdict.notes.append("size: first gated run, no previous size to compare")
            bounds = None
        elif not rule.applies(previous, current):
            verdict.notes.append(
                f"size: {current} rows vs {previous} on {verdict.previous_run_date}: "
                f"below {rule.min_rows} rows, not compared")
            bounds = None
        else:
            bounds = rule.bounds(previous)
        if not validator.validate_size(verdict.play_id, current, previous, bounds):
            assert bounds is not None and previous is not None
            change = f"{(current - previous) / previous:+.0%}" if previous else "from 0"
            verdict.failed["size"] = [
                f"{current} rows vs {previous} on {verdict.previous_run_date} ({change}); "
                f"allowed ±{rule.band:.0%}: {bounds[0]}..{bounds[1]}"
            ]

    def _record(self, report: GateReport) -> None:
        now = self.clock().astimezone(timezone.utc).replace(tzinfo=None)
        columns = ", ".join(name for name, _ in GATE_RESULTS_COLUMNS)
        marks = ", ".join("?" * len(GATE_RESULTS_COLUMNS))
        with self.wh.transaction():
            for v in report.verdicts:
                self.wh.execute(
                    f"insert into {self.results_table} ({columns}) values ({marks})",
                    (report.gate_run_id, report.run_date, v.play_id, now, v.outcome, v.queue_rows,
                     v.previous_rows, v.previous_run_date, ",".join(c for c in CHECKS if c in v.failed) or None,
                     _clip("\n".join(v.reasons()), 4000), _clip("\n".join(v.notes), 2000),
                     _clip(v.docs_url, 2048)),
                )


def gate_verdicts(warehouse: Warehouse, run_date: date | None = None,
                  sources: GateSources | None = None) -> dict[str, tuple[str, str | None]]:
    """The latest gate verdict of each play for `run_date`: {play_id: (outcome, reasons)}.

    `run_date` defaults to the queue's run date (its latest), else the latest the gate
    has seen. A play with no verdict was never gated for that run date.
    """
    src = sources or GateSources()
    if not warehouse.relation_exists(src.state_schema, GATE_RESULTS_TABLE):
        return {}
    table = f"{quote_ident(src.state_schema)}.{GATE_RESULTS_TABLE}"
    if run_date is None:
        schema, name = src.split("queue")
        if warehouse.relation_exists(schema, name):
            run_date = warehouse.fetchall(f"select max(run_date) from {src.relation('queue')}")[0][0]
        if run_date is None:
            run_date = warehouse.fetchall(f"select max(run_date) from {table}")[0][0]
        if run_date is None:
            return {}
    rows = warehouse.fetchall(
        f"select play_id, outcome, reasons from ("
        f"select play_id, outcome, reasons, row_number() over ("
        f"partition by play_id order by gated_at desc, gate_run_id desc) as recency "
        f"from {table} where run_date = ?) latest where recency = 1 order by play_id",
        (run_date,),
    )
    return {play: (outcome, reasons) for play, outcome, reasons in rows}


def blocked_plays(warehouse: Warehouse, run_date: date | None = None,
                  sources: GateSources | None = None) -> dict[str, str]:
    """Plays whose latest gate verdict for `run_date` is `blocked`: {play_id: "check: reason; ..."}.

    For `omniplay sync`, which must not send them. No verdicts (the gate never ran)
    means nothing is blocked; whether to require a gate run is the caller's call
    (see :func:`gate_verdicts`).
    """
    return {play: (reasons or "blocked by the quality gate").replace("\n", "; ")
            for play, (outcome, reasons) in gate_verdicts(warehouse, run_date, sources).items()
            if outcome == "blocked"}


def _clip(value: str | None, size: int) -> str | None:
    if not value:
        return None
    return value if len(value) <= size else value[: size - 1] + "…"


class _GxValidator:
    """The Great Expectations side: one ephemeral context per gate run, Data Docs on disk."""

    def __init__(self, docs_dir: Path, gate_run_id: str):
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        self.gx = gx
        self.gate_run_id = gate_run_id
        docs_dir.mkdir(parents=True, exist_ok=True)
        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            data_docs_sites={
                DOCS_SITE: {
                    "class_name": "SiteBuilder",
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                                      "base_directory": str(docs_dir)},
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                }
            },
        )
        self.context = gx.get_context(mode="ephemeral", project_config=config)
        self._frames = self.context.data_sources.add_pandas("queue_rows")
        self._sizes = self._frames.add_dataframe_asset("play_sizes").add_batch_definition_whole_dataframe("size")
        self._sql = None
        self._spark = None
        self._work_table = ""
        self._checkpoints: dict[str, Any] = {}
        self._results: dict[str, list[tuple[bool, Any]]] = defaultdict(list)  # play -> (success, result id)

    def use_postgres(self, work_table: str) -> None:
        """Validate in PostgreSQL through GX's SQL datasource (the password stays in the environment)."""
        dsn = postgres_dsn()
        url = (f"postgresql+psycopg2://{quote(dsn['user'], safe='')}:${{DBT_ENV_SECRET_OMNIPLAY_PG_PASSWORD}}"
               f"@{dsn['host']}:{dsn['port']}/{quote(dsn['dbname'], safe='')}")
        self._sql = self.context.data_sources.add_postgres("warehouse", connection_string=url,
                                                           create_temp_table=False)
        self._work_table = work_table

    def use_spark(self) -> None:
        """Validate Spark DataFrames through GX's Spark datasource.

        GX takes the process's active SparkSession (the one dbt-spark and omniplay share;
        no settings of its own, so it never restarts it) and, with `persist` off, reads
        each play's rows from the work table instead of caching them in memory.
        """
        self._spark = self.context.data_sources.add_spark("warehouse_spark", persist=False)

    # -- row checks ----------------------------------------------------------------------

    def _checkpoint(self, play: str, expectations: list[RowExpectation]):
        checkpoint = self._checkpoints.get(play)
        if checkpoint is not None:
            return checkpoint
        gx = self.gx
        if self._sql is not None:
            literal = play.replace("'", "''")
            asset = self._sql.add_query_asset(
                name=f"play_{len(self._checkpoints)}_{play}",
                query=f"select {READ_COLUMNS} from {self._work_table} where play_id = '{literal}'",
            )
            batch = asset.add_batch_definition_whole_table("rows")
        else:
            frames = self._spark if self._spark is not None else self._frames
            batch = frames.add_dataframe_asset(play).add_batch_definition_whole_dataframe("rows")
        suite = gx.ExpectationSuite(name=f"gate_rows__{play}")
        for index, expectation in enumerate(expectations):
            cls = getattr(gx.expectations, expectation.kind)
            suite.add_expectation(cls(**expectation.kwargs, meta={"check": expectation.check, "index": index}))
        result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": _SAMPLE_VALUES}
        if self._sql is None and self._spark is None:  # the docs then list failing rows by message_id
            # (on Spark that costs a third more Spark jobs per play; the docs show failing values)
            result_format["unexpected_index_column_names"] = ["message_id"]
        checkpoint = self._add_checkpoint(f"gate_rows__{play}", batch, suite, result_format)
        self._checkpoints[play] = checkpoint
        return checkpoint

    def _add_checkpoint(self, name: str, batch, suite, result_format: dict[str, Any]):
        gx = self.gx
        suite = self.context.suites.add(suite)
        definition = self.context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batch, suite=suite))
        return self.context.checkpoints.add(gx.Checkpoint(name=name, validation_definitions=[definition],
                                                          result_format=result_format))

    def _run_checkpoint(self, play: str, checkpoint, batch_parameters: dict | None, label: str):
        from great_expectations.core.run_identifier import RunIdentifier

        result = checkpoint.run(batch_parameters=batch_parameters,
                                run_id=RunIdentifier(run_name=f"gate-{self.gate_run_id[:12]}-{label}"))
        for identifier, validation in result.run_results.items():
            self._results[play].append((bool(validation.success), identifier))
            for item in validation.results:
                if item.exception_info and item.exception_info.get("raised_exception"):
                    raise RuntimeError(f"Great Expectations could not evaluate {item.expectation_config.type} "
                                       f"for play {play}: {item.exception_info.get('exception_message')}")
        return result

    def _run(self, play: str, checkpoint, batch_parameters: dict | None,
             label: str) -> tuple[int, list[tuple[int, int, list]]]:
        result = self._run_checkpoint(play, checkpoint, batch_parameters, label)
        rows = 0
        out: list[tuple[int, int, list]] = []
        for validation in result.run_results.values():
            for item in validation.results:
                rows = max(rows, int((item.result or {}).get("element_count") or 0))
                if item.success:
                    continue
                meta = item.expectation_config.meta or {}
                res = item.result or {}
                count = int(res.get("unexpected_count") or 0) or 1  # failed without a count: still a failure
                out.append((int(meta["index"]), count, list(res.get("partial_unexpected_list") or [])))
        return rows, out

    def validate_frame(self, play: str, expectations: list[RowExpectation], frame, chunk: int):
        """One chunk of a play's rows (a pandas DataFrame; on Spark all of them, a Spark DataFrame).

        Returns (rows validated, [(expectation index, failing rows, sample values)]).
        """
        return self._run(play, self._checkpoint(play, expectations), {"dataframe": frame}, f"{play}-{chunk}")

    def validate_sql(self, play: str, expectations: list[RowExpectation]):
        """All of a play's rows, in the database."""
        return self._run(play, self._checkpoint(play, expectations), None, play)

    # -- size ----------------------------------------------------------------------------

    def validate_size(self, play: str, current: int, previous: int | None, bounds: tuple[int, int] | None) -> bool:
        """The circuit breaker as an expectation over a one-row frame; True when it passes."""
        import pandas as pd

        gx = self.gx
        suite = gx.ExpectationSuite(name=f"gate_size__{play}")
        if bounds is not None:
            suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
                column="queue_rows", min_value=bounds[0], max_value=bounds[1], meta={"check": "size"}))
        else:  # nothing to compare with: record the size only
            suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(
                column="queue_rows", meta={"check": "size"}))
        checkpoint = self._add_checkpoint(f"gate_size__{play}", self._sizes, suite, {"result_format": "SUMMARY"})
        frame = pd.DataFrame({"play_id": [play], "queue_rows": [current],
                              "previous_rows": pd.array([previous], dtype="Int64")})
        result = self._run_checkpoint(play, checkpoint, {"dataframe": frame}, f"{play}-size")
        return bool(result.success)

    # -- docs ----------------------------------------------------------------------------

    def build_docs(self) -> str | None:
        urls = self.context.build_data_docs(site_names=[DOCS_SITE])
        return urls.get(DOCS_SITE)

    def docs_url(self, play: str) -> str | None:
        """The Data Docs page of the play's first failing validation (else its first one)."""
        results = self._results.get(play) or []
        if not results:
            return None
        chosen = next((rid for ok, rid in results if not ok), results[0][1])
        urls = self.context.get_docs_sites_urls(resource_identifier=chosen, site_names=[DOCS_SITE])
        return urls[0]["site_url"] if urls else None
