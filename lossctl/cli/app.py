"""The Typer application object; command modules attach their commands to it."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="lossctl",
    help="Compute any Keras or PyTorch loss from a CSV, or train a small numpy MLP on one.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    traceback: bool = typer.Option(
        False, "--traceback", help="On an error, show the Python traceback too (for bug reports)."
    ),
) -> None:
    """Compute any Keras or PyTorch loss from a CSV, or train a small numpy MLP on one."""
    from lossctl.threads import worker_count

    worker_count()  # $LOSSCTL_THREADS is checked before any command starts
