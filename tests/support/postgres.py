"""A throwaway PostgreSQL server for the test suite.

`start_postgres()` finds the server binaries (installing Debian's `postgresql` package
when they are missing and we are root with apt), initialises a cluster in a temporary
directory, starts it on a free loopback port with durability turned off for speed,
creates the `omniplay` role and database, and stops and removes everything on exit.
When no server can be had it raises `PostgresUnavailable` with the reason, so the
suite can skip loudly instead of silently.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
from psycopg2 import sql

from tests.support import apt

ROLE = "omniplay"
DATABASE = "omniplay"
SUPERUSER = "postgres"
_SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
_DIR_PREFIX = "omniplay-pg-"

# What happened while getting a server, for the test session's summary.
events: list[str] = []
unavailable_reason: str | None = None


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started on this machine; the message says why."""


@dataclass(frozen=True)
class PostgresServer:
    """Connection facts of a running throwaway server (loopback only)."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str
    socket_dir: Path
    version: str

    def env(self, database: str | None = None) -> dict[str, str]:
        """The environment variables `profiles.yml` and the loader read."""
        return {
            "OMNIPLAY_PG_HOST": self.host,
            "OMNIPLAY_PG_PORT": str(self.port),
            "OMNIPLAY_PG_USER": self.user,
            "DBT_ENV_SECRET_OMNIPLAY_PG_PASSWORD": self.password,
            "OMNIPLAY_PG_DATABASE": database or self.database,
        }

    def connect(self, database: str | None = None, *, superuser: bool = False):
        """A psycopg2 connection as the omniplay role over TCP, or as superuser over the socket."""
        if superuser:
            return psycopg2.connect(host=str(self.socket_dir), port=self.port, user=SUPERUSER,
                                    dbname=database or "postgres")
        return psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                                dbname=database or self.database)

    def create_database(self, name: str) -> str:
        """Create an empty database owned by the omniplay role (dropping any old one)."""
        conn = self.connect(superuser=True)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
                cur.execute(sql.SQL("create database {} owner {}").format(sql.Identifier(name), sql.Identifier(ROLE)))
        finally:
            conn.close()
        return name


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres, newest major version first."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            candidates.append(Path(out.stdout.strip()))

    def major(path: str) -> float:
        match = re.search(r"/postgresql/([\d.]+)/bin$", path)
        return float(match.group(1)) if match else 0.0

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=major, reverse=True)]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in _SERVER_BINARIES):
            return bindir
    return None


def ensure_bindir() -> Path:
    """Find the server binaries, installing them with apt when possible."""
    bindir = find_bindir()
    if bindir:
        return bindir
    if not apt.can_install():
        raise PostgresUnavailable(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found, and they can only be "
            "installed automatically as root on Debian/Ubuntu; install the `postgresql` package "
            "(or put its bin directory on PATH)"
        )
    try:
        events.append(apt.apt_install("postgresql"))
    except apt.AptUnavailable as exc:
        raise PostgresUnavailable(str(exc)) from None
    bindir = find_bindir()
    if not bindir:
        raise PostgresUnavailable("installed the postgresql package but still found no initdb/pg_ctl/postgres")
    return bindir


def _service_account() -> tuple[str, int, int] | None:
    """The unprivileged account to run the server as when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return name, entry.pw_uid, entry.pw_gid
    raise PostgresUnavailable("running as root, and there is no `postgres` or `nobody` account to run the server as")


def _as_account(command: list[str], account: tuple[str, int, int] | None) -> list[str]:
    if account is None:
        return command
    _, uid, gid = account
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--", *command]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(command: list[str], what: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=180)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise PostgresUnavailable(f"{what} failed (exit {done.returncode}): " + " | ".join(detail))
    return done.stdout


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_orphans(parent: Path, bindir: Path, account: tuple[str, int, int] | None) -> None:
    """Stop and delete clusters left behind by test sessions that were killed outright."""
    for base in parent.glob(f"{_DIR_PREFIX}*"):
        with contextlib.suppress(OSError, ValueError, subprocess.SubprocessError):
            owner = int((base / "owner.pid").read_text())
            if _pid_alive(owner):
                continue
            if (base / "data" / "postmaster.pid").exists():
                subprocess.run(_as_account([str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate",
                                            "-w", "stop"], account), capture_output=True, timeout=60)
            shutil.rmtree(base, ignore_errors=True)
            events.append(f"removed a cluster left by killed test session {owner}")


@contextlib.contextmanager
def start_postgres() -> Iterator[PostgresServer]:
    """Start a throwaway cluster on 127.0.0.1; stop it and delete its files on exit."""
    bindir = ensure_bindir()
    account = _service_account()
    # The socket path must stay under the ~107-byte limit of Unix socket names.
    parent = Path("/tmp" if len(tempfile.gettempdir()) > 60 and os.path.isdir("/tmp") else tempfile.gettempdir())
    _sweep_orphans(parent, bindir, account)
    base = Path(tempfile.mkdtemp(prefix=_DIR_PREFIX, dir=parent))
    (base / "owner.pid").write_text(str(os.getpid()))
    data = base / "data"
    log = base / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}  # PGHOST & co. must not leak in
    env["LC_ALL"] = "C.UTF-8"
    started = False
    try:
        if account:
            os.chown(base, account[1], account[2])
        password = secrets.token_urlsafe(18)
        # Authentication: the superuser only over the private socket, everyone else with a password.
        _run(_as_account([str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-E", "UTF8",
                          "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256",
                          "--no-sync", "--no-instructions"], account), "initdb", env, base)
        version = _run([str(bindir / "postgres"), "--version"], "postgres --version", env, base).strip()

        last_error: PostgresUnavailable | None = None
        for _attempt in range(3):  # the free port can be taken between probing and binding
            port = free_port()
            settings = {
                "listen_addresses": "'127.0.0.1'",
                "port": str(port),
                "unix_socket_directories": f"'{base}'",
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "timezone": "'UTC'",
                "max_connections": "50",
                "shared_buffers": "'128MB'",
                "logging_collector": "off",
            }
            with open(data / "postgresql.auto.conf", "w", encoding="utf-8") as conf:
                conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
            try:
                _run(_as_account([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                                  "start"], account), "pg_ctl start", env, base)
                started = True
                break
            except PostgresUnavailable as exc:
                log_tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
                last_error = PostgresUnavailable(f"{exc} | server log: {' | '.join(log_tail)}")
                if "already in use" not in " ".join(log_tail):
                    break
        if not started:
            raise last_error or PostgresUnavailable("pg_ctl start failed")

        server = PostgresServer(host="127.0.0.1", port=port, user=ROLE, password=password, database=DATABASE,
                                socket_dir=base, version=version)
        conn = server.connect(superuser=True)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql.SQL("create role {} login password %s").format(sql.Identifier(ROLE)), (password,))
                cur.execute(sql.SQL("create database {} owner {}").format(sql.Identifier(DATABASE),
                                                                          sql.Identifier(ROLE)))
        finally:
            conn.close()
        yield server
    finally:
        if started:
            subprocess.run(_as_account([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                                        "stop"], account), capture_output=True, env=env, cwd=base, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
