"""Sender processes: each worker of a destination sends from a process of its own.

Worker threads of one process share one GIL, so SMTP and Twilio sends, whose clients
are CPU-bound on a fast network, use one core however many workers there are. With
`worker_processes: true` the sync forks one sender process per worker before it starts
writing; a worker thread hands its batch (already committed `pending`) over a pipe and
waits for the results, which the sync process writes to the ledger: the ledger keeps a
single writer. A sender process never touches the warehouse and leaves with `os._exit`
(multiprocessing's fork start), so no inherited connection is closed or checkpointed
from it. The rate limit is split evenly between the processes.

A sender that dies mid-batch leaves that batch like a crash would: `ambiguous` where the
destination cannot deduplicate, `failed` (re-sent by a later run) where it can.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import types
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from activation.destinations import AMBIGUOUS, Message, Result

if TYPE_CHECKING:
    from activation.config import Config

JOIN_SECONDS = 10.0


class SenderProcesses:
    """`count` forked sender processes for destination `name`, each behind its own pipe."""

    def __init__(self, config: Config, name: str, count: int, clock: Callable[[], datetime],
                 sleep: Callable[[float], None]):
        context = multiprocessing.get_context("fork")
        self.name = name
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        self._processes = []
        self._lock = threading.Lock()
        self._live = count
        for _ in range(count):
            here, there = context.Pipe()
            # The child closes the sync's ends of every pipe made so far (its own too): once
            # the sync process is gone, however it ended, each sender then reads EOF and exits.
            ours = [here, *(c for _, c in self._processes)]
            process = context.Process(target=_serve, args=(there, ours, config, name, count, clock, sleep),
                                      name=f"omniplay-{name}-sender", daemon=True)
            process.start()
            there.close()
            self._processes.append((process, here))
            self._free.put(here)

    def deliver(self, batch: list[Message], deduplicates: bool):
        """Send a batch from a free sender process; its `_Delivery` (see activation.engine)."""
        from activation.engine import _Delivery

        with self._lock:
            if not self._live:
                return _Delivery(_lost(batch, deduplicates, "no sender process is left"),
                                 fatal=f"{self.name}: every sender process died")
        connection = self._free.get()
        if connection is None:
            return _Delivery(_lost(batch, deduplicates, "no sender process is left"),
                             fatal=f"{self.name}: every sender process died")
        try:
            connection.send(batch)
            delivery = connection.recv()
        except (EOFError, OSError) as exc:
            with self._lock:
                self._live -= 1
                if not self._live:  # wake the workers waiting for a sender: none will come back
                    for _ in self._processes:
                        self._free.put(None)
            return _Delivery(_lost(batch, deduplicates, f"the sender process died: {type(exc).__name__}"))
        self._free.put(connection)
        return delivery

    def close(self) -> None:
        for process, connection in self._processes:
            try:
                connection.send(None)
            except OSError:
                pass
        for process, connection in self._processes:
            process.join(JOIN_SECONDS)
            if process.is_alive():
                process.terminate()
                process.join(JOIN_SECONDS)
            connection.close()


def _lost(batch: list[Message], deduplicates: bool, why: str) -> list[tuple[Result, int]]:
    status = "failed" if deduplicates else AMBIGUOUS
    return [(Result(m.message_id, status, error_code="sender_lost", error_message=why), 1) for m in batch]


def _serve(connection: Any, inherited: list, config: Config, name: str, share: int,
           clock: Callable[[], datetime], sleep: Callable[[float], None]) -> None:
    """A sender process: build the destination, then deliver batches until told to stop."""
    from activation.engine import deliver_batch

    for other in inherited:
        other.close()
    destination, cfg = config.build(name, clock=clock, rate_share=share)
    state = types.SimpleNamespace(fatal=None)
    try:
        while True:
            try:
                batch = connection.recv()
            except EOFError:  # the sync process is gone
                return
            if batch is None:
                return
            connection.send(deliver_batch(destination, cfg, batch, sleep, state))
    finally:
        destination.close()
