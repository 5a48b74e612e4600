"""The reader's shared types: a block of rows, the policy for missing cells, the `Table` protocol.

Every input (a CSV, a Parquet file, several part files read as one) is a `Table`: a name, a header,
and `blocks(numeric, text, guess=...)`, an iterator of `Block`s of the columns asked for. Implementations
import this module, never each other.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from lossctl.errors import DataError

# What a missing cell (io.cells.MISSING) does: an error naming it, or its row is dropped. "keep"
# leaves NaN (and, in a text column, the cell) in place, for a caller that drops rows itself, such
# as a join that must drop a row of both inputs at once.
NanPolicy = Literal["error", "drop", "keep"]
NAN_POLICIES: tuple[str, ...] = ("error", "drop")  # the ones users choose with --nan


@dataclass
class Block:
    """Rows of the requested columns.

    `data`: float64 of shape (rows, numeric columns), in the order asked for. `text`: each text
    column asked for, as an object array of str (stripped of surrounding spaces); each column asked
    for as `keys`, as `Codes`; and each column
    asked for by `guess`, as float64 when all its cells in this block are numbers or missing (NaN),
    else as text. `lines`: the
    1-based file line of each row (the header is line 1), or for Parquet the 1-based row number
    (`where` says which). `source`: the file the rows come from (a part's own name when the input
    has several); `parts` is set only on a block joined from several parts (`Block.concat`).
    """

    data: np.ndarray
    lines: np.ndarray
    text: dict[str, np.ndarray] = field(default_factory=dict)
    source: str = ""
    where: str = "line"
    parts: tuple[tuple[int, str], ...] = ()  # (first row, source), when rows come from several

    def __len__(self) -> int:
        return len(self.lines)

    def line_of(self, row: int) -> int:
        return int(self.lines[row])

    def source_of(self, row: int) -> str:
        if not self.parts:
            return self.source
        starts = [start for start, _ in self.parts]
        return self.parts[bisect.bisect_right(starts, row) - 1][1]

    def take(self, rows: np.ndarray | slice) -> Block:
        """The rows at `rows` (indices, a boolean mask or a slice), each with its source."""
        parts: tuple[tuple[int, str], ...] = ()
        if self.parts:
            index = np.arange(len(self))[rows]
            which = np.searchsorted([start for start, _ in self.parts], index, side="right") - 1
            firsts = np.flatnonzero(np.diff(which, prepend=-1))
            parts = tuple((int(f), self.parts[which[f]][1]) for f in firsts)
        return Block(_rows_of(self.data, rows), self.lines[rows], {k: v[rows] for k, v in self.text.items()},
                     parts[0][1] if parts else self.source, self.where, parts if len(parts) > 1 else ())

    def missing(self) -> np.ndarray:
        """Which rows hold a missing cell: NaN, or a text cell in io.cells.MISSING (any case)."""
        from lossctl.io.cells import MISSING

        with np.errstate(invalid="ignore"):
            rows = np.isnan(self.data).any(axis=1)
        for cells in self.text.values():
            if isinstance(cells, Codes):
                words = np.array([w.lower() in MISSING for w in cells.words], dtype=bool)
                rows |= words[cells.codes]
            elif cells.dtype.kind == "f":  # a guessed column of numbers
                rows |= np.isnan(cells)
            else:
                rows |= np.fromiter((c.lower() in MISSING for c in cells), dtype=bool, count=len(cells))
        return rows

    @staticmethod
    def concat(blocks: Sequence[Block]) -> Block:
        """One block of all rows of `blocks`, in order (each row keeps its source and line)."""
        parts: list[tuple[int, str]] = []
        start = 0
        for block in blocks:
            for first, source in block.parts or ((0, block.source),):
                if not parts or parts[-1][1] != source:
                    parts.append((start + first, source))
            start += len(block)
        first = blocks[0]
        return Block(
            np.concatenate([b.data.T for b in blocks], axis=1).T,  # column-major, as read
            np.concatenate([b.lines for b in blocks]),
            {k: _concat([b.text[k] for b in blocks]) for k in first.text},
            first.source,
            first.where,
            tuple(parts) if len(parts) > 1 else (),
        )


def _rows_of(data: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
    """Rows of `data` in its own layout: the reader's blocks are column-major, so that each column
    (a loss's input, a feature's statistics) is contiguous."""
    return data.T[:, rows].T if data.flags.f_contiguous else data[rows]


def _concat(columns: Sequence) -> np.ndarray | Codes:
    return Codes.concat(columns) if isinstance(columns[0], Codes) else np.concatenate(columns)


@dataclass(frozen=True)
class Codes:
    """A text column as codes: each row's index into `words`, the distinct stripped cells (a word
    may have no row left after rows are dropped). Group keys come so (`keys`): rows are grouped by
    integer code, and each word is a Python str once per block, not once per row."""

    codes: np.ndarray  # integers, one per row
    words: np.ndarray  # object array of str

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, rows: np.ndarray | slice) -> Codes:
        return Codes(self.codes[rows], self.words)

    def cells(self) -> np.ndarray:
        """Each row's word (an object array of str)."""
        return self.words[self.codes]

    def compact(self) -> Codes:
        """The same cells, with only the words some row has (numbered in their order)."""
        used = np.bincount(self.codes, minlength=len(self.words)) > 0
        if used.all():
            return self
        return Codes((np.cumsum(used) - 1)[self.codes], self.words[used])

    @classmethod
    def of(cls, cells: np.ndarray) -> Codes:
        """The codes of an object array of str."""
        words, codes = np.unique(np.asarray(cells, dtype=object), return_inverse=True)
        return cls(codes.reshape(-1), words)

    @staticmethod
    def concat(columns: Sequence[Codes]) -> Codes:
        words = list(dict.fromkeys(w for column in columns for w in column.words))
        where = {w: i for i, w in enumerate(words)}
        codes = [np.array([where[w] for w in c.words], dtype=np.intp)[c.codes] for c in columns]
        return Codes(np.concatenate(codes), np.array(words, dtype=object).reshape(-1))


class Request:
    """What a `blocks` call asks for: numeric, text, guessed and key column names (each in the
    header), and the missing-cell policy."""

    def __init__(self, name: str, header: list[str], numeric: Sequence[str], text: Sequence[str],
                 nan: NanPolicy, guess: Sequence[str] = (), keys: Sequence[str] = ()) -> None:
        self.numeric, self.text, self.nan, self.guess = list(numeric), list(text), nan, list(guess)
        self.keys = list(keys)
        unknown = [c for c in [*self.numeric, *self.text, *self.guess, *self.keys] if c not in header]
        if unknown:
            raise DataError(f"{name}: no column {unknown[0]!r} (columns: {', '.join(header)})")


class Table:
    """An input read block by block (a CSV, a Parquet file, or several parts of one table).

    `name`: the input as the user gave it, for messages. `header`: its column names. `large`: worth
    computing on several threads. `where`: "line" (CSV) or "row" (Parquet), how errors name a row.
    `blocks`: the columns asked for, float64 (`numeric`) and text (`text`), in blocks of rows in
    file order, with at least one row in all (else a DataError); `nan` overrides the table's own
    policy for missing cells. `guess`: columns whose kind the caller does not know yet (training's
    features): numbers where a block's cells all are, else text, never an error for a cell that is
    not a number. `keys`: text columns handed over as `Codes` (--by's group keys). Errors name the
    file (the part), the line and the column.

    Every implementation gives `read` (and `close` where it holds a file); `blocks` and the
    context manager are shared.
    """

    name: str
    header: list[str]
    large: bool
    where: str
    nan: NanPolicy

    def blocks(
        self, numeric: Sequence[str] = (), text: Sequence[str] = (), nan: NanPolicy | None = None,
        guess: Sequence[str] = (), keys: Sequence[str] = (),
    ) -> Iterator[Block]:
        """Yield the named columns as blocks; at least one row in all, or DataError."""
        request = Request(self.name, self.header, numeric, text, nan or self.nan, guess, keys)
        yield from with_rows(self.read(request), self.no_rows())

    def no_rows(self) -> str:
        """The error when the input has no data rows at all."""
        return f"{self.name}: has a header but no data rows"

    def read(self, request: Request) -> Iterator[Block]:
        """`blocks` without the check for at least one row (a part of a table may have none)."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def missing_message(cell: str) -> str:
    """What an error says about a missing cell: 'empty cell ...' or "'NaN' (missing value; ...)"."""
    text = cell.strip()
    if not text:
        return "empty cell (use --nan drop to skip rows with empty cells)"
    return f"{shorten(text)!r} (missing value; use --nan drop to skip rows with missing values)"


def shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def with_rows(blocks: Iterator[Block], empty: str) -> Iterator[Block]:
    """`blocks` without empty ones; DataError(`empty`) if none has a row."""
    any_rows = False
    for block in blocks:
        if len(block):
            any_rows = True
            yield block
    if not any_rows:
        raise DataError(empty)
