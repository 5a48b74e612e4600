"""What `--by`, `--ci`, `--bootstrap` and `--seed` ask for, checked once, and the numbers they give."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lossctl.errors import DataError, UsageError
from lossctl.evaluate.bootstrap import (
    BUCKETS,
    MAX_SLOTS,
    buckets_of,
    check_level,
    check_replicates,
    percentile_interval,
    poisson_weights,
    replicate_values,
    weighted,
)
from lossctl.evaluate.groups import BlockIndex, GroupSums, Key, group_codes
from lossctl.io.block import Block
from lossctl.losses.reduction import finish
from lossctl.losses.registry import Loss


@dataclass(frozen=True)
class Estimate:
    """One group's (or, with `key` None, all rows') value, rows, and interval when asked for."""

    key: Key | None
    value: float
    rows: int
    ci: tuple[float, float] | None = None


@dataclass(frozen=True)
class Plan:
    by: tuple[str, ...] = ()
    level: float | None = None  # --ci
    replicates: int = 1000  # --bootstrap
    seed: int = 0
    ci_method: str = "auto"  # of a tallied metric: auto (its own interval where it has one), bootstrap

    def __post_init__(self) -> None:
        if self.level is not None:
            check_level(self.level)
        check_replicates(self.replicates)
        if self.seed < 0:
            raise UsageError(f"--seed takes a number from 0 up, got {self.seed}")

    @property
    def active(self) -> bool:
        return bool(self.by) or self.level is not None

    @property
    def buckets(self) -> int:
        return BUCKETS if self.level is not None else 1

    def check(self, losses: Sequence[Loss], header: Sequence[str], name: str, reduction: str) -> None:
        """Usage errors: a --by column not in the file, a loss or reduction that has no rows to add."""
        if not self.active:
            return
        for column in self.by:
            if column not in header:
                raise UsageError(f"--by: {name} has no column {column!r} (columns: {', '.join(header)})")
        if reduction == "none":
            raise UsageError("--by and --ci reduce rows: they take a reduction other than none")
        for loss in losses:
            if loss.batchwise:
                raise UsageError(f"{loss.qualified_name}: {_no_partial_sums(loss)}")

    def index(self, block: Block, columns: Mapping[str, np.ndarray]) -> BlockIndex:
        """The block's group codes (and bootstrap buckets), shared by every loss of the block. A
        row's bucket follows from its line and its file (the part's name, when there are several)."""
        bucket = None
        if self.level is not None:
            bucket = buckets_of(block.lines, self.seed + zlib.crc32(block.source.encode()))
        # the cells as read (text, or Codes), even of a column a loss reads as numbers (--by y_true)
        keys, codes = group_codes([block.text.get(c, columns[c]) for c in self.by], len(block))
        self.check_size(len(keys), block.source)
        return BlockIndex.of(keys, codes, bucket, self.buckets)

    def check_size(self, groups: int, name: str) -> None:
        """With --ci, a DataError past MAX_SLOTS partial sums (groups x buckets)."""
        if self.level is not None and groups * BUCKETS > MAX_SLOTS:
            raise DataError(
                f"{name}: --ci keeps {BUCKETS} partial sums per group and {groups} groups "
                f"are more than {MAX_SLOTS // BUCKETS}: group by fewer values"
            )

    def estimates(self, loss: Loss, reduction: str, sums: GroupSums) -> list[Estimate]:
        """Each group's value in sorted key order (none without --by), then all rows'."""
        parts = [(sums, sums.order())] if self.by else []
        parts.append((sums.overall(), np.zeros(1, dtype=np.int64)))
        out = []
        for part, order in parts:
            per_group = part.per_group()
            values = np.atleast_1d(finish(loss, per_group, reduction))
            rows = np.atleast_1d(per_group.rows)
            low = high = None
            if self.level is not None:
                weights = poisson_weights(self.seed, self.replicates)
                low, high = percentile_interval(
                    replicate_values(loss, reduction, weighted(part, weights)), self.level)
            for g in order:
                out.append(Estimate(
                    part.keys[g] if self.by and part is sums else None, float(values[g]), int(rows[g]),
                    None if low is None else (float(low[g]), float(high[g])),
                ))
        return out


def _no_partial_sums(loss: Loss) -> str:
    """Why --by, --ci and compare cannot take a loss computed from the whole batch."""
    take = "--by, --ci and compare take means of per-row terms, added up block by block"
    if loss.no_rows:
        return f"{loss.no_rows}, so it has no per-group sums to add and no rows to resample: {take}"
    if loss.metric is not None:
        return (f"its value is scikit-learn's function of the whole batch, not partial sums: {take} "
                "(mse, mae, log_loss... of the keras or torch family give the same means)")
    return (f"it is not a mean of per-row terms (its value depends on the whole batch at once), so it "
            f"has no per-group sums to add and no rows to resample: {take}")
