"""Rendering compute results: plain numbers for shells, CSV and JSON for programs, a rich table.

Numbers are printed with Python's repr: the shortest text that reads back as the same float64.
The renderers write to a text stream; `csv_lines` and `csv_cell`, which `predict` writes with
too, return text. rich is imported only for `table`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import operator
from collections.abc import Iterable, Sequence
from typing import TextIO

import numpy as np

from lossctl.compute import Result
from lossctl.losses.registry import Loss

FORMATS = ("plain", "csv", "json", "table")


def number(value: float) -> str:
    return repr(float(value))  # a Python float's repr; numpy scalars' repr is np.float64(...)


def value_text(value: float | np.ndarray) -> str:
    """A reduced value: one number, or one per output column on one line, comma-separated."""
    return ",".join(number(v) for v in value) if np.ndim(value) else number(value)


def _json_number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _json_value(value: float | np.ndarray) -> float | None | list[float | None]:
    return [_json_number(v) for v in value] if np.ndim(value) else _json_number(value)


def reduced(results: Sequence[Result], fmt: str, out: TextIO, asked: Sequence[str] = ()) -> None:
    """One result per loss."""
    if fmt == "plain":
        out.write("".join(value_text(r.value) + "\n" for r in results))
    elif fmt == "csv":
        out.write("loss,reduction,value,rows\n")
        for r in results:
            out.write(f"{r.loss.qualified_name},{r.reduction},{csv_cell(value_text(r.value))},{r.rows}\n")
    elif fmt == "json":
        records = [
            {"loss": r.loss.qualified_name, "reduction": r.reduction, "value": _json_value(r.value),
             "rows": r.rows, "params": _params(r.params)}
            for r in results
        ]
        out.write(json.dumps(records) + "\n")
    else:
        _table(results, out, asked)


def _params(params: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def _table(results: Sequence[Result], out: TextIO, asked: Sequence[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold")
    table.add_column("loss")
    table.add_column("reduction")
    table.add_column("value", justify="right", style="bold cyan")
    table.add_column("rows", justify="right")
    for k, r in enumerate(results):
        name = r.loss.qualified_name
        if k < len(asked) and asked[k] != name:
            name += f" [dim](from {asked[k]})[/dim]"
        table.add_row(name, r.reduction, value_text(r.value), str(r.rows))
    families = {r.loss.family.name: r.loss.family for r in results}
    table.caption = "; ".join(families[name].convention for name in sorted(families))
    Console(file=out).print(table)


def row_header(losses: Sequence[Loss], widths: Sequence[int]) -> list[str]:
    names = []
    for loss, width in zip(losses, widths, strict=True):
        base = loss.qualified_name
        names.extend([base] if width == 1 else [f"{base}_{j}" for j in range(width)])
    return names


def rows(
    stream: Iterable[tuple[np.ndarray, list[np.ndarray]]], losses: Sequence[Loss], fmt: str, out: TextIO
) -> None:
    """Per-row values (reduction none), written a slice of rows at a time as blocks come."""
    header: list[str] | None = None
    for block_lines, values in stream:
        if header is None:
            header = row_header(losses, [v.shape[1] for v in values])
            keys = [json.dumps(h) for h in header]
            if fmt == "csv":
                out.write("line," + ",".join(header) + "\n")
        block = np.hstack(values) if len(values) > 1 else values[0]
        for start in range(0, len(block), ROWS_PER_WRITE):
            table = block[start : start + ROWS_PER_WRITE].tolist()  # Python floats: repr is `number`
            lines = block_lines[start : start + ROWS_PER_WRITE].tolist()
            if fmt in ("plain", "table"):
                text = csv_lines(table)
            elif fmt == "csv":
                text = csv_lines([[line, *row] for line, row in zip(lines, table, strict=True)])
            else:
                text = "".join(
                    f'{{"line": {line}, '
                    + ", ".join(f"{k}: {_json_text(repr(v))}" for k, v in zip(keys, row, strict=True))
                    + "}\n"
                    for line, row in zip(lines, table, strict=True)
                )
            out.write(text)


ROWS_PER_WRITE = 1 << 16  # rows formatted and written at a time


def csv_lines(
    rows: list[list], before: Sequence[str] | None = None, after: Sequence[str] | None = None,
) -> str:
    """Rows of Python numbers as CSV lines, each number as its repr.

    `repr` of the whole list runs in C, three times faster than joining the reprs one by one; no
    int or float repr holds a comma or a bracket, so the separators are safe to rewrite. `before`
    and `after`, when given, hold one text per row, put in front of and behind its numbers: text
    cells already in CSV form (`csv_cell`) with their separating commas.
    """
    if not rows:
        return ""
    text = repr(rows)[2:-2].replace("], [", "\n").replace(", ", ",")
    if before is None and after is None:
        return text + "\n"
    lines = text.split("\n")
    if before is not None:
        lines = list(map(operator.add, before, lines))
    if after is not None:
        lines = list(map(operator.add, lines, after))
    return "\n".join(lines) + "\n"


def csv_cell(text: str) -> str:
    """`text` as one cell of a CSV row, as `csv.writer` writes it (quoted where it must be)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([text, ""])  # two cells: "" stays empty
    return buffer.getvalue()[:-2]


def _json_text(text: str) -> str:
    """A number as `number` printed it, in JSON (which has no inf or nan: null)."""
    return text if text not in ("nan", "inf", "-inf") else "null"


def gradient(grad: np.ndarray, pred_columns: Sequence[str], fmt: str, out: TextIO) -> None:
    """d(loss)/d(y_pred), one line per input row."""
    if fmt == "json":
        out.write(json.dumps([[_json_number(v) for v in row] for row in grad]) + "\n")
        return
    if fmt == "csv":
        out.write(",".join(f"grad_{c}" for c in pred_columns) + "\n")
    grad = grad.reshape(len(grad), -1)
    for start in range(0, len(grad), ROWS_PER_WRITE):
        out.write(csv_lines(grad[start : start + ROWS_PER_WRITE].tolist()))
