"""Two models' losses on the same rows: each model's value, the difference B - A, its paired
bootstrap interval and a paired permutation test's p-value, per group too.

Both files are read once, side by side (`io` pairs their rows by position, or by a key column), and
each loss's per-row partial sums of A and of B are added per group and bootstrap bucket, as `compute
--by --ci` does: the rows of a bucket get the same Poisson weight in A and in B (a paired bootstrap).

The test is a paired permutation test (scipy's `permutation_test(permutation_type="samples")`): under
the null hypothesis that A's and B's values of each row are exchangeable, swapping them within any
rows gives a difference as likely as the one observed. Each of the N permutations swaps A and B in a
random half of the buckets (each row alone on small files); where both models' rows count the same
(every loss but a masked or class-weighted one with different targets), a swap flips the sign of
the row's difference: a sign-flip test. Two-sided: p = (1 + #{|d*| >= |d|}) / (1 + N), so the same
file twice gives a difference of 0 and a p-value of 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from lossctl.compute import Computation
from lossctl.errors import DataError, UsageError
from lossctl.evaluate.bootstrap import (
    BUCKETS,
    one_thread_product,
    percentile_interval,
    poisson_weights,
    replicate_values,
    weighted,
)
from lossctl.evaluate.groups import GroupSums, Key, added, sort_key
from lossctl.evaluate.plan import Plan
from lossctl.io.block import Block, Table
from lossctl.io.chunks import map_ahead
from lossctl.io.join import join_by_key, join_by_position
from lossctl.losses.reduction import Partial, finish, partial, row_partial
from lossctl.losses.registry import Loss
from lossctl.threads import worker_count

TIES = 1e-12  # relative: a permuted difference this close to the observed one counts as a tie


@dataclass(frozen=True)
class Compared:
    """One loss on one group (None: all rows) of the paired rows."""

    loss: Loss
    params: dict
    reduction: str
    group: Key | None
    a: float
    b: float
    diff: float
    ci: tuple[float, float]
    p_value: float
    rows: int


def swap_signs(seed: int, permutations: int) -> np.ndarray:
    """F[m, b] in {0, 1}: whether permutation m swaps A and B in bucket b."""
    flips = np.random.default_rng([seed, 1]).integers(0, 2, (permutations, BUCKETS))
    return flips.astype(np.float64)


def compared(loss: Loss, params: dict, reduction: str, plan: Plan, a: GroupSums, b: GroupSums,
             whole: tuple[Partial, Partial]) -> list[Compared]:
    """Each group's comparison in sorted key order (none without --by), then all rows' (whose
    values are finished from `whole`, A's and B's sums as `compute` adds them: its numbers)."""
    parts = [(a, b, a.order())] if plan.by else []
    parts.append((a.overall(), b.overall(), np.zeros(1, dtype=np.int64)))
    level = plan.level if plan.level is not None else 0.95
    out = []
    for sums_a, sums_b, order in parts:
        value_a = np.atleast_1d(finish(loss, sums_a.per_group(), reduction))
        value_b = np.atleast_1d(finish(loss, sums_b.per_group(), reduction))
        if sums_a is not a or not plan.by:
            value_a, value_b = (np.atleast_1d(finish(loss, w, reduction)) for w in whole)
        diff = value_b - value_a
        weights = poisson_weights(plan.seed, plan.replicates)
        boot = (replicate_values(loss, reduction, weighted(sums_b, weights))
                - replicate_values(loss, reduction, weighted(sums_a, weights)))
        low, high = percentile_interval(boot, level)
        p_value = _permutation_p(loss, reduction, sums_a.sums, sums_b.sums, diff,
                                 swap_signs(plan.seed, plan.replicates))
        rows = np.atleast_1d(sums_a.per_group().rows)
        for g in order:
            out.append(Compared(
                loss, params, reduction, sums_a.keys[g] if plan.by and sums_a is a else None,
                float(value_a[g]), float(value_b[g]), float(diff[g]), (float(low[g]), float(high[g])),
                float(p_value[g]), int(rows[g])))
    return out


def _permutation_p(loss: Loss, reduction: str, a: Partial, b: Partial, observed: np.ndarray,
                   flips: np.ndarray) -> np.ndarray:
    """The two-sided p-value of each group's difference (fields of `a`, `b`: groups x buckets)."""
    moved, kept_a, kept_b = {}, {}, {}
    names = added(a)
    for name in names:
        field_a, field_b = getattr(a, name), getattr(b, name)
        moved[name] = one_thread_product(field_b - field_a, flips.T)  # groups x permutations
        kept_a[name] = field_a.sum(axis=1, keepdims=True)
        kept_b[name] = field_b.sum(axis=1, keepdims=True)
    swapped_a = replace(a, **{n: kept_a[n] + moved[n] for n in names})
    swapped_b = replace(b, **{n: kept_b[n] - moved[n] for n in names})
    with np.errstate(invalid="ignore"):
        permuted = np.asarray(finish(loss, swapped_b, reduction)) - np.asarray(
            finish(loss, swapped_a, reduction))
        hits = np.abs(permuted) >= np.abs(observed)[:, None] * (1.0 - TIES)
    return (1.0 + hits.sum(axis=1)) / (1.0 + flips.shape[0])


class Comparison:
    """The losses of two prediction files of the same rows, paired by position or by `key`."""

    def __init__(self, a: Table, b: Table, losses: Sequence[tuple[Loss, Mapping[str, str]]],
                 reduction: str = "mean", specs: Mapping[str, str] | None = None,
                 plan: Plan | None = None, key: str | None = None, nan: str = "error") -> None:
        plan = plan or Plan()
        self.plan = plan if plan.level is not None else replace(plan, level=0.95)
        self.key, self.nan = key, nan
        self.a = Computation(a, losses, reduction, specs, nan=nan, plan=self.plan)
        self.b = Computation(b, losses, reduction, specs, nan=nan, plan=replace(self.plan, by=()))
        if key is not None:
            for table in (a, b):
                if key not in table.header:
                    raise UsageError(
                        f"--key: {table.name} has no column {key!r} (columns: {', '.join(table.header)})")

    def results(self) -> list[Compared]:
        """Every loss on every group (sorted by key values), then on all rows."""
        names_a, names_b = self.a.read_columns(), self.b.read_columns()
        jobs = self.a.jobs

        def block_sums(pair: tuple[Block, Block]) -> list[tuple[GroupSums, GroupSums]]:
            block_a, block_b = pair
            columns_a, values_a = self.a.block_values(block_a, names_a)
            columns_b, values_b = self.b.block_values(block_b, names_b)
            self._same_truth(block_a, block_b, columns_a, columns_b)
            index = self.plan.index(block_a, columns_a)
            return [(GroupSums.of_block(index, row_partial(job.loss, va)),
                     GroupSums.of_block(index, row_partial(job.loss, vb)),
                     partial(job.loss, va), partial(job.loss, vb))
                    for job, va, vb in zip(jobs, values_a, values_b, strict=True)]

        empty = GroupSums([], Partial())
        sums = [(empty, empty, Partial(), Partial()) for _ in jobs]
        pairs = self._by_key(names_a, names_b) if self.key else self._by_position(names_a, names_b)
        workers = worker_count() if self.a.table.large else 1
        for per_job in map_ahead(block_sums, pairs, workers):
            sums = [tuple(s + t for s, t in zip(mine, theirs, strict=True))
                    for mine, theirs in zip(sums, per_job, strict=True)]
            self.plan.check_size(len(sums[0][0].keys), self.a.table.name)
        out = []
        for job, (sums_a, sums_b, whole_a, whole_b) in zip(jobs, sums, strict=True):
            out.extend(compared(job.loss, job.params, job.reduction, self.plan, sums_a, sums_b,
                                (whole_a, whole_b)))
        groups = sorted((c for c in out if c.group is not None), key=lambda c: sort_key(c.group))
        return groups + [c for c in out if c.group is None]

    def _same_truth(self, block_a: Block, block_b: Block, columns_a: dict, columns_b: dict) -> None:
        """Paired rows hold the same y_true: else the files are not predictions of the same rows."""
        for job_a, job_b in zip(self.a.jobs, self.b.jobs, strict=True):
            for col_a, col_b in zip(job_a.columns.get("y_true", []), job_b.columns.get("y_true", []),
                                    strict=False):
                differ = columns_a[col_a] != columns_b[col_b]
                if differ.any():
                    i = int(np.argmax(differ))
                    raise DataError(
                        f"{self.a.table.name} {block_a.where} {block_a.line_of(i)} and {self.b.table.name} "
                        f"{block_b.where} {block_b.line_of(i)} hold different y_true "
                        f"({float(columns_a[col_a][i])!r} and {float(columns_b[col_b][i])!r}): the files "
                        "do not pair row by row"
                        + ("" if self.key else " (pair them by an id column with --key?)"))

    def _by_position(self, names_a: list[str], names_b: list[str]):
        a, b = self.a.table, self.b.table
        return join_by_position(a, b, names_a, names_b, self.nan, self.plan.by)

    def _by_key(self, names_a: list[str], names_b: list[str]):
        a, b = self.a.table, self.b.table
        return join_by_key(a, b, self.key, names_a, names_b, self.nan, self.plan.by, each_once=True)
