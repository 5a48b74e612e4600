"""`lossctl compute`, `lossctl list` and `lossctl explain`: parse, call the library, render."""

from __future__ import annotations

import sys

import typer

from lossctl.cli import options
from lossctl.cli.app import Environment, app, environment, stdout_bytes
from lossctl.cli.options import Delimiter, Nan, TableFormat, pairs
from lossctl.cli.options import names as split_names
from lossctl.errors import UsageError


def _format(fmt: str | None, env: Environment) -> str:
    return fmt or ("table" if env.stdout_tty else "plain")


def _rows_format(fmt: str | None) -> None:
    """Per-row values are no table: an explicit --format table is refused, not printed as plain."""
    if fmt == "table":
        raise UsageError("--format table shows reduced values; per-row values (--reduction none, "
                         "--grad) print as plain, csv or json")


def _losses_with_params(
    loss: str, param: list[str], col: list[str], true: str | None, pred: str | None,
) -> tuple[list, dict[str, str]]:
    """The losses asked for, each with the -p parameters that are its own, and the column specs."""
    from lossctl.losses import get_losses

    per_loss = get_losses(split_names(loss), pairs(param, "--param"))
    specs = pairs(col, "--col")
    if true:
        specs["y_true"] = true
    if pred:
        specs["y_pred"] = pred
    return per_loss, specs


@app.command()
def compute(
    ctx: typer.Context,
    files: list[str] = typer.Argument(
        ..., metavar="FILE...",
        help="CSV with a header row (or TSV, Parquet; compressed or not), - for stdin, a folder of "
        "parts or a quoted glob; several are read as one table.",
    ),
    loss: str = typer.Option(
        ..., "--loss", "-l", help="Loss name(s), comma-separated: mse, keras.huber, torch.cross_entropy."
    ),
    reduction: str | None = typer.Option(
        None, "--reduction", "-r",
        help="none, sum, mean (the default); Keras: sum_over_batch_size, mean_with_sample_weight; "
        "torch: batchmean; sklearn: metric (its default: the function's value), none.",
    ),
    true: str | None = typer.Option(None, "--true", help="y_true column(s): names or a glob."),
    pred: str | None = typer.Option(None, "--pred", help="y_pred column(s): names or a glob."),
    col: list[str] = typer.Option([], "--col", help="ROLE=COLS for any input role (var, input2, ...)."),
    weights: str | None = typer.Option(
        None, "--weights", help="Column of sample weights (Keras, scikit-learn's sample_weight, paper.*)."
    ),
    labels: str | None = typer.Option(None, "--labels", help="Take y_true from this file, row by row."),
    on: str | None = typer.Option(
        None, "--on", help="Pair --labels rows by this key column (in both files), not by position."
    ),
    param: list[str] = typer.Option([], "--param", "-p", help="Loss parameter key=value (repeatable)."),
    fmt: TableFormat = None,
    nan: Nan = "error",
    grad: bool = typer.Option(False, "--grad", help="Print d(loss)/d(y_pred) per row instead of the loss."),
    delimiter: Delimiter = None,
    by: options.By = None,
    ci: options.Ci = None,
    ci_method: options.CiMethod = "auto",
    bootstrap: options.Bootstrap = 1000,
    seed: options.Seed = 0,
    engine: str = typer.Option(
        "local", "--engine", help="local (this process's threads) or dask (the parts on a Dask cluster)."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler",
        help="Dask scheduler address (default $DASK_SCHEDULER_ADDRESS, else a local cluster).",
    ),
) -> None:
    """Compute one or more losses of predictions against labels from a CSV."""
    from lossctl import render
    from lossctl.compute import Query
    from lossctl.io.reader import open_table
    from lossctl.io.records import delimiter_option

    output = _format(fmt, environment(ctx))
    plan = options.plan(by, ci, bootstrap, seed, ci_method)
    if plan.active and grad:
        raise UsageError("--grad gives rows: it takes no --by or --ci")
    options.one_of("--engine", ("local", "dask"))(engine)
    if scheduler is not None and engine != "dask":
        raise UsageError("--scheduler is for --engine dask")
    sep = delimiter_option(delimiter)
    if labels == "-" and "-" in files:
        raise UsageError("--labels - and FILE - both name standard input, which can be read once")
    per_loss, specs = _losses_with_params(loss, param, col, true, pred)
    names = split_names(loss)
    chosen = [lo for lo, _ in per_loss]
    if grad and reduction == "none":
        reduction = "sum"  # the gradient of per-row values is that of their sum
    query = Query(tuple((lo.qualified_name, given) for lo, given in per_loss), reduction, specs, weights,
                  nan, sep, on, plan)

    if engine == "dask":
        from lossctl.engine.dask import reduced

        if grad or reduction == "none":
            raise UsageError(
                f"{'--grad' if grad else '--reduction none'} gives a value per row; the dask engine "
                "returns reduced values only (use --engine local)"
            )
        if labels:
            raise UsageError(
                "--labels pairs the rows of two files; with --engine dask, keep y_true in the parts"
            )
        render.reduced(reduced(query, files, scheduler), output, sys.stdout, names, plan.by)
        return

    with open_table(files, nan, sep) as table:
        label_table = open_table(labels, nan, sep) if labels else None
        try:
            job = query.computation(table, label_table)
            if grad:
                _rows_format(fmt)
                result = job.gradient()
                render.gradient(result.values, result.columns, output, stdout_bytes(), job.workers(),
                                result.rows)
            elif reduction == "none":
                whole = job.whole_batch()  # batch-wise losses: read every row first
                if whole is not None:
                    render.reduced(whole, output, sys.stdout, names)
                else:
                    _rows_format(fmt)
                    render.rows(job.rows(), chosen, output, stdout_bytes(), job.workers(),
                                job.several_files)
            else:
                render.reduced(job.reduced(), output, sys.stdout, names, plan.by)
        finally:
            if label_table is not None:
                label_table.close()


@app.command("list")
def list_losses(
    ctx: typer.Context,
    family: str | None = typer.Option(
        None, "--family", help="Only one family: keras, torch, sklearn or paper."
    ),
    fmt: TableFormat = None,
) -> None:
    """List every loss: name, aliases, family, inputs, parameters with defaults."""
    from lossctl.render.catalog import list_csv, list_json, list_table, list_text, losses_of

    output = _format(fmt, environment(ctx))
    losses = losses_of(family)
    if output == "table":
        list_table(losses, sys.stdout)
    else:
        sys.stdout.write({"plain": list_text, "csv": list_csv, "json": list_json}[output](losses))


@app.command()
def explain(ctx: typer.Context, name: str = typer.Argument(..., help="A loss name or alias.")) -> None:
    """Show a loss's formula with its valley, inputs, parameters and a worked example."""
    from lossctl.cli.plot_cmd import terminal_picture
    from lossctl.losses import get_loss
    from lossctl.plot.valley import valley_figure
    from lossctl.render.catalog import explain_text

    loss = get_loss(name)
    try:
        picture = terminal_picture(valley_figure(loss), environment(ctx))
    except UsageError as why:  # no single-prediction form (circle, ranking losses), var not given
        picture = f"(no picture: {why})"
    sys.stdout.write(explain_text(loss, picture))
