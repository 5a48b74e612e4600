"""`lossctl train`, `lossctl predict` and `lossctl evaluate`: parse, call lossctl.nn, render.

Heavy modules (pandas, rich, lossctl.nn) are imported inside the commands, so `lossctl --help`
stays fast.
"""

from __future__ import annotations

import math
import sys
from contextlib import ExitStack
from typing import Any

import typer

from lossctl.cli import options
from lossctl.cli.app import app, stdout_bytes
from lossctl.cli.options import names as split_names
from lossctl.cli.options import pairs
from lossctl.errors import DataError, UsageError
from lossctl.io.atomic import Output, open_atomic, write_text_atomic
from lossctl.threads import worker_count

DEFAULT_LOSS = {
    "regression": "keras.mean_squared_error",
    "binary": "keras.sparse_categorical_crossentropy",
    "multiclass": "keras.sparse_categorical_crossentropy",
}
DEFAULT_METRICS = {"regression": "mae", "binary": "accuracy", "multiclass": "accuracy"}
ACTIVATION_NAMES = ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu", "softplus", "linear")
OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
SCHEDULE_NAMES = ("constant", "step", "cosine", "plateau")


def _choice(value: str, valid: tuple[str, ...], flag: str) -> str:
    if value not in valid:
        raise UsageError(f"{flag} takes one of {', '.join(valid)}, got {value!r}")
    return value


def _hidden(text: str) -> tuple[int, ...]:
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(
            f"--hidden takes comma-separated layer widths such as 16,32, got {text!r}"
        ) from None
    if any(s < 1 for s in sizes):
        raise UsageError(f"--hidden layer widths must be at least 1, got {text!r}")
    return sizes


def _positive(value: float | None, flag: str, *, zero: bool = False) -> None:
    if value is None:
        return
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        raise UsageError(f"{flag} must be {'>= 0' if zero else '> 0'}, got {value:g}")


@app.command()
def train(
    data: str = typer.Argument(..., help="Training CSV with a header row, or - for stdin."),
    target: str | None = typer.Option(
        None, "--target", "-t",
        help="Target column (default: a column named target/label/y/class, else the last one).",
    ),
    task: str | None = typer.Option(
        None, "--task", help="regression, binary or multiclass (default: inferred from the target)."
    ),
    loss: str | None = typer.Option(
        None, "--loss", "-l",
        help="Any trainable loss of the registry (default: sparse_categorical_crossentropy for "
        "classification, mean_squared_error for regression).",
    ),
    param: list[str] = typer.Option([], "--param", "-p", help="Loss parameter key=value (repeatable)."),
    hidden: str = typer.Option(
        "16,32", "--hidden", help="Hidden layer widths, comma-separated ('' for none)."
    ),
    activation: str = typer.Option(
        "relu", "--activation", help="Hidden activation: " + ", ".join(ACTIVATION_NAMES) + "."
    ),
    optimizer: str = typer.Option(
        "adam", "--optimizer", help="sgd, momentum, nesterov, rmsprop, adam or adamw (Keras formulas)."
    ),
    lr: float | None = typer.Option(
        None, "--lr",
        help="Learning rate (default (Keras): 0.001 adam/adamw/rmsprop, 0.01 sgd/momentum/nesterov).",
    ),
    batch_size: int = typer.Option(32, "--batch-size", help="Rows per gradient step."),
    epochs: int = typer.Option(30, "--epochs", help="Passes over the training rows."),
    weight_decay: float | None = typer.Option(
        None, "--weight-decay", help="Decoupled weight decay (default: 0; 0.004 for adamw)."
    ),
    lr_schedule: str = typer.Option(
        "constant", "--lr-schedule",
        help="constant, step (x0.5 every 10 epochs), cosine or plateau (x0.1 after 10 flat epochs).",
    ),
    val_split: float | None = typer.Option(
        None, "--val-split", help="Fraction of rows held out for validation, seeded (default: 0.2; 0: none)."
    ),
    val: str | None = typer.Option(None, "--val", help="Validation CSV (then every row of DATA trains)."),
    patience: int | None = typer.Option(
        None, "--patience", help="Stop after N epochs without a better val_loss; restore the best weights."
    ),
    class_weight: str = typer.Option("none", "--class-weight", help="none or balanced (n / (k * count))."),
    metrics: str | None = typer.Option(
        None, "--metrics",
        help="Comma list: accuracy and/or any loss name (default: accuracy; regression: mae).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the split, the initial weights and the shuffling."),
    dtype: str = typer.Option("float32", "--dtype", help="float32 or float64 for the network."),
    save: str | None = typer.Option(None, "--save", help="Write the trained model to this .npz file."),
    history: str | None = typer.Option(
        None, "--history", help="Write the per-epoch history CSV to this file."
    ),
    plot: str | None = typer.Option(
        None, "--plot",  # \\[: rich would take [plot] for a style and drop it
        help="Draw the training curves into this .png or .svg file (needs lossctl\\[plot]).",
    ),
    nan: str = typer.Option("error", "--nan", help="Empty cells: error, or drop the row."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No table, progress or summary."),
) -> None:
    """Train a small MLP on a CSV; one table row per epoch (history CSV on stdout when piped)."""
    sizes = _hidden(hidden)
    _choice(activation, ACTIVATION_NAMES, "--activation")
    _choice(optimizer, OPTIMIZER_NAMES, "--optimizer")
    _choice(lr_schedule, SCHEDULE_NAMES, "--lr-schedule")
    _choice(dtype, ("float32", "float64"), "--dtype")
    _choice(class_weight, ("none", "balanced"), "--class-weight")
    _choice(nan, ("error", "drop"), "--nan")
    if task is not None:
        _choice(task, ("regression", "binary", "multiclass"), "--task")
    _positive(lr, "--lr")
    _positive(weight_decay, "--weight-decay", zero=True)
    if epochs < 1:
        raise UsageError(f"--epochs must be at least 1, got {epochs}")
    if batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {batch_size}")
    if seed < 0:
        raise UsageError(f"--seed must be at least 0, got {seed}")
    if patience is not None and patience < 1:
        raise UsageError(f"--patience must be at least 1, got {patience}")
    if val_split is not None and not (0 <= val_split < 1):
        raise UsageError(f"--val-split must be in [0, 1), got {val_split:g}")
    if val is not None and val_split not in (None, 0.0):
        raise UsageError("--val and --val-split exclude each other")
    if plot is not None:
        from lossctl.plot.image import image_format

        image_format(plot, "--plot")
    given = pairs(param, "--param")

    from lossctl.losses import get_loss
    from lossctl.nn import build_model, fit, load_training, resolve_metrics
    from lossctl.nn.model import check_memory
    from lossctl.nn.train import check_trainable

    shown = hidden if len(hidden) <= 40 else hidden[:37] + "..."
    check_memory(f"--hidden {shown}", 1, sizes, 1, dtype, 1)  # at the least; with the data: again

    chosen_loss = get_loss(loss) if loss is not None else None
    if chosen_loss is not None:
        check_trainable(chosen_loss)
        chosen_loss.resolve_params(given)
    with ExitStack() as outputs:  # opened first: a place that takes no files fails before training
        save_to, history_to, plot_to = (outputs.enter_context(Output(path)) if path else None
                                        for path in (save, history, plot))
        dataset = load_training(
            data, target=target, task=task, nan=nan,
            val_split=0.2 if val_split is None else val_split, val_path=val, seed=seed,
        )
        prep = dataset.prep
        the_loss = chosen_loss or get_loss(DEFAULT_LOSS[prep.task])
        params = the_loss.resolve_params(given)
        names = split_names(metrics) if metrics is not None else [DEFAULT_METRICS[prep.task]]
        metric_list = resolve_metrics(names, prep.task)
        model = build_model(dataset, the_loss, params, sizes, activation, seed=seed, dtype=dtype,
                            batch_size=batch_size)
        _run(model, the_loss, params, dataset, metric_list, save=save_to, history=history_to,
             plot=plot_to, quiet=quiet, fit=fit, fit_args={
                 "optimizer": optimizer, "lr": lr, "weight_decay": weight_decay,
                 "schedule": lr_schedule, "epochs": epochs, "batch_size": batch_size,
                 "patience": patience, "class_weight": class_weight, "seed": seed,
             })


def _run(model, loss, params, dataset, metric_list, *, save, history, plot, quiet, fit, fit_args) -> None:
    import signal
    import threading
    import time

    from lossctl.cli.train_view import TrainView, history_csv_line
    from lossctl.nn import modelfile

    prep = dataset.prep
    view = TrainView(quiet=quiet)
    classes = f", classes {', '.join(prep.classes)}" if prep.classes else ""
    n_val = 0 if dataset.x_val is None else len(dataset.x_val)
    view.start(f"{dataset.source}: {prep.task} on {prep.target!r}{classes}; "
               f"{len(dataset.x_train)} train / {n_val} val rows; {loss.qualified_name}")
    stop = threading.Event()

    def on_sigint(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if in_main else None
    started = time.perf_counter()
    try:
        for record in fit(model, loss, params, dataset, metrics=metric_list, stop=stop,
                          progress=view.progress, **fit_args):
            view.epoch(record)
    except BaseException:
        view.stop()
        raise
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
    records = view.records
    has_val = dataset.x_val is not None
    summary: dict[str, Any] = {
        "model": repr(model), "has_val": has_val, "seconds": time.perf_counter() - started,
        "epochs": len(records),
    }
    if records:
        monitored = [(r.val_loss if has_val else r.loss, r.epoch) for r in records]
        best_loss, best_epoch = min(monitored)
        summary.update(best_epoch=best_epoch, best_loss=best_loss)
        last = records[-1]
        final = {"loss": last.loss}
        if has_val:
            final["val_loss"] = last.val_loss
        summary["final"] = final | last.metrics
        if last.stopped_early:
            summary["note"] = (f"stopped early after epoch {last.epoch}; "
                               f"weights of epoch {best_epoch} restored")
    if stop.is_set():
        summary["note"] = "interrupted (Ctrl-C)" + ("; best weights restored" if records else "")
    if save:
        modelfile.save(save, model, prep, loss.qualified_name, dict(params),
                       {"trained": {"epochs": len(records), "seed": fit_args["seed"]}})
        summary["saved"] = save.path
    if history and records:
        columns = list(records[0].row())
        lines = [",".join(columns)] + [history_csv_line([r.row().get(c, "") for c in columns])
                                      for r in records]
        write_text_atomic(history, "\n".join(lines) + "\n")
    if plot and records:
        import os

        from lossctl.plot.history import columns_of, history_figure
        from lossctl.plot.image import write_image

        title = f"Training on {os.path.basename(dataset.source)}: {loss.qualified_name}"
        write_image(history_figure(columns_of([r.row() for r in records]), title), plot, "--plot")
        summary["plotted"] = plot.path
    view.finish(summary)
    if stop.is_set():
        raise KeyboardInterrupt


@app.command()
def predict(
    model: str = typer.Argument(..., help="Model file written by `lossctl train --save`."),
    data: str = typer.Argument(..., help="CSV with the model's feature columns, or - for stdin."),
    output: str | None = typer.Option(
        None, "--output", "-o", help="Write the CSV here (atomically) instead of stdout."
    ),
    nan: str = typer.Option("error", "--nan", help="Empty cells: error, or drop the row."),
) -> None:
    """Predict with a saved model. Columns: regression y_pred[,y_true]; classification
    y_pred (the label),p_0..p_{k-1}[,label_true,y_true] (y_true = class index, in the p_ order)."""
    from lossctl.io.reader import open_table
    from lossctl.nn import modelfile
    from lossctl.nn.predict import predicted_blocks, write_predictions

    _choice(nan, ("error", "drop"), "--nan")
    with ExitStack() as outputs:  # opened first; Ctrl-C or an error leaves no partial file
        to = outputs.enter_context(Output(output)) if output else None
        saved = modelfile.load(model)
        with open_table(data, nan) as table:
            labelled, blocks = predicted_blocks(saved, table, nan=nan)
            if to is not None:
                with open_atomic(to) as handle:
                    write_predictions(handle, saved, blocks, labelled, worker_count())
            else:
                write_predictions(stdout_bytes(), saved, blocks, labelled, worker_count())


@app.command()
def evaluate(
    model: str = typer.Argument(..., help="Model file written by `lossctl train --save`."),
    data: str = typer.Argument(..., help="Labelled CSV (with the target column), or - for stdin."),
    metrics: str | None = typer.Option(
        None, "--metrics",
        help="Comma list: accuracy and/or any loss name (default: accuracy; regression: mae).",
    ),
    nan: str = typer.Option("error", "--nan", help="Empty cells: error, or drop the row."),
    by: options.By = None,
) -> None:
    """Print the model's loss and metrics on a labelled CSV (name,value CSV when piped); with --by
    also per group (<by columns>,metric,value,rows)."""
    from lossctl.io.reader import open_table
    from lossctl.losses import get_loss
    from lossctl.nn import modelfile, resolve_metrics
    from lossctl.nn.predict import predicted_blocks
    from lossctl.nn.train import Scoring

    _choice(nan, ("error", "drop"), "--nan")
    plan = options.plan(by, None, 1000, 0)
    saved = modelfile.load(model)
    prep = saved.prep
    metric_list = resolve_metrics(
        split_names(metrics) if metrics is not None else [DEFAULT_METRICS[prep.task]], prep.task)
    loss = get_loss(saved.loss)
    scoring = Scoring(loss, saved.params, metric_list, prep.task, len(prep.classes),
                      saved.model.output_activation.name)
    with open_table(data, nan) as table:
        name = table.name
        if prep.target not in table.header:
            raise DataError(f"{name}: has no target column {prep.target!r} to evaluate against")
        plan.check([loss, *(m.loss for m in metric_list if m.loss)], table.header, name, "mean")
        for out, y, *keys in predicted_blocks(saved, table, plan.by, nan)[1]:
            scoring.add(out, y, *keys)
    value, found = scoring.result()
    rows = [(loss.qualified_name, value), *found.items()]
    if plan.by:
        from lossctl import render

        keys, per_group, counts = scoring.by_group()
        render.grouped_scores(plan.by, keys, per_group, counts, dict(rows), scoring.rows,
                              "table" if sys.stdout.isatty() else "csv", sys.stdout)
        return
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        shown = Table(title=f"{model} on {name} ({scoring.rows} rows)", title_justify="left")
        shown.add_column("metric")
        shown.add_column("value", justify="right")
        for metric, v in rows:
            shown.add_row(metric, repr(v))
        Console().print(shown)
    else:
        print("metric,value")
        for metric, v in rows:
            print(f"{metric},{v!r}")
