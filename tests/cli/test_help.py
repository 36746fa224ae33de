"""`--help` is complete and accurate for every command: walk the real command tree.

Typer vendors its own click (`typer._click`), so commands and groups are recognised by
shape (`commands`, `param_type_name`), not by `isinstance` against the click package.
"""

from __future__ import annotations

import typer.main
from typer.testing import CliRunner

from cli.main import app

# The commands issue 7 promises, with the options each must offer.
PROMISED = {
    ("generate",): (),
    ("build",): ("--select", "--vars", "--full-refresh"),
    ("gate",): (),
    ("sync",): ("--play", "--due", "--dry-run", "--resend-ambiguous"),
    ("run",): ("--skip-build", "--resend-ambiguous"),
    ("plays", "list"): (),
    ("plays", "show"): (),
    ("audience", "preview"): (),
    ("retry",): ("--play",),
    ("status",): (),
    ("doctor",): (),
    ("demo",): (),
    ("report",): ("--html", "--runs"),
    ("docs",): ("--serve", "--port"),  # issue 9
}
SHARED = ("--project-dir", "--target")


def _walk(command, path: tuple[str, ...] = ()):
    yield path, command
    if hasattr(command, "commands"):
        for name, sub in sorted(command.commands.items()):
            yield from _walk(sub, (*path, name))


def _tree() -> dict:
    tree = dict(_walk(typer.main.get_command(app)))
    assert len(tree) > 10, f"the command tree was not walked: {sorted(tree)}"
    return tree


def test_every_command_and_parameter_has_help_text():
    missing = []
    for path, command in _tree().items():
        if not (command.help or "").strip():
            missing.append(f"{' '.join(path) or 'omniplay'}: no help")
        for param in command.params:
            if param.name == "help":
                continue
            if not (getattr(param, "help", None) or "").strip():
                missing.append(f"{' '.join(path) or 'omniplay'} {param.opts[0]}: no help")
    assert not missing, "\n".join(missing)


def test_help_of_every_command_lists_its_options_and_sub_commands():
    runner = CliRunner()
    for path, command in _tree().items():
        result = runner.invoke(app, [*path, "--help"], terminal_width=200)
        assert result.exit_code == 0, (path, result.output)
        assert f"Usage: omniplay {' '.join(path)}".rstrip() in " ".join(result.output.split()), path
        first_line = (command.help or "").strip().splitlines()[0]
        assert " ".join(first_line.split()[:6]) in " ".join(result.output.split()), (path, first_line)
        for param in command.params:
            if param.param_type_name == "option" and not param.hidden:
                assert param.opts[0] in result.output, (path, param.opts[0])
        if hasattr(command, "commands"):
            for name in command.commands:
                assert name in result.output, (path, name)


def test_the_promised_commands_and_options_exist():
    tree = _tree()
    for path, options in PROMISED.items():
        assert path in tree, f"omniplay {' '.join(path)} is missing"
        offered = {opt for param in tree[path].params for opt in param.opts}
        expected = set(options) | (set(SHARED) if path not in {("demo",), ("generate",)} else set())
        assert expected <= offered, (path, sorted(expected - offered))


def test_run_help_documents_every_exit_code():
    result = CliRunner().invoke(app, ["run", "--help"], terminal_width=200)
    text = " ".join(result.output.split())
    for code, meaning in ((1, "build"), (2, "configuration"), (3, "gate"), (4, "failed"), (5, "lock")):
        assert f"{code} " in text and meaning in text, (code, meaning)


def test_unknown_option_is_a_usage_error_exit_2():
    result = CliRunner().invoke(app, ["sync", "--no-such-option"])
    assert result.exit_code == 2
