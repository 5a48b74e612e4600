"""`lossctl curve`, `lossctl descend` and `lossctl plot`: pictures of losses and of training.

On a terminal they draw (lossctl.plot.terminal); piped, `curve` and `descend` print their points as
CSV; `--out FILE.png|.svg` writes an image (matplotlib, the `plot` extra). The plotting libraries
are imported only here, when something is drawn.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from typing import TYPE_CHECKING

import typer

from lossctl.cli.app import app
from lossctl.cli.options import loss_params, pairs
from lossctl.cli.options import names as split_names
from lossctl.errors import UsageError

if TYPE_CHECKING:
    from lossctl.plot.figure import Figure

FORMATS = ("plot", "csv", "json")
MAX_WIDTH = 120

_format_option = typer.Option(
    None, "--format", "-f", help="plot, csv or json (default: plot on a terminal, else csv)."
)
_out_option = typer.Option(  # \\[: rich would take [plot] for a style and drop it
    None, "--out", "-o", help="Write the picture to this .png or .svg file (needs lossctl\\[plot])."
)
_param_option = typer.Option([], "--param", "-p", help="Loss parameter key=value (repeatable).")
_true_option = typer.Option(
    None, "--true",
    help="y_true held fixed (default 1); for a class loss the true class, 0 or 1 (default 1).",
)
_range_option = typer.Option(
    None, "--range", help="LOW,HIGH of the x axis (default: around y_true; 0.01,1 for probabilities)."
)


def _output(fmt: str | None, out: str | None, tty: bool) -> str | None:
    """What goes to stdout: plot, csv, json, or nothing (an image file was asked for alone)."""
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (valid: {', '.join(FORMATS)})")
    if out is not None:
        from lossctl.plot.image import image_format

        image_format(out)  # a bad extension or no matplotlib: say so before any work
        return fmt
    return fmt or ("plot" if tty else "csv")


def terminal_picture(figure: Figure) -> str:
    """`figure` as text for stdout: as wide as the terminal, in colour on one."""
    from lossctl.plot.terminal import render

    width = min(shutil.get_terminal_size((80, 24)).columns, MAX_WIDTH)
    return render(figure, width, color=sys.stdout.isatty())


def _write_points(header: list[str], table: list[list], fmt: str) -> None:
    if fmt == "csv":  # through the one writer of per-row output, in its style of numbers
        import numpy as np

        from lossctl.cli.app import stdout_bytes
        from lossctl.io.writer import csv_layout, write_rows

        columns = list(np.array(table, dtype=np.float64).reshape(len(table), len(header)).T)
        write_rows(stdout_bytes(), [columns], csv_layout(len(header)), head=",".join(header) + "\n")
    else:
        rows = [{h: (v if math.isfinite(v) else None) for h, v in zip(header, row, strict=True)}
                for row in table]
        sys.stdout.write(json.dumps(rows) + "\n")


def _chosen(loss: str, param: list[str]) -> list:
    from lossctl.losses import get_loss

    names = split_names(loss)
    if not names:
        raise UsageError("--loss names no loss")
    losses = [get_loss(name) for name in names]
    given = loss_params(losses, pairs(param, "--param"))
    return [(lo, lo.resolve_params(g)) for lo, g in zip(losses, given, strict=True)]


@app.command()
def curve(
    loss: str = typer.Option(..., "--loss", "-l", help="Loss name(s), comma-separated: mse,mae,huber."),
    true: float | None = _true_option,
    span: str | None = _range_option,
    points: int = typer.Option(200, "--points", help="Points along the x axis (2 to 10000)."),
    grad: bool = typer.Option(False, "--grad", help="Also the gradient dL/dx of each loss."),
    param: list[str] = _param_option,
    fmt: str | None = _format_option,
    out: str | None = _out_option,
) -> None:
    """Each loss as a function of one prediction, y_true held fixed: its valley."""
    from lossctl.plot import valley

    output, chosen, bounds = _request(fmt, out, loss, param, span)
    result = valley.curves(chosen, true, bounds, points, grad)
    _show(valley.curve_figure(result, grad), out, output, result.columns(grad))


@app.command()
def descend(
    loss: str = typer.Option(..., "--loss", "-l", help="One loss name."),
    true: float | None = _true_option,
    start: float = typer.Option(..., "--start", help="The prediction to start from."),
    lr: float = typer.Option(0.1, "--lr", help="Learning rate."),
    steps: int = typer.Option(20, "--steps", help="Number of updates."),
    optimizer: str = typer.Option(
        "sgd", "--optimizer", help="sgd (p <- p - lr * dL/dp), momentum, nesterov, rmsprop, adam, adamw."
    ),
    span: str | None = _range_option,
    param: list[str] = _param_option,
    fmt: str | None = _format_option,
    out: str | None = _out_option,
) -> None:
    """Gradient descent on one prediction: the ball rolling down the loss's valley."""
    from lossctl.plot import valley

    output, chosen, bounds = _request(fmt, out, loss, param, span)
    if len(chosen) != 1:
        raise UsageError("descend takes one loss")
    the_loss, params = chosen[0]
    result = valley.descend(the_loss, params, true, start, lr, steps, optimizer, bounds)
    _show(valley.descent_figure(result), out, output, result.columns(), steps_table=True)


def _request(
    fmt: str | None, out: str | None, loss: str, param: list[str], span: str | None,
) -> tuple[str | None, list, tuple[float, float] | None]:
    """What curve and descend were asked: the output, the losses with their parameters, the range."""
    from lossctl.plot.valley import parse_range

    output = _output(fmt, out, sys.stdout.isatty())
    return output, _chosen(loss, param), parse_range(span) if span is not None else None


def _show(figure: Figure, out: str | None, output: str | None, columns: tuple[list[str], list[list]],
          steps_table: bool = False) -> None:
    """The picture into `out`, and the plot (with the table of steps) or the points on stdout."""
    if out is not None:
        from lossctl.plot.image import write_image

        write_image(figure, out)
    if output == "plot":
        sys.stdout.write(terminal_picture(figure))
        if steps_table:
            _steps_table(*columns)
    elif output is not None:
        _write_points(*columns, output)


def _steps_table(header: list[str], table: list[list]) -> None:
    from rich.console import Console
    from rich.table import Table

    view = Table(header_style="bold")
    for name in header:
        view.add_column(name, justify="right")
    for row in table:
        view.add_row(str(row[0]), *(f"{v:.6g}" for v in row[1:]))
    Console(file=sys.stdout).print(view)


@app.command("plot")
def plot_history(
    history: str = typer.Argument(..., help="History CSV (train --history, or Keras's CSVLogger)."),
    out: str | None = _out_option,
) -> None:
    """Training curves from a history CSV: loss and val_loss per epoch, each metric in a panel."""
    from lossctl.plot.history import history_figure, read_history

    output = _output("plot" if out is None else None, out, sys.stdout.isatty())
    name = "<stdin>" if history == "-" else history
    _show(history_figure(read_history(history), f"Training history: {name}"), out, output, ([], []))
