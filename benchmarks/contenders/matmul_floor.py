"""The matmul floor of an epoch: only the GEMMs of each training step, float32, through numpy's BLAS.

    python matmul_floor.py --rows N --batch B [--features 20 --hidden 64,64 --classes 5]

For widths d_0 (features), d_1..d_L (hidden), d_{L+1} (classes), one step does
  forward:  A_i (B x d_i) @ W_i (d_i x d_{i+1})              for i = 0..L      (L + 1 GEMMs)
  backward: dW_i = A_i.T (d_i x B) @ dZ_i (B x d_{i+1})     for i = 0..L      (L + 1 GEMMs)
            dA_i = dZ_i (B x d_{i+1}) @ W_i.T (d_{i+1} x d_i) for i = 1..L      (L GEMMs)
so 3 forward and 5 backward for two hidden layers. An epoch is ceil(N / B) steps; the floor is the
fastest of several timed epochs.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from itertools import pairwise

import numpy as np


def gemm_operands(batch: int, widths: list[int], rng: np.random.Generator) -> list[tuple[np.ndarray, ...]]:
    """(left, right, out) for every GEMM of one step, allocated once."""

    def array(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(np.float32)

    acts = [array(batch, w) for w in widths[:-1]]
    dz = [array(batch, w) for w in widths[1:]]
    weights = [array(a, b) for a, b in pairwise(widths)]
    ops = [(acts[i], weights[i], np.empty((batch, widths[i + 1]), np.float32)) for i in range(len(weights))]
    ops += [(acts[i].T, dz[i], np.empty(weights[i].shape, np.float32)) for i in range(len(weights))]
    ops += [(dz[i], weights[i].T, np.empty((batch, widths[i]), np.float32)) for i in range(1, len(weights))]
    return ops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--hidden", default="64,64")
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    widths = [args.features, *(int(h) for h in args.hidden.split(",")), args.classes]
    ops = gemm_operands(args.batch, widths, np.random.default_rng(0))
    # Write OpenBLAS's packing buffer first with one larger product: until something has, its
    # kernel prefetches into unmapped pages and small products run far slower on some machines
    # (lossctl does the same, lossctl/nn/blas.py); a floor should be the fast case.
    np.ones((256, 1024), np.float32) @ np.ones((1024, 128), np.float32)
    steps = math.ceil(args.rows / args.batch)
    best = math.inf
    for _ in range(args.repeats):
        started = time.perf_counter()
        for _ in range(steps):
            for left, right, out in ops:
                np.matmul(left, right, out=out)
        best = min(best, time.perf_counter() - started)
    print(json.dumps({"epoch_seconds": best, "step_seconds": best / steps, "gemms": len(ops)}))


if __name__ == "__main__":
    main()
