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

import codecs
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from lossctl.errors import DataError, UsageError
from lossctl.io.block import missing_message
from lossctl.io.cells import MISSING
from lossctl.io.records import decode_text, header_names, is_blank, width_error
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
    """Read a CSV (a path or `-`) with a header row; every cell stays text (str), stripped.

    Rows are taken as `compute` takes them (lossctl.io.table): a blank line is skipped, and a row
    with fewer or more cells than the header is an error naming its line (a short one also names
    the first column it lacks), whatever --nan says: --nan is about empty cells, not about rows
    that lost or gained a separator. Files whose lines are one record each (the usual case) are
    read by pandas' C parser with numpy counting the commas; any other by the csv module.
    """
    with open_source(path) as source:
        name, raw = source.name, source.stream.read()
    raw = raw.removeprefix(codecs.BOM_UTF8)
    table = _read_plain(name, raw)
    if table is None:
        table = _read_records(name, raw)
    if len(table) == 0:
        raise DataError(f"{name}: has a header but no data rows")
    return table


_NEWLINE, _CR, _COMMA, _QUOTE = ord("\n"), ord("\r"), ord(","), ord('"')
# First bytes of a line without commas that the csv module may still read as blank: whitespace
# (str.strip also takes \x1c-\x1f), a quote ('""'), or a non-ASCII character (U+00A0).
_MAYBE_BLANK = np.zeros(256, dtype=bool)
_MAYBE_BLANK[[9, 11, 12, 13, 28, 29, 30, 31, 32, _QUOTE]] = True
_MAYBE_BLANK[128:] = True
_SPACES = (b" ", b"\t", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")


def _read_plain(name: str, raw: bytes) -> Table | None:
    """Cells by pandas' C parser, rows checked and numbered by numpy; None when that is not safe.

    Safe when each line is one record and every quote stands at a field's edge with no comma or
    line break inside the quotes: then a line's commas are its separators, and pandas and the
    csv module read the same cells. A lone carriage return, any other quote, or pandas finding
    another number of rows than the lines promise: None, and the csv module decides.
    """
    import pandas as pd

    if raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    buf = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(buf == _NEWLINE)
    if not raw.endswith(b"\n"):
        ends = np.append(ends, len(raw))
    if b'"' in raw and not _quotes_at_edges(buf, ends):
        return None
    starts = np.concatenate(([0], ends[:-1] + 1))
    header = header_names(name, next(csv.reader([_line(raw, 0, ends[0], name)]), None))
    commas = np.add.reduceat(buf == _COMMA, starts, dtype=np.int64)[1:]  # per data line
    starts, ends = starts[1:], ends[1:]
    blank = _blank_lines(name, raw, starts, ends, commas)
    wrong = np.flatnonzero((commas != len(header) - 1) & ~blank)
    if len(wrong):
        line = int(wrong[0])
        raise width_error(name, line + 2, header, int(commas[line]) + 1)
    lines = (np.flatnonzero(~blank) + 2).astype(np.int64)
    if len(lines) == 0:
        raise DataError(f"{name}: has a header but no data rows")
    try:
        frame = pd.read_csv(
            io.BytesIO(raw), header=0, names=header, index_col=False, dtype=object,
            na_filter=False, keep_default_na=False, skip_blank_lines=True, encoding="utf-8",
            engine="c",
        )
    except UnicodeDecodeError:
        raise DataError(f"{name}: is not UTF-8 text (binary data?)") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    if len(frame) != len(lines):
        return None
    spaced = not raw.isascii() or any(space in raw for space in _SPACES)
    return Table(name, _stripped(frame) if spaced else frame, lines)


def _quotes_at_edges(buf: np.ndarray, ends: np.ndarray) -> bool:
    """Every quote opens a field, closes one or doubles its neighbour, and no quoted field holds
    a comma or a line break."""
    quotes = np.flatnonzero(buf == _QUOTE)
    if len(quotes) % 2:
        return False
    opening, closing = quotes[0::2], quotes[1::2]
    before = buf[np.maximum(opening - 1, 0)]
    after = buf[np.minimum(closing + 1, len(buf) - 1)]
    opens = (opening == 0) | (before == _COMMA) | (before == _NEWLINE) | (before == _QUOTE)
    closes = ((closing == len(buf) - 1) | (after == _COMMA) | (after == _NEWLINE) | (after == _CR)
              | (after == _QUOTE))
    if not (opens.all() and closes.all()):
        return False
    commas = np.flatnonzero(buf == _COMMA)
    for separators in (commas, ends):
        if (np.searchsorted(separators, closing) != np.searchsorted(separators, opening)).any():
            return False
    return True


def _line(raw: bytes, start: int, end: int, name: str) -> str:
    """One line's text, without its line break."""
    return decode_text(raw[start:end], name).removesuffix("\r")


def _blank_lines(name: str, raw: bytes, starts: np.ndarray, ends: np.ndarray,
                 commas: np.ndarray) -> np.ndarray:
    """Which lines the csv module reads as blank (compute skips them): empty ones, and the few
    without a comma whose first byte leaves room for doubt, asked one by one."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    length = ends - starts
    first = buf[np.minimum(starts, len(buf) - 1)]
    blank = (length == 0) | ((length == 1) & (first == _CR))
    for i in np.flatnonzero((commas == 0) & ~blank & _MAYBE_BLANK[first]):
        blank[i] = is_blank(next(csv.reader([_line(raw, starts[i], ends[i], name)]), []))
    return blank


def _read_records(name: str, raw: bytes) -> Table:
    """The csv module's reading, row by row, as compute reads a small file."""
    import pandas as pd

    rows = csv.reader(io.StringIO(decode_text(raw, name), newline=""))
    cells: list[list[str]] = []
    lines: list[int] = []
    line = 1
    try:
        header = header_names(name, next(rows, None))
        for row in rows:
            line = rows.line_num
            if is_blank(row):
                continue
            if len(row) != len(header):
                raise width_error(name, line, header, len(row))
            cells.append(row)
            lines.append(line)
    except csv.Error as error:
        raise DataError(f"{name}: line {line}: malformed CSV: {error}") from None
    frame = pd.DataFrame(cells, columns=header, dtype=object)
    return Table(name, _stripped(frame), np.array(lines, dtype=np.int64))


def _stripped(frame: Any) -> Any:
    """Every cell without the spaces around it; object columns of str, on any pandas."""
    import pandas as pd

    columns = {c: [cell.strip() for cell in frame[c].to_numpy()] for c in frame.columns}
    return pd.DataFrame(columns, columns=list(frame.columns), dtype=object)


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


def drop_missing(table: Table, columns: list[str], nan: str, numeric: Sequence[str] = ()) -> Table:
    """Raise on the first empty cell among `columns`, or infinite number among the `numeric`
    ones, or (nan="drop") drop the rows that have one."""
    bad = np.zeros(len(table), dtype=bool)
    for column in columns:
        missing = _missing(table.frame[column].to_numpy())
        infinite = np.isinf(table.floats(column)) if column in numeric else missing & False
        if (missing.any() or infinite.any()) and nan != "drop":
            row = int(np.argmax(missing | infinite))
            cell = table.frame[column].iloc[row]
            said = (missing_message(cell) if missing[row]
                    else f"{cell!r} is not a finite number (use --nan drop to skip such rows)")
            raise DataError(f"{table.name}: line {table.lines[row]}, column {column}: {said}")
        bad |= missing | infinite
    if not bad.any():
        return table
    kept = table.take(np.flatnonzero(~bad))
    if len(kept) == 0:
        raise DataError(f"{table.name}: no rows left after dropping rows with empty cells or "
                        "infinite numbers")
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


def mean_std(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of finite numbers, without overflow: numbers near the
    float64 limit (1e308) are scaled down first, as their squares would be infinite."""
    scale = float(np.max(np.abs(values))) if len(values) else 0.0
    if not 0 < scale < np.inf or 1e-100 < scale < 1e100:
        return float(values.mean()), float(values.std())
    scaled = values / scale
    return float(scaled.mean() * scale), float(scaled.std() * scale)


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


def positions(values: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """int64 position of each value in `names`, -1 where it is not there.

    One dict lookup per distinct value (the rule a loop over the rows would follow), with the
    rows grouped by pandas' factorize, a hash table in C; NaN and None are values like any other
    (not in `names`, which holds text).
    """
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

    def encode(self, table: Table) -> np.ndarray:
        if self.kind == "numeric":
            return ((numbers(table, self.name) - self.mean) / self.std)[:, None]
        j = positions(table.frame[self.name].to_numpy(), self.levels)
        out = np.zeros((len(j), len(self.levels)), dtype=np.float64)
        rows = np.flatnonzero(j >= 0)  # an unseen category encodes as all zeros
        out[rows, j[rows]] = 1.0
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
        values = table.frame[self.target].to_numpy()
        out = positions(values, self.classes)
        unseen = out < 0
        if unseen.any():
            row = int(np.argmax(unseen))
            raise DataError(
                f"{table.name}: line {table.lines[row]}, column {self.target}: class "
                f"{values[row]!r} was not in the training data ({', '.join(self.classes)})"
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


def fit_preprocessor(train: Table, target: str, task: Task) -> Preprocessor:
    """Statistics and category levels from the training rows only."""
    features = []
    for column in train.columns:
        if column == target:
            continue
        if is_numeric(train, column):
            values = numbers(train, column)
            mean, std = mean_std(values)
            features.append(Feature(column, "numeric", mean, std if std > 0 else 1.0))
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
    numeric = [c for c in table.columns if is_numeric(table, c)]
    table = drop_missing(table, table.columns, nan, numeric)
    chosen = _check_task(table, target, task)
    if val_path is not None:
        train, val = table, read_table(val_path)
        missing = [c for c in table.columns if c not in val.frame.columns]
        if missing:
            raise DataError(f"{val.name}: lacks the training column(s) {', '.join(missing)}")
        val = drop_missing(val, table.columns, nan, numeric)
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
