"""Tallied metrics (`Loss.tally`) per group and bootstrap bucket, and their values and intervals.

A block's rows are tallied once per group (`GroupTallies.of_block`), each group's tally with one
slot per bootstrap bucket; tallies of the same group add across blocks, threads and Dask
partitions. A bootstrap replicate is the tally mixed by the replicates' Poisson weights of the
buckets (`Tally.mix`), finished like the overall one; a metric with an analytic interval (DeLong's
for ROC AUC) takes it instead where `--ci-method` allows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossctl.errors import UsageError
from lossctl.evaluate.bootstrap import percentile_interval, poisson_weights
from lossctl.evaluate.groups import BlockIndex, Key
from lossctl.losses.registry import Loss
from lossctl.losses.tally import Tally, TallyMetric

CI_METHODS = ("auto", "bootstrap", "delong")
MIX_BUDGET = 1 << 24  # numbers one mix of bootstrap replicates may hold (128 MiB of float64)


@dataclass
class Tallied:
    """A tally and the number of rows in each of its slots."""

    tally: Tally
    rows: np.ndarray  # (slots,)

    def __add__(self, other: Tallied) -> Tallied:
        return Tallied(self.tally + other.tally, self.rows + other.rows)

    def total(self) -> Tallied:
        return self if self.tally.slots == 1 else Tallied(self.tally.total(), self.rows.sum(keepdims=True))


# A tally of some rows of a block: (the rows, None for all; each one's slot, None for 0; slots).
TallyOf = Callable[[np.ndarray | None, np.ndarray | None, int], Tally]


@dataclass
class GroupTallies:
    """One `Tallied` per group of key values, each with a slot per bootstrap bucket."""

    groups: dict[Key, Tallied] = field(default_factory=dict)

    @classmethod
    def of_block(cls, index: BlockIndex, tally_of: TallyOf) -> GroupTallies:
        code, bucket = np.divmod(index.slot, index.buckets)
        buckets = index.buckets
        if len(index.keys) == 1:
            return cls({index.keys[0]: Tallied(tally_of(None, bucket, buckets),
                                               np.bincount(bucket, minlength=buckets))})
        order = np.argsort(code, kind="stable")
        starts = np.searchsorted(code[order], np.arange(len(index.keys) + 1))
        groups = {}
        for g, key in enumerate(index.keys):
            rows = order[starts[g]:starts[g + 1]]
            if len(rows):
                groups[key] = Tallied(tally_of(rows, bucket[rows], buckets),
                                      np.bincount(bucket[rows], minlength=buckets))
        return cls(groups)

    def __add__(self, other: GroupTallies) -> GroupTallies:
        merged = dict(self.groups)
        for key, tallied in other.groups.items():
            merged[key] = merged[key] + tallied if key in merged else tallied
        return GroupTallies(merged)

    def overall(self) -> Tallied:
        """Every group's tally added (in the order the groups were first seen)."""
        tallies = iter(self.groups.values())
        total = next(tallies)
        for tallied in tallies:
            total = total + tallied
        return total


def tally_value(metric: TallyMetric, params: dict[str, Any], tallied: Tallied,
                strict: bool) -> float | np.ndarray:
    """The metric of all the tally's rows: a float, or one per class or output."""
    value = metric.values(tallied.total().tally, params, strict)[0]
    return float(value) if np.ndim(value) == 0 else value


def check_ci_method(loss: Loss, params: dict[str, Any], method: str) -> None:
    """A usage error for --ci-method delong on a metric without DeLong's interval."""
    if method not in CI_METHODS:
        raise UsageError(f"--ci-method takes {', '.join(CI_METHODS)}, got {method!r}")
    if method == "bootstrap" or method == "auto":
        return
    interval = loss.tally.interval if loss.tally is not None else None
    if interval is None or interval.method != method:
        raise UsageError(f"--ci-method {method}: {loss.qualified_name} has no {method} interval "
                         "(--ci-method bootstrap resamples any metric)")
    why = interval.why_not(params) if interval.why_not else ""
    if why:
        raise UsageError(f"--ci-method {method}: {why}")


def analytic(loss: Loss, params: dict[str, Any], method: str, weighted: bool):
    """The analytic interval `--ci-method` asks for (auto: the metric's own where it applies), or
    None for the bootstrap."""
    interval = loss.tally.interval if loss.tally is not None else None
    if interval is None or method == "bootstrap":
        return None
    if weighted or (interval.why_not and interval.why_not(params)):
        if method == interval.method:
            why = "sample weights" if weighted else interval.why_not(params)
            raise UsageError(f"--ci-method {method}: {loss.qualified_name} with {why} has no {method} "
                             "interval (--ci-method bootstrap resamples it)")
        return None
    return interval


def tally_interval(loss: Loss, params: dict[str, Any], tallied: Tallied, level: float, seed: int,
                   replicates: int, method: str, weighted: bool, scalar: bool) -> tuple[tuple[Any, Any], str]:
    """The interval of the metric of the tally's rows (`scalar`: one value; else one interval per
    value, as arrays) and the name of its method."""
    metric = loss.tally
    assert metric is not None
    interval = analytic(loss, params, method, weighted)
    if interval is not None:
        return interval.interval(tallied.total().tally, params, level), interval.method
    weights = poisson_weights(seed, replicates)
    step = max(1, MIX_BUDGET // max(1, tallied.tally.size))
    values = np.concatenate([
        metric.values(tallied.tally.mix(weights[i:i + step]), params, False).reshape(
            min(step, replicates - i), -1)
        for i in range(0, replicates, step)
    ])  # (replicates, m)
    values[(weights @ tallied.rows) == 0] = np.nan  # a replicate without a row of the group
    low, high = percentile_interval(values.T, level)
    if scalar:
        return (float(low[0]), float(high[0])), "bootstrap"
    return (low, high), "bootstrap"
