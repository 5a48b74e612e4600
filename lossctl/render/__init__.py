"""Rendering: what the library computed, as text for people and programs. The CLI only calls these.

This module renders `compute`'s results; `render.catalog` the registry (`list`, `explain`),
`render.training` a training run (the live table, the history CSV, the summary) and
`render.metrics` a saved model's scores (`evaluate`).

Compute results: plain numbers for shells, CSV and JSON for programs, a rich table.

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
from lossctl.io.block import Block
from lossctl.io.writer import Cells, csv_cell
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


def reduced(
    results: Sequence[Result], fmt: str, out: TextIO, asked: Sequence[str] = (), by: Sequence[str] = (),
) -> None:
    """One result per loss; with --by (`by` the columns) one per group and loss, then the overall
    ones with empty group cells; with --ci each with its interval. Plain output of groups or
    intervals is the CSV: bare numbers would not say which is which."""
    intervals = any(r.ci is not None for r in results)
    if fmt == "plain" and not (by or intervals):
        out.write("".join(value_text(r.value) + "\n" for r in results))
    elif fmt in ("csv", "plain"):
        ci_head = "ci_low,ci_high,ci_method," if intervals else ""
        out.write("".join(csv_cell(c) + "," for c in by) + f"loss,reduction,value,{ci_head}rows\n")
        for r in results:
            keys = "".join(_key_cell(r, j) + "," for j in range(len(by)))
            ci = ",,," * intervals
            if r.ci is not None:
                ci = "".join(csv_cell(value_text(v)) + "," for v in r.ci) + f"{r.ci_method},"
            out.write(f"{keys}{r.loss.qualified_name},{r.reduction},{csv_cell(value_text(r.value))},"
                      f"{ci}{r.rows}\n")
    elif fmt == "json":
        records = []
        for r in results:
            record: dict = {c: None if r.group is None else r.group[j] for j, c in enumerate(by)}
            record |= {"loss": r.loss.qualified_name, "reduction": r.reduction,
                       "value": _json_value(r.value)}
            if r.ci is not None:
                record |= {"ci_low": _json_value(r.ci[0]), "ci_high": _json_value(r.ci[1]),
                           "ci_method": r.ci_method}
            records.append(record | {"rows": r.rows, "params": _params(r.params)})
        out.write(json.dumps(records) + "\n")
    else:
        _table(results, out, asked, by)


def key_text(value: object) -> str:
    """A group's value as text: an integral number without its `.0`, other numbers as `number`."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else number(value)
    return str(value)


def _key_cell(result: Result, j: int) -> str:
    return "" if result.group is None else csv_cell(key_text(result.group[j]))


def _params(params: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def _table(results: Sequence[Result], out: TextIO, asked: Sequence[str], by: Sequence[str] = ()) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold")
    for column in by:
        table.add_column(escape(column))
    table.add_column("loss")
    table.add_column("reduction")
    table.add_column("value", justify="right", style="bold cyan", overflow="fold")
    intervals = any(r.ci is not None for r in results)
    if intervals:
        table.add_column("ci_low", justify="right", overflow="fold")
        table.add_column("ci_high", justify="right", overflow="fold")
        table.add_column("ci_method")
    table.add_column("rows", justify="right")
    for k, r in enumerate(results):
        name = r.loss.qualified_name
        if k < len(asked) and asked[k] != name and r.group is None:
            name += f" [dim](from {asked[k]})[/dim]"
        keys = [escape(key_text(v)) for v in r.group] if r.group is not None else (
            ["[dim]all[/dim]"] + [""] * (len(by) - 1) if by else [])
        ci = [*(value_text(v) for v in r.ci), r.ci_method or ""] if r.ci is not None else (
            [""] * 3 if intervals else [])
        table.add_row(*keys, name, r.reduction, value_text(r.value), *ci, str(r.rows))
    families = {r.loss.family.name: r.loss.family for r in results}
    table.caption = "; ".join(families[name].convention for name in sorted(families))
    Console(file=out).print(table)


COMPARED = ("loss", "a", "b", "diff", "ci_low", "ci_high", "p_value", "method", "rows")


def compared(results: Sequence, fmt: str, out: TextIO, by: Sequence[str] = ()) -> None:
    """`compare`'s results (`evaluate.compare.Compared`): one per group and loss, then the overall
    ones with empty group cells."""
    def cells(c) -> list:
        return [c.loss.qualified_name, c.a, c.b, c.diff, *c.ci, c.p_value, c.rows]

    def with_method(c, values: list) -> list:  # the method's name before rows
        return [*values[:-1], c.method, values[-1]]

    if fmt == "csv":
        out.write("".join(csv_cell(col) + "," for col in by) + ",".join(COMPARED) + "\n")
        for c in results:
            keys = "".join(
                ("" if c.group is None else csv_cell(key_text(c.group[j]))) + "," for j in range(len(by)))
            name, *numbers, rows = cells(c)
            out.write(keys + ",".join(with_method(c, [name, *map(number, numbers), str(rows)])) + "\n")
    elif fmt == "json":
        records = []
        for c in results:
            record: dict = {col: None if c.group is None else c.group[j] for j, col in enumerate(by)}
            name, *numbers, rows = cells(c)
            values = with_method(c, [name, *map(_json_number, numbers), rows])
            record |= dict(zip(COMPARED, values, strict=True))
            records.append(record | {"reduction": c.reduction, "params": _params(c.params)})
        out.write(json.dumps(records) + "\n")
    else:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(show_edge=False, header_style="bold")
        for col in by:
            table.add_column(escape(col))
        for col in COMPARED:
            table.add_column(col, justify="left" if col == "loss" else "right",
                             style="bold cyan" if col == "diff" else None)
        for c in results:
            keys = [escape(key_text(v)) for v in c.group] if c.group is not None else (
                ["[dim]all[/dim]"] + [""] * (len(by) - 1) if by else [])
            name, *numbers, rows = cells(c)
            table.add_row(*keys, *with_method(c, [name, *map(number, numbers), str(rows)]))
        table.caption = ("diff = b - a; bootstrap: percentile interval of the paired Poisson bootstrap, "
                         "p_value of a paired permutation test (two-sided); delong: DeLong's interval "
                         "and test of two correlated ROC AUCs")
        Console(file=out).print(table)


def row_header(losses: Sequence[Loss], widths: Sequence[int]) -> list[str]:
    names = []
    for loss, width in zip(losses, widths, strict=True):
        base = loss.qualified_name
        names.extend([base] if width == 1 else [f"{base}_{j}" for j in range(width)])
    return names


def _files(rows: Block, fmt: str) -> Cells:
    """Each row's part file, as a csv cell or a JSON string."""
    names, index = rows.sources()
    quote = json.dumps if fmt == "json" else csv_cell
    return Cells([quote(name) for name in names], index)


def rows(
    stream: Iterable[tuple[Block | np.ndarray, list[np.ndarray]]], losses: Sequence[Loss], fmt: str,
    out: BinaryIO, workers: int = 1, files: bool = False,
) -> None:
    """Per-row values (reduction none) through the one writer, as blocks come: numbers alone, or
    after each row's file line (csv), or JSON lines. A block's rows come as a Block (where they
    come from) or their lines alone; with `files` (an input of several parts, whose lines restart
    in each) csv and json name each row's part file before its line, from the Block."""
    from lossctl.io.writer import csv_layout, json_layout, write_rows

    blocks = iter(stream)
    first = next(blocks, None)
    if first is None:
        return
    header = row_header(losses, [v.shape[1] for v in first[1]])
    numbered = fmt in ("csv", "json")
    where = (["file"] * files + ["line"]) * numbered

    def columns(item: tuple[Block | np.ndarray, list[np.ndarray]]) -> list[np.ndarray | Cells]:
        rows, values = item
        cells = [v[:, j] for v in values for j in range(v.shape[1])]
        if not numbered:
            return cells
        lines = rows.lines if isinstance(rows, Block) else rows
        return [_files(rows, fmt), lines, *cells] if files else [lines, *cells]

    keys = [*where, *header]
    layout = json_layout(keys) if fmt == "json" else csv_layout(len(keys))
    head = ",".join(keys) + "\n" if fmt == "csv" else ""
    write_rows(out, map(columns, itertools.chain([first], blocks)), layout, head=head, workers=workers)


def gradient(grad: np.ndarray, pred_columns: Sequence[str], fmt: str, out: BinaryIO,
             workers: int = 1, rows: Block | None = None) -> None:
    """d(loss)/d(y_pred), one row per input row, through the one writer (JSON: one array of rows).
    `rows` (given for an input of several parts): csv and json name each row's part file and line
    before its values."""
    from lossctl.io.writer import Layout, csv_layout, write_rows

    grad = grad.reshape(len(grad), -1)
    where = [] if rows is None or fmt not in ("csv", "json") else [_files(rows, fmt), rows.lines]
    columns = [[*where, *(grad[:, j] for j in range(grad.shape[1]))]]
    width = len(columns[0])
    if fmt == "json":
        layout = Layout(("[",) + (", ",) * (width - 1), end="]", sep=", ", json=True)
        write_rows(out, columns, layout, head="[", tail="]\n", workers=workers)
        return
    names = ["file", "line"] * bool(where) + [f"grad_{c}" for c in pred_columns]
    head = ",".join(names) + "\n" if fmt == "csv" else ""
    write_rows(out, columns, csv_layout(width), head=head, workers=workers)
