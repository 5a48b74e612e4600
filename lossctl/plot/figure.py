"""What a picture shows, independent of how it is drawn: panels of labelled series."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Series:
    """One curve (`line`) or a sequence of points (`points`, e.g. the path of gradient descent)."""

    label: str
    x: np.ndarray
    y: np.ndarray
    style: str = "line"  # "line" or "points"


@dataclass(frozen=True)
class Mark:
    """A labelled point to call out (the best epoch, the start of a descent)."""

    label: str
    x: float
    y: float


@dataclass(frozen=True)
class Panel:
    title: str
    xlabel: str
    ylabel: str
    series: tuple[Series, ...]
    marks: tuple[Mark, ...] = ()
    vline: float | None = None  # an x to draw a vertical line at (y_true, the best epoch)
    vline_label: str = ""
    log_y: bool = False


@dataclass(frozen=True)
class Figure:
    """One or more panels, stacked top to bottom."""

    title: str
    panels: tuple[Panel, ...]
