"""Training: lossctl's seconds per epoch against scikit-learn, PyTorch, numpy and the matmul floor.

All train 20 -> 64 relu -> 64 relu -> 5 softmax with Adam on the same rows. Targets: lossctl at most
0.5x sklearn's and torch's time per epoch at batch 256, within 2x of the matmul floor at a large batch,
and a small whole-process job faster than the same job in a sklearn script; small data sets trained
with early stopping at most 0.5x the same job in a sklearn script (issue 11).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import statistics
import sys
from dataclasses import replace

from harness import Contender, Outcome, Parser, run_interleaved
from inputs import Config, mlp_files, script
from report import Table, mib, ratio, rounds, seconds, spread, verdict

CLASSES = 5  # datagen.py's MLP_CLASSES
HIDDEN = "64,64"
ACCURACY_SPREAD = 0.02
ONE_THREAD_FLOOR = "matmul floor, 1 BLAS thread"
EARLY_ROWS = (500, 2_000)  # rows of the CSV each contender reads
EARLY_MAX_EPOCHS, EARLY_PATIENCE, EARLY_VAL_FRACTION = 200, 10, 0.1
ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
HEADERS = [
    "batch",
    "contender",
    "s/epoch median",
    "min – max",
    "val accuracy",
    "lossctl ÷ this",
    "target",
    "status",
]


def run(config: Config) -> list[Table]:
    train, val = mlp_files(config, config.train_rows)
    missing = [
        name
        for name, module in (("scikit-learn", "sklearn"), ("torch", "torch"))
        if importlib.util.find_spec(module) is None
    ]
    table = Table(
        f"Training: seconds per epoch, {config.train_rows:,} x 20 rows, {CLASSES} classes, "
        f"{config.epochs} epochs",
        HEADERS,
    )
    table.notes += [
        "lossctl: median of its history's `seconds` (includes its per-epoch train and val scoring); "
        "torch and numpy: median epoch including a val pass; sklearn: fit time / epochs.",
        "Matmul floor: only the 8 GEMMs of each step (3 forward, 5 backward) in float32, "
        "fastest of 10 epochs; with numpy's default BLAS threads and with one thread.",
        f"{rounds(config.repeats).capitalize()}; the first 80% of rows train, the last 20% validate. "
        f"At batch {config.big_batch} the few steps per epoch leave accuracy low: only time is compared.",
    ]
    table.notes += [f"{name} is not installed: its rows are skipped." for name in missing]
    for batch, targets in (
        (256, {"sklearn": 0.5, "torch": 0.5}),
        (config.big_batch, {"matmul floor": 2.0, ONE_THREAD_FLOOR: 2.0}),
    ):
        contenders = _contenders(config, str(train), str(val), batch, missing, full=batch == 256)
        print(f"training: batch {batch}", file=sys.stderr, flush=True)
        outcomes = run_interleaved(contenders, config.repeats)
        table.rows += _rows(batch, outcomes, targets)
        if batch == 256:
            table.notes.append(_accuracy_note(batch, outcomes))
    return [table, _small_job(config, missing), _early_stopping(config, missing)]


def _contenders(
    config: Config, train: str, val: str, batch: int, missing: list[str], full: bool
) -> list[Contender]:
    common = ["--epochs", str(config.epochs), "--batch-size", str(batch), "--hidden", HIDDEN]
    contenders = [_lossctl(config, train, ["--val", val], batch, config.epochs)]
    if full and "scikit-learn" not in missing:
        contenders.append(_script(config, "sklearn", "mlp_sklearn.py", train, val, common))
    if full and "torch" not in missing:
        contenders.append(_script(config, "torch", "mlp_torch.py", train, val, common))
    contenders.append(_script(config, "numpy float32 loop", "mlp_numpy.py", train, val, common))
    floor = [config.python, script("matmul_floor.py"), "--rows", str(config.train_rows * 4 // 5)]
    floor += ["--batch", str(batch), "--classes", str(CLASSES)]
    contenders.append(Contender("matmul floor", floor, parse=_json))
    contenders.append(Contender(ONE_THREAD_FLOOR, floor, ONE_BLAS_THREAD, parse=_json))
    return contenders


def _lossctl(
    config: Config, train: str, validation: list[str], batch: int, epochs: int, parse: Parser | None = None
) -> Contender:
    """`train` with `validation` (`--val FILE`, or `--val-split F --patience N`); `parse` its history."""
    argv = [
        *config.lossctl,
        "train",
        train,
        *validation,
        "--target",
        "label",
        "--hidden",
        HIDDEN,
        "--optimizer",
        "adam",
        "--batch-size",
        str(batch),
        "--epochs",
        str(epochs),
        "--activation",
        "relu",
        "--quiet",
    ]
    return Contender("lossctl", argv, parse=parse or _history)


def _script(config: Config, label: str, name: str, train: str, val: str, extra: list[str]) -> Contender:
    return Contender(label, [config.python, script(name), train, val, *extra], parse=_json)


def _history(stdout: str) -> dict[str, float]:
    """lossctl's history CSV (stdout when piped): median seconds, last val_accuracy."""
    records = list(csv.DictReader(io.StringIO(stdout)))
    return {
        "epoch_seconds": statistics.median(float(r["seconds"]) for r in records),
        "val_accuracy": float(records[-1]["val_accuracy"]),
    }


def _early_history(stdout: str) -> dict[str, float]:
    """Epochs run and the val_accuracy of the lowest val_loss: the epoch whose weights are kept."""
    records = list(csv.DictReader(io.StringIO(stdout)))
    best = min(records, key=lambda r: float(r["val_loss"]))
    return {"epochs": float(len(records)), "val_accuracy": float(best["val_accuracy"])}


def _json(stdout: str) -> dict[str, float]:
    found = json.loads(stdout.strip().splitlines()[-1])
    return {k: float(v) for k, v in found.items() if isinstance(v, (int, float))}


def _rows(batch: int, outcomes: list[Outcome], targets: dict[str, float]) -> list[list[str]]:
    ours = outcomes[0].stats("epoch_seconds")
    out = []
    for outcome in outcomes:
        label = outcome.contender.label
        if not outcome.ok:
            out.append([str(batch), label, f"failed: {outcome.error}", *[""] * 5])
            continue
        epoch = outcome.stats("epoch_seconds")
        accuracy = outcome.stats("val_accuracy")
        share = ours.median / epoch.median if ours and outcome is not outcomes[0] else None
        limit = targets.get(label)
        target = f"≤ {limit:g}x" if limit else ""
        passed = (share is not None and share <= limit) if limit else None
        out.append(
            [
                str(batch),
                label,
                seconds(epoch.median),
                spread(epoch),
                "—" if accuracy is None else f"{accuracy.median:.3f}",
                ratio(share),
                target,
                verdict(passed),
            ]
        )
    return out


def _accuracy_note(batch: int, outcomes: list[Outcome]) -> str:
    found = {
        o.contender.label: o.stats("val_accuracy").median
        for o in outcomes
        if o.ok and o.stats("val_accuracy") is not None
    }
    if len(found) < 2:
        return f"Batch {batch}: too few contenders finished to compare accuracy."
    low, high = min(found.values()), max(found.values())
    return (
        f"Batch {batch}: val accuracy {low:.3f} – {high:.3f}; equal-accuracy check "
        f"(spread ≤ {ACCURACY_SPREAD}): {verdict(high - low <= ACCURACY_SPREAD)}."
    )


SKLEARN_JOB = "sklearn script (pandas read + MLPClassifier)"
WHOLE_HEADERS = ["contender", "wall median", "min – max", "peak RSS", "val accuracy"]
WHOLE_TAIL = ["lossctl ÷ this", "target", "status"]


def _small_job(config: Config, missing: list[str]) -> Table:
    rows, epochs = config.small_train_rows, config.small_epochs
    table = Table(
        f"Small training job, whole process: {rows:,} rows, {epochs} epochs, batch 256",
        WHOLE_HEADERS + WHOLE_TAIL,
    )
    if "scikit-learn" in missing:
        table.notes.append("skipped: scikit-learn is not installed.")
        return table
    train, val = map(str, mlp_files(config, rows))
    common = ["--epochs", str(epochs), "--batch-size", "256", "--hidden", HIDDEN]
    contenders = [
        _lossctl(config, train, ["--val", val], 256, epochs),
        _script(config, SKLEARN_JOB, "mlp_sklearn.py", train, val, common),
    ]
    print("training: small whole-process job", file=sys.stderr, flush=True)
    outcomes = run_interleaved(contenders, config.repeats, warmup=True)
    table.rows += _whole_rows(outcomes, 1.0)
    table.notes.append(f"{rounds(config.repeats).capitalize()} after one warm-up round.")
    return table


def _early_stopping(config: Config, missing: list[str]) -> Table:
    """`train --patience` on a few hundred to two thousand rows against MLPClassifier(early_stopping=True)."""
    table = Table(
        f"Small data sets with early stopping, whole process: at most {EARLY_MAX_EPOCHS} epochs, "
        f"patience {EARLY_PATIENCE}, {EARLY_VAL_FRACTION:g} held out, batch 256",
        ["rows", *WHOLE_HEADERS, "epochs run", *WHOLE_TAIL],
    )
    if "scikit-learn" in missing:
        table.notes.append("skipped: scikit-learn is not installed.")
        return table
    table.notes += [
        f"Each contender reads one CSV of x0..x19,label and holds out {EARLY_VAL_FRACTION:g} of it: "
        f"lossctl `--val-split {EARLY_VAL_FRACTION:g} --patience {EARLY_PATIENCE}` stops on val_loss and "
        "restores the best weights; MLPClassifier(early_stopping=True, tol=0) stops on held-out accuracy "
        "and keeps its best weights. val accuracy: each one's held-out accuracy of the weights it keeps "
        "(a few hundred rows: expect ±0.05 between splits).",
        "On 2 busy cores OpenBLAS's default threads slow MLPClassifier's small matrix products many times "
        "over: the one-thread row is the fairer peer.",
        f"{rounds(config.repeats).capitalize()} after one warm-up round.",
    ]
    for rows in EARLY_ROWS:
        train, val = map(str, mlp_files(config, rows * 5 // 4))  # the 80% part has `rows` rows
        stopping = ["--val-split", str(EARLY_VAL_FRACTION), "--patience", str(EARLY_PATIENCE)]
        extra = ["--epochs", str(EARLY_MAX_EPOCHS), "--batch-size", "256", "--hidden", HIDDEN]
        extra += ["--patience", str(EARLY_PATIENCE), "--validation-fraction", str(EARLY_VAL_FRACTION)]
        contenders = [
            _lossctl(config, train, stopping, 256, EARLY_MAX_EPOCHS, _early_history),
            _script(config, SKLEARN_JOB, "mlp_sklearn.py", train, val, extra),
        ]
        contenders.append(replace(contenders[1], label="same, 1 BLAS thread", env=ONE_BLAS_THREAD))
        print(f"training: early stopping, {rows:,} rows", file=sys.stderr, flush=True)
        outcomes = run_interleaved(contenders, config.repeats, warmup=True)
        table.rows += [[f"{rows:,}", *row] for row in _whole_rows(outcomes, 0.5, extra=("epochs",))]
    return table


def _whole_rows(outcomes: list[Outcome], limit: float, extra: tuple[str, ...] = ()) -> list[list[str]]:
    """Rows of a whole-process table: wall, peak RSS, val accuracy, medians of `extra`, the ratio."""
    ours = outcomes[0].stats()
    out = []
    for outcome in outcomes:
        if not outcome.ok:
            out.append([outcome.contender.label, f"failed: {outcome.error}", *[""] * (6 + len(extra))])
            continue
        wall, accuracy = outcome.stats(), outcome.stats("val_accuracy")
        other = outcome is not outcomes[0]
        share = ours.median / wall.median if ours and other else None
        medians = [f"{outcome.stats(key).median:g}" for key in extra]
        out.append(
            [
                outcome.contender.label,
                seconds(wall.median),
                spread(wall),
                mib(outcome.stats("rss_mib").high),
                f"{accuracy.median:.3f}",
                *medians,
                ratio(share),
                f"≤ {limit:g}x" if other else "",
                verdict(share <= limit if share is not None else None),
            ]
        )
    return out
