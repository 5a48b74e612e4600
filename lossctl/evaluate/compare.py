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

from lossctl.compute import Computation, take_rows
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
from lossctl.evaluate.tallies import MIX_BUDGET, GroupTallies, Tallied, analytic
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
    method: str = "bootstrap"  # of the interval and test: "bootstrap" (and permutation), "delong"


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


def compared_tallies(loss: Loss, params: dict, reduction: str, plan: Plan, a: GroupTallies,
                     b: GroupTallies, paired: GroupTallies | None) -> list[Compared]:
    """`compared` of a tallied metric: each group's comparison in sorted key order (none without
    --by), then all rows'. The interval and test are the metric's paired test where it has one
    (DeLong's for ROC AUC, from `paired`), else the paired bootstrap and the permutation test, the
    buckets of A and B mixed and swapped (`Tally.mix`)."""
    metric = loss.tally
    assert metric is not None
    level = plan.level if plan.level is not None else 0.95
    keys: list[Key | None] = sorted(a.groups, key=sort_key) if plan.by else []
    out = []
    for key in [*keys, None]:
        ta = a.groups[key] if key is not None else a.overall()
        tb = b.groups[key] if key is not None else b.overall()
        strict = key is None
        value_a, value_b = (_one_value(loss, metric.values(t.total().tally, params, strict)[0])
                            for t in (ta, tb))
        rows = int(ta.rows.sum())
        test = metric.paired if analytic(loss, params, plan.ci_method, False) is not None else None
        if test is not None and paired is not None:
            tp = paired.groups[key] if key is not None else paired.overall()
            _, _, diff, ci, p_value = test.test(tp.tally, params, level)
            out.append(Compared(loss, params, reduction, key, value_a, value_b, value_b - value_a,
                                (float(ci[0]), float(ci[1])), float(p_value), rows, test.method))
            continue
        weights = poisson_weights(plan.seed, plan.replicates)
        boot = _mixed(metric, params, tb, weights) - _mixed(metric, params, ta, weights)
        boot[(weights @ ta.rows) == 0] = np.nan
        low, high = percentile_interval(boot[None, :], level)
        flips = swap_signs(plan.seed, plan.replicates)
        swapped_a = _mixed(metric, params, ta, 1.0 - flips, tb, flips)
        swapped_b = _mixed(metric, params, tb, 1.0 - flips, ta, flips)
        diff = value_b - value_a
        with np.errstate(invalid="ignore"):
            hits = np.abs(swapped_b - swapped_a) >= abs(diff) * (1.0 - TIES)
        p_value = (1.0 + hits.sum()) / (1.0 + flips.shape[0])
        out.append(Compared(loss, params, reduction, key, value_a, value_b, diff,
                            (float(low[0]), float(high[0])), float(p_value), rows))
    return out


def _one_value(loss: Loss, value: np.ndarray) -> float:
    if np.ndim(value) and np.size(value) != 1:
        raise UsageError(f"compare takes one value of {loss.qualified_name}, and its parameters give one per "
                         "class or output (average=none?): ask for an average")
    return float(np.reshape(value, -1)[0])


def _mixed(metric, params: dict, first: Tallied, weights: np.ndarray, second: Tallied | None = None,
           second_weights: np.ndarray | None = None) -> np.ndarray:
    """The metric of each replicate r: first's buckets weighed by weights[r] (plus second's by
    second_weights[r]), in chunks of replicates that keep a mix within MIX_BUDGET numbers."""
    size = first.tally.size + (second.tally.size if second is not None else 0)
    step = max(1, MIX_BUDGET // max(1, size))
    values = []
    for i in range(0, weights.shape[0], step):
        tally = first.tally.mix(weights[i:i + step])
        if second is not None and second_weights is not None:
            tally = tally + second.tally.mix(second_weights[i:i + step])
        values.append(np.reshape(metric.values(tally, params, False), (tally.slots, -1))[:, 0])
    return np.concatenate(values)


class Comparison:
    """The losses of two prediction files of the same rows, paired by position or by `key`."""

    def __init__(self, a: Table, b: Table, losses: Sequence[tuple[Loss, Mapping[str, str]]],
                 reduction: str | None = None, specs: Mapping[str, str] | None = None,
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
            out: list[tuple] = []
            for job, job_b, va, vb in zip(jobs, self.b.jobs, values_a, values_b, strict=True):
                if job.loss.tally is not None:
                    out.append(self._tallies(job, job_b, index, block_a, block_b, columns_a, columns_b))
                    continue
                out.append((GroupSums.of_block(index, row_partial(job.loss, va)),
                            GroupSums.of_block(index, row_partial(job.loss, vb)),
                            partial(job.loss, va), partial(job.loss, vb)))
            return out

        empty = GroupSums([], Partial())
        sums: list[tuple] = [(GroupTallies(), GroupTallies(), GroupTallies()) if job.loss.tally is not None
                             else (empty, empty, Partial(), Partial()) for job in jobs]
        pairs = self._by_key(names_a, names_b) if self.key else self._by_position(names_a, names_b)
        workers = worker_count() if self.a.table.large else 1
        for per_job in map_ahead(block_sums, pairs, workers):
            sums = [tuple(s + t for s, t in zip(mine, theirs, strict=True))
                    for mine, theirs in zip(sums, per_job, strict=True)]
            first = sums[0][0]
            self.plan.check_size(len(first.groups if isinstance(first, GroupTallies) else first.keys),
                                 self.a.table.name)
        out = []
        for job, job_sums in zip(jobs, sums, strict=True):
            if job.loss.tally is not None:
                tallies_a, tallies_b, paired = job_sums
                if not tallies_a.groups:
                    raise DataError(f"{self.a.table.name}: no rows to compare {job.loss.qualified_name} on")
                out.extend(compared_tallies(job.loss, job.params, job.reduction, self.plan, tallies_a,
                                            tallies_b, paired if paired.groups else None))
                continue
            sums_a, sums_b, whole_a, whole_b = job_sums
            out.extend(compared(job.loss, job.params, job.reduction, self.plan, sums_a, sums_b,
                                (whole_a, whole_b)))
        groups = sorted((c for c in out if c.group is not None), key=lambda c: sort_key(c.group))
        return groups + [c for c in out if c.group is None]

    def _tallies(self, job_a, job_b, index, block_a: Block, block_b: Block, columns_a: dict,
                 columns_b: dict) -> tuple[GroupTallies, GroupTallies, GroupTallies]:
        """A block's tallies of A and of B per group and bucket, and of the paired test (DeLong's)
        where the metric has one: a tally of both models' scores of the same rows."""
        inputs_a = self.a.tally_inputs(job_a, columns_a, block_a)
        inputs_b = self.b.tally_inputs(job_b, columns_b, block_b)

        def tally_of(computation: Computation, job, inputs: dict, block: Block):
            def of(rows, slot, slots):
                return computation._tally(job, inputs, None, rows, slot, slots, block, None)
            return of

        tallies = (GroupTallies.of_block(index, tally_of(self.a, job_a, inputs_a, block_a)),
                   GroupTallies.of_block(index, tally_of(self.b, job_b, inputs_b, block_b)))
        test = job_a.loss.tally.paired
        if test is None or analytic(job_a.loss, job_a.params, self.plan.ci_method, False) is None:
            return (*tallies, GroupTallies())

        def paired_of(rows, slot, slots):
            return test.tally(take_rows(inputs_a, rows), take_rows(inputs_b, rows), job_a.params, None)

        return (*tallies, GroupTallies.of_block(index, paired_of))

    def _same_truth(self, block_a: Block, block_b: Block, columns_a: dict, columns_b: dict) -> None:
        """Paired rows hold the same y_true: else the files are not predictions of the same rows."""
        for job_a, job_b in zip(self.a.jobs, self.b.jobs, strict=True):
            for col_a, col_b in zip(job_a.columns.get("y_true", []), job_b.columns.get("y_true", []),
                                    strict=False):
                cells_a, cells_b = _cells(columns_a, col_a), _cells(columns_b, col_b)
                differ = cells_a != cells_b
                if differ.any():
                    i = int(np.argmax(differ))
                    raise DataError(
                        f"{self.a.table.name} {block_a.where} {block_a.line_of(i)} and {self.b.table.name} "
                        f"{block_b.where} {block_b.line_of(i)} hold different y_true "
                        f"({_shown(cells_a[i])} and {_shown(cells_b[i])}): the files "
                        "do not pair row by row"
                        + ("" if self.key else " (pair them by an id column with --key?)"))

    def _text_columns(self) -> tuple[list[str], list[str]]:
        """The text columns A and B are read with: --by, and the labels of tallied metrics."""
        return (list(dict.fromkeys([*self.plan.by, *self.a.cell_columns()])), self.b.cell_columns())

    def _by_position(self, names_a: list[str], names_b: list[str]):
        a, b = self.a.table, self.b.table
        text_a, text_b = self._text_columns()
        return join_by_position(a, b, names_a, names_b, self.nan, text_a, text_b)

    def _by_key(self, names_a: list[str], names_b: list[str]):
        a, b = self.a.table, self.b.table
        text_a, text_b = self._text_columns()
        return join_by_key(a, b, self.key, names_a, names_b, self.nan, text_a, each_once=True,
                           right_text=text_b)


def _cells(columns: dict, name: str) -> np.ndarray:
    """A y_true column's cells: its numbers, or, read as labels, its text."""
    if name in columns and isinstance(columns[name], np.ndarray) and columns[name].dtype.kind == "f":
        return columns[name]
    cells = columns.get(f"cells:{name}", columns.get(name))
    return cells.cells() if hasattr(cells, "cells") else np.asarray(cells)


def _shown(cell) -> str:
    return repr(float(cell)) if isinstance(cell, (float, np.floating)) else repr(str(cell))
