"""pyarrow's parser for a chunk of CSV records.

It converts only the requested columns, numeric ones to float64 and text ones to stripped str, and
returns a `Parsed`, or None when the chunk is not plain enough to trust its answer (a cell it cannot
read, a row of the wrong width, a record over several lines). The caller then reads that chunk with
the standard `csv` module, which decides what every odd cell means and names the line and column of
any error: both give the same numbers and the same errors by construction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lossctl.io.block import Codes
from lossctl.io.cells import MISSING
from lossctl.io.chunks import Chunk

# The characters str.strip() removes, so that pyarrow strips text cells as Python does.
SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


@dataclass
class Parsed:
    """A chunk's requested columns: `data` float64 (rows, numeric), `text` per text column,
    `missing` rows holding a missing cell in any of them, `offsets` each row's line from 0."""

    data: np.ndarray
    text: dict[str, np.ndarray]
    missing: np.ndarray | None
    offsets: np.ndarray


def _null_tokens() -> list[str]:
    return sorted({form for token in MISSING for form in (token, token.upper(), token.title())})


class ArrowParser:
    """pyarrow's CSV parser, one chunk at a time on one thread; pandas is not imported for
    numeric columns."""

    def __init__(self, header: Sequence[str], numeric: Sequence[str], text: Sequence[str],
                 delimiter: str = ",", guess: Sequence[str] = (), keys: Sequence[str] = ()) -> None:
        import pyarrow as pa
        import pyarrow.csv as pcsv

        self._pa, self._pcsv, self._read_csv = pa, pcsv, pcsv.read_csv
        self.header, self.numeric = list(header), list(numeric)
        self.text, self.guess, self.keys = list(text), list(guess), list(keys)
        # Guessed columns are parsed as numbers until a chunk shows one holds text; from then on
        # that one is parsed as text (and each chunk's cells still become numbers if they all are).
        self._as_text: frozenset[str] = frozenset()
        self._conversions: dict[frozenset[str], list] = {}
        # One thread per chunk: chunks are parsed side by side instead (chunks.map_ahead), which
        # is about 20% faster than pyarrow's own threads over smaller blocks.
        self._read = pcsv.ReadOptions(column_names=list(header), use_threads=False, block_size=16 << 20)
        self._parse = {
            quotes: pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=quotes)
            for quotes in (False, True)
        }

    def _converts(self, as_text: frozenset[str]) -> list:
        """Conversion options: without null tokens first (about 10% faster: a chunk with an empty
        cell fails that pass and is parsed again with them). Text cells are never null."""
        if as_text not in self._conversions:
            pa, pcsv = self._pa, self._pcsv
            strings = [c for c in self.guess if c in as_text]
            numbers = [*self.numeric, *(c for c in self.guess if c not in as_text)]
            # text and key columns come dictionary-encoded: each distinct cell is stripped once
            words = dict.fromkeys([*self.text, *self.keys], pa.dictionary(pa.int32(), pa.string()))
            types = dict.fromkeys(numbers, pa.float64()) | dict.fromkeys(strings, pa.string()) | words
            wanted = list(dict.fromkeys([*self.numeric, *self.text, *self.guess, *self.keys]))
            self._conversions[as_text] = [
                pcsv.ConvertOptions(include_columns=wanted, column_types=types, null_values=nulls,
                                    quoted_strings_can_be_null=bool(nulls), strings_can_be_null=False)
                for nulls in ([], _null_tokens())
            ]
        return self._conversions[as_text]

    def _table(self, buffer, parse):
        """The chunk as a pyarrow table, and the guessed columns read as text; None if pyarrow
        cannot read it as asked."""
        as_text = self._as_text
        while True:
            error = None
            for convert in self._converts(as_text):
                try:
                    return self._read_csv(buffer, read_options=self._read, parse_options=parse,
                                          convert_options=convert), as_text
                except self._pa.ArrowInvalid as failed:
                    error = failed
            found = re.search(r"column #(\d+)", str(error))
            column = self.header[int(found.group(1))] if found else None
            if column not in self.guess or column in as_text:
                return None, as_text
            as_text = self._as_text = as_text | {column}  # a text column: for every later chunk too

    def parse(self, chunk: Chunk) -> Parsed | None:
        buffer, parse = self._pa.py_buffer(chunk.data), self._parse[b'"' in chunk.data]
        table, as_text = self._table(buffer, parse)
        if table is None:
            return None
        offsets = chunk.row_offsets(table.num_rows)
        if offsets is None:
            return None
        data = np.empty((table.num_rows, len(self.numeric)), dtype=np.float64, order="F")
        words = {*self.text, *self.keys}  # read as text: a numeric one among them (--by y_true) too
        for j, name in enumerate(self.numeric):
            numbers = (numbers_of_words if name in words else float64_of)(table.column(name))
            if numbers is None:
                return None
            data[:, j] = numbers
        missing = None
        with np.errstate(invalid="ignore", over="ignore"):
            if len(self.numeric) and np.isnan(data.sum()):  # a NaN somewhere (or inf - inf)
                missing = np.isnan(data).any(axis=1)
        text = {}
        for name in [*self.text, *self.guess, *self.keys]:
            if name in self.keys:
                cells, empty = codes_of(table.column(name))
            elif name in self.guess and name not in as_text:
                cells = float64_of(table.column(name))
                empty = np.isnan(cells) if np.isnan(cells).any() else None
            else:
                cells, empty = (guess_of if name in self.guess else text_of)(table.column(name))
            text[name] = cells
            if empty is not None:
                missing = empty if missing is None else missing | empty
        return Parsed(data, text, missing, offsets)


def text_of(column) -> tuple[np.ndarray, np.ndarray | None]:
    """A pyarrow string (or dictionary) column as an object array of stripped str, and which cells
    are missing (io.cells.MISSING in any case), None if none is: `codes_of`'s, decoded."""
    codes, missing = codes_of(column)
    return codes.cells(), missing


def codes_of(column) -> tuple[Codes, np.ndarray | None]:
    """A pyarrow string or dictionary column (without nulls) as `Codes` of its stripped cells, and
    which cells are missing (io.cells.MISSING in any case), None if none is.

    Only the distinct cells are stripped and become str; rows are their integer codes. pandas is
    not imported (pyarrow imports it to make an array from Python objects, so none is made here).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    chunks = column.unify_dictionaries().chunks if isinstance(column, pa.ChunkedArray) else [column]
    if not chunks:
        return Codes(np.empty(0, dtype=np.intp), np.empty(0, dtype=object)), None
    words = pc.utf8_trim(chunks[0].dictionary, characters=SPACES).to_pylist()
    distinct = {w: i for i, w in enumerate(dict.fromkeys(words))}  # cells equal once stripped
    indices = [int_array(chunk.indices) for chunk in chunks]
    codes = np.concatenate(indices) if len(indices) > 1 else indices[0]
    if len(distinct) < len(words):
        codes = np.array([distinct[w] for w in words], dtype=np.intp)[codes]
    unique = np.array(list(distinct), dtype=object).reshape(-1)
    missing = np.array([w.lower() in MISSING for w in unique], dtype=bool)
    return Codes(codes, unique), (missing[codes] if missing.any() else None)


def numbers_of_words(column) -> np.ndarray | None:
    """A dictionary column's cells as float64, each distinct cell parsed once by pyarrow (as numeric
    columns are); None if one is not a number (or is missing): the csv module then decides."""
    import pyarrow as pa
    import pyarrow.compute as pc

    codes, _ = codes_of(column)
    try:
        values = pc.cast(pa.array(codes.words.tolist(), pa.string()), pa.float64())
    except pa.ArrowInvalid:
        return None
    return float64_of(values)[codes.codes]


# A whole cell that is a missing value (io.cells.MISSING), in any case: pyarrow's regular expressions.
MISSING_PATTERN = "(?i)^(?:" + "|".join(re.escape(token) for token in sorted(MISSING)) + ")$"


def guess_of(column) -> tuple[np.ndarray, np.ndarray | None]:
    """A pyarrow string column as float64 if every cell is a number or missing (NaN), else as
    `text_of` gives it; and which cells are missing. pyarrow's float parsing, as for numeric
    columns."""
    import pyarrow as pa
    import pyarrow.compute as pc

    stripped = pc.utf8_trim(column, characters=SPACES)
    try:
        marked = pc.replace_substring_regex(stripped, pattern=MISSING_PATTERN, replacement="nan")
        numbers = pc.cast(marked, pa.float64())
    except pa.ArrowInvalid:
        return text_of(column)
    values = float64_of(numbers)
    missing = np.isnan(values)
    return values, (missing if missing.any() else None)


def int_array(array) -> np.ndarray:
    """A pyarrow integer array without nulls as numpy (no copy)."""
    dtype = np.dtype(f"int{array.type.bit_width}")  # dictionary indices are signed
    offset = array.offset * dtype.itemsize
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=offset)


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
