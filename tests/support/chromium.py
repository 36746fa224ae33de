"""Headless Chromium for the report tests: found on PATH, or Debian's `chromium` installed.

Flags keep it off the network (this machine has none to offer, and without
`--disable-background-networking` and friends Chromium waits on it), give it a fresh
profile per run, and pin the colour profile to sRGB so a screenshot's pixels are
exactly the colours the page asked for.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from tests.support import apt

BINARIES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--force-color-profile=srgb", "--hide-scrollbars")

events: list[str] = []


class ChromiumUnavailable(RuntimeError):
    """No Chromium can be had on this machine; the message says why."""


def find_chromium() -> str | None:
    return next((path for path in map(shutil.which, BINARIES) if path), None)


def ensure_chromium() -> str:
    """The Chromium binary, installing Debian's `chromium` package when it is missing."""
    found = find_chromium()
    if found:
        return found
    try:
        events.append(apt.apt_install("chromium"))
    except apt.AptUnavailable as exc:
        raise ChromiumUnavailable(f"{exc}; install Debian's `chromium` package") from None
    found = find_chromium()
    if not found:
        raise ChromiumUnavailable("installed the chromium package but found none of " + ", ".join(BINARIES))
    return found


def screenshot(browser: str, page: Path, png: Path, *, width: int = 1280, height: int = 8000,
               timeout: float = 180) -> Path:
    """Open `page` (a local file) headless and save a width x height screenshot to `png`."""
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="omniplay-chromium-") as profile:
        command = [browser, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
                   f"--window-size={width},{height}", Path(page).resolve().as_uri()]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)  # its own group: helpers die with it
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ChromiumUnavailable(f"chromium took over {timeout:.0f} s to screenshot {page}") from None
    if process.returncode != 0 or not png.exists():
        tail = " | ".join(stderr.strip().splitlines()[-3:])
        raise ChromiumUnavailable(f"chromium exited {process.returncode} without a screenshot: {tail}")
    return png
