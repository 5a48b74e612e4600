"""Reading two tables side by side: row i of one with row i of the other (`--labels`, and the
comparison of two prediction files).

Both are read block by block in bounded memory; the second is cut to the first's block sizes. A
row with a missing cell in either is dropped from both under `--nan drop`, so the rows stay paired.
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
        other = rights.take(len(block), left.name, right.name)
        if nan == "drop":
            missing = block.missing() | other.missing()
            if missing.any():
                block, other = block.take(~missing), other.take(~missing)
        if len(block):
            kept = True
            yield block, other
    rights.expect_end(left.name, right.name)
    if not kept:
        raise DataError(f"{left.name}: no rows left after dropping rows with missing cells")


class _Rows:
    """Hands out a table's rows in the block sizes asked for."""

    def __init__(self, blocks: Iterator[Block]) -> None:
        self._blocks = blocks
        self._held: list[Block] = []
        self._have = 0

    def take(self, n: int, main: str, other: str) -> Block:
        while self._have < n:
            block = next(self._blocks, None)
            if block is None:
                raise DataError(f"{other} has fewer rows than {main}")
            self._held.append(block)
            self._have += len(block)
        whole = self._held[0] if len(self._held) == 1 else Block.concat(self._held)
        rest = whole.take(np.arange(n, len(whole)))
        self._held, self._have = ([rest] if len(rest) else []), len(rest)
        return whole.take(np.arange(n)) if len(whole) != n else whole

    def expect_end(self, main: str, other: str) -> None:
        if self._have or next(self._blocks, None) is not None:
            raise DataError(f"{other} has more rows than {main}")
