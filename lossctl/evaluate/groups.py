"""Partial sums per group of key values (and per bootstrap bucket), streamed block by block.

A block's key columns become group codes (`BlockIndex`); each loss's `row_partial` is added up per
code with `np.bincount`. `GroupSums` holds the keys of its own groups, and adding two merges them by
key: blocks (or Dask partitions) add in any grouping, here in file order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from lossctl.io.block import Codes
from lossctl.losses.reduction import Partial

Key = tuple  # one group's values of the --by columns; () when there are none
SUMS = ("total", "elements", "rows", "weight", "kept", "mean_total")  # the Partial fields that add


def added(part: Partial) -> list[str]:
    """The fields of `part` that are sums (`mean_total` only where the loss sets it)."""
    return [name for name in SUMS if getattr(part, name) is not None]


@dataclass(frozen=True)
class BlockIndex:
    """Where each row of a block adds: `slot` = group code x buckets + bucket, in `size` slots."""

    keys: list[Key]
    slot: np.ndarray
    buckets: int
    counts: np.ndarray  # rows per slot

    @property
    def size(self) -> int:
        return len(self.keys) * self.buckets

    @classmethod
    def of(cls, keys: list[Key], codes: np.ndarray, bucket: np.ndarray | None, buckets: int) -> BlockIndex:
        slot = codes * buckets + bucket if bucket is not None else codes
        return cls(keys, slot, buckets, np.bincount(slot, minlength=len(keys) * buckets))


def block_index(key_columns: Sequence[np.ndarray], bucket: np.ndarray | None, buckets: int) -> BlockIndex:
    """Group codes of a block's rows from its --by columns, combined with each row's bootstrap
    bucket when there is one."""
    keys, codes = group_codes(key_columns, len(bucket) if bucket is not None else None)
    return BlockIndex.of(keys, codes, bucket, buckets)


def group_codes(
    key_columns: Sequence[np.ndarray | Codes], rows: int | None = None
) -> tuple[list[Key], np.ndarray]:
    """The distinct key values of a block's rows and each row's index into them; `rows` for a block
    without key columns. A `Codes` column (the reader's --by columns) is grouped by its integer
    codes; an array by hashing, not sorting (pandas' factorize, values in first-seen order)."""
    codes = np.zeros(rows if rows is not None else len(key_columns[0]), dtype=np.int64)
    values: list[np.ndarray] = []  # per key column, the value of each group
    for column in key_columns:
        local, uniques = _factorized(column)
        if not values:
            codes, values = local, [uniques]
            continue
        import pandas as pd

        codes, combined = pd.factorize(codes * len(uniques) + local, use_na_sentinel=False)
        combined = np.asarray(combined)
        values = [v[combined // len(uniques)] for v in values] + [uniques[combined % len(uniques)]]
    keys = list(zip(*(v.tolist() for v in values), strict=True)) if values else [()]
    return keys, codes


def _factorized(column: np.ndarray | Codes) -> tuple[np.ndarray, np.ndarray]:
    """A key column's codes (from 0) and its distinct values: those of `Codes` with a row (rows may
    have been dropped), else pandas' factorize."""
    if isinstance(column, Codes):
        column = column.compact()
        return column.codes, column.words
    import pandas as pd

    # pandas' default (a missing value coded -1) is twice as fast as use_na_sentinel=False;
    # the reader gives no missing key, but a caller's NaN still makes a group of its own
    local, uniques = pd.factorize(column)
    if len(local) and local.min() < 0:
        local, uniques = pd.factorize(column, use_na_sentinel=False)
    return local, np.asarray(uniques)


@dataclass
class GroupSums:
    """One `Partial` per group and bucket: fields of shape (groups, buckets), groups in `keys`."""

    keys: list[Key]
    sums: Partial
    _where: dict[Key, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self._where:
            self._where = {key: i for i, key in enumerate(self.keys)}

    @classmethod
    def of_block(cls, index: BlockIndex, rows: Partial) -> GroupSums:
        """Add up each row's partial sums (`row_partial`) by group and bucket."""
        shape = (len(index.keys), index.buckets)
        sums = {}
        for name in added(rows):
            value = getattr(rows, name)
            if isinstance(value, np.ndarray):
                summed = np.bincount(index.slot, weights=value, minlength=index.size)
            else:  # every row has the same value
                summed = index.counts * value
            sums[name] = summed.reshape(shape)
        return cls(list(index.keys), replace(rows, **sums))

    def __add__(self, other: GroupSums) -> GroupSums:
        if not self.keys:
            return other
        new = [key for key in other.keys if key not in self._where]
        keys = self.keys + new
        where = dict(self._where) | {key: len(self.keys) + i for i, key in enumerate(new)}
        into = np.fromiter((where[key] for key in other.keys), dtype=np.int64, count=len(other.keys))
        sums = {}
        for name in added(self.sums):
            mine, theirs = getattr(self.sums, name), getattr(other.sums, name)
            grown = np.zeros((len(keys), mine.shape[1]), dtype=np.result_type(mine, theirs))
            grown[: len(self.keys)] = mine
            grown[into] += theirs
            sums[name] = grown
        flags = {"weighted": self.sums.weighted and other.sums.weighted,
                 "masked": self.sums.masked and other.sums.masked}
        return GroupSums(keys, replace(self.sums, **sums, **flags), where)

    def order(self) -> np.ndarray:
        """The groups' positions in the order of their sorted key values (numbers by value, before
        other text)."""
        return sorted_order(self.keys)


    def per_group(self) -> Partial:
        """Each group's partial sums (its buckets added): fields of shape (groups,)."""
        return replace(self.sums, **{name: getattr(self.sums, name).sum(axis=1) for name in added(self.sums)})

    def overall(self) -> GroupSums:
        """All groups as one, per bucket."""
        return GroupSums([()], replace(self.sums, **{
            name: getattr(self.sums, name).sum(axis=0, keepdims=True) for name in added(self.sums)}))


def sorted_order(keys: Sequence[Key]) -> np.ndarray:
    """The positions of `keys` in the order of their sorted values (`sort_key`)."""
    return np.array(sorted(range(len(keys)), key=lambda i: sort_key(keys[i])), dtype=np.int64)


def sort_key(key: Key) -> tuple:
    """A group's key as it sorts: each value as a number where it reads as one, else as text."""
    out = []
    for value in key:
        try:
            out.append((0, float(value), ""))
        except ValueError:
            out.append((1, 0.0, value))
    return tuple(out)
