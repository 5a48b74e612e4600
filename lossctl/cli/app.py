"""The Typer application object; command modules attach their commands to it."""

from __future__ import annotations

import sys
from typing import BinaryIO

import typer

app = typer.Typer(
    name="lossctl",
    help="Compute a Keras, PyTorch or scikit-learn loss (or one from a paper) from a CSV, or train a "
    "small numpy MLP on one.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from lossctl import __version__

        typer.echo(f"lossctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    traceback: bool = typer.Option(
        False, "--traceback", help="On an error, show the Python traceback too (for bug reports)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print lossctl's version and exit."
    ),
) -> None:
    """The options before the command (the app's help above is what `lossctl --help` shows)."""
    from lossctl.threads import worker_count

    worker_count()  # $LOSSCTL_THREADS is checked before any command starts


def stdout_bytes() -> BinaryIO:
    """Standard output's binary side, for the per-row writer; the text written so far goes first."""
    sys.stdout.flush()
    return sys.stdout.buffer
