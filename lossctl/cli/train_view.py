"""Rendering a training run: the live per-epoch table, a progress bar, the summary, the curve.

On a terminal the table grows live on stdout. When stdout is not a terminal, stdout carries the
history as CSV (one line per epoch, flushed as it happens) and the human output goes to stderr:
live when stderr is a terminal, else printed once at the end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

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
        if len(self.records) > 1:
            self.console.print(self.curve(), markup=False, highlight=False)
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

    def curve(self) -> Text:
        """The loss panel of the training curves, as `lossctl plot` draws it."""
        from lossctl.plot.history import columns_of, history_figure
        from lossctl.plot.terminal import render

        figure = history_figure(columns_of([r.row() for r in self.records]), self.title)
        text = render(figure, self.console.width, color=self.console.is_terminal, panels=1)
        return Text.from_ansi(text.rstrip("\n"))

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
    if s.get("plotted"):
        lines.append(f"training curves: {s['plotted']}")
    return "\n".join(lines)
