"""Bootstrap intervals from partial sums: the Poisson bootstrap over buckets of rows.

Each row goes to one of `BUCKETS` buckets by a hash of its line number and the seed, and the
partial sums are kept per bucket (`groups.GroupSums`). Replicate r weighs bucket b by a Poisson(1)
draw W[r, b], the same for every row of the bucket, so its partial sums are W @ bucket sums and
its value is finished from them like any other. While a file has fewer rows than buckets, nearly
every row has a bucket of its own and this is the Poisson bootstrap of rows (Hanley and MacGibbon
2006; Chamandy et al. 2012); on larger files it resamples bucket sums, whose variance is the rows'
in expectation (the buckets are a random partition), at the cost of one bincount per block and
an R x 2048 matrix product at the end, whatever the file's length. The interval is the
percentile interval of scipy's `bootstrap(method="percentile")`: the (1-level)/2 and (1+level)/2
quantiles of the replicates' values. Replicates in which a group has no row are left out.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from functools import lru_cache

import numpy as np

from lossctl.errors import UsageError
from lossctl.evaluate.groups import GroupSums, added
from lossctl.losses.reduction import Partial, finish
from lossctl.losses.registry import Loss

BUCKETS = 2048
MIN_REPLICATES = 100
MAX_SLOTS = 1 << 23  # groups x buckets kept with --ci (4096 groups: 320 MiB at most)


def check_level(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise UsageError(f"--ci takes a confidence level between 0 and 1 (exclusive), got {level}")
    return level


def check_replicates(replicates: int) -> int:
    if replicates < MIN_REPLICATES:
        raise UsageError(f"--bootstrap takes at least {MIN_REPLICATES} replicates, got {replicates}")
    return replicates


def buckets_of(lines: np.ndarray, seed: int) -> np.ndarray:
    """Each row's bucket: splitmix64 of its line number and the seed (the same on any thread)."""
    z = lines.astype(np.uint64) + np.uint64((seed * 0x9E3779B97F4A7C15 + 1) % (1 << 64))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z ^= z >> np.uint64(31)
    return (z & np.uint64(BUCKETS - 1)).astype(np.int64)


@lru_cache(maxsize=4)
def poisson_weights(seed: int, replicates: int, stream: int = 0) -> np.ndarray:
    """W[r, b] ~ Poisson(1): replicate r's weight of bucket b (float64, read-only)."""
    weights = np.random.default_rng([seed, stream]).poisson(1.0, (replicates, BUCKETS)).astype(np.float64)
    weights.flags.writeable = False
    return weights


def weighted(sums: GroupSums, weights: np.ndarray) -> Partial:
    """Each group's partial sums in each replicate: fields of shape (groups, replicates)."""
    names = added(sums.sums)
    fields = [np.asarray(getattr(sums.sums, name), dtype=np.float64) for name in names]
    product = one_thread_product(np.concatenate(fields), weights.T)  # every field at once
    return replace(sums.sums, **dict(zip(names, np.split(product, len(names)), strict=True)))


def one_thread_product(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """left @ right with OpenBLAS on one thread: the same last bits however many threads the
    machine has, and no waiting for a partner thread that another process holds up (on a busy
    2-core machine a 5 x 2048 x 400 product took 50 ms on two threads, 2.6 ms on one)."""
    from lossctl.nn.blas import blas_threads

    with blas_threads(1):
        return left @ right


def replicate_values(loss: Loss, reduction: str, part: Partial) -> np.ndarray:
    """The loss finished from each replicate's sums; NaN where the replicate holds no row."""
    values = np.asarray(finish(loss, part, reduction), dtype=np.float64)
    return np.where(part.rows > 0, values, np.nan)


def percentile_interval(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The percentile interval of each row of `values` (groups x replicates), NaNs left out."""
    tail = (1.0 - level) / 2.0 * 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a group empty in every replicate: NaN
        low, high = np.nanpercentile(values, [tail, 100.0 - tail], axis=-1)
    return low, high
