"""The sync engine: queue -> checks -> templates -> destinations -> ledger, exactly once in effect.

One sync, in order:
1. Reconcile messages a crashed sync left `pending`: re-send them in their original
   batches where the destination deduplicates, otherwise mark them `ambiguous`.
2. Stream the queue rows still open; for each decide: already ambiguous (reported, not
   re-sent unless asked), play stopped, expired, deferred (window not open yet),
   rejected (unknown destination, wrong channel, bad address, bad payload, template
   failure), or ready.
3. Ready messages are grouped per destination into batches; each batch is written
   `pending` (committed) before a worker thread hands it over, and resolved after.

Every message taken on ends in exactly one of sent, rejected, failed, ambiguous,
deferred or expired, so the summary always adds up.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from activation.addresses import InvalidAddress, check_address
from activation.bulk import BulkPlanner, PlannedBatch
from activation.config import Config, DestinationConfig
from activation.destinations import (
    AMBIGUOUS,
    DEFERRED,
    REJECTED,
    RETRY,
    SENT,
    BatchOutcome,
    Destination,
    Message,
    Result,
)
from activation.flow import wait_backoff_or_retry_after
from activation.ledger import Ledger, PendingRow, Resolution
from activation.pii import mask_address, mask_payload, mask_text
from activation.reader import QueueReader, QueueSource, rows_of
from activation.templates import RenderFailed, TemplateStore, UnknownTemplate
from omniplay.errors import (
    ConfigError,
    FatalDestinationError,
    RetriableDestinationError,
    SkippableDestinationError,
)
from omniplay.warehouse import Warehouse

if TYPE_CHECKING:
    from activation.senders import SenderProcesses

log = logging.getLogger("omniplay.activation")

OUTCOMES = ("sent", "rejected", "failed", "ambiguous", "deferred", "expired")
LINGER_SECONDS = 0.002  # how long the ledger writer waits for a second write to commit with
_LEDGER_STATUS = {SENT: "sent", REJECTED: "rejected", AMBIGUOUS: "ambiguous"}  # anything else: failed


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


SEGMENT_ROWS_ENV = "OMNIPLAY_SYNC_SEGMENT_ROWS"
DEFAULT_SEGMENT_ROWS = 100_000


def segment_rows_from_env() -> int:
    """The reader's segment size: OMNIPLAY_SYNC_SEGMENT_ROWS, else DEFAULT_SEGMENT_ROWS."""
    value = os.environ.get(SEGMENT_ROWS_ENV, "").strip()
    if not value:
        return DEFAULT_SEGMENT_ROWS
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{SEGMENT_ROWS_ENV} must be a positive whole number of rows, not {value!r}")
    return int(value)


@dataclass
class SyncOptions:
    """What to sync and how."""

    plays: Sequence[str] | None = None
    dry_run: bool = False
    resend_ambiguous: bool = False
    read_batch_size: int = 25_000
    # A play longer than this is read in segments of message_ids, with a ledger checkpoint
    # in between (activation.reader): no read transaction lasts the whole sync.
    segment_rows: int | None = DEFAULT_SEGMENT_ROWS
    samples: int = 3
    respect_gate: bool = True  # skip plays the quality gate blocked for the queue's run date


@dataclass
class Summary:
    """Counts per (play, channel, destination) and outcome, plus what needs attention."""

    run_id: str
    dry_run: bool = False
    planned: Counter = field(default_factory=Counter)
    counts: dict[tuple[str, str, str], Counter] = field(default_factory=lambda: defaultdict(Counter))
    reasons: Counter = field(default_factory=Counter)  # (outcome, code) -> n
    fallbacks: int = 0
    reconciled_resent: int = 0
    reconciled_ambiguous: int = 0
    stopped: dict[str, str] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)  # play -> the gate's reasons; not read at all
    samples: list[dict] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def add(self, key: tuple[str, str, str], outcome: str, code: str | None = None, n: int = 1) -> None:
        self.counts[key][outcome] += n
        if code and outcome != "sent":
            self.reasons[(outcome, code)] += n

    def total(self, outcome: str) -> int:
        return sum(c[outcome] for c in self.counts.values())

    @property
    def total_planned(self) -> int:
        return sum(self.planned.values())

    def adds_up(self) -> bool:
        """planned = sent + rejected + failed + ambiguous + deferred + expired, per row and overall."""
        return all(
            self.planned[key] == sum(self.counts[key][o] for o in OUTCOMES)
            for key in set(self.planned) | set(self.counts)
        )

    def per_play(self) -> dict[str, Counter]:
        out: dict[str, Counter] = defaultdict(Counter)
        for (play, _, _), counter in self.counts.items():
            out[play].update(counter)
        for (play, _, _), n in self.planned.items():
            out[play]["planned"] += n
        return out

    def as_dict(self) -> dict[str, Any]:
        rows = []
        for key in sorted(set(self.planned) | set(self.counts)):
            play, channel, destination = key
            row = {"play_id": play, "channel": channel, "destination": destination, "planned": self.planned[key]}
            row.update({o: self.counts[key][o] for o in OUTCOMES})
            rows.append(row)
        totals = {"planned": self.total_planned, **{o: self.total(o) for o in OUTCOMES}}
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "rows": rows,
            "totals": totals,
            "reasons": {f"{o}:{c}": n for (o, c), n in sorted(self.reasons.items())},
            "fallbacks": self.fallbacks,
            "reconciled_resent": self.reconciled_resent,
            "reconciled_ambiguous": self.reconciled_ambiguous,
            "stopped": dict(self.stopped),
            "blocked": dict(self.blocked),
            "samples": self.samples,
        }


@dataclass
class _DestinationState:
    destination: Destination
    config: DestinationConfig
    executor: ThreadPoolExecutor
    batch_size: int
    buffer: list[Message] = field(default_factory=list)
    collected: list[Message] = field(default_factory=list)
    inflight: set[Future] = field(default_factory=set)
    fatal: str | None = None  # set by the first fatal error: later batches fail fast
    senders: SenderProcesses | None = None  # worker_processes: sends leave from these

    @property
    def max_inflight(self) -> int:
        # Two batches per worker keep workers busy while the next batch is marked pending;
        # four where an interrupted batch is safely re-sent (a deeper pipeline rides out
        # slow ledger commits), two where it would become ambiguous.
        return self.config.max_concurrency * (4 if self.destination.deduplicates else 2)


@dataclass
class _Delivery:
    results: list[tuple[Result, int]]  # (result, attempts)
    fatal: str | None = None


@dataclass
class _BatchDelivery:
    """A planned batch's outcome: one for all its messages but the outcome's exceptions."""

    outcome: BatchOutcome
    attempts: int
    fatal: str | None = None


class _LedgerWriter:
    """Writes the ledger in submission order on its own thread and connection, so the main
    thread keeps reading and rendering while the warehouse commits.

    Writes waiting together are committed together (group commit): one transaction per
    round, each write's future completing only once that transaction has committed, so a
    batch's `pending` rows are durable before it leaves. At most `depth` writes wait at a
    time; a failed write is raised on the next submit or at close.
    """

    def __init__(self, warehouse: Warehouse, schema: str, depth: int = 16, max_group: int = 64):
        self._wh = warehouse.cursor()
        self._ledger = Ledger(self._wh, schema)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._slots = threading.BoundedSemaphore(depth)
        self._max_group = max_group
        self._futures: list[Future] = []
        self._abandon = False
        self._thread = threading.Thread(target=self._run, name="omniplay-ledger", daemon=True)
        self._thread.start()

    def submit(self, method: str, *args) -> Future:
        self._raise_failures()
        self._slots.acquire()
        future: Future = Future()
        self._queue.put((method, args, future))
        self._futures.append(future)
        return future

    def _run(self) -> None:
        carried = None
        while True:
            item = carried if carried is not None else self._queue.get()
            carried = None
            if item is None:
                return
            group = [item]
            stop = False
            while len(group) < self._max_group and item[0] != "checkpoint":
                try:
                    # A resolution is usually followed at once by the next batch's mark:
                    # a moment's wait lets both share the statement and the commit.
                    more = self._queue.get(timeout=LINGER_SECONDS) if len(group) == 1 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                if more[0] == "checkpoint":  # never inside a transaction: after this group, alone
                    carried = more
                    break
                group.append(more)
            self._commit(group)
            if stop:
                return

    def _commit(self, group: list) -> None:
        futures = [f for _, _, f in group]
        try:
            if self._abandon:
                raise RuntimeError("the sync stopped before this ledger write")
            writes = self._merged(group)
            if len(writes) == 1:
                method, args = writes[0]
                method(*args)
            else:
                with self._wh.transaction():
                    for method, args in writes:
                        method(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter of the group
            for future in futures:
                future.set_exception(exc)
        else:
            for future in futures:
                future.set_result(None)
        finally:
            for _ in futures:
                self._slots.release()

    def _merged(self, group: list) -> list[tuple[Callable, tuple]]:
        """The group's writes, with every pending mark and resolution of the `sends` table
        in one statement (a statement costs milliseconds whatever its size). Reordering
        them is safe: within a group no message is both marked and resolved (a resolution
        waits for its mark's commit), and the other writes touch other tables."""
        sends = [(method, args) for method, args, _ in group if method in ("mark_pending", "resolve")]
        writes: list[tuple[Callable, tuple]] = [(getattr(self._ledger, method), args)
                                               for method, args, _ in group if method not in ("mark_pending", "resolve")]
        writes = _merge_batch_resolutions(writes, self._ledger.resolve_batches)
        ids = [item.message_id for _, args in sends for item in args[0]]
        if len(ids) == len(set(ids)):
            writes.insert(0, (self._ledger.write_sends, (sends,)))
        else:  # cannot happen within one sync; written one by one, in order, all the same
            writes[:0] = [(getattr(self._ledger, method), args) for method, args in sends]
        return writes

    def _raise_failures(self) -> None:
        done = [f for f in self._futures if f.done()]
        self._futures = [f for f in self._futures if not f.done()]
        for future in done:
            future.result()

    def close(self, flush: bool = True) -> None:
        try:
            if not flush:
                # After a failure, do not run writes queued behind it: the sync is over.
                self._abandon = True
            self._queue.put(None)
            self._thread.join()
            if flush:
                for future in self._futures:
                    future.result()
        finally:
            self._wh.close()


class SyncEngine:
    """Runs one sync of the activation queue against the configured destinations."""

    def __init__(
        self,
        warehouse: Warehouse,
        config: Config,
        options: SyncOptions | None = None,
        *,
        source: QueueSource = QueueSource(),
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[int, int | None], None] | None = None,
    ):
        self.wh = warehouse
        self.config = config
        self.options = options or SyncOptions()
        self.source = source
        self.clock = clock
        self.sleep = sleep
        self.progress = progress
        self.ledger = Ledger(warehouse, source.state_schema)
        self.summary = Summary(run_id=uuid.uuid4().hex, dry_run=self.options.dry_run)
        self.templates = TemplateStore(config.templates_dir)
        self._states: dict[str, _DestinationState] = {}
        self._unknown: set[str] = set()
        self._immediate: list[tuple[Resolution, PendingRow]] = []
        self._opt_outs: list[dict] = []
        self._plays_started: set[str] = set()
        self._handled: set[str] = set()
        self._writer: _LedgerWriter | None = None
        self._sample_candidates: dict[tuple[str, str], list] = {}
        self._batch_now: datetime | None = None
        self._utc_seen: dict[Any, datetime | None] = {}  # queue windows repeat across rows
        self._bulk: BulkPlanner | None = None

    # -- public -------------------------------------------------------------------------

    def run(self) -> Summary:
        """Sync; returns the summary. ConfigError before anything is sent if config is broken."""
        opts = self.options
        self.summary.started_at = self.clock()
        dry = opts.dry_run
        if dry:
            ledger_exists = self.ledger.exists()
        else:
            self.ledger.ensure()
            ledger_exists = True
            self.ledger.close_interrupted_runs(self._db_now())
        reader = QueueReader(self.wh, self.source, opts.plays, ledger_exists=ledger_exists)
        if not reader.queue_exists():
            raise ConfigError(
                f"activation queue {self.source.queue} not found: run `omniplay build` first "
                f"(or point OMNIPLAY_DUCKDB_PATH / --target at the warehouse that has it)"
            )
        if opts.respect_gate:
            from activation.gate import blocked_plays
            from activation.gate_checks import GateSources

            # Verdicts for this queue's run date only: a gate that never judged this
            # queue blocks nothing (run `omniplay gate` or `omniplay run` before syncing).
            self.summary.blocked = blocked_plays(self.wh, reader.latest_run_date(),
                                                 GateSources(state_schema=self.source.state_schema))
            if self.summary.blocked:
                reader = QueueReader(self.wh, self.source, opts.plays, ledger_exists=ledger_exists,
                                     exclude_plays=sorted(self.summary.blocked))
        pending = self.ledger.pending() if ledger_exists else []
        open_rows = reader.destinations()
        self._open_destinations({d for d, _, _ in open_rows} | {d for _, d, _ in pending if d})
        total = sum(n for _, _, n in open_rows) + len(pending)
        if self.progress:
            self.progress(0, total)
        if not dry:
            self._writer = _LedgerWriter(self.wh, self.source.state_schema)
        completed = False
        try:
            if not dry:
                for play in opts.plays or ():
                    self._start_play(play)
                self._reconcile(reader, pending)
            else:
                self.summary.reconciled_ambiguous = len(pending)
            segment_rows = opts.segment_rows if opts.segment_rows and total > opts.segment_rows else None
            for batch in reader.record_batches(opts.read_batch_size, segment_rows, self._between_segments):
                # One reading of the clock per batch of rows (seconds at most); the window
                # is checked again against the clock when each message is dispatched.
                self._batch_now = self.clock()
                for row in self._plan_bulk(batch):
                    if row["message_id"] in self._handled:
                        continue
                    self._take(row)
                self._drain(block=False)
                self._flush_immediate()
            self._batch_now = None
            self._finish_collected()
            for state in self._states.values():
                if state.buffer:
                    self._dispatch(state, state.buffer)
                    state.buffer = []
            self._drain(block=True, until_empty=True)
            self._flush_immediate()
            completed = True
        finally:
            for state in self._states.values():
                state.executor.shutdown(wait=True)
                if state.senders is not None:
                    state.senders.close()
                try:
                    state.destination.close()
                except Exception:  # noqa: BLE001 - closing must not hide the real outcome
                    log.warning("closing destination %s failed", state.destination.name, exc_info=True)
            if self._bulk is not None:
                self._bulk.close()
            if self._writer is not None:
                # After a failure, do not wait on writes queued behind it: the sync is over.
                self._writer.close(flush=completed)
        self.summary.finished_at = self.clock()
        if dry:
            self._pick_samples()
        else:
            self._finish_runs()
        if not self.summary.adds_up():  # a bug, never a data problem: say so loudly
            log.error("summary does not add up: %s", self.summary.as_dict()["totals"])
        return self.summary

    def _between_segments(self) -> None:
        """The reader closed a segment's query: checkpoint the ledger (DuckDB; a no-op
        elsewhere) before the next opens, so its row versions and WAL do not pile up."""
        if self.options.dry_run:
            return
        self._flush_immediate()
        self._writer.submit("checkpoint").result()

    # -- setup --------------------------------------------------------------------------

    def _open_destinations(self, names: set[str]) -> None:
        for name in sorted(names):
            if name not in self.config.raw.destinations:
                self._unknown.add(name)
                continue
            destination, cfg = self.config.build(name, clock=self.clock)
            batch = cfg.batch_size or destination.default_batch_size
            executor = ThreadPoolExecutor(max_workers=cfg.max_concurrency, thread_name_prefix=f"omniplay-{name}")
            self._states[name] = _DestinationState(destination, cfg, executor, batch)
            if cfg.worker_processes and not self.options.dry_run and not BulkPlanner.eligible(destination):
                from activation.senders import SenderProcesses  # multiprocessing: only for sender processes

                # Forked now, before the ledger writer's thread starts.
                self._states[name].senders = SenderProcesses(self.config, name, cfg.max_concurrency, self.clock,
                                                             self.sleep)
        if not self.options.dry_run:  # after every fork: no thread may be busy while one forks
            for state in self._states.values():
                if state.senders is None:
                    for _ in range(state.config.max_concurrency):
                        state.executor.submit(_prepare, state.destination)
        bulk = {name: (s.destination, s.batch_size) for name, s in self._states.items()
                if BulkPlanner.eligible(s.destination)}
        if bulk and not self.options.dry_run:
            self._bulk = BulkPlanner(self.templates, bulk, batch_prefix=f"b{self.summary.run_id[:24]}")

    def _db_now(self) -> datetime:
        return self.clock().astimezone(timezone.utc).replace(tzinfo=None)

    def _start_play(self, play_id: str) -> None:
        if play_id not in self._plays_started and not self.options.dry_run:
            self._plays_started.add(play_id)
            self._writer.submit("start_play", self.summary.run_id, play_id, self._db_now())

    # -- reconciliation -----------------------------------------------------------------

    def _reconcile(self, reader: QueueReader, pending: list[tuple[str, str | None, str | None]]) -> None:
        if not pending:
            return
        now = self._db_now()
        resend = [(m, d, b) for m, d, b in pending if d in self._states and self._states[d].destination.deduplicates]
        unsafe = [m for m, d, b in pending if not (d in self._states and self._states[d].destination.deduplicates)]
        self.summary.reconciled_ambiguous += self.ledger.mark_ambiguous(
            unsafe, "interrupted while in flight; the destination cannot deduplicate", now
        )
        rows = {r["message_id"]: r for r in reader.rows_for([m for m, _, _ in resend])}
        orphans = [m for m, _, _ in resend if m not in rows]
        self.summary.reconciled_ambiguous += self.ledger.mark_ambiguous(
            orphans, "interrupted while in flight and no longer in the queue", now
        )
        if self.progress and (unsafe or orphans):
            self.progress(len(unsafe) + len(orphans), None)
        groups: dict[tuple[str, str | None], list[Message]] = defaultdict(list)
        for message_id, dest, batch_id in resend:
            row = rows.get(message_id)
            if row is None:
                continue
            row["ledger_status"] = "pending"
            self._handled.add(message_id)
            message = self._classify(row)
            if message is not None:
                groups[(dest, batch_id)].append(message)
        for (dest, batch_id), messages in groups.items():
            self.summary.reconciled_resent += len(messages)
            self._dispatch(self._states[dest], messages, batch_id=batch_id)
        self._flush_immediate()

    # -- set-based batches (activation.bulk) -------------------------------------------

    def _plan_bulk(self, batch) -> list[dict]:
        """Dispatch the rows of a read batch the set-based path takes; return the rest as rows."""
        if self._bulk is None:
            return rows_of(batch)
        rest, planned, identities = self._bulk.plan(batch, self._db_now(), list(self.summary.stopped))
        if planned:
            for planned_batch in planned:
                for key, n in planned_batch.counts:
                    self.summary.planned[key] += n
                    if key[0] not in self._plays_started:
                        self._start_play(key[0])
            self._flush_immediate()
            # One set-based insert marks every planned batch of the read batch pending.
            pending = self._writer.submit("mark_pending_table", identities, self.summary.run_id, self._db_now())
            for planned_batch in planned:
                self._dispatch_planned(planned_batch, pending)
        return [row for part in rest.to_batches() for row in rows_of(part)]

    def _dispatch_planned(self, planned: PlannedBatch, pending: Future) -> None:
        state = self._states[planned.destination]
        future = state.executor.submit(self._deliver_planned_when_pending, pending, state, planned)
        future.omniplay_batch = planned  # type: ignore[attr-defined]
        state.inflight.add(future)
        # A read batch's batches are planned together: room for a whole read batch more
        # than the workers' own depth lets the planner work on the next read batch while
        # this one's batches leave (they wait in the executor's queue, bodies built).
        while len(state.inflight) >= state.max_inflight + -(-self.options.read_batch_size // state.batch_size):
            self._drain(block=True)

    def _deliver_planned_when_pending(self, pending: Future, state: _DestinationState,
                                      planned: PlannedBatch) -> _BatchDelivery:
        pending.result()  # nothing leaves before its `pending` rows are committed
        destination, cfg = state.destination, state.config
        attempts = 0
        last: BatchOutcome | None = None
        try:
            for attempt in retrying(cfg, self.sleep):
                with attempt:
                    if state.fatal:
                        raise FatalDestinationError(state.fatal)
                    attempts += 1
                    try:
                        last = destination.send_body(planned.batch_id, planned.body)
                    except (FatalDestinationError, RetriableDestinationError, SkippableDestinationError):
                        raise
                    except Exception as exc:  # noqa: BLE001 - the destination deduplicates: retry
                        log.warning("destination %s raised %s", destination.name, type(exc).__name__,
                                    exc_info=log.isEnabledFor(logging.DEBUG))
                        last = BatchOutcome(RETRY, error_code="unexpected_error",
                                            error_message=f"{type(exc).__name__}: {mask_text(str(exc))}"[:500])
                    if last.status == RETRY:
                        raise RetriableDestinationError(
                            f"{last.error_code or 'retry'}: {last.error_message or ''}".strip(),
                            retry_after=last.retry_after)
        except RetriableDestinationError as exc:
            code = (last.error_code if last else None) or "retries_exhausted"
            return _BatchDelivery(BatchOutcome("failed", error_code=code,
                                               error_message=f"gave up after {attempts} attempts: {exc}"[:1000]),
                                  attempts)
        except SkippableDestinationError as exc:
            return _BatchDelivery(BatchOutcome(REJECTED, error_code=exc.code or "skipped", error_message=str(exc)),
                                  attempts)
        except FatalDestinationError as exc:
            fatal = str(exc) if state.fatal else f"{destination.name}: {exc}"
            state.fatal = fatal
            return _BatchDelivery(BatchOutcome("failed", error_code="fatal", error_message=fatal), attempts, fatal)
        return _BatchDelivery(last, attempts)

    def _resolve_planned(self, planned: PlannedBatch, delivery: _BatchDelivery) -> None:
        outcome = delivery.outcome
        status = _LEDGER_STATUS.get(outcome.status, "failed")
        counts = dict(planned.counts)
        exceptions = []
        if outcome.exceptions:
            keys = self._bulk.keys_of(planned.identities, [r.message_id for r in outcome.exceptions])
            for r in outcome.exceptions:
                key = keys.get(r.message_id)
                if key is None:  # an item the batch did not hold: ignore it
                    continue
                exception_status = _LEDGER_STATUS.get(r.status, "failed")
                exceptions.append(Resolution(r.message_id, exception_status, delivery.attempts,
                                             r.provider_message_id, r.error_code, r.error_message))
                counts[key] -= 1
                self._count(key, exception_status, r.error_code)
        for key, n in counts.items():
            if n:
                self._count(key, status, outcome.error_code, n)
        now = self._db_now()
        if exceptions:  # first, so that the batch's statement leaves them alone
            self._writer.submit("resolve", exceptions, self.summary.run_id, now)
        self._writer.submit("resolve_batches", [planned.batch_id], status, self.summary.run_id, now,
                            delivery.attempts, outcome.provider_message_id == planned.batch_id, outcome.error_code,
                            outcome.error_message)
        if delivery.fatal:
            for play, _, _ in counts:
                if play not in self.summary.stopped:
                    self.summary.stopped[play] = delivery.fatal
                    log.error("play %s stopped: %s", play, delivery.fatal)

    # -- per row ------------------------------------------------------------------------

    def _take(self, row: dict) -> None:
        message = self._classify(row)
        if message is None:
            return
        state = self._states[message.destination]
        if state.destination.collects:
            state.collected.append(message)
            return
        state.buffer.append(message)
        if len(state.buffer) >= state.batch_size:
            self._dispatch(state, state.buffer)
            state.buffer = []

    def _classify(self, row: dict) -> Message | None:
        """Count the row as planned and either settle it now or return a ready Message."""
        key = (row["play_id"], row["channel"], row["destination"])
        self.summary.planned[key] += 1
        if row["play_id"] not in self._plays_started:
            self._start_play(row["play_id"])
        now = self._batch_now or self.clock()
        not_before = self._utc(row.get("not_before"))
        not_after = self._utc(row.get("not_after"))
        if row.get("ledger_status") == "ambiguous" and not self.options.resend_ambiguous:
            self._count(key, "ambiguous", "unresolved_ambiguous")
            return None
        if row["play_id"] in self.summary.stopped:
            return self._settle(row, "failed", "play_stopped", self.summary.stopped[row["play_id"]])
        if not_after is not None and now > not_after:
            return self._settle(row, "expired", "window_closed", "not_after passed before sending")
        if not_before is not None and now < not_before:
            self._count(key, "deferred", "window_not_open")
            return None
        state = self._states.get(row["destination"])
        if state is None:
            return self._settle(row, "rejected", "unknown_destination",
                                f"destination {row['destination']!r} is not configured")
        if row["channel"] not in state.destination.channels:
            return self._settle(row, "rejected", "channel_not_supported",
                                f"{state.destination.type_name} does not deliver {row['channel']!r}")
        try:
            check_address(row["channel"], row.get("address"))
        except InvalidAddress as exc:
            return self._settle(row, "rejected", "invalid_address", str(exc))
        try:
            payload = json.loads(row["payload"]) if row.get("payload") else {}
            if not isinstance(payload, dict):
                raise ValueError("payload must be a JSON object")
        except ValueError as exc:
            return self._settle(row, "rejected", "invalid_payload", str(exc)[:200])
        message = Message(
            message_id=row["message_id"], play_id=row["play_id"], play_version=row.get("play_version"),
            profile_id=row["profile_id"], channel=row["channel"], destination=row["destination"],
            address=row["address"], recipient_timezone=row.get("recipient_timezone"),
            not_before=not_before, not_after=not_after, template=row.get("template") or "",
            payload=payload, run_date=row.get("run_date"), decided_at=row.get("decided_at"),
        )
        context = self._context(state.destination, message, payload)
        try:
            rendered = self.templates.render(message.template, message.channel, context)
        except UnknownTemplate:
            return self._settle(row, "rejected", "unknown_template", f"no template named {message.template!r}")
        except RenderFailed as exc:
            return self._settle(row, "rejected", "template_error", str(exc))
        message.content = rendered.parts
        message.fallback_reason = rendered.fallback_reason
        if rendered.fallback_reason:
            self.summary.fallbacks += 1
            self.summary.reasons[("fallback", "template_fallback")] += 1
        if self.options.dry_run:
            # Keep a few candidates per (play, channel); samples are picked across them at the end.
            bucket = self._sample_candidates.setdefault((message.play_id, message.channel), [])
            if len(bucket) < self.options.samples:
                bucket.append((state.destination, message, payload))
        return message

    def _utc(self, value: Any) -> datetime | None:
        try:
            return self._utc_seen[value]
        except KeyError:
            pass
        except TypeError:  # unhashable: not a timestamp anyway
            return _utc(value)
        if len(self._utc_seen) > 10_000:
            self._utc_seen.clear()
        converted = self._utc_seen[value] = _utc(value)
        return converted

    def _context(self, destination: Destination, message: Message, payload: dict) -> dict:
        context = dict(payload)
        context.update(
            message_id=message.message_id, play_id=message.play_id, profile_id=message.profile_id,
            channel=message.channel,
        )
        context.update(destination.template_context(message))
        return context

    def _pick_samples(self) -> None:
        """Up to `samples` renders, one per play and channel before any repeats."""
        buckets = [list(b) for _, b in sorted(self._sample_candidates.items())]
        while buckets and len(self.summary.samples) < self.options.samples:
            for bucket in buckets:
                if bucket and len(self.summary.samples) < self.options.samples:
                    self._sample(*bucket.pop(0))
            buckets = [b for b in buckets if b]

    def _sample(self, destination: Destination, message: Message, payload: dict) -> None:
        masked = mask_payload(payload)
        try:
            rendered = self.templates.render(message.template, message.channel,
                                             self._context(destination, message, masked))
            content = {k: mask_text(v) for k, v in rendered.parts.items()}
        except (UnknownTemplate, RenderFailed) as exc:
            content = {"error": str(exc)}
        self.summary.samples.append({
            "message_id": message.message_id, "play_id": message.play_id, "channel": message.channel,
            "destination": message.destination, "to": mask_address(message.address, message.channel),
            "template": message.template, "content": content,
        })

    def _settle(self, row: dict, outcome: str, code: str, error: str) -> None:
        """A final outcome decided without contacting the destination."""
        key = (row["play_id"], row["channel"], row["destination"])
        self._count(key, outcome, code)
        if not self.options.dry_run:
            self._immediate.append((
                Resolution(row["message_id"], outcome, 0, None, code, error),
                PendingRow(row["message_id"], row["play_id"], row["profile_id"], row["channel"],
                           row["destination"], None),
            ))
            if len(self._immediate) >= 5000:
                self._flush_immediate()
        return None

    def _count(self, key, outcome: str, code: str | None, n: int = 1) -> None:
        self.summary.add(key, outcome, code, n)
        if self.progress:
            self.progress(n, None)

    def _flush_immediate(self) -> None:
        if not self._immediate or self.options.dry_run:
            self._immediate = []
            return
        resolutions = [r for r, _ in self._immediate]
        identities = {p.message_id: p for _, p in self._immediate}
        self._writer.submit("resolve", resolutions, self.summary.run_id, self._db_now(), identities)
        self._immediate = []

    # -- batches ------------------------------------------------------------------------

    def _finish_collected(self) -> None:
        for state in self._states.values():
            if not state.collected:
                continue
            collected, state.collected = state.collected, []
            if self.options.dry_run:
                admitted, deferred = collected, []
            else:
                admitted, deferred = state.destination.admit(collected)
            keys = {m.message_id: (m.play_id, m.channel, m.destination) for m in collected}
            for result in deferred:
                self._count(keys[result.message_id], "deferred", result.error_code or "capacity")
            for start in range(0, len(admitted), state.batch_size):
                self._dispatch(state, admitted[start : start + state.batch_size])

    def _dispatch(self, state: _DestinationState, messages: list[Message], batch_id: str | None = None) -> None:
        now = self.clock()
        ready: list[Message] = []
        for m in messages:
            if m.play_id in self.summary.stopped:
                self._settle_message(m, "failed", "play_stopped", self.summary.stopped[m.play_id])
            elif m.not_after is not None and now > m.not_after:
                self._settle_message(m, "expired", "window_closed", "not_after passed before sending")
            else:
                ready.append(m)
        if not ready:
            return
        if self.options.dry_run:
            for m in ready:
                self._count((m.play_id, m.channel, m.destination), "sent", None)
            return
        bid = batch_id or _batch_id(state.destination.name, ready)
        rows = []
        for m in ready:
            m.batch_id = bid
            rows.append(PendingRow(m.message_id, m.play_id, m.profile_id, m.channel, m.destination, bid))
        self._flush_immediate()
        pending = self._writer.submit("mark_pending", rows, self.summary.run_id, self._db_now())
        future = state.executor.submit(self._deliver_when_pending, pending, state, ready)
        future.omniplay_batch = ready  # type: ignore[attr-defined]
        state.inflight.add(future)
        while len(state.inflight) >= state.max_inflight:
            self._drain(block=True)

    def _settle_message(self, m: Message, outcome: str, code: str, error: str) -> None:
        self._settle({"message_id": m.message_id, "play_id": m.play_id, "channel": m.channel,
                      "destination": m.destination, "profile_id": m.profile_id}, outcome, code, error)

    def _drain(self, block: bool, until_empty: bool = False) -> None:
        """Resolve finished batches; with block, wait for at least one (or all)."""
        while True:
            inflight = [f for s in self._states.values() for f in s.inflight]
            if not inflight:
                return
            done = [f for f in inflight if f.done()]
            if not done and block:
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
            for future in done:
                self._resolve(future)
            if not (until_empty and any(s.inflight for s in self._states.values())):
                return

    def _resolve(self, future: Future) -> None:
        batch = future.omniplay_batch  # type: ignore[attr-defined]
        for state in self._states.values():
            state.inflight.discard(future)
        if isinstance(batch, PlannedBatch):
            self._resolve_planned(batch, future.result())
            return
        delivery: _Delivery = future.result()  # raises only if the pending write failed
        by_id = {m.message_id: m for m in batch}
        resolutions = []
        for result, attempts in delivery.results:
            m = by_id[result.message_id]
            status = _LEDGER_STATUS.get(result.status, "failed")
            # The row exists since mark_pending: only the outcome columns change.
            resolutions.append(Resolution(m.message_id, status, attempts, result.provider_message_id,
                                          result.error_code, result.error_message))
            self._count((m.play_id, m.channel, m.destination), status, result.error_code)
            if result.opt_out:
                self._opt_outs.append({
                    "message_id": m.message_id, "identifier_type": "phone" if m.channel == "sms" else m.channel,
                    "identifier_value": m.address, "channel": m.channel,
                    "source": f"{state_type(self._states, m.destination)}_provider",
                    "profile_id": m.profile_id,
                })
        now = self._db_now()
        self._writer.submit("resolve", resolutions, self.summary.run_id, now)
        if self._opt_outs:
            self._writer.submit("record_opt_outs", self._opt_outs, now)
            self._opt_outs = []
        if delivery.fatal:
            for m in batch:
                if m.play_id not in self.summary.stopped:
                    self.summary.stopped[m.play_id] = delivery.fatal
                    log.error("play %s stopped: %s", m.play_id, delivery.fatal)

    # -- worker side --------------------------------------------------------------------

    def _deliver_when_pending(self, pending: Future, state: _DestinationState, batch: list[Message]) -> _Delivery:
        # Nothing leaves before its `pending` row is committed: that is what crash safety rests on.
        pending.result()
        return self._deliver(state, batch)

    def _deliver(self, state: _DestinationState, batch: list[Message]) -> _Delivery:
        if state.senders is None:
            return deliver_batch(state.destination, state.config, batch, self.sleep, state)
        if state.fatal:  # later batches fail fast, as in a thread: nothing leaves
            return deliver_batch(state.destination, state.config, batch, self.sleep, state)
        delivery = state.senders.deliver(batch, state.destination.deduplicates)
        if delivery.fatal and not state.fatal:
            state.fatal = delivery.fatal
        return delivery

    # -- end ----------------------------------------------------------------------------

    def _finish_runs(self) -> None:
        per_play = self.summary.per_play()
        now = self._db_now()
        for play in sorted(self._plays_started):
            counts = per_play.get(play, Counter())
            if play in self.summary.stopped:
                outcome = "stopped"
            elif counts["failed"]:
                outcome = "partial"
            else:
                outcome = "success"
            self.ledger.finish_play(self.summary.run_id, play, counts, outcome, now,
                                    self.summary.stopped.get(play))


def deliver_batch(destination: Destination, cfg: DestinationConfig, batch: list[Message],
                  sleep: Callable[[float], None], state: Any) -> _Delivery:
    """Send a batch with bounded retries; never raises (outcomes go in the results).
    `state.fatal` (read and set) stops later batches of the destination once one is fatal."""
    outstanding = list(batch)
    attempts: Counter = Counter()
    final: dict[str, Result] = {}
    last_retry: dict[str, Result] = {}
    fatal: str | None = None
    try:
        for attempt in retrying(cfg, sleep):
            with attempt:
                if state.fatal:
                    raise FatalDestinationError(state.fatal)
                for m in outstanding:
                    attempts[m.message_id] += 1
                try:
                    results = destination.send(outstanding)
                except (FatalDestinationError, RetriableDestinationError, SkippableDestinationError):
                    raise
                except Exception as exc:  # noqa: BLE001 - unknown: delivery state unknown too
                    log.warning("destination %s raised %s", destination.name, type(exc).__name__,
                                exc_info=log.isEnabledFor(logging.DEBUG))
                    status = RETRY if destination.deduplicates else AMBIGUOUS
                    results = [Result(m.message_id, status, error_code="unexpected_error",
                                      error_message=f"{type(exc).__name__}: {mask_text(str(exc))}"[:500])
                               for m in outstanding]
                returned = {r.message_id: r for r in results}
                retry: list[Message] = []
                for m in outstanding:
                    r = returned.get(m.message_id)
                    if r is None:
                        r = Result(m.message_id, RETRY if destination.deduplicates else AMBIGUOUS,
                                   error_code="no_result", error_message="destination returned no result")
                    if r.status == RETRY:
                        retry.append(m)
                        last_retry[m.message_id] = r
                    else:
                        final[m.message_id] = r
                outstanding = retry
                if outstanding:
                    worst = max((last_retry[m.message_id].retry_after or 0) for m in outstanding)
                    sample = last_retry[outstanding[0].message_id]
                    raise RetriableDestinationError(
                        f"{sample.error_code or 'retry'}: {sample.error_message or ''}".strip(),
                        retry_after=worst or None,
                    )
    except RetriableDestinationError as exc:
        for m in outstanding:
            prior = last_retry.get(m.message_id)
            final[m.message_id] = Result(
                m.message_id, "failed",
                error_code=(prior.error_code if prior else None) or "retries_exhausted",
                error_message=f"gave up after {attempts[m.message_id]} attempts: {exc}"[:1000],
            )
    except SkippableDestinationError as exc:
        for m in outstanding:
            final[m.message_id] = Result(m.message_id, REJECTED, error_code=exc.code or "skipped",
                                         error_message=str(exc))
    except FatalDestinationError as exc:
        fatal = str(exc) if state.fatal else f"{destination.name}: {exc}"
        state.fatal = fatal
        for m in outstanding:
            final[m.message_id] = Result(m.message_id, "failed", error_code="fatal", error_message=fatal)
    return _Delivery([(final[m.message_id], attempts[m.message_id]) for m in batch], fatal)


def _merge_batch_resolutions(writes: list[tuple[Callable, tuple]], resolve_batches: Callable) -> list:
    """Consecutive `resolve_batches` writes alike but for their batches, as one (a statement
    scans the ledger whatever its size); the latest time stands for them all."""
    merged: list[tuple[Callable, tuple]] = []
    for method, args in writes:
        if merged and method == resolve_batches and merged[-1][0] == resolve_batches:
            prior = merged[-1][1]
            if prior[1:3] == args[1:3] and prior[4:] == args[4:]:  # status, run, attempts, provider, error
                merged[-1] = (method, (prior[0] + args[0], *prior[1:3], max(prior[3], args[3]), *prior[4:]))
                continue
        merged.append((method, args))
    return merged


def _prepare(destination: Destination) -> None:
    """A worker's warm-up: a failure here is only logged (the first send meets it again)."""
    try:
        destination.prepare()
    except Exception:  # noqa: BLE001 - reported by the send that needs what failed
        log.debug("preparing destination %s failed", destination.name, exc_info=True)


def retrying(cfg: DestinationConfig, sleep: Callable[[float], None]) -> Retrying:
    """Bounded attempts of one batch, backing off (or as Retry-After says) in between."""
    return Retrying(
        stop=stop_after_attempt(cfg.max_attempts),
        wait=wait_backoff_or_retry_after(cfg.backoff_initial, cfg.backoff_max),
        retry=retry_if_exception_type(RetriableDestinationError),
        reraise=True,
        sleep=sleep,
    )


def state_type(states: dict[str, _DestinationState], name: str) -> str:
    state = states.get(name)
    return state.destination.type_name if state else name


def _batch_id(destination: str, messages: list[Message]) -> str:
    digest = hashlib.sha256(destination.encode())
    for m in sorted(messages, key=lambda m: m.message_id):
        digest.update(b"\0" + m.message_id.encode())
    return digest.hexdigest()[:32]


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def sync(warehouse: Warehouse, config: Config, options: SyncOptions | None = None, **kwargs) -> Summary:
    """Run one sync (see SyncEngine)."""
    return SyncEngine(warehouse, config, options, **kwargs).run()
