"""pyarrow's parser for a chunk of CSV records.

It converts only the requested columns, numeric ones to float64 and text ones to stripped str, and
returns a `Parsed`, or None when the chunk is not plain enough to trust its answer (a cell it cannot
read, a row of the wrong width, a record over several lines). The caller then reads that chunk with
the standard `csv` module, which decides what every odd cell means and names the line and column of
any error: both give the same numbers and the same errors by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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
                 delimiter: str = ",") -> None:
        import pyarrow as pa
        import pyarrow.csv as pcsv

        self._pa, self._read_csv = pa, pcsv.read_csv
        self.numeric, self.text = list(numeric), list(text)
        wanted = list(dict.fromkeys([*numeric, *text]))
        types = dict.fromkeys(numeric, pa.float64()) | dict.fromkeys(text, pa.string())
        # One thread per chunk: chunks are parsed side by side instead (chunks.map_ahead), which
        # is about 20% faster than pyarrow's own threads over smaller blocks.
        self._read = pcsv.ReadOptions(column_names=list(header), use_threads=False, block_size=16 << 20)
        # Without null tokens first (about 10% faster): a chunk with an empty cell fails that
        # pass and is parsed again with them. Text cells are never null: they are kept as written.
        self._conversions = [
            pcsv.ConvertOptions(include_columns=wanted, column_types=types, null_values=nulls,
                                quoted_strings_can_be_null=bool(nulls), strings_can_be_null=False)
            for nulls in ([], _null_tokens())
        ]
        self._parse = {
            quotes: pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=quotes)
            for quotes in (False, True)
        }

    def parse(self, chunk: Chunk) -> Parsed | None:
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
        data = np.empty((table.num_rows, len(self.numeric)), dtype=np.float64, order="F")
        for j, name in enumerate(self.numeric):
            data[:, j] = float64_of(table.column(name))
        missing = None
        with np.errstate(invalid="ignore", over="ignore"):
            if len(self.numeric) and np.isnan(data.sum()):  # a NaN somewhere (or inf - inf)
                missing = np.isnan(data).any(axis=1)
        text = {}
        for name in self.text:
            cells, empty = text_of(table.column(name))
            text[name] = cells
            if empty is not None:
                missing = empty if missing is None else missing | empty
        return Parsed(data, text, missing, offsets)


def text_of(column) -> tuple[np.ndarray, np.ndarray | None]:
    """A pyarrow string column as an object array of stripped str, and which cells are missing
    (io.cells.MISSING in any case), None if none is."""
    import pyarrow as pa
    import pyarrow.compute as pc

    stripped = pc.utf8_trim(column, characters=SPACES)
    missing = pc.is_in(pc.utf8_lower(stripped), value_set=pa.array(sorted(MISSING)))
    cells = stripped.to_numpy(zero_copy_only=False)
    if not pc.any(missing).as_py():
        return cells, None
    return cells, missing.to_numpy(zero_copy_only=False).astype(bool)


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
