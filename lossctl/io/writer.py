"""One writer for every per-row output (`compute --reduction none`, `compute --grad`, `predict`).

Rows come in blocks of columns (numbers, integers, or text cells of a few distinct values); each
block is cut into pieces of `ROWS_PER_WRITE` rows, formatted whole and written as bytes, in order,
to stdout or a file opened by `io.atomic`. Pieces are formatted on worker threads (the cores) by
Arrow's vectorised cast to text; pieces of fewer than `SMALL_VALUES` cells are formatted in Python,
which needs no pyarrow import (a few rows print instantly), into the same text.

Numbers print as the shortest text that reads back as the same float64, in Arrow's style (its CSV
writer's): plain decimals from 1e-6 up to 1e10 (`0.1`, `0.000015`, `1000000000`, whole numbers
without a `.0`), exponents outside (`1e-7`, `1.5e+10`, `5e-324`), and `-0`, `inf`, `-inf`, `nan`.
float32 values print as the float64 they convert to. In JSON, `inf` and `nan` are `null`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from lossctl.io.chunks import map_ahead

ROWS_PER_WRITE = 1 << 16  # rows formatted and written at a time
SMALL_VALUES = 1 << 14  # pieces with fewer cells than this are formatted in Python


@dataclass(frozen=True)
class Cells:
    """A text column of few distinct values: row i holds `texts[index[i]]`, written as it is
    (make CSV cells with `csv_cell`)."""

    texts: Sequence[str]
    index: np.ndarray


Column = np.ndarray | Cells


@dataclass(frozen=True)
class Layout:
    """How a row is written: `before[j]` ahead of cell j, `end` after the last cell, `sep` between
    rows; `json` writes non-finite numbers as null."""

    before: tuple[str, ...]
    end: str = "\n"
    sep: str = ""
    json: bool = False


def csv_layout(width: int) -> Layout:
    return Layout(("",) + (",",) * (width - 1))


def json_layout(keys: Sequence[str]) -> Layout:
    """JSON lines: one object per row with these keys."""
    import json

    names = [json.dumps(k) + ": " for k in keys]
    return Layout(("{" + names[0], *(", " + n for n in names[1:])), end="}\n", json=True)


def csv_cell(text: str) -> str:
    """`text` as one cell of a CSV row, as `csv.writer` writes it (quoted where it must be)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([text, ""])  # two cells: "" stays empty
    return buffer.getvalue()[:-2]


def write_rows(
    out: BinaryIO, blocks: Iterable[Sequence[Column]], layout: Layout, *,
    head: str = "", tail: str = "", workers: int = 1,
) -> None:
    """Write `head`, every row of `blocks` as `layout` says, then `tail`; up to `workers` pieces
    are formatted at a time, each written as soon as it and those before it are done."""
    if head:
        out.write(head.encode())
    skip = len(layout.sep)  # no separator before the first row
    for text in map_ahead(lambda piece: format_rows(piece, layout), _pieces(blocks), workers):
        if skip and len(text):
            text, skip = text[skip:], 0
        out.write(text)
    if tail:
        out.write(tail.encode())


def _pieces(blocks: Iterable[Sequence[Column]]) -> Iterator[list[Column]]:
    for columns in blocks:
        rows = _length(columns[0])
        for start in range(0, rows, ROWS_PER_WRITE):
            part = slice(start, start + ROWS_PER_WRITE)
            yield [Cells(c.texts, c.index[part]) if isinstance(c, Cells) else c[part] for c in columns]


def _length(column: Column) -> int:
    return len(column.index) if isinstance(column, Cells) else len(column)


def format_rows(columns: Sequence[Column], layout: Layout) -> bytes | memoryview:
    """The text of these rows (columns of equal length), as bytes."""
    rows = _length(columns[0])
    if rows == 0:
        return b""
    if rows * len(columns) < SMALL_VALUES:
        return _python_rows(columns, layout).encode()
    return _arrow_rows(columns, layout)


def _python_rows(columns: Sequence[Column], layout: Layout) -> str:
    cells = [_python_texts(c, layout.json) for c in columns]
    start = layout.sep + layout.before[0]
    rest = layout.before[1:]
    return "".join(
        start + row[0] + "".join(b + c for b, c in zip(rest, row[1:], strict=True)) + layout.end
        for row in zip(*cells, strict=True)
    )


def _python_texts(column: Column, json: bool) -> list[str]:
    if isinstance(column, Cells):
        return [column.texts[i] for i in column.index.tolist()]
    if column.dtype.kind in "iu":
        return list(map(str, column.tolist()))
    texts = [number_text(v) for v in column.astype(np.float64, copy=False).tolist()]
    if json:
        return [t if t[-1].isdigit() else "null" for t in texts]  # inf, nan
    return texts


def number_text(x: float) -> str:
    """`x` as the writer prints it (see the module's docstring), from its shortest digits."""
    x = float(x)  # a numpy scalar's repr is np.float64(...)
    if not math.isfinite(x):
        return repr(x)
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    mantissa, _, exp = repr(abs(x)).partition("e")  # repr: the shortest digits that read back
    whole, _, frac = mantissa.partition(".")
    digits = whole + ("" if frac == "0" else frac)
    significant = digits.lstrip("0")
    power = int(exp or 0) + len(whole) - 1 - (len(digits) - len(significant))  # x = d.ddd * 10**power
    digits = significant.rstrip("0")
    if -6 <= power < 10:
        if power < 0:
            body = "0." + "0" * (-power - 1) + digits
        elif len(digits) <= power + 1:
            body = digits + "0" * (power + 1 - len(digits))
        else:
            body = digits[: power + 1] + "." + digits[power + 1 :]
    else:
        body = (digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
                + ("e+" if power > 0 else "e-") + str(abs(power)))
    return ("-" if x < 0 else "") + body


def _arrow_rows(columns: Sequence[Column], layout: Layout) -> memoryview:
    import pyarrow as pa
    import pyarrow.compute as pc

    parts: list = []
    for k, (before, column) in enumerate(zip(layout.before, columns, strict=True)):
        prefix = layout.sep + before if k == 0 else before
        if prefix:
            parts.append(_arrow_strings([prefix], pa)[0])
        parts.append(_arrow_texts(column, layout.json, pa, pc))
    parts.append(_arrow_strings([layout.end], pa)[0])
    rows = pc.binary_join_element_wise(*parts, _arrow_strings([""], pa)[0])
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32, count=len(rows) + 1, offset=4 * rows.offset)
    if offsets[-1] == offsets[0]:
        return memoryview(b"")
    return memoryview(rows.buffers()[2])[offsets[0] : offsets[-1]]


# Arrow arrays and scalars are made from buffers: `pa.array` and `pa.scalar` import pandas (0.2 s)
# to ask whether they were given a pandas object.

def _arrow_texts(column: Column, json: bool, pa, pc):
    if isinstance(column, Cells):
        return _arrow_strings(column.texts, pa).take(_arrow_numbers(column.index, np.int64, pa))
    if column.dtype.kind in "iu":
        return pc.cast(_arrow_numbers(column, np.int64, pa), pa.string())
    values = _arrow_numbers(column, np.float64, pa)
    texts = pc.cast(values, pa.string())
    if json and not np.isfinite(column).all():
        texts = pc.if_else(pc.is_finite(values), texts, _arrow_strings(["null"], pa)[0])
    return texts


def _arrow_numbers(values: np.ndarray, dtype, pa):
    """A numpy array as an Arrow int64 or float64 array (sharing its memory when it can)."""
    values = np.ascontiguousarray(values, dtype=dtype)
    kind = pa.float64() if values.dtype.kind == "f" else pa.int64()
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _arrow_strings(texts: Sequence[str], pa):
    data = [t.encode() for t in texts]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(data), [None, pa.py_buffer(offsets),
                                                          pa.py_buffer(b"".join(data))])
