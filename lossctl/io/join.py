"""Reading two tables side by side: row i of one with row i of the other (`--labels`, and the
comparison of two prediction files), or the rows of one with the rows of the other that have the
same key (`--labels FILE --on COL`).

By position, both are read block by block in bounded memory; the second is cut to the first's
block sizes. A row with a missing cell in either is dropped from both under `--nan drop`, so the
rows stay paired.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from lossctl.errors import DataError
from lossctl.io.block import Block, NanPolicy, Table


def join_by_position(
    left: Table,
    right: Table,
    left_numeric: Sequence[str] = (),
    right_numeric: Sequence[str] = (),
    nan: NanPolicy = "error",
    left_text: Sequence[str] = (),
    right_text: Sequence[str] = (),
) -> Iterator[tuple[Block, Block]]:
    """Pairs of blocks with the same number of rows, row i of `left` beside row i of `right`;
    a DataError if one table has more rows than the other."""
    read = "keep" if nan == "drop" else nan
    rights = _Rows(right.blocks(right_numeric, right_text, nan=read))
    kept = False
    for block in left.blocks(left_numeric, left_text, nan=read):
        other = rights.take(block, left.name, right.name)
        block, other = _both_kept(block, other, nan)
        if len(block):
            kept = True
            yield block, other
    rights.expect_end(left.name, right.name)
    if not kept:
        raise DataError(f"{left.name}: no rows left after dropping rows with missing cells")


def _both_kept(block: Block, other: Block, nan: NanPolicy) -> tuple[Block, Block]:
    """A pair of blocks without the rows where either has a missing cell, under --nan drop."""
    if nan == "drop":
        missing = block.missing() | other.missing()
        if missing.any():
            return block.take(~missing), other.take(~missing)
    return block, other


class _Rows:
    """Hands out a table's rows in the block sizes asked for."""

    def __init__(self, blocks: Iterator[Block]) -> None:
        self._blocks = blocks
        self._held: list[Block] = []
        self._have = 0

    def take(self, main_block: Block, main: str, other: str) -> Block:
        """As many rows as `main_block` has; a DataError naming its first row without a partner."""
        n = len(main_block)
        while self._have < n:
            block = next(self._blocks, None)
            if block is None:
                raise DataError(f"{other} has fewer rows than {main}: {main} {main_block.where} "
                                f"{main_block.line_of(self._have)} is the first without a partner")
            self._held.append(block)
            self._have += len(block)
        whole = self._held[0] if len(self._held) == 1 else Block.concat(self._held)
        rest = whole.take(np.arange(n, len(whole)))
        self._held, self._have = ([rest] if len(rest) else []), len(rest)
        return whole.take(np.arange(n)) if len(whole) != n else whole

    def expect_end(self, main: str, other: str) -> None:
        extra = self._held[0] if self._have else next(self._blocks, None)
        if extra is not None:
            raise DataError(f"{other} has more rows than {main}: {other} {extra.where} "
                            f"{extra.line_of(0)} is the first without a partner")



def join_by_key(
    left: Table,
    right: Table,
    key: str,
    left_numeric: Sequence[str] = (),
    right_numeric: Sequence[str] = (),
    nan: NanPolicy = "error",
    left_text: Sequence[str] = (),
    each_once: bool = False,
    right_text: Sequence[str] = (),
) -> Iterator[tuple[Block, Block]]:
    """Pairs of blocks with the same number of rows: each row of `left` beside the row of `right`
    with the same `key` cell (compared as text, spaces around it ignored). `right` is read whole
    (its key and columns; memory as its size), `left` block by block. A key of `left` missing from
    `right`, or a key twice in `right`, is a DataError naming the file, line and key. `each_once`
    (two files of the same rows, as `compare` pairs them): a key twice in `left`, or a row of `right`
    whose key `left` lacks, is one too."""
    for table in (left, right):
        if key not in table.header:
            raise DataError(f"{table.name}: has no key column {key!r} (columns: {', '.join(table.header)})")
    read = "keep" if nan == "drop" else nan
    right_words = list(dict.fromkeys([key, *right_text]))
    whole = _keyed(Block.concat(list(right.blocks(right_numeric, right_words, nan=read))), key, nan)
    keys = whole.text[key].astype(str)
    order = np.argsort(keys, kind="stable")
    known = keys[order]
    twice = np.flatnonzero(known[1:] == known[:-1])
    if len(twice):
        row = int(order[twice[0] + 1])
        raise DataError(f"{whole.source_of(row)}: {whole.where} {whole.line_of(row)}, column {key}: "
                        f"key {str(known[twice[0]])!r} appears twice")
    kept = False
    paired = np.zeros(len(known), dtype=bool)  # each_once: the rows of `right` (sorted) paired so far
    for block in left.blocks(left_numeric, list(dict.fromkeys([*left_text, key])), nan=read):
        block = _keyed(block, key, nan)
        wanted = block.text[key].astype(str)
        at = np.minimum(np.searchsorted(known, wanted), len(known) - 1)
        found = known[at] == wanted
        if not found.all():
            row = int(np.argmax(~found))
            raise DataError(f"{block.source_of(row)}: {block.where} {block.line_of(row)}, column {key}: "
                            f"key {str(wanted[row])!r} is not in {right.name}")
        if each_once:
            again = paired[at] | _repeated(at)
            if again.any():
                row = int(np.argmax(again))
                raise DataError(f"{block.source_of(row)}: {block.where} {block.line_of(row)}, column {key}: "
                                f"key {str(wanted[row])!r} appears twice")
            paired[at] = True
        other = whole.take(order[at])
        block, other = _both_kept(block, other, nan)
        if len(block):
            kept = True
            yield block, other
    if each_once and not paired.all():
        row = int(order[~paired].min())  # the first in file order
        raise DataError(f"{whole.source_of(row)}: {whole.where} {whole.line_of(row)}, column {key}: "
                        f"key {str(keys[row])!r} is not in {left.name}")
    if not kept:
        raise DataError(f"{left.name}: no rows left after dropping rows with missing cells")


def _repeated(values: np.ndarray) -> np.ndarray:
    """Which entries equal an earlier one."""
    order = np.argsort(values, kind="stable")
    repeated = np.zeros(len(values), dtype=bool)
    repeated[order[1:]] = values[order[1:]] == values[order[:-1]]
    return repeated


def _keyed(block: Block, key: str, nan: NanPolicy) -> Block:
    """`block` without the rows whose key is missing, under --nan drop (else they have a key)."""
    if nan != "drop":
        return block
    from lossctl.io.cells import MISSING

    missing = np.array([cell.lower() in MISSING for cell in block.text[key]], dtype=bool)
    return block.take(~missing) if missing.any() else block
