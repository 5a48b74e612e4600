"""Options several commands share are declared once (cli/options.py) and checked once, with one
message, before any file is read."""

from __future__ import annotations

import pytest
import typer

from lossctl.cli import app, main

MISSING = "no-such-file.csv"


def _commands_with(flag: str) -> list[str]:
    group = typer.main.get_command(app)
    return sorted(name for name, command in group.commands.items()
                  if any(flag in p.opts for p in command.params))


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


ARGS = {  # enough arguments to get past click's own checks; the files do not exist
    "compute": ["-l", "mse", MISSING], "list": [], "curve": ["-l", "mse"],
    "descend": ["-l", "mse", "--start", "1"], "train": [MISSING], "predict": [MISSING, MISSING],
    "evaluate": [MISSING, MISSING], "compare": ["-l", "mse", MISSING, MISSING],
}


def test_the_shared_options_are_where_expected() -> None:
    assert _commands_with("--nan") == ["compare", "compute", "evaluate", "predict", "train"]
    assert _commands_with("--format") == ["compare", "compute", "curve", "descend", "list"]
    assert _commands_with("--metrics") == ["evaluate", "train"]


@pytest.mark.parametrize("command", ["compare", "compute", "evaluate", "predict", "train"])
def test_nan_is_checked_once_with_one_message(capsys, command: str) -> None:
    code, out, err = run(capsys, command, *ARGS[command], "--nan", "keep")
    assert (code, out, err) == (2, "", "lossctl: error: --nan takes one of error, drop, got 'keep'\n")


@pytest.mark.parametrize(("command", "valid"), [
    ("compute", "plain, csv, json, table"), ("list", "plain, csv, json, table"),
    ("curve", "plot, csv, json"), ("descend", "plot, csv, json"), ("compare", "csv, json, table"),
])
def test_format_is_checked_once_with_one_message(capsys, command: str, valid: str) -> None:
    code, out, err = run(capsys, command, *ARGS[command], "--format", "xml")
    assert (code, out, err) == (2, "", f"lossctl: error: unknown format 'xml' (valid: {valid})\n")


@pytest.mark.parametrize("args", [
    ["compute", "-l", "mse", "SAMPLE"], ["list"], ["explain", "mse"], ["curve", "-l", "mse", "--points", "3"],
])
def test_the_terminal_is_detected_once_per_run(capsys, monkeypatch, args: list[str]) -> None:
    """httpie's way: one Environment per run, handed down; a terminal's output where it says so."""
    from pathlib import Path

    from lossctl.cli.app import Environment

    sample = str(Path(__file__).resolve().parent.parent / "sample_data" / "regression.csv")
    calls = []

    def detect(cls) -> Environment:
        calls.append(1)
        return Environment(stdout_tty=True, stderr_tty=True, width=60)

    monkeypatch.setattr(Environment, "detect", classmethod(detect))
    code, out, _ = run(capsys, *[sample if a == "SAMPLE" else a for a in args])
    assert (code, len(calls)) == (0, 1)
    if args[0] in ("compute", "list"):  # the terminal's default format: a table
        assert "━" in out
