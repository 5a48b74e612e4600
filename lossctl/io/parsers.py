"""Fast parsers for a chunk of CSV records: pyarrow's, or pandas' C parser on base installs.

A parser converts only the requested columns, to float64, and returns `(data, offsets)` (each
row's line counted from 0 at the chunk's first line), or None when
the chunk is not plain enough to trust its answer (a cell it cannot read, a row of the wrong width,
a record over several lines). The caller then reads that chunk with the standard `csv` module, which
decides what every odd cell means and names the line and column of any error: both parsers give
the same numbers and the same errors by construction.

`LOSSCTL_READER=arrow|pandas|auto` picks one (auto: pyarrow when it is installed).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

import numpy as np

from lossctl.errors import UsageError
from lossctl.io.cells import MISSING
from lossctl.io.chunks import Chunk, count_byte

READERS = ("auto", "arrow", "pandas")
ARROW_HINT = "pip install 'lossctl[arrow]'"


def reader_name(choice: str | None = None) -> str:
    """`arrow` or `pandas`: `choice`, else $LOSSCTL_READER, else arrow when pyarrow imports."""
    choice = (choice or os.environ.get("LOSSCTL_READER") or "auto").strip().lower()
    if choice not in READERS:
        raise UsageError(f"LOSSCTL_READER={choice!r}: use {', '.join(READERS)}")
    if choice == "pandas":
        return choice
    try:
        import pyarrow.csv  # noqa: F401
    except ImportError:
        if choice == "arrow":
            raise UsageError(f"LOSSCTL_READER=arrow needs pyarrow: {ARROW_HINT}") from None
        return "pandas"
    return "arrow"


def make_parser(name: str, header: Sequence[str], columns: Sequence[str]):
    return (ArrowParser if name == "arrow" else PandasParser)(header, columns)


def _null_tokens() -> list[str]:
    return sorted({form for token in MISSING for form in (token, token.upper(), token.title())})


class ArrowParser:
    """pyarrow's CSV parser; pandas is not imported."""

    def __init__(self, header: Sequence[str], columns: Sequence[str]) -> None:
        import pyarrow as pa
        import pyarrow.csv as pcsv

        self._pa, self._read_csv, self.columns = pa, pcsv.read_csv, list(columns)
        wanted = list(dict.fromkeys(columns))
        # One thread per chunk: chunks are parsed side by side instead (chunks.map_ahead), which
        # is about 20% faster than pyarrow's own threads over smaller blocks.
        self._read = pcsv.ReadOptions(column_names=list(header), use_threads=False, block_size=16 << 20)
        # Without null tokens first (about 10% faster): a chunk with an empty cell fails that
        # pass and is parsed again with them.
        self._conversions = [
            pcsv.ConvertOptions(
                include_columns=wanted,
                column_types=dict.fromkeys(wanted, pa.float64()),
                null_values=nulls,
                quoted_strings_can_be_null=bool(nulls),
            )
            for nulls in ([], _null_tokens())
        ]
        self._parse = {quotes: pcsv.ParseOptions(newlines_in_values=quotes) for quotes in (False, True)}

    def parse(self, chunk: Chunk) -> tuple[np.ndarray, np.ndarray] | None:
        buffer, parse = self._pa.py_buffer(chunk.data), self._parse[b'"' in chunk.data]
        for convert in self._conversions:
            try:
                table = self._read_csv(buffer, read_options=self._read, parse_options=parse,
                                       convert_options=convert)
                break
            except self._pa.ArrowInvalid:
                continue
        else:
            return None
        offsets = chunk.row_offsets(table.num_rows)
        if offsets is None:
            return None
        data = np.empty((table.num_rows, len(self.columns)), dtype=np.float64, order="F")
        for j, name in enumerate(self.columns):
            data[:, j] = float64_of(table.column(name))
        return data, offsets


def float64_of(column) -> np.ndarray:
    """A pyarrow float64 (Chunked)Array as numpy, nulls as NaN (no pandas: `to_numpy` imports it)."""
    parts = []
    for array in getattr(column, "chunks", [column]):
        validity, values = array.buffers()[:2]
        part = np.frombuffer(values, dtype=np.float64, count=len(array), offset=array.offset * 8)
        if array.null_count:
            bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")
            part = np.where(bits[array.offset : array.offset + len(array)] == 1, part, np.nan)
        parts.append(part)
    return np.concatenate(parts) if len(parts) != 1 else parts[0]


class PandasParser:
    """pandas' C parser, for installs without pyarrow (it releases the GIL while it tokenizes)."""

    def __init__(self, header: Sequence[str], columns: Sequence[str]) -> None:
        import pandas as pd

        self._read_csv, self.columns, self._width = pd.read_csv, list(columns), len(header)
        wanted = list(dict.fromkeys(columns))
        self._options = {
            "header": None,
            "names": list(header),
            "usecols": wanted,
            "dtype": dict.fromkeys(wanted, "float64"),
            "engine": "c",
            "na_values": ["", "nan", "NaN"],  # the usual ones; any other goes to the csv module
            "keep_default_na": False,
            "skip_blank_lines": True,
            "encoding": "utf-8",
        }
        if int(pd.__version__.split(".")[0]) < 3:  # pandas 3 parses floats correctly rounded anyway
            self._options["float_precision"] = "round_trip"

    def parse(self, chunk: Chunk) -> tuple[np.ndarray, np.ndarray] | None:
        try:
            frame = self._read_csv(io.BytesIO(chunk.data), **self._options)
        except (ValueError, UnicodeDecodeError):  # pandas' ParserError and EmptyDataError too
            return None
        rows = len(frame)
        offsets = chunk.row_offsets(rows)
        if offsets is None:
            return None
        # pandas fills a short row with NaN silently; with no quotes, the commas tell.
        if b'"' not in chunk.data and count_byte(chunk.data, b",") != rows * (self._width - 1):
            return None
        data = np.empty((rows, len(self.columns)), dtype=np.float64, order="F")
        for j, name in enumerate(self.columns):
            data[:, j] = frame[name].to_numpy(dtype=np.float64)
        return data, offsets
