"""How many threads numpy's BLAS uses while training.

The products of a small network are small: splitting one 256-row matrix product between two
threads saves little, and a thread waiting for a partner that another process has descheduled
can make a step many times slower. So the trainer runs its BLAS on one thread (`TRAIN_THREADS`)
unless the user chose a number with OPENBLAS_NUM_THREADS or OMP_NUM_THREADS, and puts the old
number back after each epoch.

Measured on a 2-core machine (20 -> 64 -> 64 -> 5, Adam): with the other core idle, two threads
make an epoch 15-25% faster (batch 256 and 4096); with another process busy on it, 3-5x slower.
One thread also keeps "same seed, same history to the last digit" true whatever the machine:
products split between threads round differently in the last bit.

Only OpenBLAS, the BLAS of numpy's wheels, is handled; it is found among the libraries already
loaded into the process (Linux: /proc/self/maps). Anywhere else `blas_threads` does nothing.

`warm_up` runs one mid-sized product before training. OpenBLAS packs its operands into a buffer
it mmaps once per thread, and its sgemm kernel prefetches (`prefetcht1`) ahead of the part a
small product fills, into pages of that buffer nothing has written yet. A prefetch to a page that
is not mapped finds no TLB entry to keep and walks the page tables every time (expensive in a
virtual machine): measured on a 2-core x86 VM (OpenBLAS 0.3.31, Haswell kernels), the 8 products
of a 20 -> 64 -> 64 -> 5 step at batch 256 took 390 us until one larger product had written those
pages, 240 us after, and `perf annotate` put 68% of the kernel's time on that prefetch. The
numbers the products give are the same either way; the warm-up takes a few milliseconds.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import numpy as np

TRAIN_THREADS = 1
# The warm-up product: (rows x WARM_UP_INNER) @ (WARM_UP_INNER x WARM_UP_COLUMNS), rows the
# network's widest layer within WARM_UP_ROWS (a layer's width is the rows of its products'
# packed operand). An inner length of at least twice OpenBLAS's largest block (Q = 320 for sgemm
# on Haswell and Zen) makes it pack full blocks; one of 512 packs two halves of 256, no more than
# a batch of 256 does, and left the steps as slow as before.
WARM_UP_ROWS, WARM_UP_INNER, WARM_UP_COLUMNS = (256, 1024), 1024, 128
ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
# (set, get) symbol names: numpy >= 2's scipy-openblas (64-bit ints), older OpenBLAS builds
_SYMBOLS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)


@cache
def _openblas() -> tuple[ctypes._CFuncPtr, ctypes._CFuncPtr] | None:
    """(set_num_threads, get_num_threads) of the loaded OpenBLAS, or None."""
    try:
        with open("/proc/self/maps") as handle:
            paths = {line.split()[-1] for line in handle if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        if not os.path.isfile(path):
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in _SYMBOLS:
            setter, getter = getattr(lib, set_name, None), getattr(lib, get_name, None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype, getter.restype = [ctypes.c_int], None, ctypes.c_int
                return setter, getter
    return None


def get_threads() -> int | None:
    """OpenBLAS's current number of threads (None when it was not found)."""
    found = _openblas()
    return None if found is None else int(found[1]())


def train_threads() -> int | None:
    """The number of threads training should use: TRAIN_THREADS, or None (leave OpenBLAS as
    it is) when the user chose a number with OPENBLAS_NUM_THREADS or OMP_NUM_THREADS."""
    if any(os.environ.get(name, "").strip() for name in ENV_VARS):
        return None
    return TRAIN_THREADS


@contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Run the block with OpenBLAS on `n` threads (None: leave it as it is)."""
    found = None if n is None else _openblas()
    if found is None:
        yield
        return
    setter, getter = found
    before = int(getter())
    if before == n:
        yield
        return
    setter(n)
    try:
        yield
    finally:
        setter(before)


_warmed: set[tuple[int, int | None, int, str]] = set()


def warm_up(threads: int | None, width: int, dtype: np.dtype | type) -> None:
    """Write OpenBLAS's packing buffers once per calling thread (see the module docstring; each
    thread has its own buffer), on the BLAS threads training will use; `width` is the network's
    widest layer."""
    dtype = np.dtype(dtype)
    fewest, most = WARM_UP_ROWS
    rows = min(max(fewest, width), most)
    key = (threading.get_ident(), threads, rows, dtype.str)
    if key in _warmed:
        return
    with blas_threads(threads):
        np.ones((rows, WARM_UP_INNER), dtype) @ np.ones((WARM_UP_INNER, WARM_UP_COLUMNS), dtype)
    _warmed.add(key)
