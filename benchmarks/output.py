"""Per-row output and streamed prediction (issue 11): the one writer, and predict/evaluate in blocks.

* `compute --loss mse --reduction none` on the mse CSVs to stdout, against DuckDB's
  `COPY (SELECT (y_pred - y_true) ^ 2 ...) TO '/proc/self/fd/1'` (its stdout; optional: skipped
  without duckdb).
  Both are piped into `tail -n 1` (so both pay for a pipe) and the last value is checked.
* `predict -o` and `evaluate` on x0..x19,label CSVs (5 classes; a model trained once, untimed),
  against a pandas script that reads the file and writes three of its columns with `to_csv`.

Targets: at most 1x the reference; predict and evaluate at most 300 MiB, flat from 1e6 to 1e7 rows.
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from harness import Contender, Outcome, run_interleaved
from inputs import Config, NoRoom, data_file, expected_value, script
from report import Table, mib, ratio, rounds, seconds, spread, verdict

RSS_LIMIT_MIB = 300
MAX_ROWS = 10_000_000
HEADERS = ["rows", "contender", "wall median", "min – max", "peak RSS", "vs reference", "check", "status"]


def run(config: Config) -> list[Table]:
    return [_rows_to_stdout(config), _predict(config)]


def _label(rows: int) -> str:
    exponent = int(math.log10(rows))
    mantissa = rows / 10**exponent
    return f"{mantissa:g}e{exponent}" if mantissa == int(mantissa) else f"{rows:,}"


def _inputs(config: Config, kind: str, table: Table) -> Iterator[tuple[int, Path]]:
    """(rows, the input file) of each size up to MAX_ROWS; a size without room is a note."""
    for rows in [n for n in config.sizes if n <= MAX_ROWS]:
        try:
            yield rows, data_file(config, kind, rows)
        except NoRoom as error:
            table.notes.append(f"{_label(rows)} rows skipped: {error}.")


def _piped(argv: list[str]) -> list[str]:
    """`argv | tail -n 1` in bash with pipefail: the command's failure is the contender's."""
    return ["bash", "-o", "pipefail", "-c", " ".join(map(_quoted, argv)) + " | tail -n 1"]


def _quoted(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def _last_value(stdout: str) -> dict[str, float]:
    return {"value": float(stdout.strip().splitlines()[-1])}


def _last_row_mse(path: Path) -> float:
    """(y_pred - y_true) ** 2 of the file's last row, read from its end."""
    with open(path, "rb") as handle:
        handle.seek(max(0, os.path.getsize(path) - 200))
        y_true, y_pred = map(float, handle.read().decode().strip().splitlines()[-1].split(","))
    return (y_pred - y_true) ** 2


def _table_rows(rows: int, outcomes: list[Outcome], check) -> list[list[str]]:
    base = outcomes[0].stats() if outcomes and outcomes[0].ok else None
    out = []
    for outcome in outcomes:
        label = outcome.contender.label
        if not outcome.ok:
            out.append([_label(rows), label, f"failed: {outcome.error}", *[""] * 5])
            continue
        wall, rss = outcome.stats(), outcome.stats("rss_mib")
        share = wall.median / base.median if base is not None else None
        ok, said = check(outcome)
        status = ""
        if label.startswith("lossctl"):
            limit = RSS_LIMIT_MIB if "predict" in label or "evaluate" in label else None
            misses = [why for why, bad in (("slower", share is None or share > 1),
                                           ("RSS", limit is not None and rss.high >= limit),
                                           ("value", not ok)) if bad]
            status = verdict(not misses) + (f" ({', '.join(misses)})" if misses else "")
        out.append([_label(rows), label, seconds(wall.median), spread(wall), mib(rss.high), ratio(share),
                     said, status])
    return out


def _rows_to_stdout(config: Config) -> Table:
    table = Table("Per-row output: `compute --loss mse --reduction none` to stdout", HEADERS)
    have_duckdb = importlib.util.find_spec("duckdb") is not None
    table.notes.append(
        "Reference: DuckDB `COPY (SELECT (y_pred - y_true) ^ 2 FROM read_csv(...)) TO '/proc/self/fd/1'`; "
        f"both piped into `tail -n 1`, whose line is checked against the file's last row. "
        f"Target: ≤ 1x. {rounds(config.repeats).capitalize()}."
    )
    if not have_duckdb:
        table.notes.append("duckdb is not installed: lossctl runs alone (`pip install duckdb`).")
    for rows, path in _inputs(config, "mse", table):
        expected = _last_row_mse(path)
        contenders = []
        if have_duckdb:
            contenders.append(Contender("DuckDB COPY", _piped([config.python, script("rows_duckdb.py"),
                                                                 str(path)]), parse=_last_value))
        argv = [*config.lossctl, "compute", "--loss", "mse", "--reduction", "none", str(path)]
        contenders.append(Contender("lossctl", _piped(argv), parse=_last_value))
        print(f"output: reduction none, {_label(rows)} rows", file=sys.stderr, flush=True)
        outcomes = run_interleaved(contenders, config.repeats)

        def check(outcome: Outcome, expected: float = expected) -> tuple[bool, str]:
            got = outcome.samples[0].values["value"]
            close = abs(got - expected) <= 1e-12 * max(abs(expected), 1e-300)
            return close, ("last row ok" if close else f"last row {got!r}")

        table.rows += _table_rows(rows, outcomes, check)
    return table


def _model(config: Config) -> Path:
    """A model trained once (1 epoch) on the features CSV's first rows; reused."""
    model = config.data_dir / "predict_model.npz"
    if not model.exists():
        train = data_file(config, "features", 100_000)
        subprocess.run([*config.lossctl, "train", str(train), "--epochs", "1", "--batch-size", "256",
                        "--hidden", "64,64", "-q", "--save", str(model)], check=True,
                       stdout=subprocess.DEVNULL)
    return model


def _predict(config: Config) -> Table:
    table = Table("Streamed prediction: `predict -o` and `evaluate`, x0..x19,label CSVs, 5 classes",
                  HEADERS)
    table.notes.append(
        "Reference: a pandas script that reads the file with `read_csv` and writes three of its "
        f"columns with `to_csv`. Target: ≤ 1x, peak RSS < {RSS_LIMIT_MIB} MiB and flat as rows grow. "
        f"The model (20 -> 64 -> 64 -> 5) was trained once beforehand. {rounds(config.repeats).capitalize()}."
    )
    model = str(_model(config))
    for rows, path in _inputs(config, "features", table):
        out = str(config.data_dir / "predicted.csv")
        contenders = [
            Contender("pandas read_csv + to_csv",
                      [config.python, script("predict_pandas.py"), str(path), out],
                      parse=lambda text: {"value": float(text)}),
            Contender("lossctl predict -o", [*config.lossctl, "predict", model, str(path), "-o", out]),
            Contender("lossctl evaluate", [*config.lossctl, "evaluate", model, str(path)],
                      parse=lambda text: {"value": float(text.splitlines()[-1].split(",")[1])}),
        ]
        print(f"output: predict/evaluate, {_label(rows)} rows", file=sys.stderr, flush=True)
        outcomes = run_interleaved(contenders, config.repeats)
        expected = expected_value(path)

        def check(outcome: Outcome, expected: float = expected) -> tuple[bool, str]:
            label = outcome.contender.label
            if label.startswith("pandas"):
                got = outcome.samples[0].values["value"]
                return got == expected, f"{got:.0f} rows"
            if label == "lossctl evaluate":
                return True, f"accuracy {outcome.samples[0].values['value']:.3f}"
            return True, ""

        table.rows += _table_rows(rows, outcomes, check)
        Path(out).unlink(missing_ok=True)
    return table
