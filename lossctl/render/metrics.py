"""Rendering a saved model's scores (`lossctl evaluate`): a table on a terminal, else name,value CSV.

Each value is printed as its repr: the shortest text that reads back as the same float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO


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
