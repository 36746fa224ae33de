"""One writer per target: a per-target lock for ``omniplay run`` and ``omniplay sync``.

The lock is an OS advisory lock (``fcntl.flock``) on a small file, so the kernel
releases it the moment the holding process dies, however it dies. The file also holds
the holder's metadata (pid, host, start time, command) so a refused run can say who
holds the lock, and a run that finds metadata left behind by a process that died
without releasing reports that it took over a stale lock.

Where the lock file lives (see :func:`lock_path`):

* DuckDB targets: next to the database file (``<file>.duckdb.lock``), so every project
  directory pointing at the same file shares one lock.
* Other targets (PostgreSQL, Spark): ``$OMNIPLAY_LOCK_DIR`` or ``<project>/target/locks``,
  one file per target name and connection identity (host, port, database, schema).
  Point ``OMNIPLAY_LOCK_DIR`` at one shared local directory if several checkouts on a
  machine write to the same database.

The lock directory must be on a local filesystem (``flock`` is not reliable over NFS).
The lock is not re-entrant: take it once, at the command boundary.

Example::

    with target_lock(settings, command="omniplay run") as lock:
        if lock.took_over:
            log.warning("previous run died: %s", lock.took_over.describe())
        ...  # build, gate, sync
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import socket
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from omniplay import __version__
from omniplay.errors import ConfigError, LockHeld
from omniplay.settings import Settings

__all__ = [
    "LOCK_DIR_ENV",
    "LOCK_TIMEOUT_ENV",
    "LockHolder",
    "TargetLock",
    "TargetLockHeld",
    "lock_path",
    "read_holder",
    "target_identity",
    "target_lock",
]

LOCK_DIR_ENV = "OMNIPLAY_LOCK_DIR"
LOCK_TIMEOUT_ENV = "OMNIPLAY_LOCK_TIMEOUT"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or last held) a target lock."""

    pid: int
    host: str
    started_at: datetime
    command: str
    target: str
    version: str = __version__

    @classmethod
    def current(cls, command: str, target: str) -> LockHolder:
        """Metadata describing this process."""
        return cls(
            pid=os.getpid(),
            host=socket.gethostname(),
            started_at=datetime.now(UTC).replace(microsecond=0),
            command=command,
            target=target,
        )

    def describe(self) -> str:
        """One line: ``pid 123 on host web1, started 2026-...Z, command 'omniplay run'``."""
        started = self.started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"pid {self.pid} on host {self.host}, started {started}, command {self.command!r}"

    def is_running(self) -> bool | None:
        """Whether the pid is alive; ``None`` when it ran on another host (unknowable)."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # exists, owned by someone else
            return True
        return True

    def to_json(self) -> bytes:
        data = asdict(self)
        data["started_at"] = self.started_at.astimezone(UTC).isoformat()
        return (json.dumps(data, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, raw: bytes) -> LockHolder | None:
        """Parse metadata; ``None`` when the file is empty or not ours."""
        try:
            data = json.loads(raw.decode())
            return cls(
                pid=int(data["pid"]),
                host=str(data["host"]),
                started_at=datetime.fromisoformat(data["started_at"]),
                command=str(data["command"]),
                target=str(data["target"]),
                version=str(data.get("version", "")),
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None


class TargetLockHeld(LockHeld):
    """The target's lock is held by another process (exit code 5).

    Attributes:
        holder: the holder's metadata, ``None`` if it had not written it yet.
        path: the lock file.
    """

    def __init__(self, message: str, *, holder: LockHolder | None, path: Path) -> None:
        super().__init__(message)
        self.holder = holder
        self.path = path


def target_identity(settings: Settings) -> str:
    """What the lock is keyed by: the target name and where it writes.

    For DuckDB the database file; for PostgreSQL host, port, database and schema from
    the same environment variables ``profiles.yml`` reads (never the password).
    """
    target = settings.target
    if target == "duckdb":
        return f"duckdb:{settings.duckdb_path}"
    if target == "postgres":
        env = os.environ.get
        return (
            f"postgres://{env('OMNIPLAY_PG_USER', 'omniplay')}@{env('OMNIPLAY_PG_HOST', '127.0.0.1')}"
            f":{env('OMNIPLAY_PG_PORT', '5432')}/{env('OMNIPLAY_PG_DATABASE', 'omniplay')}"
            f"/{env('OMNIPLAY_PG_SCHEMA', 'public')}"
        )
    if target == "spark":
        return f"spark:{settings.project_dir}/{os.environ.get('OMNIPLAY_SPARK_SCHEMA', 'omniplay')}"
    return f"{target}:{settings.project_dir}"


def lock_path(settings: Settings) -> Path:
    """The lock file for the settings' target (see the module docstring)."""
    if settings.target == "duckdb":
        db = settings.duckdb_path
        return db.with_name(db.name + ".lock")
    digest = hashlib.sha256(target_identity(settings).encode()).hexdigest()[:12]
    base = os.environ.get(LOCK_DIR_ENV)
    directory = Path(base) if base else settings.project_dir / "target" / "locks"
    return directory / f"{settings.target}-{digest}.lock"


def read_holder(path: Path) -> LockHolder | None:
    """The metadata currently in a lock file, without locking it.

    It names the running holder while the lock is held; after a crash it names the dead
    one until the next run takes over. Empty after a clean release.
    """
    try:
        return LockHolder.from_json(Path(path).read_bytes())
    except FileNotFoundError:
        return None


class TargetLock:
    """An exclusive, non-re-entrant lock on one target. Use it as a context manager.

    Attributes:
        path: the lock file.
        holder: this process's metadata once acquired.
        took_over: the previous holder when it died without releasing, else ``None``.
    """

    def __init__(
        self,
        path: Path,
        *,
        target: str,
        command: str,
        timeout: float = 0.0,
        poll_interval: float = 0.2,
    ) -> None:
        """Args:
        path: lock file (created with its directory if missing).
        target: target name, shown in messages.
        command: what is running, e.g. ``"omniplay run"``; shown to a refused run.
            Pass the command name, not the full argv (it may hold secrets).
        timeout: seconds to keep retrying before giving up; 0 fails at once.
        poll_interval: seconds between retries while waiting.
        """
        self.path = Path(path)
        self.target = target
        self.command = command
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.holder: LockHolder | None = None
        self.took_over: LockHolder | None = None
        self._fd: int | None = None

    @property
    def locked(self) -> bool:
        return self._fd is not None

    def acquire(self) -> TargetLock:
        """Take the lock or raise :class:`TargetLockHeld` (a ``LockHeld``, exit code 5)."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this TargetLock")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_CLOEXEC (Python's default) keeps child processes from inheriting the lock.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + max(self.timeout, 0.0)
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise
                if time.monotonic() >= deadline:
                    raise self._held_error(fd)
                time.sleep(min(self.poll_interval, max(deadline - time.monotonic(), 0.01)))

            previous = _read_fd(fd)
            if previous:
                self.took_over = LockHolder.from_json(previous)
                self._report_takeover(previous)
            self.holder = LockHolder.current(self.command, self.target)
            os.ftruncate(fd, 0)
            os.pwrite(fd, self.holder.to_json(), 0)
        except BaseException:
            os.close(fd)  # closing drops the flock too
            raise
        self._fd = fd
        return self

    def release(self) -> None:
        """Clear the metadata and drop the lock. Safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)  # an empty file marks a clean release
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> TargetLock:
        # `with TargetLock(...).acquire() as lock:` works too.
        return self if self.locked else self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def _held_error(self, fd: int) -> TargetLockHeld:
        holder = None
        for _ in range(5):  # the holder may be between truncating and writing
            holder = LockHolder.from_json(_read_fd(fd))
            if holder is not None:
                break
            time.sleep(0.02)
        if holder is None:
            who = "a process that has not written its details yet"
        else:
            who = holder.describe()
            if holder.is_running() is False:
                who += f" (pid {holder.pid} has exited; a process it started still holds the lock)"
        waited = f" after waiting {self.timeout:g}s" if self.timeout > 0 else ""
        return TargetLockHeld(
            f"target {self.target!r} is locked by another omniplay run{waited}: {who}. "
            f"Wait for it to finish and retry (lock file {self.path}); "
            "a lock held by a process that died is released automatically.",
            holder=holder,
            path=self.path,
        )

    def _report_takeover(self, raw: bytes) -> None:
        if self.took_over is None:
            log.warning("lock file %s held unreadable metadata from an earlier run; overwriting it",
                        self.path)
            return
        state = {False: "no longer running", True: "running but no longer holding it",
                 None: "on another host"}[self.took_over.is_running()]
        log.warning(
            "took over stale lock from pid %d on target %r (%s; %s): it ended without releasing",
            self.took_over.pid, self.target, self.took_over.describe(), state,
        )


def _read_fd(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    return os.pread(fd, size, 0) if size else b""


def target_lock(
    settings: Settings, *, command: str, timeout: float | None = None
) -> TargetLock:
    """The lock for ``settings.target``; use as ``with target_lock(settings, command=...)``.

    ``timeout`` defaults to ``$OMNIPLAY_LOCK_TIMEOUT`` seconds (0 when unset): a nightly
    ``omniplay run`` can wait for an in-flight ``sync --due`` instead of exiting 5.
    """
    if timeout is None:
        raw = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
        try:
            timeout = float(raw) if raw else 0.0
        except ValueError:
            timeout = -1.0
        if not timeout >= 0:  # also rejects nan
            raise ConfigError(f"{LOCK_TIMEOUT_ENV}: {raw!r} is not a number of seconds >= 0")
    return TargetLock(
        lock_path(settings), target=settings.target, command=command, timeout=timeout
    )
