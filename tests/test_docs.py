"""What users touch is documented: every CLI command in the README, and its --help works."""
from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from server.cli import SUBCOMMANDS, cli
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


ALL_COMMANDS = sorted(_commands(cli))


def test_every_subcommand_is_registered():
    assert {c[0] for c in ALL_COMMANDS} == set(SUBCOMMANDS)


@pytest.mark.parametrize("words", ALL_COMMANDS, ids=" ".join)
def test_every_command_is_in_the_readme(words):
    assert re.search(r"\bstanding " + r" ".join(map(re.escape, words)) + r"\b", README), \
        f"`standing {' '.join(words)}` is not documented in README.md"


@pytest.mark.parametrize("words", ALL_COMMANDS, ids=" ".join)
def test_every_command_has_help(words):
    result = CliRunner().invoke(cli, [*words, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


def test_readme_has_the_two_setup_commands():
    assert "python3 -m pip install . && standing serve --demo" in README
    assert "bash .ci/run" in README
