"""Environment isolation for code that reads and publishes settings through os.environ."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str | None]) -> Iterator[None]:
    """Apply `values` (None removes a variable) and restore the whole environment afterwards.

    The whole environment is restored, not just `values`: `Settings.export()` publishes
    OMNIPLAY_* variables as a side effect, and those must not leak into later tests.
    """
    saved = dict(os.environ)
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
