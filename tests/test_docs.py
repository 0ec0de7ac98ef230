"""The README documents every command and names no command that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

import click

from mailkeeper.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_command_is_in_the_readme_table() -> None:
    for name in cli.commands:
        assert f"| `mailkeeper {name}" in README, f"`mailkeeper {name}` is missing from README"


def test_readme_names_only_real_commands_and_options() -> None:
    found = re.findall(r"`mailkeeper (?:--config \S+ |-v+ )?([a-z]+(?:-[a-z]+)*)([^`]*)`", README)
    assert len(found) >= 8
    for name, rest in found:
        assert name in cli.commands, f"README mentions `mailkeeper {name}`, which does not exist"
        command = cli.commands[name]
        if isinstance(command, click.Group):  # `mailkeeper order add ...`: the subcommand's
            sub = rest.split()[0] if rest.split() else ""
            assert sub in command.commands, f"`mailkeeper {name}` has no subcommand {sub!r}"
            command = command.commands[sub]
        known = {opt for p in command.params for opt in getattr(p, "opts", [])}
        for option in re.findall(r"(--[a-z-]+)", rest):
            assert option in known, f"`mailkeeper {name}` has no option {option}"


def test_the_test_command_is_what_ci_runs() -> None:
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "./scripts/test" in README and "./scripts/test" in ci
