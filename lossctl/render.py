"""Rendering compute results: plain numbers for shells, CSV and JSON for programs, a rich table.

Reduced values are printed with Python's repr: the shortest text that reads back as the same
float64. Per-row values (`rows`, `gradient`) go through the one writer, `io.writer`, in its style
of numbers, as bytes. rich is imported only for `table`.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Sequence
from typing import BinaryIO, TextIO

import numpy as np

from lossctl.compute import Result
from lossctl.io.writer import csv_cell
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
    table.add_column("value", justify="right", style="bold cyan", overflow="fold")
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
    stream: Iterable[tuple[np.ndarray, list[np.ndarray]]], losses: Sequence[Loss], fmt: str,
    out: BinaryIO, workers: int = 1,
) -> None:
    """Per-row values (reduction none) through the one writer, as blocks come: numbers alone, or
    after each row's file line (csv), or JSON lines."""
    from lossctl.io.writer import csv_layout, json_layout, write_rows

    blocks = iter(stream)
    first = next(blocks, None)
    if first is None:
        return
    header = row_header(losses, [v.shape[1] for v in first[1]])
    numbered = fmt in ("csv", "json")

    def columns(item: tuple[np.ndarray, list[np.ndarray]]) -> list[np.ndarray]:
        lines, values = item
        cells = [v[:, j] for v in values for j in range(v.shape[1])]
        return [lines, *cells] if numbered else cells

    layout = json_layout(["line", *header]) if fmt == "json" else csv_layout(len(header) + numbered)
    head = "line," + ",".join(header) + "\n" if fmt == "csv" else ""
    write_rows(out, map(columns, itertools.chain([first], blocks)), layout, head=head, workers=workers)


def gradient(grad: np.ndarray, pred_columns: Sequence[str], fmt: str, out: BinaryIO,
             workers: int = 1) -> None:
    """d(loss)/d(y_pred), one row per input row, through the one writer (JSON: one array of rows)."""
    from lossctl.io.writer import Layout, csv_layout, write_rows

    grad = grad.reshape(len(grad), -1)
    columns = [[grad[:, j] for j in range(grad.shape[1])]]
    if fmt == "json":
        layout = Layout(("[",) + (", ",) * (grad.shape[1] - 1), end="]", sep=", ", json=True)
        write_rows(out, columns, layout, head="[", tail="]\n", workers=workers)
        return
    head = ",".join(f"grad_{c}" for c in pred_columns) + "\n" if fmt == "csv" else ""
    write_rows(out, columns, csv_layout(grad.shape[1]), head=head, workers=workers)
