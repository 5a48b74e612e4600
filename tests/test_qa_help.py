"""What `--help` prints is what the code says: every option's help text reaches the screen whole."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from lossctl.cli import app

runner = CliRunner()
COMMAND = typer.main.get_command(app)
BOX = re.compile(r"[│╭╮╰╯─]+")


def _words(text: str) -> str:
    return " ".join(BOX.sub(" ", text).split())


@pytest.mark.parametrize("name", sorted(COMMAND.commands))
def test_every_option_help_is_printed_whole(name: str) -> None:
    """rich reads `[plot]` in `lossctl[plot]` as a style tag and drops it unless it is escaped."""
    result = runner.invoke(app, [name, "--help"], terminal_width=400)
    assert result.exit_code == 0
    shown = _words(result.output)
    for param in COMMAND.commands[name].params:
        if getattr(param, "help", None):
            assert _words(param.help.replace("\\[", "[")) in shown, param.name


# How the help texts and the README's first line name each family of the registry.
FAMILY_WORDS = {"keras": "Keras", "torch": "PyTorch", "sklearn": "scikit-learn", "paper": "paper"}


def test_the_pitch_and_list_help_name_every_family() -> None:
    from pathlib import Path

    from lossctl.losses import REGISTRY

    assert set(REGISTRY.families) == set(FAMILY_WORDS)
    pitch = _words(runner.invoke(app, ["--help"], terminal_width=400).output)
    readme_pitch = (Path(__file__).parent.parent / "README.md").read_text().split("```")[0]
    list_help = _words(runner.invoke(app, ["list", "--help"], terminal_width=400).output)
    for family, word in FAMILY_WORDS.items():
        assert word in pitch, family
        assert word in readme_pitch, family
        assert re.search(rf"--family .*\b{family}\b", list_help), family
