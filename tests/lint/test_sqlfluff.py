"""The dbt models pass sqlfluff with the project's `.sqlfluff` (dialect duckdb, jinja templater).

Every violation fails, templating (TMP) and parsing (PRS) errors included: a model the
linter cannot render or parse is not checked at all, so that is a failure too.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def model_files() -> list[Path]:
    return sorted((PROJECT_DIR / "models").rglob("*.sql"))


def test_model_source_lines_fit_max_line_length() -> None:
    """sqlfluff's layout.long_lines measures rendered SQL, so the source lines are checked here."""
    config = configparser.ConfigParser()
    config.read(PROJECT_DIR / ".sqlfluff")
    limit = config.getint("sqlfluff", "max_line_length")
    long_lines = [f"{path.relative_to(PROJECT_DIR)}:{number} ({len(line)} > {limit})"
                  for path in model_files()
                  for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                  if len(line) > limit]
    assert not long_lines, "lines too long:\n  " + "\n  ".join(long_lines)


def test_models_are_lint_clean() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_DIR), os.environ.get("PYTHONPATH")]))}
    completed = subprocess.run(
        [sys.executable, "-m", "sqlfluff", "lint", "models", "--format", "json", "--processes", "2",
         "--disable-progress-bar", "--nocolor"],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert completed.stdout.strip(), f"sqlfluff printed nothing (exit {completed.returncode}): {completed.stderr[-2000:]}"
    files = json.loads(completed.stdout)
    linted = {Path(f["filepath"]).as_posix() for f in files}
    expected = {p.relative_to(PROJECT_DIR).as_posix() for p in model_files()}
    assert linted == expected, f"not linted: {sorted(expected - linted)}"
    problems = [f"{f['filepath']}:{v['start_line_no']}:{v['start_line_pos']} {v['code']} {v['description']}"
                for f in files for v in f["violations"]]
    assert not problems, f"{len(problems)} sqlfluff violations (fix, or `sqlfluff fix <file>`):\n  " + "\n  ".join(problems)
    assert completed.returncode == 0, completed.stderr[-2000:]
