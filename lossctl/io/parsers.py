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
        # the header's last column, when it is read: a cell in it on every row means no short row
        self._last = self.columns.index(header[-1]) if header[-1] in self.columns else None
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
        data = np.empty((rows, len(self.columns)), dtype=np.float64, order="F")
        for j, name in enumerate(self.columns):
            data[:, j] = frame[name].to_numpy(dtype=np.float64)
        # pandas fills a short row with NaN silently, and drops a long row's extra cells (given
        # usecols): the commas tell.
        reached_end = self._last is not None and not np.isnan(data[:, self._last]).any()
        if not _rows_have_width(chunk.data, rows, self._width, reached_end):
            return None
        return data, offsets


_COMMA, _NEWLINE, _QUOTE = ord(","), ord("\n"), ord('"')


def _rows_have_width(data: bytes, rows: int, width: int, reached_end: bool) -> bool:
    """Whether each of the `rows` records in `data` has `width` fields, by numpy (no Python per row).

    `data` ends with a newline, and when it holds quotes each of its lines is one record (Chunk's
    row_offsets saw to that). The separators are the commas outside quoted fields; there must be
    rows * (width - 1) of them. If `reached_end` (every row has a cell in the last column), no row
    is short, so none is long either; else each line is counted: width - 1 commas, or none (a blank
    line, or a one-field row, which `rows` counts: then too few lines are full). False also when a
    quote stands inside a field (`ab"c`), which parsers may read differently.
    """
    raw = np.frombuffer(data, dtype=np.uint8)
    if b'"' not in data:
        if count_byte(data, b",") != rows * (width - 1):
            return False  # the usual way a short or long row shows, found cheaply
        if reached_end:
            return True
        commas = np.flatnonzero(raw == _COMMA)
    else:
        quotes = np.flatnonzero(raw == _QUOTE)
        if not _quotes_at_field_edges(raw, quotes):
            return False
        commas = np.flatnonzero(raw == _COMMA)
        before = np.searchsorted(commas, quotes)  # the commas before each quote
        inside = int((before[1::2] - before[0::2]).sum())
        if len(commas) - inside != rows * (width - 1):
            return False
        if reached_end:
            return True
        if inside:
            commas = commas[np.searchsorted(quotes, commas) % 2 == 0]  # after an even count of quotes
    if width == 1:
        return True  # no separators: no row has more than one field, and none has fewer
    ends = np.flatnonzero(raw == _NEWLINE)
    if len(ends) == rows:  # no blank line: row r's commas lie between ends[r - 1] and ends[r]
        first, last = commas[:: width - 1], commas[width - 2 :: width - 1]
        return bool((last < ends).all() and (first[1:] > ends[:-1]).all())
    per_line = np.diff(np.searchsorted(commas, ends), prepend=0)
    full = np.count_nonzero(per_line == width - 1)
    return full == rows and full + np.count_nonzero(per_line == 0) == len(per_line)


def _quotes_at_field_edges(raw: np.ndarray, quotes: np.ndarray) -> bool:
    """Every quote opens a field (after a comma, a newline or the start), closes one (before a
    comma or a line end), or is half of a doubled quote inside one."""
    if len(quotes) % 2:
        return False
    opening, closing = quotes[0::2], quotes[1::2]  # closing + 1 < len(raw): data ends with "\n"
    before = raw[np.maximum(opening - 1, 0)]
    after = raw[closing + 1]
    opens = (opening == 0) | (before == _COMMA) | (before == _NEWLINE) | (before == _QUOTE)
    closes = (after == _COMMA) | (after == _NEWLINE) | (after == ord("\r")) | (after == _QUOTE)
    return bool(opens.all() and closes.all())
