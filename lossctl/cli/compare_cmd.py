"""`lossctl compare`: two models' losses on the same rows, their difference, its interval and test."""

from __future__ import annotations

import sys

import typer

from lossctl.cli import options
from lossctl.cli.app import app, environment
from lossctl.cli.compute_cmd import _losses_with_params
from lossctl.cli.options import CompareFormat, Delimiter, Nan


@app.command()
def compare(
    ctx: typer.Context,
    a: str = typer.Argument(..., help="Model A's predictions: CSV with a header row (or Parquet)."),
    b: str = typer.Argument(..., help="Model B's predictions of the same rows."),
    loss: str = typer.Option(
        ..., "--loss", "-l", help="Loss name(s), comma-separated: means of per-row terms, or "
        "metrics of tallies (sklearn.roc_auc_score, f1_score, ...)."),
    key: str | None = typer.Option(
        None, "--key", help="Pair rows by this column's values (unique in each file), not by position."),
    reduction: str | None = typer.Option(
        None, "--reduction", "-r",
        help="mean, sum, ... as in compute (not none); default each family's (sklearn: metric)."),
    true: str | None = typer.Option(None, "--true", help="y_true column(s): names or a glob."),
    pred: str | None = typer.Option(None, "--pred", help="y_pred column(s): names or a glob."),
    col: list[str] = typer.Option([], "--col", help="ROLE=COLS for any input role (var, input2, ...)."),
    param: list[str] = typer.Option([], "--param", "-p", help="Loss parameter key=value (repeatable)."),
    by: options.By = None,
    ci: float = typer.Option(0.95, "--ci", help="Confidence level of the difference's percentile interval."),
    ci_method: options.CiMethod = "auto",
    bootstrap: options.Bootstrap = 1000,
    seed: options.Seed = 0,
    fmt: CompareFormat = None,
    nan: Nan = "error",
    delimiter: Delimiter = None,
) -> None:
    """Compare two models' predictions of the same rows: loss of A, of B, the difference B - A with
    its paired bootstrap percentile interval, and the p-value of a paired permutation test (A and B
    swapped within random rows, two-sided)."""
    from lossctl import render
    from lossctl.evaluate.compare import Comparison
    from lossctl.io.reader import open_table
    from lossctl.io.records import delimiter_option

    output = fmt or ("table" if environment(ctx).stdout_tty else "csv")
    plan = options.plan(by, ci, bootstrap, seed, ci_method)
    per_loss, specs = _losses_with_params(loss, param, col, true, pred)
    sep = delimiter_option(delimiter)
    with open_table([a], nan, sep) as table_a, open_table([b], nan, sep) as table_b:
        comparison = Comparison(table_a, table_b, per_loss, reduction, specs, plan, key, nan)
        render.compared(comparison.results(), output, sys.stdout, plan.by)
