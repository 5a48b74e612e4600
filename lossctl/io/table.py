"""Reading numeric columns of a CSV in blocks of rows, with errors that name line and column.

* Small inputs (under `SMALL_BYTES`) go through the standard `csv` module, which starts instantly.
* Larger ones are cut into chunks of whole records (`chunks.py`, about `block_bytes` each) and
  each chunk is parsed by pyarrow, or by pandas' C parser where pyarrow is not installed
  (`parsers.py`; `LOSSCTL_READER` picks). Memory stays bounded however long the file is.
* A chunk a fast parser cannot take as it is (a cell that is not a number, a row of the wrong
  width, an empty cell under `--nan error`, a quoted field over several lines) is read again with
  the `csv` module, which decides and names the line and column. So every reader gives the same
  numbers (all parse floats correctly rounded) and the same errors.

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
from lossctl.io.cells import cell_number
from lossctl.io.chunks import Chunk, map_ahead, record_chunks
from lossctl.io.parsers import make_parser, reader_name
from lossctl.io.records import decode_text, header_names, is_blank, width_error
from lossctl.io.source import Source
from lossctl.threads import worker_count

SMALL_BYTES = 1 << 20
BLOCK_ROWS = 1_000_000
BLOCK_BYTES = 2 << 20  # a chunk per core is parsed at a time: about 15 MiB of working memory each
NanPolicy = Literal["error", "drop"]


def open_table(source: Source, nan: NanPolicy = "error"):
    """A `CsvTable`, or a `ParquetTable` when `source` is a Parquet file."""
    if source.parquet:
        from lossctl.io.parquet import ParquetTable

        return ParquetTable(source, nan=nan)
    return CsvTable(source, nan=nan)


@dataclass
class Block:
    """Rows of the requested columns, float64 of shape (rows, columns).

    `lines` holds the 1-based file line of each row (the header is line 1); for Parquet, the
    1-based row number.
    """

    data: np.ndarray
    lines: np.ndarray

    def line_of(self, row: int) -> int:
        return int(self.lines[row])


class CsvTable:
    """A CSV input with a header row, read block by block.

    `reader` (arrow, pandas, auto; default $LOSSCTL_READER) picks the parser of large inputs.
    """

    where = "line"  # how an error names a row

    def __init__(
        self,
        source: Source,
        nan: NanPolicy = "error",
        block_rows: int = BLOCK_ROWS,
        block_bytes: int | None = None,
        reader: str | None = None,
    ) -> None:
        self.source, self.nan, self.block_rows = source, nan, block_rows
        self.block_bytes = block_bytes or BLOCK_BYTES
        head = source.stream.read(SMALL_BYTES + 1)
        self.large = len(head) > SMALL_BYTES  # read in chunks, a chunk per core: worth threads
        if not self.large:
            self._rows = csv.reader(io.StringIO(decode_text(head, self.name, "utf-8-sig"), newline=""))
            self.header = self._read_header(self._rows)
        else:
            self.reader = reader_name(reader)
            if b"\n" not in head:  # a header longer than SMALL_BYTES
                head += source.stream.readline()
            first = head.split(b"\n", 1)[0]
            self.header = self._read_header(csv.reader([decode_text(first, self.name, "utf-8-sig")]))
            rest = _Prefixed(head[len(first) + 1 :], source.stream)
            self._stream = io.BufferedReader(rest, buffer_size=1 << 20)

    @property
    def name(self) -> str:
        return self.source.name

    def _read_header(self, rows: Iterator[list[str]]) -> list[str]:
        return header_names(self.name, next(rows, None))

    def blocks(self, columns: Sequence[str]) -> Iterator[Block]:
        """Yield the named columns as float64 blocks; at least one row in all, or DataError."""
        reader = self._large_blocks if self.large else self._small_blocks
        any_rows = False
        for block in reader(list(columns)):
            if len(block.data):
                any_rows = True
                yield block
        if not any_rows:
            raise DataError(f"{self.name}: has a header but no data rows")

    # -- the standard-library reader: small inputs, and any chunk a fast parser declines -----

    def _small_blocks(self, columns: list[str]) -> Iterator[Block]:
        data, lines = self._csv_rows(self._rows, [self.header.index(c) for c in columns], 0)
        yield Block(data, lines)

    def _csv_rows(self, rows, index: list[int], offset: int) -> tuple[np.ndarray, np.ndarray]:
        """The cells at `index` of every row of a `csv.reader`, whose line 1 is file line offset+1."""
        width = len(self.header)
        values: list[list[float]] = []
        lines: list[int] = []
        line = offset + 1
        try:
            for cells in rows:
                line = rows.line_num + offset
                if is_blank(cells):
                    continue
                if len(cells) != width:
                    raise width_error(self.name, line, self.header, len(cells))
                row = [self._number(cells[i], line, self.header[i]) for i in index]
                if self.nan == "drop" and any(math.isnan(v) for v in row):
                    continue
                values.append(row)
                lines.append(line)
        except csv.Error as error:
            raise DataError(f"{self.name}: line {line}: malformed CSV: {error}") from None
        data = np.array(values, dtype=np.float64).reshape(len(values), len(index))
        return data, np.array(lines, dtype=np.int64)

    def _number(self, cell: str, line: int, column: str) -> float:
        try:
            value = cell_number(cell)
        except ValueError:
            raise DataError(
                f"{self.name}: line {line}, column {column}: {_shorten(cell)!r} is not a number"
            ) from None
        if math.isnan(value) and self.nan == "error":
            raise DataError(
                f"{self.name}: line {line}, column {column}: empty cell "
                "(use --nan drop to skip rows with empty cells)"
            )
        return value

    # -- large inputs: chunks of records through a fast parser -------------------------------

    def _large_blocks(self, columns: list[str]) -> Iterator[Block]:
        parser = make_parser(self.reader, self.header, columns)
        index = [self.header.index(c) for c in columns]

        def parse(pieces: list[bytes]) -> tuple[Chunk, tuple[np.ndarray, np.ndarray] | None]:
            chunk = Chunk(pieces)
            return chunk, (parser.parse(chunk) if _is_utf8(chunk.data) else None)

        first_line = 2  # of the chunk at hand; the header is line 1
        chunks = record_chunks(self._stream, self.block_bytes)
        for chunk, parsed in map_ahead(parse, chunks, worker_count()):
            if parsed is not None:
                data, offsets = parsed
                lines = offsets + first_line
                with np.errstate(invalid="ignore", over="ignore"):
                    suspect = np.isnan(data.sum())  # a NaN somewhere (or inf - inf)
                if suspect:
                    missing = np.isnan(data).any(axis=1)
                    if self.nan == "error" and missing.any():
                        parsed = None  # the csv module names the first empty cell
                    elif missing.any():
                        data, lines = data[~missing], lines[~missing]
            if parsed is None:  # also a chunk that is not UTF-8: decoding it says so
                data, lines = self._slow_chunk(chunk, index, first_line)
            first_line += chunk.newlines
            for start in range(0, len(data), self.block_rows):
                yield Block(data[start : start + self.block_rows], lines[start : start + self.block_rows])

    def _slow_chunk(self, chunk: Chunk, index: list[int], first_line: int) -> tuple[np.ndarray, np.ndarray]:
        text = io.StringIO(decode_text(chunk.data, self.name, "utf-8-sig"), newline="")
        return self._csv_rows(csv.reader(text), index, first_line - 1)


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


def _is_utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
