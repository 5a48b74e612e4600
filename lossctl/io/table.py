"""Reading numeric columns of a CSV in blocks of rows, with errors that name line and column.

Two readers give the same numbers (both parse floats exactly, correctly rounded):

* small inputs (under `SMALL_BYTES`) go through the standard `csv` module, which starts instantly;
* larger ones stream through pandas' C parser in blocks of `block_rows` rows, so memory stays
  bounded however long the file is. pandas is imported only then.

Only the columns a command needs are converted; other columns may hold anything.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from lossctl.errors import DataError
from lossctl.io.source import Source

SMALL_BYTES = 1 << 20
BLOCK_ROWS = 1_000_000
NanPolicy = Literal["error", "drop"]
_MISSING = {"", "nan", "na", "n/a", "null", "none", "-nan"}  # what counts as an empty cell


@dataclass
class Block:
    """Rows of the requested columns, float64 of shape (rows, columns).

    `lines` holds the 1-based file line of each row (the header is line 1).
    """

    data: np.ndarray
    lines: np.ndarray

    def line_of(self, row: int) -> int:
        return int(self.lines[row])


class CsvTable:
    """A CSV input with a header row, read block by block."""

    def __init__(self, source: Source, nan: NanPolicy = "error", block_rows: int = BLOCK_ROWS):
        self.source, self.nan, self.block_rows = source, nan, block_rows
        head = source.stream.read(SMALL_BYTES + 1)
        self._small = len(head) <= SMALL_BYTES
        if self._small:
            self._rows = csv.reader(io.StringIO(_decode(head, self.name), newline=""))
            self.header = self._read_header(self._rows)
        else:
            first = head.split(b"\n", 1)[0]
            self.header = self._read_header(csv.reader([_decode(first, self.name)]))
            self._stream = io.BufferedReader(_Prefixed(head, source.stream), buffer_size=1 << 20)

    @property
    def name(self) -> str:
        return self.source.name

    def _read_header(self, rows: Iterator[list[str]]) -> list[str]:
        header = next(rows, None)
        if not header or not any(cell.strip() for cell in header):
            raise DataError(f"{self.name}: has no header row")
        header = [cell.strip() for cell in header]
        seen: set[str] = set()
        for name in header:
            if name in seen:
                raise DataError(f"{self.name}: column {name!r} appears twice in the header")
            seen.add(name)
        return header

    def blocks(self, columns: Sequence[str]) -> Iterator[Block]:
        """Yield the named columns as float64 blocks; at least one row in all, or DataError."""
        reader = self._small_blocks if self._small else self._pandas_blocks
        any_rows = False
        for block in reader(list(columns)):
            if len(block.data):
                any_rows = True
                yield block
        if not any_rows:
            raise DataError(f"{self.name}: has a header but no data rows")

    # -- the standard-library reader, for small inputs ---------------------------------------

    def _small_blocks(self, columns: list[str]) -> Iterator[Block]:
        index = [self.header.index(c) for c in columns]
        width = len(self.header)
        values: list[list[float]] = []
        lines: list[int] = []
        line = 1
        for cells in self._rows:
            line = self._rows.line_num
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # a blank line
            if len(cells) != width:
                raise DataError(
                    f"{self.name}: line {line}: has {len(cells)} fields but the header has {width}"
                )
            row = [self._number(cells[i], line, self.header[i]) for i in index]
            if self.nan == "drop" and any(math.isnan(v) for v in row):
                continue
            values.append(row)
            lines.append(line)
        data = np.array(values, dtype=np.float64).reshape(len(values), len(columns))
        yield Block(data, np.array(lines, dtype=np.int64))

    def _number(self, cell: str, line: int, column: str) -> float:
        text = cell.strip()
        if text.lower() in _MISSING:
            if self.nan == "drop":
                return math.nan
            raise DataError(
                f"{self.name}: line {line}, column {column}: empty cell "
                "(use --nan drop to skip rows with empty cells)"
            )
        try:
            if "_" in text:
                raise ValueError
            return float(text)
        except ValueError:
            raise DataError(
                f"{self.name}: line {line}, column {column}: {_shorten(cell)!r} is not a number"
            ) from None

    # -- the pandas reader, for large inputs -------------------------------------------------

    def _pandas_blocks(self, columns: list[str]) -> Iterator[Block]:
        import pandas as pd

        wanted = list(dict.fromkeys(columns))
        try:
            chunks = pd.read_csv(
                self._stream, usecols=wanted, chunksize=self.block_rows,
                skipinitialspace=True, encoding="utf-8-sig", na_values=sorted(_MISSING),
                keep_default_na=False, skip_blank_lines=True,
            )
            for chunk in chunks:
                start = int(chunk.index[0]) if len(chunk) else 0
                lines = np.arange(start + 2, start + 2 + len(chunk), dtype=np.int64)
                data = np.empty((len(chunk), len(columns)), dtype=np.float64)
                for j, name in enumerate(columns):
                    data[:, j] = self._numeric_column(chunk[name], name, lines, pd)
                if self.nan == "drop":
                    keep = ~np.isnan(data).any(axis=1)
                    data, lines = data[keep], lines[keep]
                yield Block(data, lines)
        except pd.errors.ParserError as error:
            raise DataError(f"{self.name}: malformed CSV: {_parser_message(error)}") from None
        except UnicodeDecodeError:
            raise DataError(f"{self.name}: is not UTF-8 text (binary data?)") from None
        except pd.errors.EmptyDataError:
            raise DataError(f"{self.name}: is empty (no header, no rows)") from None

    def _numeric_column(self, series, name: str, lines: np.ndarray, pd) -> np.ndarray:
        if series.dtype.kind not in "fiub":
            converted = pd.to_numeric(series, errors="coerce")
            bad = converted.isna().to_numpy() & series.notna().to_numpy()
            if bad.any():
                row = int(np.argmax(bad))
                raise DataError(
                    f"{self.name}: line {lines[row]}, column {name}: "
                    f"{_shorten(str(series.iloc[row]))!r} is not a number"
                )
            series = converted
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        if self.nan == "error":
            missing = np.isnan(values)
            if missing.any():
                row = int(np.argmax(missing))
                raise DataError(
                    f"{self.name}: line {lines[row]}, column {name}: empty cell "
                    "(use --nan drop to skip rows with empty cells)"
                )
        return values


class _Prefixed(io.RawIOBase):
    """A stream that gives `head` first, then the rest of `tail` (stdin cannot seek back)."""

    def __init__(self, head: bytes, tail: io.BufferedIOBase) -> None:
        self._head, self._tail = memoryview(head), tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._tail.readinto(buffer)


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{name}: is not UTF-8 text (binary data?)") from None


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parser_message(error: Exception) -> str:
    message = str(error).strip().splitlines()[-1]
    return message.replace("Error tokenizing data. C error: ", "")
