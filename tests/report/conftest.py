"""Report tests: the CLI workspace (a copy of the session's DuckDB build) and headless Chromium."""

from __future__ import annotations

import os

import pytest

from tests.cli.conftest import Workspace, workspace  # noqa: F401 - the shared workspace fixture
from tests.support import chromium as browser

DISABLE_CHROMIUM_ENV = "OMNIPLAY_TEST_CHROMIUM"  # off: skip the browser test on purpose (never silently)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a headless-capable Chromium, installing Debian's package when missing.

    No Chromium is a failure, not a skip: the HTML report's acceptance test must run in CI.
    """
    if os.environ.get(DISABLE_CHROMIUM_ENV, "").lower() in {"0", "off", "no", "false", "skip"}:
        pytest.skip(f"browser test turned off with {DISABLE_CHROMIUM_ENV}={os.environ[DISABLE_CHROMIUM_ENV]}")
    try:
        return browser.ensure_chromium()
    except browser.ChromiumUnavailable as exc:
        pytest.fail(f"Chromium unavailable: {exc} (set {DISABLE_CHROMIUM_ENV}=off to skip on purpose)",
                    pytrace=False)
