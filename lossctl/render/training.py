"""Rendering a training run: the live per-epoch table, a progress bar, the summary, the curve.

On a terminal the table grows live on stdout. When stdout is not a terminal, stdout carries the
history as CSV (one line per epoch, flushed as it happens) and the human output goes to stderr:
live when stderr is a terminal, else printed once at the end.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from lossctl.nn.train import EpochRecord, History

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


def history_csv(records: Sequence[EpochRecord]) -> str:
    """The history CSV (`--history`): a header line, then one line per epoch."""
    columns = list(records[0].row())
    lines = [",".join(columns)] + [history_csv_line([r.row().get(c, "") for c in columns]) for r in records]
    return "\n".join(lines) + "\n"


class TrainView:
    """Receives the run's events from the command and draws them."""

    def __init__(self, stdout_tty: bool, stderr_tty: bool, *, quiet: bool = False) -> None:
        self.stdout_tty = stdout_tty
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

    def finish(self, history: History, model: str, seconds: float, saved: str | None = None,
               plotted: str | None = None) -> None:
        """Stop the live display and print the table, the loss curve and the summary."""
        self.stop()
        if self.quiet:
            return
        self.console.print(self.table())
        if len(self.records) > 1:
            self.console.print(self.curve(), markup=False, highlight=False)
        self.console.print(summary_text(history, model, seconds, saved, plotted), markup=False)

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


def summary_text(history: History, model: str, seconds: float, saved: str | None = None,
                 plotted: str | None = None) -> str:
    """The lines under the table: the model, the best epoch, the last epoch's numbers, how training
    ended and whose weights the model kept, the time, and the files written."""
    lines = [f"model: {model}"]
    if history.best_epoch is not None:
        lines.append(f"best epoch: {history.best_epoch} ({history.monitor} {fmt(history.best_loss)})")
    if history.final:
        lines.append("final: " + ", ".join(f"{k} {fmt(v)}" for k, v in history.final.items()))
    last = history.records[-1].epoch if history.records else None
    notes = []
    if history.stopped_early:
        notes.append(f"stopped early after epoch {last}")
    if history.interrupted:
        notes.append("interrupted (Ctrl-C)")
    if history.weights_epoch is not None and (history.interrupted or history.weights_epoch != last):
        notes.append(f"weights of epoch {history.weights_epoch} restored")
    if notes:
        lines.append("; ".join(notes))
    lines.append(f"time: {seconds:.2f} s for {len(history.records)} epoch(s)")
    if saved:
        lines.append(f"saved: {saved}")
    if plotted:
        lines.append(f"training curves: {plotted}")
    return "\n".join(lines)
