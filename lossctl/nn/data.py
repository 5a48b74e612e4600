"""Training data: target choice, task inference, split, and feature preprocessing.

Inputs are read through the one reader (`io.reader`), with its file shapes and its errors (file,
line, column). A feature column is numeric when most of its cells are numbers; then a cell that is
not one is an error, not a category. Other columns are categorical and one-hot encoded. Numeric
features are standardised with the training split's mean and standard deviation only. Class labels
are kept as the text they have in the file.

Task inference from the target: text labels -> binary (2 classes) or multiclass; numbers with
2 distinct values -> binary; integers with at most 10 distinct values -> multiclass; any other
numbers -> regression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from lossctl.errors import DataError, UsageError
from lossctl.io.block import Block, Codes, Table, shorten
from lossctl.io.columns import ROLE_NAMES
from lossctl.io.reader import open_table

Task = Literal["regression", "binary", "multiclass"]
TASKS: tuple[str, ...] = ("regression", "binary", "multiclass")
MAX_INT_CLASSES = 10
DICT_ROWS = 1_000_000  # positions(): a dict up to here (0.3 s at most), then pandas (0.3-0.6 s to import)


@dataclass
class Rows:
    """Rows of an input read through the one reader (`io.reader`): numeric columns (float64) and
    text columns (stripped str) by name; each row knows its file and line for messages."""

    name: str
    block: Block
    numeric: list[str]

    def __len__(self) -> int:
        return len(self.block)

    def number(self, column: str) -> np.ndarray:
        return self.block.data[:, self.numeric.index(column)]

    def text(self, column: str) -> np.ndarray:
        cells = self.block.text[column]
        return cells.cells() if isinstance(cells, Codes) else cells

    def distinct(self, column: str) -> Codes:
        """A text column's distinct cells (those of these rows) and each row's code."""
        cells = self.block.text[column]
        return cells.compact() if isinstance(cells, Codes) else Codes.of(cells)

    def take(self, rows: np.ndarray) -> Rows:
        return Rows(self.name, self.block.take(rows), self.numeric)

    def where(self, row: int) -> str:
        """'file: line N' (or 'row N' for Parquet) of a row."""
        return f"{self.block.source_of(row)}: {self.block.where} {self.block.line_of(row)}"


def read_rows(table: Table, numeric: Sequence[str], text: Sequence[str]) -> Rows:
    """Every row of the columns asked for, as one block."""
    blocks = list(table.blocks(numeric, text))
    return Rows(table.name, blocks[0] if len(blocks) == 1 else Block.concat(blocks), list(numeric))


def read_training(table: Table, features: Sequence[str], target: str) -> Rows:
    """Every row of a training input: each feature numeric when most of its cells are numbers (then
    a cell that is not one is an error naming it), else text; the target as text (`Codes`: each
    label is decoded and checked once).

    The reader guesses each feature block by block (numbers where all of a block's cells are); a
    column that came as numbers in some blocks and as text in others is settled here, over all rows
    (a categorical column's cells from a block of numbers are then written as the writer prints
    numbers).
    """
    blocks = list(table.blocks(guess=features, keys=[target]))
    numeric = [c for c in features if _mostly_numbers([b.text[c] for b in blocks])]
    typed = [_typed(Rows(table.name, b, []), numeric, features, target) for b in blocks]
    return Rows(table.name, typed[0] if len(typed) == 1 else Block.concat(typed), numeric)


def _mostly_numbers(parts: list[np.ndarray]) -> bool:
    numbers = sum(int(np.count_nonzero(~np.isnan(p if p.dtype.kind == "f" else _parse(p)))) for p in parts)
    return numbers * 2 > sum(len(p) for p in parts)


def _typed(rows: Rows, numeric: list[str], features: Sequence[str], target: str) -> Block:
    """A block of guessed columns with the kinds decided: numeric ones in `data`, the rest text."""
    from lossctl.io.writer import number_text

    cells = rows.block.text
    data = np.empty((len(rows), len(numeric)), dtype=np.float64, order="F")
    for j, column in enumerate(numeric):
        data[:, j] = cells[column] if cells[column].dtype.kind == "f" else numbers(rows, column)
    text = {c: (np.array([number_text(v) for v in cells[c]], dtype=object) if cells[c].dtype.kind == "f"
                else cells[c]) for c in features if c not in numeric}
    text[target] = cells[target]
    block = rows.block
    return Block(data, block.lines, text, block.source, block.where, block.parts)


def _is_numeric(parsed: np.ndarray) -> bool:
    return bool(np.count_nonzero(~np.isnan(parsed)) * 2 > len(parsed))


def _parse(values: np.ndarray) -> np.ndarray:
    """float64 of each text cell (Python's `float`, no digit separators), NaN where it is not a number."""
    cells = np.asarray(values, dtype=object)
    try:  # numpy calls float() on each cell in C: all-number columns, the usual case
        parsed = cells.astype(np.float64)
    except (ValueError, TypeError):
        parsed = np.array([_float_or_nan(text) for text in cells], dtype=np.float64)
    return _no_separators(cells, parsed)


def _float_or_nan(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return np.nan


def _no_separators(cells: np.ndarray, parsed: np.ndarray) -> np.ndarray:
    """`parsed`, except NaN where the text had a digit separator ('1_000'), which lossctl rejects."""
    if "_" not in "".join(cells):  # one C-level scan for the usual answer
        return parsed
    separated = np.fromiter(("_" in text for text in cells), dtype=bool, count=len(cells))
    return np.where(separated, np.nan, parsed)


def numbers(rows: Rows, column: str) -> np.ndarray:
    """A text column as float64; a cell that is not a number is an error naming line and column."""
    cells = rows.block.text[column]
    values, codes = (cells.words, cells.codes) if isinstance(cells, Codes) else (cells, None)
    parsed = _parse(values)  # of each distinct cell once, for Codes
    nan = np.isnan(parsed)
    if nan.any():
        bad = nan & ~np.array([v.lower() == "nan" for v in values])
        if codes is not None:
            bad = bad[codes]
        if bad.any():
            row = int(np.argmax(bad))
            cell = values[row] if codes is None else values[codes[row]]
            raise DataError(f"{rows.where(row)}, column {column}: {shorten(cell)!r} is not a number")
    return parsed if codes is None else parsed[codes]


def finite_rows(rows: Rows, nan: str, target: str | None = None) -> Rows:
    """`rows` without infinite numbers: one in a numeric column (or in the `target` column, given
    for regression) is an error naming its line and column, or (nan="drop") its row is dropped."""
    columns = {c: rows.number(c) for c in rows.numeric}
    if target is not None:
        columns[target] = numbers(rows, target)
    bad = np.zeros(len(rows), dtype=bool)
    for column, values in columns.items():
        infinite = ~np.isfinite(values)
        if infinite.any() and nan != "drop":
            row = int(np.argmax(infinite))
            raise DataError(f"{rows.where(row)}, column {column}: {str(values[row])!r} is not a finite "
                            "number (use --nan drop to skip such rows)")
        bad |= infinite
    return rows.take(np.flatnonzero(~bad)) if bad.any() else rows


def mean_std(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of finite numbers, without overflow: numbers near the
    float64 limit (1e308) are scaled down first, as their squares would be infinite."""
    scale = float(np.max(np.abs(values))) if len(values) else 0.0
    if not 0 < scale < np.inf or 1e-100 < scale < 1e100:
        return float(values.mean()), float(values.std())
    scaled = values / scale
    return float(scaled.mean() * scale), float(scaled.std() * scale)


def choose_target(columns: list[str], target: str | None, name: str) -> str:
    """--target, else the first column named as a y_true (io.columns.ROLE_NAMES: y_true, label,
    target, y, class, ... in that order of preference, any case), else the last column."""
    if target is not None:
        if target not in columns:
            raise DataError(
                f"{name}: has no target column {target!r} (columns: {', '.join(columns)})"
            )
        return target
    folded = {column.casefold(): column for column in reversed(columns)}  # the first of each name
    return next((folded[n] for n in ROLE_NAMES["y_true"] if n in folded), columns[-1])


def _sorted_labels(labels: np.ndarray) -> tuple[str, ...]:
    unique = sorted(set(labels.tolist()))
    parsed = _parse(np.array(unique, dtype=object))
    if not np.isnan(parsed).any():
        return tuple(label for _, label in sorted(zip(parsed.tolist(), unique, strict=True)))
    return tuple(unique)


def infer_task(rows: Rows, target: str) -> Task:
    labels = rows.distinct(target)
    if not _is_numeric(_parse(labels.words)[labels.codes]):
        return "binary" if len(labels.words) <= 2 else "multiclass"
    unique = np.unique(numbers(rows, target))
    if len(unique) <= 2:
        return "binary"
    if len(unique) <= MAX_INT_CLASSES and np.all(unique == np.round(unique)):
        return "multiclass"
    return "regression"


def positions(values: np.ndarray | Codes, names: tuple[str, ...]) -> np.ndarray:
    """int64 position of each value in `names`, -1 where it is not there.

    One dict lookup per distinct value (the rule a loop over the rows would follow), with the
    rows grouped by their `Codes`, or else by a dict (small inputs: importing pandas would cost
    0.3-0.5 s of a small `train`), or past DICT_ROWS rows by pandas' factorize, a hash table in C;
    NaN and None are values like any other (not in `names`, which holds text).
    """
    if isinstance(values, Codes):
        codes, uniques = values.codes, values.words
    elif len(values) <= DICT_ROWS:
        seen: dict[Any, int] = {}
        codes = np.fromiter((seen.setdefault(v, len(seen)) for v in values), np.intp, len(values))
        uniques = list(seen)
    else:
        import pandas as pd

        codes, uniques = pd.factorize(values, use_na_sentinel=False)
    index = {name: i for i, name in enumerate(names)}
    found = np.array([index.get(value, -1) for value in uniques], dtype=np.int64)
    return found[codes]


@dataclass
class Feature:
    """One input column and how it becomes network inputs."""

    name: str
    kind: Literal["numeric", "categorical"]
    mean: float = 0.0
    std: float = 1.0
    levels: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return 1 if self.kind == "numeric" else len(self.levels)

    def encode(self, rows: Rows) -> np.ndarray:
        """The (n, width) network inputs of this feature."""
        out = np.zeros((self.width, len(rows)), dtype=np.float64)
        self.encode_into(rows, out)
        return np.ascontiguousarray(out.T)

    def encode_into(self, rows: Rows, out: np.ndarray) -> None:
        """Write the inputs of this feature into `out`, of shape (width, n): one row per input."""
        if self.kind == "numeric":
            np.subtract(rows.number(self.name), self.mean, out=out[0])
            np.divide(out[0], self.std, out=out[0])
            return
        j = positions(rows.text(self.name), self.levels)
        kept = np.flatnonzero(j >= 0)  # an unseen category encodes as all zeros
        out[j[kept], kept] = 1.0


@dataclass
class Preprocessor:
    """What turns a CSV into network inputs and targets; saved with the model."""

    features: list[Feature]
    target: str
    task: Task
    classes: tuple[str, ...] = ()

    @property
    def n_inputs(self) -> int:
        return sum(f.width for f in self.features)

    @property
    def input_names(self) -> list[str]:
        names: list[str] = []
        for f in self.features:
            names += [f.name] if f.kind == "numeric" else [f"{f.name}={lv}" for lv in f.levels]
        return names

    def request(self, name: str, header: Sequence[str]) -> tuple[list[str], list[str], bool]:
        """(numeric columns, text columns, whether the target is there) to read from an input
        with this `header` for the model; its feature columns must be there."""
        missing = [f.name for f in self.features if f.name not in header]
        if missing:
            raise DataError(
                f"{name}: lacks the model's feature column(s) {', '.join(missing)} "
                f"(columns: {', '.join(header)})"
            )
        labelled = self.target in header
        numeric = [f.name for f in self.features if f.kind == "numeric"]
        text = [f.name for f in self.features if f.kind != "numeric"] + ([self.target] if labelled else [])
        return numeric, list(dict.fromkeys(text)), labelled

    def inputs(self, rows: Rows) -> np.ndarray:
        """The (n, n_inputs) float64 network input of some rows."""
        # Written feature by feature into the rows of its transpose (each input contiguous), then
        # transposed once: the same numbers as stacking the columns, at a fraction of the cost.
        inputs = np.zeros((self.n_inputs, len(rows)), dtype=np.float64)
        start = 0
        for f in self.features:
            f.encode_into(rows, inputs[start : start + f.width])
            start += f.width
        return np.ascontiguousarray(inputs.T)

    def targets(self, rows: Rows) -> np.ndarray:
        """float64 target values (regression) or int64 class indices."""
        if self.task == "regression":
            return numbers(rows, self.target)
        out = positions(rows.block.text[self.target], self.classes)
        unseen = out < 0
        if unseen.any():
            row = int(np.argmax(unseen))
            hint = ""
            if _is_numeric(_parse(np.asarray(self.classes, dtype=object))):
                hint = f"; if {self.target} is a quantity, not a class, give --task regression"
            cell = rows.text(self.target)[row]
            raise DataError(
                f"{rows.where(row)}, column {self.target}: class "
                f"{cell!r} was not in the training data ({', '.join(self.classes)}){hint}"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "task": self.task, "classes": list(self.classes),
            "features": [
                {"name": f.name, "kind": f.kind, "mean": f.mean, "std": f.std,
                 "levels": list(f.levels)} for f in self.features
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessor:
        features = [
            Feature(f["name"], f["kind"], float(f["mean"]), float(f["std"]), tuple(f["levels"]))
            for f in data["features"]
        ]
        return cls(features, data["target"], data["task"], tuple(data["classes"]))


def fit_preprocessor(train: Rows, header: Sequence[str], target: str, task: Task) -> Preprocessor:
    """Statistics and category levels from the training rows only; features in `header` order."""
    features = []
    for column in header:
        if column == target:
            continue
        if column in train.numeric:
            mean, std = mean_std(train.number(column))
            features.append(Feature(column, "numeric", mean, std if std > 0 else 1.0))
        else:
            levels = tuple(sorted(set(train.text(column).tolist())))
            features.append(Feature(column, "categorical", levels=levels))
    classes: tuple[str, ...] = ()
    if task != "regression":
        classes = _sorted_labels(train.distinct(target).words)
    return Preprocessor(features, target, task, classes)


@dataclass
class Dataset:
    """Network inputs and targets of the training and (optional) validation rows."""

    prep: Preprocessor
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    source: str = ""

    @property
    def n_classes(self) -> int:
        return len(self.prep.classes)


def split_rows(n: int, val_split: float, seed: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled train / validation row indices (seeded); val_split 0 gives no validation rows."""
    if val_split == 0:
        return np.arange(n), np.arange(0)
    n_val = int(round(n * val_split))
    if n_val < 1 or n - n_val < 1:
        raise DataError(
            f"{name}: {n} row(s) are too few for a validation split of {val_split:g} "
            "(use more rows, a larger --val-split, or --val-split 0)"
        )
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def load_training(
    path: str, *, target: str | None = None, task: str | None = None, nan: str = "error",
    val_split: float = 0.2, val_path: str | None = None, seed: int = 0,
) -> Dataset:
    """Read, check, split and preprocess a training input (and an optional validation input).

    The target is read as text (class labels stay as written).
    """
    if task is not None and task not in TASKS:
        raise UsageError(f"unknown task {task!r} (valid: {', '.join(TASKS)})")
    with open_table(path, nan) as table:
        name, header = table.name, table.header
        target = choose_target(header, target, name)
        if len(header) < 2:
            raise DataError(f"{name}: has only the target column {target!r}, no features")
        rows = read_training(table, [c for c in header if c != target], target)
    numeric = rows.numeric
    text = [c for c in header if c not in numeric]
    chosen = _check_task(rows, target, task)
    numeric_target = target if chosen == "regression" else None
    rows = finite_rows(rows, nan, numeric_target)
    if len(rows) == 0:
        raise DataError(f"{name}: no rows left after dropping rows with infinite numbers")
    if val_path is not None:
        train = rows
        with open_table(val_path, nan) as table:
            lacking = [c for c in header if c not in table.header]
            if lacking:
                raise DataError(f"{table.name}: lacks the training column(s) {', '.join(lacking)}")
            val: Rows | None = finite_rows(read_rows(table, numeric, text), nan, numeric_target)
    else:
        train_rows, val_rows = split_rows(len(rows), val_split, seed, name)
        train = rows.take(train_rows)
        val = rows.take(val_rows) if len(val_rows) else None
    prep = fit_preprocessor(train, header, target, chosen)
    if chosen != "regression" and len(prep.classes) < 2:
        raise DataError(
            f"{name}: target column {target!r} has one class ({prep.classes[0]!r}) "
            "in the training rows; a classifier needs at least two"
        )
    data = Dataset(prep, prep.inputs(train), prep.targets(train), source=name)
    if val is not None:
        data.x_val, data.y_val = prep.inputs(val), prep.targets(val)
    return data


def _check_task(rows: Rows, target: str, task: str | None) -> Task:
    inferred = infer_task(rows, target)
    labels = set(rows.distinct(target).words.tolist())
    if task is None:
        chosen: Task = inferred
    else:
        chosen = task
    if chosen == "regression":
        numbers(rows, target)  # an error naming the first non-number
        if len(labels) < 2:
            raise DataError(f"{rows.name}: target column {target!r} has a single value; nothing to learn")
    elif len(labels) < 2:
        raise DataError(
            f"{rows.name}: target column {target!r} has one class ({next(iter(labels))!r}); "
            "a classifier needs at least two"
        )
    elif chosen == "binary" and len(labels) > 2:
        raise DataError(
            f"{rows.name}: --task binary, but target column {target!r} has {len(labels)} classes"
        )
    elif chosen == "multiclass" and len(labels) > 1000:
        raise DataError(
            f"{rows.name}: target column {target!r} has {len(labels)} distinct values; "
            "did you mean --task regression?"
        )
    return chosen
