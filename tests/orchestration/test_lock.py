"""Per-target lock: real processes racing, SIGKILLed holders, stale metadata."""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from omniplay.errors import ConfigError, LockHeld
from omniplay.lock import (
    LOCK_DIR_ENV,
    LockHolder,
    TargetLock,
    TargetLockHeld,
    lock_path,
    read_holder,
    target_identity,
    target_lock,
)
from omniplay.settings import Settings

HOLDER = Path(__file__).with_name("lock_holder.py")
WAIT = 20.0  # generous upper bound for a subprocess to start on a busy 2-core machine


class Holder:
    """A lock_holder.py subprocess and the lines it prints (read by a thread, so a hung
    process fails the test after WAIT seconds instead of blocking it)."""

    def __init__(self, lock_file: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HOLDER), str(lock_file), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line.strip())
        self._lines.put(None)  # end of output

    def expect(self, prefix: str) -> str:
        """Wait for a stdout line starting with prefix; return the rest of it."""
        deadline = time.monotonic() + WAIT
        while True:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no {prefix!r} line within {WAIT}s") from None
            if line is None:
                self.proc.wait(timeout=WAIT)
                raise AssertionError(f"holder exited before {prefix!r}: {self.proc.stderr.read()}")
            if line.startswith(prefix):
                return line[len(prefix):].strip()

    def finish(self) -> tuple[int, str]:
        """Wait for the exit; return the exit code and stderr."""
        self.proc.wait(timeout=WAIT)
        return self.proc.returncode, self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=WAIT)
        self.proc.stderr.close()


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        holder.kill()


def test_two_processes_racing_one_wins_the_other_exits_5(tmp_path, holders):
    lock_file = tmp_path / "omniplay.duckdb.lock"
    for round_ in range(3):
        go, release = tmp_path / f"go{round_}", tmp_path / f"release{round_}"
        pair = [Holder(lock_file, "--go", str(go), "--hold-until", str(release)) for _ in range(2)]
        holders.extend(pair)
        for holder in pair:
            holder.expect("READY")
        go.touch()  # both try at the same moment

        # The loser exits by itself with 5; the winner holds until released.
        deadline = time.monotonic() + WAIT
        while all(h.proc.poll() is None for h in pair) and time.monotonic() < deadline:
            time.sleep(0.01)
        finished = [h for h in pair if h.proc.poll() is not None]
        assert len(finished) == 1, "expected exactly one process to give up at once"
        loser = finished[0]
        winner = next(h for h in pair if h is not loser)
        code, err = loser.finish()
        assert code == 5, err
        winner_pid = int(winner.expect("ACQUIRED"))
        assert winner_pid == winner.proc.pid
        assert re.search(
            rf"target 'duckdb' is locked by another omniplay run: pid {winner_pid} on host "
            rf"{re.escape(socket.gethostname())}, started \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ, "
            r"command 'omniplay run'",
            err,
        ), err
        assert str(lock_file) in err

        release.touch()
        assert winner.finish()[0] == 0
        assert read_holder(lock_file) is None  # clean release clears the metadata


def test_sigkilled_holder_is_taken_over(tmp_path, holders, caplog):
    lock_file = tmp_path / "omniplay.duckdb.lock"
    holder = Holder(lock_file, "--hold-until", str(tmp_path / "never"))
    holders.append(holder)
    pid = int(holder.expect("ACQUIRED"))
    assert read_holder(lock_file).pid == pid
    with pytest.raises(TargetLockHeld):
        TargetLock(lock_file, target="duckdb", command="omniplay sync --due").acquire()

    os.kill(pid, signal.SIGKILL)
    holder.proc.wait(timeout=WAIT)

    caplog.set_level(logging.WARNING, logger="omniplay.lock")
    with TargetLock(lock_file, target="duckdb", command="omniplay sync --due") as lock:
        assert lock.took_over is not None
        assert lock.took_over.pid == pid and lock.took_over.command == "omniplay run"
        assert lock.took_over.is_running() is False
        assert read_holder(lock_file).pid == os.getpid()
        assert read_holder(lock_file).command == "omniplay sync --due"
    assert f"took over stale lock from pid {pid}" in caplog.text
    assert "no longer running" in caplog.text

    # A clean release leaves nothing to take over.
    with TargetLock(lock_file, target="duckdb", command="omniplay run") as lock:
        assert lock.took_over is None


def test_takeover_is_reported_by_the_next_process(tmp_path, holders):
    lock_file = tmp_path / "omniplay.duckdb.lock"
    first = Holder(lock_file, "--hold-until", str(tmp_path / "never"))
    holders.append(first)
    dead = int(first.expect("ACQUIRED"))
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=WAIT)

    release = tmp_path / "release"
    second = Holder(lock_file, "--hold-until", str(release))
    holders.append(second)
    second.expect("ACQUIRED")
    assert int(second.expect("TOOK_OVER")) == dead
    release.touch()
    code, err = second.finish()
    assert code == 0
    assert f"took over stale lock from pid {dead}" in err  # logged as a warning (stderr)


def test_child_processes_do_not_inherit_the_lock(tmp_path, holders):
    lock_file = tmp_path / "omniplay.duckdb.lock"
    holder = Holder(lock_file, "--spawn-child", "--hold-until", str(tmp_path / "never"))
    holders.append(holder)
    holder.expect("ACQUIRED")
    child = int(holder.expect("CHILD"))
    try:
        holder.proc.kill()
        holder.proc.wait(timeout=WAIT)
        os.kill(child, 0)  # the child still runs
        with TargetLock(lock_file, target="duckdb", command="omniplay run") as lock:
            assert lock.took_over.pid == holder.proc.pid
    finally:
        os.kill(child, signal.SIGKILL)


def test_second_lock_in_the_same_process_is_refused(tmp_path):
    path = tmp_path / "x.lock"
    with TargetLock(path, target="postgres", command="omniplay run") as lock:
        assert lock.locked
        with pytest.raises(LockHeld) as info:
            TargetLock(path, target="postgres", command="omniplay sync --due").acquire()
        error = info.value
        assert isinstance(error, TargetLockHeld) and error.exit_code == 5
        assert error.holder.pid == os.getpid() and error.holder.command == "omniplay run"
        assert error.path == path
        assert str(error).startswith("target 'postgres' is locked by another omniplay run: ")
    assert not lock.locked
    with pytest.raises(RuntimeError, match="already held"), TargetLock(path, target="postgres", command="x") as again:
        again.acquire()


def test_lock_is_released_when_the_block_raises(tmp_path):
    path = tmp_path / "x.lock"
    with pytest.raises(KeyError), TargetLock(path, target="duckdb", command="omniplay run"):
        raise KeyError("boom")
    with TargetLock(path, target="duckdb", command="omniplay run") as lock:
        assert lock.took_over is None


def test_timeout_waits_for_the_holder_to_finish(tmp_path, holders):
    lock_file = tmp_path / "x.lock"
    release = tmp_path / "release"
    holder = Holder(lock_file, "--hold-until", str(release))
    holders.append(holder)
    holder.expect("ACQUIRED")

    with pytest.raises(TargetLockHeld, match=r"after waiting 0\.2s: pid \d+"):
        TargetLock(lock_file, target="duckdb", command="omniplay run", timeout=0.2, poll_interval=0.05).acquire()

    threading.Timer(0.3, release.touch).start()
    with TargetLock(lock_file, target="duckdb", command="omniplay run", timeout=WAIT, poll_interval=0.05) as lock:
        assert lock.took_over is None  # the holder released cleanly before we got it
    assert holder.finish()[0] == 0


def test_unreadable_metadata_is_overwritten(tmp_path, caplog):
    path = tmp_path / "x.lock"
    path.write_text("not json")
    caplog.set_level(logging.WARNING, logger="omniplay.lock")
    with TargetLock(path, target="duckdb", command="omniplay run") as lock:
        assert lock.took_over is None
        data = json.loads(path.read_text())
        assert data["pid"] == os.getpid() and data["command"] == "omniplay run"
    assert "unreadable metadata" in caplog.text


def test_holder_metadata_round_trip():
    holder = LockHolder.current("omniplay run", "duckdb")
    assert LockHolder.from_json(holder.to_json()) == holder
    assert holder.is_running() is True
    assert LockHolder.from_json(b"") is None
    assert LockHolder.from_json(b'{"pid": "x"}') is None
    elsewhere = LockHolder(1, "another-host", holder.started_at, "omniplay run", "duckdb")
    assert elsewhere.is_running() is None


# --- where the lock lives ---------------------------------------------------------------

@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("OMNIPLAY_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OMNIPLAY_DUCKDB_PATH", str(tmp_path / "wh" / "omniplay.duckdb"))
    return monkeypatch


def test_duckdb_lock_sits_next_to_the_database(clean_env, tmp_path):
    settings = Settings.from_env(tmp_path / "project", "duckdb")
    assert lock_path(settings) == tmp_path / "wh" / "omniplay.duckdb.lock"
    assert target_identity(settings) == f"duckdb:{tmp_path / 'wh' / 'omniplay.duckdb'}"
    with target_lock(settings, command="omniplay run") as lock:
        assert lock.path.exists() and lock.target == "duckdb"


def test_postgres_lock_is_keyed_by_connection_identity(clean_env, tmp_path):
    project = tmp_path / "project"
    settings = Settings.from_env(project, "postgres")
    clean_env.setenv("OMNIPLAY_PG_HOST", "db.internal")
    clean_env.setenv("DBT_ENV_SECRET_OMNIPLAY_PG_PASSWORD", "hunter2hunter2")
    first = lock_path(settings)
    assert first.parent == project / "target" / "locks"
    assert re.fullmatch(r"postgres-[0-9a-f]{12}\.lock", first.name)
    assert "hunter2" not in target_identity(settings)
    assert target_identity(settings) == "postgres://omniplay@db.internal:5432/omniplay/public"

    clean_env.setenv("OMNIPLAY_PG_PASSWORD", "other")  # the password is not part of the key
    assert lock_path(settings) == first
    clean_env.setenv("OMNIPLAY_PG_SCHEMA", "staging")
    assert lock_path(settings) != first

    clean_env.setenv(LOCK_DIR_ENV, str(tmp_path / "shared-locks"))
    assert lock_path(settings).parent == tmp_path / "shared-locks"
    with target_lock(settings, command="omniplay run") as lock:
        assert lock.path.parent.is_dir()


def test_lock_timeout_from_the_environment(clean_env, tmp_path):
    settings = Settings.from_env(tmp_path / "project", "duckdb")
    assert target_lock(settings, command="omniplay run").timeout == 0
    clean_env.setenv("OMNIPLAY_LOCK_TIMEOUT", "900")
    assert target_lock(settings, command="omniplay run").timeout == 900
    assert target_lock(settings, command="omniplay run", timeout=1.5).timeout == 1.5
    for bad in ("soon", "-1", "nan"):
        clean_env.setenv("OMNIPLAY_LOCK_TIMEOUT", bad)
        with pytest.raises(ConfigError, match=r"OMNIPLAY_LOCK_TIMEOUT: .* is not a number of seconds"):
            target_lock(settings, command="omniplay run")
