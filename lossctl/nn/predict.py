"""Predicting an input block by block (`predict` and `evaluate` stream: memory stays bounded),
and what `predict` writes for a block of rows: its columns, for the one writer (`io.writer`).

Regression: `y_pred` (and `y_true`). Classification: `y_pred` (the predicted class as written
in the training data), `p_0 .. p_{k-1}` (the class probabilities), and, with the target column,
`label_true` (the label as written) and `y_true` (its class index, in the order of the `p_`
columns).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

import numpy as np

from lossctl.io.block import Block, Table
from lossctl.io.writer import Cells, Column, csv_cell, csv_layout, write_rows
from lossctl.nn import targets
from lossctl.nn.blas import blas_threads, train_threads
from lossctl.nn.data import Rows, finite_rows
from lossctl.nn.modelfile import SavedModel
from lossctl.nn.train import PREDICT_BATCH, predict_raw, workers_for

Predicted = tuple  # network outputs, targets when labelled (and the --by columns' cells)


def predicted_blocks(
    saved: SavedModel, table: Table, by: Sequence[str] = (), nan: str = "error",
) -> tuple[bool, Iterator[Predicted]]:
    """(whether `table` has the target column, each block's (network outputs, targets or None)),
    and, when `by` names columns (evaluate --by), a third item: those columns' text cells. Rows
    with an infinite number are an error, or (nan="drop") dropped (`data.finite_rows`).

    The first block is read before this returns, so a bad input fails before anything is written.
    Rows are predicted in batches of PREDICT_BATCH counted from the first row, whatever blocks the
    reader gives (a float32 product's last bit can depend on its batch's size): the same numbers as
    predicting the whole file at once. Batches are shared among threads on the cores, as in training.
    """
    numeric, text, labelled = saved.prep.request(table.name, table.header)
    blocks = table.blocks(numeric, list(dict.fromkeys([*text, *by])))
    first = next(blocks)
    target = saved.prep.target if labelled and saved.prep.task == "regression" else None

    def predicted() -> Iterator[Predicted]:
        threads = train_threads()
        with blas_threads(threads), workers_for(saved.model, threads) as workers:
            for block in _whole_batches(itertools.chain([first], blocks)):
                rows = finite_rows(Rows(table.name, block, numeric), nan, target)
                out = predict_raw(saved.model, saved.prep.inputs(rows), workers)
                y = saved.prep.targets(rows) if labelled else None
                yield (out, y, [rows.block.text[c] for c in by]) if by else (out, y)

    return labelled, predicted()


def _whole_batches(blocks: Iterable[Block]) -> Iterator[Block]:
    """The rows of `blocks` again, in blocks of a multiple of PREDICT_BATCH rows (the last one of
    what is left)."""
    carry: Block | None = None
    for block in blocks:
        if carry is not None:
            block = Block.concat([carry, block])
        cut = len(block) - len(block) % PREDICT_BATCH
        if cut:
            yield block.take(slice(0, cut))
        carry = block.take(slice(cut, None)) if cut < len(block) else None
    if carry is not None:
        yield carry


def write_predictions(
    stream: BinaryIO, saved: SavedModel, blocks: Iterable[Predicted],
    labelled: bool, workers: int = 1,
) -> None:
    """The header line, then the rows of each block of (network outputs, targets or None)."""
    header = prediction_header(saved, labelled)
    write_rows(stream, (prediction_columns(saved, out, y) for out, y in blocks), csv_layout(len(header)),
               head=",".join(header) + "\n", workers=workers)


def prediction_header(saved: SavedModel, labelled: bool) -> list[str]:
    prep = saved.prep
    if prep.task == "regression":
        return ["y_pred"] + (["y_true"] if labelled else [])
    return (["y_pred"] + [f"p_{j}" for j in range(len(prep.classes))]
            + (["label_true", "y_true"] if labelled else []))


def prediction_columns(saved: SavedModel, out: np.ndarray, y: np.ndarray | None) -> list[Column]:
    """The columns of `prediction_header` for network outputs `out` and targets `y` (None when
    the data has no target column)."""
    prep = saved.prep
    if prep.task == "regression":
        return [out[:, 0]] + ([y] if y is not None else [])
    act = saved.model.output_activation.name
    probs = targets.probabilities(out, act)
    labels = [csv_cell(c) for c in prep.classes]
    columns: list[Column] = [Cells(labels, targets.predicted_index(out, act))]
    columns += [probs[:, j] for j in range(probs.shape[1])]
    if y is not None:
        columns += [Cells(labels, y), y]
    return columns
