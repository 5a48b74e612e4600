"""A Figure as a PNG or SVG file, drawn by matplotlib (the `plot` extra) on its Agg backend.

Only matplotlib's object-oriented API is used (no pyplot and its global state, no display). The
image is drawn in memory and written atomically: a failed write leaves no part of a file.
"""

from __future__ import annotations

import io
import os

import numpy as np

from lossctl.errors import UsageError
from lossctl.io.atomic import Output, write_atomic
from lossctl.plot.figure import Figure, Panel

FORMATS = ("png", "svg")
EXTRA = "pip install 'lossctl[plot]'"
PANEL_SIZE = (8.0, 4.5)  # inches per panel; 100 dpi: 800 x 450 pixels
DPI = 100
LINE_STYLES = ("-", "--", "-.", ":")


def image_format(path: str, flag: str = "--out") -> str:
    """png or svg from `path`'s extension; UsageError for any other, or without matplotlib."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in FORMATS:
        raise UsageError(f"{flag} {path}: the file name must end in .png or .svg")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError(f"{flag} needs matplotlib, which is not installed: {EXTRA}") from None
    return ext


def write_image(figure: Figure, path: str | Output, flag: str = "--out") -> None:
    """Draw `figure` and write it to `path` (PNG or SVG by its extension; or an `Output` opened
    before), atomically."""
    fmt = image_format(path.path if isinstance(path, Output) else path, flag)
    data = draw(figure, fmt)
    write_atomic(path, lambda handle: handle.write(data))


def draw(figure: Figure, fmt: str) -> bytes:
    from matplotlib.figure import Figure as MplFigure

    n = len(figure.panels)
    fig = MplFigure(figsize=(PANEL_SIZE[0], PANEL_SIZE[1] * n + (0.4 if n > 1 else 0)), dpi=DPI,
                    layout="constrained")
    axes = fig.subplots(n, 1, squeeze=False)[:, 0]
    for ax, panel in zip(axes, figure.panels, strict=True):
        _draw_panel(ax, panel)
    if n > 1:
        fig.suptitle(figure.title, fontsize=13, fontweight="bold")
    buffer = io.BytesIO()
    # no timestamps in the files: the same figure gives the same bytes
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(buffer, format=fmt, dpi=DPI, metadata=metadata)
    return buffer.getvalue()


def _draw_panel(ax, panel: Panel) -> None:
    lines = 0
    for s in panel.series:
        y = np.where(np.isfinite(s.y), s.y, np.nan)
        if s.style == "points":
            ax.plot(s.x, y, "o-", markersize=5, linewidth=0.8, alpha=0.8, label=s.label, zorder=3)
        else:  # a line style each, so that curves on top of each other stay visible
            ax.plot(s.x, y, linewidth=2, linestyle=LINE_STYLES[lines % len(LINE_STYLES)], label=s.label)
            lines += 1
    for mark in panel.marks:
        if np.isfinite(mark.x) and np.isfinite(mark.y):
            ax.plot([mark.x], [mark.y], marker="*", markersize=14, linestyle="none", label=mark.label,
                    zorder=4)
    if panel.vline is not None:
        ax.axvline(panel.vline, color="0.6", linestyle="--", linewidth=1, zorder=1,
                   label=panel.vline_label or None)
    if panel.log_y:
        ax.set_yscale("log")
    ax.set_title(panel.title, fontsize=12)
    ax.set_xlabel(panel.xlabel, fontsize=11)
    ax.set_ylabel(panel.ylabel, fontsize=11)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=10)
