"""A Figure as text, drawn by uniplot: braille and one colour per series on a terminal, ASCII
with one character per series otherwise (a pipe, a file, a test)."""

from __future__ import annotations

import numpy as np

from lossctl.plot.figure import Figure, Panel

HEIGHT = 17  # rows of one panel's plotting area


def render(figure: Figure, width: int = 80, color: bool = False, panels: int | None = None) -> str:
    """The figure's panels (the first `panels` of them) one under the other, `width` columns wide."""
    text = [_panel(p, width, color) for p in figure.panels[:panels]]
    return "\n\n".join(text) + "\n"


def _panel(panel: Panel, width: int, color: bool) -> str:
    from uniplot import plot_to_string

    xs, ys, lines, labels = [], [], [], []
    for s in panel.series:
        keep = np.isfinite(s.x) & np.isfinite(s.y)
        if panel.log_y:
            keep &= s.y > 0
        if keep.any():
            xs.append(s.x[keep])
            ys.append(s.y[keep])
            lines.append(s.style == "line")
            labels.append(s.label)
    for mark in panel.marks:
        if np.isfinite(mark.x) and np.isfinite(mark.y):
            xs.append(np.array([mark.x]))
            ys.append(np.array([mark.y]))
            lines.append(False)
            labels.append(mark.label)
    if not ys:
        return f"{panel.title}\n(nothing finite to draw)"
    plot = plot_to_string(
        ys, xs, lines=lines, legend_labels=labels, title=panel.title,
        width=max(width - 14, 20), height=HEIGHT, line_length_hard_cap=width,
        character_set="braille" if color else "ascii", color=color,
        x_gridlines=[panel.vline] if panel.vline is not None else [], y_gridlines=[],
        y_as_log=panel.log_y,
    )
    scale = ", log scale" if panel.log_y else ""
    return f"{plot}\nx: {panel.xlabel}; y: {panel.ylabel}{scale}"
