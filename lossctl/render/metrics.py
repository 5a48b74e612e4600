"""Rendering a saved model's scores (`lossctl evaluate`): a table on a terminal, else name,value CSV.

Each value is printed as its repr: the shortest text that reads back as the same float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

import numpy as np

from lossctl.io.writer import csv_cell
from lossctl.render import key_text, number


def scores(title: str, rows: Sequence[tuple[str, float]], table: bool, out: TextIO) -> None:
    """The loss and metrics by name: a rich table titled `title`, or CSV (`metric,value`)."""
    if not table:
        out.write("metric,value\n" + "".join(f"{name},{value!r}\n" for name, value in rows))
        return
    from rich.console import Console
    from rich.table import Table

    shown = Table(title=title, title_justify="left")
    shown.add_column("metric")
    shown.add_column("value", justify="right")
    for name, value in rows:
        shown.add_row(name, repr(value))
    Console(file=out).print(shown)


def grouped_scores(
    by: Sequence[str], keys: Sequence[tuple], per_group: dict[str, np.ndarray], counts: np.ndarray,
    overall: dict[str, float], rows: int, fmt: str, out: TextIO,
) -> None:
    """`evaluate --by`: each score per group (groups in the order given), then over all rows with
    empty group cells; csv `<by columns>,metric,value,rows`, or a table."""
    lines = [([key_text(v) for v in key], name, float(values[g]), int(counts[g]))
             for g, key in enumerate(keys) for name, values in per_group.items()]
    lines += [([""] * len(by), name, float(value), rows) for name, value in overall.items()]
    if fmt == "csv":
        out.write("".join(csv_cell(c) + "," for c in by) + "metric,value,rows\n")
        for cells, name, value, count in lines:
            out.write("".join(csv_cell(c) + "," for c in cells) + f"{name},{number(value)},{count}\n")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold")
    for column in by:
        table.add_column(escape(column))
    table.add_column("metric")
    table.add_column("value", justify="right", style="bold cyan")
    table.add_column("rows", justify="right")
    for cells, name, value, count in lines:
        shown = [escape(c) for c in cells] if any(cells) else ["[dim]all[/dim]", *cells[1:]]
        table.add_row(*shown, name, number(value), str(count))
    Console(file=out).print(table)
