"""Rendering a training run: the live per-epoch table, a progress bar, the summary, the curve.

On a terminal the table grows live on stdout. When stdout is not a terminal, stdout carries the
history as CSV (one line per epoch, flushed as it happens) and the human output goes to stderr:
live when stderr is a terminal, else printed once at the end.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from lossctl.nn.train import EpochRecord

PROGRESS_AFTER = 1.0  # seconds into an epoch before its progress bar appears
PROGRESS_EVERY = 0.05  # seconds between two updates of the progress bar within an epoch


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-4):
        return f"{value:.4e}"
    return f"{value:.4f}"


def history_csv_line(values: Sequence[Any]) -> str:
    return ",".join(repr(v) if isinstance(v, float) else str(v) for v in values)


class TrainView:
    """Receives the run's events from the command and draws them."""

    def __init__(self, *, quiet: bool = False, stdout_tty: bool | None = None,
                 stderr_tty: bool | None = None) -> None:
        self.stdout_tty = sys.stdout.isatty() if stdout_tty is None else stdout_tty
        stderr_tty = sys.stderr.isatty() if stderr_tty is None else stderr_tty
        self.quiet = quiet
        self.csv = not self.stdout_tty
        self.console = Console(stderr=self.csv, highlight=False)
        self.live_ok = (stderr_tty if self.csv else True) and not quiet
        self.records: list[EpochRecord] = []
        self.columns: list[str] = []
        self._header_written = False
        self._live: Live | None = None
        self._progress = Progress(
            TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("batches"), TimeRemainingColumn(), console=self.console,
        )
        self._task = self._progress.add_task("", total=1, epoch=1, visible=False)
        self._epoch_started = time.perf_counter()
        self._progress_at = 0.0
        self.title = ""

    # -- events ----------------------------------------------------------------------------
    def start(self, title: str) -> None:
        self.title = title
        self._epoch_started = time.perf_counter()
        if self.live_ok:
            self._live = Live(get_renderable=self._renderable, console=self.console,
                              refresh_per_second=8, transient=True)
            self._live.start()

    def progress(self, done: int, total: int) -> None:
        if self._live is None:
            return
        now = time.perf_counter()
        # called after every batch: between an epoch's first and last batch, at most once per
        # PROGRESS_EVERY seconds (the bar redraws 8 times a second anyway)
        if 1 < done < total and now - self._progress_at < PROGRESS_EVERY:
            return
        self._progress_at = now
        task = self._progress.tasks[0]
        if done == 1 and task.completed >= task.total:
            self._epoch_started = now
        visible = now - self._epoch_started > PROGRESS_AFTER
        self._progress.update(self._task, completed=done, total=total,
                              epoch=len(self.records) + 1, visible=visible and done < total)

    def epoch(self, record: EpochRecord) -> None:
        self.records.append(record)
        self._epoch_started = time.perf_counter()
        self._progress.update(self._task, visible=False)
        if self.csv:
            row = record.row()
            if not self._header_written:
                self.columns = list(row)
                print(",".join(self.columns), flush=True)
                self._header_written = True
            print(history_csv_line([row.get(c, "") for c in self.columns]), flush=True)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def finish(self, summary: dict[str, Any]) -> None:
        """Stop the live display and print the table, the summary and the loss curve."""
        self.stop()
        if self.quiet:
            return
        self.console.print(self.table())
        for line in curve(self.records):
            self.console.print(line, markup=False)
        self.console.print(summary_text(summary), markup=False)

    # -- drawing ---------------------------------------------------------------------------
    def table(self, last: int | None = None) -> Table:
        table = Table(title=self.title or None, title_justify="left", header_style="bold")
        rows = self.records if last is None else self.records[-last:]
        sample = self.records[0] if self.records else None
        has_val = sample is not None and sample.val_loss is not None
        names = list(sample.metrics) if sample else []
        table.add_column("epoch", justify="right")
        table.add_column("loss", justify="right")
        if has_val:
            table.add_column("val_loss", justify="right")
        for name in names:
            table.add_column(name, justify="right")
        table.add_column("lr", justify="right")
        table.add_column("seconds", justify="right")
        for r in rows:
            cells = [str(r.epoch) + (" *" if r.best else ""), fmt(r.loss)]
            if has_val:
                cells.append(fmt(r.val_loss))
            cells += [fmt(r.metrics.get(n)) for n in names]
            cells += [f"{r.lr:.3g}", f"{r.seconds:.2f}"]
            table.add_row(*cells)
        return table

    def _renderable(self) -> Group:
        height = max(self.console.size.height - 8, 5)
        return Group(self.table(last=height), self._progress)


def summary_text(s: dict[str, Any]) -> str:
    lines = [f"model: {s['model']}"]
    if s.get("best_epoch") is not None:
        monitor = "val_loss" if s.get("has_val") else "loss"
        lines.append(f"best epoch: {s['best_epoch']} ({monitor} {fmt(s['best_loss'])})")
    if s.get("final"):
        lines.append("final: " + ", ".join(f"{k} {fmt(v)}" for k, v in s["final"].items()))
    if s.get("note"):
        lines.append(s["note"])
    lines.append(f"time: {s['seconds']:.2f} s for {s['epochs']} epoch(s)")
    if s.get("saved"):
        lines.append(f"saved: {s['saved']}")
    return "\n".join(lines)


def curve(records: Sequence[EpochRecord], width: int = 60, height: int = 8) -> list[str]:
    """The loss curve as text: `o` train loss, `x` validation loss, `*` both."""
    if len(records) < 2:
        return []
    series = [[r.loss for r in records]]
    if records[0].val_loss is not None:
        series.append([r.val_loss for r in records])  # type: ignore[misc]
    values = [v for s in series for v in s if v is not None and math.isfinite(v)]
    if not values:
        return []
    log = min(values) > 0 and max(values) / min(values) > 50
    tr = (lambda v: math.log10(v)) if log else (lambda v: v)
    lo, hi = tr(min(values)), tr(max(values))
    span = (hi - lo) or 1.0
    n = len(records)
    cols = min(n, width)
    grid = [[" "] * cols for _ in range(height)]
    for mark, s in zip("ox", series, strict=False):
        for c in range(cols):
            v = s[min(n - 1, round(c * (n - 1) / max(cols - 1, 1)))]
            if v is None or not math.isfinite(v):
                continue
            row = height - 1 - round((tr(v) - lo) / span * (height - 1))
            grid[row][c] = "*" if grid[row][c] not in (" ", mark) else mark
    top, bottom = fmt(max(values)), fmt(min(values))
    label = max(len(top), len(bottom))
    lines = [f"loss curve ({'log scale, ' if log else ''}o train"
             + (", x val" if len(series) > 1 else "") + ")"]
    for i, row in enumerate(grid):
        tag = top if i == 0 else bottom if i == height - 1 else ""
        lines.append(f"{tag:>{label}} |{''.join(row)}")
    lines.append(" " * label + " +" + "-" * cols)
    right = f"epoch {n}"
    lines.append(" " * label + "  1" + " " * max(cols - 1 - len(right), 1) + right)
    return lines
