"""Data-parallel training steps: a large batch is cut into shards whose passes run side by side.

numpy's matrix products and elementwise loops release the GIL, so Python threads can share the
work of a step. OpenBLAS itself stays on one thread per product (blas.py: its own threads
spin-wait and lose badly when another process holds a core); instead each thread runs whole
forward and backward passes over its shards, at least SHARD_ROWS rows each, long enough that
handing one to a thread costs little (tens of microseconds against a millisecond or more).

How a batch is cut depends only on its number of rows, never on the cores: the shards are the
same on one thread or four, and their weight gradients are added in shard order, so a seed gives
the same history to the last digit on any machine. The loss and its gradient are computed once,
on the whole batch's output, as without shards; only the sums that make the weight gradients are
grouped by shard, so a batch of 2 * SHARD_ROWS rows or more trains to slightly different last
digits than one pass over it would.

Measured on an idle 2-core x86 VM (20 -> 64 relu -> 64 relu -> 5, Adam, 80k rows): at batch 4096 an
epoch's steps took 134 ms in one pass per batch and 87 ms as four shards on two threads, and the
validation pass over 20k rows 10.8 ms on one thread and 6.1 ms on two.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from lossctl.nn.model import MLP, Tape

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

R = TypeVar("R")
# A batch is cut into 1, 2 or 4 shards of at least SHARD_ROWS rows (a power of two, so that two or
# four threads get equal shares). Measured per epoch on the 2-core VM below (80k rows): batch 1024
# 140 -> 115 ms as two shards; batch 512 as two shards of 256, no faster (168 ms).
SHARD_ROWS = 512
MAX_SHARDS = 4


def shard_bounds(rows: int) -> list[int]:
    """Where a batch of `rows` rows is cut: shard i is rows [bounds[i], bounds[i + 1])."""
    count = 1
    while count * 2 <= MAX_SHARDS and rows >= count * 2 * SHARD_ROWS:
        count *= 2
    return [rows * i // count for i in range(count + 1)]


class Workers:
    """Runs lists of jobs on up to `count` threads, the calling thread among them.

    The jobs are dealt into `count` groups (jobs t, t + count, ...): the calling thread runs the
    first, a thread pool the others. Results come back in job order, and every job runs
    under the caller's numpy error settings (np.errstate is per thread). `initializer` runs
    once in each extra thread before its first job (the OpenBLAS warm-up). One thread runs every
    job in the calling thread. Use it as a context manager: leaving it stops the threads.
    """

    def __init__(self, count: int, initializer: Callable[[], None] | None = None) -> None:
        self.count = max(1, count)
        self._initializer = initializer
        self._pool: ThreadPoolExecutor | None = None

    def run(self, jobs: Sequence[Callable[[], R]]) -> list[R]:
        threads = min(self.count, len(jobs))
        if threads <= 1:
            return [job() for job in jobs]
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor  # 5-10 ms: only when used

            self._pool = ThreadPoolExecutor(self.count - 1, "lossctl-train", self._initializer)
        groups = [jobs[t::threads] for t in range(threads)]
        errors = np.geterr()
        futures = [self._pool.submit(_run_all, group, errors) for group in groups[1:]]
        try:
            found = [_run_all(groups[0], errors)]
        except BaseException:  # the other threads' jobs must end before the error goes on
            for future in futures:
                future.exception()
            raise
        found += [future.result() for future in futures]
        out: list = [None] * len(jobs)
        for t, results in enumerate(found):
            out[t::threads] = results
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _run_all(jobs: Sequence[Callable[[], R]], errors: dict[str, str]) -> list[R]:
    with np.errstate(**errors):
        return [job() for job in jobs]


class ShardedSteps:
    """A training step's forward and backward passes over a batch, in shards (see the module
    docstring): `forward(x, rows)` gives the whole batch's output, `backward(grad)` fills the
    model's `flat_grad` from the gradient with respect to it."""

    def __init__(self, model: MLP, workers: Workers) -> None:
        self.model, self.workers = model, workers
        self._buffers: list[tuple[np.ndarray, list[np.ndarray]]] = []  # shards 1, 2, ...
        self._bounds: list[int] = []
        self._tapes: list[Tape] = []

    def forward(self, x: np.ndarray, rows: np.ndarray, logits: bool = False) -> np.ndarray:
        """The model's output (or logits) for x[rows], as `MLP.forward` gives it."""
        model = self.model
        bounds = self._bounds = shard_bounds(len(rows))
        if len(bounds) == 2:  # one shard: the plain pass
            return model.forward(x.take(rows, axis=0), logits=logits)

        def shard(i: int) -> Callable[[], tuple[np.ndarray, Tape]]:
            part = rows[bounds[i]:bounds[i + 1]]
            return lambda: model.forward_tape(x.take(part, axis=0), logits)

        passes = self.workers.run([shard(i) for i in range(len(bounds) - 1)])
        self._tapes = [tape for _, tape in passes]
        # each output is the (n_i, n_out) view of an (n_out, n_i) array: join those, as forward does
        return np.concatenate([out.T for out, _ in passes], axis=1).T

    def backward(self, grad: np.ndarray) -> None:
        """Fill the model's gradients from d(loss)/d(output) of the last `forward`."""
        model, bounds = self.model, self._bounds
        if len(bounds) == 2:
            model.backward(grad, input_grad=False)
            return
        while len(self._buffers) < len(bounds) - 2:
            self._buffers.append(model.gradient_buffer())
        targets = [None, *(views for _, views in self._buffers)]

        def shard(i: int) -> Callable[[], None]:
            part = grad[bounds[i]:bounds[i + 1]]
            return lambda: model.backward_tape(self._tapes[i], part, targets[i], input_grad=False)

        self.workers.run([shard(i) for i in range(len(bounds) - 1)])
        self._tapes = []
        for flat, _ in self._buffers[:len(bounds) - 2]:  # in shard order: the same sums anywhere
            model.flat_grad += flat
