"""Reading a training CSV: target choice, task inference, split, and feature preprocessing.

Every cell is read as text and converted here, so that an error can name the file, the line
(the header is line 1) and the column. A column is numeric when most of its cells are numbers;
then a cell that is not one is an error, not a category. Other columns are categorical and
one-hot encoded. Numeric features are standardised with the training split's mean and standard
deviation only. Class labels are kept as the text they have in the file.

Task inference from the target: text labels -> binary (2 classes) or multiclass; numbers with
2 distinct values -> binary; integers with at most 10 distinct values -> multiclass; any other
numbers -> regression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from lossctl.errors import DataError, UsageError
from lossctl.io.cells import MISSING
from lossctl.io.source import open_source

Task = Literal["regression", "binary", "multiclass"]
TASKS: tuple[str, ...] = ("regression", "binary", "multiclass")
TARGET_NAMES = ("target", "label", "y", "class")
MAX_INT_CLASSES = 10


@dataclass
class Table:
    """A CSV read as text: the cells, the 1-based file line of each row, the file's name."""

    name: str
    frame: Any  # pandas.DataFrame of str
    lines: np.ndarray
    parsed: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # column -> _parse()

    def floats(self, column: str) -> np.ndarray:
        """The column's cells as float64, NaN where not a number (parsed once per table)."""
        if column not in self.parsed:
            self.parsed[column] = _parse(self.frame[column].to_numpy())
        return self.parsed[column]

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    def __len__(self) -> int:
        return len(self.frame)

    def take(self, rows: np.ndarray) -> Table:
        return Table(self.name, self.frame.iloc[rows].reset_index(drop=True), self.lines[rows])


def read_table(path: str) -> Table:
    """Read a CSV (a path or `-`) with a header row; every cell stays text."""
    import pandas as pd

    with open_source(path) as source:
        try:
            frame = pd.read_csv(
                source.stream, dtype=str, keep_default_na=False, na_filter=False,
                skipinitialspace=True, encoding="utf-8-sig", skip_blank_lines=True,
            )
        except pd.errors.EmptyDataError:
            raise DataError(f"{source.name}: is empty (no header, no rows)") from None
        except pd.errors.ParserError as error:
            detail = str(error).strip().splitlines()[-1]
            raise DataError(f"{source.name}: malformed CSV: {detail}") from None
        except UnicodeDecodeError:
            raise DataError(f"{source.name}: is not UTF-8 text (binary data?)") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    dupes = [c for c in frame.columns if ".1" in c and c[:-2] in frame.columns]
    if dupes:
        raise DataError(f"{source.name}: column {dupes[0][:-2]!r} appears twice in the header")
    if len(frame) == 0:
        raise DataError(f"{source.name}: has a header but no data rows")
    frame = frame.apply(lambda col: col.str.strip())
    return Table(source.name, frame, np.arange(2, len(frame) + 2, dtype=np.int64))


def _case_forms(word: str) -> set[str]:
    """Every upper/lower-case spelling of `word` ('na' -> na, nA, Na, NA)."""
    forms = {""}
    for char in word:
        forms = {f + c for f in forms for c in {char.lower(), char.upper()}}
    return forms


_MISSING_FORMS = sorted(form for word in MISSING for form in _case_forms(word))


def _missing(values: np.ndarray) -> np.ndarray:
    """Whether each text cell is an empty cell (any case of MISSING), by pandas' hash lookup."""
    import pandas as pd

    return pd.Series(values, dtype=object).isin(_MISSING_FORMS).to_numpy()


def drop_missing(table: Table, columns: list[str], nan: str) -> Table:
    """Raise on the first empty cell among `columns`, or (nan="drop") drop rows that have one."""
    bad = np.zeros(len(table), dtype=bool)
    for column in columns:
        missing = _missing(table.frame[column].to_numpy())
        if missing.any() and nan != "drop":
            row = int(np.argmax(missing))
            raise DataError(
                f"{table.name}: line {table.lines[row]}, column {column}: empty cell "
                "(use --nan drop to skip rows with empty cells)"
            )
        bad |= missing
    if not bad.any():
        return table
    kept = table.take(np.flatnonzero(~bad))
    if len(kept) == 0:
        raise DataError(f"{table.name}: no rows left after dropping rows with empty cells")
    return kept


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


def numbers(table: Table, column: str) -> np.ndarray:
    """A column as float64; a cell that is not a number is an error naming line and column."""
    parsed = table.floats(column)
    nan = np.isnan(parsed)
    if not nan.any():
        return parsed.copy()  # the cache stays as parsed
    values = table.frame[column].to_numpy()
    bad = nan & ~np.array([v.lower() == "nan" for v in values])
    if bad.any():
        row = int(np.argmax(bad))
        text = values[row] if len(values[row]) <= 40 else values[row][:37] + "..."
        raise DataError(f"{table.name}: line {table.lines[row]}, column {column}: {text!r} is not a number")
    return parsed


def is_numeric(table: Table, column: str) -> bool:
    """Most cells are numbers (then the others are errors, not categories)."""
    parsed = table.floats(column)
    return bool(np.count_nonzero(~np.isnan(parsed)) * 2 > len(parsed))


def choose_target(columns: list[str], target: str | None, name: str) -> str:
    """--target, else a column named target/label/y/class (any case), else the last column."""
    if target is not None:
        if target not in columns:
            raise DataError(
                f"{name}: has no target column {target!r} (columns: {', '.join(columns)})"
            )
        return target
    for wanted in TARGET_NAMES:
        for column in columns:
            if column.casefold() == wanted:
                return column
    return columns[-1]


def _sorted_labels(labels: np.ndarray) -> tuple[str, ...]:
    unique = sorted(set(labels.tolist()))
    parsed = _parse(np.array(unique, dtype=object))
    if not np.isnan(parsed).any():
        return tuple(label for _, label in sorted(zip(parsed.tolist(), unique, strict=True)))
    return tuple(unique)


def infer_task(table: Table, target: str) -> Task:
    values = table.frame[target].to_numpy()
    if not is_numeric(table, target):
        return "binary" if len(set(values.tolist())) <= 2 else "multiclass"
    parsed = numbers(table, target)
    unique = np.unique(parsed)
    if len(unique) <= 2:
        return "binary"
    if len(unique) <= MAX_INT_CLASSES and np.all(unique == np.round(unique)):
        return "multiclass"
    return "regression"


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

    def encode(self, table: Table) -> np.ndarray:
        if self.kind == "numeric":
            return ((numbers(table, self.name) - self.mean) / self.std)[:, None]
        values = table.frame[self.name].to_numpy()
        index = {level: i for i, level in enumerate(self.levels)}
        out = np.zeros((len(values), len(self.levels)), dtype=np.float64)
        for row, value in enumerate(values):
            j = index.get(value)
            if j is not None:  # an unseen category encodes as all zeros
                out[row, j] = 1.0
        return out


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

    def check_columns(self, table: Table) -> None:
        missing = [f.name for f in self.features if f.name not in table.frame.columns]
        if missing:
            raise DataError(
                f"{table.name}: lacks the model's feature column(s) {', '.join(missing)} "
                f"(columns: {', '.join(table.columns)})"
            )

    def inputs(self, table: Table) -> np.ndarray:
        """The (n, n_inputs) float64 network input of a table."""
        self.check_columns(table)
        if not self.features:
            return np.zeros((len(table), 0))
        return np.hstack([f.encode(table) for f in self.features])

    def targets(self, table: Table) -> np.ndarray:
        """float64 target values (regression) or int64 class indices."""
        if self.task == "regression":
            return numbers(table, self.target)
        index = {label: i for i, label in enumerate(self.classes)}
        values = table.frame[self.target].to_numpy()
        out = np.empty(len(values), dtype=np.int64)
        for row, value in enumerate(values):
            if value not in index:
                raise DataError(
                    f"{table.name}: line {table.lines[row]}, column {self.target}: class "
                    f"{value!r} was not in the training data ({', '.join(self.classes)})"
                )
            out[row] = index[value]
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


def fit_preprocessor(train: Table, target: str, task: Task) -> Preprocessor:
    """Statistics and category levels from the training rows only."""
    features = []
    for column in train.columns:
        if column == target:
            continue
        if is_numeric(train, column):
            values = numbers(train, column)
            std = float(values.std())
            features.append(Feature(column, "numeric", float(values.mean()), std if std > 0 else 1.0))
        else:
            levels = tuple(sorted(set(train.frame[column].tolist())))
            features.append(Feature(column, "categorical", levels=levels))
    classes: tuple[str, ...] = ()
    if task != "regression":
        classes = _sorted_labels(train.frame[target].to_numpy())
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
    notes: list[str] = field(default_factory=list)

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
    """Read, check, split and preprocess a training CSV (and an optional validation CSV)."""
    if task is not None and task not in TASKS:
        raise UsageError(f"unknown task {task!r} (valid: {', '.join(TASKS)})")
    table = read_table(path)
    target = choose_target(table.columns, target, table.name)
    if len(table.columns) < 2:
        raise DataError(f"{table.name}: has only the target column {target!r}, no features")
    table = drop_missing(table, table.columns, nan)
    chosen = _check_task(table, target, task)
    if val_path is not None:
        train, val = table, read_table(val_path)
        missing = [c for c in table.columns if c not in val.frame.columns]
        if missing:
            raise DataError(f"{val.name}: lacks the training column(s) {', '.join(missing)}")
        val = drop_missing(val, table.columns, nan)
    else:
        train_rows, val_rows = split_rows(len(table), val_split, seed, table.name)
        train = table.take(train_rows)
        val = table.take(val_rows) if len(val_rows) else None
    prep = fit_preprocessor(train, target, chosen)
    if chosen != "regression" and len(prep.classes) < 2:
        raise DataError(
            f"{table.name}: target column {target!r} has one class ({prep.classes[0]!r}) "
            "in the training rows; a classifier needs at least two"
        )
    data = Dataset(prep, prep.inputs(train), prep.targets(train), source=table.name)
    if val is not None:
        data.x_val, data.y_val = prep.inputs(val), prep.targets(val)
    return data


def _check_task(table: Table, target: str, task: str | None) -> Task:
    inferred = infer_task(table, target)
    labels = set(table.frame[target].tolist())
    if task is None:
        chosen: Task = inferred
    else:
        chosen = task  # type: ignore[assignment]
    if chosen == "regression":
        numbers(table, target)  # an error naming the first non-number
        if len(labels) < 2:
            raise DataError(f"{table.name}: target column {target!r} has a single value; nothing to learn")
    elif len(labels) < 2:
        raise DataError(
            f"{table.name}: target column {target!r} has one class ({next(iter(labels))!r}); "
            "a classifier needs at least two"
        )
    elif chosen == "binary" and len(labels) > 2:
        raise DataError(
            f"{table.name}: --task binary, but target column {target!r} has {len(labels)} classes"
        )
    elif chosen == "multiclass" and len(labels) > 1000:
        raise DataError(
            f"{table.name}: target column {target!r} has {len(labels)} distinct values; "
            "did you mean --task regression?"
        )
    return chosen
