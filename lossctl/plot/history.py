"""Training curves: a history (lossctl's or Keras's CSVLogger columns) as a Figure.

The first panel holds loss and val_loss per epoch with the best epoch marked (the lowest
val_loss, else the lowest loss: what `train` reports as best); each metric gets a panel of its
own, with its val_ twin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lossctl.errors import DataError
from lossctl.plot.figure import Figure, Mark, Panel, Series

SCHEDULE = ("lr", "learning_rate", "seconds")  # columns that are not a loss or a metric (Keras
# 3's CSVLogger writes learning_rate)


def read_history(path: str) -> dict[str, np.ndarray]:
    """The numeric columns of a history CSV, by name; DataError naming the file without an
    `epoch` and a `loss` column."""
    from lossctl.io.reader import open_table

    with open_table(path, "keep") as table:  # a diverged epoch's nan (Keras writes it) is drawn as a gap
        missing = [c for c in ("epoch", "loss") if c not in table.header]
        if missing:
            raise DataError(
                f"{table.name}: not a training history: no {' and no '.join(missing)} column "
                f"(columns: {', '.join(table.header)})"
            )
        wanted = [c for c in table.header if c not in SCHEDULE]
        data = np.vstack([block.data for block in table.blocks(numeric=wanted)])
    return {name: data[:, j] for j, name in enumerate(wanted)}


def columns_of(rows: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """History rows (`EpochRecord.row()`) as columns, like `read_history` gives them."""
    names = [n for n in rows[0] if n not in SCHEDULE]
    return {n: np.array([float(r[n]) for r in rows]) for n in names}


def best_epoch(columns: Mapping[str, np.ndarray]) -> tuple[str, int]:
    """The monitored column (val_loss, else loss) and the row of its first lowest value."""
    monitor = "val_loss" if "val_loss" in columns else "loss"
    values = np.where(np.isfinite(columns[monitor]), columns[monitor], np.inf)
    return monitor, int(np.argmin(values))


def history_figure(columns: Mapping[str, np.ndarray], title: str) -> Figure:
    epochs = columns["epoch"]
    monitor, best = best_epoch(columns)
    metrics = [n for n in columns if n not in ("epoch", "loss") and not n.startswith("val_")]
    panels = []
    for name in ["loss", *metrics]:
        series = [Series(name, epochs, columns[name])]
        if f"val_{name}" in columns:
            series.append(Series(f"val_{name}", epochs, columns[f"val_{name}"]))
        marks: tuple[Mark, ...] = ()
        if name == "loss":
            value = columns[monitor][best]
            marks = (Mark(f"best epoch {epochs[best]:g} ({monitor} {value:.4g})", epochs[best], value),)
        panels.append(Panel(
            title=f"{name} per epoch", xlabel="epoch", ylabel=name,
            series=tuple(series), marks=marks, vline=float(epochs[best]), log_y=_wide(series),
        ))
    return Figure(title=title, panels=tuple(panels))


def _wide(series: Sequence[Series]) -> bool:
    """Log scale for values over more than two decades (a loss that falls fast)."""
    values = np.concatenate([s.y[np.isfinite(s.y)] for s in series])
    return bool(len(values) and values.min() > 0 and values.max() / values.min() > 100)
