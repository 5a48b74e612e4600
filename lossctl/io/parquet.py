"""Reading columns of a Parquet file in blocks of rows, through pyarrow (the `Table` protocol).

Only the requested columns are read, a batch of rows at a time, so memory stays bounded. Integer,
boolean and decimal columns become float64; a null is an empty cell, a float NaN a missing value.
Text columns hold their cells as str (numbers as pyarrow writes them). Errors name the row
(1-based, not counting a header: Parquet has none) and the column.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np

from lossctl.errors import DataError
from lossctl.io.block import Block, Codes, NanPolicy, Request, Table, missing_message, shorten
from lossctl.io.cells import MISSING, cell_number
from lossctl.io.source import Source

BATCH_BYTES = 1 << 20  # of float64 values per batch
BLOCK_ROWS = 1_000_000
LARGE_ROWS = 100_000


class ParquetTable(Table):
    """A Parquet input, read block by block."""

    where = "row"  # how an error names a row

    def __init__(self, source: Source, nan: NanPolicy = "error", block_rows: int = BLOCK_ROWS) -> None:
        import pyarrow.parquet as pq

        self.source, self.nan, self.block_rows = source, nan, block_rows
        stream = source.stream
        if not stream.seekable():  # stdin, or compressed: Parquet keeps its index at the end
            stream = io.BytesIO(stream.read())
        try:
            # Buffered column reads, not whole row groups at once: memory stays near one batch.
            self._file = pq.ParquetFile(stream, buffer_size=1 << 20, pre_buffer=False)
        except Exception as error:  # pyarrow raises ArrowInvalid, OSError, ...
            raise DataError(f"{self.name}: not a readable Parquet file ({error})") from None
        self.header = list(self._file.schema_arrow.names)
        self.large = self._file.metadata.num_rows > LARGE_ROWS  # worth computing losses in threads
        if len(set(self.header)) != len(self.header):
            twice = next(n for n in self.header if self.header.count(n) > 1)
            raise DataError(f"{self.name}: column {twice!r} appears twice")

    @property
    def name(self) -> str:
        return self.source.name

    def close(self) -> None:
        self.source.close()

    def no_rows(self) -> str:
        return f"{self.name}: has no data rows"

    def read(self, request: Request) -> Iterator[Block]:
        """The blocks of a request, perhaps none (a part of a table may have no rows)."""
        numeric, text = request.numeric, [*request.text, *request.guess, *request.keys]
        wanted = list(dict.fromkeys([*numeric, *text]))
        batch_rows = max(1, min(self.block_rows, BATCH_BYTES // (8 * max(1, len(wanted)))))
        first = 1
        for batch in self._file.iter_batches(batch_size=batch_rows, columns=wanted, use_threads=False):
            rows = batch.num_rows
            lines = np.arange(first, first + rows, dtype=np.int64)
            data = np.empty((rows, len(numeric)), dtype=np.float64, order="F")
            missing = np.zeros(rows, dtype=bool)
            for j, name in enumerate(numeric):
                data[:, j] = self._numbers(batch.column(wanted.index(name)), name, first)
                missing |= np.isnan(data[:, j])
            cells = {}
            for name in text:
                cells[name], empty = self._text(batch.column(wanted.index(name)), name in request.guess,
                                                name in request.keys)
                missing |= empty
            block = Block(data, lines, cells, self.name, self.where)
            if missing.any() and request.nan == "error":
                row = int(np.argmax(missing))
                cell = self._missing(batch, wanted, request, row)
                raise DataError(f"{self.name}: row {lines[row]}, {cell}")
            if missing.any() and request.nan == "drop":
                block = block.take(~missing)
            first += rows
            yield block

    def _missing(self, batch, wanted: list[str], request: Request, row: int) -> str:
        """'column x: empty cell ...' for the first missing cell of `row`, in the order asked for."""
        for name in [*request.numeric, *request.text, *request.guess, *request.keys]:
            value = batch.column(wanted.index(name))[row].as_py()
            if value is None:
                return f"column {name}: {missing_message('')}"
            if isinstance(value, float) and value != value:
                return f"column {name}: {missing_message('NaN')}"
            if isinstance(value, str) and value.strip().lower() in MISSING:
                return f"column {name}: {missing_message(value)}"
        raise AssertionError("no missing cell in the row")  # pragma: no cover

    def _numbers(self, array, name: str, first: int) -> np.ndarray:
        import pyarrow as pa
        import pyarrow.compute as pc

        from lossctl.io.parsers import float64_of

        kind = array.type
        if _holds_numbers(kind):
            return float64_of(pc.cast(array, pa.float64(), safe=False))
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            raise DataError(f"{self.name}: column {name} holds {kind}, not numbers")
        values = np.empty(len(array), dtype=np.float64)  # numbers as text: rare, read cell by cell
        for row, text in enumerate(array.to_pylist()):
            try:
                values[row] = cell_number(text or "")
            except ValueError:
                raise DataError(f"{self.name}: row {first + row}, column {name}: "
                                f"{shorten(text.strip())!r} is not a number") from None
        return values

    def _text(self, array, guess: bool, key: bool = False) -> tuple[np.ndarray | Codes, np.ndarray]:
        """A column as stripped str (a null as ''), for `key` as `Codes`, or for `guess` a column of
        numbers (or of text holding only numbers) as float64; and which of its cells are missing."""
        import pyarrow as pa
        import pyarrow.compute as pc

        from lossctl.io.parsers import codes_of, guess_of, text_of

        if guess and _holds_numbers(array.type):
            values = self._numbers(array, "", 1)
            return values, np.isnan(values)
        if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
            array = pc.cast(array, pa.string())
        cells, missing = (guess_of if guess else codes_of if key else text_of)(pc.fill_null(array, ""))
        return cells, (missing if missing is not None else np.zeros(len(cells), dtype=bool))


def _holds_numbers(kind) -> bool:
    """Whether a Parquet column type becomes float64 (integers, booleans and decimals too)."""
    import pyarrow as pa

    tests = (pa.types.is_floating, pa.types.is_integer, pa.types.is_boolean, pa.types.is_decimal,
             pa.types.is_null)
    return any(test(kind) for test in tests)
