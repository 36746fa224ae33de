"""Install a Debian package for the test setup (root with apt only), as CI on a clean machine needs."""

from __future__ import annotations

import os
import shutil
import subprocess


class AptUnavailable(RuntimeError):
    """The package cannot be installed here; the message says why."""


def can_install() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_install(package: str) -> str:
    """Install `package` without recommends; `apt-get update` only if the first try fails.

    Returns a line for the session summary; raises AptUnavailable with apt's last lines.
    """
    if not can_install():
        raise AptUnavailable(f"`{package}` can only be installed automatically as root on Debian/Ubuntu")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300", package]
    first = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    if first.returncode == 0:
        return f"installed Debian package {package}"
    update = subprocess.run(["apt-get", "update", "-q", "-o", "DPkg::Lock::Timeout=300"],
                            env=env, capture_output=True, text=True, timeout=900)
    second = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    if second.returncode != 0:
        tail = (second.stderr or update.stderr or first.stderr).strip().splitlines()[-3:]
        raise AptUnavailable(f"`apt-get install {package}` failed: " + " | ".join(tail))
    return f"installed Debian package {package} (after apt-get update)"
