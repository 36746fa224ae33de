"""A separate process that takes a target lock, for the lock tests.

usage: lock_holder.py LOCK_FILE [--go FILE] [--hold-until FILE] [--spawn-child]

Prints READY, waits for --go to exist, then takes the lock: prints ACQUIRED <pid>
(and TOOK_OVER <pid> after a crashed holder), optionally starts a long-lived child
(CHILD <pid>), and holds the lock until --hold-until exists. Exits 5 with the
LockHeld message on stderr when the lock is taken, as `omniplay run` would.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from omniplay.errors import LockHeld
from omniplay.lock import TargetLock


def _wait_for(path: str | None) -> None:
    while path and not Path(path).exists():
        time.sleep(0.005)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("lock_file")
    parser.add_argument("--go")
    parser.add_argument("--hold-until")
    parser.add_argument("--spawn-child", action="store_true")
    args = parser.parse_args()

    print("READY", flush=True)
    _wait_for(args.go)
    try:
        lock = TargetLock(Path(args.lock_file), target="duckdb", command="omniplay run").acquire()
    except LockHeld as exc:
        print(f"omniplay: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    with lock:
        print(f"ACQUIRED {lock.holder.pid}", flush=True)
        if lock.took_over is not None:
            print(f"TOOK_OVER {lock.took_over.pid}", flush=True)
        if args.spawn_child:
            # close_fds=False: only O_CLOEXEC keeps the lock out of the child.
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], close_fds=False)
            print(f"CHILD {child.pid}", flush=True)
        _wait_for(args.hold_until)
    return 0


if __name__ == "__main__":
    sys.exit(main())
