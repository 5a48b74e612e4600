"""Reading numeric columns of a Parquet file in blocks of rows, through pyarrow.

Only the requested columns are read, a batch of rows at a time, so memory stays bounded. Integer,
boolean and decimal columns become float64; a null is an empty cell. Errors name the row (1-based,
not counting a header: Parquet has none) and the column.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

import numpy as np

from lossctl.errors import DataError, UsageError
from lossctl.io.cells import cell_number
from lossctl.io.parsers import ARROW_HINT, float64_of
from lossctl.io.source import Source
from lossctl.io.table import BLOCK_ROWS, Block, NanPolicy

BATCH_BYTES = 1 << 20  # of float64 values per batch
LARGE_ROWS = 100_000


class ParquetTable:
    """A Parquet input, read block by block; the same interface as `CsvTable`."""

    where = "row"  # how an error names a row

    def __init__(self, source: Source, nan: NanPolicy = "error", block_rows: int = BLOCK_ROWS) -> None:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise UsageError(f"{source.name}: reading Parquet needs pyarrow: {ARROW_HINT}") from None
        self.source, self.nan, self.block_rows = source, nan, block_rows
        stream = source.stream
        if not stream.seekable():  # stdin: Parquet keeps its index at the end
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

    def blocks(self, columns: Sequence[str]) -> Iterator[Block]:
        """Yield the named columns as float64 blocks; at least one row in all, or DataError."""
        columns = list(columns)
        wanted = list(dict.fromkeys(columns))
        batch_rows = max(1, min(self.block_rows, BATCH_BYTES // (8 * max(1, len(wanted)))))
        first = 1
        any_rows = False
        for batch in self._file.iter_batches(batch_size=batch_rows, columns=wanted, use_threads=False):
            rows = batch.num_rows
            lines = np.arange(first, first + rows, dtype=np.int64)
            data = np.empty((rows, len(columns)), dtype=np.float64, order="F")
            for j, name in enumerate(columns):
                data[:, j] = self._numbers(batch.column(wanted.index(name)), name, first)
            missing = np.isnan(data).any(axis=1)
            if missing.any():
                if self.nan == "error":
                    row = int(np.argmax(missing))
                    column = columns[int(np.argmax(np.isnan(data[row])))]
                    raise DataError(
                        f"{self.name}: row {lines[row]}, column {column}: empty cell "
                        "(use --nan drop to skip rows with empty cells)"
                    )
                data, lines = data[~missing], lines[~missing]
            first += rows
            if len(data):
                any_rows = True
                yield Block(data, lines)
        if not any_rows:
            raise DataError(f"{self.name}: has no data rows")

    def _numbers(self, array, name: str, first: int) -> np.ndarray:
        import pyarrow as pa
        import pyarrow.compute as pc

        kind = array.type
        if any(
            test(kind)
            for test in (
                pa.types.is_floating,
                pa.types.is_integer,
                pa.types.is_boolean,
                pa.types.is_decimal,
                pa.types.is_null,
            )
        ):
            return float64_of(pc.cast(array, pa.float64(), safe=False))
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            raise DataError(f"{self.name}: column {name} holds {kind}, not numbers")
        values = np.empty(len(array), dtype=np.float64)  # numbers as text: rare, read cell by cell
        for row, text in enumerate(array.to_pylist()):
            try:
                values[row] = cell_number(text or "")
            except ValueError:
                raise DataError(
                    f"{self.name}: row {first + row}, column {name}: {text.strip()[:40]!r} is not a number"
                ) from None
        return values
